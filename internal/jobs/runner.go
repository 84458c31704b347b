// Package jobs is esimd's one job runner: every kind of background work
// (due lifecycle work, callback delivery, and queued jobs that call an
// outside system such as an SM-DP+) is a Kind on a Runner. A Runner
// repeats one cycle: in one transaction it records what finished jobs did
// and claims new ones; it then works the claimed jobs concurrently outside
// any transaction (that is where webhooks and SM-DP+ calls happen), and
// feeds them back into the next cycle. Claims are leases in the database,
// so a job whose worker died is claimed again when its lease ends: work is
// done at least once, and a kind that must not repeat an outside effect
// keys the effect (an idempotency key, a function call identifier).
//
// The package holds no SQL: a Kind claims and records through its own
// store, and Queue is the general table-backed kind (jobs table, FOR
// UPDATE SKIP LOCKED on PostgreSQL, the group-commit writer on SQLite).
package jobs

import (
	"context"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/esimd/esimd/internal/background"
)

// Kind is one kind of background work. J is a claimed job as the kind
// represents it (a lease, a batch, a chain of events).
type Kind[J any] interface {
	// Cycle records the outcome of finished jobs and claims up to limit
	// new ones, in one transaction, so that a busy kind commits once per
	// cycle. limit is 0 when the runner only records (at shutdown, or
	// with every slot busy). more reports that another cycle may claim
	// more at once (a full claim, or jobs settled without work).
	Cycle(ctx context.Context, finished []J, limit int) (claimed []J, more bool, err error)
	// Work does one claimed job outside any transaction. stop is closed
	// when the runner shuts down: a job made of several steps stops
	// between them, and what it did is recorded.
	Work(ctx context.Context, job J, stop <-chan struct{})
}

// Config paces a Runner.
type Config struct {
	// Name names the kind in log lines.
	Name string
	// Concurrency is how many jobs are worked at once (0: 1).
	Concurrency int
	// Interval is how often the runner looks for due jobs when nothing
	// wakes it sooner (0: one second).
	Interval time.Duration
	// Wake, when set, wakes the runner as Kick does (a kind that knows
	// when work arrives, such as the callback outbox).
	Wake   <-chan struct{}
	Logger *slog.Logger
	// Tracer records a span per cycle and per job worked; nil records none.
	Tracer trace.Tracer
}

// Runner drives one Kind. It has an owner: Start it once, Stop it before
// closing the database.
type Runner[J any] struct {
	kind Kind[J]
	cfg  Config
	kick chan struct{}
	run  background.Runner
}

// New returns a Runner for kind.
func New[J any](kind Kind[J], cfg Config) *Runner[J] {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 1
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Tracer == nil {
		cfg.Tracer = noop.NewTracerProvider().Tracer("")
	}
	return &Runner[J]{kind: kind, cfg: cfg, kick: make(chan struct{}, 1)}
}

// SetTracer makes the runner record spans with t; call it before Start.
func (r *Runner[J]) SetTracer(t trace.Tracer) {
	if t != nil {
		r.cfg.Tracer = t
	}
}

// cycle runs one Cycle of the kind and records it as a span when it did
// something (recorded or claimed jobs, or failed): an idle runner looks
// for work every interval, and a span for each look would bury the rest.
func (r *Runner[J]) cycle(ctx context.Context, finished []J, limit int) ([]J, bool, error) {
	start := time.Now()
	claimed, more, err := r.kind.Cycle(ctx, finished, limit)
	if len(finished) == 0 && len(claimed) == 0 && err == nil {
		return claimed, more, err
	}
	_, span := r.cfg.Tracer.Start(ctx, "jobs.cycle "+r.cfg.Name, trace.WithTimestamp(start), trace.WithAttributes(
		attribute.String("jobs.kind", r.cfg.Name), attribute.Int("jobs.finished", len(finished)),
		attribute.Int("jobs.limit", limit), attribute.Int("jobs.claimed", len(claimed))))
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, "cycle failed")
	}
	span.End()
	return claimed, more, err
}

// work works one job inside a span (outside calls it makes nest under it).
func (r *Runner[J]) work(ctx context.Context, j J, stop <-chan struct{}) {
	ctx, span := r.cfg.Tracer.Start(ctx, "jobs.work "+r.cfg.Name, trace.WithAttributes(attribute.String("jobs.kind", r.cfg.Name)))
	defer span.End()
	r.kind.Work(ctx, j, stop)
}

// Start runs the runner until Stop or ctx ends.
func (r *Runner[J]) Start(ctx context.Context) { r.run.Start(ctx, r.loop) }

// Stop ends the runner: jobs being worked finish and are recorded before
// it returns; nothing new is claimed.
func (r *Runner[J]) Stop() { r.run.Stop() }

// Kick asks the runner to look for due jobs now.
func (r *Runner[J]) Kick() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

func (r *Runner[J]) loop(ctx context.Context) {
	conc := r.cfg.Concurrency
	tick := time.NewTicker(r.cfg.Interval)
	defer tick.Stop()
	results := make(chan J, conc) // never blocks: at most conc in flight
	inflight := 0
	var finished []J
	stop := ctx.Done()
	for {
	collect:
		for {
			select {
			case j := <-results:
				finished = append(finished, j)
			default:
				break collect
			}
		}
		stopping := ctx.Err() != nil
		if stopping && inflight == len(finished) {
			if len(finished) > 0 {
				// Recorded without the cancelled context: the results are
				// real, and losing them would repeat the work.
				if _, _, err := r.cycle(context.WithoutCancel(ctx), finished, 0); err != nil {
					r.cfg.Logger.Error("recording finished jobs at shutdown failed; they run again after their leases end",
						"kind", r.cfg.Name, "jobs", len(finished), "error", err)
				}
			}
			return
		}
		asked := 0
		if !stopping {
			asked = conc - (inflight - len(finished))
		}
		var claimed []J
		more := false
		if len(finished) > 0 || asked > 0 {
			// Stopping, the cycle only records: on the cancelled context its
			// transaction could not start, and the finished jobs would run
			// again after their leases, repeating what they did outside.
			cctx := ctx
			if stopping {
				cctx = context.WithoutCancel(ctx)
			}
			var err error
			claimed, more, err = r.cycle(cctx, finished, asked)
			if err != nil && ctx.Err() == nil {
				r.cfg.Logger.Error("a job cycle failed; unrecorded jobs run again when their leases end",
					"kind", r.cfg.Name, "finished", len(finished), "error", err)
			}
			inflight -= len(finished)
			finished = nil
		}
		for _, j := range claimed {
			inflight++
			go func() {
				r.work(ctx, j, ctx.Done())
				results <- j
			}()
		}
		if asked > 0 && (len(claimed) == asked || more) && inflight < conc {
			continue
		}
		select {
		case j := <-results:
			finished = append(finished, j)
		case <-tick.C:
		case <-r.kick:
		case <-r.cfg.Wake:
		case <-stop:
			stop = nil // from now on only wait for what is in flight
		}
	}
}
