package app_test

import (
	"context"
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/esimd/esimd/internal/app"
	"github.com/esimd/esimd/internal/app/apptest"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/storetest"
)

func call(t *testing.T, method, url, key, body string, headers ...string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

// scrape reads /metrics over HTTP and parses the exposition.
func scrape(t *testing.T, env *apptest.Env) map[string]*dto.MetricFamily {
	t.Helper()
	status, body := call(t, "GET", env.URL+"/metrics", "", "", "Authorization", "Bearer "+env.AdminToken)
	if status != http.StatusOK {
		t.Fatalf("GET /metrics: %d %s", status, body)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// value sums the samples of a family whose labels include want.
func value(fams map[string]*dto.MetricFamily, name string, want map[string]string) (float64, bool) {
	f, ok := fams[name]
	if !ok {
		return 0, false
	}
	sum, found := 0.0, false
next:
	for _, m := range f.Metric {
		labels := map[string]string{}
		for _, l := range m.Label {
			labels[l.GetName()] = l.GetValue()
		}
		for k, v := range want {
			if labels[k] != v {
				continue next
			}
		}
		found = true
		switch {
		case m.Counter != nil:
			sum += m.Counter.GetValue()
		case m.Gauge != nil:
			sum += m.Gauge.GetValue()
		case m.Histogram != nil:
			sum += float64(m.Histogram.GetSampleCount())
		}
	}
	return sum, found
}

func TestMetricsMoveWithRealTraffic(t *testing.T) {
	var received atomic.Int64
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		received.Add(1)
		io.WriteString(w, "ok")
	}))
	defer receiver.Close()
	env := apptest.New(t, apptest.Options{RealClock: true, Workers: app.Deliveries,
		Org: &orgs.NewOrganisation{Name: "Metrics", Currency: "USD", Sandbox: true, StartingBalance: money.MustParse("100"),
			CallbackURL: receiver.URL}})

	// Without the token, /metrics is refused with a message.
	if status, body := call(t, "GET", env.URL+"/metrics", "", ""); status != http.StatusUnauthorized || !strings.Contains(string(body), "admin token") {
		t.Fatalf("GET /metrics without the token: %d %s", status, body)
	}
	before := scrape(t, env)
	if _, ok := before["go_goroutines"]; !ok {
		t.Error("the Go runtime metrics are missing")
	}
	for _, name := range []string{"esimd_job_queue_due", "esimd_db_pool_open_connections"} {
		if _, ok := before[name]; !ok {
			t.Errorf("%s is missing", name)
		}
	}

	const orders = 3
	var iccids []string
	for range orders {
		status, body := call(t, "POST", env.URL+"/v2.5/orders", env.Key,
			`{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`)
		if status != http.StatusOK {
			t.Fatalf("order: %d %s", status, body)
		}
		var placed struct {
			Order []struct {
				ESIMs []struct {
					ICCID string `json:"iccid"`
				} `json:"esims"`
			} `json:"order"`
		}
		if err := json.Unmarshal(body, &placed); err != nil || len(placed.Order) == 0 || len(placed.Order[0].ESIMs) == 0 {
			t.Fatalf("order answer %s: %v", body, err)
		}
		iccids = append(iccids, placed.Order[0].ESIMs[0].ICCID)
	}
	// A validation is not an order; a bad body is an error of kind invalid.
	call(t, "POST", env.URL+"/v2.5/orders", env.Key, `{"type":"validate","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`)
	if status, _ := call(t, "POST", env.URL+"/v2.5/orders", env.Key, `{"type":`); status != http.StatusBadRequest {
		t.Fatalf("malformed order: %d", status)
	}
	// Usage through the sandbox: install, attach, use.
	for _, step := range []struct{ path, body string }{
		{"/install", `{}`}, {"/attach", `{"country":"GB"}`}, {"/usage", `{"megabytes":10}`},
	} {
		if status, body := call(t, "POST", env.URL+"/sandbox/v1/esims/"+iccids[0]+step.path, env.Key, step.body); status != http.StatusOK {
			t.Fatalf("sandbox %s: %d %s", step.path, status, body)
		}
	}
	// The events of the orders and the usage reach the receiver, and the
	// worker counts the delivery once the receiver has answered.
	var after map[string]*dto.MetricFamily
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		after = scrape(t, env)
		if n, _ := value(after, "esimd_callback_deliveries_total", map[string]string{"outcome": "delivered"}); n > 0 || time.Now().After(deadline) {
			break
		}
	}
	if received.Load() == 0 {
		t.Error("the receiver got no callback")
	}
	checks := []struct {
		name   string
		labels map[string]string
		delta  float64 // at least
		exact  bool
	}{
		{"esimd_http_requests_total", map[string]string{"surface": "api", "route": "POST /v2.5/orders", "status": "200"}, orders + 1, true},
		{"esimd_http_requests_total", map[string]string{"surface": "api", "route": "POST /v2.5/orders", "status": "400"}, 1, true},
		{"esimd_http_request_duration_seconds", map[string]string{"surface": "api", "route": "POST /v2.5/orders"}, orders + 2, true},
		{"esimd_http_errors_total", map[string]string{"surface": "api", "kind": "invalid"}, 1, true},
		{"esimd_orders_total", map[string]string{"currency": "USD"}, orders, true},
		{"esimd_order_bundles_total", nil, orders, true},
		{"esimd_order_amount_total", map[string]string{"currency": "USD"}, orders * 1.73, false},
		{"esimd_usage_records_total", nil, 1, true},
		{"esimd_callback_deliveries_total", map[string]string{"outcome": "delivered"}, 1, false},
		{"esimd_callback_event_to_delivery_seconds", nil, 1, false},
	}
	for _, c := range checks {
		was, _ := value(before, c.name, c.labels)
		now, ok := value(after, c.name, c.labels)
		if !ok {
			t.Errorf("%s%v: no sample after the traffic", c.name, c.labels)
			continue
		}
		got := now - was
		if (c.exact && (got < c.delta-1e-9 || got > c.delta+1e-9)) || (!c.exact && got < c.delta-1e-9) {
			t.Errorf("%s%v moved by %v, want %s%v", c.name, c.labels, got, map[bool]string{true: "", false: "at least "}[c.exact], c.delta)
		}
	}
}

