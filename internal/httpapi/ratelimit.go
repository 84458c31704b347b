package httpapi

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/esimd/esimd/internal/fault"
)

// DefaultRateCosts is the rate-limit cost of every endpoint that does not
// cost 1 token, keyed as routes.go lists it ("GET /catalogue"). eSIM Go
// says some endpoints cost more without listing them (notes §1.5: "a
// 5-token endpoint may be called twice per second"); the one account of
// which is the vendor's mock, which charges 5 for the catalogue and the
// networks, the two large reads the documents ask clients to cache.
// Every other endpoint, esimd's extensions and unknown routes cost 1.
func DefaultRateCosts() map[string]int {
	out := map[string]int{}
	for _, c := range defaultRateCosts {
		out[c.method+" "+c.path] = c.cost
	}
	return out
}

var defaultRateCosts = []struct {
	method, path string
	cost         int
}{
	{method: "GET", path: "/catalogue", cost: 5},
	{method: "GET", path: "/networks", cost: 5},
}

// maxRateCost bounds an operator's cost: far above any sane window.
const maxRateCost = 1000

// knownEndpoints are the endpoints a rate cost may name.
func knownEndpoints() map[string]bool {
	known := map[string]bool{}
	for _, rt := range (&Server{}).apiRoutes() {
		known[rt.endpoint()] = true
	}
	return known
}

// ParseRateCosts reads an operator's rate costs, such as
// "GET /catalogue=5,POST /orders=2": comma-separated endpoint=tokens
// pairs, each endpoint as routes.go (and the README) lists it, each cost
// 1 to 1000. Errors name the entry that is wrong.
func ParseRateCosts(spec string) (map[string]int, error) {
	out := map[string]int{}
	known := knownEndpoints()
	for _, entry := range strings.Split(spec, ",") {
		entry = strings.TrimSpace(entry)
		if entry == "" {
			continue
		}
		ep, n, ok := strings.Cut(entry, "=")
		if !ok {
			return nil, fault.Invalidf("rate cost %q must be METHOD /path=tokens, such as GET /catalogue=5", truncateText(entry, 60))
		}
		method, path, _ := strings.Cut(strings.TrimSpace(ep), " ")
		ep = strings.ToUpper(method) + " " + strings.TrimSpace(path)
		if !known[ep] {
			return nil, fault.Invalidf("rate cost %q: %q is not an endpoint; use one of %s", truncateText(entry, 60), truncateText(ep, 60),
				strings.Join(slices.Sorted(maps.Keys(known)), ", "))
		}
		cost, err := strconv.Atoi(strings.TrimSpace(n))
		if err != nil || cost < 1 || cost > maxRateCost {
			return nil, fault.Invalidf("rate cost %q: the tokens must be a whole number from 1 to %d", truncateText(entry, 60), maxRateCost)
		}
		out[ep] = cost
	}
	return out, nil
}

// rateCost is the tokens an endpoint costs.
func (s *Server) rateCost(endpoint string) int {
	if c, ok := s.costs[endpoint]; ok {
		return c
	}
	return 1
}

// limiter is eSIM Go's rate limit: per client IP, a fixed one-second
// window holding a number of tokens; each request spends its route's cost.
type limiter struct {
	limit int

	mu      sync.Mutex
	windows map[string]*window
	swept   int64 // the second of the last sweep of stale windows
}

type window struct {
	second int64 // Unix second the window covers
	used   int
}

func newLimiter(limit int) *limiter {
	return &limiter{limit: limit, windows: map[string]*window{}}
}

// take spends cost tokens of ip's window at now. It reports what is left
// and whether the request may go ahead; a refused request spends nothing.
func (l *limiter) take(ip string, cost int, now time.Time) (remaining int, reset time.Time, ok bool) {
	sec := now.Unix()
	reset = time.Unix(sec+1, 0).UTC()
	l.mu.Lock()
	defer l.mu.Unlock()
	if sec != l.swept && len(l.windows) > 1024 {
		// Drop windows of past seconds so the map stays as small as the set
		// of clients active right now; amortised over a whole second.
		for k, w := range l.windows {
			if w.second < sec {
				delete(l.windows, k)
			}
		}
		l.swept = sec
	}
	w := l.windows[ip]
	if w == nil {
		w = &window{}
		l.windows[ip] = w
	}
	if w.second != sec {
		w.second, w.used = sec, 0
	}
	if w.used+cost > l.limit {
		return l.limit - w.used, reset, false
	}
	w.used += cost
	return l.limit - w.used, reset, true
}

// allow applies the limit and writes the X-Ratelimit-* headers; on refusal
// it writes the 429 answer and returns false.
func (s *Server) allow(w http.ResponseWriter, r *http.Request, cost int) bool {
	if s.limiter == nil {
		return true
	}
	now := s.now()
	remaining, reset, ok := s.limiter.take(clientIP(r), cost, now)
	h := w.Header()
	h.Set("X-Ratelimit-Limit", strconv.Itoa(s.limiter.limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Ratelimit-Reset", reset.Format(time.RFC3339))
	h.Set("X-Ratelimit-Cost", strconv.Itoa(cost))
	if !ok {
		wait := reset.Sub(now)
		h.Set("Retry-After", strconv.Itoa(int((wait+time.Second-1)/time.Second)))
		s.writeError(w, r, fault.E(fault.RateLimited, "Rate limit exceeded"))
		return false
	}
	return true
}
