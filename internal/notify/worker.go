package notify

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/esimd/esimd/internal/jobs"
)

// Worker delivers callbacks in the background: callback delivery is a kind
// on the job runner. Each cycle records finished attempts and claims due
// chains of events as slots free up (Concurrency in all, PerOrg per
// organisation) in one transaction; the chains are sent concurrently,
// outside any transaction. It has an owner: Start it once, Stop it before
// closing the database.
type Worker struct {
	svc    *Service
	runner *jobs.Runner[*job]
}

// NewWorker returns a worker that looks for due callbacks every interval
// (0: one second), whenever Kick is called or an event is written, and as
// soon as a slot frees.
func NewWorker(svc *Service, interval time.Duration, log *slog.Logger) *Worker {
	if log == nil {
		log = svc.log
	}
	return &Worker{svc: svc, runner: jobs.New[*job](deliveryKind{svc}, jobs.Config{
		Name: "callback", Concurrency: svc.conc, Interval: interval, Wake: svc.kick, Logger: log})}
}

// SetTracer records a span per delivery cycle and chain sent; call it
// before Start.
func (w *Worker) SetTracer(t trace.Tracer) { w.runner.SetTracer(t) }

// Start runs the worker until Stop or ctx ends.
func (w *Worker) Start(ctx context.Context) { w.runner.Start(ctx) }

// Kick asks the worker to look for due callbacks now.
func (w *Worker) Kick() { w.svc.wake() }

// Stop ends the worker. Attempts in flight finish (each within the attempt
// timeout) and are recorded before it returns; nothing new is claimed.
func (w *Worker) Stop() { w.runner.Stop() }

// deliveryKind is callback delivery as a job kind: a job is a leased chain
// of one stream's due events.
type deliveryKind struct{ s *Service }

func (k deliveryKind) Cycle(ctx context.Context, finished []*job, limit int) ([]*job, bool, error) {
	claimed, skipped, err := k.s.cycle(ctx, finished, 0, limit)
	return claimed, skipped > 0, err
}

func (k deliveryKind) Work(ctx context.Context, j *job, stop <-chan struct{}) { k.s.send(ctx, j, stop) }
