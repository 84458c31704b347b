package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esimd/esimd/internal/store"
	"github.com/esimd/esimd/internal/storetest"
)

func TestCopyRefusesBadArguments(t *testing.T) {
	sqlitePath := filepath.Join(t.TempDir(), "esimd.db")
	if err := os.WriteFile(sqlitePath, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no flags", nil, "esimd copy --from"},
		{"no target", []string{"--from", sqlitePath}, "esimd copy --from"},
		{"target is a file", []string{"--from", sqlitePath, "--to", "other.db"}, "--to must be a PostgreSQL URL"},
		{"source is PostgreSQL", []string{"--from", "postgres://x@localhost/db", "--to", "postgres://y@localhost/db"}, "--from must be a SQLite file"},
		{"source missing", []string{"--from", filepath.Join(t.TempDir(), "nope.db"), "--to", "postgres://y@localhost/db"}, "no such file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runCmd(t, append([]string{"copy"}, tc.args...)...)
			if !errors.Is(err, errUsage) || !strings.Contains(err.Error()+out, tc.want) {
				t.Errorf("copy %q: %v\n%s\nwant a usage error mentioning %q", tc.args, err, out, tc.want)
			}
		})
	}
}

// TestCopySQLiteIntoPostgres moves a used SQLite database into PostgreSQL
// and serves the same organisation, key, balance and eSIMs from there.
func TestCopySQLiteIntoPostgres(t *testing.T) {
	if storetest.Engine() != store.EnginePostgres {
		t.Skipf("needs PostgreSQL: set %s (.ci/run does)", storetest.PostgresEnv)
	}
	const key = "copy-test-key-0001"
	source := filepath.Join(t.TempDir(), "esimd.db")
	// No ESIMD_SECRET_KEY: the SQLite node makes <db>.secret, as by default.
	env := map[string]string{"ESIMD_BOOTSTRAP_API_KEY": key, "ESIMD_RATE_LIMIT": "0", "ESIMD_SECRET_KEY": ""}
	base, _, stop := startServer(t, source, env)
	for range 3 {
		if status, body := httpPost(t, base+"/v2.5/orders", key, `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`); status != 200 {
			stop()
			t.Fatalf("order on SQLite: %d %s", status, body)
		}
	}
	_, orgBefore := httpGet(t, base+"/v2.5/organisation", key)
	stop()

	target := storetest.DSN(t)
	out, err := runCmd(t, "copy", "--from", source, "--to", target)
	if err != nil {
		t.Fatalf("copy: %v\n%s", err, out)
	}
	if !strings.Contains(out, "ESIMD_SECRET_KEY") || !strings.Contains(out, source+".secret") {
		t.Errorf("copy did not say how to carry the secret key over:\n%s", out)
	}
	src, dst := storetest.OpenRaw(t, source), storetest.OpenRaw(t, target)
	for _, table := range []string{"organisations", "api_keys", "ledger_entries", "orders", "order_lines", "esims", "assignments",
		"esim_history", "events", "event_deliveries", "bundles", "networks", "countries", "due_work", "signing_keys"} {
		if s, d := src.Int(t, `SELECT count(*) FROM `+table), dst.Int(t, `SELECT count(*) FROM `+table); s != d {
			t.Errorf("%s: %d rows in SQLite, %d in PostgreSQL", table, s, d)
		}
	}
	if n := dst.Int(t, `SELECT count(*) FROM esims`); n != 3 {
		t.Errorf("PostgreSQL holds %d eSIMs, want 3", n)
	}

	// A second copy would mix two databases: refused, nothing written.
	if out, err := runCmd(t, "copy", "--from", source, "--to", target); err == nil || !strings.Contains(out+err.Error(), "already holds data") {
		t.Errorf("second copy: %v\n%s", err, out)
	}

	secret, err := os.ReadFile(source + ".secret")
	if err != nil {
		t.Fatal(err)
	}
	base, _, stop = startServer(t, target, map[string]string{"ESIMD_RATE_LIMIT": "0", "ESIMD_SECRET_KEY": strings.TrimSpace(string(secret))})
	defer stop()
	if status, body := httpGet(t, base+"/v2.5/organisation", key); status != 200 || string(body) != string(orgBefore) {
		t.Errorf("organisation on PostgreSQL: %d %s\nwant %s", status, body, orgBefore)
	}
	// New rows continue after the copied IDs.
	if status, body := httpPost(t, base+"/v2.5/orders", key, `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`); status != 200 {
		t.Fatalf("order on PostgreSQL after the copy: %d %s", status, body)
	}
	status, body := httpGet(t, base+"/v2.5/esims?perPage=10", key)
	var page struct {
		ESIMs []json.RawMessage `json:"esims"`
	}
	if err := json.Unmarshal(body, &page); status != 200 || err != nil || len(page.ESIMs) != 4 {
		t.Errorf("eSIMs on PostgreSQL: %d %.300s (%v); want 4", status, body, err)
	}
}

func httpPost(t *testing.T, url, key, body string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("X-API-Key", key)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}
