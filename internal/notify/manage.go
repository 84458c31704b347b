package notify

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

// Endpoint is an organisation's callback configuration.
type Endpoint struct {
	OrgID   orgs.ID
	URL     string // "" when callbacks are off
	Version string // orgs.CallbackV2 or V3
	Sandbox bool
	Settings
	// Disabled is true while the endpoint is disabled after a 410 Gone.
	Disabled bool
	// SigningKey is the API key that signs, nil when callbacks go unsigned.
	SigningKey *KeyInfo
}

// KeyInfo names an API key without revealing it.
type KeyInfo struct {
	APIKeyID int64
	Hint     string
}

// org loads an organisation. Errors: NotFound.
func (s *Service) org(ctx context.Context, id orgs.ID) (orgs.Organisation, error) {
	o, err := s.store.Organisation(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return o, fault.NotFoundf("organisation %d does not exist", id)
	}
	return o, err
}

// Endpoint returns an organisation's callback configuration.
// Errors: NotFound.
func (s *Service) Endpoint(ctx context.Context, org orgs.ID) (Endpoint, error) {
	o, err := s.org(ctx, org)
	if err != nil {
		return Endpoint{}, err
	}
	st, err := s.store.CallbackSettings(ctx, org)
	if err != nil {
		return Endpoint{}, err
	}
	e := Endpoint{OrgID: o.ID, URL: o.CallbackURL, Version: o.CallbackVersion, Sandbox: o.Sandbox, Settings: st,
		Disabled: o.CallbackURL != "" && st.Disabled(o.CallbackURL)}
	if len(s.secret) > 0 {
		k, err := s.store.SigningKey(ctx, org)
		switch {
		case err == nil:
			if _, err := unseal(s.secret, org, k.APIKeyID, k.Sealed); err == nil {
				e.SigningKey = &KeyInfo{APIKeyID: k.APIKeyID, Hint: k.Hint}
			}
		case !fault.Is(err, fault.NotFound):
			return Endpoint{}, err
		}
	}
	return e, nil
}

// Change is a partial change of callback settings; nil fields stay.
type Change struct {
	// URL sets the callback URL ("" turns callbacks off). Setting it, even
	// to the same URL, enables an endpoint disabled by a 410 Gone.
	URL               *string
	Version           *string // V2 or V3
	SignatureEncoding *Encoding
	StandardWebhooks  *bool
	BalanceThreshold  *money.Amount
}

// Configure changes an organisation's callback settings in one
// transaction. A live organisation's URL may not name localhost or a
// literal non-public address unless private callbacks are allowed (host
// names are checked on every delivery). Errors: NotFound, Invalid.
func (s *Service) Configure(ctx context.Context, org orgs.ID, c Change) (Endpoint, error) {
	if c.SignatureEncoding != nil && *c.SignatureEncoding != Base64 && *c.SignatureEncoding != Hex {
		return Endpoint{}, fault.Invalidf("signatureEncoding must be base64 or hex, got %q", *c.SignatureEncoding)
	}
	if c.BalanceThreshold != nil && *c.BalanceThreshold < 0 {
		return Endpoint{}, fault.Invalidf("balanceAlertThreshold must not be negative, got %s", *c.BalanceThreshold)
	}
	if c.Version != nil {
		v := strings.ToUpper(strings.TrimSpace(*c.Version))
		if v != orgs.CallbackV2 && v != orgs.CallbackV3 {
			return Endpoint{}, fault.Invalidf("callbackVersion must be V2 or V3, got %q", *c.Version)
		}
		c.Version = &v
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		o, err := s.org(ctx, org)
		if err != nil {
			return err
		}
		if c.URL != nil {
			u := strings.TrimSpace(*c.URL)
			c.URL = &u
			if err := checkURL(u, !o.Sandbox && !s.allowPvt); err != nil {
				return fault.Invalidf("%v", err)
			}
		}
		if c.URL != nil || c.Version != nil {
			if s.orgs == nil {
				return fault.E(fault.Unavailable, "changing the callback URL is not wired in this build")
			}
			if _, err := s.orgs.Update(ctx, org, orgs.Update{CallbackURL: c.URL, CallbackVersion: c.Version}); err != nil {
				return err
			}
		}
		st, err := s.store.CallbackSettings(ctx, org)
		if err != nil {
			return err
		}
		if c.SignatureEncoding != nil {
			st.SignatureEncoding = *c.SignatureEncoding
		}
		if c.StandardWebhooks != nil {
			st.StandardWebhooks = *c.StandardWebhooks
		}
		if c.BalanceThreshold != nil {
			st.BalanceThreshold = *c.BalanceThreshold
		}
		if c.URL != nil {
			st.DisabledAt, st.DisabledURL, st.DisabledReason = nil, "", ""
		}
		return s.store.PutCallbackSettings(ctx, org, st, s.now())
	})
	if err != nil {
		return Endpoint{}, err
	}
	s.wake()
	return s.Endpoint(ctx, org)
}

