package notify

import (
	"encoding/json"
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

func TestBalanceAlertFor(t *testing.T) {
	m := money.MustParse
	for _, tc := range []struct {
		name            string
		prev, next, thr string
		want            int64 // level, 0 for none
	}{
		{"reaching the threshold", "120", "100", "100", 100},
		{"falling below the threshold", "120", "99.99", "100", 100},
		{"above the threshold", "150", "101", "100", 0},
		{"between 100 % and 75 %", "99", "80", "100", 0},
		{"passing 75 %", "80", "75", "100", 75},
		{"passing 50 %", "75", "49.5", "100", 50},
		{"between 50 % and 10 %", "49", "11", "100", 0},
		{"passing 10 %", "11", "10", "100", 10},
		{"below 10 % already", "9", "1", "100", 0},
		{"several levels at once: the lowest", "200", "40", "100", 50},
		{"all the way down", "100.01", "0", "100", 10},
		{"a rise", "40", "90", "100", 0},
		{"no change", "75", "75", "100", 0},
		{"zero threshold", "10", "0", "0", 0},
		{"custom threshold", "600", "375", "500", 75},
		{"exact fractions", "25.0001", "25", "250", 10},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, ok := BalanceAlertFor(m(tc.prev), m(tc.next), m(tc.thr))
			if tc.want == 0 {
				if ok {
					t.Fatalf("alert %+v, want none", a)
				}
				return
			}
			if !ok || a.PercentRemaining != tc.want || a.Balance != m(tc.next) || a.Threshold != m(tc.thr) {
				t.Fatalf("alert %+v, %v; want level %d", a, ok, tc.want)
			}
		})
	}
	a, _ := BalanceAlertFor(m("80"), m("74.25"), DefaultBalanceThreshold)
	body, err := Render(KindLowBalance, mustJSON(t, a.Payload()), "V3")
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"alertType":"LowBalance","balanceInfo":{"balance":74.25,"threshold":100,"thresholdPercentRemaining":75}}`; string(body) != want {
		t.Errorf("LowBalance body %s, want %s", body, want)
	}
}

func TestBlockedAddresses(t *testing.T) {
	for addr, blocked := range map[string]bool{
		"127.0.0.1": true, "127.9.9.9": true, "::1": true, "10.0.0.1": true, "172.16.5.4": true, "192.168.1.1": true,
		"169.254.169.254": true, "fe80::1": true, "0.0.0.0": true, "::": true, "224.0.0.1": true, "ff02::1": true,
		"100.64.0.1": true, "fd00::1": true, "::ffff:127.0.0.1": true, "::ffff:10.0.0.1": true, "255.255.255.255": true,
		"64:ff9b::7f00:1": true, "64:ff9b::a9fe:a9fe": true, "64:ff9b::808:808": true, "64:ff9b:1::1": true,
		"8.8.8.8": false, "1.1.1.1": false, "2606:4700:4700::1111": false, "93.184.216.34": false,
	} {
		if got := blockedReason(netip.MustParseAddr(addr)) != ""; got != blocked {
			t.Errorf("%s blocked = %v, want %v", addr, got, blocked)
		}
	}
	if err := guardControl("tcp4", "127.0.0.1:80", nil); err == nil {
		t.Errorf("the dial guard let 127.0.0.1 through")
	}
	if err := guardControl("tcp4", "8.8.8.8:443", nil); err != nil {
		t.Errorf("the dial guard refused a public address: %v", err)
	}
}

func TestRetryAfterHeader(t *testing.T) {
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for h, want := range map[string]time.Duration{
		"120": 2 * time.Minute, "0": time.Second, "999999999": 24 * time.Hour,
		"Sun, 01 Mar 2026 12:05:00 GMT": 5 * time.Minute, "Sun, 01 Mar 2026 11:00:00 GMT": time.Second,
	} {
		if got, ok := retryAfter(h, now); !ok || got != want {
			t.Errorf("Retry-After %q = %s, %v; want %s", h, got, ok, want)
		}
	}
	for _, h := range []string{"", "soon", "-5"} {
		if _, ok := retryAfter(h, now); ok {
			t.Errorf("Retry-After %q accepted", h)
		}
	}
}

func TestSecretKey(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "esimd.db")
	k1, src, err := LoadSecretKey("", "file:"+db+"?_pragma=x")
	if err != nil || len(k1) != SecretKeySize || src != db+".secret (generated)" {
		t.Fatalf("first start: %x, %q, %v", k1, src, err)
	}
	fi, err := os.Stat(db + ".secret")
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("secret file mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	k2, src, err := LoadSecretKey("", db)
	if err != nil || string(k2) != string(k1) || src != db+".secret" {
		t.Fatalf("second start: the key changed or failed (%q, %v)", src, err)
	}
	hexKey := "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	b64Key := "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
	for _, v := range []string{hexKey, b64Key, " " + hexKey + "\n"} {
		k, src, err := LoadSecretKey(v, db)
		if err != nil || k[31] != 0x1f || src != "ESIMD_SECRET_KEY" {
			t.Errorf("ESIMD_SECRET_KEY %q: %x, %q, %v", v, k, src, err)
		}
	}
	for _, v := range []string{"short", hexKey[:62], "not base64 at all, not hex either!!"} {
		if _, _, err := LoadSecretKey(v, db); err == nil {
			t.Errorf("ESIMD_SECRET_KEY %q accepted", v)
		}
	}
	// Sealing round-trips and is bound to its organisation and key row.
	sealed, err := seal(k1, 7, 3, "esimd_key")
	if err != nil {
		t.Fatal(err)
	}
	if raw, err := unseal(k1, 7, 3, sealed); err != nil || string(raw) != "esimd_key" {
		t.Fatalf("unseal: %q, %v", raw, err)
	}
	for _, c := range []struct {
		org int
		key int64
	}{{8, 3}, {7, 4}} {
		if _, err := unseal(k1, orgs.ID(c.org), c.key, sealed); err == nil {
			t.Errorf("a sealed key opened for organisation %d key %d", c.org, c.key)
		}
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
