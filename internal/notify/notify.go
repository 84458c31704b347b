// Package notify delivers callbacks: the notifications the engine writes
// to the outbox (table events) are rendered in the organisation's callback
// version (V2 or V3, eSIM Go's bodies), signed, POSTed to its callback URL,
// retried with backoff over about three days, and logged attempt by
// attempt.
//
// Every event enters delivery in the transaction that wrote it (the store
// adds a delivery row with it). Events of one eSIM form a stream delivered
// in order: event N+1 of an ICCID is not sent before N was delivered or
// given up; organisation-level events (balance, top-up) form one stream per
// organisation. Delivery is at least once: a claim is a lease recorded in
// the database, an HTTP call never runs inside a transaction, and a
// delivery whose result was not recorded (a crash) is sent again when its
// lease ends. Receivers de-duplicate on X-Esimd-Event-Id.
//
// Retries run on the wall clock, also for sandbox organisations; the
// event's own date is in the organisation's time. A Worker sends in the
// background; DeliverDue sends one organisation's due callbacks before it
// returns (the sandbox clock uses it).
package notify

import (
	"context"
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"

	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

// Delivery statuses of an event.
const (
	StatusPending   = "pending"   // to send, or being sent
	StatusDelivered = "delivered" // the receiver answered 2xx
	StatusFailed    = "failed"    // given up: attempts exhausted, 410 Gone, or a refused address
	StatusSkipped   = "skipped"   // there was no endpoint: no callback URL, or the endpoint was disabled
)

// Attempt outcomes in the delivery log.
const (
	OutcomeDelivered = "delivered"
	OutcomeRetry     = "retry"    // another attempt is scheduled
	OutcomeFailed    = "failed"   // given up
	OutcomeDisabled  = "disabled" // 410 Gone: the endpoint is disabled
)

// Encoding is how X-Signature-SHA256 is written.
type Encoding string

// Signature encodings. eSIM Go's OpenAPI sample uses base64 and its
// webhooks guide hex; base64 is the default, hex an organisation setting.
const (
	Base64 Encoding = "base64"
	Hex    Encoding = "hex"
)

// Event is a notification in the outbox.
type Event struct {
	ID    int64
	OrgID orgs.ID
	ICCID string // "" for organisation-level events
	Kind  string // alertType or event name: Utilisation, Topup, esim.deleted …
	// Payload is the JSON object the engine wrote; Render turns it into the
	// body of a callback version.
	Payload json.RawMessage
	At      time.Time // in the organisation's time
}

// Due is a pending event and its delivery state.
type Due struct {
	Event         Event
	Attempts      int // attempts made so far in this delivery cycle
	Replays       int
	NextAttemptAt time.Time
	LastError     string
}

// DeliveryState is what the store keeps per event.
type DeliveryState struct {
	Status        string
	Attempts      int
	NextAttemptAt time.Time // wall clock
	LastAttemptAt *time.Time
	DeliveredAt   *time.Time
	LastError     string
}

// Outcome is an event's new delivery state, written where Token still
// holds its lease (any holder when Token is 0), with the attempt that led
// to it, if one was made.
type Outcome struct {
	EventID int64
	Token   int64
	State   DeliveryState
	Attempt *Attempt
}

// EventState is an event with its delivery state, for the admin API.
type EventState struct {
	Event
	DeliveryState
	Replays int
}

// Attempt is one line of the delivery log.
type Attempt struct {
	ID            int64
	OrgID         orgs.ID
	EventID       int64 // 0 for a test send
	Kind          string
	Attempt       int // 1 for the first attempt of a delivery cycle
	Replay        int // the event's replay count then (0: first delivery)
	Test          bool
	URL           string
	At            time.Time // wall clock
	StatusCode    int       // 0 when there was no HTTP response
	Latency       time.Duration
	Response      string // first 512 bytes of the response body
	Error         string
	Outcome       string
	NextAttemptAt *time.Time
	Signature     string // how the body was signed, or why it was not
}

// Settings are the callback settings esimd adds to eSIM Go's URL and
// version (which stay on the organisation).
type Settings struct {
	SignatureEncoding Encoding
	StandardWebhooks  bool
	// BalanceThreshold is the organisation's balance alert threshold for
	// LowBalance (eSIM Go's default is 100).
	BalanceThreshold money.Amount
	// DisabledAt is set when the endpoint answered 410 Gone; nothing is sent
	// to DisabledURL until the callback URL is set again.
	DisabledAt     *time.Time
	DisabledURL    string
	DisabledReason string
}

// DefaultSettings are an organisation's settings until changed.
func DefaultSettings() Settings {
	return Settings{SignatureEncoding: Base64, BalanceThreshold: DefaultBalanceThreshold}
}

// Disabled reports whether the endpoint url is disabled.
func (s Settings) Disabled(url string) bool { return s.DisabledAt != nil && s.DisabledURL == url }

// SigningKey is an organisation's newest unrevoked API key with a sealed
// copy.
type SigningKey struct {
	APIKeyID int64
	Hint     string
	Sealed   []byte
}

// AttemptQuery selects delivery log lines, newest first.
type AttemptQuery struct {
	EventID  int64 // 0: every event
	BeforeID int64 // 0: from the newest
	Limit    int
}

// EventQuery selects events with their delivery state, oldest first.
type EventQuery struct {
	Status  string // "" for every status
	AfterID int64
	Limit   int
}

// Store is what delivery needs from the database. Methods join the
// transaction in ctx.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	Organisation(ctx context.Context, id orgs.ID) (orgs.Organisation, error)
	// CallbackSettings returns an organisation's settings, or
	// DefaultSettings when it has none stored.
	CallbackSettings(ctx context.Context, org orgs.ID) (Settings, error)
	PutCallbackSettings(ctx context.Context, org orgs.ID, s Settings, at time.Time) error
	// DueDeliveries returns pending events at the head of their stream
	// whose next attempt is due at wall, oldest due first; of one
	// organisation when org is non-zero; none of the excluded ones.
	DueDeliveries(ctx context.Context, wall time.Time, org orgs.ID, exclude []orgs.ID, limit int) ([]Due, error)
	// StreamAfter returns up to limit pending events of a stream (an
	// organisation's ICCID, "" for organisation-level events) with IDs above
	// afterID, in ID order.
	StreamAfter(ctx context.Context, org orgs.ID, iccid string, afterID int64, limit int) ([]Due, error)
	// LeaseDelivery marks an event as held by token until the given time.
	LeaseDelivery(ctx context.Context, eventID, token int64, until time.Time) error
	// SetDeliveryState records an event's new state and ends its lease; with
	// a non-zero token only if that token still holds it. It reports
	// whether the state was written.
	SetDeliveryState(ctx context.Context, eventID, token int64, st DeliveryState) (bool, error)
	// AddAttempt writes a line of the delivery log and sets a.ID; nothing
	// when its event no longer exists.
	AddAttempt(ctx context.Context, a *Attempt) error
	// LeaseDeliveries is LeaseDelivery for several events in a few
	// statements. Errors: NotFound unless every one was pending.
	LeaseDeliveries(ctx context.Context, eventIDs []int64, token int64, until time.Time) error
	// RecordOutcomes writes a round's attempts (without setting their IDs)
	// and its events' new states, as AddAttempt and SetDeliveryState would,
	// in a few statements.
	RecordOutcomes(ctx context.Context, outs []Outcome) error
	Attempts(ctx context.Context, org orgs.ID, q AttemptQuery) ([]Attempt, error)
	EventStates(ctx context.Context, org orgs.ID, q EventQuery) ([]EventState, error)
	// EventState returns one event of an organisation. Errors: NotFound.
	EventState(ctx context.Context, org orgs.ID, eventID int64) (EventState, error)
	// Requeue makes events of an organisation pending again, due at, with
	// a fresh attempt count: one event when eventID is non-zero, else those
	// dated in [from, to) whose status is in statuses (all when empty). It
	// returns how many. Errors: NotFound for an unknown single event.
	Requeue(ctx context.Context, org orgs.ID, eventID int64, from, to time.Time, statuses []string, at time.Time) (int, error)
	// APIKeyID finds an unrevoked key of the organisation by its hash.
	// Errors: NotFound.
	APIKeyID(ctx context.Context, org orgs.ID, hash string) (int64, error)
	PutSigningKey(ctx context.Context, org orgs.ID, apiKeyID int64, sealed []byte, at time.Time) error
	// SigningKey returns the newest unrevoked key with a sealed copy.
	// Errors: NotFound.
	SigningKey(ctx context.Context, org orgs.ID) (SigningKey, error)
}

