package apidoc_test

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/esimd/esimd/internal/apidoc"
)

// serverRoute is a route the server registers, as found in its source.
type serverRoute struct {
	method, path string // path as documented: with its version prefix
	source       string
}

// versionPrefix is the prefix under which the document lists a route of
// the compatible API: /v2.5, or the newest version that still serves it.
func versionPrefix(maxVersion int) string {
	switch maxVersion {
	case 0, 25:
		return "/v2.5"
	case 20:
		return "/v2"
	}
	return "/v2." + strconv.Itoa(maxVersion%10)
}

// aliases are route patterns that the document lists as the routes they
// dispatch to (see esimsByReference in internal/httpapi).
var aliases = map[string][]string{
	"/esims/{}/{}": {"/esims/assignments/{}", "/esims/qr/{}", "/esims/csv/{}"},
}

var patternString = regexp.MustCompile(`^(GET|POST|PUT|PATCH|DELETE) (/\S*)$`)

// serverRoutes parses the source of internal/httpapi and internal/adminapi:
// route literals {method: …, path: …, maxVersion: …} of the compatible
// API, and "METHOD /path" patterns registered directly on a mux (ledger,
// sandbox, health, admin).
func serverRoutes(t *testing.T) []serverRoute {
	t.Helper()
	var files []string
	for _, pkg := range []string{"httpapi", "adminapi"} {
		found, err := filepath.Glob(filepath.Join("..", pkg, "*.go"))
		if err != nil || len(found) == 0 {
			t.Fatalf("no %s sources: %v", pkg, err)
		}
		files = append(files, found...)
	}
	var out []serverRoute
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CompositeLit:
				var method, path string
				maxV := 0
				for _, e := range n.Elts {
					kv, ok := e.(*ast.KeyValueExpr)
					if !ok {
						continue
					}
					key, ok := kv.Key.(*ast.Ident)
					if !ok {
						continue
					}
					switch lit, _ := kv.Value.(*ast.BasicLit); {
					case lit == nil:
					case key.Name == "method":
						method, _ = strconv.Unquote(lit.Value)
					case key.Name == "path":
						path, _ = strconv.Unquote(lit.Value)
					case key.Name == "maxVersion":
						maxV, _ = strconv.Atoi(lit.Value)
					}
				}
				if method == "" || path == "" {
					return true
				}
				if path == "/{$}" {
					path = "/"
				}
				out = append(out, serverRoute{method: method, path: versionPrefix(maxV) + path, source: fset.Position(n.Pos()).String()})
			case *ast.BasicLit:
				if n.Kind != token.STRING {
					return true
				}
				s, _ := strconv.Unquote(n.Value)
				if m := patternString.FindStringSubmatch(s); m != nil {
					path := m[2]
					if path == "/{$}" {
						path = "/"
					}
					out = append(out, serverRoute{method: m[1], path: path, source: fset.Position(n.Pos()).String()})
				}
			}
			return true
		})
	}
	return out
}

var paramPattern = regexp.MustCompile(`\{[^}]*\}`)

// normal replaces path parameter names with {} so that /esims/{iccid}
// matches /esims/{id}.
func normal(path string) string { return paramPattern.ReplaceAllString(path, "{}") }

// TestDocumentCoversEveryRoute checks the document against the server's
// routes, both ways: every route the server registers is documented, and
// every documented operation is a route (or one of apidoc's own).
func TestDocumentCoversEveryRoute(t *testing.T) {
	doc, err := apidoc.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[method+" "+normal(path)] = true
		}
	}
	routes := serverRoutes(t)
	if len(routes) < 40 {
		t.Fatalf("found only %d routes in internal/httpapi; the source parser is out of date", len(routes))
	}
	served := map[string]bool{"GET /openapi.yaml": true, "GET /docs": true}
	for _, r := range routes {
		wants := []string{normal(r.path)}
		for alias, targets := range aliases {
			if prefix, ok := strings.CutSuffix(normal(r.path), alias); ok {
				wants = nil
				for _, target := range targets {
					wants = append(wants, prefix+target)
				}
			}
		}
		for _, w := range wants {
			key := r.method + " " + w
			served[key] = true
			if !documented[key] {
				t.Errorf("%s (%s) is served but not in openapi.yaml", key, r.source)
			}
		}
	}
	var extra []string
	for key := range documented {
		if !served[key] {
			extra = append(extra, key)
		}
	}
	sort.Strings(extra)
	for _, key := range extra {
		t.Errorf("openapi.yaml documents %s, which the server does not register", key)
	}
}

