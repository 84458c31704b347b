package httpapi_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/esimd/esimd/internal/app/apptest"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/store"
	"github.com/esimd/esimd/internal/storetest"
)

// TestDatabaseOutageAnswers503: with PostgreSQL gone (its port closed and
// its connections dropped, as when it is stopped), every request answers
// 503 with Retry-After and a message, never 500, and /healthz says so.
func TestDatabaseOutageAnswers503(t *testing.T) {
	if storetest.Engine() != store.EnginePostgres {
		t.Skip("a PostgreSQL server going away; the SQLite disk-full mapping is tested in internal/store")
	}
	dsn := storetest.DSN(t)
	storetest.Open(t, dsn) // migrate
	proxy, via := storetest.NewProxy(t, dsn)
	env := apptest.New(t, apptest.Options{DSN: via, RealClock: true})
	_, key := env.CreateOrg(t, orgs.NewOrganisation{Name: "Acme", Currency: "USD", Sandbox: true, StartingBalance: money.MustParse("10")})
	_, other := env.CreateOrg(t, orgs.NewOrganisation{Name: "Beta", Currency: "USD", Sandbox: true})
	srv := env.Server
	send := func(method, path, key, body string) (int, http.Header, []byte) {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("X-API-Key", key)
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, b
	}
	if status, _, body := send("GET", "/v2.5/esims", key, ""); status != http.StatusOK {
		t.Fatalf("before the outage: %d %s", status, body)
	}
	proxy.Close()
	for _, tc := range []struct{ name, method, path, key, body string }{
		{"a read, key cached", "GET", "/v2.5/esims", key, ""},
		{"an order, key cached", "POST", "/v2.5/orders", key, `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`},
		{"a key not seen yet", "GET", "/v2.5/organisation", other, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, h, body := send(tc.method, tc.path, tc.key, tc.body)
			var m struct {
				Message string `json:"message"`
			}
			_ = json.Unmarshal(body, &m)
			if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || m.Message == "" {
				t.Fatalf("with the database gone: %d, Retry-After %q, body %s; want 503 with Retry-After and a message", status, h.Get("Retry-After"), body)
			}
		})
	}
	if status, _, body := send("GET", "/healthz", "", ""); status != http.StatusServiceUnavailable {
		t.Errorf("/healthz with the database gone: %d %s", status, body)
	}
}
