package esimapi

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/esimd/esimd/esimid"
)

// eSIM states (v2.5).
const (
	StateActive      = "active"
	StateSuspended   = "suspended"
	StateDeactivated = "deactivated"
)

// Profile statuses.
const (
	ProfileReleased    = "Released"
	ProfileDownloaded  = "Downloaded"
	ProfileInstalled   = "Installed"
	ProfileUnavailable = "Unavailable"
	ProfileDeactivated = "Deactivated"
)

// Bundle (assignment) states.
const (
	BundleProcessing = "processing"
	BundleQueued     = "queued"
	BundleActive     = "active"
	BundleDepleted   = "depleted"
	BundleExpired    = "expired"
	BundleRevoked    = "revoked"
	BundleLapsed     = "lapsed"
)

// ESIMSummary is an eSIM in the list.
type ESIMSummary struct {
	ICCID       string `json:"iccid"`
	CustomerRef string `json:"customerRef"`
	// MSISDN is set only with a voice or SMS bundle (v2.5).
	MSISDN       string    `json:"msisdn,omitempty"`
	LastAction   string    `json:"lastAction"`
	ActionDate   time.Time `json:"actionDate"`
	Physical     bool      `json:"physical"`
	AssignedDate time.Time `json:"assignedDate"`
	// State is active, suspended or deactivated (v2.5).
	State string `json:"state,omitempty"`
}

// UnmarshalJSON reads the dates leniently.
func (e *ESIMSummary) UnmarshalJSON(data []byte) error {
	type plain ESIMSummary
	var w struct {
		*plain
		ActionDate   flexTime `json:"actionDate"`
		AssignedDate flexTime `json:"assignedDate"`
	}
	w.plain = (*plain)(e)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	e.ActionDate, e.AssignedDate = time.Time(w.ActionDate), time.Time(w.AssignedDate)
	return nil
}

// ESIMsQuery pages and filters GET /esims.
type ESIMsQuery struct {
	// Page counts from 1; PerPage is 10, 25, 50 or 100.
	Page, PerPage int
	// Direction is asc or desc; OrderBy is iccid.
	Direction, OrderBy string
	// FilterBy is iccid, customerRef, lastAction, actionDate or
	// assignedDate; Filter the value (with op: prefixes for dates, such as
	// "gte:2026-01-01T00:00:00Z").
	FilterBy, Filter string
}

// ESIMPage is a page of eSIMs.
type ESIMPage struct {
	ESIMs     []ESIMSummary `json:"esims"`
	PageCount int           `json:"pageCount"`
	PageSize  int           `json:"pageSize"`
	Rows      int           `json:"rows"`
}

// ListESIMs calls GET /esims.
func (c *Client) ListESIMs(ctx context.Context, q ESIMsQuery, opts ...CallOption) (ESIMPage, error) {
	v := url.Values{}
	setInt(v, "page", q.Page)
	setInt(v, "perPage", q.PerPage)
	setStr(v, "direction", q.Direction)
	setStr(v, "orderBy", q.OrderBy)
	setStr(v, "filterBy", q.FilterBy)
	setStr(v, "filter", q.Filter)
	var p ESIMPage
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/esims"), query: v, opts: opts}, &p)
	if err == nil && p.PageCount == 0 && len(p.ESIMs) > 0 {
		p.PageCount = 1 // the document's form has no paging fields
	}
	return p, err
}

// AllESIMs walks every page of GET /esims (PerPage defaults to 100).
func (c *Client) AllESIMs(ctx context.Context, q ESIMsQuery, opts ...CallOption) iter.Seq2[ESIMSummary, error] {
	if q.PerPage == 0 {
		q.PerPage = 100
	}
	first := max(q.Page, 1)
	return paginate(ctx, func(ctx context.Context, page int) ([]ESIMSummary, int, error) {
		q.Page = first + page - 1
		p, err := c.ListESIMs(ctx, q, opts...)
		return p.ESIMs, p.PageCount - first + 1, err
	})
}

