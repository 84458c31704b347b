package notify

import (
	"context"
	"log/slog"
	"time"

	"github.com/esimd/esimd/internal/background"
)

// Worker delivers callbacks in the background: it claims due events as
// slots free up (Concurrency in all, PerOrg per organisation), sends them
// concurrently and records finished attempts in batches. It has an owner:
// Start it once, Stop it before closing the database.
type Worker struct {
	svc      *Service
	interval time.Duration
	log      *slog.Logger
	run      background.Runner
}

// NewWorker returns a worker that looks for due callbacks every interval
// (0: one second), whenever Kick is called, and as soon as a slot frees.
func NewWorker(svc *Service, interval time.Duration, log *slog.Logger) *Worker {
	if interval <= 0 {
		interval = time.Second
	}
	if log == nil {
		log = svc.log
	}
	return &Worker{svc: svc, interval: interval, log: log}
}

// Start runs the worker until Stop or ctx ends.
func (w *Worker) Start(ctx context.Context) { w.run.Start(ctx, w.loop) }

// Kick asks the worker to look for due callbacks now.
func (w *Worker) Kick() { w.svc.wake() }

// Stop ends the worker. Attempts in flight finish (each within the attempt
// timeout) and are recorded before it returns; nothing new is claimed.
func (w *Worker) Stop() { w.run.Stop() }

func (w *Worker) loop(ctx context.Context) {
	s := w.svc
	tick := time.NewTicker(w.interval)
	defer tick.Stop()
	results := make(chan *job, s.conc) // never blocks: at most conc in flight
	inflight := 0
	var finished []*job
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
				if _, _, err := s.cycle(ctx, finished, 0, 0); err != nil {
					w.log.Error("recording callback attempts at shutdown failed; they are retried after the next start", "attempts", len(finished), "error", err)
				}
			}
			return
		}
		asked := 0
		if !stopping {
			asked = s.conc - (inflight - len(finished))
		}
		var jobs []*job
		skipped := 0
		if len(finished) > 0 || asked > 0 {
			var err error
			jobs, skipped, err = s.cycle(ctx, finished, 0, asked)
			if err != nil {
				// The leases run out and the events are sent again: at least once.
				w.log.Error("recording or claiming callbacks failed; unrecorded attempts are retried when their lease ends",
					"attempts", len(finished), "error", err)
			}
			inflight -= len(finished)
			finished = nil
		}
		for _, j := range jobs {
			inflight++
			go func() {
				s.send(ctx, j, ctx.Done())
				results <- j
			}()
		}
		if asked > 0 && (len(jobs) == asked || skipped > 0) && inflight < s.conc {
			continue // a full claim, or events skipped: more may be due
		}
		select {
		case j := <-results:
			finished = append(finished, j)
		case <-tick.C:
		case <-s.kick:
		case <-stop:
			stop = nil // from now on only wait for what is in flight
		}
	}
}
