package httpapi_test

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/app/apptest"
	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/contract"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/sandbox"
	"github.com/esimd/esimd/internal/store"
)

var update = flag.Bool("update", false, "rewrite golden files with the current responses")

// fixture is the harness's small catalogue (apptest.Fixture).
func fixture() catalogue.Data { return apptest.Fixture() }

// env is one running application (apptest) over a fresh database, called
// as the sandbox organisation "Acme Travel".
type env struct {
	t       testing.TB
	app     *apptest.Env
	srv     *httptest.Server
	db      *store.DB
	cat     *catalogue.Service
	esims   *esims.Service
	orders  *orders.Service
	sandbox *sandbox.Service
	notify  *notify.Service
	orgs    *orgs.Service
	org     orgs.Organisation
	key     string
	spec    *contract.Validator
	clock   *apptest.Clock
}

type envOptions struct {
	rateLimit int
	data      *catalogue.Data
	logger    *slog.Logger
}

func newEnv(t testing.TB, opt envOptions) *env {
	t.Helper()
	a := apptest.New(t, apptest.Options{Catalogue: opt.data, RateLimit: opt.rateLimit, Logger: opt.logger,
		Org: &orgs.NewOrganisation{Name: "Acme Travel", Currency: "USD", Sandbox: true, StartingBalance: money.MustParse("250.5"), APIKey: "esimd_test_acme_travel_key_0001"}})
	e := &env{t: t, app: a, srv: a.Server, db: a.App.DB, cat: a.App.Catalogue, esims: a.App.ESIMs, orders: a.App.Orders,
		sandbox: a.App.Sandbox, notify: a.App.Notify, orgs: a.App.Orgs, org: a.Org, key: a.Key, clock: a.Clock}
	if _, ok := t.(*testing.T); ok {
		e.spec = contract.IfPresent(t)
	}
	return e
}

func (e *env) advance(d time.Duration) { e.clock.Advance(d) }

// response is what a test inspects.
type response struct {
	status int
	header http.Header
	body   []byte
}

func (r response) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

func (r response) message(t testing.TB) string {
	t.Helper()
	var m struct {
		Message string `json:"message"`
	}
	r.json(t, &m)
	if m.Message == "" {
		t.Fatalf("error body %s has no message", r.body)
	}
	return m.Message
}

// do sends one request with the environment's key (unless headers set
// X-API-Key themselves) and validates the exchange against the vendor's
// OpenAPI documents.
func (e *env) do(method, path string, body io.Reader, headers ...string) response {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("X-API-Key", e.key)
	for i := 0; i+1 < len(headers); i += 2 {
		if headers[i+1] == "" {
			req.Header.Del(headers[i])
			continue
		}
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	if e.spec != nil && strings.HasPrefix(path, "/v2") && !undocumented(path) {
		if err := e.spec.Validate(req, res.StatusCode, res.Header, b); err != nil {
			e.t.Errorf("%s %s: response does not match the eSIM Go documents:\n%v", method, path, err)
		}
	}
	return response{status: res.StatusCode, header: res.Header, body: b}
}

func (e *env) get(path string, headers ...string) response {
	e.t.Helper()
	return e.do(http.MethodGet, path, nil, headers...)
}

// golden compares a JSON body with testdata/golden/name.json.
func golden(t testing.TB, name string, body []byte) {
	t.Helper()
	var pretty bytes.Buffer
	if err := json.Indent(&pretty, body, "", "  "); err != nil {
		t.Fatalf("%s: body is not JSON: %v\n%s", name, err, body)
	}
	pretty.WriteByte('\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, pretty.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), pretty.String()); diff != "" {
		t.Errorf("%s differs from its golden file (-want +got):\n%s", name, diff)
	}
}

// undocumented reports routes that no vendor document describes (legacy
// routes seen only in old client code), which the validator cannot check.
func undocumented(path string) bool {
	p, _, _ := strings.Cut(path, "?")
	i := strings.Index(p[1:], "/")
	rest := "/"
	if i >= 0 {
		rest = p[1+i:]
	}
	return rest == "/" || (strings.HasPrefix(rest, "/organisation/groups/") && strings.HasSuffix(rest, "/countries"))
}

var allVersions = []string{"/v2", "/v2.1", "/v2.2", "/v2.3", "/v2.4", "/v2.5"}
