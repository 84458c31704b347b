package esimapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Sandbox calls esimd's sandbox controls (/sandbox/v1), which drive a
// sandbox organisation's clock, simulated device and network. Live
// organisations, and eSIM Go itself, answer 403.
type Sandbox struct{ c *Client }

// Sandbox returns the sandbox controls of the client's organisation.
func (c *Client) Sandbox() *Sandbox { return &Sandbox{c: c} }

// Clock is a sandbox organisation's time.
type Clock struct {
	Now time.Time `json:"now"`
	// Offset is how far the clock is ahead of the wall clock.
	Offset time.Duration `json:"-"`
	// DueItemsRun counts the time-driven items an advance ran (expiries,
	// lapses, deletions, background orders).
	DueItemsRun int `json:"dueItemsRun,omitempty"`
}

// UnmarshalJSON reads offsetSeconds into Offset.
func (k *Clock) UnmarshalJSON(data []byte) error {
	type plain Clock
	var w struct {
		*plain
		OffsetSeconds int64 `json:"offsetSeconds"`
	}
	w.plain = (*plain)(k)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	k.Offset = time.Duration(w.OffsetSeconds) * time.Second
	return nil
}

// Clock calls GET /sandbox/v1/clock.
func (s *Sandbox) Clock(ctx context.Context, opts ...CallOption) (Clock, error) {
	var k Clock
	err := s.c.do(ctx, call{method: http.MethodGet, path: "/sandbox/v1/clock", opts: opts}, &k)
	return k, err
}

// Advance calls POST /sandbox/v1/clock/advance: moves the clock forward by
// d and runs everything that falls due in between, in order, before it
// returns.
func (s *Sandbox) Advance(ctx context.Context, d time.Duration, opts ...CallOption) (Clock, error) {
	var k Clock
	body := map[string]string{"duration": d.String()}
	err := s.c.do(ctx, call{method: http.MethodPost, path: "/sandbox/v1/clock/advance", body: body, opts: opts}, &k)
	return k, err
}

// AdvanceTo moves the clock forward to t (never backwards).
func (s *Sandbox) AdvanceTo(ctx context.Context, t time.Time, opts ...CallOption) (Clock, error) {
	var k Clock
	body := map[string]string{"to": t.UTC().Format(time.RFC3339Nano)}
	err := s.c.do(ctx, call{method: http.MethodPost, path: "/sandbox/v1/clock/advance", body: body, opts: opts}, &k)
	return k, err
}

// Device is a sandbox eSIM as the simulated device and network see it.
type Device struct {
	ICCID          string    `json:"iccid"`
	ProfileStatus  string    `json:"profileStatus"`
	EID            string    `json:"eid,omitempty"`
	FirstInstalled time.Time `json:"firstInstalledDateTime"`
	State          string    `json:"state"`
	Country        string    `json:"country,omitempty"`
	// MobileNetworkCode is the TADIG code of the network it is on.
	MobileNetworkCode string    `json:"mobileNetworkCode,omitempty"`
	NetworkName       string    `json:"networkName,omitempty"`
	MCC               string    `json:"mcc,omitempty"`
	MNC               string    `json:"mnc,omitempty"`
	LastSeen          time.Time `json:"lastSeen"`
	// BytesCharged and BytesUnbilled are set by Use: what bundles covered
	// and what none did.
	BytesCharged  int64 `json:"bytesCharged,omitempty"`
	BytesUnbilled int64 `json:"bytesUnbilled,omitempty"`
	// Assignments are the assignment references Use charged.
	Assignments []string `json:"assignments,omitempty"`
}

// UnmarshalJSON reads the times leniently.
func (d *Device) UnmarshalJSON(data []byte) error {
	type plain Device
	var w struct {
		*plain
		FirstInstalled flexTime `json:"firstInstalledDateTime"`
		LastSeen       flexTime `json:"lastSeen"`
	}
	w.plain = (*plain)(d)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	d.FirstInstalled, d.LastSeen = time.Time(w.FirstInstalled), time.Time(w.LastSeen)
	return nil
}

func (s *Sandbox) device(ctx context.Context, iccid, action string, body any, opts []CallOption) (Device, error) {
	var d Device
	if body == nil {
		body = struct{}{}
	}
	err := s.c.do(ctx, call{method: http.MethodPost, path: "/sandbox/v1/esims/" + esc(iccid) + "/" + action, body: body, opts: opts}, &d)
	return d, err
}

// Install calls POST /sandbox/v1/esims/{iccid}/install: the profile goes
// onto a simulated device (Released → Downloaded → Installed). eid may be
// empty: a valid test EID is made.
func (s *Sandbox) Install(ctx context.Context, iccid, eid string, opts ...CallOption) (Device, error) {
	body := struct {
		EID string `json:"eid,omitempty"`
	}{eid}
	return s.device(ctx, iccid, "install", body, opts)
}

