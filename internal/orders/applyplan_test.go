package orders_test

import (
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orders"
)

// TestApplyPlansAcrossEntries is a property test over random inventory
// layouts and entry lists: an apply succeeds exactly when the inventory
// holds enough units of every bundle it names (summed over its entries),
// draws the oldest batches first across all entries, and never takes a
// batch below zero; a refused apply draws nothing.
func TestApplyPlansAcrossEntries(t *testing.T) {
	e := newEnv(t, envOptions{balance: "100000"})
	names := []string{b1GB, b2GB}
	rnd := rand.New(rand.NewPCG(15, 2026)) // seeded: a failure reproduces
	rounds := 30
	if testing.Short() {
		rounds = 8
	}
	for round := range rounds {
		e.org = e.newOrg(envOptions{balance: "100000"})
		// Batches of both bundles, bought an hour apart so that their age is
		// their order.
		var layout []orders.Batch
		for range 1 + rnd.IntN(4) {
			layout = append(layout, e.buy(names[rnd.IntN(len(names))], 1+rnd.IntN(3)))
			e.clock.Advance(time.Hour)
		}
		// At most AsyncThreshold units, so that the apply completes in its
		// own call.
		var entries []orders.ApplyEntry
		units := 0
		for range 1 + rnd.IntN(4) {
			n := rnd.IntN(3) // 0 means 1
			if units+max(n, 1) > orders.AsyncThreshold {
				break
			}
			units += max(n, 1)
			entries = append(entries, orders.ApplyEntry{Name: names[rnd.IntN(len(names))], Repeat: n})
		}
		need, have := map[string]int{}, map[string]int{}
		for _, en := range entries {
			need[en.Name] += max(en.Repeat, 1)
		}
		for _, b := range layout {
			have[b.BundleName] += b.Remaining
		}
		enough := true
		for name, n := range need {
			enough = enough && n <= have[name]
		}
		// What should be left: each bundle's demand drains its batches oldest
		// first.
		want := map[int64]int{}
		left := map[string]int{}
		for name, n := range need {
			left[name] = n
		}
		for _, b := range layout {
			take := 0
			if enough {
				take = min(left[b.BundleName], b.Remaining)
				left[b.BundleName] -= take
			}
			want[b.ID] = b.Remaining - take
		}
		desc := fmt.Sprintf("round %d: batches %v, entries %+v", round, describe(layout), entries)

		a, err := e.orders.Apply(e.ctx, e.org.ID, orders.ApplyRequest{Entries: entries})
		switch {
		case enough && err != nil:
			t.Fatalf("%s: %v; the inventory holds enough", desc, err)
		case !enough && err == nil:
			t.Fatalf("%s: applied although the inventory is short", desc)
		case !enough:
			wantKind(t, err, fault.Forbidden)
		case len(a.Units) != units:
			t.Fatalf("%s: %d units applied, want %d", desc, len(a.Units), units)
		}
		got := map[int64]int{}
		for _, b := range layout {
			r := e.batch(b.ID).Remaining
			if r < 0 {
				t.Fatalf("%s: batch %d went negative (%d)", desc, b.ID, r)
			}
			got[b.ID] = r
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Fatalf("%s: batch remaining (-want +got):\n%s", desc, diff)
		}
	}
}

func describe(bs []orders.Batch) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = fmt.Sprintf("%d:%s×%d", b.ID, b.BundleName, b.Remaining)
	}
	return out
}
