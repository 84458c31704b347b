package main

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/esimd/esimd/internal/storetest"
)

// TestCallbacksReseal rotates ESIMD_SECRET_KEY: the signing key sealed
// under the old key stops opening when the key changes, opens again once
// esimd callbacks reseal has sealed it under the new key, a second run
// changes nothing, and a key sealed under neither is reported.
func TestCallbacksReseal(t *testing.T) {
	ctx := context.Background()
	db := storetest.DSN(t)
	const (
		oldKey   = "1111111111111111111111111111111111111111111111111111111111111111"
		newKey   = "2222222222222222222222222222222222222222222222222222222222222222"
		thirdKey = "3333333333333333333333333333333333333333333333333333333333333333"
	)
	vars := map[string]string{"ESIMD_SECRET_KEY": oldKey}
	cmd := func(args ...string) (string, error) {
		var out, errOut syncBuffer
		err := run(ctx, append(args, "--db", db), getenvFrom(vars), &out, &errOut)
		return out.String() + errOut.String(), err
	}
	out, err := cmd("org", "create", "--name", "Acme", "--sandbox", "--json")
	if err != nil {
		t.Fatalf("org create: %v\n%s", err, out)
	}
	var created struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal([]byte(out), &created); err != nil {
		t.Fatal(err)
	}
	signedBy := func() string {
		t.Helper()
		out, err := cmd("callbacks", "show", "1")
		if err != nil {
			t.Fatalf("callbacks show: %v\n%s", err, out)
		}
		for _, l := range strings.Split(out, "\n") {
			if strings.Contains(l, "signing key:") {
				return strings.TrimSpace(strings.SplitN(l, ":", 2)[1])
			}
		}
		return ""
	}
	if got := signedBy(); !strings.HasPrefix(got, "API key 1") {
		t.Fatalf("under the old key: signing key %q", got)
	}
	vars["ESIMD_SECRET_KEY"] = newKey
	if got := signedBy(); !strings.HasPrefix(got, "none") {
		t.Fatalf("after the key changed, before reseal: signing key %q, want none", got)
	}
	for _, tc := range []struct {
		name, secret, old, want string
		fails                   bool
	}{
		{name: "no old key", secret: newKey, fails: true, want: "ESIMD_OLD_SECRET_KEY"},
		{name: "a malformed old key", secret: newKey, old: "abc", fails: true, want: "64 hex digits"},
		{name: "the old key is the current one", secret: newKey, old: newKey, fails: true, want: "is the current one"},
		{name: "reseal", secret: newKey, old: oldKey, want: "sealed 1 signing key(s) again under the new secret key; 0 already were"},
		{name: "again: nothing to do", secret: newKey, old: oldKey, want: "sealed 0 signing key(s) again under the new secret key; 1 already were"},
		{name: "under a third key the copy opens with neither", secret: thirdKey, old: oldKey, want: "1 sealed key(s) open with neither key (API key IDs [1])"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			vars["ESIMD_SECRET_KEY"], vars["ESIMD_OLD_SECRET_KEY"] = tc.secret, tc.old
			out, err := cmd("callbacks", "reseal")
			if (err != nil) != tc.fails || !strings.Contains(out+errString(err), tc.want) {
				t.Errorf("callbacks reseal: %v\n%s\nwant fails=%v and %q", err, out, tc.fails, tc.want)
			}
		})
	}
	vars["ESIMD_SECRET_KEY"] = newKey
	if got := signedBy(); !strings.HasPrefix(got, "API key 1") {
		t.Errorf("under the new key after reseal: signing key %q", got)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
