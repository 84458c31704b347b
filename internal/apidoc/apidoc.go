// Package apidoc serves esimd's own OpenAPI document of its API (every
// route, the extensions included) at /openapi.yaml, and an API reference
// page rendered from it on the server at /docs: plain HTML and CSS, no
// JavaScript, nothing fetched from elsewhere.
package apidoc

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

//go:embed openapi.yaml
var spec []byte

//go:embed docs.html
var pageTemplate string

// Spec returns the OpenAPI 3.0 document (YAML).
func Spec() []byte { return bytes.Clone(spec) }

// Load parses and validates the document.
func Load(ctx context.Context) (*openapi3.T, error) {
	doc, err := openapi3.NewLoader().LoadFromData(spec)
	if err != nil {
		return nil, fmt.Errorf("apidoc: load openapi.yaml: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("apidoc: openapi.yaml is not valid OpenAPI 3.0: %w", err)
	}
	return doc, nil
}

//go:embed examples.json
var examplesJSON []byte

// ExamplesFile is the file, beside openapi.yaml, that holds a recorded
// request and answer for every operation (TestDocumentMatchesAnswers
// records them from the real server with -update-examples).
const ExamplesFile = "examples.json"

// Example is one recorded exchange, keyed by "METHOD /documented/path".
type Example struct {
	Request  ExampleRequest  `json:"request"`
	Response ExampleResponse `json:"response"`
}

// ExampleRequest is a request as sent; secrets appear as shell variables
// ($KEY, $ESIMD_ADMIN_TOKEN), so that the page's curl lines run as shown.
type ExampleRequest struct {
	Method  string      `json:"method"`
	Path    string      `json:"path"` // with the query, without the origin
	Headers [][2]string `json:"headers,omitempty"`
	Body    string      `json:"body,omitempty"`
}

// ExampleResponse is the answer, its body as shown (JSON indented, long
// bodies cut, binary ones described).
type ExampleResponse struct {
	Status      int    `json:"status"`
	ContentType string `json:"contentType,omitempty"`
	Body        string `json:"body,omitempty"`
}

// Examples returns the recorded exchanges.
func Examples() (map[string]Example, error) {
	var ex map[string]Example
	if err := json.Unmarshal(examplesJSON, &ex); err != nil {
		return nil, fmt.Errorf("apidoc: %s: %w", ExamplesFile, err)
	}
	return ex, nil
}

// defaultOrigin is what the documents name when a request's Host is not
// a plain host and port.
const defaultOrigin = "http://localhost:8080"

// Origin is the scheme and host a request reached, as a client would type
// them: https when it came over TLS or a proxy in front says so
// (X-Forwarded-Proto), and the Host the client named. A Host that is not
// a plain host[:port] gives http://localhost:8080, so nothing a client
// sends is written into the documents but a host name.
func Origin(r *http.Request) string {
	scheme := "http"
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	if r.TLS != nil || strings.EqualFold(strings.TrimSpace(proto), "https") {
		scheme = "https"
	}
	if !plainHost(r.Host) {
		return defaultOrigin
	}
	return scheme + "://" + r.Host
}

func plainHost(h string) bool {
	if h == "" || len(h) > 255 {
		return false
	}
	for _, c := range h {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '.', c == '-', c == ':', c == '[', c == ']':
		default:
			return false
		}
	}
	return true
}

// specFor is the document with its server entry naming origin.
func specFor(origin string) []byte {
	return bytes.Replace(spec, []byte("  - url: "+defaultOrigin+"\n"), []byte("  - url: "+origin+"\n"), 1)
}

// maxCachedOrigins bounds the rendered pages kept: one per address the
// server is reached by (localhost, its name, a proxy's), not one per Host
// a client makes up.
const maxCachedOrigins = 16

// Handler serves GET /openapi.yaml and GET /docs, each naming the server
// the request reached. Mount it for both patterns; it needs no API key.
// The page's model is built once, here; each origin's page is rendered on
// its first request and kept.
func Handler() http.Handler {
	model, err := build()
	var mu sync.Mutex
	pages := map[string][]byte{}
	pageFor := func(origin string) ([]byte, error) {
		mu.Lock()
		defer mu.Unlock()
		if p, ok := pages[origin]; ok {
			return p, nil
		}
		p, err := model.render(origin)
		if err == nil && len(pages) < maxCachedOrigins {
			pages[origin] = p
		}
		return p, err
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /openapi.yaml", func(w http.ResponseWriter, r *http.Request) {
		serve(w, r, "application/yaml; charset=utf-8", specFor(Origin(r)))
	})
	mux.HandleFunc("GET /docs", func(w http.ResponseWriter, r *http.Request) {
		var page []byte
		if err == nil {
			page, err = pageFor(Origin(r))
		}
		if err != nil { // the document is embedded and tested, so this is a build mistake
			http.Error(w, "the API reference could not be rendered: "+err.Error(), http.StatusInternalServerError)
			return
		}
		serve(w, r, "text/html; charset=utf-8", page)
	})
	return mux
}

