package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/esimd/esimd/internal/storetest"
)

// TestExampleFiles: the sample files the README's commands read are in
// examples/ and import as the README says.
func TestExampleFiles(t *testing.T) {
	db := storetest.DSN(t)
	dir := filepath.Join("..", "..", "examples")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"catalogue", "import", "--ratesheet", filepath.Join(dir, "ratesheet")}, "replaced the catalogue"},
		{[]string{"catalogue", "import", "--csv", filepath.Join(dir, "bundles.csv")}, "merged by name: 2 bundles added"},
		{[]string{"pool", "import", "--csv", filepath.Join(dir, "profiles.csv")}, "added 5 of 5"},
	} {
		out, err := runCmd(t, append(c.args, "--db", db)...)
		if err != nil || !strings.Contains(out, c.want) {
			t.Errorf("esimd %s: %v\n%s\nwant %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
}
