package esimapi

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Admin calls esimd's operator API (/admin/v1): organisations and their
// balances, and the callback settings, delivery log, replays and test
// sends of any organisation. It
// authenticates with the operator admin token (ESIMD_ADMIN_TOKEN on the
// server), not an organisation's API key; eSIM Go has no such API.
type Admin struct {
	c     *Client
	token string
}

// Admin returns the operator API client for token.
func (c *Client) Admin(token string) *Admin { return &Admin{c: c, token: token} }

func (a *Admin) do(ctx context.Context, method, path string, query url.Values, body, out any, opts []CallOption) error {
	opts = append([]CallOption{WithHeader("Authorization", "Bearer "+a.token)}, opts...)
	return a.c.do(ctx, call{method: method, path: "/admin/v1" + path, query: query, body: body, opts: opts}, out)
}

func orgPath(org int64) string { return "/organisations/" + strconv.FormatInt(org, 10) + "/callbacks" }

// CallbackSettings is an organisation's callback configuration.
type CallbackSettings struct {
	OrganisationID int64  `json:"organisationId"`
	CallbackURL    string `json:"callbackUrl"`
	// CallbackVersion is V2 (unsigned) or V3 (signed).
	CallbackVersion string `json:"callbackVersion"`
	Sandbox         bool   `json:"sandbox"`
	// SignatureEncoding is how X-Signature-SHA256 is written: base64 or hex.
	SignatureEncoding string `json:"signatureEncoding"`
	// StandardWebhooks adds webhook-id, webhook-timestamp and
	// webhook-signature.
	StandardWebhooks      bool  `json:"standardWebhooks"`
	BalanceAlertThreshold Money `json:"balanceAlertThreshold"`
	// EndpointDisabled is set when the receiver answered 410 Gone; setting
	// CallbackURL again enables it.
	EndpointDisabled bool      `json:"endpointDisabled"`
	DisabledAt       time.Time `json:"disabledAt"`
	DisabledReason   string    `json:"disabledReason,omitempty"`
	// SigningKey names the API key V3 callbacks are signed with; nil means
	// they go unsigned.
	SigningKey *SigningKey `json:"signingKey"`
}

// SigningKey identifies the API key that signs callbacks.
type SigningKey struct {
	APIKeyID int64  `json:"apiKeyId"`
	Hint     string `json:"hint"`
}

// CallbackSettingsChange changes callback settings; nil fields stay as
// they are.
type CallbackSettingsChange struct {
	CallbackURL           *string `json:"callbackUrl,omitempty"`
	CallbackVersion       *string `json:"callbackVersion,omitempty"`
	SignatureEncoding     *string `json:"signatureEncoding,omitempty"`
	StandardWebhooks      *bool   `json:"standardWebhooks,omitempty"`
	BalanceAlertThreshold *Money  `json:"balanceAlertThreshold,omitempty"`
}

// CallbackSettings calls GET /admin/v1/organisations/{org}/callbacks.
func (a *Admin) CallbackSettings(ctx context.Context, org int64, opts ...CallOption) (CallbackSettings, error) {
	var s CallbackSettings
	err := a.do(ctx, http.MethodGet, orgPath(org), nil, nil, &s, opts)
	return s, err
}

// UpdateCallbackSettings calls PUT /admin/v1/organisations/{org}/callbacks.
func (a *Admin) UpdateCallbackSettings(ctx context.Context, org int64, ch CallbackSettingsChange, opts ...CallOption) (CallbackSettings, error) {
	var s CallbackSettings
	err := a.do(ctx, http.MethodPut, orgPath(org), nil, ch, &s, opts)
	return s, err
}

// SealSigningKey calls POST …/callbacks/signing-key: V3 callbacks are
// signed with apiKey (an existing key of the organisation, in clear) from
// now on.
func (a *Admin) SealSigningKey(ctx context.Context, org int64, apiKey string, opts ...CallOption) (CallbackSettings, error) {
	var s CallbackSettings
	body := map[string]string{"apiKey": apiKey}
	err := a.do(ctx, http.MethodPost, orgPath(org)+"/signing-key", nil, body, &s, opts)
	return s, err
}

