package esimapi

import (
	"context"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// script is a fake transport answering from a list, recording requests.
type script struct {
	mu      sync.Mutex
	answers []*http.Response
	reqs    []*http.Request
	bodies  []string
}

func (s *script) RoundTrip(r *http.Request) (*http.Response, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	body := ""
	if r.Body != nil {
		b, _ := io.ReadAll(r.Body)
		body = string(b)
	}
	s.reqs = append(s.reqs, r)
	s.bodies = append(s.bodies, body)
	if len(s.answers) == 0 {
		return answer(500, `{"message":"script exhausted"}`), nil
	}
	res := s.answers[0]
	s.answers = s.answers[1:]
	res.Request = r
	return res, nil
}

func answer(status int, body string, header ...string) *http.Response {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(header); i += 2 {
		h.Set(header[i], header[i+1])
	}
	return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body))}
}

// TestRetryWaitsRetryAfter checks the exact waits without sleeping.
func TestRetryWaitsRetryAfter(t *testing.T) {
	sc := &script{answers: []*http.Response{
		answer(429, `{"message":"Rate limit exceeded"}`, "Retry-After", "2"),
		answer(503, `{"message":"processing"}`, "Retry-After", "7"),
		answer(200, `{"status":"ok"}`),
	}}
	c, err := NewClient("http://esimd.test", WithHTTPClient(&http.Client{Transport: sc}), WithRetry(3, 10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	var waits []time.Duration
	c.pause = func(ctx context.Context, d time.Duration) error { waits = append(waits, d); return nil }
	var info ResponseInfo
	if err := c.Health(t.Context(), WithResponseInfo(&info)); err != nil {
		t.Fatal(err)
	}
	if len(waits) != 2 || waits[0] != 2*time.Second || waits[1] != 7*time.Second {
		t.Errorf("waits = %v, want [2s 7s]", waits)
	}
	if info.Attempts != 3 || len(sc.reqs) != 3 {
		t.Errorf("attempts %d, requests %d; want 3", info.Attempts, len(sc.reqs))
	}
}

func TestRetryGivesUpAfterMaxRetries(t *testing.T) {
	var answers []*http.Response
	for range 5 {
		answers = append(answers, answer(429, `{"message":"Rate limit exceeded"}`, "Retry-After", "1"))
	}
	sc := &script{answers: answers}
	c, _ := NewClient("http://esimd.test", WithHTTPClient(&http.Client{Transport: sc}), WithRetry(2, time.Minute))
	c.pause = func(context.Context, time.Duration) error { return nil }
	err := c.Health(t.Context())
	if !IsRateLimited(err) || len(sc.reqs) != 3 {
		t.Errorf("err %v after %d requests; want 429 after 3", err, len(sc.reqs))
	}
}

// TestRetryReplaysBodyAndHeaders checks that a retried POST sends the same
// body and headers, and that POSTs retry a 503 only with an idempotency key.
func TestRetryReplaysBodyAndHeaders(t *testing.T) {
	sc := &script{answers: []*http.Response{
		answer(503, `{"message":"busy"}`, "Retry-After", "1"),
		answer(200, `{"orderReference":"r1","status":"completed"}`),
	}}
	c, _ := NewClient("http://esimd.test/", WithAPIKey("k1"), WithUserAgent("test-agent/1"), WithHTTPClient(&http.Client{Transport: sc}))
	c.pause = func(context.Context, time.Duration) error { return nil }
	o, err := c.PlaceOrder(t.Context(), OrderRequest{Assign: true, Lines: []OrderLine{{Item: "esim_1GB_7D_GB_V2", Quantity: 1}}},
		WithIdempotencyKey("key-1"), WithHeader("X-Request-Id", "req-1"))
	if err != nil || o.OrderReference != "r1" {
		t.Fatalf("PlaceOrder = %+v, %v", o, err)
	}
	if len(sc.reqs) != 2 || sc.bodies[0] != sc.bodies[1] {
		t.Fatalf("requests %d, bodies %q", len(sc.reqs), sc.bodies)
	}
	want := `{"type":"transaction","assign":true,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1}]}`
	if sc.bodies[0] != want {
		t.Errorf("body %s, want %s", sc.bodies[0], want)
	}
	r := sc.reqs[1]
	for k, v := range map[string]string{"X-Api-Key": "k1", "User-Agent": "test-agent/1", "Accept": "application/json",
		"Content-Type": "application/json", "Idempotency-Key": "key-1", "X-Request-Id": "req-1"} {
		if got := r.Header.Get(k); got != v {
			t.Errorf("header %s = %q, want %q", k, got, v)
		}
	}
	if r.URL.String() != "http://esimd.test/v2.5/orders" || r.Method != "POST" {
		t.Errorf("request %s %s", r.Method, r.URL)
	}

	// Without a key, a POST answered 503 is not repeated.
	sc = &script{answers: []*http.Response{answer(503, `{"message":"busy"}`, "Retry-After", "1")}}
	c, _ = NewClient("http://esimd.test", WithHTTPClient(&http.Client{Transport: sc}))
	c.pause = func(context.Context, time.Duration) error {
		t.Error("a POST without an idempotency key waited to retry")
		return nil
	}
	_, err = c.PlaceOrder(t.Context(), OrderRequest{Lines: []OrderLine{{Item: "x", Quantity: 1}}})
	if !IsProcessing(err) || len(sc.reqs) != 1 {
		t.Errorf("err %v after %d requests", err, len(sc.reqs))
	}
}

func TestNoRetryWithoutRetryAfter(t *testing.T) {
	sc := &script{answers: []*http.Response{answer(429, `{"message":"Rate limit exceeded"}`)}}
	c, _ := NewClient("http://esimd.test", WithHTTPClient(&http.Client{Transport: sc}))
	c.pause = func(context.Context, time.Duration) error { t.Error("waited without Retry-After"); return nil }
	if err := c.Health(t.Context()); !IsRateLimited(err) || len(sc.reqs) != 1 {
		t.Errorf("err %v after %d requests", err, len(sc.reqs))
	}
}
