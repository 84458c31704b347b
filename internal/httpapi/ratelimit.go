package httpapi

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/esimd/esimd/internal/fault"
)

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
