// Package background gives a goroutine an owner: a Runner starts a loop
// once and Stop cancels it and waits until it has returned, so that
// nothing outlives the database it uses.
package background

import (
	"context"
	"sync"
)

// Runner runs one loop at a time. The zero value is ready to use.
type Runner struct {
	mu     sync.Mutex
	cancel context.CancelFunc
	done   chan struct{}
}

// Start runs loop in a goroutine until Stop is called or ctx ends. A second
// Start while running does nothing.
func (r *Runner) Start(ctx context.Context, loop func(ctx context.Context)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cancel != nil {
		return
	}
	ctx, r.cancel = context.WithCancel(ctx)
	done := make(chan struct{})
	r.done = done
	go func() {
		defer close(done)
		loop(ctx)
	}()
}

// Stop cancels the loop's context and waits for the loop to return.
func (r *Runner) Stop() {
	r.mu.Lock()
	cancel, done := r.cancel, r.done
	r.cancel, r.done = nil, nil
	r.mu.Unlock()
	if cancel != nil {
		cancel()
		<-done
	}
}