// OrgUpdater changes eSIM Go's callback URL and version, which live on the
// organisation (*orgs.Service).
type OrgUpdater interface {
	Update(ctx context.Context, id orgs.ID, u orgs.Update) (orgs.Organisation, error)
}

// Config builds a Service.
type Config struct {
	Store Store
	Orgs  OrgUpdater
	// Now is the wall clock; retries are scheduled on it. nil: time.Now.
	Now func() time.Time
	// SecretKey is the server's 32-byte key that seals API keys for signing
	// (LoadSecretKey). Without it V3 callbacks go unsigned.
	SecretKey []byte
	// AllowPrivateCallbacks lets live organisations call loopback, private
	// and link-local addresses; sandbox organisations always may.
	AllowPrivateCallbacks bool
	// AttemptTimeout bounds one HTTP attempt; 0 means 10 s.
	AttemptTimeout time.Duration
	// Concurrency is how many deliveries may be in flight at once (0: 32),
	// and PerOrg how many of one organisation's (0: 8).
	Concurrency, PerOrg int
	// Rand is the jitter source for Backoff; nil seeds one from the clock.
	Rand   *rand.Rand
	Logger *slog.Logger
	// Observe, when set, is told each attempt's outcome and, for a
	// delivery, the wall time since its event was written (metrics).
	Observe func(outcome string, sinceEvent time.Duration)
}

