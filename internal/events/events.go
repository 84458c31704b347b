// Package events owns the payloads of the notifications the engine writes
// to the outbox: one struct per kind, stored as JSON in the event's row and
// rendered per callback version by notify. Fields are declared in the
// order of their JSON names, so a payload's stored text is the same as the
// map of the same keys would give (rows written before the payloads were
// typed read back unchanged).
package events

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/esimd/esimd/internal/money"
)

// Notification kinds (alertType or event name), notes §4.2.
const (
	KindUtilisation         = "Utilisation"
	KindFirstAttachment     = "FirstAttachment"
	KindFirstUse            = "FirstUse"
	KindCountryChange       = "CountryChange"
	KindTopup               = "Topup"
	KindAutoTopup           = "AutoTopup"
	KindESIMGoTopup         = "eSIMGoTopup"
	KindLowBalance          = "LowBalance"
	KindInsufficientBalance = "InsufficientBalance"
	KindMSISDNEnabled       = "MSISDNEnabled"
	KindMSISDNDisabled      = "MSISDNDisabled"
	KindDeletionScheduled   = "esim.deletion_scheduled"
	KindDeleted             = "esim.deleted"
	KindProfileStatusChange = "ProfileStatusChange"
	KindSMSFailed           = "SMSFailed"
)

// Payload is the body of one notification as the engine writes it.
type Payload interface {
	// Kind is the notification's kind (Kind… constants).
	Kind() string
}

// Bundle is the assignment a usage alert is about, with the quantities of
// one allowance: bytes, or minutes or messages with their Unit.
type Bundle struct {
	Description       string     `json:"description"`
	EndTime           *time.Time `json:"endTime,omitempty"`
	ID                string     `json:"id"`
	InitialQuantity   int64      `json:"initialQuantity"`
	Name              string     `json:"name"`
	Reference         string     `json:"reference"`
	RemainingQuantity int64      `json:"remainingQuantity"`
	StartTime         *time.Time `json:"startTime,omitempty"`
	Unit              string     `json:"unit,omitempty"` // "" for data; minutes or SMSmessages
	Unlimited         bool       `json:"unlimited"`
}

// Utilisation is a bundle crossing a usage threshold. Percentage (an esimd
// extension) says which: 50, 80 or 100 for data; 1 too for voice and SMS.
type Utilisation struct {
	AlertType  string `json:"alertType"`
	Bundle     Bundle `json:"bundle"`
	ICCID      string `json:"iccid"`
	Percentage int    `json:"percentage,omitempty"`
}

// FirstUse is the first data use of a bundle.
type FirstUse struct {
	AlertType string `json:"alertType"`
	Bundle    Bundle `json:"bundle"`
	ICCID     string `json:"iccid"`
}

// FirstAttachment is an eSIM's first registration on a network.
type FirstAttachment struct {
	AlertType string `json:"alertType"`
	ICCID     string `json:"iccid"`
}

// Country is a country as alerts name it.
type Country struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// CountryChange is an eSIM registering in another country.
type CountryChange struct {
	AlertType string  `json:"alertType"`
	Country   Country `json:"country"`
	ICCID     string  `json:"iccid"`
}

// Amounts are a balance before and after a top-up.
type Amounts struct {
	NewAmount money.Amount `json:"newAmount"`
	OldAmount money.Amount `json:"oldAmount"`
}

// Topup is a balance top-up; AlertType is KindTopup, KindAutoTopup or
// KindESIMGoTopup (an operator's credit).
type Topup struct {
	AlertType string  `json:"alertType"`
	Bundle    Amounts `json:"bundle"` // eSIM Go's name for the amounts
}

// BalanceInfo is the balance against the organisation's alert threshold.
type BalanceInfo struct {
	Balance                   money.Amount `json:"balance"`
	Threshold                 money.Amount `json:"threshold"`
	ThresholdPercentRemaining int64        `json:"thresholdPercentRemaining"`
}

// Balance is a LowBalance or InsufficientBalance alert (AlertType says which).
type Balance struct {
	AlertType   string      `json:"alertType"`
	BalanceInfo BalanceInfo `json:"balanceInfo"`
}

// MSISDN is an eSIM's number being enabled or disabled (AlertType says which).
type MSISDN struct {
	AlertType string `json:"alertType"`
	ICCID     string `json:"iccid"`
	MSISDN    string `json:"msisdn"`
	Reason    string `json:"reason"`
}

// Deletion is an eSIM's deletion being scheduled or done (Event says which).
type Deletion struct {
	Date  time.Time `json:"date"`
	Event string    `json:"event"`
	ICCID string    `json:"iccid"`
}

// Device is what a profile status change knows of the device.
type Device struct {
	EID   string `json:"eid,omitempty"`
	IMEI  string `json:"imei,omitempty"`
	Make  string `json:"make,omitempty"`
	Model string `json:"model,omitempty"`
	TAC   string `json:"tac,omitempty"`
}

// ProfileStatusChange is the profile moving on the device.
type ProfileStatusChange struct {
	Date          time.Time `json:"date"`
	Device        *Device   `json:"device,omitempty"`
	ICCID         string    `json:"iccid"`
	ProfileStatus string    `json:"profileStatus"`
}

