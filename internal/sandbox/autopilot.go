package sandbox

import (
	"context"
	"log/slog"
	"time"

	"github.com/esimd/esimd/internal/background"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// Autopilot is a background simulation for demos and soak tests: every
// installed eSIM of the organisation that is registered on a network uses
// data at a steady rate, through the same usage function as everything
// else.
type Autopilot struct {
	Enabled      bool  `json:"enabled"`
	BytesPerHour int64 `json:"bytesPerHour"`
}

// SetAutopilot turns the simulation on or off for an organisation.
// Errors: Invalid, Forbidden.
func (s *Service) SetAutopilot(ctx context.Context, org orgs.ID, a Autopilot) (Autopilot, error) {
	if _, err := s.sandboxOrg(ctx, org); err != nil {
		return a, err
	}
	if a.Enabled && (a.BytesPerHour <= 0 || a.BytesPerHour > 1e13) {
		return a, fault.Invalidf("bytesPerHour must be between 1 and 10^13 when enabled, got %d", a.BytesPerHour)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.autopilot == nil {
		s.autopilot = map[orgs.ID]*autopilotState{}
	}
	if !a.Enabled {
		delete(s.autopilot, org)
		return a, nil
	}
	s.autopilot[org] = &autopilotState{Autopilot: a, last: s.now()}
	return a, nil
}

// AutopilotOf returns an organisation's simulation settings.
func (s *Service) AutopilotOf(org orgs.ID) Autopilot {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st, ok := s.autopilot[org]; ok {
		return st.Autopilot
	}
	return Autopilot{}
}

type autopilotState struct {
	Autopilot
	last  time.Time
	carry int64 // bytes earned but not yet used (below one byte per eSIM)
}

// Tick runs one step of every enabled simulation: the bytes each eSIM has
// earned since the last step at the configured rate.
func (s *Service) Tick(ctx context.Context) error {
	s.mu.Lock()
	type job struct {
		org   orgs.ID
		bytes int64
	}
	var jobs []job
	now := s.now()
	for org, st := range s.autopilot {
		earned := int64(now.Sub(st.last).Seconds()*float64(st.BytesPerHour)/3600) + st.carry
		st.last, st.carry = now, 0
		if earned > 0 {
			jobs = append(jobs, job{org, earned})
		}
	}
	s.mu.Unlock()
	for _, j := range jobs {
		if err := s.simulate(ctx, j.org, j.bytes); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) simulate(ctx context.Context, org orgs.ID, bytes int64) error {
	for page := 1; ; page++ {
		list, total, err := s.esims.List(ctx, org, esims.ListQuery{Page: page, PerPage: 100})
		if err != nil {
			return err
		}
		for _, e := range list {
			if e.State != esims.StateActive || e.ProfileStatus != esims.ProfileInstalled || e.Location.Country == "" {
				continue
			}
			_, err := s.esims.ApplyUsage(ctx, esims.UsageRecord{Org: org, ICCID: e.ICCID, Bytes: bytes})
			if err != nil && fault.KindOf(err) == fault.Internal {
				return err
			}
		}
		if page*100 >= total {
			return nil
		}
	}
}

// AutopilotWorker ticks the simulations. Start it once; Stop it before
// closing the database.
type AutopilotWorker struct {
	svc      *Service
	interval time.Duration
	log      *slog.Logger
	run      background.Runner
}

// NewAutopilotWorker returns a worker ticking every interval.
func NewAutopilotWorker(svc *Service, interval time.Duration, log *slog.Logger) *AutopilotWorker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &AutopilotWorker{svc: svc, interval: interval, log: log}
}

// Start runs the worker until Stop or ctx ends.
func (w *AutopilotWorker) Start(ctx context.Context) {
	w.run.Start(ctx, func(ctx context.Context) {
		t := time.NewTicker(w.interval)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := w.svc.Tick(ctx); err != nil && ctx.Err() == nil {
					w.log.Error("sandbox autopilot step failed", "error", err)
				}
			}
		}
	})
}

// Stop ends the worker and waits for the step in progress.
func (w *AutopilotWorker) Stop() { w.run.Stop() }
