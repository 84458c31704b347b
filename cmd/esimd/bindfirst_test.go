package main

import (
	"context"
	"net"
	"strings"
	"testing"

	"github.com/esimd/esimd/internal/storetest"
)

// TestServeBindsBeforeItCreatesTheSandbox: with the port taken, the first
// start fails before creating the sandbox organisation, so its only key is
// not printed on the way to an error; the next start that binds creates it
// and prints the key, and a later start says how to get another key.
func TestServeBindsBeforeItCreatesTheSandbox(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	db := storetest.DSN(t)
	var stdout, stderr syncBuffer
	err = run(context.Background(), []string{"serve", "--addr", busy.Addr().String(), "--db", db}, getenvFrom(nil), &stdout, &stderr)
	if err == nil || !strings.Contains(err.Error(), "listen on "+busy.Addr().String()) || !strings.Contains(err.Error(), "--addr") {
		t.Fatalf("serve on a busy port: %v", err)
	}
	if strings.Contains(stdout.String(), "API key") || strings.Contains(stdout.String(), "created sandbox organisation") {
		t.Fatalf("a failed start printed a key:\n%s", stdout.String())
	}
	var list, listErr syncBuffer
	if err := run(context.Background(), []string{"org", "list", "--db", db, "--json"}, getenvFrom(nil), &list, &listErr); err != nil {
		t.Fatalf("org list: %v\n%s", err, listErr.String())
	}
	if strings.Contains(list.String(), "Sandbox") {
		t.Fatalf("a start that could not bind created an organisation:\n%s", list.String())
	}

	_, out, stop := startServer(t, db, nil)
	stop()
	if !strings.Contains(out.String(), "API key: esimd_") {
		t.Fatalf("the first start that bound printed no key:\n%s", out.String())
	}
	_, again, stop := startServer(t, db, nil)
	stop()
	if strings.Contains(again.String(), "API key:") || !strings.Contains(again.String(), "esimd apikey create 1") {
		t.Fatalf("a later start should say how to get a key, not print one:\n%s", again.String())
	}
}
