package notify

import (
	"encoding/json"
	"testing"
	"time"
)

// FuzzRetryAfter: a receiver's Retry-After header never panics and never
// yields a wait outside 1 s … 24 h.
func FuzzRetryAfter(f *testing.F) {
	for _, s := range []string{"120", "0", "-1", "Sun, 01 Mar 2026 12:05:00 GMT", "", "9999999999999999999999", "1e3"} {
		f.Add(s)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, h string) {
		if d, ok := retryAfter(h, now); ok && (d < time.Second || d > maxRetryWait) {
			t.Fatalf("retryAfter(%q) = %s", h, d)
		}
	})
}

// FuzzRender: any payload renders to valid JSON or to an error, in both
// versions, for every kind.
func FuzzRender(f *testing.F) {
	for _, k := range Kinds {
		p, _ := SamplePayload(k)
		f.Add(k, string(p))
	}
	f.Add("Utilisation", `{"bundle":{"initialQuantity":"12x","startTime":7}}`)
	f.Add("Unknown", `{"a":[1,{"b":null}]}`)
	f.Fuzz(func(t *testing.T, kind, payload string) {
		for _, v := range []string{"V2", "V3"} {
			b, err := Render(kind, json.RawMessage(payload), v)
			if err == nil && !json.Valid(b) {
				t.Fatalf("Render(%q, %q, %s) = %s: not JSON", kind, payload, v, b)
			}
		}
	})
}
