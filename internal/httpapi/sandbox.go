package httpapi

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/sandbox"
)

// sandboxOnly is the one check every /sandbox/v1 route makes before it
// does anything: the controls are enabled on this server and the caller
// is a sandbox organisation (live organisations get 403 everywhere under
// /sandbox/v1, whether or not the route's service call would refuse them).
func (s *Server) sandboxOnly(h handlerFunc) handlerFunc {
	return func(w http.ResponseWriter, r *request) error {
		if _, err := s.sandboxService(); err != nil {
			return err
		}
		if !r.org.Sandbox {
			return fault.Forbiddenf("%s %s is a sandbox control, which works only for sandbox organisations; this organisation is live", r.Method, r.URL.Path)
		}
		return h(w, r)
	}
}

func (s *Server) sandboxService() (*sandbox.Service, error) {
	if s.cfg.Sandbox == nil {
		return nil, fault.Forbiddenf("the sandbox controls are not enabled on this server")
	}
	return s.cfg.Sandbox, nil
}

type clockJSON struct {
	Now           time.Time `json:"now"`
	OffsetSeconds int64     `json:"offsetSeconds"`
	Offset        string    `json:"offset"`
	DueItemsRun   *int      `json:"dueItemsRun,omitempty"`
}

func newClockJSON(c sandbox.Clock) clockJSON {
	return clockJSON{Now: c.Now, OffsetSeconds: int64(c.Offset / time.Second), Offset: c.Offset.String()}
}

// GET /sandbox/v1/clock
func (s *Server) sandboxClock(w http.ResponseWriter, r *request) error {
	sb := s.cfg.Sandbox // sandboxOnly checked it is there
	c, err := sb.Clock(r.Context(), r.org.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newClockJSON(c))
	return nil
}

// POST /sandbox/v1/clock/advance {"duration":"72h"} or {"to":"<RFC 3339>"}
func (s *Server) sandboxAdvance(w http.ResponseWriter, r *request) error {
	sb := s.cfg.Sandbox // sandboxOnly checked it is there
	f, err := readObject(w, r)
	if err != nil {
		return err
	}
	ds, err := f.str("duration")
	if err != nil {
		return err
	}
	tos, err := f.str("to")
	if err != nil {
		return err
	}
	var d time.Duration
	var to time.Time
	switch {
	case ds != "" && tos != "":
		return fault.Invalidf("give duration or to, not both")
	case ds != "":
		if d, err = parseDuration(ds); err != nil {
			return err
		}
	case tos != "":
		if to, err = time.Parse(time.RFC3339Nano, tos); err != nil {
			return fault.Invalidf("to must be an RFC 3339 time such as 2026-12-01T00:00:00Z, got %q", truncateText(tos, 60))
		}
	default:
		return fault.Invalidf("give duration (such as \"72h\" or \"30d\") or to (an RFC 3339 time)")
	}
	c, n, err := sb.Advance(r.Context(), r.org.ID, d, to)
	if err != nil {
		return err
	}
	out := newClockJSON(c)
	out.DueItemsRun = &n
	writeJSON(w, http.StatusOK, out)
	return nil
}

// parseDuration reads Go durations plus whole days ("30d", "1d12h").
func parseDuration(v string) (time.Duration, error) {
	bad := fault.Invalidf("duration must look like 90s, 72h, 30d or 1d12h, got %q", truncateText(v, 40))
	var days time.Duration
	if i := strings.IndexByte(v, 'd'); i >= 0 {
		n, err := strconv.Atoi(v[:i])
		if err != nil || n < 0 {
			return 0, bad
		}
		days, v = time.Duration(n)*24*time.Hour, v[i+1:]
		if v == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(v)
	if err != nil {
		return 0, bad
	}
	return days + d, nil
}

func readObject(w http.ResponseWriter, r *request) (fields, error) {
	body, err := readBody(w, r.Request)
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return fields{}, nil
	}
	return decodeObject(body)
}

