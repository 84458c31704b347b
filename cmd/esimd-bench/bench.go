package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/esimd/esimd/esimid"
	"github.com/esimd/esimd/internal/app"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/events"
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
var benchScenarioNames = []string{"baseline", "catalogue-page", "bundle", "esim", "order-validate", "order-assign", "apply", "usage",
	"usage-batch", "callbacks"}

// benchIngestBatch is the default number of records in one usage-batch
// request.
const benchIngestBatch = 100

// benchResult is one scenario's figures.
type benchResult struct {
	Name    string `json:"name"`
	Engine  string `json:"engine,omitempty"` // sqlite or postgres; empty for the baseline
	Nodes   int    `json:"nodes"`            // esimd servers the clients were spread over
	Request string `json:"request"`
	// PerRequest is how many items (usage records) one request carries;
	// ItemsPerSecond is Throughput times that. Both are absent for
	// one-item requests.
	PerRequest     int     `json:"perRequest,omitempty"`
	ItemsPerSecond float64 `json:"itemsPerSecond,omitempty"`
	Requests       int64   `json:"requests"`
	Errors         int64   `json:"errors"`
	FirstError     string  `json:"firstError,omitempty"`
	Seconds        float64 `json:"seconds"`
	Throughput     float64 `json:"throughput"` // requests per second
	P50Ms          float64 `json:"p50Ms"`
	P95Ms          float64 `json:"p95Ms"`
	P99Ms          float64 `json:"p99Ms"`
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
		Databases []string `json:"databases"` // engines, in the order they ran
		Nodes     []int    `json:"nodes"`
		// IngestBatch is the records per usage-batch request.
		IngestBatch int `json:"ingestBatch"`
	} `json:"flags"`
	Scenarios []benchResult `json:"scenarios"`
	Scale     []benchScale  `json:"scale,omitempty"` // one per database, with --scale`
}

// benchScale is what --scale measured beside the scenarios.
type benchScale struct {
	Engine        string  `json:"engine"`
	ESIMs         int     `json:"esims"`
	Assignments   int     `json:"assignments"`
	HistoryRows   int     `json:"historyRows"`
	SeedSeconds   float64 `json:"seedSeconds"`
	DatabaseBytes int64   `json:"databaseBytes"`
	// SeedPeakRSSBytes is the process's peak resident memory up to the end
	// of seeding; PeakRSSBytes its peak while the scenarios ran, when the
	// kernel let the bench reset the mark after seeding (else the peak of
	// the whole run). Both cover the whole process: server and clients.
	SeedPeakRSSBytes int64 `json:"seedPeakRSSBytes"`
	PeakRSSBytes     int64 `json:"peakRSSBytes"`
	PeakRSSReset     bool  `json:"peakRSSReset"` // PeakRSSBytes excludes seeding
}

// resetPeakRSS returns memory the seeding freed to the system and sets the
// kernel's peak resident mark to what is resident now (Linux: "5" into
// clear_refs), so that the next peakRSS covers what follows. It reports
// whether the mark was reset.
func resetPeakRSS() bool {
	runtime.GC()
	debug.FreeOSMemory()
	return os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
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
	bases          []string // server URLs: request i goes to bases[i % len]
	next           func(i int64) (method, path string, body []byte)
	header         http.Header             // sent with every request, beside the API key
	check          func(body []byte) error // a 2xx answer that still reports a failure
	perRequest     int                     // items per request, when more than one
	// run replaces the request loop for scenarios that are not
	// request/response (callback deliveries).
	run func(ctx context.Context) (benchResult, error)
}

