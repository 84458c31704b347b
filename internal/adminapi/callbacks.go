package adminapi

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
)

// EndpointJSON is an organisation's callback configuration as the admin
// API (and esimd callbacks --json) shows it.
type EndpointJSON struct {
	OrganisationID    orgs.ID      `json:"organisationId"`
	CallbackURL       string       `json:"callbackUrl"`
	CallbackVersion   string       `json:"callbackVersion"`
	Sandbox           bool         `json:"sandbox"`
	SignatureEncoding string       `json:"signatureEncoding"`
	StandardWebhooks  bool         `json:"standardWebhooks"`
	BalanceThreshold  money.Amount `json:"balanceAlertThreshold"`
	EndpointDisabled  bool         `json:"endpointDisabled"`
	DisabledAt        *time.Time   `json:"disabledAt,omitempty"`
	DisabledReason    string       `json:"disabledReason,omitempty"`
	SigningKey        *KeyJSON     `json:"signingKey"` // null: V3 callbacks go unsigned
}

// KeyJSON names the API key that signs callbacks.
type KeyJSON struct {
	APIKeyID int64  `json:"apiKeyId"`
	Hint     string `json:"hint"`
}

// ToEndpointJSON converts an endpoint for output.
func ToEndpointJSON(e notify.Endpoint) EndpointJSON {
	out := EndpointJSON{OrganisationID: e.OrgID, CallbackURL: e.URL, CallbackVersion: e.Version, Sandbox: e.Sandbox,
		SignatureEncoding: string(e.SignatureEncoding), StandardWebhooks: e.StandardWebhooks, BalanceThreshold: e.BalanceThreshold,
		EndpointDisabled: e.Disabled}
	if e.Disabled {
		out.DisabledAt, out.DisabledReason = e.DisabledAt, e.DisabledReason
	}
	if e.SigningKey != nil {
		out.SigningKey = &KeyJSON{APIKeyID: e.SigningKey.APIKeyID, Hint: e.SigningKey.Hint}
	}
	return out
}

func orgID(r *http.Request) (orgs.ID, error) {
	n, err := pathInt(r, "org", "the organisation ID")
	return orgs.ID(n), err
}

// GET /admin/v1/organisations/{org}/callbacks
func (s *Server) getCallbacks(w http.ResponseWriter, r *http.Request) error {
	org, err := orgID(r)
	if err != nil {
		return err
	}
	e, err := s.cfg.Notify.Endpoint(r.Context(), org)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ToEndpointJSON(e))
	return nil
}

// PUT /admin/v1/organisations/{org}/callbacks: fields left out stay as
// they are; setting callbackUrl (even to the same URL) enables an endpoint
// disabled by a 410 Gone.
func (s *Server) putCallbacks(w http.ResponseWriter, r *http.Request) error {
	org, err := orgID(r)
	if err != nil {
		return err
	}
	var in struct {
		CallbackURL       *string       `json:"callbackUrl"`
		CallbackVersion   *string       `json:"callbackVersion"`
		SignatureEncoding *string       `json:"signatureEncoding"`
		StandardWebhooks  *bool         `json:"standardWebhooks"`
		BalanceThreshold  *money.Amount `json:"balanceAlertThreshold"`
	}
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	c := notify.Change{URL: in.CallbackURL, Version: in.CallbackVersion, StandardWebhooks: in.StandardWebhooks, BalanceThreshold: in.BalanceThreshold}
	if in.SignatureEncoding != nil {
		enc := notify.Encoding(*in.SignatureEncoding)
		c.SignatureEncoding = &enc
	}
	e, err := s.cfg.Notify.Configure(r.Context(), org, c)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ToEndpointJSON(e))
	return nil
}