type deviceJSON struct {
	ICCID                 string     `json:"iccid"`
	ProfileStatus         string     `json:"profileStatus"`
	EID                   string     `json:"eid,omitempty"`
	FirstInstalledAt      *time.Time `json:"firstInstalledDateTime,omitempty"`
	State                 string     `json:"state"`
	Country               string     `json:"country,omitempty"`
	MobileNetworkCode     string     `json:"mobileNetworkCode,omitempty"`
	NetworkName           string     `json:"networkName,omitempty"`
	MCC                   string     `json:"mcc,omitempty"`
	MNC                   string     `json:"mnc,omitempty"`
	LastSeen              *time.Time `json:"lastSeen,omitempty"`
	BytesCharged          *int64     `json:"bytesCharged,omitempty"`
	BytesUnbilled         *int64     `json:"bytesUnbilled,omitempty"`
	MinutesCharged        *int64     `json:"minutesCharged,omitempty"`
	SMSCharged            *int64     `json:"smsCharged,omitempty"`
	MSISDN                string     `json:"msisdn,omitempty"`
	AssignmentsReferences []string   `json:"assignments,omitempty"`
}

func newDeviceJSON(e esims.ESIM) deviceJSON {
	return deviceJSON{ICCID: e.ICCID, ProfileStatus: e.ProfileStatus, EID: e.EID, FirstInstalledAt: e.FirstInstalledAt,
		State: e.State, Country: e.Location.Country, MobileNetworkCode: e.Location.TADIG, NetworkName: e.Location.NetworkName,
		MCC: e.Location.MCC, MNC: e.Location.MNC, LastSeen: e.Location.LastSeen}
}

// POST /sandbox/v1/esims/{iccid}/install {"eid": …}
func (s *Server) sandboxInstall(w http.ResponseWriter, r *request) error {
	sb := s.cfg.Sandbox // sandboxOnly checked it is there
	f, err := readObject(w, r)
	if err != nil {
		return err
	}
	eid, err := f.str("eid")
	if err != nil {
		return err
	}
	e, err := sb.Install(r.Context(), r.org.ID, r.PathValue("iccid"), eid)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newDeviceJSON(e))
	return nil
}

