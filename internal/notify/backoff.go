package notify

import (
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Retry schedule: MaxAttempts attempts; after failed attempt n the next
// waits Backoff(n): 1 min doubling per attempt up to 20 h, with equal
// jitter (half fixed, half random). The 14 waits add up to 48.5–97 h,
// about 3 days on average; then the event is given up (failed). A
// receiver's Retry-After can only lengthen a wait (RetryWait), so it
// never spends the attempts faster than the schedule does.
const (
	MaxAttempts  = 15
	backoffBase  = time.Minute
	backoffCap   = 20 * time.Hour
	maxRetryWait = 24 * time.Hour // the most a Retry-After header is read as
	// retryAfterReach is how far a Retry-After may push a step whose full
	// length is shorter: a receiver asking for a few minutes early on gets
	// them, one asking for a day every time cannot stretch the window
	// past about four days (the sum of max(step, 1 h) over the 14 waits).
	retryAfterReach = time.Hour
)

// Backoff is how long to wait after failed attempt n (1 for the first)
// before the next: min(20 h, 1 min × 2^(n−1)), of which the upper half is
// random (equal jitter), so receivers that failed together do not retry in
// step. It is a pure function of attempt and rnd.
func Backoff(attempt int, rnd *rand.Rand) time.Duration {
	d := nominalStep(attempt)
	half := d / 2
	return half + time.Duration(rnd.Int64N(int64(d-half)+1))
}

// nominalStep is the full length of step n before jitter: min(20 h,
// 1 min × 2^(n−1)).
func nominalStep(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt-1 >= 16 { // 2^15 min is past the cap already; larger shifts would overflow
		return backoffCap
	}
	return min(backoffCap, backoffBase<<(attempt-1))
}

// RetryWait is how long to wait after failed attempt n when the receiver
// answered Retry-After: retryAfter (0 when it did not). The backoff step
// is the floor: a short Retry-After (a receiver answering 503 with
// Retry-After: 2) would otherwise spend every attempt within seconds and
// give the event up long before the documented window. A longer one is
// honoured up to the step's full length or one hour, whichever is longer.
// It is a pure function of its arguments.
func RetryWait(attempt int, retryAfter time.Duration, rnd *rand.Rand) time.Duration {
	step := Backoff(attempt, rnd)
	if retryAfter <= step {
		return step
	}
	return min(retryAfter, max(nominalStep(attempt), retryAfterReach))
}

// retryAfter reads a Retry-After header (seconds or an HTTP date) relative
// to now, bounded to 1 s … 24 h; ok is false when there is none.
func retryAfter(h string, now time.Time) (time.Duration, bool) {
	h = strings.TrimSpace(h)
	if h == "" {
		return 0, false
	}
	var d time.Duration
	if n, err := strconv.ParseInt(h, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		d = time.Duration(min(n, int64(maxRetryWait/time.Second))) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	} else {
		return 0, false
	}
	return min(max(d, time.Second), maxRetryWait), true
}
