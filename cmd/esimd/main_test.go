package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/catalogue/demodata"
	"github.com/esimd/esimd/internal/store"
	"github.com/esimd/esimd/internal/storetest"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine to write
// while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func getenvFrom(m map[string]string) func(string) string {
	return func(k string) string {
		if v, ok := m[k]; ok || k != "ESIMD_SECRET_KEY" || storetest.Engine() != store.EnginePostgres {
			return v
		}
		return testSecretKey // PostgreSQL needs one (there is no <db>.secret file)
	}
}

const testSecretKey = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"

// startServer runs "esimd serve" on port 0 and returns its base URL and a
// stop function that waits for a clean shutdown.
func startServer(t *testing.T, dbPath string, env map[string]string) (string, *syncBuffer, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--addr", "127.0.0.1:0", "--db", dbPath}, getenvFrom(env), &stdout, &stderr)
	}()
	listening := regexp.MustCompile(`listening on (http://[0-9.:]+)`)
	deadline := time.Now().Add(30 * time.Second)
	for {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			stop := func() {
				cancel()
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("serve returned %v; stderr:\n%s", err, stderr.String())
					}
				case <-time.After(20 * time.Second):
					t.Error("serve did not shut down within 20s")
				}
			}
			return m[1], &stdout, stop
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\nstdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("server did not start; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func httpGet(t *testing.T, url, key string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func TestServeEndToEnd(t *testing.T) {
	db := storetest.DSN(t)
	base, stdout, stop := startServer(t, db, map[string]string{"ESIMD_RATE_LIMIT": "0"})
	m := regexp.MustCompile(`API key: (esimd_[a-z2-7]+)`).FindStringSubmatch(stdout.String())
	if m == nil {
		stop()
		t.Fatalf("no API key printed on first start:\n%s", stdout.String())
	}
	key := m[1]
	status, body := httpGet(t, base+"/v2.5/catalogue?perPage=1", key)
	var page struct {
		Bundles []json.RawMessage `json:"bundles"`
		Rows    int               `json:"rows"`
	}
	if err := json.Unmarshal(body, &page); status != 200 || err != nil || page.Rows < 5000 || len(page.Bundles) != 1 {
		t.Errorf("catalogue: %d rows=%d (%v): %.200s; want the full demo catalogue", status, page.Rows, err, body)
	}
	status, body = httpGet(t, base+"/v2.5/organisation", key)
	if status != 200 || !strings.Contains(string(body), `"balance":1000`) || !strings.Contains(string(body), `"name":"Sandbox"`) {
		t.Errorf("organisation: %d %s", status, body)
	}
	if status, _ := httpGet(t, base+"/v2.5/organisation", ""); status != 403 {
		t.Errorf("no key: status %d, want 403", status)
	}
	if status, _ := httpGet(t, base+"/healthz", ""); status != 200 {
		t.Errorf("healthz: status %d", status)
	}
	// A large order completes in the background, with nobody polling it.
	req, _ := http.NewRequest("POST", base+"/v2.5/orders", strings.NewReader(`{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":6}]}`))
	req.Header.Set("X-API-Key", key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var placed struct{ OrderReference, Status string }
	json.NewDecoder(res.Body).Decode(&placed)
	res.Body.Close()
	if placed.Status != "processing" {
		t.Fatalf("large order status %q, want processing", placed.Status)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, body := httpGet(t, base+"/v2.5/orders/"+placed.OrderReference, key)
		if status == 200 && strings.Contains(string(body), `"status":"completed"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("order still %d %s after 10s: the background worker did not run", status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()

	// A second start keeps the organisation and prints no new key.
	base, stdout, stop = startServer(t, db, map[string]string{})
	defer stop()
	if strings.Contains(stdout.String(), "API key:") {
		t.Errorf("second start printed a new key:\n%s", stdout.String())
	}
	if status, _ := httpGet(t, base+"/v2.5/organisation", key); status != 200 {
		t.Errorf("first key after restart: status %d", status)
	}
}

func TestBootstrapKey(t *testing.T) {
	db := storetest.DSN(t)
	const fixed = "sandbox-key-for-scripts-0001"
	base, stdout, stop := startServer(t, db, map[string]string{"ESIMD_BOOTSTRAP_API_KEY": fixed})
	if !strings.Contains(stdout.String(), "API key: "+fixed) {
		t.Errorf("bootstrap key not used:\n%s", stdout.String())
	}
	if status, body := httpGet(t, base+"/v2.5/organisation", fixed); status != 200 {
		t.Errorf("bootstrap key: %d %s", status, body)
	}
	stop()
	// Later starts with another fixed key add it to the first organisation.
	const second = "another-key-for-scripts-0002"
	base, _, stop = startServer(t, db, map[string]string{"ESIMD_BOOTSTRAP_API_KEY": second})
	defer stop()
	for _, k := range []string{fixed, second} {
		if status, _ := httpGet(t, base+"/v2.5/organisation", k); status != 200 {
			t.Errorf("key %s after restart: status %d", k, status)
		}
	}
}

func runCmd(t *testing.T, args ...string) (string, error) {
	t.Helper()
	var stdout, stderr syncBuffer
	err := run(context.Background(), args, getenvFrom(nil), &stdout, &stderr)
	return stdout.String() + stderr.String(), err
}

func TestAdminCommands(t *testing.T) {
	db := storetest.DSN(t)
	out, err := runCmd(t, "migrate", "--db", db, "--json")
	if err != nil || !strings.Contains(out, `"applied"`) {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err = runCmd(t, "org", "create", "--db", db, "--json", "--name", "Globetrotter", "--balance", "42.42",
		"--callback-url", "https://hooks.example.com/esim", "--refunds", "--groups", "Standard Fixed")
	if err != nil {
		t.Fatalf("org create: %v\n%s", err, out)
	}
	var created struct {
		ID      int64   `json:"id"`
		APIKey  string  `json:"apiKey"`
		Balance float64 `json:"balance"`
		Refunds bool    `json:"refundsEnabled"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil || created.ID == 0 || created.APIKey == "" || created.Balance != 42.42 || !created.Refunds {
		t.Fatalf("org create --json = %s (%v)", out, err)
	}
	out, err = runCmd(t, "org", "update", "--db", db, "--json", "1", "--name", "Globetrotter Ltd", "--callback-version", "v2")
	if err != nil || !strings.Contains(out, `"name": "Globetrotter Ltd"`) || !strings.Contains(out, `"callbackVersion": "V2"`) || !strings.Contains(out, `"refundsEnabled": true`) {
		t.Fatalf("org update: %v\n%s", err, out)
	}
	out, err = runCmd(t, "org", "credit", "--db", db, "1", "--amount", "7.58")
	if err != nil || !strings.Contains(out, "balance now 50") {
		t.Fatalf("org credit: %v\n%s", err, out)
	}
	out, err = runCmd(t, "org", "list", "--db", db)
	if err != nil || !strings.Contains(out, "Globetrotter Ltd") || !strings.Contains(out, "50 USD") {
		t.Fatalf("org list: %v\n%s", err, out)
	}
	out, err = runCmd(t, "apikey", "create", "--db", db, "--json", "1", "--label", "ci")
	if err != nil || !strings.Contains(out, `"apiKey": "esimd_`) {
		t.Fatalf("apikey create: %v\n%s", err, out)
	}
	out, err = runCmd(t, "apikey", "revoke", "--db", db, "1", "2")
	if err != nil || !strings.Contains(out, "revoked API key 2") {
		t.Fatalf("apikey revoke: %v\n%s", err, out)
	}
	out, err = runCmd(t, "apikey", "list", "--db", db, "--json", "1")
	if err != nil || strings.Count(out, `"revokedAt"`) != 1 {
		t.Fatalf("apikey list: %v\n%s", err, out)
	}
	// Mistakes are usage errors with a message that says what to fix.
	for _, args := range [][]string{
		{"org", "show", "--db", db, "abc"},
		{"org", "create", "--db", db, "--name", "X", "--balance", "1.23456"},
		{"apikey", "revoke", "--db", db, "1"},
		{"frobnicate"},
		{"serve", "--db", db, "--rate-limit", "-1"},
		{"serve", "--db", db, "--admin-token", "a"},
		{"serve", "--db", db, "--admin-token", "0123456789abcdef0123456789abcde"}, // 31 characters
	} {
		out, err := runCmd(t, args...)
		if !errors.Is(err, errUsage) || exitCode(err) != 2 {
			t.Errorf("%v: err %v (exit %d), want a usage error\n%s", args, err, exitCode(err), out)
		}
	}
	if _, err := runCmd(t, "org", "show", "--db", db, "99"); err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("org show 99: %v", err)
	}
	if _, err := runCmd(t, "org", "create", "--db", db, "--name", "Bad", "--currency", "dollars"); err == nil || !strings.Contains(err.Error(), "ISO 4217") {
		t.Errorf("bad currency: %v", err)
	}
}

func TestCatalogueCommands(t *testing.T) {
	db := storetest.DSN(t)
	out, err := runCmd(t, "catalogue", "demo", "--db", db, "--json")
	if err != nil || !strings.Contains(out, `"bundles"`) {
		t.Fatalf("catalogue demo: %v\n%s", err, out)
	}
	csv := "name,description,groups,countries,roaming,data_mb,duration_days,autostart,speeds,profile,price\n" +
		"acme_5GB_30D_GB,\"Acme, 5GB, 30 Days, UK\",Acme Fixed,GB,FR;DE,5000,30,true,4G;5G,Profile 1,3.125\n" +
		"acme_UL_7D_FR,\"Acme, Unlimited, 7 Days, France\",Acme Unlimited,FR,,unlimited,7,true,4G,Profile 1,19.99\n"
	path := filepath.Join(t.TempDir(), "bundles.csv")
	if err := os.WriteFile(path, []byte(csv), 0o600); err != nil {
		t.Fatal(err)
	}
	demo, err := demodata.Load()
	if err != nil {
		t.Fatal(err)
	}
	// By default a bundle CSV merges by name, and says so; --replace
	// replaces every bundle, and says that.
	for _, step := range []struct {
		args       []string
		want       string
		wantShow   int
		wantInJSON string
	}{
		{[]string{"--csv", path}, fmt.Sprintf("merged by name: 2 bundles added, 0 replaced, %d kept; the catalogue has %d bundles", len(demo.Bundles), len(demo.Bundles)+2), len(demo.Bundles) + 2, ""},
		{[]string{"--csv", path}, fmt.Sprintf("merged by name: 0 bundles added, 2 replaced, %d kept", len(demo.Bundles)), len(demo.Bundles) + 2, ""},
		{[]string{"--csv", path, "--json"}, "", len(demo.Bundles) + 2, `"mode": "merge"`},
		{[]string{"--csv", path, "--replace"}, fmt.Sprintf("replaced the catalogue (%d bundles before): imported 2 bundles", len(demo.Bundles)+2), 2, ""},
	} {
		out, err = runCmd(t, append([]string{"catalogue", "import", "--db", db}, step.args...)...)
		if err != nil || !strings.Contains(out, step.want) || !strings.Contains(out, step.wantInJSON) {
			t.Fatalf("catalogue import %v: %v\n%s\nwant %q", step.args, err, out, step.want+step.wantInJSON)
		}
		out, err = runCmd(t, "catalogue", "show", "--db", db, "--json")
		if err != nil || !strings.Contains(out, `"name": "Acme Unlimited"`) || !strings.Contains(out, fmt.Sprintf(`"bundles": %d,`, step.wantShow)) {
			t.Fatalf("catalogue show after import %v: %v\n%s", step.args, err, out)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("name,price\nx,1\n"), 0o600)
	if _, err := runCmd(t, "catalogue", "import", "--db", db, "--csv", bad); err == nil {
		t.Error("a CSV without the required columns was imported")
	}
	// The slice of the real rate sheet the ratesheet package tests with.
	sheet := filepath.Join("..", "..", "internal", "catalogue", "ratesheet", "testdata", "ratesheet")
	out, err = runCmd(t, "catalogue", "import", "--db", db, "--ratesheet", sheet, "--json")
	if err != nil || !strings.Contains(out, `"Standard Unlimited Plus"`) {
		t.Fatalf("catalogue import --ratesheet: %v\n%s", err, out)
	}
}

func TestPoolImport(t *testing.T) {
	db := storetest.DSN(t)
	csv := "iccid,matching_id,smdp_address,pin,puk,profile\n" +
		"8944000000000000001,AAAA-BBBB-CCCC-DDDD,RSP.Example.net,1234,12345678,Profile 1\n" +
		"8944000000000000019,AAAA-BBBB-CCCC-DDDE,rsp.example.net,1234,12345678,Profile 1\n"
	path := filepath.Join(t.TempDir(), "pool.csv")
	os.WriteFile(path, []byte(csv), 0o600)
	out, err := runCmd(t, "pool", "import", "--db", db, "--csv", path, "--json")
	if err != nil || !strings.Contains(out, `"added": 2`) {
		t.Fatalf("pool import: %v\n%s", err, out)
	}
	out, err = runCmd(t, "pool", "import", "--db", db, "--csv", path)
	if err != nil || !strings.Contains(out, "added 0 of 2") {
		t.Fatalf("second import: %v\n%s", err, out)
	}
	bad := filepath.Join(t.TempDir(), "bad.csv")
	os.WriteFile(bad, []byte("iccid,matching_id,smdp_address,pin,puk,profile\n8944000000000000004,X,rsp.example.net,1,2,Profile 1\n"), 0o600)
	if _, err := runCmd(t, "pool", "import", "--db", db, "--csv", bad); err == nil || !strings.Contains(err.Error(), "Luhn") {
		t.Errorf("a bad ICCID was imported: %v", err)
	}
}
