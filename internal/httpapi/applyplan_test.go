package httpapi_test

import (
	"testing"
)

// TestApplySameBundleTwiceDrawsAcrossBatches: an apply naming one bundle
// in several entries ([X, X]), and the deprecated apply with repeat,
// plan their units over every batch, oldest first, instead of asking the
// oldest batch for more than it holds.
func TestApplySameBundleTwiceDrawsAcrossBatches(t *testing.T) {
	type inventory struct {
		Bundles []struct {
			Name      string
			Available []struct{ Remaining int }
		}
	}
	for _, tc := range []struct {
		name  string
		apply func(e *env) response
	}{
		{"bundles [X, X]", func(e *env) response {
			return e.post("/v2.5/esims/apply", `{"bundles":[{"name":"esim_1GB_7D_GB_V2"},{"name":"esim_1GB_7D_GB_V2"}]}`)
		}},
		{"deprecated repeat", func(e *env) response {
			_, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
			iccid := iccids[0]
			return e.post("/v2.2/esims/"+iccid+"/bundles", `{"name":"esim_1GB_7D_GB_V2","repeat":2}`)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, envOptions{})
			// Two batches: the oldest holds one unit, the newer two.
			for _, qty := range []string{"1", "2"} {
				if res := e.post("/v2.5/orders", `{"type":"transaction","assign":false,"order":[{"type":"bundle","item":"esim_1GB_7D_GB_V2","quantity":`+qty+`}]}`); res.status != 200 {
					t.Fatalf("buy into inventory: %d %s", res.status, res.body)
				}
				e.advance(1)
			}
			if res := tc.apply(e); res.status != 200 {
				t.Fatalf("apply two units of three in stock: %d %s", res.status, res.body)
			}
			var inv inventory
			e.get("/v2.5/inventory").json(t, &inv)
			var left []int
			for _, b := range inv.Bundles {
				for _, a := range b.Available {
					left = append(left, a.Remaining)
				}
			}
			if len(left) != 1 || left[0] != 1 {
				t.Errorf("inventory left %v, want one batch with 1 unit (the oldest emptied first)", left)
			}
		})
	}
}
