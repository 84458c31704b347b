package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestHome: GET / gives a browser a page that links the API reference,
// and API clients the gateway's JSON 403, as eSIM Go answers them.
func TestHome(t *testing.T) {
	e := newEnv(t, envOptions{})
	cases := []struct {
		name, accept string
		key          bool
		wantHTML     bool
	}{
		{"a browser", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", false, true},
		{"a browser with a key", "text/html", true, true},
		{"curl", "*/*", false, false},
		{"no Accept", "", false, false},
		{"a JSON client", "application/json", true, false},
		{"HTML refused", "text/html;q=0, application/json", false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := []string{"Accept", c.accept}
			if !c.key {
				h = append(h, "X-API-Key", "")
			}
			res := e.get("/", h...)
			if !c.wantHTML {
				if res.status != http.StatusForbidden || !strings.HasPrefix(res.header.Get("Content-Type"), "application/json") {
					t.Fatalf("status %d %s: %s; want the JSON 403", res.status, res.header.Get("Content-Type"), res.body)
				}
				res.message(t)
				return
			}
			if res.status != http.StatusOK || res.header.Get("Content-Type") != "text/html; charset=utf-8" {
				t.Fatalf("status %d %s: %s; want the entry page", res.status, res.header.Get("Content-Type"), res.body)
			}
			for _, link := range []string{`href="/docs"`, `href="/openapi.yaml"`} {
				if !strings.Contains(string(res.body), link) {
					t.Errorf("the page has no %s:\n%s", link, res.body)
				}
			}
		})
	}
	// Only the root: other unknown paths stay the gateway's 403 for browsers too.
	if res := e.get("/nope", "Accept", "text/html"); res.status != http.StatusForbidden {
		t.Errorf("GET /nope for a browser: %d", res.status)
	}
}
