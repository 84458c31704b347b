package adminapi

import (
	"net/http"
	"sync"
	"time"

	"github.com/esimd/esimd/internal/web"
)

// throttle limits failed admin authentications per source address with a
// token bucket: burst failures at once, one more earned every interval.
// An address whose bucket is empty is refused before its token is
// checked, so guessing the admin token runs at a few attempts a minute.
type throttle struct {
	burst int
	every time.Duration
	now   func() time.Time

	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64 // failures the address may still make
	at     time.Time
}

func newThrottle(burst int, every time.Duration, now func() time.Time) *throttle {
	return &throttle{burst: burst, every: every, now: now, buckets: map[string]*bucket{}}
}

// refill brings b up to date at now.
func (t *throttle) refill(b *bucket, now time.Time) {
	if d := now.Sub(b.at); d > 0 {
		b.tokens = min(float64(t.burst), b.tokens+float64(d)/float64(t.every))
	}
	b.at = now
}

// take spends one of ip's attempts before its token is checked (so that
// parallel guesses cannot all pass before the first failure counts);
// refund gives it back when the token was right. If none is left it
// reports how long until one is.
func (t *throttle) take(ip string) (time.Duration, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.buckets) > 4096 {
		// Forget addresses that have earned their whole burst back: they
		// are as if never seen, and the map stays as small as the set of
		// addresses failing right now.
		for k, b := range t.buckets {
			if t.refill(b, now); b.tokens >= float64(t.burst) {
				delete(t.buckets, k)
			}
		}
	}
	b := t.buckets[ip]
	if b == nil {
		b = &bucket{tokens: float64(t.burst), at: now}
		t.buckets[ip] = b
	}
	t.refill(b, now)
	if b.tokens < 1 {
		return time.Duration((1 - b.tokens) * float64(t.every)), false
	}
	b.tokens--
	return 0, true
}

// refund gives back the attempt take spent for a request that
// authenticated.
func (t *throttle) refund(ip string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if b := t.buckets[ip]; b != nil {
		b.tokens = min(float64(t.burst), b.tokens+1)
	}
}

// clientIP is the peer address; forwarding headers are not trusted (a
// client could name any address and escape the throttle).
func clientIP(r *http.Request) string { return web.PeerIP(r) }
