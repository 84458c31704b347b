package esimapi_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esimd/esimd/esimapi"
)

// roundTripper is a fake transport.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func reply(status int, body string, header ...string) roundTripper {
	return func(r *http.Request) (*http.Response, error) {
		h := http.Header{}
		for i := 0; i+1 < len(header); i += 2 {
			h.Set(header[i], header[i+1])
		}
		return &http.Response{StatusCode: status, Header: h, Body: io.NopCloser(strings.NewReader(body)), Request: r}, nil
	}
}

func fakeClient(t *testing.T, rt http.RoundTripper, opts ...esimapi.Option) *esimapi.Client {
	t.Helper()
	c, err := esimapi.NewClient("https://api.example.test", append([]esimapi.Option{esimapi.WithAPIKey("k"),
		esimapi.WithHTTPClient(&http.Client{Transport: rt})}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestErrorDecoding(t *testing.T) {
	for _, tc := range []struct {
		name, body  string
		status      int
		header      []string
		wantMessage string
		wantErr     string
		check       func(error) bool
	}{
		{name: "message body", status: 403, body: `{"message":"the ICCID 89… is not accessible"}`, header: []string{"X-Request-Id", "abc123"},
			wantMessage: "the ICCID 89… is not accessible", wantErr: "esimapi: GET /v2.5/organisation: 403 Forbidden: the ICCID 89… is not accessible", check: esimapi.IsForbidden},
		{name: "capitalised Message", status: 400, body: `{"Message":"Bad Request"}`, wantMessage: "Bad Request", check: esimapi.IsInvalid},
		{name: "plain text", status: 502, body: "upstream timed out\n", wantMessage: "upstream timed out",
			check: func(err error) bool { return esimapi.StatusCode(err) == 502 }},
		{name: "HTML page", status: 504, body: "<html><body>Gateway Timeout</body></html>", wantMessage: "Gateway Timeout"},
		{name: "empty body", status: 410, body: "", wantMessage: "Gone", wantErr: "esimapi: GET /v2.5/organisation: 410 Gone", check: esimapi.IsGone},
		{name: "JSON without message", status: 409, body: `{"error":"x"}`, wantMessage: `{"error":"x"}`, check: esimapi.IsConflict},
		{name: "rate limited", status: 429, body: `{"message":"Rate limit exceeded"}`, header: []string{"Retry-After", "3"},
			wantMessage: "Rate limit exceeded", check: esimapi.IsRateLimited},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := fakeClient(t, reply(tc.status, tc.body, tc.header...), esimapi.WithoutRetry())
			_, err := c.Organisation(t.Context())
			var e *esimapi.Error
			if !errors.As(err, &e) {
				t.Fatalf("err = %v, want *esimapi.Error", err)
			}
			if e.StatusCode != tc.status || e.Message != tc.wantMessage || e.Method != "GET" || e.Path != "/v2.5/organisation" {
				t.Errorf("error = %#v", e)
			}
			if tc.wantErr != "" && err.Error() != tc.wantErr {
				t.Errorf("Error() = %q, want %q", err.Error(), tc.wantErr)
			}
			if tc.check != nil && !tc.check(err) {
				t.Errorf("helper does not recognise %v", err)
			}
			if len(tc.header) > 1 && tc.header[0] == "X-Request-Id" && e.RequestID != tc.header[1] {
				t.Errorf("RequestID = %q", e.RequestID)
			}
			if len(tc.header) > 1 && tc.header[0] == "Retry-After" && e.RetryAfter != 3*time.Second {
				t.Errorf("RetryAfter = %v", e.RetryAfter)
			}
		})
	}
}

func TestMalformedSuccessBody(t *testing.T) {
	c := fakeClient(t, reply(200, `{"bundles": "nope"}`))
	_, err := c.ListCatalogue(t.Context(), esimapi.CatalogueQuery{})
	if err == nil || !strings.Contains(err.Error(), "decoding the answer") || esimapi.StatusCode(err) != 0 {
		t.Errorf("err = %v", err)
	}
}

// TestRetryHonoursRetryAfter retries a 429 after its Retry-After (0 s here,
// so the test is fast; client_internal_test checks longer waits).
func TestRetryHonoursRetryAfter(t *testing.T) {
	var calls atomic.Int32
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		if calls.Add(1) < 3 {
			return reply(429, `{"message":"Rate limit exceeded"}`, "Retry-After", "0")(r)
		}
		return reply(200, `{"organisations":[{"name":"Acme","balance":12.5}]}`)(r)
	})
	var info esimapi.ResponseInfo
	org, err := fakeClient(t, rt).Organisation(t.Context(), esimapi.WithResponseInfo(&info))
	if err != nil || org.Name != "Acme" || org.Balance.String() != "12.5" {
		t.Fatalf("Organisation = %+v, %v", org, err)
	}
	if calls.Load() != 3 || info.Attempts != 3 {
		t.Errorf("calls %d, attempts %d; want 3", calls.Load(), info.Attempts)
	}
}

