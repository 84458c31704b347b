package esimapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Error is an answer of the API outside 2xx. eSIM Go (and esimd) send
// {"message": "…"} with a status whose meaning is fixed:
//
//   - 400: the request is wrong (also: unknown bundle or order, deactivated eSIM)
//   - 403: bad API key, no inventory left, an ICCID or order that is not
//     yours, an unknown route
//   - 409: an Idempotency-Key reused with another request (esimd)
//   - 410: the eSIM is deactivated (install data)
//   - 429: rate limit; RetryAfter says when to come back
//   - 503: still processing (large orders); RetryAfter says when to come back
//
// Use [errors.As] to get it, or the helpers [IsInvalid], [IsForbidden],
// [IsRateLimited], [IsProcessing], [IsGone], [IsConflict].
type Error struct {
	// StatusCode is the HTTP status.
	StatusCode int
	// Message is the server's message, or the status text when the body
	// had none.
	Message string
	// RetryAfter is the Retry-After header as a duration; 0 when absent.
	RetryAfter time.Duration
	// RequestID is the X-Request-Id of the answer, for support requests.
	RequestID string
	// Method and Path name the request that failed.
	Method, Path string
}

// Error returns "esimapi: GET /v2.5/esims/…: 403 Forbidden: <message>".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("esimapi: ")
	if e.Method != "" {
		b.WriteString(e.Method + " " + e.Path + ": ")
	}
	b.WriteString(strconv.Itoa(e.StatusCode))
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" && e.Message != http.StatusText(e.StatusCode) {
		b.WriteString(": " + e.Message)
	}
	return b.String()
}

// Temporary reports whether the same request may succeed later (429, 503).
func (e *Error) Temporary() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusServiceUnavailable
}

// StatusCode returns the HTTP status of an [*Error] in err's chain, or 0.
func StatusCode(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// IsInvalid reports a 400: the request was not accepted (bad input,
// unknown bundle or order, deactivated eSIM).
func IsInvalid(err error) bool { return StatusCode(err) == http.StatusBadRequest }

// IsForbidden reports a 403: bad key, no inventory left, an ICCID or
// order of another organisation, or an unknown route.
func IsForbidden(err error) bool { return StatusCode(err) == http.StatusForbidden }

// IsConflict reports a 409: an Idempotency-Key reused with another request.
func IsConflict(err error) bool { return StatusCode(err) == http.StatusConflict }

// IsGone reports a 410: the eSIM is deactivated.
func IsGone(err error) bool { return StatusCode(err) == http.StatusGone }

// IsRateLimited reports a 429.
func IsRateLimited(err error) bool { return StatusCode(err) == http.StatusTooManyRequests }

// IsProcessing reports a 503: the work is still running; come back after
// the error's RetryAfter.
func IsProcessing(err error) bool { return StatusCode(err) == http.StatusServiceUnavailable }

// newError builds the *Error of a non-2xx answer.
func newError(res *http.Response, body []byte, method, path string) *Error {
	e := &Error{StatusCode: res.StatusCode, RequestID: res.Header.Get("X-Request-Id"), Method: method, Path: path,
		RetryAfter: parseRetryAfter(res.Header.Get("Retry-After"), time.Now())}
	var m struct {
		Message string `json:"message"`
		// API-Gateway-style bodies sometimes capitalise it.
		Message2 string `json:"Message"`
	}
	if err := json.Unmarshal(body, &m); err == nil && (m.Message != "" || m.Message2 != "") {
		e.Message = m.Message
		if e.Message == "" {
			e.Message = m.Message2
		}
		return e
	}
	text := strings.TrimSpace(string(body))
	if !utf8.ValidString(text) || strings.HasPrefix(text, "<") {
		text = "" // binary or an HTML error page: the status says more
	}
	if len(text) > 300 {
		text = text[:300] + "…"
	}
	if text == "" {
		text = http.StatusText(res.StatusCode)
	}
	e.Message = text
	return e
}

// parseRetryAfter reads delay-seconds or an HTTP date; 0 when absent or
// malformed.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0
		}
		if n > 86400 {
			n = 86400
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			return d
		}
	}
	return 0
}

// decodeError wraps a JSON decoding failure of a 2xx body.
func decodeError(method, path string, err error) error {
	return fmt.Errorf("esimapi: %s %s: decoding the answer: %w", method, path, err)
}