func TestMetricsOpenWithoutAdminToken(t *testing.T) {
	env := apptest.New(t, apptest.Options{NoAdmin: true})
	if status, body := call(t, "GET", env.URL+"/metrics", "", ""); status != http.StatusOK || !strings.Contains(string(body), "esimd_job_queue_due") {
		t.Fatalf("GET /metrics: %d %.200s", status, body)
	}
}

func TestAccountsSealTheKeyTheyIssue(t *testing.T) {
	ctx := context.Background()
	env := apptest.New(t, apptest.Options{})
	o, issued, err := env.App.Accounts.CreateOrganisation(ctx, orgs.NewOrganisation{Name: "Sealed", Currency: "USD", Sandbox: true})
	if err != nil {
		t.Fatal(err)
	}
	if !issued.Sealed {
		t.Fatal("the first key was not sealed")
	}
	ep, err := env.App.Notify.Endpoint(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if ep.SigningKey == nil {
		t.Fatal("the organisation has no signing key after creation")
	}
	more, err := env.App.Accounts.IssueKey(ctx, o.ID, "second")
	if err != nil || !more.Sealed || more.Secret == "" || more.Key.ID == 0 {
		t.Fatalf("IssueKey: %+v, %v", more, err)
	}
	if _, err := env.App.Orgs.Authenticate(ctx, more.Secret); err != nil {
		t.Fatalf("the issued key does not authenticate: %v", err)
	}
	// A fixed key that another organisation uses is refused, and the
	// organisation it would have belonged to is not left behind.
	list, _ := env.App.Orgs.List(ctx)
	if _, _, err := env.App.Accounts.CreateOrganisation(ctx, orgs.NewOrganisation{Name: "Clash", Currency: "USD", APIKey: more.Secret}); err == nil {
		t.Fatal("a key in use was accepted for a new organisation")
	}
	if after, _ := env.App.Orgs.List(ctx); len(after) != len(list) {
		t.Fatalf("%d organisations after the refused creation, want %d", len(after), len(list))
	}
}

func TestAccountsWithoutSecretKeyLeaveKeysUnsealed(t *testing.T) {
	ctx := context.Background()
	a, err := app.New(ctx, app.Config{DB: storetest.DSN(t), Catalogue: ptr(apptest.Fixture())})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	o, issued, err := a.Accounts.CreateOrganisation(ctx, orgs.NewOrganisation{Name: "Unsigned", Currency: "USD"})
	if err != nil {
		t.Fatal(err)
	}
	if issued.Sealed {
		t.Fatal("Sealed without a secret key")
	}
	if _, err := a.Orgs.Get(ctx, o.ID); err != nil {
		t.Fatalf("the organisation was not created: %v", err)
	}
}

func ptr[T any](v T) *T { return &v }

// TestGraphIsBuiltOnlyByApp keeps the composition in one place: the server
// command, the load harness and the HTTP test harnesses may not construct
// services, workers or surfaces themselves.
func TestGraphIsBuiltOnlyByApp(t *testing.T) {
	banned := map[string][]string{
		"github.com/esimd/esimd/internal/orgs":        {"NewService"},
		"github.com/esimd/esimd/internal/catalogue":   {"NewService"},
		"github.com/esimd/esimd/internal/esims":       {"NewService", "NewWorker"},
		"github.com/esimd/esimd/internal/orders":      {"NewService"},
		"github.com/esimd/esimd/internal/notify":      {"New", "NewWorker"},
		"github.com/esimd/esimd/internal/sandbox":     {"NewService", "NewAutopilotWorker"},
		"github.com/esimd/esimd/internal/idempotency": {"NewService"},
		"github.com/esimd/esimd/internal/accounts":    {"NewService"},
		"github.com/esimd/esimd/internal/httpapi":     {"New"},
		"github.com/esimd/esimd/internal/adminapi":    {"New"},
	}
	dirs := []string{"cmd/esimd", "cmd/esimd-bench", "cmd/esimctl", "esimapi", "internal/httpapi", "internal/adminapi", "internal/apidoc"}
	root := filepath.Join("..", "..")
	fset := token.NewFileSet()
	for _, dir := range dirs {
		matches, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
		if err != nil || len(matches) == 0 {
			t.Fatalf("%s: no Go files (%v)", dir, err)
		}
		for _, path := range matches {
			inPackage := !strings.HasSuffix(path, "_test.go")
			if inPackage && strings.HasPrefix(dir, "internal/") {
				continue // the packages themselves define the constructors
			}
			f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			names := map[string]string{} // local name → import path
			for _, imp := range f.Imports {
				p, _ := strconv.Unquote(imp.Path.Value)
				name := p[strings.LastIndex(p, "/")+1:]
				if imp.Name != nil {
					name = imp.Name.Name
				}
				names[name] = p
			}
			ast.Inspect(f, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok {
					return true
				}
				x, ok := sel.X.(*ast.Ident)
				if !ok {
					return true
				}
				for _, fn := range banned[names[x.Name]] {
					if sel.Sel.Name == fn {
						t.Errorf("%s: %s.%s builds part of the graph; use internal/app (apptest in tests)", fset.Position(sel.Pos()), x.Name, fn)
					}
				}
				return true
			})
		}
	}
}
