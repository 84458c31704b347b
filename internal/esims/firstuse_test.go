package esims_test

import (
	"testing"
)

// TestFirstUseToTheNearestKB: FirstUse is sent once per bundle, when its
// data use rounds to at least 1 kB (500 bytes), not before; on an unlimited
// bundle, when one record's charge does.
func TestFirstUseToTheNearestKB(t *testing.T) {
	for _, tc := range []struct {
		name   string
		bundle string
		steps  []int64 // bytes per record
		want   []int   // FirstUse notifications so far, after each step
	}{
		{"a 1 GB bundle", b1GB, []int64{1, 498, 1, 10_000}, []int{0, 0, 1, 1}},
		{"exactly 500 bytes", b1GB, []int64{500}, []int{1}},
		{"an unlimited bundle", bUL, []int64{499, 500, 500}, []int{0, 1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.installed()
			a := e.assign(s.ICCID, tc.bundle)
			for i, n := range tc.steps {
				e.use(s.ICCID, n)
				if got := len(e.events("FirstUse")); got != tc.want[i] {
					t.Errorf("after step %d (%d bytes): %d FirstUse notifications, want %d", i, n, got, tc.want[i])
				}
			}
			// The bundle started on its first record, whatever its size.
			if got := e.assignment(a.ID); got.StartedAt == nil || !got.StartedAt.Equal(e.clock.Now()) {
				t.Errorf("bundle start %v, want the first record's time", got.StartedAt)
			}
		})
	}
}