// SMSFailed is an SMS that could not be delivered to the eSIM.
type SMSFailed struct {
	AlertType string    `json:"alertType"`
	ICCID     string    `json:"iccid"`
	MSISDN    string    `json:"msisdn,omitempty"`
	Timestamp time.Time `json:"timestamp"`
}

// Other is a payload of a kind without a struct of its own (a kind newer
// than this build, or a test's): its JSON object as it is.
type Other struct {
	Name   string
	Fields json.RawMessage
}

func (p Utilisation) Kind() string         { return KindUtilisation }
func (p FirstUse) Kind() string            { return KindFirstUse }
func (p FirstAttachment) Kind() string     { return KindFirstAttachment }
func (p CountryChange) Kind() string       { return KindCountryChange }
func (p Topup) Kind() string               { return orDefault(p.AlertType, KindTopup) }
func (p Balance) Kind() string             { return orDefault(p.AlertType, KindLowBalance) }
func (p MSISDN) Kind() string              { return orDefault(p.AlertType, KindMSISDNEnabled) }
func (p Deletion) Kind() string            { return orDefault(p.Event, KindDeleted) }
func (p ProfileStatusChange) Kind() string { return KindProfileStatusChange }
func (p SMSFailed) Kind() string           { return KindSMSFailed }
func (p Other) Kind() string               { return p.Name }

// MarshalJSON writes the object as it came.
func (p Other) MarshalJSON() ([]byte, error) {
	if len(bytes.TrimSpace(p.Fields)) == 0 {
		return []byte("{}"), nil
	}
	return p.Fields, nil
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Decode reads a stored payload of a kind. A kind without a struct comes
// back as Other. Errors: a payload that is not a JSON object of the kind's
// shape.
func Decode(kind string, raw []byte) (Payload, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		raw = []byte("{}")
	}
	var p Payload
	switch kind {
	case KindUtilisation:
		p = decodeAs[Utilisation](raw, kind)
	case KindFirstUse:
		p = decodeAs[FirstUse](raw, kind)
	case KindFirstAttachment:
		p = decodeAs[FirstAttachment](raw, kind)
	case KindCountryChange:
		p = decodeAs[CountryChange](raw, kind)
	case KindTopup, KindAutoTopup, KindESIMGoTopup:
		p = decodeAs[Topup](raw, kind)
	case KindLowBalance, KindInsufficientBalance:
		p = decodeAs[Balance](raw, kind)
	case KindMSISDNEnabled, KindMSISDNDisabled:
		p = decodeAs[MSISDN](raw, kind)
	case KindDeletionScheduled, KindDeleted:
		p = decodeAs[Deletion](raw, kind)
	case KindProfileStatusChange:
		p = decodeAs[ProfileStatusChange](raw, kind)
	case KindSMSFailed:
		p = decodeAs[SMSFailed](raw, kind)
	default:
		var probe map[string]json.RawMessage
		if err := json.Unmarshal(raw, &probe); err != nil || probe == nil {
			return nil, fmt.Errorf("the %s payload is not a JSON object", kind)
		}
		return Other{Name: kind, Fields: append(json.RawMessage(nil), raw...)}, nil
	}
	if bad, ok := p.(decodeError); ok {
		// ICCIDs are strings, but a payload written by hand (or by another
		// tool) may hold one as a number: read it as its digits.
		if fixed, ok := iccidAsString(raw); ok {
			return Decode(kind, fixed)
		}
		return nil, fmt.Errorf("the %s payload does not have the %s shape: %v", kind, kind, bad.err)
	}
	return p, nil
}

// iccidAsString rewrites a numeric top-level "iccid" as a string.
func iccidAsString(raw []byte) ([]byte, bool) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, false
	}
	v, ok := m["iccid"]
	if !ok || len(v) == 0 || v[0] == '"' {
		return nil, false
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err != nil {
		return nil, false
	}
	m["iccid"], _ = json.Marshal(n.String())
	out, err := json.Marshal(m)
	return out, err == nil
}

type decodeError struct{ err error }

func (decodeError) Kind() string { return "" }

func decodeAs[T Payload](raw []byte, kind string) Payload {
	var v T
	if err := json.Unmarshal(raw, &v); err != nil {
		return decodeError{err}
	}
	if n, ok := any(&v).(namesKind); ok {
		n.defaultKind(kind)
	}
	return v
}

// namesKind is a payload whose field naming its kind (alertType, event)
// a stored row may leave out: Decode fills it from the row's kind.
type namesKind interface{ defaultKind(kind string) }

func (p *Utilisation) defaultKind(k string)     { p.AlertType = orDefault(p.AlertType, k) }
func (p *FirstUse) defaultKind(k string)        { p.AlertType = orDefault(p.AlertType, k) }
func (p *FirstAttachment) defaultKind(k string) { p.AlertType = orDefault(p.AlertType, k) }
func (p *CountryChange) defaultKind(k string)   { p.AlertType = orDefault(p.AlertType, k) }
func (p *Topup) defaultKind(k string)           { p.AlertType = orDefault(p.AlertType, k) }
func (p *Balance) defaultKind(k string)         { p.AlertType = orDefault(p.AlertType, k) }
func (p *MSISDN) defaultKind(k string)          { p.AlertType = orDefault(p.AlertType, k) }
func (p *Deletion) defaultKind(k string)        { p.Event = orDefault(p.Event, k) }
func (p *SMSFailed) defaultKind(k string)       { p.AlertType = orDefault(p.AlertType, k) }
