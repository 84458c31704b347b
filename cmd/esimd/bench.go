package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/esimd/esimd/esimid"
	"github.com/esimd/esimd/internal/catalogue/demodata"
	"github.com/esimd/esimd/internal/httpapi"
	"github.com/esimd/esimd/internal/idempotency"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/sandbox"
	"github.com/esimd/esimd/internal/store"
)

// benchKey is the API key of the benchmark's sandbox organisation.
const benchKey = "esimd-bench-key-0000000001"

// benchBundle is the bundle every scenario orders, applies or reads.
const benchBundle = "esim_1GB_7D_GB_V2"

// benchScenarioNames lists every scenario in the order they run: reads
// first, then writes, so that writes do not grow the tables under the
// reads of the same run.
var benchScenarioNames = []string{"baseline", "catalogue-page", "bundle", "esim", "order-validate", "order-assign", "apply", "usage"}

// benchResult is one scenario's figures.
type benchResult struct {
	Name       string  `json:"name"`
	Request    string  `json:"request"`
	Requests   int64   `json:"requests"`
	Errors     int64   `json:"errors"`
	FirstError string  `json:"firstError,omitempty"`
	Seconds    float64 `json:"seconds"`
	Throughput float64 `json:"throughput"` // requests per second
	P50Ms      float64 `json:"p50Ms"`
	P95Ms      float64 `json:"p95Ms"`
	P99Ms      float64 `json:"p99Ms"`
	// Ratio is Throughput over the baseline's throughput in the same run.
	Ratio float64 `json:"ratio"`
}

// benchReport is what --json writes: enough to compare runs between
// versions and machines.
type benchReport struct {
	Started time.Time `json:"started"`
	Machine struct {
		NumCPU    int    `json:"numCPU"`
		GOOS      string `json:"goos"`
		GOARCH    string `json:"goarch"`
		GoVersion string `json:"goVersion"`
	} `json:"machine"`
	Flags struct {
		Clients   int      `json:"clients"`
		Duration  string   `json:"duration"`
		Requests  int64    `json:"requests"`
		ESIMs     int      `json:"esims"`
		Scenarios []string `json:"scenarios"`
	} `json:"flags"`
	Scenarios []benchResult `json:"scenarios"`
	Scale     *benchScale   `json:"scale,omitempty"`
}

// benchScale is what --scale measured beside the scenarios.
type benchScale struct {
	ESIMs         int     `json:"esims"`
	Assignments   int     `json:"assignments"`
	HistoryRows   int     `json:"historyRows"`
	SeedSeconds   float64 `json:"seedSeconds"`
	DatabaseBytes int64   `json:"databaseBytes"`
	PeakRSSBytes  int64   `json:"peakRSSBytes"` // the whole process: server, clients and seeding
}

// peakRSS is the process's peak resident memory (Linux VmHWM), 0 elsewhere.
func peakRSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kb int64
			fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
			return kb * 1024
		}
	}
	return 0
}

// benchScenario is a request a client repeats: next builds the i-th one.
type benchScenario struct {
	name, describe string
	base           string // server URL
	next           func(i int64) (method, path string, body []byte)
}