// Uninstall calls POST /sandbox/v1/esims/{iccid}/uninstall: the profile is
// deleted from the device (Released).
func (s *Sandbox) Uninstall(ctx context.Context, iccid string, opts ...CallOption) (Device, error) {
	return s.device(ctx, iccid, "uninstall", nil, opts)
}

// Where names a network: a country (ISO code; a network of the eSIM's
// profile there) or an MCC+MNC ("20801"). Zero means where the eSIM is.
type Where struct {
	Country string `json:"country,omitempty"`
	MCCMNC  string `json:"mccmnc,omitempty"`
}

// Attach calls POST /sandbox/v1/esims/{iccid}/attach: the device registers
// on a network (FirstAttachment, CountryChange notifications).
func (s *Sandbox) Attach(ctx context.Context, iccid string, w Where, opts ...CallOption) (Device, error) {
	return s.device(ctx, iccid, "attach", w, opts)
}

// Use calls POST /sandbox/v1/esims/{iccid}/usage: the device uses bytes of
// data where it is, or at w. Queued bundles start, utilisation alerts fire,
// depleted bundles hand over to the next.
func (s *Sandbox) Use(ctx context.Context, iccid string, bytes int64, w Where, opts ...CallOption) (Device, error) {
	body := struct {
		Bytes int64 `json:"bytes"`
		Where
	}{bytes, w}
	return s.device(ctx, iccid, "usage", body, opts)
}

// ReceivedSMS is a message a sandbox device received.
type ReceivedSMS struct {
	From    string    `json:"from"`
	Message string    `json:"message"`
	Date    time.Time `json:"date"`
}

// SMS calls GET /sandbox/v1/esims/{iccid}/sms: what the device received.
func (s *Sandbox) SMS(ctx context.Context, iccid string, opts ...CallOption) ([]ReceivedSMS, error) {
	var out struct {
		Messages []ReceivedSMS `json:"messages"`
	}
	err := s.c.do(ctx, call{method: http.MethodGet, path: "/sandbox/v1/esims/" + esc(iccid) + "/sms", opts: opts}, &out)
	return out.Messages, err
}

// Callback is a notification the organisation's changes produced, as the
// sandbox records it (the body its callback URL receives is Payload).
type Callback struct {
	ID int64 `json:"id"`
	// Kind is the alertType or event: Utilisation, FirstUse,
	// esim.deleted …
	Kind  string    `json:"kind"`
	ICCID string    `json:"iccid,omitempty"`
	Date  time.Time `json:"date"`
	// Body is the callback exactly as the organisation's callback version
	// sends it to the callback URL.
	Body json.RawMessage `json:"body,omitempty"`
	// Payload is what the engine recorded, from which Body is rendered.
	Payload json.RawMessage `json:"payload"`
}

// Notification parses Body, what a receiver gets (Payload from servers
// that do not list the body).
func (cb Callback) Notification() (Notification, error) {
	if len(cb.Body) > 0 {
		return ParseNotification(cb.Body)
	}
	return ParseNotification(cb.Payload)
}

// Callbacks calls GET /sandbox/v1/callbacks: the notifications after the
// one with ID after, oldest first, at most limit (0: 100; at most 1000).
func (s *Sandbox) Callbacks(ctx context.Context, after int64, limit int, opts ...CallOption) ([]Callback, error) {
	v := url.Values{}
	if after > 0 {
		v.Set("after", strconv.FormatInt(after, 10))
	}
	setInt(v, "limit", limit)
	var out struct {
		Callbacks []Callback `json:"callbacks"`
	}
	err := s.c.do(ctx, call{method: http.MethodGet, path: "/sandbox/v1/callbacks", query: v, opts: opts}, &out)
	return out.Callbacks, err
}

// Fault is an injected failure: requests whose method matches (any when
// empty) and whose path after the version starts with Path fail with
// Status (or only wait Latency when Status is 0), with Probability (0 means
// 1), Count times (0: until cleared).
type Fault struct {
	ID          int64         `json:"id,omitempty"`
	Method      string        `json:"method,omitempty"`
	Path        string        `json:"path,omitempty"`
	Status      int           `json:"status,omitempty"`
	Message     string        `json:"message,omitempty"`
	Latency     time.Duration `json:"-"`
	Probability float64       `json:"probability,omitempty"`
	Count       int           `json:"count,omitempty"`
}

type faultWire struct {
	ID          int64   `json:"id,omitempty"`
	Method      string  `json:"method,omitempty"`
	Path        string  `json:"path,omitempty"`
	Status      int     `json:"status,omitempty"`
	Message     string  `json:"message,omitempty"`
	LatencyMs   int64   `json:"latencyMs,omitempty"`
	Probability float64 `json:"probability,omitempty"`
	Count       int     `json:"count,omitempty"`
}

