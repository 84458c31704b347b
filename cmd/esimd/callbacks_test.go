package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/esimd/esimd/internal/store"
	"github.com/esimd/esimd/internal/storetest"
)

func TestCallbacksCommands(t *testing.T) {
	ctx := context.Background()
	db := storetest.DSN(t)
	var mu sync.Mutex
	var sigs []string
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sigs = append(sigs, r.Header.Get("X-Signature-SHA256"))
		mu.Unlock()
	}))
	defer rcv.Close()
	vars := map[string]string{}
	cmd := func(args ...string) (string, error) {
		var out, errOut syncBuffer
		e := env{getenv: getenvFrom(vars), stdout: &out, stderr: &errOut}
		var err error
		if args[0] == "callbacks" {
			err = e.callbacks(ctx, append(args[1:], "--db", db))
		} else {
			err = run(ctx, append(args, "--db", db), getenvFrom(vars), &out, &errOut)
		}
		return out.String() + errOut.String(), err
	}
	out, err := cmd("org", "create", "--name", "Acme", "--sandbox", "--json")
	if err != nil {
		t.Fatalf("org create: %v\n%s", err, out)
	}
	var created struct {
		APIKey string `json:"apiKey"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}

	out, err = cmd("callbacks", "set", "1", "--url", rcv.URL, "--signature-encoding", "hex", "--standard-webhooks=true")
	if err != nil || !strings.Contains(out, rcv.URL) || !strings.Contains(out, "hex") {
		t.Fatalf("callbacks set: %v\n%s", err, out)
	}
	// On SQLite the key that seals signing secrets is generated beside the
	// database file; PostgreSQL nodes share ESIMD_SECRET_KEY instead.
	if storetest.Engine() == store.EngineSQLite {
		if fi, err := os.Stat(db + ".secret"); err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("secret key file: %v %v", fi, err)
		}
	}
	vars["ESIMD_SEAL_API_KEY"] = created.APIKey
	if out, err = cmd("callbacks", "seal-key", "1"); err != nil || !strings.Contains(out, "signing key:        API key 1") {
		t.Fatalf("seal-key: %v\n%s", err, out)
	}
	if out, err = cmd("callbacks", "test", "1"); err != nil || !strings.Contains(out, "delivered to") {
		t.Fatalf("callbacks test: %v\n%s", err, out)
	}
	mu.Lock()
	if len(sigs) != 1 || len(sigs[0]) != 64 {
		t.Errorf("test callback signature %q, want 64 hex digits", sigs)
	}
	mu.Unlock()
	if out, err = cmd("callbacks", "log", "1", "--json"); err != nil || !strings.Contains(out, `"test": true`) {
		t.Fatalf("callbacks log: %v\n%s", err, out)
	}
	if out, err = cmd("callbacks", "show", "1", "--json"); err != nil || !strings.Contains(out, `"standardWebhooks": true`) {
		t.Fatalf("callbacks show: %v\n%s", err, out)
	}
	if out, err = cmd("callbacks", "replay", "1", "--from", "2026-01-01T00:00:00Z", "--to", "2099-01-01T00:00:00Z"); err != nil || !strings.Contains(out, "0 event(s)") {
		t.Fatalf("callbacks replay range: %v\n%s", err, out)
	}
	if _, err = cmd("callbacks", "replay", "1", "77"); err == nil {
		t.Errorf("replay of an unknown event succeeded")
	}
	if _, err = cmd("callbacks", "set", "1", "--version", "V7"); err == nil {
		t.Errorf("set --version V7 succeeded")
	}
	if _, err = cmd("callbacks", "frobnicate", "1"); exitCode(err) != 2 {
		t.Errorf("unknown subcommand: %v", err)
	}
}