// DeliveryAttempt is one line of the delivery log.
type DeliveryAttempt struct {
	ID int64 `json:"id"`
	// EventID is 0 for a test send.
	EventID int64     `json:"eventId"`
	Kind    string    `json:"kind"`
	Attempt int       `json:"attempt"`
	Replay  int       `json:"replay"`
	Test    bool      `json:"test"`
	URL     string    `json:"url"`
	At      time.Time `json:"at"`
	// StatusCode is the receiver's answer; 0 when there was none.
	StatusCode int     `json:"statusCode"`
	LatencyMs  float64 `json:"latencyMs"`
	Response   string  `json:"response"`
	Error      string  `json:"error"`
	// Outcome is delivered, retrying, failed … as the server words it.
	Outcome       string    `json:"outcome"`
	NextAttemptAt time.Time `json:"nextAttemptAt"`
	// Signature describes the signature headers sent.
	Signature string `json:"signature"`
}

// UnmarshalJSON reads the times leniently.
func (d *DeliveryAttempt) UnmarshalJSON(data []byte) error {
	type plain DeliveryAttempt
	var w struct {
		*plain
		At            flexTime `json:"at"`
		NextAttemptAt flexTime `json:"nextAttemptAt"`
	}
	w.plain = (*plain)(d)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	d.At, d.NextAttemptAt = time.Time(w.At), time.Time(w.NextAttemptAt)
	return nil
}

// TestCallback calls POST …/callbacks/test: sends a test body, or a sample
// of a notification kind ("Utilisation" …), to the callback URL now and
// returns the attempt.
func (a *Admin) TestCallback(ctx context.Context, org int64, kind string, opts ...CallOption) (DeliveryAttempt, error) {
	var d DeliveryAttempt
	var body any = struct{}{}
	if kind != "" {
		body = map[string]string{"kind": kind}
	}
	err := a.do(ctx, http.MethodPost, orgPath(org)+"/test", nil, body, &d, opts)
	return d, err
}

// DeliveriesQuery pages the delivery log.
type DeliveriesQuery struct {
	// EventID limits the log to one event's attempts.
	EventID int64
	// Before is the NextBefore of the previous page.
	Before int64
	Limit  int
}

// DeliveryPage is a page of the delivery log, newest first.
type DeliveryPage struct {
	Deliveries []DeliveryAttempt `json:"deliveries"`
	// NextBefore is the Before of the next (older) page; 0 on the last.
	NextBefore int64 `json:"nextBefore"`
}

// Deliveries calls GET …/callbacks/deliveries.
func (a *Admin) Deliveries(ctx context.Context, org int64, q DeliveriesQuery, opts ...CallOption) (DeliveryPage, error) {
	v := url.Values{}
	if q.EventID > 0 {
		v.Set("eventId", strconv.FormatInt(q.EventID, 10))
	}
	if q.Before > 0 {
		v.Set("before", strconv.FormatInt(q.Before, 10))
	}
	setInt(v, "limit", q.Limit)
	var p DeliveryPage
	err := a.do(ctx, http.MethodGet, orgPath(org)+"/deliveries", v, nil, &p, opts)
	return p, err
}

// CallbackEvent is a notification with its delivery state.
type CallbackEvent struct {
	ID      int64           `json:"id"`
	Kind    string          `json:"kind"`
	ICCID   string          `json:"iccid,omitempty"`
	Date    time.Time       `json:"date"`
	Payload json.RawMessage `json:"payload"`
	// Status is the delivery state (pending, delivered, failed …).
	Status        string    `json:"status"`
	Attempts      int       `json:"attempts"`
	NextAttemptAt time.Time `json:"nextAttemptAt"`
	LastAttemptAt time.Time `json:"lastAttemptAt"`
	DeliveredAt   time.Time `json:"deliveredAt"`
	LastError     string    `json:"lastError"`
	Replays       int       `json:"replays"`
}

