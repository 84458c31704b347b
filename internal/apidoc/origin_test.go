package apidoc_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/esimd/esimd/internal/apidoc"
)

// TestDocumentsNameTheServer: /openapi.yaml and /docs name the server the
// request reached (scheme from TLS or X-Forwarded-Proto, host from the
// request), not a fixed http://localhost:8080, and a made-up Host is not
// written into them.
func TestDocumentsNameTheServer(t *testing.T) {
	h := apidoc.Handler()
	cases := []struct {
		name, host, proto string
		tls               bool
		want              string
	}{
		{"plain", "esimd.example.net:8080", "", false, "http://esimd.example.net:8080"},
		{"loopback", "127.0.0.1:54321", "", false, "http://127.0.0.1:54321"},
		{"IPv6", "[::1]:8080", "", false, "http://[::1]:8080"},
		{"TLS", "api.example.net", "", true, "https://api.example.net"},
		{"behind a TLS proxy", "api.example.net", "https", false, "https://api.example.net"},
		{"proxy list", "api.example.net", "https, http", false, "https://api.example.net"},
		{"proxy says http", "api.example.net", "http", false, "http://api.example.net"},
		{"markup in Host", `x"><script>`, "", false, "http://localhost:8080"},
		{"YAML in Host", "x\n  - url: http://evil", "", false, "http://localhost:8080"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			get := func(path string) string {
				r := httptest.NewRequest(http.MethodGet, path, nil)
				r.Host = c.host
				if c.proto != "" {
					r.Header.Set("X-Forwarded-Proto", c.proto)
				}
				if c.tls {
					r.TLS = &tls.ConnectionState{}
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					t.Fatalf("GET %s: %d %s", path, w.Code, w.Body)
				}
				return w.Body.String()
			}
			doc, err := openapi3.NewLoader().LoadFromData([]byte(get("/openapi.yaml")))
			if err != nil {
				t.Fatal(err)
			}
			if len(doc.Servers) != 1 || doc.Servers[0].URL != c.want {
				t.Errorf("/openapi.yaml servers %+v, want %s", doc.Servers, c.want)
			}
			page := get("/docs")
			if !strings.Contains(page, "Server: <code>"+c.want+"</code>") || !strings.Contains(page, "&#39;"+c.want+"/v2.5/catalogue") {
				t.Errorf("/docs does not name %s", c.want)
			}
			if strings.Contains(page, "localhost:8080") != (c.want == "http://localhost:8080") {
				t.Errorf("/docs names localhost:8080 for a request to %s", c.host)
			}
		})
	}
}

// TestEveryOperationShowsAnExample: each operation's section on /docs has
// a request (a curl line) and an answer.
func TestEveryOperationShowsAnExample(t *testing.T) {
	r := httptest.NewRequest(http.MethodGet, "/docs", nil)
	w := httptest.NewRecorder()
	apidoc.Handler().ServeHTTP(w, r)
	page := w.Body.String()
	doc, err := apidoc.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sections := regexp.MustCompile(`(?s)<section class="op" id="(op-[^"]+)">(.*?)</section>`).FindAllStringSubmatch(page, -1)
	byID := map[string]string{}
	for _, s := range sections {
		byID[s[1]] = s[2]
	}
	answer := regexp.MustCompile(`<pre class="ex">\d{3}`)
	n := 0
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			n++
			sec, ok := byID["op-"+op.OperationID]
			if !ok {
				t.Errorf("%s %s: no section", method, path)
				continue
			}
			if !strings.Contains(sec, `<pre class="ex">curl`) || !answer.MatchString(sec) {
				t.Errorf("%s %s: no request and answer example in\n%s", method, path, sec)
			}
			if method != "GET" && !strings.Contains(sec, "curl -X "+method) {
				t.Errorf("%s %s: the example's curl line is not a %s", method, path, method)
			}
		}
	}
	if len(sections) != n {
		t.Errorf("%d operation sections for %d operations", len(sections), n)
	}
}
