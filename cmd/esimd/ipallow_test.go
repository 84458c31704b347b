package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/storetest"
)

// TestOrgUpdateIPAllow: esimd org update --ip-allow sets an organisation's
// IP allow-list, refuses a wrong entry with a message and "" clears it.
func TestOrgUpdateIPAllow(t *testing.T) {
	db := storetest.DSN(t)
	if out, err := runCmd(t, "org", "create", "--db", db, "--name", "Globetrotter"); err != nil {
		t.Fatalf("org create: %v\n%s", err, out)
	}
	list := func(out string) []string {
		t.Helper()
		var o struct {
			IPAllowList []string `json:"ipAllowList"`
		}
		if err := json.Unmarshal([]byte(out), &o); err != nil {
			t.Fatalf("%v in %s", err, out)
		}
		return o.IPAllowList
	}
	out, err := runCmd(t, "org", "update", "--db", db, "--json", "--ip-allow", "203.0.113.0/24, 2001:db8::1", "1")
	if err != nil {
		t.Fatalf("org update --ip-allow: %v\n%s", err, out)
	}
	if diff := cmp.Diff([]string{"203.0.113.0/24", "2001:db8::1/128"}, list(out)); diff != "" {
		t.Errorf("allow-list (-want +got):\n%s", diff)
	}
	out, err = runCmd(t, "org", "show", "--db", db, "--json", "1")
	if err != nil || len(list(out)) != 2 {
		t.Errorf("org show after --ip-allow: %v\n%s", err, out)
	}
	out, err = runCmd(t, "org", "update", "--db", db, "--ip-allow", "203.0.113.1/24", "1")
	if err == nil || !strings.Contains(out+err.Error(), "did you mean 203.0.113.0/24?") {
		t.Errorf("a prefix with host bits: %v\n%s", err, out)
	}
	out, err = runCmd(t, "org", "update", "--db", db, "--json", "--ip-allow", "", "1")
	if err != nil || len(list(out)) != 0 {
		t.Errorf("--ip-allow \"\" clears the list: %v\n%s", err, out)
	}
}