// Service delivers callbacks and serves the delivery log, replays and
// settings.
type Service struct {
	store    Store
	orgs     OrgUpdater
	now      func() time.Time
	secret   []byte
	allowPvt bool
	timeout  time.Duration
	conc     int
	perOrg   int
	log      *slog.Logger
	observe  func(outcome string, sinceEvent time.Duration)
	guarded  *http.Client // live organisations: no private addresses
	open     *http.Client // sandbox organisations, or when private addresses are allowed

	mu       sync.Mutex
	rnd      *rand.Rand
	inflight map[orgs.ID]int
	changed  chan struct{} // closed and replaced whenever a delivery ends
	kick     chan struct{} // wakes the worker
}

// New returns a Service.
func New(cfg Config) *Service {
	s := &Service{store: cfg.Store, orgs: cfg.Orgs, now: cfg.Now, secret: cfg.SecretKey, allowPvt: cfg.AllowPrivateCallbacks,
		timeout: cfg.AttemptTimeout, conc: cfg.Concurrency, perOrg: cfg.PerOrg, rnd: cfg.Rand, log: cfg.Logger, observe: cfg.Observe,
		inflight: map[orgs.ID]int{}, changed: make(chan struct{}), kick: make(chan struct{}, 1)}
	if s.now == nil {
		s.now = time.Now
	}
	if s.timeout <= 0 {
		s.timeout = 10 * time.Second
	}
	if s.conc <= 0 {
		s.conc = 32
	}
	if s.perOrg <= 0 {
		s.perOrg = 8
	}
	s.perOrg = min(s.perOrg, s.conc)
	if s.rnd == nil {
		seed := uint64(time.Now().UnixNano())
		s.rnd = rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.guarded = newClient(true)
	s.open = newClient(false)
	return s
}

// client returns the HTTP client an organisation's callbacks use.
func (s *Service) client(o *orgs.Organisation) *http.Client {
	if o.Sandbox || s.allowPvt {
		return s.open
	}
	return s.guarded
}

// wake asks the worker, if one runs, to look for due callbacks now.
func (s *Service) wake() {
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