// TestOperationsAreComplete checks what the reference page relies on.
func TestOperationsAreComplete(t *testing.T) {
	doc, err := apidoc.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tags := map[string]bool{}
	for _, tag := range doc.Tags {
		tags[tag.Name] = true
	}
	ids := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			where := method + " " + path
			if op.OperationID == "" || ids[op.OperationID] {
				t.Errorf("%s: missing or duplicate operationId %q", where, op.OperationID)
			}
			ids[op.OperationID] = true
			if op.Summary == "" || len(op.Tags) == 0 || !tags[op.Tags[0]] {
				t.Errorf("%s: needs a summary and a declared tag (has %q, %v)", where, op.Summary, op.Tags)
			}
			// x-esimd-never-succeeds marks routes kept only to answer as eSIM Go does.
			if op.Responses.Value("200") == nil && op.Responses.Value("201") == nil && op.Responses.Value("202") == nil && op.Extensions["x-esimd-never-succeeds"] != true {
				t.Errorf("%s: no success response", where)
			}
			public := op.Security != nil && len(*op.Security) == 0
			if !public && op.Responses.Value("403") == nil && op.Responses.Value("401") == nil {
				t.Errorf("%s: needs a key but documents no 403", where)
			}
		}
	}
}

func TestHandler(t *testing.T) {
	h := apidoc.Handler()
	get := func(path string, header ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			r.Header.Set(header[i], header[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	y := get("/openapi.yaml")
	if y.Code != 200 || !strings.HasPrefix(y.Header().Get("Content-Type"), "application/yaml") ||
		!bytes.Equal(y.Body.Bytes(), bytes.Replace(apidoc.Spec(), []byte("url: http://localhost:8080"), []byte("url: http://example.com"), 1)) {
		t.Errorf("/openapi.yaml: %d %s (%d bytes)", y.Code, y.Header().Get("Content-Type"), y.Body.Len())
	}
	if again := get("/openapi.yaml", "If-None-Match", y.Header().Get("ETag")); again.Code != http.StatusNotModified {
		t.Errorf("conditional GET: %d, want 304", again.Code)
	}

	d := get("/docs")
	page := d.Body.String()
	if d.Code != 200 || d.Header().Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("/docs: %d %s\n%s", d.Code, d.Header().Get("Content-Type"), page)
	}
	// Nothing is fetched from elsewhere (the examples' answers may show
	// https URLs as text).
	for _, forbidden := range []string{"<script", `src="http`, `href="http`, "@import", "url(", "{{", "<no value>", "ZgotmplZ"} {
		if strings.Contains(page, forbidden) {
			t.Errorf("/docs contains %q", forbidden)
		}
	}
	doc, err := apidoc.Load(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for path, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			if !strings.Contains(page, `id="op-`+op.OperationID+`"`) || !strings.Contains(page, ">"+path+"<") {
				t.Errorf("/docs lacks %s (%s)", path, op.OperationID)
			}
		}
	}
	for name := range doc.Components.Schemas {
		if !strings.Contains(page, `id="schema-`+name+`"`) {
			t.Errorf("/docs lacks schema %s", name)
		}
	}
	// Links to schemas point at anchors that exist.
	for _, m := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(page, -1) {
		if !strings.Contains(page, `id="`+m[1]+`"`) {
			t.Errorf("/docs links to #%s, which is not on the page", m[1])
		}
	}
	// Backticks become code and text is escaped.
	if !strings.Contains(page, "<code>X-API-Key</code>") || !strings.Contains(page, "&lt;reference&gt;-&lt;n&gt;") {
		t.Error("/docs does not render `code` spans or escape <text>")
	}
	for _, path := range []string{"/", "/docs/", "/openapi.json"} {
		if w := get(path); w.Code != http.StatusNotFound {
			t.Errorf("%s: %d, want 404", path, w.Code)
		}
	}
	r := httptest.NewRequest(http.MethodPost, "/docs", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusMethodNotAllowed {
		t.Errorf("POST /docs: %d", w.Code)
	}
}
