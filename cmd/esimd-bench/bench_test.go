package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/esimd/esimd/internal/storetest"
)

// TestBench runs a very short bench of every scenario and checks the shape
// of what it reports, never the timings.
func TestBench(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr syncBuffer
	e := env{stdout: &stdout, stderr: &stderr}
	err := e.bench(context.Background(), []string{"--duration", "200ms", "--clients", "2", "--esims", "20", "--ingest-batch", "30", "--json", out})
	if err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatalf("decode %s: %v", out, err)
	}
	if rep.Machine.NumCPU < 1 || rep.Machine.GOOS == "" || rep.Machine.GOARCH == "" || rep.Machine.GoVersion == "" {
		t.Errorf("machine: %+v", rep.Machine)
	}
	if rep.Flags.Clients != 2 || rep.Flags.Duration != "200ms" || rep.Flags.ESIMs != 20 || rep.Flags.IngestBatch != 30 {
		t.Errorf("flags: %+v", rep.Flags)
	}
	if len(rep.Scenarios) != len(benchScenarioNames) {
		t.Fatalf("%d scenarios reported, want %d", len(rep.Scenarios), len(benchScenarioNames))
	}
	for i, r := range rep.Scenarios {
		if r.Name != benchScenarioNames[i] {
			t.Errorf("scenario %d is %q, want %q", i, r.Name, benchScenarioNames[i])
		}
		if r.Requests <= 0 || r.Errors != 0 || r.Throughput <= 0 || r.Ratio <= 0 || r.P99Ms < r.P50Ms {
			t.Errorf("%s: %+v", r.Name, r)
		}
		if !strings.Contains(stdout.String(), r.Name) {
			t.Errorf("table lacks %s:\n%s", r.Name, stdout.String())
		}
		wantPer := 0
		if r.Name == "usage-batch" {
			wantPer = 30
		}
		if r.PerRequest != wantPer || (wantPer > 0 && r.ItemsPerSecond != r.Throughput*float64(wantPer)) {
			t.Errorf("%s: %d items per request at %.0f items/s, want %d per request", r.Name, r.PerRequest, r.ItemsPerSecond, wantPer)
		}
	}
	if t.Failed() {
		t.Logf("stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
}

func TestBenchRequestsAndSubset(t *testing.T) {
	var stdout, stderr syncBuffer
	e := env{stdout: &stdout, stderr: &stderr}
	if err := e.bench(context.Background(), []string{"--requests", "30", "--clients", "3", "--esims", "5", "--scenarios", "esim,apply"}); err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s", err, stderr.String())
	}
	for _, want := range []string{"baseline", "esim", "apply", "30 requests per scenario"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
	if strings.Contains(stdout.String(), "order-assign") {
		t.Errorf("unselected scenario ran:\n%s", stdout.String())
	}
}

func TestBenchRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{{"--scenarios", "nope"}, {"--clients", "0"}, {"--duration", "0s"}, {"extra"},
		{"--nodes", "0"}, {"--nodes", "1,x"}, {"--callback-rate", "0"}, {"--db", "mysql://db"}, {"--db", "sqlite,"}} {
		var stdout, stderr syncBuffer
		e := env{stdout: &stdout, stderr: &stderr}
		if err := e.bench(context.Background(), args); !errors.Is(err, errUsage) {
			t.Errorf("bench %q: %v, want a usage error", args, err)
		}
	}
}

func TestBenchAtScale(t *testing.T) {
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr syncBuffer
	e := env{stdout: &stdout, stderr: &stderr}
	if err := e.bench(context.Background(), []string{"--requests", "40", "--clients", "2", "--esims", "5", "--scenarios", "esim", "--scale", "300", "--json", out}); err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Scale) != 1 || rep.Scale[0].ESIMs != 300 || rep.Scale[0].Assignments != 600 || rep.Scale[0].HistoryRows != 3000 || rep.Scale[0].DatabaseBytes <= 0 {
		t.Fatalf("scale section = %+v", rep.Scale)
	}
	got := map[string]benchResult{}
	for _, r := range rep.Scenarios {
		got[r.Name] = r
	}
	for _, name := range []string{"esim-at-scale", "esim-page-at-scale", "esim-list-at-scale", "esim-bundles-at-scale"} {
		if r, ok := got[name]; !ok || r.Requests != 40 || r.Errors != 0 {
			t.Errorf("%s: %+v (first error %q)", name, r, r.FirstError)
		}
	}
	if !strings.Contains(stdout.String(), "at scale on sqlite: 300 eSIMs") {
		t.Errorf("output lacks the scale line:\n%s", stdout.String())
	}
}

// TestBenchNodesAndDatabases spreads the clients over one and then two
// servers, on SQLite and (when the suite runs on it) on PostgreSQL, and
// checks that every combination is reported and the bench's PostgreSQL
// schema is gone afterwards.
func TestBenchNodesAndDatabases(t *testing.T) {
	dbs := []string{"sqlite"}
	pg := os.Getenv(storetest.PostgresEnv)
	if pg != "" {
		dbs = append(dbs, pg)
	}
	benchSchemas := func() int64 {
		if pg == "" {
			return 0
		}
		return storetest.OpenRaw(t, pg).Int(t, `SELECT count(*) FROM information_schema.schemata WHERE schema_name LIKE 'esimd_bench_%'`)
	}
	before := benchSchemas()
	out := filepath.Join(t.TempDir(), "bench.json")
	var stdout, stderr syncBuffer
	e := env{stdout: &stdout, stderr: &stderr}
	err := e.bench(context.Background(), []string{"--requests", "40", "--clients", "4", "--esims", "5",
		"--scenarios", "esim,order-assign", "--nodes", "1,2", "--db", strings.Join(dbs, ","), "--json", out})
	if err != nil {
		t.Fatalf("bench: %v\nstderr:\n%s", err, stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var rep benchReport
	if err := json.Unmarshal(b, &rep); err != nil {
		t.Fatal(err)
	}
	type key struct {
		name, engine string
		nodes        int
	}
	got := map[key]benchResult{}
	for _, r := range rep.Scenarios {
		got[key{r.Name, r.Engine, r.Nodes}] = r
	}
	if r, ok := got[key{"baseline", "", 1}]; !ok || r.Ratio != 1 {
		t.Errorf("baseline: %+v", r)
	}
	for _, db := range dbs {
		engine := engineName(db)
		for _, name := range []string{"esim", "order-assign"} {
			for _, nodes := range []int{1, 2} {
				r, ok := got[key{name, engine, nodes}]
				if !ok || r.Requests != 40 || r.Errors != 0 || r.Ratio <= 0 {
					t.Errorf("%s on %s with %d nodes: %+v (first error %q)", name, engine, nodes, r, r.FirstError)
				}
			}
		}
	}
	if len(rep.Scenarios) != 1+len(dbs)*4 {
		t.Errorf("%d rows, want %d", len(rep.Scenarios), 1+len(dbs)*4)
	}
	if strings.Contains(string(b), "postgres://") {
		t.Errorf("the report holds a database URL:\n%s", b)
	}
	if after := benchSchemas(); after != before {
		t.Errorf("%d bench schemas left in PostgreSQL, %d before", after, before)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writers.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
