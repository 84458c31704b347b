package jobs

import "time"

// Backoff is a retry schedule: the wait after attempt n is Base·2^(n-1),
// capped at Max, and a job fails once it has made MaxAttempts attempts. It
// is a pure function of the attempt number, so a schedule can be read off
// a table and tested without a clock.
type Backoff struct {
	Base        time.Duration
	Max         time.Duration
	MaxAttempts int
}

// DefaultBackoff retries for about a day: 10 s, 20 s, 40 s … then hourly,
// 30 attempts in all.
var DefaultBackoff = Backoff{Base: 10 * time.Second, Max: time.Hour, MaxAttempts: 30}

// Next is the wait after attempt (1 for the first) failed, and whether
// another attempt may be made.
func (b Backoff) Next(attempt int) (time.Duration, bool) {
	if attempt >= b.MaxAttempts {
		return 0, false
	}
	wait := b.Base
	for i := 1; i < attempt && wait < b.Max; i++ {
		wait *= 2
	}
	return min(wait, b.Max), true
}