// bench runs the load harness: the real HTTP handler over a fresh SQLite
// database in a temporary directory, driven over loopback by concurrent
// clients, next to a minimal net/http handler measured in the same run.
func (e env) bench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("esimd bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	clients := fs.Int("clients", 8, "concurrent clients per scenario")
	duration := fs.Duration("duration", 5*time.Second, "how long each scenario runs (ignored with --requests)")
	requests := fs.Int64("requests", 0, "requests per scenario instead of a duration; 0 uses --duration")
	nESIMs := fs.Int("esims", 1000, "eSIMs seeded for the esim scenario")
	scenarioList := fs.String("scenarios", strings.Join(benchScenarioNames, ","), "comma-separated scenarios to run; the baseline always runs")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	logLevel := fs.String("log-level", "error", "server log level: debug, info, warn or error")
	scale := fs.Int("scale", 0, "also seed this many eSIMs in bulk (2 assignments and 10 history rows each) and measure reads at that size; 0 skips it")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: bench takes no arguments, got %q", errUsage, fs.Args())
	}
	switch {
	case *clients < 1 || *clients > 1024:
		return fmt.Errorf("%w: --clients must be 1 to 1024, got %d", errUsage, *clients)
	case *requests < 0:
		return fmt.Errorf("%w: --requests must be 0 (use --duration) or more, got %d", errUsage, *requests)
	case *requests == 0 && (*duration <= 0 || *duration > time.Hour):
		return fmt.Errorf("%w: --duration must be more than 0 and at most 1h, got %s", errUsage, *duration)
	case *nESIMs < 1 || *nESIMs > 1_000_000:
		return fmt.Errorf("%w: --esims must be 1 to 1000000, got %d", errUsage, *nESIMs)
	case *scale < 0 || *scale > 2_000_000:
		return fmt.Errorf("%w: --scale must be 0 to 2000000, got %d", errUsage, *scale)
	}
	selected := map[string]bool{"baseline": true}
	for _, s := range strings.Split(*scenarioList, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(benchScenarioNames, s) {
			return fmt.Errorf("%w: unknown scenario %q; choose from %s", errUsage, s, strings.Join(benchScenarioNames, ", "))
		}
		selected[s] = true
	}
	log, err := e.logger(common{logLevel: *logLevel}, "text")
	if err != nil {
		return err
	}

	dir, err := os.MkdirTemp("", "esimd-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	dbPath := filepath.Join(dir, "esimd.db")
	a, err := open(ctx, dbPath, log)
	if err != nil {
		return err
	}
	defer a.Close()
	secret, _, err := notify.LoadSecretKey("", dbPath)
	if err != nil {
		return err
	}
	callbacks := newNotify(a, secret, false, log)
	d, err := demodata.Load()
	if err != nil {
		return fmt.Errorf("load demo catalogue: %w", err)
	}
	if err := a.catalogue.Import(ctx, d); err != nil {
		return fmt.Errorf("import demo catalogue: %w", err)
	}
	org, _, err := a.orgs.Create(ctx, orgs.NewOrganisation{
		Name: "Bench", Currency: "USD", Sandbox: true, StartingBalance: money.FromUnits(1_000_000_000_000),
		RefundsEnabled: true, APIKey: benchKey, KeyLabel: "bench",
	})
	if err != nil {
		return fmt.Errorf("create the benchmark organisation: %w", userError(err))
	}
	sb := sandbox.NewService(a.db, a.esims, a.catalogue, time.Now, callbacks)
	srv := httpapi.New(httpapi.Config{
		Orgs: a.orgs, Catalogue: a.catalogue, ESIMs: a.esims, Orders: a.orders, Logger: log,
		Idempotency: idempotency.NewService(a.db, time.Now),
		Sandbox:     sb, Notify: callbacks, RateLimit: 0, Health: a.db.Ping,
	})
	workCtx, stopWork := context.WithCancel(ctx)
	defer stopWork()
	a.worker.Start(workCtx)
	defer a.worker.Stop()

	apiURL, stopAPI, err := serveLoopback(srv.Handler())
	if err != nil {
		return err
	}
	defer stopAPI()
	baseURL, stopBase, err := serveLoopback(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	if err != nil {
		return err
	}
	defer stopBase()

	var report benchReport
	// Seed what the scenarios read and consume.
	var iccids, attached []string
	if selected["esim"] || selected["usage"] {
		n := *nESIMs
		if !selected["esim"] {
			n = min(n, 200)
		}
		fmt.Fprintf(e.stderr, "bench: seeding %d eSIMs\n", n)
		for len(iccids) < n {
			q := min(orders.AsyncThreshold, n-len(iccids))
			placed, err := a.orders.Place(ctx, org.ID, orders.Request{Type: "transaction", Assign: true,
				Lines: []orders.LineRequest{{Type: "bundle", Item: benchBundle, Quantity: q}}}, "")
			if err != nil {
				return fmt.Errorf("seed eSIMs: %w", userError(err))
			}
			for _, es := range placed.ESIMs[0] {
				iccids = append(iccids, es.ICCID)
			}
		}
	}
	if selected["usage"] {
		n := min(len(iccids), 200)
		fmt.Fprintf(e.stderr, "bench: installing and attaching %d eSIMs\n", n)
		for _, iccid := range iccids[:n] {
			if _, err := sb.Install(ctx, org.ID, iccid, ""); err != nil {
				return fmt.Errorf("install %s: %w", iccid, userError(err))
			}
			if _, err := sb.Attach(ctx, org.ID, iccid, sandbox.Where{Country: "GB"}); err != nil {
				return fmt.Errorf("attach %s: %w", iccid, userError(err))
			}
			attached = append(attached, iccid)
		}
	}
	if selected["apply"] {
		// Enough inventory that the scenario does not run dry: the count
		// asked for, or a generous rate times the duration.
		units := *requests
		if units == 0 {
			units = int64(duration.Seconds()*4000) + 1000
		}
		fmt.Fprintf(e.stderr, "bench: buying %d bundles into inventory\n", units)
		for left := units; left > 0; left -= 1000 {
			q := int(min(left, 1000))
			if _, err := a.orders.Place(ctx, org.ID, orders.Request{Type: "transaction", Assign: false,
				Lines: []orders.LineRequest{{Type: "bundle", Item: benchBundle, Quantity: q}}}, ""); err != nil {
				return fmt.Errorf("buy inventory: %w", userError(err))
			}
		}
	}

	var scaleFirst int64
	if *scale > 0 {
		first, err := a.db.NextCounter(ctx, "sandbox_iccid", int64(*scale))
		if err != nil {
			return err
		}
		scaleFirst = first
		b, _ := a.catalogue.Current(ctx).Bundle(benchBundle)
		fmt.Fprintf(e.stderr, "bench: seeding %d eSIMs, %d assignments and %d history rows in bulk\n", *scale, 2**scale, 10**scale)
		t0 := time.Now()
		if err := a.db.SeedESIMs(ctx, org.ID, b, first, store.SeedSize{ESIMs: *scale, AssignmentsPer: 2, HistoryPer: 10}, time.Now()); err != nil {
			return fmt.Errorf("seed at scale: %w", err)
		}
		report.Scale = &benchScale{ESIMs: *scale, Assignments: 2 * *scale, HistoryRows: 10 * *scale, SeedSeconds: time.Since(t0).Seconds()}
		for _, n := range []string{"esim-at-scale", "esim-list-at-scale", "esim-bundles-at-scale"} {
			selected[n] = true
		}
	}
	scaleICCID := func(i int64) string {
		// A spread-out pick (Knuth's multiplicative hash) so that reads do
		// not walk the table in order.
		k := (uint64(i) * 2654435761) % uint64(*scale)
		id, _ := esimid.NewICCID(fmt.Sprintf("8999901%011d", scaleFirst+int64(k)))
		return id.String()
	}
	get := func(path string) func(int64) (string, string, []byte) {
		return func(int64) (string, string, []byte) { return "GET", path, nil }
	}
	post := func(path, body string) func(int64) (string, string, []byte) {
		b := []byte(body)
		return func(int64) (string, string, []byte) { return "POST", path, b }
	}
	orderBody := func(typ string) string {
		return `{"type":"` + typ + `","assign":true,"order":[{"type":"bundle","item":"` + benchBundle + `","quantity":1}]}`
	}
	all := map[string]benchScenario{
		"baseline":       {describe: "GET / (minimal net/http handler)", base: baseURL, next: get("/")},
		"catalogue-page": {describe: "GET /v2.5/catalogue?perPage=50", base: apiURL, next: get("/v2.5/catalogue?perPage=50")},
		"bundle":         {describe: "GET /v2.5/catalogue/bundle/" + benchBundle, base: apiURL, next: get("/v2.5/catalogue/bundle/" + benchBundle)},
		"esim": {describe: fmt.Sprintf("GET /v2.5/esims/{iccid} (%d eSIMs)", len(iccids)), base: apiURL,
			next: func(i int64) (string, string, []byte) {
				return "GET", "/v2.5/esims/" + iccids[i%int64(len(iccids))], nil
			}},
		"esim-at-scale": {describe: fmt.Sprintf("GET /v2.5/esims/{iccid} (%d eSIMs)", *scale), base: apiURL,
			next: func(i int64) (string, string, []byte) { return "GET", "/v2.5/esims/" + scaleICCID(i), nil }},
		"esim-list-at-scale": {describe: "GET /v2.5/esims?perPage=50&filterBy=iccid&filter=… (prefix search)", base: apiURL,
			next: func(i int64) (string, string, []byte) {
				return "GET", "/v2.5/esims?perPage=50&filterBy=iccid&filter=" + scaleICCID(i)[:15], nil
			}},
		"esim-bundles-at-scale": {describe: "GET /v2.5/esims/{iccid}/bundles", base: apiURL,
			next: func(i int64) (string, string, []byte) { return "GET", "/v2.5/esims/" + scaleICCID(i) + "/bundles", nil }},
		"order-validate": {describe: "POST /v2.5/orders validate", base: apiURL, next: post("/v2.5/orders", orderBody("validate"))},
		"order-assign":   {describe: "POST /v2.5/orders transaction, assign 1", base: apiURL, next: post("/v2.5/orders", orderBody("transaction"))},
		"apply":          {describe: "POST /v2.5/esims/apply from inventory", base: apiURL, next: post("/v2.5/esims/apply", `{"name":"`+benchBundle+`"}`)},
		"usage": {describe: fmt.Sprintf("POST /sandbox/v1/esims/{iccid}/usage (%d eSIMs)", len(attached)), base: apiURL,
			next: func(i int64) (string, string, []byte) {
				return "POST", "/sandbox/v1/esims/" + attached[i%int64(len(attached))] + "/usage", []byte(`{"bytes":1000}`)
			}},
	}

	report.Started = time.Now().UTC()
	report.Machine.NumCPU = runtime.NumCPU()
	report.Machine.GOOS, report.Machine.GOARCH, report.Machine.GoVersion = runtime.GOOS, runtime.GOARCH, runtime.Version()
	report.Flags.Clients, report.Flags.Duration, report.Flags.Requests, report.Flags.ESIMs = *clients, duration.String(), *requests, *nESIMs
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: 2 * *clients, MaxIdleConnsPerHost: *clients, IdleConnTimeout: 30 * time.Second,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}, Timeout: 60 * time.Second}
	defer client.CloseIdleConnections()
	var baseline float64
	names := slices.Clone(benchScenarioNames)
	if *scale > 0 {
		names = slices.Insert(names, slices.Index(names, "esim")+1, "esim-at-scale", "esim-list-at-scale", "esim-bundles-at-scale")
	}
	for _, name := range names {
		if !selected[name] {
			continue
		}
		sc := all[name]
		sc.name = name
		report.Flags.Scenarios = append(report.Flags.Scenarios, name)
		fmt.Fprintf(e.stderr, "bench: running %s\n", name)
		r, err := runScenario(ctx, client, sc, *clients, *duration, *requests)
		if err != nil {
			return err
		}
		if name == "baseline" {
			baseline = r.Throughput
		}
		if baseline > 0 {
			r.Ratio = r.Throughput / baseline
		}
		report.Scenarios = append(report.Scenarios, r)
	}

	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "scenario\trequests\terrors\treq/s\tp50 ms\tp95 ms\tp99 ms\tratio\t\n")
	for _, r := range report.Scenarios {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%.0f\t%.3f\t%.3f\t%.3f\t%.3f\t\n", r.Name, r.Requests, r.Errors, r.Throughput, r.P50Ms, r.P95Ms, r.P99Ms, r.Ratio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d CPUs, %s/%s, %s; %d clients, %s\n", report.Machine.NumCPU, report.Machine.GOOS, report.Machine.GOARCH,
		report.Machine.GoVersion, *clients, benchBound(*duration, *requests))
	if report.Scale != nil {
		if report.Scale.DatabaseBytes, err = a.db.Size(ctx); err != nil {
			return err
		}
		report.Scale.PeakRSSBytes = peakRSS()
		fmt.Fprintf(e.stdout, "at scale: %d eSIMs, %d assignments, %d history rows seeded in %.1f s; database %.1f MB; peak memory %.1f MB\n",
			report.Scale.ESIMs, report.Scale.Assignments, report.Scale.HistoryRows, report.Scale.SeedSeconds,
			float64(report.Scale.DatabaseBytes)/1e6, float64(report.Scale.PeakRSSBytes)/1e6)
	}
	for _, r := range report.Scenarios {
		if r.FirstError != "" {
			fmt.Fprintf(e.stderr, "bench: %s: %d errors, the first: %s\n", r.Name, r.Errors, r.FirstError)
		}
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(report, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("write --json: %w", err)
		}
	}
	return nil
}

