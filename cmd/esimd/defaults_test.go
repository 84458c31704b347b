package main

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/esimd/esimd/internal/storetest"
)

// TestOrgCreateDefaults: esimd org create makes what the admin API and the
// first start make when nothing is said (orgs.DefaultSandbox): a sandbox
// organisation with refunds on; a live one has refunds off unless asked.
func TestOrgCreateDefaults(t *testing.T) {
	db := storetest.DSN(t)
	cases := []struct {
		flags            []string
		sandbox, refunds bool
	}{
		{nil, true, true},
		{[]string{"--live"}, false, false},
		{[]string{"--sandbox=false"}, false, false},
		{[]string{"--live", "--refunds"}, false, true},
		{[]string{"--refunds=false"}, true, false},
		{[]string{"--sandbox", "--live=false"}, true, true},
	}
	for _, c := range cases {
		out, err := runCmd(t, append([]string{"org", "create", "--db", db, "--json", "--name", "Defaults"}, c.flags...)...)
		if err != nil {
			t.Fatalf("org create %v: %v\n%s", c.flags, err, out)
		}
		var o struct{ Sandbox, RefundsEnabled bool }
		if err := json.Unmarshal([]byte(out[strings.Index(out, "{"):]), &o); err != nil {
			t.Fatalf("org create %v: %v\n%s", c.flags, err, out)
		}
		if o.Sandbox != c.sandbox || o.RefundsEnabled != c.refunds {
			t.Errorf("org create %v: sandbox %v, refunds %v; want %v, %v", c.flags, o.Sandbox, o.RefundsEnabled, c.sandbox, c.refunds)
		}
	}
	if out, err := runCmd(t, "org", "create", "--db", db, "--name", "Both", "--live", "--sandbox"); !errors.Is(err, errUsage) {
		t.Errorf("--live --sandbox: %v\n%s; want a usage error", err, out)
	}
}
