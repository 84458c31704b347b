package background

import (
	"context"
	"sync/atomic"
	"testing"
	"time"
)

func TestStopWaitsForTheLoop(t *testing.T) {
	var r Runner
	var running, finished atomic.Bool
	started := make(chan struct{})
	r.Start(context.Background(), func(ctx context.Context) {
		running.Store(true)
		close(started)
		<-ctx.Done()
		time.Sleep(20 * time.Millisecond) // work in progress at shutdown
		finished.Store(true)
	})
	<-started
	r.Start(context.Background(), func(context.Context) { t.Error("a second loop started") })
	r.Stop()
	if !running.Load() || !finished.Load() {
		t.Fatal("Stop returned before the loop finished")
	}
	r.Stop() // a second Stop is harmless
	ran := make(chan struct{})
	r.Start(context.Background(), func(ctx context.Context) { close(ran); <-ctx.Done() })
	<-ran
	r.Stop()
}

func TestParentContextEndsTheLoop(t *testing.T) {
	var r Runner
	ctx, cancel := context.WithCancel(context.Background())
	ended := make(chan struct{})
	r.Start(ctx, func(ctx context.Context) { <-ctx.Done(); close(ended) })
	cancel()
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("the loop did not see its parent context end")
	}
	r.Stop()
}