// ESIM is an eSIM's details.
type ESIM struct {
	ICCID         string `json:"iccid"`
	MSISDN        string `json:"msisdn,omitempty"`
	PIN           string `json:"pin"`
	PUK           string `json:"puk"`
	MatchingID    string `json:"matchingId"`
	SMDPAddress   string `json:"smdpAddress"`
	ProfileStatus string `json:"profileStatus"`
	// FirstInstalled is when a device first installed the profile; zero
	// when it never did.
	FirstInstalled    time.Time `json:"firstInstalledDateTime"`
	CustomerRef       string    `json:"customerRef"`
	AppleInstallURL   string    `json:"appleInstallUrl,omitempty"`
	AndroidInstallURL string    `json:"androidInstallUrl,omitempty"`
	BrandingID        string    `json:"brandingId,omitempty"`
	ProfileName       string    `json:"profileName,omitempty"`
	State             string    `json:"state,omitempty"`
}

// UnmarshalJSON reads firstInstalledDateTime as epoch milliseconds (eSIM
// details) or RFC 3339 (install data).
func (e *ESIM) UnmarshalJSON(data []byte) error {
	type plain ESIM
	var w struct {
		*plain
		FirstInstalled flexTime `json:"firstInstalledDateTime"`
	}
	w.plain = (*plain)(e)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	e.FirstInstalled = time.Time(w.FirstInstalled)
	return nil
}

// MarshalJSON writes firstInstalledDateTime as RFC 3339 (omitted when zero).
func (e ESIM) MarshalJSON() ([]byte, error) {
	type plain ESIM
	w := struct {
		plain
		FirstInstalled *time.Time `json:"firstInstalledDateTime,omitempty"`
	}{plain: plain(e)}
	if !e.FirstInstalled.IsZero() {
		w.FirstInstalled = &e.FirstInstalled
	}
	return json.Marshal(w)
}

// ActivationCode returns the LPA string that installs the eSIM.
func (e ESIM) ActivationCode() (esimid.ActivationCode, error) {
	return esimid.NewActivationCode(e.SMDPAddress, e.MatchingID)
}

// installField is the additionalFields value that asks for install links:
// installUrl from v2.5, appleInstallUrl before.
func (c *Client) installField() string {
	if c.version == "v2.5" {
		return "installUrl"
	}
	return "appleInstallUrl"
}

// ESIM calls GET /esims/{iccid}, with the install links.
func (c *Client) ESIM(ctx context.Context, iccid string, opts ...CallOption) (ESIM, error) {
	var e ESIM
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/esims/" + esc(iccid)),
		query: url.Values{"additionalFields": {c.installField()}}, opts: opts}, &e)
	return e, err
}

// UpdateESIM calls PUT /esims: sets the eSIM's customerRef, your own
// identifier for it.
func (c *Client) UpdateESIM(ctx context.Context, iccid, customerRef string, opts ...CallOption) (string, error) {
	body := struct {
		ICCID       string `json:"iccid"`
		CustomerRef string `json:"customerRef"`
	}{iccid, customerRef}
	return c.status(ctx, call{method: http.MethodPut, path: c.api("/esims"),
		query: url.Values{"iccid": {iccid}, "customerRef": {customerRef}}, body: body, opts: opts})
}

// DeleteESIM calls DELETE /esims/{iccid} (v2.5): every bundle is revoked
// without refund and the eSIM is deactivated. Irreversible.
func (c *Client) DeleteESIM(ctx context.Context, iccid string, opts ...CallOption) (string, error) {
	return c.status(ctx, call{method: http.MethodDelete, path: c.api("/esims/" + esc(iccid)), opts: opts})
}

// HistoryEntry is one event of an eSIM's history.
type HistoryEntry struct {
	// Name is the event: Bundle Applied, eSIM First Use, eSIM Utilisation
	// Alert …
	Name       string    `json:"name"`
	BundleName string    `json:"bundleName,omitempty"`
	Date       time.Time `json:"date"`
	// AlertType details utilisation alerts ("50% Used"), v2.3+.
	AlertType   string `json:"alertType,omitempty"`
	BundleState string `json:"bundleState,omitempty"`
}