// serve writes a fixed body with an ETag, answering conditional requests.
func serve(w http.ResponseWriter, r *http.Request, contentType string, body []byte) {
	sum := sha256.Sum256(body)
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("ETag", `"`+hex.EncodeToString(sum[:8])+`"`)
	h.Set("Cache-Control", "public, max-age=300")
	h.Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// The page's model.

type page struct {
	Title, Version string
	Description    template.HTML
	Origin         string // the server the request reached
	Tags           []tagView
	Schemas        []schemaView
	tmpl           *template.Template
}

type tagView struct {
	Name, Anchor string
	Description  template.HTML
	Operations   []opView
	// Schemas are the components a tag's x-schemas extension names (the
	// callback payloads, which no operation returns).
	Schemas []schemaLink
}

type opView struct {
	Method, Path, Anchor, Summary string
	Description                   template.HTML
	Deprecated, Public            bool
	Params                        []paramView
	Body                          *bodyView
	Responses                     []responseView
	Example                       *exampleView
}

// exampleView is an operation's recorded exchange: a curl line (the
// origin goes between CurlHead and Path) and the answer.
type exampleView struct {
	CurlHead, Path, CurlTail string
	Status                   int
	ContentType, Body        string
}

func newExampleView(ex Example) *exampleView {
	q := ex.Request
	head := "curl"
	if q.Method != "GET" {
		head += " -X " + q.Method
	}
	for _, h := range q.Headers {
		head += " -H " + shellQuote(h[0]+": "+h[1])
	}
	tail := ""
	if q.Body != "" {
		head += " -H 'Content-Type: application/json'"
		tail = " -d " + shellQuote(q.Body)
	}
	return &exampleView{CurlHead: head + " '", Path: q.Path, CurlTail: "'" + tail,
		Status: ex.Response.Status, ContentType: ex.Response.ContentType, Body: ex.Response.Body}
}

// shellQuote quotes s for a POSIX shell: in double quotes when it names a
// variable ($KEY), so that the shell fills it in, else in single quotes.
func shellQuote(s string) string {
	if strings.Contains(s, "$") && !strings.ContainsAny(s, "`\\\"!") {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

type paramView struct {
	Name, In, Type string
	Required       bool
	Description    template.HTML
}

type bodyView struct {
	Required bool
	Media    []mediaView
}

type mediaView struct {
	Type   string
	Schema schemaLink
	Fields []fieldView
}

type responseView struct {
	Status      string
	Description template.HTML
	Headers     []string
	Media       []mediaView
}

type schemaView struct {
	Name, Anchor, Type string
	Description        template.HTML
	Fields             []fieldView
}

type fieldView struct {
	Name        string
	Type        schemaLink
	Required    bool
	Description template.HTML
}

// schemaLink names a type, linking to a component schema when it is one.
type schemaLink struct {
	Text   string
	Anchor string // "" when not a component
	Parts  []schemaLink
	Prefix string // "array of", "one of" …
}

var methods = []string{"GET", "POST", "PUT", "PATCH", "DELETE"}

// render is the reference page for a server reached at origin.
func (p *page) render(origin string) ([]byte, error) {
	v := *p
	v.Origin = origin
	var b bytes.Buffer
	if err := p.tmpl.Execute(&b, &v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// build makes the reference page's model from the document and its
// examples; every operation must have an example.
func build() (*page, error) {
	doc, err := Load(context.Background())
	if err != nil {
		return nil, err
	}
	examples, err := Examples()
	if err != nil {
		return nil, err
	}
	p := &page{Title: doc.Info.Title, Version: doc.Info.Version, Description: prose(doc.Info.Description)}
	byTag := map[string]*tagView{}
	var order []string
	for _, t := range doc.Tags {
		tv := &tagView{Name: t.Name, Anchor: "tag-" + slug(t.Name), Description: prose(t.Description)}
		if list, ok := t.Extensions["x-schemas"].([]any); ok {
			for _, n := range list {
				name := fmt.Sprint(n)
				if doc.Components.Schemas[name] == nil {
					return nil, fmt.Errorf("apidoc: tag %s names schema %s, which does not exist", t.Name, name)
				}
				tv.Schemas = append(tv.Schemas, schemaLink{Text: name, Anchor: "schema-" + name})
			}
		}
		byTag[t.Name] = tv
		order = append(order, t.Name)
	}
	paths := doc.Paths.InMatchingOrder()
	sort.Strings(paths)
	for _, path := range paths {
		item := doc.Paths.Value(path)
		for _, m := range methods {
			op := item.GetOperation(m)
			if op == nil {
				continue
			}
			v := opView{Method: m, Path: path, Anchor: "op-" + op.OperationID, Summary: op.Summary, Description: prose(op.Description),
				Deprecated: op.Deprecated, Public: op.Security != nil && len(*op.Security) == 0}
			ex, ok := examples[m+" "+path]
			if !ok {
				return nil, fmt.Errorf("apidoc: %s has no example for %s %s (record them: go test ./internal/apidoc -run TestDocumentMatchesAnswers -update-examples)", ExamplesFile, m, path)
			}
			v.Example = newExampleView(ex)
			for _, pr := range append(append(openapi3.Parameters{}, item.Parameters...), op.Parameters...) {
				v.Params = append(v.Params, paramView{Name: pr.Value.Name, In: pr.Value.In, Type: typeName(pr.Value.Schema).Text,
					Required: pr.Value.Required, Description: prose(pr.Value.Description)})
			}
			if rb := op.RequestBody; rb != nil && rb.Value != nil {
				v.Body = &bodyView{Required: rb.Value.Required, Media: media(rb.Value.Content)}
			}
			codes := make([]string, 0, op.Responses.Len())
			for code := range op.Responses.Map() {
				codes = append(codes, code)
			}
			sort.Strings(codes)
			for _, code := range codes {
				rr := op.Responses.Value(code).Value
				rv := responseView{Status: code, Media: media(rr.Content)}
				if rr.Description != nil {
					rv.Description = prose(*rr.Description)
				}
				for h := range rr.Headers {
					rv.Headers = append(rv.Headers, h)
				}
				sort.Strings(rv.Headers)
				v.Responses = append(v.Responses, rv)
			}
			tag := "Other"
			if len(op.Tags) > 0 {
				tag = op.Tags[0]
			}
			t, ok := byTag[tag]
			if !ok {
				t = &tagView{Name: tag, Anchor: "tag-" + slug(tag)}
				byTag[tag] = t
				order = append(order, tag)
			}
			t.Operations = append(t.Operations, v)
		}
	}
	for _, name := range order {
		p.Tags = append(p.Tags, *byTag[name])
	}
	names := make([]string, 0, len(doc.Components.Schemas))
	for n := range doc.Components.Schemas {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		s := doc.Components.Schemas[n]
		p.Schemas = append(p.Schemas, schemaView{Name: n, Anchor: "schema-" + n, Type: typeName(&openapi3.SchemaRef{Value: s.Value}).Text,
			Description: prose(s.Value.Description), Fields: fields(s, "", 0)})
	}
	p.tmpl, err = template.New("docs").Funcs(template.FuncMap{"lower": strings.ToLower}).Parse(pageTemplate)
	if err != nil {
		return nil, err
	}
	return p, nil
}

func media(c openapi3.Content) []mediaView {
	types := make([]string, 0, len(c))
	for t := range c {
		types = append(types, t)
	}
	sort.Strings(types)
	var out []mediaView
	for _, t := range types {
		mt := c[t]
		mv := mediaView{Type: t}
		if mt.Schema != nil {
			mv.Schema = typeName(mt.Schema)
			if mt.Schema.Ref == "" {
				mv.Fields = fields(mt.Schema, "", 0)
			}
		}
		out = append(out, mv)
	}
	return out
}

// componentName returns the component a $ref points at, or "".
func componentName(ref string) string {
	const prefix = "#/components/schemas/"
	if strings.HasPrefix(ref, prefix) {
		return ref[len(prefix):]
	}
	return ""
}

// typeName describes a schema in a few words, linking components.
func typeName(s *openapi3.SchemaRef) schemaLink {
	if s == nil || s.Value == nil {
		return schemaLink{Text: "any"}
	}
	if n := componentName(s.Ref); n != "" {
		return schemaLink{Text: n, Anchor: "schema-" + n}
	}
	v := s.Value
	switch {
	case len(v.OneOf) > 0:
		return alternatives("one of", v.OneOf)
	case len(v.AnyOf) > 0:
		return alternatives("any of", v.AnyOf)
	case len(v.AllOf) > 0:
		return alternatives("all of", v.AllOf)
	}
	t := "object"
	if v.Type != nil && len(*v.Type) > 0 {
		t = (*v.Type)[0]
	}
	switch t {
	case "array":
		inner := typeName(v.Items)
		return schemaLink{Prefix: "array of", Parts: []schemaLink{inner}, Text: "array of " + inner.Text}
	case "string", "integer", "number":
		if v.Format != "" {
			t += " (" + v.Format + ")"
		}
		if len(v.Enum) > 0 {
			vals := make([]string, 0, len(v.Enum))
			for _, e := range v.Enum {
				vals = append(vals, fmt.Sprint(e))
			}
			t += ": " + strings.Join(vals, " | ")
		}
	}
	return schemaLink{Text: t}
}

func alternatives(prefix string, refs openapi3.SchemaRefs) schemaLink {
	l := schemaLink{Prefix: prefix}
	var texts []string
	for _, r := range refs {
		p := typeName(r)
		l.Parts = append(l.Parts, p)
		texts = append(texts, p.Text)
	}
	l.Text = prefix + " " + strings.Join(texts, ", ")
	return l
}

// fields flattens an inline schema's properties (nested objects and arrays
// of objects with dotted names); component references stop the descent.
func fields(s *openapi3.SchemaRef, prefix string, depth int) []fieldView {
	if s == nil || s.Value == nil || depth > 4 {
		return nil
	}
	v := s.Value
	var out []fieldView
	for _, part := range v.AllOf {
		if componentName(part.Ref) != "" {
			continue
		}
		out = append(out, fields(part, prefix, depth)...)
	}
	names := make([]string, 0, len(v.Properties))
	for n := range v.Properties {
		names = append(names, n)
	}
	sort.Strings(names)
	required := map[string]bool{}
	for _, r := range v.Required {
		required[r] = true
	}
	for _, n := range names {
		ps := v.Properties[n]
		f := fieldView{Name: prefix + n, Type: typeName(ps), Required: required[n]}
		if ps.Value != nil {
			f.Description = prose(ps.Value.Description)
		}
		out = append(out, f)
		if ps.Ref != "" || ps.Value == nil {
			continue
		}
		switch {
		case len(ps.Value.Properties) > 0:
			out = append(out, fields(ps, prefix+n+".", depth+1)...)
		case ps.Value.Items != nil && ps.Value.Items.Ref == "" && ps.Value.Items.Value != nil && len(ps.Value.Items.Value.Properties) > 0:
			out = append(out, fields(ps.Value.Items, prefix+n+"[].", depth+1)...)
		}
	}
	return out
}

// prose renders the document's descriptions: blank-line paragraphs, "- "
// lists and `code` spans; everything else is escaped text.
func prose(s string) template.HTML {
	s = strings.TrimSpace(s)
	if s == "" {
		return ""
	}
	var b strings.Builder
	for _, para := range strings.Split(s, "\n\n") {
		lines := strings.Split(strings.TrimSpace(para), "\n")
		if strings.HasPrefix(lines[0], "- ") {
			b.WriteString("<ul>")
			for _, item := range joinContinuations(lines) {
				b.WriteString("<li>" + inline(strings.TrimPrefix(item, "- ")) + "</li>")
			}
			b.WriteString("</ul>")
			continue
		}
		b.WriteString("<p>" + inline(strings.Join(lines, " ")) + "</p>")
	}
	return template.HTML(b.String()) // built from escaped text only
}

// joinContinuations folds lines that continue a "- " item into it.
func joinContinuations(lines []string) []string {
	var out []string
	for _, l := range lines {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "- ") || len(out) == 0 {
			out = append(out, l)
			continue
		}
		out[len(out)-1] += " " + l
	}
	return out
}

// inline escapes text and turns `x` into <code>x</code>.
func inline(s string) string {
	parts := strings.Split(s, "`")
	var b strings.Builder
	for i, p := range parts {
		esc := template.HTMLEscapeString(p)
		if i%2 == 1 && i < len(parts)-1 {
			b.WriteString("<code>" + esc + "</code>")
			continue
		}
		if i%2 == 1 { // an unmatched backtick
			b.WriteString("`")
		}
		b.WriteString(esc)
	}
	return b.String()
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}
