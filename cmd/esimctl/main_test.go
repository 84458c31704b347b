package main

import (
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/esimd/esimd/esimapi"
)

// cli runs esimctl commands through run against one server.
type cli struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, env: map[string]string{"ESIMD_URL": startAPI(t), "ESIMD_API_KEY": testKey}}
}

func (c *cli) run(args ...string) (string, string, error) {
	c.t.Helper()
	var stdout, stderr syncBuffer
	err := run(c.t.Context(), args, func(k string) string { return c.env[k] }, &stdout, &stderr)
	return stdout.String(), stderr.String(), err
}

// ok runs a command that must succeed and returns its output.
func (c *cli) ok(args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(args...)
	if err != nil {
		c.t.Fatalf("esimctl %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// json runs a command with --json and decodes its output.
func (c *cli) json(v any, args ...string) {
	c.t.Helper()
	out := c.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		c.t.Fatalf("esimctl %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func wantLines(t *testing.T, out string, patterns ...string) {
	t.Helper()
	for _, p := range patterns {
		if !regexp.MustCompile(p).MatchString(out) {
			t.Errorf("output does not match %q:\n%s", p, out)
		}
	}
}

func TestWalkthrough(t *testing.T) {
	c := newCLI(t)
	dir := t.TempDir()

	out := c.ok("catalogue", "list", "--country", "GB", "--order-by", "price")
	wantLines(t, out,
		`(?m)^NAME\s+DATA\s+DAYS\s+PRICE\s+COUNTRIES\s+PROFILE$`,
		`(?m)^esim_1GB_7D_GB_V2\s+1 GB\s+7\s+1\.73\s+GB\s+Profile 1$`,
		`(?m)^esim_3GB_30D_GB_V2\s+3 GB\s+30\s+4\.5\s+GB\s+Profile 1$`)
	if strings.Contains(out, "FR_V2") {
		t.Errorf("--country GB listed a French bundle:\n%s", out)
	}
	var bundles []struct {
		Name  string  `json:"name"`
		Price float64 `json:"price"`
	}
	c.json(&bundles, "catalogue", "list")
	if len(bundles) != 3 {
		t.Errorf("catalogue list --json = %+v", bundles)
	}
	wantLines(t, c.ok("catalogue", "show", "esim_3GB_30D_GB_V2"), `(?m)^Duration:\s+30 days$`, `(?m)^Price:\s+4\.5$`)

	out = c.ok("order", "validate", "esim_1GB_7D_GB_V2", "--quantity", "3")
	wantLines(t, out, `total 5\.19 USD; valid: true`)

	var order struct {
		OrderReference string `json:"orderReference"`
		Order          []struct {
			ICCIDs []string `json:"iccids"`
		} `json:"order"`
	}
	c.json(&order, "order", "buy", "esim_1GB_7D_GB_V2", "--idempotency-key", "walkthrough-1")
	if len(order.Order) != 1 || len(order.Order[0].ICCIDs) != 1 {
		t.Fatalf("order buy = %+v", order)
	}
	iccid := order.Order[0].ICCIDs[0]
	wantLines(t, c.ok("order", "show", order.OrderReference), `(?m)^Status:\s+completed$`, `(?m)^`+iccid+`\s+`)
	wantLines(t, c.ok("order", "list"), order.OrderReference)

	wantLines(t, c.ok("esims", "list"), `(?m)^ICCID\s+STATE`, `(?m)^`+iccid+`\s+active\s+`)
	wantLines(t, c.ok("esims", "update", iccid, "--customer-ref", "traveller-7"), `success`)
	out = c.ok("esims", "show", iccid)
	wantLines(t, out, `(?m)^Customer ref:\s+traveller-7$`, `(?m)^Activation code:\s+LPA:1\$`, `(?m)^esim_1GB_7D_GB_V2\s+\d+\s+queued\s+1 GB\s+1 GB`)

	// The sandbox: install, attach, use.
	wantLines(t, c.ok("sandbox", "install", iccid), `(?m)^Profile status:\s+Installed$`)
	wantLines(t, c.ok("sandbox", "attach", iccid, "--country", "GB"), `(?m)^Network code:\s+GBRME$`)
	wantLines(t, c.ok("sandbox", "use", iccid, "--mb", "600"), `(?m)^Charged:\s+600 MB$`)
	wantLines(t, c.ok("esims", "bundles", iccid), `(?m)^esim_1GB_7D_GB_V2\s+\d+\s+active\s+400 MB\s+1 GB`)
	wantLines(t, c.ok("esims", "history", iccid), `eSIM First Use`, `50% Used`)
	wantLines(t, c.ok("esims", "location", iccid), `(?m)^Country:\s+GB$`)
	wantLines(t, c.ok("esims", "sms", iccid, "Welcome", "to", "the", "UK"), `sent`)
	wantLines(t, c.ok("sandbox", "sms", iccid), `Welcome to the UK`)
	wantLines(t, c.ok("sandbox", "clock"), `(?m)^Now:`)
	wantLines(t, c.ok("sandbox", "advance", "8d"), `(?m)^Ahead of wall clock:\s+192h0m0s$`)

	// Callbacks, in a table and as JSON lines.
	out = c.ok("callbacks", "tail")
	wantLines(t, out, `(?m)^ID\s+DATE\s+TYPE`, `FirstAttachment\s+`+iccid, `Utilisation\s+`+iccid+`\s+esim_1GB_7D_GB_V2 50% used, 400 MB left`,
		`CountryChange\s+`+iccid+`\s+now in GB`)
	lines := strings.Split(strings.TrimSpace(c.ok("callbacks", "tail", "--json")), "\n")
	var first struct {
		ID   int64  `json:"id"`
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil || first.ID == 0 {
		t.Errorf("first JSON line %q: %v", lines[0], err)
	}

	// One QR code.
	qr := filepath.Join(dir, "one.png")
	wantLines(t, c.ok("esims", "qr", iccid, "--out", qr), iccid+`\s+`+regexp.QuoteMeta(qr)+`\s+LPA:1\$`)
	checkPNG(t, qr)

	// Inventory, apply, revoke, refund.
	c.ok("order", "buy", "esim_3GB_30D_GB_V2", "--inventory", "--quantity", "3")
	out = c.ok("inventory", "list")
	m := regexp.MustCompile(`(?m)^esim_3GB_30D_GB_V2\s+(\d+)\s+3\s+3\s+\d{4}-\d\d-\d\d$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("inventory list:\n%s", out)
	}
	wantLines(t, c.ok("esims", "apply", "esim_3GB_30D_GB_V2", "--iccid", iccid), iccid+`\s+esim_3GB_30D_GB_V2`, `apply reference`)
	wantLines(t, c.ok("esims", "revoke", iccid, "esim_3GB_30D_GB_V2", "--validate"), `can be revoked and refunded to inventory`)
	wantLines(t, c.ok("esims", "revoke", iccid, "esim_3GB_30D_GB_V2"), `refunded to inventory`)
	wantLines(t, c.ok("inventory", "refund", m[1], "--quantity", "2"), `Successfully refunded bundles to balance`)

	// The organisation.
	wantLines(t, c.ok("org", "show"), `(?m)^Name:\s+Sandbox$`, `(?m)^Balance:\s+[\d.]+ USD$`)
	wantLines(t, c.ok("org", "topup", "1000"), `topped up 1000; balance`)
	wantLines(t, c.ok("org", "ledger"), `(?m)^\d+\s+\S+\s+credit\s+1000\s+1000\s`, `topup\s+1000`)

	// A large order, waited for, then its QR codes in bulk.
	var big struct {
		OrderReference string `json:"orderReference"`
		Status         string `json:"status"`
	}
	c.json(&big, "order", "buy", "esim_1GB_7D_FR_V2", "--quantity", "7", "--poll", "20ms")
	if big.Status != "completed" {
		t.Fatalf("large order = %+v", big)
	}
	qrDir := filepath.Join(dir, "qr")
	out, errOut, err := c.run("esims", "qr", "--reference", big.OrderReference, "--out", qrDir)
	if err != nil {
		t.Fatalf("bulk qr: %v\n%s", err, errOut)
	}
	if errOut != "" {
		t.Errorf("a progress bar was drawn on a non-terminal: %q", errOut)
	}
	files, _ := filepath.Glob(filepath.Join(qrDir, "*.png"))
	if len(files) != 7 || strings.Count(out, "LPA:1$") != 7 {
		t.Fatalf("bulk qr wrote %d files:\n%s", len(files), out)
	}
	for _, f := range files {
		checkPNG(t, f)
	}

	quiet := strings.Fields(c.ok("order", "buy", "esim_1GB_7D_GB_V2", "--quantity", "2", "--quiet"))
	if len(quiet) != 2 || len(quiet[0]) != 19 {
		t.Errorf("order buy --quiet = %q, want two ICCIDs", quiet)
	}

	wantLines(t, c.ok("esims", "suspend", iccid), `eSIM suspended successfully`)
	wantLines(t, c.ok("esims", "resume", iccid), `unsuspended`)
	wantLines(t, c.ok("sandbox", "uninstall", iccid), `(?m)^Profile status:\s+Released$`)
	wantLines(t, c.ok("sandbox", "reset"), `reset`)
	if out := c.ok("esims", "list", "--json"); strings.TrimSpace(out) != "[]" {
		t.Errorf("esims after reset: %s", out)
	}
}

func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
		t.Errorf("%s is %v, want 512×512", path, b)
	}
}

func TestErrors(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		env  map[string]string
		code int
		msg  string
	}{
		{args: []string{"catalogue", "show", "esim_nope"}, code: 1, msg: `^400 Bad Request: bundle "esim_nope" is not in the catalogue.* \[request [0-9a-f]+\]$`},
		{args: []string{"esims", "show", "8944538532008160222"}, code: 1, msg: `^403 Forbidden: the ICCID 8944538532008160222 is not accessible`},
		{args: []string{"esims", "show", "123"}, code: 1, msg: `^400 Bad Request: ICCID "123" must be 18 to 22 digits`},
		{args: []string{"order", "buy", "esim_1GB_7D_GB_V2", "--quantity", "1000"}, code: 1, msg: `^400 Bad Request: .*balance`},
		{args: []string{"org", "show"}, env: map[string]string{"ESIMD_API_KEY": "esimd_wrong_key_wrong_key_wrong"}, code: 1, msg: `^403 Forbidden`},
		{args: []string{"org", "show"}, env: map[string]string{"ESIMD_API_KEY": ""}, code: 2, msg: `no API key: set ESIMD_API_KEY`},
		{args: []string{"org", "show", "--base-url", "localhost:1"}, code: 2, msg: `--base-url`},
		{args: []string{"org", "show", "--base-url", "http://127.0.0.1:1"}, code: 1, msg: `connection refused|connect`},
		{args: []string{"nope"}, code: 2, msg: `unknown command group "nope"`},
		{args: []string{"esims", "frobnicate"}, code: 2, msg: `unknown command "esims" "frobnicate"`},
		{args: []string{"esims", "show"}, code: 2, msg: `esims show ICCID \(got 0 arguments\)`},
		{args: []string{"org", "show", "extra"}, code: 2, msg: `org show takes no arguments`},
		{args: []string{"catalogue", "list", "--bogus"}, code: 2, msg: `flag provided but not defined: -bogus`},
		{args: []string{"sandbox", "advance", "soon"}, code: 2, msg: `DURATION must look like`},
		{args: []string{"sandbox", "attach", "8999901000000000017"}, code: 2, msg: `give --country or --mccmnc`},
		{args: []string{"esims", "qr"}, code: 2, msg: `esims qr takes one ICCID`},
		{args: []string{"inventory", "refund", "x"}, code: 2, msg: `USAGE_ID must be a batch id`},
	} {
		saved := c.env
		c.env = map[string]string{}
		for k, v := range saved {
			c.env[k] = v
		}
		for k, v := range tc.env {
			c.env[k] = v
		}
		_, _, err := c.run(tc.args...)
		c.env = saved
		if err == nil {
			t.Errorf("esimctl %v succeeded", tc.args)
			continue
		}
		if got := exitCode(err); got != tc.code {
			t.Errorf("esimctl %v: exit code %d, want %d (%v)", tc.args, got, tc.code, err)
		}
		if !regexp.MustCompile(tc.msg).MatchString(err.Error()) {
			t.Errorf("esimctl %v: error %q does not match %q", tc.args, err, tc.msg)
		}
	}
	// Help is not an error.
	if out, _, err := c.run("-h"); err != nil || !strings.Contains(out, "Usage: esimctl") {
		t.Errorf("-h: %v\n%s", err, out)
	}
	if out, _, err := c.run("help"); err != nil || !strings.Contains(out, "callbacks tail") {
		t.Errorf("help: %v", err)
	}
	if out, _, err := c.run("order", "buy", "-h"); err != nil || !strings.Contains(out, "-idempotency-key") {
		t.Errorf("order buy -h: %v\n%s", err, out)
	}
}

func TestCallbacksFollow(t *testing.T) {
	c := newCLI(t)
	var order struct {
		Order []struct {
			ICCIDs []string `json:"iccids"`
		} `json:"order"`
	}
	c.json(&order, "order", "buy", "esim_1GB_7D_GB_V2")
	iccid := order.Order[0].ICCIDs[0]

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"callbacks", "tail", "--follow", "--interval", "20ms"}, func(k string) string { return c.env[k] }, &stdout, &stderr)
	}()
	c.ok("sandbox", "install", iccid)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(stdout.String(), "profile Installed") {
		if time.Now().After(deadline) {
			t.Fatalf("callbacks tail --follow never showed the install:\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("interrupted --follow: %v", err)
	}
}

// TestBuiltBinary builds esimctl and runs it as a user would.
func TestBuiltBinary(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "esimctl")
	if runtime.GOOS == "windows" {
		bin += ".exe"
	}
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	url := startAPI(t)
	env := append(os.Environ(), "ESIMD_URL="+url, "ESIMD_API_KEY="+testKey)
	exe := func(args ...string) (string, string, int) {
		cmd := exec.Command(bin, args...)
		cmd.Env = env
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		var exit *exec.ExitError
		if errors.As(err, &exit) {
			code = exit.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return stdout.String(), stderr.String(), code
	}

	out, errOut, code := exe("catalogue", "list", "--json")
	var bundles []map[string]any
	if code != 0 || json.Unmarshal([]byte(out), &bundles) != nil || len(bundles) != 3 {
		t.Fatalf("catalogue list --json: exit %d\n%s\n%s", code, out, errOut)
	}
	out, _, code = exe("--json", "order", "buy", "esim_1GB_7D_GB_V2")
	var order struct {
		Order []struct {
			ICCIDs []string `json:"iccids"`
		} `json:"order"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &order) != nil || len(order.Order[0].ICCIDs) != 1 {
		t.Fatalf("order buy: exit %d\n%s", code, out)
	}
	qr := filepath.Join(t.TempDir(), "esim.png")
	if _, errOut, code := exe("esims", "qr", order.Order[0].ICCIDs[0], "--out", qr); code != 0 {
		t.Fatalf("esims qr: exit %d\n%s", code, errOut)
	}
	checkPNG(t, qr)
	_, errOut, code = exe("catalogue", "show", "esim_nope")
	if code != 1 || !strings.HasPrefix(errOut, "esimctl: 400 Bad Request: bundle \"esim_nope\"") {
		t.Errorf("unknown bundle: exit %d, stderr %q", code, errOut)
	}
	_, errOut, code = exe("esims")
	if code != 2 || !strings.Contains(errOut, "esimctl: usage: name a command of esims") {
		t.Errorf("no command: exit %d, stderr %q", code, errOut)
	}
	// Help exits 0 however it is asked for, and prints no error.
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"help", "esims"}, {"esims", "-h"}, {"esims", "show", "-h"}, {"help", "esims", "show"}} {
		if out, errOut, code := exe(args...); code != 0 || out == "" || errOut != "" {
			t.Errorf("esimctl %v: exit %d, stdout %d bytes, stderr %q", args, code, len(out), errOut)
		}
	}
	if out, _, code := exe("version"); code != 0 || !strings.HasPrefix(out, "esimctl ") {
		t.Errorf("version: exit %d, %q", code, out)
	}
}

func TestCallbackDeliveries(t *testing.T) {
	c := newCLI(t)
	c.env["ESIMD_ADMIN_TOKEN"] = testAdminToken
	rcv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "thanks") }))
	defer rcv.Close()
	sdk, err := esimapi.NewClient(c.env["ESIMD_URL"], esimapi.WithAPIKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	url := rcv.URL
	if _, err := sdk.Admin(testAdminToken).UpdateCallbackSettings(t.Context(), 1, esimapi.CallbackSettingsChange{CallbackURL: &url}); err != nil {
		t.Fatal(err)
	}
	wantLines(t, c.ok("callbacks", "test", "--kind", "Utilisation"), `(?m)^HTTP status:\s+200$`, `(?m)^Outcome:\s+delivered$`, `(?m)^Answer:\s+thanks$`)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var stdout, stderr syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"callbacks", "deliveries", "--follow", "--interval", "20ms"}, func(k string) string { return c.env[k] }, &stdout, &stderr)
	}()
	c.ok("callbacks", "test")
	deadline := time.Now().Add(10 * time.Second)
	for strings.Count(stdout.String(), "(test)") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("callbacks deliveries --follow:\n%s\n%s", stdout.String(), stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("interrupted --follow: %v", err)
	}
	wantLines(t, stdout.String(), `(?m)^ID\s+AT\s+KIND`, `(?m)^\d+\s+\S+\s+Utilisation \(test\)\s+200\s+delivered\s+[\d.]+ms thanks$`)

	delete(c.env, "ESIMD_ADMIN_TOKEN")
	if _, _, err := c.run("callbacks", "deliveries"); err == nil || exitCode(err) != 2 || !strings.Contains(err.Error(), "no admin token") {
		t.Errorf("without a token: %v", err)
	}
	if _, _, err := c.run("callbacks", "deliveries", "--admin-token", "wrong"); err == nil || !strings.HasPrefix(err.Error(), "401 Unauthorized") {
		t.Errorf("wrong token: %v", err)
	}
}