// UnmarshalJSON reads the times leniently.
func (e *CallbackEvent) UnmarshalJSON(data []byte) error {
	type plain CallbackEvent
	var w struct {
		*plain
		Date          flexTime `json:"date"`
		NextAttemptAt flexTime `json:"nextAttemptAt"`
		LastAttemptAt flexTime `json:"lastAttemptAt"`
		DeliveredAt   flexTime `json:"deliveredAt"`
	}
	w.plain = (*plain)(e)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	e.Date, e.NextAttemptAt, e.LastAttemptAt, e.DeliveredAt = time.Time(w.Date), time.Time(w.NextAttemptAt), time.Time(w.LastAttemptAt), time.Time(w.DeliveredAt)
	return nil
}

// Notification parses Payload.
func (e CallbackEvent) Notification() (Notification, error) { return ParseNotification(e.Payload) }

// EventsQuery pages the events, oldest first.
type EventsQuery struct {
	Status string
	After  int64
	Limit  int
}

// CallbackEvents calls GET …/callbacks/events.
func (a *Admin) CallbackEvents(ctx context.Context, org int64, q EventsQuery, opts ...CallOption) ([]CallbackEvent, error) {
	v := url.Values{}
	setStr(v, "status", q.Status)
	if q.After > 0 {
		v.Set("after", strconv.FormatInt(q.After, 10))
	}
	setInt(v, "limit", q.Limit)
	var out struct {
		Events []CallbackEvent `json:"events"`
	}
	err := a.do(ctx, http.MethodGet, orgPath(org)+"/events", v, nil, &out, opts)
	return out.Events, err
}

// CallbackEvent calls GET …/callbacks/events/{event}.
func (a *Admin) CallbackEvent(ctx context.Context, org, event int64, opts ...CallOption) (CallbackEvent, error) {
	var e CallbackEvent
	err := a.do(ctx, http.MethodGet, orgPath(org)+"/events/"+strconv.FormatInt(event, 10), nil, nil, &e, opts)
	return e, err
}

// ReplayEvent calls POST …/callbacks/events/{event}/replay: the event is
// delivered again.
func (a *Admin) ReplayEvent(ctx context.Context, org, event int64, opts ...CallOption) (CallbackEvent, error) {
	var e CallbackEvent
	err := a.do(ctx, http.MethodPost, orgPath(org)+"/events/"+strconv.FormatInt(event, 10)+"/replay", nil, struct{}{}, &e, opts)
	return e, err
}

// ReplayRange calls POST …/callbacks/replay: the events dated in
// [from, to) (the organisation's clock), only those in statuses when
// given, are delivered again. It returns how many were queued.
func (a *Admin) ReplayRange(ctx context.Context, org int64, from, to time.Time, statuses []string, opts ...CallOption) (int, error) {
	body := struct {
		From   string   `json:"from"`
		To     string   `json:"to"`
		Status []string `json:"status,omitempty"`
	}{from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano), statuses}
	var out struct {
		Queued int `json:"queued"`
	}
	err := a.do(ctx, http.MethodPost, orgPath(org)+"/replay", nil, body, &out, opts)
	return out.Queued, err
}

// AdminOrganisation is an organisation as the operator API shows it.
type AdminOrganisation struct {
	ID       int64  `json:"id"`
	Name     string `json:"name"`
	Currency string `json:"currency"`
	// Sandbox organisations get test eSIMs, a simulated network and a
	// clock of their own.
	Sandbox          bool      `json:"sandbox"`
	Balance          Money     `json:"balance"`
	RefundsEnabled   bool      `json:"refundsEnabled"`
	RefundWindowDays int       `json:"refundWindowDays"`
	CreatedAt        time.Time `json:"createdAt"`
	// APIKey is set only in the answer to CreateOrganisation: the new
	// organisation's first key, shown once.
	APIKey string `json:"apiKey,omitempty"`
}