// POST /admin/v1/organisations/{org}/callbacks/signing-key {"apiKey": …}:
// seal an existing API key so that V3 callbacks are signed with it (for
// keys issued before callback signing existed).
func (s *Server) sealSigningKey(w http.ResponseWriter, r *http.Request) error {
	org, err := orgID(r)
	if err != nil {
		return err
	}
	var in struct {
		APIKey string `json:"apiKey"`
	}
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	if in.APIKey == "" {
		return fault.Invalidf("apiKey is required: the organisation's API key, in clear")
	}
	if err := s.cfg.Notify.SealSigningKey(r.Context(), org, in.APIKey); err != nil {
		return err
	}
	e, err := s.cfg.Notify.Endpoint(r.Context(), org)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ToEndpointJSON(e))
	return nil
}

// AttemptJSON is one line of the delivery log as the admin API shows it.
type AttemptJSON struct {
	ID            int64      `json:"id"`
	EventID       *int64     `json:"eventId"` // null for a test send
	Kind          string     `json:"kind"`
	Attempt       int        `json:"attempt"`
	Replay        int        `json:"replay"`
	Test          bool       `json:"test"`
	URL           string     `json:"url"`
	At            time.Time  `json:"at"`
	StatusCode    int        `json:"statusCode"` // 0: no HTTP response
	LatencyMs     float64    `json:"latencyMs"`
	Response      string     `json:"response"`
	Error         string     `json:"error"`
	Outcome       string     `json:"outcome"`
	NextAttemptAt *time.Time `json:"nextAttemptAt"`
	Signature     string     `json:"signature"`
}

// ToAttemptJSON converts a delivery log line for output.
func ToAttemptJSON(a notify.Attempt) AttemptJSON {
	out := AttemptJSON{ID: a.ID, Kind: a.Kind, Attempt: a.Attempt, Replay: a.Replay, Test: a.Test, URL: a.URL, At: a.At,
		StatusCode: a.StatusCode, LatencyMs: float64(a.Latency.Microseconds()) / 1000, Response: a.Response, Error: a.Error,
		Outcome: a.Outcome, NextAttemptAt: a.NextAttemptAt, Signature: a.Signature}
	if a.EventID != 0 {
		id := a.EventID
		out.EventID = &id
	}
	return out
}

// POST /admin/v1/organisations/{org}/callbacks/test {"kind"?}: send a
// test body (or a sample of a notification kind) now and return the
// attempt.
func (s *Server) testCallback(w http.ResponseWriter, r *http.Request) error {
	org, err := orgID(r)
	if err != nil {
		return err
	}
	var in struct {
		Kind string `json:"kind"`
	}
	if err := decode(w, r, &in, true); err != nil {
		return err
	}
	a, err := s.cfg.Notify.TestSend(r.Context(), org, in.Kind)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ToAttemptJSON(a))
	return nil
}