// SealSigningKey keeps a sealed copy of an API key, just issued in clear,
// so that V3 callbacks can be signed with it (esimd stores keys only as
// hashes). Call it right after a key is created; it joins the transaction
// in ctx. Errors: NotFound (not an active key of the organisation),
// Unavailable (the server has no secret key).
func (s *Service) SealSigningKey(ctx context.Context, org orgs.ID, apiKey string) error {
	if len(s.secret) == 0 {
		return fault.E(fault.Unavailable, "the server has no secret key (ESIMD_SECRET_KEY) to seal API keys with; callbacks go unsigned")
	}
	return s.store.InTx(ctx, func(ctx context.Context) error {
		id, err := s.store.APIKeyID(ctx, org, orgs.HashKey(apiKey))
		if fault.Is(err, fault.NotFound) {
			return fault.NotFoundf("that API key is not an active key of organisation %d", org)
		}
		if err != nil {
			return err
		}
		sealed, err := seal(s.secret, org, id, apiKey)
		if err != nil {
			return err
		}
		return s.store.PutSigningKey(ctx, org, id, sealed, s.now())
	})
}

// MaxListLimit bounds one page of the log and of events.
const MaxListLimit = 1000

func checkLimit(n int) (int, error) {
	switch {
	case n == 0:
		return 100, nil
	case n < 1 || n > MaxListLimit:
		return 0, fault.Invalidf("limit must be 1 to %d, got %d", MaxListLimit, n)
	}
	return n, nil
}

// Deliveries returns the delivery log of an organisation, newest first:
// every attempt with its time, status code, latency, response excerpt and
// error. Errors: NotFound, Invalid.
func (s *Service) Deliveries(ctx context.Context, org orgs.ID, q AttemptQuery) ([]Attempt, error) {
	var err error
	if q.Limit, err = checkLimit(q.Limit); err != nil {
		return nil, err
	}
	if _, err := s.org(ctx, org); err != nil {
		return nil, err
	}
	return s.store.Attempts(ctx, org, q)
}

// Events returns an organisation's events with their delivery state,
// oldest first. Errors: NotFound, Invalid.
func (s *Service) Events(ctx context.Context, org orgs.ID, q EventQuery) ([]EventState, error) {
	var err error
	if q.Limit, err = checkLimit(q.Limit); err != nil {
		return nil, err
	}
	if q.Status != "" && !slices.Contains(statuses, q.Status) {
		return nil, fault.Invalidf("status must be one of %s, got %q", strings.Join(statuses, ", "), q.Status)
	}
	if _, err := s.org(ctx, org); err != nil {
		return nil, err
	}
	return s.store.EventStates(ctx, org, q)
}

// Event returns one event with its delivery state. Errors: NotFound.
func (s *Service) Event(ctx context.Context, org orgs.ID, eventID int64) (EventState, error) {
	ev, err := s.store.EventState(ctx, org, eventID)
	if fault.Is(err, fault.NotFound) {
		return ev, fault.NotFoundf("organisation %d has no event %d", org, eventID)
	}
	return ev, err
}

var statuses = []string{StatusPending, StatusDelivered, StatusFailed, StatusSkipped}

// Replay sends an event again, whatever its status: it becomes pending
// with a fresh retry schedule (and the same event ID, so a receiver that
// saw it can tell). It goes out in order with its eSIM's other pending
// events. Errors: NotFound.
func (s *Service) Replay(ctx context.Context, org orgs.ID, eventID int64) (EventState, error) {
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		_, err := s.store.Requeue(ctx, org, eventID, time.Time{}, time.Time{}, nil, s.now())
		if fault.Is(err, fault.NotFound) {
			return fault.NotFoundf("organisation %d has no event %d", org, eventID)
		}
		return err
	})
	if err != nil {
		return EventState{}, err
	}
	s.wake()
	return s.Event(ctx, org, eventID)
}

// ReplayRange sends again the events of an organisation dated in
// [from, to) (the organisation's clock, as in each event's date) whose
// delivery status is one of only (every status when empty). It returns how
// many were queued. Errors: NotFound, Invalid.
func (s *Service) ReplayRange(ctx context.Context, org orgs.ID, from, to time.Time, only []string) (int, error) {
	if from.IsZero() || to.IsZero() || !from.Before(to) {
		return 0, fault.Invalidf("give from and to (RFC 3339) with from before to")
	}
	for _, st := range only {
		if !slices.Contains(statuses, st) {
			return 0, fault.Invalidf("status must be one of %s, got %q", strings.Join(statuses, ", "), st)
		}
	}
	var n int
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.org(ctx, org); err != nil {
			return err
		}
		var err error
		n, err = s.store.Requeue(ctx, org, 0, from, to, only, s.now())
		return err
	})
	if err == nil && n > 0 {
		s.wake()
	}
	return n, err
}

// CanSign reports whether the server has a secret key to seal API keys
// with, so that V3 callbacks are signed.
func (s *Service) CanSign() bool { return len(s.secret) > 0 }
