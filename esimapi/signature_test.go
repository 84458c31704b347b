package esimapi_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/esimd/esimd/esimapi"
)

const hookKey = "esimd_3v5k_callback_test_key"

var hookBody = []byte(`{"alertType":"FirstAttachment","iccid":"8999901000000000017"}`)

func mac(body []byte, key string) []byte {
	m := hmac.New(sha256.New, []byte(key))
	m.Write(body)
	return m.Sum(nil)
}

func TestVerifyXSignature(t *testing.T) {
	sum := mac(hookBody, hookKey)
	for name, sig := range map[string]string{
		"base64":            base64.StdEncoding.EncodeToString(sum),
		"base64 unpadded":   base64.RawStdEncoding.EncodeToString(sum),
		"base64 URL":        base64.URLEncoding.EncodeToString(sum),
		"hex":               hex.EncodeToString(sum),
		"HEX":               strings.ToUpper(hex.EncodeToString(sum)),
		"sha256= prefix":    "sha256=" + hex.EncodeToString(sum),
		"SignBody (base64)": esimapi.SignBody(hookBody, hookKey),
	} {
		h := http.Header{}
		h.Set("x-signature-sha256", sig) // header names in any case
		if err := esimapi.VerifySignature(hookBody, h, hookKey); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	h := http.Header{"X-Signature-Sha256": {esimapi.SignBody(hookBody, hookKey)}}
	for name, tc := range map[string]struct {
		body []byte
		key  string
	}{
		"other body": {append([]byte{' '}, hookBody...), hookKey},
		"other key":  {hookBody, hookKey + "x"},
	} {
		if err := esimapi.VerifySignature(tc.body, h, tc.key); !errors.Is(err, esimapi.ErrBadSignature) {
			t.Errorf("%s: %v, want ErrBadSignature", name, err)
		}
	}
	for _, junk := range []string{"", "x", "zz" + hex.EncodeToString(sum)[2:], base64.StdEncoding.EncodeToString(sum[:16])} {
		h := http.Header{"X-Signature-Sha256": {junk}}
		if err := esimapi.VerifySignature(hookBody, h, hookKey); err == nil {
			t.Errorf("signature %q accepted", junk)
		}
	}
	if err := esimapi.VerifySignature(hookBody, http.Header{}, hookKey); !errors.Is(err, esimapi.ErrNoSignature) {
		t.Errorf("no header: %v", err)
	}
}

func TestVerifyStandardWebhooks(t *testing.T) {
	at := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	h := esimapi.SignStandardWebhook("msg_1", at, hookBody, hookKey)
	v := esimapi.Verifier{Key: hookKey, Now: func() time.Time { return at.Add(time.Minute) }}
	if err := v.Verify(hookBody, h); err != nil {
		t.Fatalf("valid delivery: %v", err)
	}
	// The reference construction: HMAC over "id.timestamp.body".
	want := "v1," + base64.StdEncoding.EncodeToString(mac([]byte("msg_1."+"1795860000."+string(hookBody)), hookKey))
	if h.Get("Webhook-Signature") != want {
		t.Errorf("signature %s, want %s", h.Get("Webhook-Signature"), want)
	}
	// Several signatures (key rotation): one match is enough.
	rotated := h.Clone()
	rotated.Set("Webhook-Signature", "v1,AAAA v2,zzzz "+h.Get("Webhook-Signature"))
	if err := v.Verify(hookBody, rotated); err != nil {
		t.Errorf("rotated: %v", err)
	}
	stale := esimapi.Verifier{Key: hookKey, Tolerance: 30 * time.Second, Now: func() time.Time { return at.Add(time.Minute) }}
	if err := stale.Verify(hookBody, h); !errors.Is(err, esimapi.ErrStaleTimestamp) {
		t.Errorf("a minute old with 30 s tolerance: %v", err)
	}
	future := esimapi.Verifier{Key: hookKey, Now: func() time.Time { return at.Add(-time.Hour) }}
	if err := future.Verify(hookBody, h); !errors.Is(err, esimapi.ErrStaleTimestamp) {
		t.Errorf("an hour in the future: %v", err)
	}
	if err := v.Verify([]byte(`{}`), h); !errors.Is(err, esimapi.ErrBadSignature) {
		t.Errorf("other body: %v", err)
	}
	noID := h.Clone()
	noID.Del("Webhook-Id")
	if err := v.Verify(hookBody, noID); !errors.Is(err, esimapi.ErrBadSignature) {
		t.Errorf("no webhook-id: %v", err)
	}
	// A webhook-signature present must verify, whatever X-Signature-SHA256 says.
	both := h.Clone()
	both.Set("Webhook-Signature", "v1,AAAA")
	both.Set("X-Signature-SHA256", esimapi.SignBody(hookBody, hookKey))
	if err := v.Verify(hookBody, both); !errors.Is(err, esimapi.ErrBadSignature) {
		t.Errorf("bad webhook-signature beside a good X-Signature-SHA256: %v", err)
	}
	// whsec_ keys are base64 secrets, as Standard Webhooks libraries use them.
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("raw secret bytes"))
	hs := esimapi.SignStandardWebhook("msg_2", at, hookBody, secret)
	want = "v1," + base64.StdEncoding.EncodeToString(mac([]byte("msg_2.1795860000."+string(hookBody)), "raw secret bytes"))
	if hs.Get("Webhook-Signature") != want {
		t.Errorf("whsec_ signature %s, want %s", hs.Get("Webhook-Signature"), want)
	}
	if err := (esimapi.Verifier{Key: secret, Now: v.Now}).Verify(hookBody, hs); err != nil {
		t.Errorf("whsec_ key: %v", err)
	}
}

func TestCallbackHandler(t *testing.T) {
	var got []esimapi.Notification
	h := esimapi.CallbackHandler(hookKey, func(ctx context.Context, n esimapi.Notification) error {
		if _, ok := n.(*esimapi.FirstUseNotification); ok {
			return errors.New("downstream down")
		}
		got = append(got, n)
		return nil
	})
	post := func(body string, sign bool) int {
		r := httptest.NewRequest(http.MethodPost, "/hook", strings.NewReader(body))
		if sign {
			r.Header.Set("X-Signature-SHA256", esimapi.SignBody([]byte(body), hookKey))
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	if code := post(string(hookBody), true); code != 200 || len(got) != 1 || got[0].Type() != "FirstAttachment" {
		t.Errorf("signed callback: %d, %v", code, got)
	}
	if code := post(string(hookBody), false); code != 401 {
		t.Errorf("unsigned: %d", code)
	}
	if code := post(`[1,2]`, true); code != 400 {
		t.Errorf("not an object: %d", code)
	}
	if code := post(`{"alertType":"FirstUse","iccid":"1","bundle":{"name":"b"}}`, true); code != 500 {
		t.Errorf("receiver failure: %d", code)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/hook", nil))
	if w.Code != 405 {
		t.Errorf("GET: %d", w.Code)
	}
}
