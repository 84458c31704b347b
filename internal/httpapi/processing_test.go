package httpapi_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/esimd/esimd/internal/money"
)

// lockedBuffer is a log sink the server's goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestProcessingRetryAfter: the 503 of an order still being assigned in
// the background estimates Retry-After from the work left (1 second for a
// few eSIMs, more for thousands) instead of a fixed 5, and such a poll is
// logged at Info: it is the protocol working, not an error.
func TestProcessingRetryAfter(t *testing.T) {
	d := fixture()
	for i := range d.Bundles {
		d.Bundles[i].Price = money.MustParse("0.01") // thousands of eSIMs within the balance
	}
	// The application logs to logs; nothing runs the background work, so
	// orders stay processing.
	var logs lockedBuffer
	e := newEnv(t, envOptions{data: &d, logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	srv := e.srv
	line := `{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":1000}`
	cases := []struct {
		name, order, want string
	}{
		{"20 eSIMs", `[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":20}]`, "1"},
		{"4,000 eSIMs", `[` + strings.Repeat(line+",", 3) + line + `]`, "8"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var o struct{ OrderReference string }
			res := e.post("/v2.5/orders", `{"type":"transaction","assign":true,"order":`+c.order+`}`)
			if res.status != http.StatusOK {
				t.Fatalf("order: %d %s", res.status, res.body)
			}
			res.json(t, &o)
			for _, path := range []string{"/v2.5/orders/" + o.OrderReference, "/v2.5/esims/assignments?reference=" + o.OrderReference} {
				req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
				req.Header.Set("X-API-Key", e.key)
				got, err := srv.Client().Do(req)
				if err != nil {
					t.Fatal(err)
				}
				got.Body.Close()
				if got.StatusCode != http.StatusServiceUnavailable || got.Header.Get("Retry-After") != c.want {
					t.Errorf("GET %s: %d, Retry-After %q; want 503 and %s", path, got.StatusCode, got.Header.Get("Retry-After"), c.want)
				}
			}
		})
	}
	out := logs.String()
	if n := strings.Count(out, `"status":503`); n != 4 {
		t.Errorf("%d logged 503s, want 4:\n%s", n, out)
	}
	for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
		if strings.Contains(l, `"status":503`) && !strings.Contains(l, `"level":"INFO"`) {
			t.Errorf("a poll of a processing order logged as %s", l)
		}
	}
}
