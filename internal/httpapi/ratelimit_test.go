package httpapi_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"
)

func TestRateLimit(t *testing.T) {
	e := newEnv(t, envOptions{rateLimit: 3})
	// The test clock stands still, so all requests fall in one window.
	for i := 1; i <= 3; i++ {
		res := e.get("/v2.5/organisation")
		if res.status != 200 {
			t.Fatalf("request %d: status %d", i, res.status)
		}
		want := map[string]string{
			"X-Ratelimit-Limit":     "3",
			"X-Ratelimit-Remaining": strconv.Itoa(3 - i),
			"X-Ratelimit-Cost":      "1",
			"X-Ratelimit-Reset":     "2026-03-01T12:00:01Z",
		}
		for h, v := range want {
			if got := res.header.Get(h); got != v {
				t.Errorf("request %d: %s = %q, want %q", i, h, got, v)
			}
		}
	}
	res := e.get("/v2.5/organisation")
	if res.status != http.StatusTooManyRequests {
		t.Fatalf("4th request: status %d, want 429", res.status)
	}
	if msg := res.message(t); msg != "Rate limit exceeded" {
		t.Errorf("429 message %q, want eSIM Go's %q", msg, "Rate limit exceeded")
	}
	if ra := res.header.Get("Retry-After"); ra != "1" {
		t.Errorf("Retry-After %q, want 1", ra)
	}
	// Unknown routes and failed authentication spend tokens too: the limit
	// is per client, not per success.
	if res := e.get("/v2.5/nope"); res.status != http.StatusTooManyRequests {
		t.Errorf("unknown route while limited: status %d, want 429", res.status)
	}
	e.advance(time.Second)
	if res := e.get("/v2.5/organisation"); res.status != 200 || res.header.Get("X-Ratelimit-Remaining") != "2" {
		t.Fatalf("next window: status %d, remaining %q; want 200 and 2", res.status, res.header.Get("X-Ratelimit-Remaining"))
	}
}

func TestRateLimitOff(t *testing.T) {
	e := newEnv(t, envOptions{rateLimit: 0})
	for i := 0; i < 30; i++ {
		res := e.get("/v2.5/organisation")
		if res.status != 200 {
			t.Fatalf("request %d: status %d with the limit off", i, res.status)
		}
		if h := res.header.Get("X-Ratelimit-Limit"); h != "" {
			t.Fatalf("X-Ratelimit-Limit %q sent with the limit off", h)
		}
	}
}
