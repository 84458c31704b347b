package httpapi

import (
	_ "embed"
	"net/http"
	"strings"
)

//go:embed home.html
var homePage []byte

// home is GET /. A browser (a request that accepts text/html) gets a small
// page that points at the API reference; anything else gets the gateway's
// 403 for a path that is not an endpoint, as eSIM Go answers API clients
// there, so that a client's tests see the same thing against both.
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	if !acceptsHTML(r) {
		s.unknownRoute(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Cache-Control", "public, max-age=300")
	w.Write(homePage)
}

// acceptsHTML reports whether the Accept header names text/html without
// refusing it (q=0).
func acceptsHTML(r *http.Request) bool {
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(mt), "text/html") {
			continue
		}
		for _, p := range strings.Split(params, ";") {
			if k, v, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") && strings.Trim(v, " 0.") == "" {
				return false
			}
		}
		return true
	}
	return false
}
