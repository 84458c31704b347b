package httpapi_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

func TestAuthentication(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, secondKey, err := e.orgs.CreateAPIKey(context.Background(), e.org.ID, "second")
	if err != nil {
		t.Fatal(err)
	}
	revoked, revokedKey, err := e.orgs.CreateAPIKey(context.Background(), e.org.ID, "to revoke")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.orgs.RevokeAPIKey(context.Background(), e.org.ID, revoked.ID); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		path    string
		headers []string
		want    int
	}{
		{"canonical header", "/v2.5/organisation", nil, 200},
		{"lower-case header name", "/v2.5/organisation", []string{"X-API-Key", "", "x-api-key", e.key}, 200},
		{"upper-case header name", "/v2.5/organisation", []string{"X-API-Key", "", "X-API-KEY", e.key}, 200},
		{"query parameter", "/v2.1/organisation?api_key=" + e.key, []string{"X-API-Key", ""}, 200},
		{"query parameter on v2.5", "/v2.5/organisation?api_key=" + e.key, []string{"X-API-Key", ""}, 200},
		{"second key of the organisation", "/v2.5/organisation", []string{"X-API-Key", secondKey}, 200},
		{"missing key", "/v2.5/organisation", []string{"X-API-Key", ""}, 403},
		{"wrong key", "/v2.5/organisation", []string{"X-API-Key", e.key + "x"}, 403},
		{"revoked key", "/v2.5/organisation", []string{"X-API-Key", revokedKey}, 403},
		{"key with different case", "/v2.5/organisation", []string{"X-API-Key", strings.ToUpper(e.key)}, 403},
		{"missing key on catalogue", "/v2.4/catalogue", []string{"X-API-Key", ""}, 403},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := e.get(tc.path, tc.headers...)
			if res.status != tc.want {
				t.Fatalf("status %d, want %d: %s", res.status, tc.want, res.body)
			}
			if tc.want == 403 && !strings.Contains(res.message(t), "X-API-Key") {
				t.Errorf("message %q does not tell the caller to send X-API-Key", res.message(t))
			}
		})
	}
}

func TestUnknownRoutesAre403(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, tc := range []struct{ method, path string }{
		{"GET", "/v2.5/bundles"},
		{"GET", "/v2.5/products"},
		{"GET", "/v3/catalogue"},
		{"GET", "/"},
		{"DELETE", "/v2.5/catalogue"},
		{"POST", "/v2.5/organisation"},
		{"GET", "/v2.5/catalogue/bundle"},
	} {
		res := e.do(tc.method, tc.path, nil)
		if res.status != http.StatusForbidden {
			t.Errorf("%s %s: status %d, want 403", tc.method, tc.path, res.status)
			continue
		}
		if msg := res.message(t); !strings.Contains(msg, tc.path) {
			t.Errorf("%s %s: message %q does not name the path", tc.method, tc.path, msg)
		}
		if ct := res.header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("%s %s: Content-Type %q", tc.method, tc.path, ct)
		}
	}
}

func TestEveryVersionPrefixServes(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, v := range allVersions {
		for _, p := range []string{"/catalogue", "/catalogue/bundle/esim_1GB_7D_GB_V2", "/organisation", "/organisation/groups", "/networks?isos=GB"} {
			if res := e.get(v + p); res.status != 200 {
				t.Errorf("GET %s%s: status %d: %s", v, p, res.status, res.body)
			}
		}
	}
}

func TestHealthz(t *testing.T) {
	e := newEnv(t, envOptions{})
	res := e.get("/healthz", "X-API-Key", "")
	if res.status != 200 || !strings.Contains(string(res.body), `"ok"`) {
		t.Fatalf("healthz: %d %s", res.status, res.body)
	}
}

func TestRequestIDEchoed(t *testing.T) {
	e := newEnv(t, envOptions{})
	if got := e.get("/v2.5/organisation", "X-Request-Id", "abc-123").header.Get("X-Request-Id"); got != "abc-123" {
		t.Errorf("X-Request-Id echoed as %q, want abc-123", got)
	}
	if got := e.get("/v2.5/organisation", "X-Request-Id", "bad id\t").header.Get("X-Request-Id"); got == "" || strings.ContainsAny(got, " \t") {
		t.Errorf("unsafe X-Request-Id replaced by %q, want a generated ID", got)
	}
}