// MarshalJSON writes Latency as latencyMs.
func (f Fault) MarshalJSON() ([]byte, error) {
	return json.Marshal(faultWire{ID: f.ID, Method: f.Method, Path: f.Path, Status: f.Status, Message: f.Message,
		LatencyMs: f.Latency.Milliseconds(), Probability: f.Probability, Count: f.Count})
}

// UnmarshalJSON reads latencyMs into Latency.
func (f *Fault) UnmarshalJSON(data []byte) error {
	var w faultWire
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	*f = Fault{ID: w.ID, Method: w.Method, Path: w.Path, Status: w.Status, Message: w.Message,
		Latency: time.Duration(w.LatencyMs) * time.Millisecond, Probability: w.Probability, Count: w.Count}
	return nil
}

// Faults calls GET /sandbox/v1/faults.
func (s *Sandbox) Faults(ctx context.Context, opts ...CallOption) ([]Fault, error) {
	var out struct {
		Faults []Fault `json:"faults"`
	}
	err := s.c.do(ctx, call{method: http.MethodGet, path: "/sandbox/v1/faults", opts: opts}, &out)
	return out.Faults, err
}

// AddFault calls POST /sandbox/v1/faults.
func (s *Sandbox) AddFault(ctx context.Context, f Fault, opts ...CallOption) (Fault, error) {
	var out Fault
	err := s.c.do(ctx, call{method: http.MethodPost, path: "/sandbox/v1/faults", body: f, opts: opts}, &out)
	return out, err
}

// ClearFaults calls DELETE /sandbox/v1/faults.
func (s *Sandbox) ClearFaults(ctx context.Context, opts ...CallOption) error {
	_, err := s.c.status(ctx, call{method: http.MethodDelete, path: "/sandbox/v1/faults", opts: opts})
	return err
}

// Reset calls POST /sandbox/v1/reset: deletes the organisation's eSIMs,
// orders, inventory, callbacks and ledger, restores the starting balance and
// the wall clock.
func (s *Sandbox) Reset(ctx context.Context, opts ...CallOption) error {
	_, err := s.c.status(ctx, call{method: http.MethodPost, path: "/sandbox/v1/reset", body: struct{}{}, opts: opts})
	return err
}

// Autopilot makes every installed, attached sandbox eSIM use data at a
// steady rate.
type Autopilot struct {
	Enabled      bool  `json:"enabled"`
	BytesPerHour int64 `json:"bytesPerHour"`
}

// Autopilot calls GET /sandbox/v1/autopilot.
func (s *Sandbox) Autopilot(ctx context.Context, opts ...CallOption) (Autopilot, error) {
	var a Autopilot
	err := s.c.do(ctx, call{method: http.MethodGet, path: "/sandbox/v1/autopilot", opts: opts}, &a)
	return a, err
}

// SetAutopilot calls PUT /sandbox/v1/autopilot.
func (s *Sandbox) SetAutopilot(ctx context.Context, a Autopilot, opts ...CallOption) (Autopilot, error) {
	var out Autopilot
	err := s.c.do(ctx, call{method: http.MethodPut, path: "/sandbox/v1/autopilot", body: a, opts: opts}, &out)
	return out, err
}

// SandboxSettings are a sandbox organisation's settings of its simulated
// world (an esimd extension).
type SandboxSettings struct {
	// ProvisioningDelay is how long the built-in SM-DP+ takes to provision
	// a new assignment: its BundleState is BundleProcessing until then and
	// BundleQueued after, by the organisation's clock. 0 (the default) to
	// 10 minutes.
	ProvisioningDelay time.Duration
}

type sandboxSettingsWire struct {
	ProvisioningDelay string `json:"provisioningDelay"`
}

func (w sandboxSettingsWire) settings() (SandboxSettings, error) {
	d, err := time.ParseDuration(w.ProvisioningDelay)
	if err != nil {
		return SandboxSettings{}, fmt.Errorf("esimapi: provisioningDelay %q: %w", w.ProvisioningDelay, err)
	}
	return SandboxSettings{ProvisioningDelay: d}, nil
}

// Settings calls GET /sandbox/v1/settings.
func (s *Sandbox) Settings(ctx context.Context, opts ...CallOption) (SandboxSettings, error) {
	var w sandboxSettingsWire
	if err := s.c.do(ctx, call{method: http.MethodGet, path: "/sandbox/v1/settings", opts: opts}, &w); err != nil {
		return SandboxSettings{}, err
	}
	return w.settings()
}

// SetSettings calls PUT /sandbox/v1/settings.
func (s *Sandbox) SetSettings(ctx context.Context, st SandboxSettings, opts ...CallOption) (SandboxSettings, error) {
	var w sandboxSettingsWire
	body := sandboxSettingsWire{ProvisioningDelay: st.ProvisioningDelay.String()}
	if err := s.c.do(ctx, call{method: http.MethodPut, path: "/sandbox/v1/settings", body: body, opts: opts}, &w); err != nil {
		return SandboxSettings{}, err
	}
	return w.settings()
}