// UnmarshalJSON reads the time leniently.
func (o *AdminOrganisation) UnmarshalJSON(data []byte) error {
	type plain AdminOrganisation
	var w struct {
		*plain
		CreatedAt flexTime `json:"createdAt"`
	}
	w.plain = (*plain)(o)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	o.CreatedAt = time.Time(w.CreatedAt)
	return nil
}

// NewOrganisation is what CreateOrganisation creates.
type NewOrganisation struct {
	Name string `json:"name"`
	// Sandbox nil makes a sandbox organisation, the server's default.
	Sandbox        *bool  `json:"sandbox,omitempty"`
	Balance        Money  `json:"balance,omitzero"`
	Currency       string `json:"currency,omitempty"`
	RefundsEnabled bool   `json:"refundsEnabled,omitempty"`
}

// Organisations calls GET /admin/v1/organisations: every organisation,
// oldest first, without keys.
func (a *Admin) Organisations(ctx context.Context, opts ...CallOption) ([]AdminOrganisation, error) {
	var out struct {
		Organisations []AdminOrganisation `json:"organisations"`
	}
	err := a.do(ctx, http.MethodGet, "/organisations", nil, nil, &out, opts)
	return out.Organisations, err
}

// CreateOrganisation calls POST /admin/v1/organisations. The answer's
// APIKey is the only copy of the new organisation's key.
func (a *Admin) CreateOrganisation(ctx context.Context, n NewOrganisation, opts ...CallOption) (AdminOrganisation, error) {
	var o AdminOrganisation
	err := a.do(ctx, http.MethodPost, "/organisations", nil, n, &o, opts)
	return o, err
}

// Organisation calls GET /admin/v1/organisations/{org}.
func (a *Admin) Organisation(ctx context.Context, org int64, opts ...CallOption) (AdminOrganisation, error) {
	var o AdminOrganisation
	err := a.do(ctx, http.MethodGet, "/organisations/"+strconv.FormatInt(org, 10), nil, nil, &o, opts)
	return o, err
}

// Ledger kinds an operator may record with Credit.
const (
	CreditTopUp      = "topup"
	CreditCredit     = "credit"
	CreditAdjustment = "adjustment"
)

// CreditRequest is a balance change by the operator.
type CreditRequest struct {
	Amount Money `json:"amount"`
	// Kind is CreditTopUp (the default when empty), CreditCredit or
	// CreditAdjustment, the only one that may be negative.
	Kind string `json:"kind,omitempty"`
	// Note is recorded in the ledger as the entry's description.
	Note string `json:"note,omitempty"`
}

// CreditResult is the ledger entry a Credit made.
type CreditResult struct {
	ID             int64  `json:"id"`
	OrganisationID int64  `json:"organisationId"`
	Kind           string `json:"kind"`
	Amount         Money  `json:"amount"`
	// Balance is the organisation's balance after the entry.
	Balance   Money     `json:"balance"`
	Note      string    `json:"note"`
	CreatedAt time.Time `json:"createdAt"`
}

// UnmarshalJSON reads the time leniently.
func (r *CreditResult) UnmarshalJSON(data []byte) error {
	type plain CreditResult
	var w struct {
		*plain
		CreatedAt flexTime `json:"createdAt"`
	}
	w.plain = (*plain)(r)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	r.CreatedAt = time.Time(w.CreatedAt)
	return nil
}

// Credit calls POST /admin/v1/organisations/{org}/credit: adds to (or,
// with CreditAdjustment, corrects) the organisation's balance through its
// ledger.
func (a *Admin) Credit(ctx context.Context, org int64, r CreditRequest, opts ...CallOption) (CreditResult, error) {
	var out CreditResult
	err := a.do(ctx, http.MethodPost, "/organisations/"+strconv.FormatInt(org, 10)+"/credit", nil, r, &out, opts)
	return out, err
}