func TestRetryOptOut(t *testing.T) {
	var calls atomic.Int32
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return reply(429, `{"message":"Rate limit exceeded"}`, "Retry-After", "0")(r)
	})
	_, err := fakeClient(t, rt, esimapi.WithoutRetry()).Organisation(t.Context())
	if !esimapi.IsRateLimited(err) || calls.Load() != 1 {
		t.Errorf("err %v after %d calls; want one 429", err, calls.Load())
	}
}

// TestRetryAfterLongerThanMaxWait returns at once.
func TestRetryAfterLongerThanMaxWait(t *testing.T) {
	var calls atomic.Int32
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		calls.Add(1)
		return reply(503, `{"message":"order is still processing"}`, "Retry-After", "60")(r)
	})
	start := time.Now()
	_, err := fakeClient(t, rt, esimapi.WithRetry(5, 50*time.Millisecond)).Order(t.Context(), "ref")
	var e *esimapi.Error
	if !errors.As(err, &e) || !esimapi.IsProcessing(err) || e.RetryAfter != time.Minute || calls.Load() != 1 || time.Since(start) > time.Second {
		t.Errorf("err %v after %d calls", err, calls.Load())
	}
}

// TestRetryWaitHonoursContext cancels while the client waits out a
// Retry-After.
func TestRetryWaitHonoursContext(t *testing.T) {
	rt := reply(429, `{"message":"Rate limit exceeded"}`, "Retry-After", "30")
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := fakeClient(t, rt, esimapi.WithRetry(3, time.Minute)).Organisation(ctx)
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Errorf("err = %v after %v; want the deadline, promptly", err, time.Since(start))
	}
}