func benchBound(d time.Duration, requests int64) string {
	if requests > 0 {
		return fmt.Sprintf("%d requests per scenario", requests)
	}
	return fmt.Sprintf("%s per scenario", d)
}

// serveLoopback serves h on a fresh 127.0.0.1 port and returns its URL and
// a function that shuts it down.
func serveLoopback(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("listen on loopback: %w", err)
	}
	hs := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = hs.Serve(ln) // ErrServerClosed once stopped
	}()
	stop := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := hs.Shutdown(ctx); err != nil {
			hs.Close()
		}
		<-done
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// runScenario drives sc with n clients until the duration has passed or,
// with requests > 0, until that many requests were sent.
func runScenario(ctx context.Context, client *http.Client, sc benchScenario, n int, d time.Duration, requests int64) (benchResult, error) {
	res := benchResult{Name: sc.name, Request: sc.describe}
	// Clients stop starting requests at the deadline but finish the ones
	// in flight: cancelling them would cut writes off half-way and make the
	// server log them as failures.
	deadline := time.Now().Add(d)
	done := func() bool { return ctx.Err() != nil || (requests == 0 && !time.Now().Before(deadline)) }
	var (
		issued   atomic.Int64
		errCount atomic.Int64
		firstErr sync.Once
		wg       sync.WaitGroup
	)
	lat := make([][]time.Duration, n)
	start := time.Now()
	for c := range n {
		wg.Go(func() {
			for !done() {
				i := issued.Add(1) - 1
				if requests > 0 && i >= requests {
					return
				}
				method, path, body := sc.next(i)
				t0 := time.Now()
				err := benchDo(ctx, client, method, sc.base+path, body)
				took := time.Since(t0)
				if err != nil && ctx.Err() != nil {
					return // interrupted: the caller's context is reported below
				}
				lat[c] = append(lat[c], took)
				if err != nil {
					errCount.Add(1)
					firstErr.Do(func() { res.FirstError = err.Error() })
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if err := ctx.Err(); err != nil {
		return res, err
	}
	all := slices.Concat(lat...)
	slices.Sort(all)
	res.Requests = int64(len(all))
	res.Errors = errCount.Load()
	res.Seconds = elapsed.Seconds()
	if elapsed > 0 {
		res.Throughput = float64(res.Requests) / elapsed.Seconds()
	}
	res.P50Ms, res.P95Ms, res.P99Ms = percentileMs(all, 0.50), percentileMs(all, 0.95), percentileMs(all, 0.99)
	return res, nil
}

// benchDo sends one request and reads the whole response; a status other
// than 2xx is an error.
func benchDo(ctx context.Context, client *http.Client, method, url string, body []byte) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", benchKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 300))
		_, _ = io.Copy(io.Discard, resp.Body)
		return fmt.Errorf("%s %s: status %d: %s", method, url, resp.StatusCode, bytes.TrimSpace(msg))
	}
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return errors.Join(errors.New("read response"), err)
	}
	return nil
}

// percentileMs is the q-quantile (nearest rank) of sorted durations, in
// milliseconds.
func percentileMs(sorted []time.Duration, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	i = max(0, min(i, len(sorted)-1))
	return float64(sorted[i]) / float64(time.Millisecond)
}
