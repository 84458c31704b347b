package esimapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// DefaultVersion is the API version a Client speaks unless told otherwise.
const DefaultVersion = "v2.5"

// DefaultUserAgent is sent unless WithUserAgent replaces it.
const DefaultUserAgent = "esimapi-go/1 (+https://github.com/esimd/esimd)"

// Retry defaults: a 429 or 503 answer with Retry-After is retried up to
// DefaultMaxRetries times, as long as the wait asked for is at most
// DefaultMaxWait.
const (
	DefaultMaxRetries = 3
	DefaultMaxWait    = 30 * time.Second
)

// maxBody caps what the client reads of one answer (a ZIP of QR codes for
// a large order is the biggest).
const maxBody = 256 << 20

// Client calls the eSIM Go API (api.esim-go.com) or an esimd server. It is
// safe for concurrent use.
type Client struct {
	base       string // scheme://host[/path], no trailing slash
	version    string
	apiKey     string
	userAgent  string
	hc         *http.Client
	maxRetries int
	maxWait    time.Duration
	// pause waits before a retry; nil means sleep (tests record waits).
	pause func(ctx context.Context, d time.Duration) error
}

// Option configures a Client.
type Option func(*Client) error

// WithAPIKey sets the key sent in X-API-Key on every request.
func WithAPIKey(key string) Option {
	return func(c *Client) error {
		if strings.ContainsAny(key, "\r\n") {
			return errors.New("esimapi: the API key contains a line break")
		}
		c.apiKey = key
		return nil
	}
}

// WithHTTPClient sets the HTTP client (timeouts, proxies, transports). The
// default is a client with a 60-second timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) error {
		if hc == nil {
			return errors.New("esimapi: WithHTTPClient(nil)")
		}
		c.hc = hc
		return nil
	}
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) error {
		if strings.ContainsAny(ua, "\r\n") {
			return errors.New("esimapi: the user agent contains a line break")
		}
		c.userAgent = ua
		return nil
	}
}

// WithVersion selects the API version prefix: "v2", "v2.1" … "v2.5" (the
// default). The SDK's types are the v2.5 shapes; older versions answer
// subsets of them.
func WithVersion(v string) Option {
	return func(c *Client) error {
		nv, ok := normaliseVersion(v)
		if !ok {
			return fmt.Errorf("esimapi: version %q is not one of v2, v2.1, v2.2, v2.3, v2.4, v2.5", v)
		}
		c.version = nv
		return nil
	}
}

// WithRetry sets how often a 429 or 503 answer that carries Retry-After is
// retried (maxRetries, after the first attempt) and the longest wait the
// client accepts (maxWait); a longer Retry-After returns the error at once.
// Waiting honours the request's context.
//
// 429 is always retried (the server refused the request before doing
// anything). 503 is retried for GET, PUT and DELETE, and for POSTs sent
// with [WithIdempotencyKey], because a plain POST that answered 503 might
// be repeated otherwise.
func WithRetry(maxRetries int, maxWait time.Duration) Option {
	return func(c *Client) error {
		if maxRetries < 0 || maxWait < 0 {
			return errors.New("esimapi: WithRetry needs non-negative values")
		}
		c.maxRetries, c.maxWait = maxRetries, maxWait
		return nil
	}
}

// WithoutRetry turns automatic retries off: a 429 or 503 is returned as an
// [*Error] with its RetryAfter at once.
func WithoutRetry() Option { return WithRetry(0, 0) }

var versionPattern = regexp.MustCompile(`^v?2(\.[0-5])?$`)

func normaliseVersion(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if !versionPattern.MatchString(v) {
		return "", false
	}
	v = strings.TrimPrefix(v, "v")
	if v == "2.0" {
		v = "2"
	}
	return "v" + v, true
}