func TestContextCancelledInTransport(t *testing.T) {
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		<-r.Context().Done()
		return nil, r.Context().Err()
	})
	ctx, cancel := context.WithCancel(t.Context())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err := fakeClient(t, rt).Inventory(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestNewClient(t *testing.T) {
	for _, tc := range []struct {
		url, version, base string
		opts               []esimapi.Option
	}{
		{url: "http://localhost:8080", version: "v2.5", base: "http://localhost:8080"},
		{url: "https://api.esim-go.com/v2.4/", version: "v2.4", base: "https://api.esim-go.com"},
		{url: "https://api.esim-go.com/v2", version: "v2", base: "https://api.esim-go.com"},
		{url: "https://proxy.example/esim", version: "v2.3", base: "https://proxy.example/esim", opts: []esimapi.Option{esimapi.WithVersion("2.3")}},
	} {
		c, err := esimapi.NewClient(tc.url, tc.opts...)
		if err != nil || c.Version() != tc.version || c.BaseURL() != tc.base {
			t.Errorf("NewClient(%q) = %s %s, %v; want %s %s", tc.url, c.BaseURL(), c.Version(), err, tc.base, tc.version)
		}
	}
	for _, bad := range []string{"", "localhost:8080", "ftp://x", "http://x/?a=b", "http://"} {
		if _, err := esimapi.NewClient(bad); err == nil {
			t.Errorf("NewClient(%q) succeeded", bad)
		}
	}
	if _, err := esimapi.NewClient("http://x", esimapi.WithVersion("v3")); err == nil {
		t.Error("WithVersion(v3) succeeded")
	}
	if _, err := esimapi.NewClient("http://x", esimapi.WithHTTPClient(nil)); err == nil {
		t.Error("WithHTTPClient(nil) succeeded")
	}
	if _, err := esimapi.NewClient("http://x", esimapi.WithAPIKey("a\nb")); err == nil {
		t.Error("a key with a line break was accepted")
	}
}

// TestRequestEncoding checks paths, escaping and query strings.
func TestRequestEncoding(t *testing.T) {
	var got []string
	rt := roundTripper(func(r *http.Request) (*http.Response, error) {
		got = append(got, r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("Accept"))
		return reply(200, `{}`)(r)
	})
	c := fakeClient(t, rt)
	ctx := t.Context()
	c.Bundle(ctx, "odd name/with slash")
	c.ListCatalogue(ctx, esimapi.CatalogueQuery{Page: 2, PerPage: 5, Countries: []string{"GB", "US"}, Group: "Standard Fixed"})
	c.RevokeBundle(ctx, "8944538532008160222", "esim_1GB_7D_GB_V2", esimapi.RevokeOptions{Validate: true, RefundToBalance: true, OfferID: "7"})
	c.InstallCSV(ctx, []string{"r1", "r2"})
	c.InstallQRZip(ctx, []string{"r1"})
	c.ListOrders(ctx, esimapi.OrdersQuery{CreatedAt: []esimapi.TimeFilter{{Op: "gte", At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}}})
	c.TopUp(ctx, esimapi.MustParseMoney("1000.50"))
	want := []string{
		"GET /v2.5/catalogue/bundle/odd%20name%2Fwith%20slash application/json",
		"GET /v2.5/catalogue?countries=GB%2CUS&group=Standard+Fixed&page=2&perPage=5 application/json",
		"DELETE /v2.5/esims/8944538532008160222/bundles/esim_1GB_7D_GB_V2?offerId=7&refundToBalance=true&type=validate application/json",
		"GET /v2.5/esims/assignments?additionalFields=installUrl&reference=r1&reference=r2 text/csv",
		"GET /v2.5/esims/assignments?reference=r1 application/zip",
		"GET /v2.5/orders?createdAt=gte%3A2026-01-02T03%3A04%3A05Z application/json",
		"POST /v2.5/organisation/balance?amount=1000.5 application/json",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestLenientShapes reads the vendor documents' forms where the live API
// differs: a bare catalogue array, a bare organisation, one history object,
// one install object, numeric assignment IDs and epoch-millisecond times.
func TestLenientShapes(t *testing.T) {
	ctx := t.Context()
	page, err := fakeClient(t, reply(200, `[{"name":"a","price":1.5},{"name":"b","price":2}]`)).ListCatalogue(ctx, esimapi.CatalogueQuery{})
	if err != nil || len(page.Bundles) != 2 || page.PageCount != 1 || page.Bundles[1].Price.String() != "2" {
		t.Errorf("bare catalogue = %+v, %v", page, err)
	}
	org, err := fakeClient(t, reply(200, `{"name":"Solo","balance":"3.10"}`)).Organisation(ctx)
	if err != nil || org.Name != "Solo" || org.Balance.String() != "3.1" {
		t.Errorf("bare organisation = %+v, %v", org, err)
	}
	hist, err := fakeClient(t, reply(200, `{"name":"Bundle Applied","bundle":"b1","date":"2026-01-02T03:04:05.123Z"}`)).History(ctx, "1")
	if err != nil || len(hist) != 1 || hist[0].BundleName != "b1" || hist[0].Date.Nanosecond() != 123_000_000 {
		t.Errorf("one history object = %+v, %v", hist, err)
	}
	e, err := fakeClient(t, reply(200, `{"iccid":"1","firstInstalledDateTime":1767323045000}`)).ESIM(ctx, "1")
	if want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC); err != nil || !e.FirstInstalled.Equal(want) {
		t.Errorf("epoch-ms firstInstalledDateTime = %v, %v; want %v", e.FirstInstalled, err, want)
	}
	as, err := fakeClient(t, reply(200, `{"assignments":[{"id":42,"initialQuantity":1000000000,"startTime":""}]}`)).ESIMBundle(ctx, "1", "b")
	if err != nil || len(as) != 1 || as[0].ID != "42" || !as[0].StartTime.IsZero() {
		t.Errorf("numeric id = %+v, %v", as, err)
	}
	d, err := fakeClient(t, reply(200, `{"iccid":"1","matchingId":"M","rspUrl":"rsp.example.net","bundle":"b"}`)).InstallData(ctx, []string{"r"})
	if err != nil || len(d) != 1 || d[0].SMDPAddress != "rsp.example.net" {
		t.Errorf("legacy install row = %+v, %v", d, err)
	}
	if ac, err := d[0].ActivationCode(); err != nil || ac.String() != "LPA:1$rsp.example.net$M" {
		t.Errorf("ActivationCode = %v, %v", ac, err)
	}
	orders, err := fakeClient(t, reply(200, `[{"orderReference":"x","createDate":"2026-01-02T00:00:00Z","total":1}]`)).ListOrders(ctx, esimapi.OrdersQuery{})
	if err != nil || len(orders.Orders) != 1 || orders.Orders[0].CreatedDate.IsZero() {
		t.Errorf("legacy orders = %+v, %v", orders, err)
	}
	ok, err := fakeClient(t, reply(200, `{"compatible":"true"}`)).Compatible(ctx, "1", "b")
	if err != nil || !ok {
		t.Errorf("string boolean = %v, %v", ok, err)
	}
}
