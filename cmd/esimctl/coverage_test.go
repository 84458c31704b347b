package main

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestWholeAPI drives the commands beyond the walkthrough over the real
// server: eSIM delete, refresh and compatibility, install data by
// reference, sandbox faults and autopilot.
func TestWholeAPI(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()
	var order struct {
		OrderReference string `json:"orderReference"`
		Order          []struct {
			ICCIDs []string `json:"iccids"`
		} `json:"order"`
	}
	c.json(&order, "order", "buy", "esim_1GB_7D_GB_V2", "--quantity", "2")
	ref, iccids := order.OrderReference, order.Order[0].ICCIDs
	if len(iccids) != 2 {
		t.Fatalf("order buy = %+v", order)
	}

	// Install data by reference: a table, JSON, CSV and a ZIP of QR codes.
	out := c.ok("order", "install-data", ref)
	wantLines(t, out, `(?m)^ICCID\s+PROFILE STATUS\s+ACTIVATION CODE\s+FIRST INSTALLED$`, `(?m)^`+iccids[0]+`\s+\S+\s+LPA:1\$`, `(?m)^`+iccids[1]+`\s+`)
	var rows []struct {
		ICCID      string `json:"iccid"`
		MatchingID string `json:"matchingId"`
	}
	c.json(&rows, "order", "install-data", ref)
	if len(rows) != 2 || rows[0].MatchingID == "" {
		t.Errorf("install-data --json = %+v", rows)
	}
	records, err := csv.NewReader(strings.NewReader(c.ok("order", "install-data", ref, "--csv", "-"))).ReadAll()
	if err != nil || len(records) != 3 || !strings.Contains(strings.Join(records[0], ","), "ICCID") {
		t.Errorf("install-data --csv - = %v, %v; want a header and two eSIMs", records, err)
	}
	csvPath := filepath.Join(dir, "install.csv")
	wantLines(t, c.ok("order", "install-data", ref, "--csv", csvPath), `^wrote `+regexp.QuoteMeta(csvPath))
	if data, err := os.ReadFile(csvPath); err != nil || !strings.Contains(string(data), iccids[1]) {
		t.Errorf("%s: %v\n%s", csvPath, err, data)
	}
	zipPath := filepath.Join(dir, "qr.zip")
	c.ok("order", "install-data", ref, "--zip", zipPath)
	data, err := os.ReadFile(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		t.Fatal(err)
	}
	var pngs []string
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, ".png") {
			pngs = append(pngs, f.Name)
		}
	}
	if len(pngs) != 2 {
		t.Errorf("the ZIP holds PNGs %v, want one per eSIM", pngs)
	}

	// Compatibility, refresh, delete.
	wantLines(t, c.ok("esims", "compatible", iccids[0], "esim_1GB_7D_FR_V2"), `(?m)^eSIM `+iccids[0]+` can take bundle esim_1GB_7D_FR_V2$`)
	var compat struct {
		ICCID      string `json:"iccid"`
		Compatible bool   `json:"compatible"`
	}
	c.json(&compat, "esims", "compatible", iccids[0], "esim_1GB_7D_GB_V2")
	if compat.ICCID != iccids[0] || !compat.Compatible {
		t.Errorf("compatible --json = %+v", compat)
	}
	wantLines(t, c.ok("esims", "refresh", iccids[0]), `(?i)success|refresh`)
	wantLines(t, c.ok("esims", "delete", iccids[1]), `(?i)success|delet`)
	wantLines(t, c.ok("esims", "show", iccids[1]), `(?m)^State:\s+deactivated$`)
	if _, _, err := c.run("esims", "delete", iccids[1]); exitCode(err) != 1 || !strings.Contains(err.Error(), "already deactivated") {
		t.Errorf("deleting twice: %v", err)
	}

	// Faults: inject, see it bite, list, clear. (A 500, which the SDK
	// does not retry as it would a 503.)
	out = c.ok("sandbox", "fault", "--path", "/catalogue", "--status", "500", "--count", "1", "--message", "planned outage")
	wantLines(t, out, `(?m)^ID\s+METHOD\s+PATH\s+STATUS`, `(?m)^\d+\s+any\s+/catalogue\s+500\s+0s\s+1\s+1\s+planned outage$`)
	if _, _, err := c.run("catalogue", "list"); err == nil || !strings.Contains(err.Error(), "500") || !strings.Contains(err.Error(), "planned outage") {
		t.Errorf("catalogue list under the fault: %v, want the injected 500", err)
	}
	c.ok("sandbox", "fault", "--method", "post", "--path", "/orders", "--latency", "10ms")
	var faults []struct {
		Method    string `json:"method"`
		Path      string `json:"path"`
		LatencyMs int64  `json:"latencyMs"`
	}
	c.json(&faults, "sandbox", "faults")
	if len(faults) != 1 || faults[0].Method != "POST" || faults[0].LatencyMs != 10 {
		t.Errorf("sandbox faults --json = %+v; want the latency fault (the 503 was used up)", faults)
	}
	wantLines(t, c.ok("sandbox", "clear-faults"), `every injected fault removed`)
	c.json(&faults, "sandbox", "faults")
	if len(faults) != 0 {
		t.Errorf("after clear-faults: %+v", faults)
	}
	if _, _, err := c.run("sandbox", "fault", "--path", "/orders"); exitCode(err) != 2 || !strings.Contains(err.Error(), "--status, --latency") {
		t.Errorf("a fault that does nothing: %v", err)
	}
	if _, _, err := c.run("sandbox", "fault", "--status", "200"); exitCode(err) != 1 || !strings.Contains(err.Error(), "400") {
		t.Errorf("a fault with a success status: %v, want the server's 400", err)
	}

	// Autopilot: show, switch on with a rate, switch off.
	wantLines(t, c.ok("sandbox", "autopilot"), `(?m)^Autopilot:\s+off$`)
	wantLines(t, c.ok("sandbox", "autopilot", "--on", "--mb-per-hour", "50"), `(?m)^Autopilot:\s+on$`, `(?m)^Data per hour:\s+50 MB$`)
	var ap struct {
		Enabled      bool  `json:"enabled"`
		BytesPerHour int64 `json:"bytesPerHour"`
	}
	c.json(&ap, "sandbox", "autopilot", "--off")
	if ap.Enabled || ap.BytesPerHour != 50_000_000 {
		t.Errorf("autopilot --off = %+v; want off, the rate kept", ap)
	}
	if _, _, err := c.run("sandbox", "autopilot", "--on", "--off"); exitCode(err) != 2 {
		t.Errorf("--on --off: %v", err)
	}
}