// bench runs the load harness: the real HTTP handler over a fresh SQLite
// database in a temporary directory, driven over loopback by concurrent
// clients, next to a minimal net/http handler measured in the same run.
func (e env) bench(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("esimd-bench", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	var opts benchOptions
	fs.IntVar(&opts.clients, "clients", 8, "concurrent clients per scenario")
	fs.DurationVar(&opts.duration, "duration", 5*time.Second, "how long each scenario runs (ignored with --requests)")
	fs.Int64Var(&opts.requests, "requests", 0, "requests per scenario instead of a duration; 0 uses --duration")
	fs.IntVar(&opts.esims, "esims", 1000, "eSIMs seeded for the esim scenario; the usage scenarios spread their records over up to 1,000 of them")
	scenarioList := fs.String("scenarios", strings.Join(benchScenarioNames, ","), "comma-separated scenarios to run; the baseline always runs")
	dbList := fs.String("db", "sqlite", "comma-separated databases to run on, one after the other: sqlite (a temporary file) or a postgres:// URL (a throwaway schema in it)")
	nodeList := fs.String("nodes", "1", "comma-separated node counts: the scenarios run once per count, on a fresh database, their clients spread over that many esimd servers on it")
	jsonOut := fs.String("json", "", "also write the results as JSON to this file")
	logLevel := fs.String("log-level", "error", "server log level: debug, info, warn or error")
	fs.IntVar(&opts.callbackRate, "callback-rate", 5000, "events per second the callbacks scenario offers to the delivery workers")
	fs.IntVar(&opts.ingestBatch, "ingest-batch", benchIngestBatch, "usage records per usage-batch request")
	fs.IntVar(&opts.scale, "scale", 0, "also seed this many eSIMs in bulk (2 assignments and 10 history rows each) and measure reads at that size; 0 skips it")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (server and clients) to this file, for go tool pprof")
	if err := e.parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: bench takes no arguments, got %q", errUsage, fs.Args())
	}
	switch {
	case opts.clients < 1 || opts.clients > 1024:
		return fmt.Errorf("%w: --clients must be 1 to 1024, got %d", errUsage, opts.clients)
	case opts.requests < 0:
		return fmt.Errorf("%w: --requests must be 0 (use --duration) or more, got %d", errUsage, opts.requests)
	case opts.requests == 0 && (opts.duration <= 0 || opts.duration > time.Hour):
		return fmt.Errorf("%w: --duration must be more than 0 and at most 1h, got %s", errUsage, opts.duration)
	case opts.esims < 1 || opts.esims > 1_000_000:
		return fmt.Errorf("%w: --esims must be 1 to 1000000, got %d", errUsage, opts.esims)
	case opts.ingestBatch < 1 || opts.ingestBatch > esims.MaxIngestBatch:
		return fmt.Errorf("%w: --ingest-batch must be 1 to %d records, got %d", errUsage, esims.MaxIngestBatch, opts.ingestBatch)
	case opts.callbackRate < 1 || opts.callbackRate > 1_000_000:
		return fmt.Errorf("%w: --callback-rate must be 1 to 1000000 events per second, got %d", errUsage, opts.callbackRate)
	case opts.scale < 0 || opts.scale > 2_000_000:
		return fmt.Errorf("%w: --scale must be 0 to 2000000, got %d", errUsage, opts.scale)
	}
	opts.selected = map[string]bool{"baseline": true}
	for _, s := range strings.Split(*scenarioList, ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !slices.Contains(benchScenarioNames, s) {
			return fmt.Errorf("%w: unknown scenario %q; choose from %s", errUsage, s, strings.Join(benchScenarioNames, ", "))
		}
		opts.selected[s] = true
	}
	var targets []string
	for _, t := range strings.Split(*dbList, ",") {
		t = strings.TrimSpace(t)
		if t != "sqlite" && !store.IsPostgres(t) {
			return fmt.Errorf("%w: --db takes sqlite or postgres:// URLs, got %q", errUsage, t)
		}
		targets = append(targets, t)
	}
	for _, s := range strings.Split(*nodeList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 16 {
			return fmt.Errorf("%w: --nodes takes node counts from 1 to 16, got %q", errUsage, s)
		}
		opts.nodes = append(opts.nodes, n)
	}
	log, err := e.logger(*logLevel)
	if err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}

	var report benchReport
	report.Started = time.Now().UTC()
	report.Machine.NumCPU = runtime.NumCPU()
	report.Machine.GOOS, report.Machine.GOARCH, report.Machine.GoVersion = runtime.GOOS, runtime.GOARCH, runtime.Version()
	report.Flags.Clients, report.Flags.Duration, report.Flags.Requests, report.Flags.ESIMs = opts.clients, opts.duration.String(), opts.requests, opts.esims
	report.Flags.Nodes, report.Flags.IngestBatch = opts.nodes, opts.ingestBatch
	for _, t := range targets {
		report.Flags.Databases = append(report.Flags.Databases, engineName(t))
	}
	client := &http.Client{Transport: &http.Transport{
		MaxIdleConns: 2 * opts.clients, MaxIdleConnsPerHost: opts.clients, IdleConnTimeout: 30 * time.Second,
		DialContext: (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
	}, Timeout: 60 * time.Second}
	defer client.CloseIdleConnections()

	// The baseline first, once: every other figure is a ratio to it.
	baseURL, stopBase, err := serveLoopback(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"ok"}`))
	}))
	if err != nil {
		return err
	}
	defer stopBase()
	report.Flags.Scenarios = append(report.Flags.Scenarios, "baseline")
	fmt.Fprintf(e.stderr, "bench: running baseline\n")
	baseline, err := runScenario(ctx, client, benchScenario{name: "baseline", describe: "GET / (minimal net/http handler)",
		bases: []string{baseURL}, next: func(int64) (string, string, []byte) { return "GET", "/", nil }}, opts.clients, opts.duration, opts.requests)
	if err != nil {
		return err
	}
	baseline.Nodes, baseline.Ratio = 1, 1
	report.Scenarios = append(report.Scenarios, baseline)

	names := slices.Clone(benchScenarioNames[1:])
	if opts.scale > 0 {
		names = slices.Insert(names, slices.Index(names, "esim")+1, "esim-at-scale", "esim-page-at-scale", "esim-list-at-scale", "esim-bundles-at-scale")
	}
	// Each database and node count gets a fresh deployment, so that no
	// measurement runs on tables an earlier one has grown.
	for _, target := range targets {
		for _, n := range opts.nodes {
			d, err := e.deploy(ctx, target, n, opts, log)
			if err != nil {
				return err
			}
			err = func() error {
				defer d.Close()
				scenarios := d.scenarios(opts)
				for _, name := range names {
					sc, ok := scenarios[name]
					if !ok {
						continue
					}
					sc.name, sc.bases = name, d.urls
					if !slices.Contains(report.Flags.Scenarios, name) {
						report.Flags.Scenarios = append(report.Flags.Scenarios, name)
					}
					fmt.Fprintf(e.stderr, "bench: running %s on %s, %d node(s)\n", name, d.engine, n)
					var r benchResult
					if sc.run != nil {
						r, err = sc.run(ctx)
						r.Name, r.Request = name, sc.describe
					} else {
						r, err = runScenario(ctx, client, sc, opts.clients, opts.duration, opts.requests)
					}
					if err != nil {
						return err
					}
					if sc.perRequest > 1 {
						r.PerRequest, r.ItemsPerSecond = sc.perRequest, r.Throughput*float64(sc.perRequest)
					}
					r.Engine, r.Nodes = string(d.engine), n
					if baseline.Throughput > 0 {
						r.Ratio = r.Throughput / baseline.Throughput
					}
					report.Scenarios = append(report.Scenarios, r)
				}
				if d.scale != nil {
					size, err := d.apps[0].DB.Size(ctx)
					if err != nil {
						return err
					}
					d.scale.DatabaseBytes, d.scale.PeakRSSBytes = size, peakRSS()
					report.Scale = append(report.Scale, *d.scale)
				}
				return nil
			}()
			if err != nil {
				return err
			}
		}
	}

	tw := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(tw, "scenario\tdb\tnodes\trequests\terrors\treq/s\titems/s\tp50 ms\tp95 ms\tp99 ms\tratio\t\n")
	for _, r := range report.Scenarios {
		db := r.Engine
		if db == "" {
			db = "-"
		}
		items := ""
		if r.PerRequest > 1 {
			items = fmt.Sprintf("%.0f", r.ItemsPerSecond)
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%.0f\t%s\t%.3f\t%.3f\t%.3f\t%.3f\t\n", r.Name, db, r.Nodes, r.Requests, r.Errors, r.Throughput, items, r.P50Ms, r.P95Ms, r.P99Ms, r.Ratio)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d CPUs, %s/%s, %s; %d clients, %s\n", report.Machine.NumCPU, report.Machine.GOOS, report.Machine.GOARCH,
		report.Machine.GoVersion, opts.clients, benchBound(opts.duration, opts.requests))
	for _, s := range report.Scale {
		serving := "while serving"
		if !s.PeakRSSReset {
			serving = "over the whole run"
		}
		fmt.Fprintf(e.stdout, "at scale on %s: %d eSIMs, %d assignments, %d history rows seeded in %.1f s; database %.1f MB; peak memory %.1f MB seeding, %.1f MB %s\n",
			s.Engine, s.ESIMs, s.Assignments, s.HistoryRows, s.SeedSeconds, float64(s.DatabaseBytes)/1e6,
			float64(s.SeedPeakRSSBytes)/1e6, float64(s.PeakRSSBytes)/1e6, serving)
	}
	for _, r := range report.Scenarios {
		if r.FirstError != "" {
			fmt.Fprintf(e.stderr, "bench: %s on %s, %d node(s): %d errors, the first: %s\n", r.Name, r.Engine, r.Nodes, r.Errors, r.FirstError)
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

// benchOptions are the bench's flags, checked.
type benchOptions struct {
	clients  int
	duration time.Duration
	requests int64
	esims    int
	scale    int
	nodes    []int
	// callbackRate is the events per second the callbacks scenario offers.
	callbackRate int
	// ingestBatch is the records per usage-batch request.
	ingestBatch int
	selected    map[string]bool
}

// engineName names a --db entry without its URL (which may hold a password).
func engineName(target string) string {
	if store.IsPostgres(target) {
		return string(store.EnginePostgres)
	}
	return string(store.EngineSQLite)
}

// benchDeployment is one fresh database with one or more esimd servers on
// it, seeded for the scenarios.
type benchDeployment struct {
	engine     store.Engine
	apps       []*app.App
	urls       []string // one API server per node
	org        orgs.ID
	scale      *benchScale
	iccids     []string // seeded eSIMs for the esim scenario
	attached   []string // installed and attached eSIMs for the usage scenario
	scaleFirst int64
	closers    []func()

	adminToken string         // for usage-batch, through the admin API
	receiver   *benchReceiver // where the callbacks organisation's callbacks go
	hooksOrg   orgs.ID        // the organisation whose events the callbacks scenario sends
}

// Close stops the servers and workers and removes the database.
func (d *benchDeployment) Close() {
	for i := len(d.closers) - 1; i >= 0; i-- {
		d.closers[i]()
	}
}

// deploy creates a fresh database for target (a temporary SQLite file, or
// a throwaway schema in a PostgreSQL database), starts the servers on it
// and seeds what the selected scenarios read and consume.
func (e env) deploy(ctx context.Context, target string, nodes int, opts benchOptions, log *slog.Logger) (_ *benchDeployment, err error) {
	d := &benchDeployment{}
	defer func() {
		if err != nil {
			d.Close()
		}
	}()
	var dsn string
	if target == "sqlite" {
		dir, err := os.MkdirTemp("", "esimd-bench-")
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, func() { os.RemoveAll(dir) })
		dsn = filepath.Join(dir, "esimd.db")
	} else {
		var drop func()
		dsn, drop, err = benchSchema(ctx, target)
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, drop)
	}
	// One secret key for every node, as a multi-node deployment has.
	secret := make([]byte, notify.SecretKeySize)
	if _, err := rand.Read(secret); err != nil {
		return nil, err
	}
	var tok [16]byte
	_, _ = rand.Read(tok[:])
	d.adminToken = hex.EncodeToString(tok[:])
	if opts.selected["callbacks"] {
		d.receiver = newBenchReceiver()
		url, stop, err := serveLoopback(d.receiver)
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, stop)
		d.receiver.url = url
	}
	workCtx, stopWork := context.WithCancel(ctx)
	d.closers = append(d.closers, stopWork)
	for i := range nodes {
		// The first node imports the catalogue; the others open after it
		// and load it. Deliveries run on every node, as under esimd serve;
		// the benchmark organisation has no callback URL, so its events
		// are settled without a request.
		a, err := app.New(ctx, app.Config{DB: dsn, Logger: log, SecretKey: secret, AdminToken: d.adminToken,
			NoSeedCatalogue: i > 0})
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, func() { a.Close() })
		d.apps = append(d.apps, a)
		d.engine = a.DB.Engine()
		if i == 0 {
			org, _, err := a.Accounts.CreateOrganisation(ctx, orgs.NewOrganisation{
				Name: "Bench", Currency: "USD", Sandbox: true, StartingBalance: money.FromUnits(1_000_000_000_000),
				RefundsEnabled: true, APIKey: benchKey, KeyLabel: "bench",
			})
			if err != nil {
				return nil, fmt.Errorf("create the benchmark organisation: %w", userError(err))
			}
			d.org = org.ID
			if d.receiver != nil {
				hooks, _, err := a.Accounts.CreateOrganisation(ctx, orgs.NewOrganisation{
					Name: "Bench callbacks", Currency: "USD", Sandbox: true, CallbackURL: d.receiver.url, CallbackVersion: orgs.CallbackV3,
				})
				if err != nil {
					return nil, fmt.Errorf("create the callbacks organisation: %w", userError(err))
				}
				d.hooksOrg = hooks.ID
			}
		}
		a.Start(workCtx)
		d.closers = append(d.closers, a.Stop)
		url, stop, err := serveLoopback(a.Handler())
		if err != nil {
			return nil, err
		}
		d.closers = append(d.closers, stop)
		d.urls = append(d.urls, url)
	}
	return d, e.seed(ctx, d, opts)
}

// seed prepares, through the first node, what the scenarios read and
// consume.
func (e env) seed(ctx context.Context, d *benchDeployment, opts benchOptions) error {
	a := d.apps[0]
	sb := a.Sandbox
	if opts.selected["esim"] || opts.selected["usage"] || opts.selected["usage-batch"] {
		n := opts.esims
		if !opts.selected["esim"] {
			n = min(n, 1000)
		}
		fmt.Fprintf(e.stderr, "bench: seeding %d eSIMs on %s\n", n, d.engine)
		for len(d.iccids) < n {
			q := min(orders.AsyncThreshold, n-len(d.iccids))
			placed, err := a.Orders.Place(ctx, d.org, orders.Request{Type: "transaction", Assign: true,
				Lines: []orders.LineRequest{{Type: "bundle", Item: benchBundle, Quantity: q}}}, "")
			if err != nil {
				return fmt.Errorf("seed eSIMs: %w", userError(err))
			}
			for _, es := range placed.ESIMs[0] {
				d.iccids = append(d.iccids, es.ICCID)
			}
		}
	}
	if opts.selected["usage"] || opts.selected["usage-batch"] {
		n := min(len(d.iccids), 1000) // a batch of up to 1,000 records meets each eSIM once
		fmt.Fprintf(e.stderr, "bench: installing and attaching %d eSIMs\n", n)
		for _, iccid := range d.iccids[:n] {
			if _, err := sb.Install(ctx, d.org, iccid, ""); err != nil {
				return fmt.Errorf("install %s: %w", iccid, userError(err))
			}
			if _, err := sb.Attach(ctx, d.org, iccid, sandbox.Where{Country: "GB"}); err != nil {
				return fmt.Errorf("attach %s: %w", iccid, userError(err))
			}
			d.attached = append(d.attached, iccid)
		}
	}
	if opts.selected["apply"] {
		// Enough inventory that the scenario does not run dry: the count
		// asked for, or a generous rate times the duration.
		units := opts.requests
		if units == 0 {
			units = int64(opts.duration.Seconds()*4000) + 1000
		}
		fmt.Fprintf(e.stderr, "bench: buying %d bundles into inventory\n", units)
		for left := units; left > 0; left -= 1000 {
			q := int(min(left, 1000))
			if _, err := a.Orders.Place(ctx, d.org, orders.Request{Type: "transaction", Assign: false,
				Lines: []orders.LineRequest{{Type: "bundle", Item: benchBundle, Quantity: q}}}, ""); err != nil {
				return fmt.Errorf("buy inventory: %w", userError(err))
			}
		}
	}
	if opts.scale > 0 {
		first, err := a.DB.NextCounter(ctx, "sandbox_iccid", int64(opts.scale))
		if err != nil {
			return err
		}
		d.scaleFirst = first
		b, _ := a.Catalogue.Current(ctx).Bundle(benchBundle)
		fmt.Fprintf(e.stderr, "bench: seeding %d eSIMs, %d assignments and %d history rows in bulk\n", opts.scale, 2*opts.scale, 10*opts.scale)
		t0 := time.Now()
		if err := a.DB.SeedESIMs(ctx, d.org, b, first, store.SeedSize{ESIMs: opts.scale, AssignmentsPer: 2, HistoryPer: 10}, time.Now()); err != nil {
			return fmt.Errorf("seed at scale: %w", err)
		}
		d.scale = &benchScale{Engine: string(d.engine), ESIMs: opts.scale, Assignments: 2 * opts.scale, HistoryRows: 10 * opts.scale,
			SeedSeconds: time.Since(t0).Seconds(), SeedPeakRSSBytes: peakRSS()}
		d.scale.PeakRSSReset = resetPeakRSS()
	}
	return nil
}

// scenarios are the requests the clients repeat against this deployment,
// by name; only the selected ones.
func (d *benchDeployment) scenarios(opts benchOptions) map[string]benchScenario {
	scaleICCID := func(i int64) string {
		// A spread-out pick (Knuth's multiplicative hash) so that reads do
		// not walk the table in order.
		k := (uint64(i) * 2654435761) % uint64(opts.scale)
		id, _ := esimid.NewICCID(fmt.Sprintf("8999901%011d", d.scaleFirst+int64(k)))
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
		"catalogue-page": {describe: "GET /v2.5/catalogue?perPage=50", next: get("/v2.5/catalogue?perPage=50")},
		"bundle":         {describe: "GET /v2.5/catalogue/bundle/" + benchBundle, next: get("/v2.5/catalogue/bundle/" + benchBundle)},
		"order-validate": {describe: "POST /v2.5/orders validate", next: post("/v2.5/orders", orderBody("validate"))},
		"order-assign":   {describe: "POST /v2.5/orders transaction, assign 1", next: post("/v2.5/orders", orderBody("transaction"))},
		"apply":          {describe: "POST /v2.5/esims/apply from inventory", next: post("/v2.5/esims/apply", `{"name":"`+benchBundle+`"}`)},
	}
	if len(d.iccids) > 0 {
		all["esim"] = benchScenario{describe: fmt.Sprintf("GET /v2.5/esims/{iccid} (%d eSIMs)", len(d.iccids)),
			next: func(i int64) (string, string, []byte) {
				return "GET", "/v2.5/esims/" + d.iccids[i%int64(len(d.iccids))], nil
			}}
	}
	if len(d.attached) > 0 {
		all["usage"] = benchScenario{describe: fmt.Sprintf("POST /sandbox/v1/esims/{iccid}/usage (%d eSIMs)", len(d.attached)),
			next: func(i int64) (string, string, []byte) {
				return "POST", "/sandbox/v1/esims/" + d.attached[i%int64(len(d.attached))] + "/usage", []byte(`{"bytes":1000}`)
			}}
	}
	if len(d.attached) > 0 {
		// Records spread over the attached eSIMs, unique IDs per run, the
		// time of the request: a charging feed sending as it goes.
		batch := int64(opts.ingestBatch)
		all["usage-batch"] = benchScenario{describe: fmt.Sprintf("POST /admin/v1/usage, %d records of 1 kB (%d eSIMs)", batch, len(d.attached)),
			header: http.Header{"Authorization": {"Bearer " + d.adminToken}}, perRequest: int(batch),
			next: func(i int64) (string, string, []byte) {
				var b bytes.Buffer
				at := time.Now().UTC().Format(time.RFC3339Nano)
				b.WriteString(`{"records":[`)
				for j := range batch {
					if j > 0 {
						b.WriteByte(',')
					}
					n := i*batch + j
					fmt.Fprintf(&b, `{"recordId":"bench-%d","iccid":"%s","bytes":1000,"country":"GB","timestamp":"%s"}`,
						n, d.attached[n%int64(len(d.attached))], at)
				}
				b.WriteString(`]}`)
				return "POST", "/admin/v1/usage", b.Bytes()
			},
			check: func(body []byte) error {
				var out struct{ Applied, Duplicate, Rejected int }
				if err := json.Unmarshal(body, &out); err != nil {
					return err
				}
				if int64(out.Applied) != batch {
					return fmt.Errorf("%d of %d records applied: %.300s", out.Applied, batch, body)
				}
				return nil
			}}
	}
	if d.receiver != nil {
		all["callbacks"] = benchScenario{describe: fmt.Sprintf("callback deliveries to a local receiver, %d events/s offered (10 per eSIM)", opts.callbackRate),
			run: func(ctx context.Context) (benchResult, error) {
				return d.deliverPaced(ctx, opts.callbackRate, opts.duration, opts.requests)
			}}
	}
	if opts.scale > 0 {
		all["esim-at-scale"] = benchScenario{describe: fmt.Sprintf("GET /v2.5/esims/{iccid} (%d eSIMs)", opts.scale),
			next: func(i int64) (string, string, []byte) { return "GET", "/v2.5/esims/" + scaleICCID(i), nil }}
		all["esim-page-at-scale"] = benchScenario{describe: "GET /v2.5/esims?perPage=50&page=1…20 (no filter: the count and a page)",
			next: func(i int64) (string, string, []byte) {
				return "GET", "/v2.5/esims?perPage=50&page=" + strconv.FormatInt(1+i%20, 10), nil
			}}
		all["esim-list-at-scale"] = benchScenario{describe: "GET /v2.5/esims?perPage=50&filterBy=iccid&filter=… (prefix search)",
			next: func(i int64) (string, string, []byte) {
				return "GET", "/v2.5/esims?perPage=50&filterBy=iccid&filter=" + scaleICCID(i)[:15], nil
			}}
		all["esim-bundles-at-scale"] = benchScenario{describe: "GET /v2.5/esims/{iccid}/bundles",
			next: func(i int64) (string, string, []byte) { return "GET", "/v2.5/esims/" + scaleICCID(i) + "/bundles", nil }}
	}
	for name := range all {
		if !opts.selected[name] && !strings.HasSuffix(name, "-at-scale") {
			delete(all, name)
		}
	}
	return all
}

// benchSchema creates a schema of its own in the PostgreSQL database at
// url and returns a URL that works in it, and a function that drops it.
func benchSchema(ctx context.Context, url string) (string, func(), error) {
	admin, err := sql.Open("pgx", url)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()
	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "esimd_bench_" + hex.EncodeToString(b[:])
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		return "", nil, fmt.Errorf("create a schema for the bench in PostgreSQL: %w", err)
	}
	drop := func() {
		if admin, err := sql.Open("pgx", url); err == nil {
			_, _ = admin.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
			admin.Close()
		}
	}
	u, err := neturl.Parse(url)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
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
				err := benchDo(ctx, client, method, sc.bases[i%int64(len(sc.bases))]+path, body, sc.header, sc.check)
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
func benchDo(ctx context.Context, client *http.Client, method, url string, body []byte, header http.Header, check func([]byte) error) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	req.Header.Set("X-API-Key", benchKey)
	for k, v := range header {
		req.Header[k] = v
	}
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
	if check == nil {
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return errors.Join(errors.New("read response"), err)
		}
		return nil
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return errors.Join(errors.New("read response"), err)
	}
	if err := check(b); err != nil {
		return fmt.Errorf("%s %s: %w", method, url, err)
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

// benchReceiver is the local callback endpoint of the callbacks scenario:
// it answers 200 at once and notes when each event first arrived.
type benchReceiver struct {
	url      string
	mu       sync.Mutex
	arrivals map[string]time.Time // X-Esimd-Event-Id → first arrival
	repeats  int                  // deliveries of an event that had arrived already
}

func newBenchReceiver() *benchReceiver {
	return &benchReceiver{arrivals: map[string]time.Time{}}
}

func (rc *benchReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	_, _ = io.Copy(io.Discard, r.Body)
	id := r.Header.Get("X-Esimd-Event-Id")
	rc.mu.Lock()
	if _, seen := rc.arrivals[id]; seen {
		rc.repeats++
	} else {
		rc.arrivals[id] = now
	}
	rc.mu.Unlock()
	w.WriteHeader(http.StatusOK)
}

// deliverPaced offers the callbacks organisation's events at a steady rate
// for the duration (or, with requests, until that many were offered): every
// 20 ms one transaction commits the events due by then, spread over eSIMs
// 10 events each so that each eSIM's stream stays ordered, and every node's
// delivery worker is woken. Then it waits for the receiver to have them all
// and reports deliveries per second from the first commit to the last
// arrival, and each event's latency from its commit to its arrival: under
// the rate it can sustain, latency stays flat; past it, a queue grows.
func (d *benchDeployment) deliverPaced(ctx context.Context, rate int, duration time.Duration, requests int64) (benchResult, error) {
	db := d.apps[0].DB
	committedAt := map[string]time.Time{}
	var ids []string
	start := time.Now()
	offered := 0
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		elapsed := time.Since(start)
		due := int(elapsed.Seconds() * float64(rate))
		if requests > 0 {
			due = min(due, int(requests))
		}
		if n := due - offered; n > 0 {
			var batch []string
			err := db.InTx(ctx, func(ctx context.Context) error {
				batch = batch[:0] // a retried transaction starts again
				at := time.Now()
				for i := offered; i < offered+n; i++ {
					iccid := fmt.Sprintf("8999902%011d", i/10)
					ev := esims.Event{OrgID: d.hooksOrg, ICCID: iccid, Kind: events.KindFirstAttachment,
						Payload: events.FirstAttachment{AlertType: events.KindFirstAttachment, ICCID: iccid}, At: at}
					if err := db.AddEvent(ctx, &ev); err != nil {
						return err
					}
					batch = append(batch, strconv.FormatInt(ev.ID, 10))
				}
				return nil
			})
			if err != nil {
				return benchResult{}, fmt.Errorf("emit callback events: %w", err)
			}
			now := time.Now()
			for _, id := range batch {
				committedAt[id] = now
			}
			ids = append(ids, batch...)
			offered += n
			for _, a := range d.apps {
				a.KickDeliveries()
			}
		}
		if (requests > 0 && int64(offered) >= requests) || (requests == 0 && elapsed >= duration) {
			break
		}
		select {
		case <-ctx.Done():
			return benchResult{}, ctx.Err()
		case <-tick.C:
		}
	}

	deadline := time.Now().Add(max(time.Minute, 20*duration))
	rc := d.receiver
	for {
		rc.mu.Lock()
		got, repeats := 0, rc.repeats
		for _, id := range ids {
			if _, ok := rc.arrivals[id]; ok {
				got++
			}
		}
		done := got == len(ids) || time.Now().After(deadline) || ctx.Err() != nil
		if !done {
			rc.mu.Unlock()
			time.Sleep(5 * time.Millisecond)
			continue
		}
		lat := make([]time.Duration, 0, got)
		last := start
		for _, id := range ids {
			if t, ok := rc.arrivals[id]; ok {
				lat = append(lat, t.Sub(committedAt[id]))
				if t.After(last) {
					last = t
				}
			}
		}
		rc.mu.Unlock()
		res := benchResult{Requests: int64(got), Errors: int64(len(ids)-got) + int64(repeats)}
		if res.Errors > 0 {
			res.FirstError = fmt.Sprintf("%d of %d events arrived by the deadline, %d more than once", got, len(ids), repeats)
		}
		slices.Sort(lat)
		res.Seconds = last.Sub(start).Seconds()
		if res.Seconds > 0 {
			res.Throughput = float64(got) / res.Seconds
		}
		res.P50Ms, res.P95Ms, res.P99Ms = percentileMs(lat, 0.50), percentileMs(lat, 0.95), percentileMs(lat, 0.99)
		return res, ctx.Err()
	}
}
