package contract

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// route is one path template of a document.
type route struct {
	template string
	segs     []string // literal segments; "" where params has a name
	params   []string // parameter name per segment, or ""
	item     *openapi3.PathItem
}

// routeMatch is the operation a request resolved to.
type routeMatch struct {
	doc    *document
	route  *route
	op     *openapi3.Operation
	method string
	params map[string]string
}

func (m *routeMatch) String() string {
	return m.method + " " + m.route.template + " in the " + m.doc.profile.String()
}

func buildRoutes(doc *openapi3.T) []route {
	var routes []route
	for _, template := range doc.Paths.Keys() {
		r := route{template: template, item: doc.Paths.Value(template)}
		for _, seg := range splitPath(template) {
			if len(seg) > 2 && seg[0] == '{' && seg[len(seg)-1] == '}' {
				r.segs = append(r.segs, "")
				r.params = append(r.params, seg[1:len(seg)-1])
			} else {
				r.segs = append(r.segs, seg)
				r.params = append(r.params, "")
			}
		}
		routes = append(routes, r)
	}
	return routes
}

// splitPath splits "/a/b/" into [a b]; "/" and "" give no segments.
func splitPath(p string) []string {
	p = strings.Trim(p, "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// match strips our version prefix from the request path and finds the
// operation in that version's document, falling back from the v2.4-based
// documents to the v2.5 one for operations only v2.5 declares (notes §2.1:
// the v2.5 surface is served under every prefix). It returns nil when the
// prefix is unknown or no operation matches.
func (v *Validator) match(req *http.Request) *routeMatch {
	raw := req.URL.EscapedPath()
	if !strings.HasPrefix(raw, "/") {
		raw = "/" + raw
	}
	rawSegs := strings.Split(raw[1:], "/")
	p, ok := prefixes[rawSegs[0]]
	if !ok {
		return nil
	}
	rest := rawSegs[1:]
	if len(rest) == 1 && rest[0] == "" { // "/v2.4/" is the root, like "/v2.4"
		rest = nil
	}
	segs := make([]string, len(rest))
	for i, s := range rest {
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil
		}
		segs[i] = u
	}
	for d := v.docs[p]; d != nil; d = d.fallback {
		r := d.best(req.Method, segs)
		if r == nil {
			continue
		}
		op := r.item.GetOperation(req.Method)
		params := map[string]string{}
		for i, name := range r.params {
			if name != "" {
				params[name] = segs[i]
			}
		}
		return &routeMatch{doc: d, route: r, op: op, method: req.Method, params: params}
	}
	return nil
}

// best returns the most specific template that matches segs and has an
// operation for method: where two templates match, the one with a literal
// segment at the first position where they differ wins
// (/esims/assignments/{reference} over /esims/{iccid}/bundles).
func (d *document) best(method string, segs []string) *route {
	var best *route
	for i := range d.routes {
		r := &d.routes[i]
		if !r.matches(segs) || r.item.GetOperation(method) == nil {
			continue
		}
		if best == nil || r.moreSpecific(best) {
			best = r
		}
	}
	return best
}

func (r *route) matches(segs []string) bool {
	if len(r.segs) != len(segs) {
		return false
	}
	for i, s := range segs {
		if r.params[i] != "" {
			if s == "" {
				return false
			}
			continue
		}
		if r.segs[i] != s {
			return false
		}
	}
	return true
}

func (r *route) moreSpecific(o *route) bool {
	for i := range r.params {
		a, b := r.params[i] == "", o.params[i] == ""
		if a != b {
			return a
		}
	}
	return false
}