// TestOperatorOrganisations drives the orgs commands with the admin token
// and no API key: the operator needs none.
func TestOperatorOrganisations(t *testing.T) {
	c := newCLI(t)
	c.env["ESIMD_ADMIN_TOKEN"] = testAdminToken
	delete(c.env, "ESIMD_API_KEY")

	wantLines(t, c.ok("orgs", "list"), `(?m)^ID\s+NAME\s+KIND\s+BALANCE\s+REFUNDS\s+CREATED$`, `(?m)^1\s+Sandbox\s+sandbox\s+1000 USD\s+60 days\s+`)
	out := c.ok("orgs", "create", "--name", "ci-run-7", "--balance", "500")
	wantLines(t, out, `(?m)^2\s+ci-run-7\s+sandbox\s+500 USD\s+60 days\s+`)
	m := regexp.MustCompile(`API key of organisation 2 \(shown once\): (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("orgs create printed no key:\n%s", out)
	}
	// The new key works for the organisation's own commands.
	wantLines(t, c.ok("org", "show", "--api-key", m[1]), `(?m)^Name:\s+ci-run-7$`)

	var live struct {
		ID      int64  `json:"id"`
		Sandbox bool   `json:"sandbox"`
		APIKey  string `json:"apiKey"`
	}
	c.json(&live, "orgs", "create", "--name", "Live Co", "--live")
	if live.ID != 3 || live.Sandbox || live.APIKey == "" {
		t.Errorf("orgs create --live --json = %+v", live)
	}
	wantLines(t, c.ok("orgs", "show", "2"), `(?m)^Name:\s+ci-run-7$`, `(?m)^Kind:\s+sandbox$`, `(?m)^Balance:\s+500 USD$`)
	wantLines(t, c.ok("orgs", "credit", "2", "-1.5", "--kind", "adjustment", "--note", "rounding"), `(?m)^organisation 2: adjustment -1\.5, balance now 498\.5$`)
	var credit struct {
		Kind    string  `json:"kind"`
		Balance float64 `json:"balance"`
	}
	c.json(&credit, "orgs", "credit", "2", "100")
	if credit.Kind != "topup" || credit.Balance != 598.5 {
		t.Errorf("orgs credit --json = %+v", credit)
	}
	wantLines(t, c.ok("orgs", "show", "2"), `(?m)^Balance:\s+598\.5 USD$`)

	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"orgs", "show", "abc"}, 2, `"abc" is not an organisation ID`},
		{[]string{"orgs", "show", "99"}, 1, `^404 Not Found: `},
		{[]string{"orgs", "credit", "2", "0"}, 2, `AMOUNT must be a decimal other than 0`},
		{[]string{"orgs", "credit", "2", "-1"}, 1, `^400 Bad Request: .*positive`},
		{[]string{"orgs", "create"}, 2, `--name is required`},
		{[]string{"orgs", "list", "--admin-token", "wrong"}, 1, `^401 Unauthorized`},
	} {
		_, _, err := c.run(tc.args...)
		if exitCode(err) != tc.code || !regexp.MustCompile(tc.msg).MatchString(err.Error()) {
			t.Errorf("esimctl %v: %v (exit %d), want exit %d and %q", tc.args, err, exitCode(err), tc.code, tc.msg)
		}
	}
	delete(c.env, "ESIMD_ADMIN_TOKEN")
	if _, _, err := c.run("orgs", "list"); exitCode(err) != 2 || !strings.Contains(err.Error(), "no admin token") {
		t.Errorf("without a token: %v", err)
	}
}