// POST /sandbox/v1/esims/{iccid}/uninstall
func (s *Server) sandboxUninstall(w http.ResponseWriter, r *request) error {
	sb := s.cfg.Sandbox // sandboxOnly checked it is there
	e, err := sb.Uninstall(r.Context(), r.org.ID, r.PathValue("iccid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newDeviceJSON(e))
	return nil
}

func readWhere(f fields) (sandbox.Where, error) {
	country, err := f.str("country")
	if err != nil {
		return sandbox.Where{}, err
	}
	mccmnc, err := f.str("mccmnc", "mccMnc")
	if err != nil {
		return sandbox.Where{}, err
	}
	if country != "" && mccmnc != "" {
		return sandbox.Where{}, fault.Invalidf("give country or mccmnc, not both")
	}
	return sandbox.Where{Country: country, MCCMNC: mccmnc}, nil
}

// POST /sandbox/v1/esims/{iccid}/attach {"country":"FR"} or {"mccmnc":"20801"}
func (s *Server) sandboxAttach(w http.ResponseWriter, r *request) error {
	sb := s.cfg.Sandbox // sandboxOnly checked it is there
	f, err := readObject(w, r)
	if err != nil {
		return err
	}
	where, err := readWhere(f)
	if err != nil {
		return err
	}
	e, err := sb.Attach(r.Context(), r.org.ID, r.PathValue("iccid"), where)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newDeviceJSON(e))
	return nil
}

// POST /sandbox/v1/esims/{iccid}/usage {"bytes": N} (or "megabytes"),
// optionally with country or mccmnc to use data somewhere else.
func (s *Server) sandboxUsage(w http.ResponseWriter, r *request) error {
	sb := s.cfg.Sandbox // sandboxOnly checked it is there
	f, err := readObject(w, r)
	if err != nil {
		return err
	}
	bytes, hasBytes, err := f.int64("bytes")
	if err != nil {
		return err
	}
	mb, hasMB, err := f.int64("megabytes")
	if err != nil {
		return err
	}
	minutes, _, err := f.int64("minutes")
	if err != nil {
		return err
	}
	sms, _, err := f.int64("sms")
	if err != nil {
		return err
	}
	switch {
	case hasBytes && hasMB:
		return fault.Invalidf("give bytes or megabytes, not both")
	case hasMB:
		if mb > 1<<40 || mb < 0 {
			return fault.Invalidf("megabytes must be between 0 and 2^40")
		}
		bytes = mb * 1_000_000
	case !hasBytes && minutes == 0 && sms == 0:
		return fault.Invalidf("give bytes (or megabytes), minutes or sms: what the device uses, e.g. {\"bytes\": 50000000}")
	}
	where, err := readWhere(f)
	if err != nil {
		return err
	}
	res, err := sb.Use(r.Context(), r.org.ID, r.PathValue("iccid"), sandbox.Usage{Bytes: bytes, Minutes: minutes, SMS: sms}, where)
	if err != nil {
		return err
	}
	e, err := s.cfg.ESIMs.Get(r.Context(), r.org.ID, r.PathValue("iccid"))
	if err != nil {
		return err
	}
	out := newDeviceJSON(e)
	out.BytesCharged, out.BytesUnbilled, out.AssignmentsReferences = &res.Charged, &res.Unbilled, res.Assignment
	out.MinutesCharged, out.SMSCharged = &res.Minutes, &res.SMS
	out.MSISDN = e.MSISDN
	writeJSON(w, http.StatusOK, out)
	return nil
}

// GET /sandbox/v1/esims/{iccid}/sms: what the device received.
func (s *Server) sandboxSMS(w http.ResponseWriter, r *request) error {
	list, err := s.cfg.ESIMs.SMS(r.Context(), r.org.ID, r.PathValue("iccid"))
	if err != nil {
		return err
	}
	type smsJSON struct {
		From    string    `json:"from"`
		Message string    `json:"message"`
		Date    time.Time `json:"date"`
	}
	out := struct {
		Messages []smsJSON `json:"messages"`
	}{Messages: make([]smsJSON, 0, len(list))}
	for _, m := range list {
		out.Messages = append(out.Messages, smsJSON{From: m.Sender, Message: m.Message, Date: m.At})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// GET /sandbox/v1/callbacks?after=ID&limit=N: every notification the
// organisation's changes produced, oldest first.
func (s *Server) sandboxCallbacks(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	limit, set, err := queryInt(q, "limit")
	if err != nil {
		return err
	}
	if !set {
		limit = 100
	}
	if limit < 1 || limit > 1000 {
		return fault.Invalidf("limit must be 1 to 1000, got %d", limit)
	}
	var after int64
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return fault.Invalidf("after must be a callback id, got %q", truncateText(v, 40))
		}
	}
	type eventJSON struct {
		ID      int64           `json:"id"`
		Kind    string          `json:"kind"`
		ICCID   string          `json:"iccid,omitempty"`
		Date    time.Time       `json:"date"`
		Version string          `json:"version"`
		Body    json.RawMessage `json:"body"`
		Payload json.RawMessage `json:"payload"`
		Status  string          `json:"deliveryStatus,omitempty"`
		Tries   int             `json:"deliveryAttempts,omitempty"`
	}
	out := struct {
		Callbacks []eventJSON `json:"callbacks"`
	}{Callbacks: []eventJSON{}}
	if s.cfg.Notify != nil {
		// The outbox with its delivery state, and each body exactly as the
		// organisation's callback version sends it.
		states, err := s.cfg.Notify.Events(r.Context(), r.org.ID, notify.EventQuery{AfterID: after, Limit: limit})
		if err != nil {
			return err
		}
		for _, ev := range states {
			body, err := notify.Render(ev.Kind, ev.Payload, r.org.CallbackVersion)
			if err != nil {
				return err
			}
			out.Callbacks = append(out.Callbacks, eventJSON{ID: ev.ID, Kind: ev.Kind, ICCID: ev.ICCID, Date: ev.At, Version: r.org.CallbackVersion,
				Body: body, Payload: ev.Payload, Status: ev.Status, Tries: ev.Attempts})
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	events, err := s.cfg.ESIMs.Events(r.Context(), r.org.ID, after, limit)
	if err != nil {
		return err
	}
	for _, ev := range events {
		payload, err := json.Marshal(ev.Payload)
		if err != nil {
			return err
		}
		out.Callbacks = append(out.Callbacks, eventJSON{ID: ev.ID, Kind: ev.Kind, ICCID: ev.ICCID, Date: ev.At, Version: r.org.CallbackVersion,
			Body: payload, Payload: payload})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type faultJSON struct {
	ID          int64   `json:"id"`
	Method      string  `json:"method,omitempty"`
	Path        string  `json:"path,omitempty"`
	Status      int     `json:"status,omitempty"`
	Message     string  `json:"message,omitempty"`
	LatencyMs   int64   `json:"latencyMs,omitempty"`
	Probability float64 `json:"probability"`
	Count       int     `json:"count,omitempty"`
}

func newFaultJSON(f sandbox.Fault) faultJSON {
	return faultJSON{ID: f.ID, Method: f.Method, Path: f.Path, Status: f.Status, Message: f.Message,
		LatencyMs: f.Latency.Milliseconds(), Probability: f.Probability, Count: f.Remaining}
}

// GET /sandbox/v1/faults
func (s *Server) sandboxFaults(w http.ResponseWriter, r *request) error {
	sb := s.cfg.Sandbox // sandboxOnly checked it is there
	out := struct {
		Faults []faultJSON `json:"faults"`
	}{Faults: []faultJSON{}}
	for _, f := range sb.Faults(r.org.ID) {
		out.Faults = append(out.Faults, newFaultJSON(f))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// POST /sandbox/v1/faults {"method":"POST","path":"/orders","status":503,
// "latencyMs":200,"probability":0.5,"count":3}
func (s *Server) sandboxAddFault(w http.ResponseWriter, r *request) error {
	sb := s.cfg.Sandbox // sandboxOnly checked it is there
	body, err := readBody(w, r.Request)
	if err != nil {
		return err
	}
	if err := refuseDuplicateKeys(body); err != nil {
		return err
	}
	var in faultJSON
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		return fault.Invalidf("the body must be a fault such as {\"path\":\"/orders\",\"status\":503,\"probability\":0.5}: %s", jsonErrorText(err))
	}
	f, err := sb.AddFault(r.Context(), r.org.ID, sandbox.Fault{Method: in.Method, Path: in.Path, Status: in.Status, Message: in.Message,
		Latency: time.Duration(in.LatencyMs) * time.Millisecond, Probability: in.Probability, Remaining: in.Count})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, newFaultJSON(f))
	return nil
}

// DELETE /sandbox/v1/faults
func (s *Server) sandboxClearFaults(w http.ResponseWriter, r *request) error {
	sb := s.cfg.Sandbox // sandboxOnly checked it is there
	sb.ClearFaults(r.org.ID)
	writeJSON(w, http.StatusOK, statusBody{Status: "faults cleared"})
	return nil
}

// POST /sandbox/v1/reset
func (s *Server) sandboxReset(w http.ResponseWriter, r *request) error {
	sb := s.cfg.Sandbox // sandboxOnly checked it is there
	if err := sb.Reset(r.Context(), r.org.ID); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "sandbox organisation reset to its starting state"})
	return nil
}

// injectSandbox applies a sandbox organisation's injected faults and magic
// values to a compatible-API request; it reports whether it answered.
func (s *Server) injectSandbox(w http.ResponseWriter, r *request) (bool, error) {
	if s.cfg.Sandbox == nil || !r.org.Sandbox || r.version == extension {
		return false, nil // the controls themselves are never faulted
	}
	path := r.URL.Path
	if i := strings.Index(path[1:], "/"); i >= 0 {
		path = path[1+i:] // drop the version prefix
	}
	if f, ok := s.cfg.Sandbox.Match(r.org.ID, r.Method, path); ok {
		if f.Latency > 0 {
			select {
			case <-time.After(f.Latency):
			case <-r.Context().Done():
				return true, r.Context().Err()
			}
		}
		if f.Status != 0 {
			return true, forced(w, f.Status, f.Message)
		}
	}
	for _, seg := range strings.Split(path, "/") {
		if status, ok := sandbox.MagicICCID(seg); ok {
			return true, forced(w, status, sandbox.MagicMessage(seg, status))
		}
	}
	if r.Method == http.MethodPost && (path == "/orders" || path == "/esims/apply") {
		body, err := readBody(w, r.Request)
		if err != nil {
			return true, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		for name, status := range sandbox.MagicBundles {
			if bytes.Contains(body, []byte(`"`+name+`"`)) {
				return true, forced(w, status, sandbox.MagicMessage(name, status))
			}
		}
	}
	return false, nil
}

// forced turns a status into the matching fault kind.
func forced(w http.ResponseWriter, status int, msg string) error {
	kind := map[int]fault.Kind{400: fault.Invalid, 403: fault.Forbidden, 404: fault.NotFound, 409: fault.Conflict,
		410: fault.Gone, 429: fault.RateLimited, 503: fault.Unavailable}[status]
	if status == 503 || status == 429 {
		w.Header().Set("Retry-After", "5")
	}
	if kind == fault.Internal && status != 500 {
		kind = fault.Invalid
	}
	if status == 500 {
		// A forced 500 is shown as it is, unlike a real internal error.
		writeJSON(w, http.StatusInternalServerError, messageBody{Message: msg})
		return nil
	}
	return fault.E(kind, "%s", msg)
}

type settingsJSON struct {
	ProvisioningDelay        string `json:"provisioningDelay"`
	ProvisioningDelaySeconds int64  `json:"provisioningDelaySeconds"`
}

func newSettingsJSON(st sandbox.Settings) settingsJSON {
	return settingsJSON{ProvisioningDelay: st.ProvisioningDelay.String(), ProvisioningDelaySeconds: int64(st.ProvisioningDelay / time.Second)}
}

// GET /sandbox/v1/settings
func (s *Server) sandboxSettings(w http.ResponseWriter, r *request) error {
	sb := s.cfg.Sandbox // sandboxOnly checked it is there
	st, err := sb.Settings(r.Context(), r.org.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newSettingsJSON(st))
	return nil
}

// PUT /sandbox/v1/settings {"provisioningDelay":"90s"}: settings left out
// keep their value.
func (s *Server) sandboxSetSettings(w http.ResponseWriter, r *request) error {
	sb := s.cfg.Sandbox // sandboxOnly checked it is there
	f, err := readObject(w, r)
	if err != nil {
		return err
	}
	st, err := sb.Settings(r.Context(), r.org.ID)
	if err != nil {
		return err
	}
	for k := range f {
		if k != "provisioningDelay" && k != "provisioningDelaySeconds" {
			return fault.Invalidf("unknown setting %q: the settings are provisioningDelay (such as \"90s\") or provisioningDelaySeconds", truncateText(k, 40))
		}
	}
	if secs, set, err := f.int64("provisioningDelaySeconds"); err != nil {
		return err
	} else if set {
		if secs < 0 || secs > int64(esims.MaxProvisioningDelay/time.Second) {
			return fault.Invalidf("provisioningDelaySeconds must be 0 to 600, got %d", secs)
		}
		st.ProvisioningDelay = time.Duration(secs) * time.Second
	}
	if v, _, ok := f.raw("provisioningDelay"); ok {
		var text string
		if err := json.Unmarshal(v, &text); err != nil {
			return fault.Invalidf("provisioningDelay must be a duration string such as \"90s\" or \"10m\", got %s", truncateText(string(v), 40))
		}
		if st.ProvisioningDelay, err = parseDuration(text); err != nil {
			return fault.Invalidf("provisioningDelay must look like 0s, 90s or 10m, got %q", truncateText(text, 40))
		}
	}
	if st, err = sb.SetSettings(r.Context(), r.org.ID, st); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, newSettingsJSON(st))
	return nil
}

// GET /sandbox/v1/autopilot
func (s *Server) sandboxAutopilot(w http.ResponseWriter, r *request) error {
	sb := s.cfg.Sandbox // sandboxOnly checked it is there
	if _, err := sb.Clock(r.Context(), r.org.ID); err != nil {
		return err // live organisations have no autopilot
	}
	writeJSON(w, http.StatusOK, sb.AutopilotOf(r.org.ID))
	return nil
}

// PUT /sandbox/v1/autopilot {"enabled":true,"bytesPerHour":50000000}
func (s *Server) sandboxSetAutopilot(w http.ResponseWriter, r *request) error {
	sb := s.cfg.Sandbox // sandboxOnly checked it is there
	f, err := readObject(w, r)
	if err != nil {
		return err
	}
	enabled, err := f.boolean("enabled")
	if err != nil {
		return err
	}
	rate, _, err := f.int64("bytesPerHour")
	if err != nil {
		return err
	}
	a, err := sb.SetAutopilot(r.Context(), r.org.ID, sandbox.Autopilot{Enabled: enabled, BytesPerHour: rate})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}