// UnmarshalJSON also reads "bundle" (v2.2 and older).
func (h *HistoryEntry) UnmarshalJSON(data []byte) error {
	type plain HistoryEntry
	var w struct {
		*plain
		Date   flexTime `json:"date"`
		Bundle string   `json:"bundle"`
	}
	w.plain = (*plain)(h)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	h.Date = time.Time(w.Date)
	if h.BundleName == "" {
		h.BundleName = w.Bundle
	}
	return nil
}

// History calls GET /esims/{iccid}/history.
func (c *Client) History(ctx context.Context, iccid string, opts ...CallOption) ([]HistoryEntry, error) {
	var raw json.RawMessage
	path := c.api("/esims/" + esc(iccid) + "/history")
	if err := c.do(ctx, call{method: http.MethodGet, path: path, opts: opts}, &raw); err != nil {
		return nil, err
	}
	var out []HistoryEntry
	var err error
	if isArray(raw) {
		err = json.Unmarshal(raw, &out)
	} else { // the document's single object
		var one HistoryEntry
		if err = json.Unmarshal(raw, &one); err == nil {
			out = []HistoryEntry{one}
		}
	}
	if err != nil {
		return nil, decodeError(http.MethodGet, path, err)
	}
	return out, nil
}

// RefreshESIM calls GET /esims/{iccid}/refresh: a cancel-location that
// makes the device re-attach (troubleshooting only).
func (c *Client) RefreshESIM(ctx context.Context, iccid string, opts ...CallOption) (string, error) {
	return c.status(ctx, call{method: http.MethodGet, path: c.api("/esims/" + esc(iccid) + "/refresh"), opts: opts})
}

