package httpapi_test

import (
	"net/http"
	"strings"
	"testing"
)

// TestPageBounded: on every paged route a page whose offset would not fit
// a 64-bit integer is a 400 that says the range, on both engines (it was
// a 500 on PostgreSQL, which refuses the negative OFFSET an overflow made,
// and page 1 again on SQLite); the largest page accepted is an empty page.
func TestPageBounded(t *testing.T) {
	e := newEnv(t, envOptions{})
	for _, path := range []string{"/v2.5/esims", "/v2.5/orders", "/v2.5/catalogue", "/v2.4/esims", "/v2.1/orders"} {
		for _, q := range []string{"page=9223372036854775807", "page=9223372036854775807&perPage=100", "page=1000000001", "page=4611686018427387904&limit=1000"} {
			t.Run(path+"?"+q, func(t *testing.T) {
				res := e.get(path + "?" + q)
				if res.status != http.StatusBadRequest {
					t.Fatalf("%d %s, want 400", res.status, res.body)
				}
				if msg := res.message(t); !strings.Contains(msg, "page must be a whole number from 1 to 1000000000") {
					t.Errorf("message %q does not say the range of page", msg)
				}
			})
		}
		t.Run(path+" at the last page allowed", func(t *testing.T) {
			if res := e.get(path + "?page=1000000000"); res.status != http.StatusOK {
				t.Fatalf("page=1000000000: %d %s, want 200", res.status, res.body)
			}
		})
	}
}