// GET /admin/v1/organisations/{org}/callbacks/deliveries?eventId=&before=&limit=:
// the delivery log, newest first; page with before=<nextBefore>.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request) error {
	org, err := orgID(r)
	if err != nil {
		return err
	}
	var q notify.AttemptQuery
	if q.EventID, err = queryInt(r, "eventId"); err != nil {
		return err
	}
	if q.BeforeID, err = queryInt(r, "before"); err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	q.Limit = int(min(limit, notify.MaxListLimit+1))
	as, err := s.cfg.Notify.Deliveries(r.Context(), org, q)
	if err != nil {
		return err
	}
	out := struct {
		Deliveries []AttemptJSON `json:"deliveries"`
		NextBefore *int64        `json:"nextBefore"` // null on the last page
	}{Deliveries: make([]AttemptJSON, 0, len(as))}
	for _, a := range as {
		out.Deliveries = append(out.Deliveries, ToAttemptJSON(a))
	}
	if q.Limit == 0 {
		q.Limit = 100
	}
	if len(as) == q.Limit {
		last := as[len(as)-1].ID
		out.NextBefore = &last
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// EventJSON is an event with its delivery state as the admin API shows it.
type EventJSON struct {
	ID            int64           `json:"id"`
	Kind          string          `json:"kind"`
	ICCID         string          `json:"iccid,omitempty"`
	Date          time.Time       `json:"date"`
	Payload       json.RawMessage `json:"payload"`
	Status        string          `json:"status"`
	Attempts      int             `json:"attempts"`
	NextAttemptAt *time.Time      `json:"nextAttemptAt"` // pending events only
	LastAttemptAt *time.Time      `json:"lastAttemptAt"`
	DeliveredAt   *time.Time      `json:"deliveredAt"`
	LastError     string          `json:"lastError"`
	Replays       int             `json:"replays"`
}

// ToEventJSON converts an event for output.
func ToEventJSON(e notify.EventState) EventJSON {
	out := EventJSON{ID: e.ID, Kind: e.Kind, ICCID: e.ICCID, Date: e.At, Payload: e.Payload, Status: e.Status, Attempts: e.Attempts,
		LastAttemptAt: e.LastAttemptAt, DeliveredAt: e.DeliveredAt, LastError: e.LastError, Replays: e.Replays}
	if e.Status == notify.StatusPending {
		next := e.NextAttemptAt
		out.NextAttemptAt = &next
	}
	if len(out.Payload) == 0 {
		out.Payload = json.RawMessage("{}")
	}
	return out
}

// GET /admin/v1/organisations/{org}/callbacks/events?status=&after=&limit=:
// events with their delivery state, oldest first; page with after=<last id>.
func (s *Server) listEvents(w http.ResponseWriter, r *http.Request) error {
	org, err := orgID(r)
	if err != nil {
		return err
	}
	q := notify.EventQuery{Status: r.URL.Query().Get("status")}
	if q.AfterID, err = queryInt(r, "after"); err != nil {
		return err
	}
	limit, err := queryInt(r, "limit")
	if err != nil {
		return err
	}
	q.Limit = int(min(limit, notify.MaxListLimit+1))
	evs, err := s.cfg.Notify.Events(r.Context(), org, q)
	if err != nil {
		return err
	}
	out := struct {
		Events []EventJSON `json:"events"`
	}{Events: make([]EventJSON, 0, len(evs))}
	for _, e := range evs {
		out.Events = append(out.Events, ToEventJSON(e))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func eventID(r *http.Request) (int64, error) { return pathInt(r, "event", "the event ID") }

// GET /admin/v1/organisations/{org}/callbacks/events/{event}
func (s *Server) getEvent(w http.ResponseWriter, r *http.Request) error {
	org, err := orgID(r)
	if err != nil {
		return err
	}
	id, err := eventID(r)
	if err != nil {
		return err
	}
	e, err := s.cfg.Notify.Event(r.Context(), org, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, ToEventJSON(e))
	return nil
}

// POST /admin/v1/organisations/{org}/callbacks/events/{event}/replay
func (s *Server) replayEvent(w http.ResponseWriter, r *http.Request) error {
	org, err := orgID(r)
	if err != nil {
		return err
	}
	id, err := eventID(r)
	if err != nil {
		return err
	}
	e, err := s.cfg.Notify.Replay(r.Context(), org, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, ToEventJSON(e))
	return nil
}

// POST /admin/v1/organisations/{org}/callbacks/replay
// {"from": RFC 3339, "to": RFC 3339, "status": ["failed", …]?}: send again
// the events dated in [from, to) (the organisation's clock).
func (s *Server) replayRange(w http.ResponseWriter, r *http.Request) error {
	org, err := orgID(r)
	if err != nil {
		return err
	}
	var in struct {
		From   string   `json:"from"`
		To     string   `json:"to"`
		Status []string `json:"status"`
	}
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	from, err := parseTime("from", in.From)
	if err != nil {
		return err
	}
	to, err := parseTime("to", in.To)
	if err != nil {
		return err
	}
	n, err := s.cfg.Notify.ReplayRange(r.Context(), org, from, to, in.Status)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"queued": n})
	return nil
}

func parseTime(name, v string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return t, fault.Invalidf("%s must be an RFC 3339 time such as 2026-03-01T12:00:00Z, got %q", name, truncate(v, 40))
	}
	return t, nil
}