// NewClient returns a client for the API at baseURL, such as
// "http://localhost:8080" (esimd) or "https://api.esim-go.com". A version
// at the end of the URL ("https://api.esim-go.com/v2.4") selects that
// version, as WithVersion does.
func NewClient(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimSpace(baseURL))
	if err != nil {
		return nil, fmt.Errorf("esimapi: base URL: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("esimapi: base URL %q must be http:// or https:// with a host", baseURL)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("esimapi: base URL %q must not have a query or fragment", baseURL)
	}
	c := &Client{version: DefaultVersion, userAgent: DefaultUserAgent, hc: &http.Client{Timeout: 60 * time.Second},
		maxRetries: DefaultMaxRetries, maxWait: DefaultMaxWait}
	path := strings.TrimRight(u.EscapedPath(), "/")
	if i := strings.LastIndexByte(path, '/'); i >= 0 {
		if v, ok := normaliseVersion(path[i+1:]); ok && strings.HasPrefix(path[i+1:], "v") {
			c.version, path = v, path[:i]
		}
	}
	c.base = u.Scheme + "://" + u.Host + path
	for _, o := range opts {
		if err := o(c); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// BaseURL returns the server's address, without the version.
func (c *Client) BaseURL() string { return c.base }

// Version returns the API version prefix in use, such as "v2.5".
func (c *Client) Version() string { return c.version }

// CallOption adjusts one call.
type CallOption func(*callOptions)

type callOptions struct {
	idempotencyKey string
	header         http.Header
	info           *ResponseInfo
}

// WithIdempotencyKey sends Idempotency-Key with a POST: esimd answers a
// retry with the same key and body with the first answer (marked
// [ResponseInfo.Replayed]) instead of doing the work twice, and a reuse with
// another body with 409. It also lets the client retry a 503 safely. eSIM
// Go ignores the header.
func WithIdempotencyKey(key string) CallOption {
	return func(o *callOptions) { o.idempotencyKey = key }
}

// WithHeader adds a request header to one call (for example X-Request-Id).
func WithHeader(key, value string) CallOption {
	return func(o *callOptions) {
		if o.header == nil {
			o.header = http.Header{}
		}
		o.header.Add(key, value)
	}
}

// WithResponseInfo fills info with facts about the answer of the call
// (status, request ID, rate-limit headers, replay), also when it fails.
func WithResponseInfo(info *ResponseInfo) CallOption {
	return func(o *callOptions) { o.info = info }
}

// ResponseInfo describes the last answer of a call.
type ResponseInfo struct {
	StatusCode int
	Header     http.Header
	// RequestID is X-Request-Id.
	RequestID string
	// Replayed is true when esimd answered from an earlier request with the
	// same Idempotency-Key.
	Replayed bool
	// Attempts counts the requests sent, retries included.
	Attempts  int
	RateLimit RateLimit
}

// RateLimit is what the X-Ratelimit-* headers said (zero when absent).
type RateLimit struct {
	Limit, Remaining, Cost int
	Reset                  time.Time
}

// call is one request.
type call struct {
	method string
	path   string // escaped, from the server root, starting with "/"
	query  url.Values
	body   any // JSON-encoded when non-nil
	accept string
	opts   []CallOption
}

// api returns the versioned path of an eSIM Go route.
func (c *Client) api(path string) string { return "/" + c.version + path }

// esc escapes one path segment (bundle names, ICCIDs, references).
func esc(s string) string { return url.PathEscape(s) }

// send runs a call with the retry policy and returns the 2xx answer's
// header and body, or an *Error.
func (c *Client) send(ctx context.Context, cl call) (http.Header, []byte, error) {
	var co callOptions
	for _, o := range cl.opts {
		o(&co)
	}
	var payload []byte
	if cl.body != nil {
		var err error
		if payload, err = json.Marshal(cl.body); err != nil {
			return nil, nil, fmt.Errorf("esimapi: encoding the request: %w", err)
		}
	}
	target := c.base + cl.path
	if len(cl.query) > 0 {
		target += "?" + cl.query.Encode()
	}
	for attempt := 1; ; attempt++ {
		var body io.Reader
		if payload != nil {
			body = bytes.NewReader(payload)
		}
		req, err := http.NewRequestWithContext(ctx, cl.method, target, body)
		if err != nil {
			return nil, nil, fmt.Errorf("esimapi: %w", err)
		}
		if c.apiKey != "" {
			req.Header.Set("X-API-Key", c.apiKey)
		}
		req.Header.Set("User-Agent", c.userAgent)
		accept := cl.accept
		if accept == "" {
			accept = "application/json"
		}
		req.Header.Set("Accept", accept)
		if payload != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		if co.idempotencyKey != "" {
			req.Header.Set("Idempotency-Key", co.idempotencyKey)
		}
		for k, vs := range co.header {
			for _, v := range vs {
				req.Header.Add(k, v)
			}
		}
		res, err := c.hc.Do(req)
		if err != nil {
			if ctxErr := ctx.Err(); ctxErr != nil && !errors.Is(err, ctxErr) {
				err = fmt.Errorf("%w (%w)", ctxErr, err)
			}
			return nil, nil, fmt.Errorf("esimapi: %s %s: %w", cl.method, cl.path, err)
		}
		data, err := io.ReadAll(io.LimitReader(res.Body, maxBody))
		res.Body.Close()
		if co.info != nil {
			fillInfo(co.info, res, attempt)
		}
		if err != nil {
			return nil, nil, fmt.Errorf("esimapi: %s %s: reading the answer: %w", cl.method, cl.path, err)
		}
		if res.StatusCode >= 200 && res.StatusCode < 300 {
			return res.Header, data, nil
		}
		apiErr := newError(res, data, cl.method, cl.path)
		if !c.retryable(cl.method, &co, res, apiErr, attempt) {
			return res.Header, data, apiErr
		}
		pause := c.pause
		if pause == nil {
			pause = sleep
		}
		if err := pause(ctx, apiErr.RetryAfter); err != nil {
			return nil, nil, fmt.Errorf("esimapi: %s %s: waiting to retry after %d: %w", cl.method, cl.path, apiErr.StatusCode, err)
		}
	}
}

// retryable applies the retry policy to a failed attempt.
func (c *Client) retryable(method string, co *callOptions, res *http.Response, e *Error, attempt int) bool {
	if attempt > c.maxRetries || res.Header.Get("Retry-After") == "" || e.RetryAfter > c.maxWait {
		return false
	}
	switch e.StatusCode {
	case http.StatusTooManyRequests:
		return true
	case http.StatusServiceUnavailable:
		return method != http.MethodPost || co.idempotencyKey != ""
	}
	return false
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func fillInfo(info *ResponseInfo, res *http.Response, attempt int) {
	h := res.Header
	*info = ResponseInfo{StatusCode: res.StatusCode, Header: h.Clone(), RequestID: h.Get("X-Request-Id"),
		Replayed: strings.EqualFold(h.Get("Idempotent-Replayed"), "true"), Attempts: attempt}
	info.RateLimit.Limit, _ = strconv.Atoi(h.Get("X-Ratelimit-Limit"))
	info.RateLimit.Remaining, _ = strconv.Atoi(h.Get("X-Ratelimit-Remaining"))
	info.RateLimit.Cost, _ = strconv.Atoi(h.Get("X-Ratelimit-Cost"))
	if t, err := time.Parse(time.RFC3339Nano, h.Get("X-Ratelimit-Reset")); err == nil {
		info.RateLimit.Reset = t
	}
}

// do runs a call and decodes a JSON answer into out (when out is non-nil).
func (c *Client) do(ctx context.Context, cl call, out any) error {
	_, body, err := c.send(ctx, cl)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return decodeError(cl.method, cl.path, err)
	}
	return nil
}

// status runs a call whose answer is {"status": "…"} and returns the text.
func (c *Client) status(ctx context.Context, cl call) (string, error) {
	var s struct {
		Status string `json:"status"`
	}
	if err := c.do(ctx, cl, &s); err != nil {
		return "", err
	}
	return s.Status, nil
}

// paginate walks numbered pages until the last one.
func paginate[T any](ctx context.Context, fetch func(ctx context.Context, page int) (items []T, pageCount int, err error)) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for page := 1; ; page++ {
			items, count, err := fetch(ctx, page)
			if err != nil {
				var zero T
				yield(zero, err)
				return
			}
			for _, it := range items {
				if !yield(it, nil) {
					return
				}
			}
			if page >= count || len(items) == 0 {
				return
			}
		}
	}
}

// Health calls GET /healthz (esimd): nil when the server and its database
// answer.
func (c *Client) Health(ctx context.Context, opts ...CallOption) error {
	return c.do(ctx, call{method: http.MethodGet, path: "/healthz", opts: opts}, nil)
}

// APIDetails calls GET / on versions v2 to v2.4 ("Get API details"): the
// list of endpoints as "METHOD /path" strings.
func (c *Client) APIDetails(ctx context.Context, opts ...CallOption) ([]string, error) {
	var out []string
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/"), opts: opts}, &out)
	return out, err
}
