package notify

import (
	"bytes"
	"encoding/json"
	"time"

	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

// Notification kinds (alertType or event name) with a documented body
// (notes §4.2).
const (
	KindUtilisation         = events.KindUtilisation
	KindFirstAttachment     = events.KindFirstAttachment
	KindFirstUse            = events.KindFirstUse
	KindCountryChange       = events.KindCountryChange
	KindTopup               = events.KindTopup
	KindAutoTopup           = events.KindAutoTopup
	KindESIMGoTopup         = events.KindESIMGoTopup
	KindLowBalance          = events.KindLowBalance
	KindInsufficientBalance = events.KindInsufficientBalance
	KindMSISDNEnabled       = events.KindMSISDNEnabled
	KindMSISDNDisabled      = events.KindMSISDNDisabled
	KindDeletionScheduled   = events.KindDeletionScheduled
	KindDeleted             = events.KindDeleted
	KindProfileStatusChange = events.KindProfileStatusChange
	KindSMSFailed           = events.KindSMSFailed
)

// Kinds lists every kind Render has a body for.
var Kinds = []string{KindUtilisation, KindFirstAttachment, KindFirstUse, KindCountryChange, KindTopup, KindAutoTopup,
	KindESIMGoTopup, KindLowBalance, KindInsufficientBalance, KindMSISDNEnabled, KindMSISDNDisabled,
	KindDeletionScheduled, KindDeleted, KindProfileStatusChange, KindSMSFailed}

// callbackTime is how eSIM Go writes times in callbacks: RFC 3339, UTC,
// whole seconds ("2006-01-02T15:04:05Z").
const callbackTime = "2006-01-02T15:04:05Z07:00"

// Render returns the body of an event in a callback version (orgs.CallbackV2
// or V3): eSIM Go's field set and order for the event's kind, ICCIDs as
// strings, quantities in bytes, amounts as JSON numbers exactly as stored,
// times in RFC 3339 UTC. V2 and V3 differ in the bundle object of
// Utilisation and FirstUse; the other bodies are the same in both. A kind
// without a documented body is sent as the engine wrote it.
// Errors: Invalid for a payload that is not a JSON object of its kind's
// shape (events.Decode).
func Render(kind string, payload json.RawMessage, version string) ([]byte, error) {
	p, err := events.Decode(kind, payload)
	if err != nil {
		return nil, fault.Wrap(fault.Invalid, err, "the %s event's payload cannot be rendered", kind)
	}
	v3 := version != orgs.CallbackV2
	var body any
	switch p := p.(type) {
	case events.Utilisation:
		// percentage is esimd's extension (after eSIM Go's fields): which
		// threshold this alert is, so that the alerts of one usage record,
		// whose bundles are alike, can be told apart. Receivers that do not
		// know it ignore it (BundleAlert allows further properties).
		body = struct {
			ICCID      string `json:"iccid"`
			AlertType  string `json:"alertType"`
			Bundle     any    `json:"bundle"`
			Percentage int    `json:"percentage,omitempty"`
		}{p.ICCID, p.AlertType, bundleBody(p.Bundle, v3), p.Percentage}
	case events.FirstUse:
		body = struct {
			AlertType string `json:"alertType"`
			ICCID     string `json:"iccid"`
			Bundle    any    `json:"bundle"`
		}{p.AlertType, p.ICCID, bundleBody(p.Bundle, v3)}
	case events.FirstAttachment:
		body = struct {
			AlertType string `json:"alertType"`
			ICCID     string `json:"iccid"`
		}{p.AlertType, p.ICCID}
	case events.CountryChange:
		body = struct {
			AlertType string         `json:"alertType"`
			ICCID     string         `json:"iccid"`
			Country   events.Country `json:"country"`
		}{p.AlertType, p.ICCID, p.Country}
	case events.Topup:
		type amounts struct {
			OldAmount money.Amount `json:"oldAmount"`
			NewAmount money.Amount `json:"newAmount"`
		}
		body = struct {
			AlertType string  `json:"alertType"`
			Bundle    amounts `json:"bundle"`
		}{p.AlertType, amounts{p.Bundle.OldAmount, p.Bundle.NewAmount}}
	case events.Balance:
		body = struct {
			AlertType   string             `json:"alertType"`
			BalanceInfo events.BalanceInfo `json:"balanceInfo"`
		}{p.AlertType, p.BalanceInfo}
	case events.MSISDN:
		body = struct {
			AlertType string `json:"alertType"`
			ICCID     string `json:"iccid"`
			MSISDN    string `json:"msisdn"`
			Reason    string `json:"reason"`
		}{p.AlertType, p.ICCID, p.MSISDN, p.Reason}
	case events.Deletion:
		body = struct {
			Date  string `json:"date"`
			Event string `json:"event"`
			ICCID string `json:"iccid"`
		}{callbackDate(p.Date), p.Event, p.ICCID}
	case events.ProfileStatusChange:
		type device struct {
			IMEI  string `json:"imei,omitempty"`
			EID   string `json:"eid,omitempty"`
			TAC   string `json:"tac,omitempty"`
			Make  string `json:"make,omitempty"`
			Model string `json:"model,omitempty"`
		}
		var dev *device
		if d := p.Device; d != nil && *d != (events.Device{}) {
			dev = &device{d.IMEI, d.EID, d.TAC, d.Make, d.Model}
		}
		body = struct {
			ICCID         string  `json:"iccid"`
			ProfileStatus string  `json:"profileStatus"`
			Date          string  `json:"date,omitempty"`
			Device        *device `json:"device,omitempty"`
		}{p.ICCID, p.ProfileStatus, callbackDate(p.Date), dev}
	case events.SMSFailed:
		body = struct {
			ICCID     string `json:"iccid"`
			MSISDN    string `json:"msisdn,omitempty"`
			AlertType string `json:"alertType"`
			Timestamp string `json:"timestamp"`
		}{p.ICCID, p.MSISDN, p.AlertType, callbackDate(p.Timestamp)}
	default:
		body = p
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(body); err != nil {
		return nil, fault.Wrap(fault.Invalid, err, "the %s event's payload cannot be rendered", kind)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// bundleV2 is the usage bundle of V2 bodies.
type bundleV2 struct {
	Name              string `json:"name"`
	InitialQuantity   int64  `json:"initialQuantity"`
	RemainingQuantity int64  `json:"remainingQuantity"`
	StartTime         string `json:"startTime,omitempty"`
	EndTime           string `json:"endTime,omitempty"`
	Unit              string `json:"unit,omitempty"`
}

// bundleV3 is the usage bundle of V3 bodies: the assignment's id and
// reference (usable to revoke it or find it in /esims/assignments), its
// description and whether it is unlimited.
type bundleV3 struct {
	ID                string `json:"id"`
	Reference         string `json:"reference"`
	Name              string `json:"name"`
	Description       string `json:"description"`
	InitialQuantity   int64  `json:"initialQuantity"`
	RemainingQuantity int64  `json:"remainingQuantity"`
	StartTime         string `json:"startTime,omitempty"`
	EndTime           string `json:"endTime,omitempty"`
	Unlimited         bool   `json:"unlimited"`
	// Unit is minutes or SMSmessages on voice and SMS alerts, as a newer
	// copy of eSIM Go's notification page shows (notes §4.2); data alerts
	// leave it out (bytes).
	Unit string `json:"unit,omitempty"`
}

// bundleBody is a usage alert's bundle in a version's shape.
func bundleBody(b events.Bundle, v3 bool) any {
	if v3 {
		return bundleV3{ID: b.ID, Reference: b.Reference, Name: b.Name, Description: b.Description,
			InitialQuantity: b.InitialQuantity, RemainingQuantity: b.RemainingQuantity,
			StartTime: callbackTimePtr(b.StartTime), EndTime: callbackTimePtr(b.EndTime), Unlimited: b.Unlimited, Unit: b.Unit}
	}
	return bundleV2{Name: b.Name, InitialQuantity: b.InitialQuantity, RemainingQuantity: b.RemainingQuantity,
		StartTime: callbackTimePtr(b.StartTime), EndTime: callbackTimePtr(b.EndTime), Unit: b.Unit}
}

// callbackDate renders a time as RFC 3339 UTC in whole seconds ("" for
// the zero time).
func callbackDate(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(callbackTime)
}

func callbackTimePtr(t *time.Time) string {
	if t == nil {
		return ""
	}
	return callbackDate(*t)
}