// Compatible calls GET /esims/{iccid}/compatible/{bundle}: whether the
// bundle can be applied to the eSIM (same network profile).
func (c *Client) Compatible(ctx context.Context, iccid, bundle string, opts ...CallOption) (bool, error) {
	var out struct {
		Compatible flexBool `json:"compatible"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/esims/" + esc(iccid) + "/compatible/" + esc(bundle)), opts: opts}, &out)
	return bool(out.Compatible), err
}

// SendSMS calls POST /esims/{iccid}/sms: message is 1 to 160 characters,
// sent from "eSIM".
func (c *Client) SendSMS(ctx context.Context, iccid, message string, opts ...CallOption) (string, error) {
	body := struct {
		Message string `json:"message"`
	}{message}
	return c.status(ctx, call{method: http.MethodPost, path: c.api("/esims/" + esc(iccid) + "/sms"), body: body, opts: opts})
}

// Location is where an eSIM was last seen.
type Location struct {
	// MobileNetworkCode is the network's TADIG code ("FRAF1").
	MobileNetworkCode string    `json:"mobileNetworkCode"`
	NetworkName       string    `json:"networkName"`
	NetworkBrandName  string    `json:"networkBrandName"`
	Country           string    `json:"country"` // ISO code
	LastSeen          time.Time `json:"lastSeen"`
}

// UnmarshalJSON reads lastSeen leniently.
func (l *Location) UnmarshalJSON(data []byte) error {
	type plain Location
	var w struct {
		*plain
		LastSeen flexTime `json:"lastSeen"`
	}
	w.plain = (*plain)(l)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	l.LastSeen = time.Time(w.LastSeen)
	return nil
}

// Location calls GET /esims/{iccid}/location.
func (c *Client) Location(ctx context.Context, iccid string, opts ...CallOption) (Location, error) {
	var l Location
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/esims/" + esc(iccid) + "/location"), opts: opts}, &l)
	return l, err
}

func (c *Client) setSuspended(ctx context.Context, iccid string, suspend bool, opts []CallOption) (string, error) {
	body := struct {
		Suspend bool `json:"suspend"`
	}{suspend}
	return c.status(ctx, call{method: http.MethodPost, path: c.api("/esims/" + esc(iccid) + "/suspend"), body: body, opts: opts})
}

// Suspend calls POST /esims/{iccid}/suspend with suspend true (v2.5): the
// eSIM cannot connect until resumed. Bundle timers keep running.
func (c *Client) Suspend(ctx context.Context, iccid string, opts ...CallOption) (string, error) {
	return c.setSuspended(ctx, iccid, true, opts)
}

// Resume calls POST /esims/{iccid}/suspend with suspend false.
func (c *Client) Resume(ctx context.Context, iccid string, opts ...CallOption) (string, error) {
	return c.setSuspended(ctx, iccid, false, opts)
}

// SuspendStatus calls GET /esims/{iccid}/suspend: whether the eSIM is
// suspended.
func (c *Client) SuspendStatus(ctx context.Context, iccid string, opts ...CallOption) (bool, error) {
	var out struct {
		Suspended flexBool `json:"suspended"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/esims/" + esc(iccid) + "/suspend"), opts: opts}, &out)
	return bool(out.Suspended), err
}

// AppliedBundle is a bundle on an eSIM with its assignments.
type AppliedBundle struct {
	Name        string       `json:"name"`
	Description string       `json:"description,omitempty"`
	Assignments []Assignment `json:"assignments"`
}

// Assignment is one application of a bundle to an eSIM.
type Assignment struct {
	// ID identifies the assignment (for RevokeAssignment).
	ID            string `json:"id"`
	CallTypeGroup string `json:"callTypeGroup"`
	// InitialQuantity and RemainingQuantity are bytes (base 10).
	InitialQuantity     int64     `json:"initialQuantity"`
	RemainingQuantity   int64     `json:"remainingQuantity"`
	AssignmentDateTime  time.Time `json:"assignmentDateTime"`
	AssignmentReference string    `json:"assignmentReference"`
	// BundleState is processing, queued, active, depleted, expired,
	// revoked or lapsed.
	BundleState string `json:"bundleState"`
	// StartTime and EndTime are zero until the bundle starts (v2.5).
	StartTime  time.Time             `json:"startTime"`
	EndTime    time.Time             `json:"endTime"`
	Unlimited  bool                  `json:"unlimited"`
	Allowances []AssignmentAllowance `json:"allowances,omitempty"`
}

// UnmarshalJSON reads id as a string or a number and the times leniently.
func (a *Assignment) UnmarshalJSON(data []byte) error {
	type plain Assignment
	var w struct {
		*plain
		ID                 flexString `json:"id"`
		AssignmentDateTime flexTime   `json:"assignmentDateTime"`
		StartTime          flexTime   `json:"startTime"`
		EndTime            flexTime   `json:"endTime"`
	}
	w.plain = (*plain)(a)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	a.ID = string(w.ID)
	a.AssignmentDateTime, a.StartTime, a.EndTime = time.Time(w.AssignmentDateTime), time.Time(w.StartTime), time.Time(w.EndTime)
	return nil
}

// AssignmentAllowance is an allowance of an assignment with what is left.
type AssignmentAllowance struct {
	Type            string  `json:"type"`
	Service         string  `json:"service"`
	Description     string  `json:"description,omitempty"`
	InitialAmount   float64 `json:"initialAmount"`
	RemainingAmount float64 `json:"remainingAmount"`
	// Unit is MB (bundle list), BYTES (one bundle), SMS or MINS.
	Unit      string `json:"unit"`
	Unlimited bool   `json:"unlimited"`
}

// BundlesQuery tunes GET /esims/{iccid}/bundles.
type BundlesQuery struct {
	// IncludeUsed adds expired, depleted, revoked and lapsed assignments.
	IncludeUsed bool
	// Limit is 1 to 200 assignments, most recent first (server default 15).
	Limit int
}

// ESIMBundles calls GET /esims/{iccid}/bundles.
func (c *Client) ESIMBundles(ctx context.Context, iccid string, q BundlesQuery, opts ...CallOption) ([]AppliedBundle, error) {
	v := url.Values{}
	if q.IncludeUsed {
		v.Set("includeUsed", "true")
	}
	setInt(v, "limit", q.Limit)
	var out struct {
		Bundles []AppliedBundle `json:"bundles"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/esims/" + esc(iccid) + "/bundles"), query: v, opts: opts}, &out)
	return out.Bundles, err
}

// ESIMBundle calls GET /esims/{iccid}/bundles/{name}: the assignments of
// one bundle on the eSIM.
func (c *Client) ESIMBundle(ctx context.Context, iccid, name string, opts ...CallOption) ([]Assignment, error) {
	var out struct {
		Assignments []Assignment `json:"assignments"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/esims/" + esc(iccid) + "/bundles/" + esc(name)), opts: opts}, &out)
	return out.Assignments, err
}

// ApplyRequest applies bundles from inventory: Name (with ICCID to top up
// an existing eSIM, or Repeat new eSIMs), or a list of Bundles, each onto
// new eSIMs.
type ApplyRequest struct {
	ICCID         string
	Name          string
	Repeat        int
	AllowReassign bool
	Bundles       []ApplyItem
}

// ApplyItem is one entry of an apply list.
type ApplyItem struct {
	Name          string `json:"name"`
	Repeat        int    `json:"repeat,omitempty"`
	AllowReassign bool   `json:"allowReassign,omitempty"`
}

func (r ApplyRequest) wire() any {
	if len(r.Bundles) > 0 {
		return struct {
			Bundles []ApplyItem `json:"bundles"`
		}{r.Bundles}
	}
	return struct {
		ICCID         string `json:"iccid,omitempty"`
		Name          string `json:"name"`
		Repeat        int    `json:"repeat,omitempty"`
		AllowReassign bool   `json:"allowReassign,omitempty"`
	}{r.ICCID, r.Name, r.Repeat, r.AllowReassign}
}

// ApplyResult is the answer of an apply.
type ApplyResult struct {
	ESIMs []AppliedESIM `json:"esims"`
	// ApplyReference finds the install data (InstallData) and the
	// bundleAssignment order.
	ApplyReference string `json:"applyReference"`
}

// AppliedESIM is one eSIM an apply put a bundle on.
type AppliedESIM struct {
	ICCID  string `json:"iccid"`
	Status string `json:"status"`
	Bundle string `json:"bundle"`
}

// Apply calls POST /esims/apply. With no inventory left for a bundle the
// answer is 403.
func (c *Client) Apply(ctx context.Context, r ApplyRequest, opts ...CallOption) (ApplyResult, error) {
	var out ApplyResult
	err := c.do(ctx, call{method: http.MethodPost, path: c.api("/esims/apply"), body: r.wire(), opts: opts}, &out)
	return out, err
}

// ApplyToESIM calls the deprecated POST /esims/{iccid}/bundles: applies
// bundle name from inventory to the eSIM repeat times (0 or 1: once).
//
// Deprecated: use [Client.Apply] with ICCID.
func (c *Client) ApplyToESIM(ctx context.Context, iccid, name string, repeat int, opts ...CallOption) (string, error) {
	body := struct {
		Name   string `json:"name"`
		Repeat int    `json:"repeat,omitempty"`
	}{name, repeat}
	return c.status(ctx, call{method: http.MethodPost, path: c.api("/esims/" + esc(iccid) + "/bundles"), body: body, opts: opts})
}

// RevokeOptions tunes a revoke.
type RevokeOptions struct {
	// Validate only reports what a revoke would do.
	Validate bool
	// RefundToBalance credits the price instead of returning the bundle to
	// inventory (when refunds are enabled and the bundle never started).
	RefundToBalance bool
	// OfferID picks the assignment on RevokeBundle (eSIM Go: needed for
	// refunds to balance).
	OfferID string
}

func (o RevokeOptions) values(withOffer bool) url.Values {
	v := url.Values{}
	if o.Validate {
		v.Set("type", "validate")
	}
	if o.RefundToBalance {
		v.Set("refundToBalance", "true")
	}
	if withOffer {
		setStr(v, "offerId", o.OfferID)
	}
	return v
}

// RevokeBundle calls DELETE /esims/{iccid}/bundles/{name}: revokes the
// oldest unused assignment of the bundle (else the latest live one). It
// returns the server's status sentence, which says whether and where the
// bundle was refunded.
func (c *Client) RevokeBundle(ctx context.Context, iccid, name string, o RevokeOptions, opts ...CallOption) (string, error) {
	return c.status(ctx, call{method: http.MethodDelete, path: c.api("/esims/" + esc(iccid) + "/bundles/" + esc(name)),
		query: o.values(true), opts: opts})
}

// RevokeAssignment calls DELETE /esims/{iccid}/bundles/{name}/assignments/{id}:
// revokes one assignment.
func (c *Client) RevokeAssignment(ctx context.Context, iccid, name, assignmentID string, o RevokeOptions, opts ...CallOption) (string, error) {
	return c.status(ctx, call{method: http.MethodDelete,
		path:  c.api("/esims/" + esc(iccid) + "/bundles/" + esc(name) + "/assignments/" + esc(assignmentID)),
		query: o.values(false), opts: opts})
}

// InstallDetails is what installs one eSIM of an order or apply.
type InstallDetails struct {
	ICCID         string `json:"iccid"`
	MatchingID    string `json:"matchingId"`
	SMDPAddress   string `json:"smdpAddress"`
	ProfileStatus string `json:"profileStatus,omitempty"`
	PIN           string `json:"pin,omitempty"`
	PUK           string `json:"puk,omitempty"`
	// FirstInstalled is zero until a device installed the profile.
	FirstInstalled    time.Time `json:"firstInstalledDateTime"`
	AppleInstallURL   string    `json:"appleInstallUrl,omitempty"`
	AndroidInstallURL string    `json:"androidInstallUrl,omitempty"`
	// Bundle, Reference and RSPURL appear in the legacy Assignments form.
	Bundle    string `json:"bundle,omitempty"`
	Reference string `json:"reference,omitempty"`
	RSPURL    string `json:"rspUrl,omitempty"`
	// Unavailable is set by esimd on an eSIM of the order whose install
	// data is left out: "deactivated" or "returned" (in the returns
	// process). Such an entry has no matching ID and cannot be installed.
	Unavailable string `json:"unavailable,omitempty"`
}

// UnmarshalJSON reads firstInstalledDateTime leniently.
func (d *InstallDetails) UnmarshalJSON(data []byte) error {
	type plain InstallDetails
	var w struct {
		*plain
		FirstInstalled flexTime `json:"firstInstalledDateTime"`
	}
	w.plain = (*plain)(d)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	d.FirstInstalled = time.Time(w.FirstInstalled)
	if d.SMDPAddress == "" {
		d.SMDPAddress = d.RSPURL
	}
	return nil
}

// ActivationCode returns the LPA string that installs the eSIM.
func (d InstallDetails) ActivationCode() (esimid.ActivationCode, error) {
	return esimid.NewActivationCode(d.SMDPAddress, d.MatchingID)
}

func (c *Client) assignments(refs []string, accept string, extra bool) call {
	v := url.Values{"reference": refs}
	if extra {
		v.Set("additionalFields", c.installField())
	}
	return call{method: http.MethodGet, path: c.api("/esims/assignments"), query: v, accept: accept}
}

// InstallData calls GET /esims/assignments with Accept: application/json
// for one or more order or apply references, with install links. It reads
// both a single object and a list.
func (c *Client) InstallData(ctx context.Context, refs []string, opts ...CallOption) ([]InstallDetails, error) {
	cl := c.assignments(refs, "application/json", true)
	cl.opts = opts
	var raw json.RawMessage
	if err := c.do(ctx, cl, &raw); err != nil {
		return nil, err
	}
	var out []InstallDetails
	var err error
	if isArray(raw) {
		err = json.Unmarshal(raw, &out)
	} else {
		var one InstallDetails
		if err = json.Unmarshal(raw, &one); err == nil {
			out = []InstallDetails{one}
		}
	}
	if err != nil {
		return nil, decodeError(cl.method, cl.path, err)
	}
	return out, nil
}

// InstallCSV calls GET /esims/assignments with Accept: text/csv and
// returns the CSV (ICCID, Matching ID, RSP URL, Bundle … columns).
func (c *Client) InstallCSV(ctx context.Context, refs []string, opts ...CallOption) ([]byte, error) {
	cl := c.assignments(refs, "text/csv", true)
	cl.opts = opts
	_, body, err := c.send(ctx, cl)
	return body, err
}

// InstallQRZip calls GET /esims/assignments with Accept: application/zip
// and returns the ZIP of one PNG QR code per eSIM.
func (c *Client) InstallQRZip(ctx context.Context, refs []string, opts ...CallOption) ([]byte, error) {
	cl := c.assignments(refs, "application/zip", false)
	cl.opts = opts
	_, body, err := c.send(ctx, cl)
	return body, err
}
