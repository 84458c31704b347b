package esims_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/esims"
)

// TestDueWorkerPausesOnAFailingItem: an item long overdue whose handler
// fails is postponed by an hour of its own time, which leaves it due; the
// worker must not run it again page after page, only after a pause.
func TestDueWorkerPausesOnAFailingItem(t *testing.T) {
	e := newEnv(t)
	var calls atomic.Int64
	e.engine.HandleDue("test.always_fails", func(ctx context.Context, d esims.DueItem) error {
		calls.Add(1)
		return errors.New("the handler cannot do it")
	})
	if err := e.db.InTx(e.ctx, func(ctx context.Context) error {
		return e.db.ScheduleDue(ctx, esims.DueItem{OrgID: e.org.ID, Kind: "test.always_fails", SubjectID: 1, DueAt: e.clock.Now().Add(-30 * 24 * time.Hour)})
	}); err != nil {
		t.Fatal(err)
	}
	w := esims.NewWorker(e.engine, 5*time.Millisecond, nil)
	w.Start(e.ctx)
	time.Sleep(300 * time.Millisecond)
	w.Stop()
	if n := calls.Load(); n != 1 {
		t.Fatalf("the failing item ran %d times in 300 ms, want once (then a pause)", n)
	}
}
