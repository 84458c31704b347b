package notify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// Notification kinds (alertType or event name) with a documented body
// (notes §4.2).
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
// Errors: Invalid for a payload that is not a JSON object.
func Render(kind string, payload json.RawMessage, version string) ([]byte, error) {
	p, err := decodePayload(payload)
	if err != nil {
		return nil, err
	}
	v3 := version != orgs.CallbackV2
	var body any
	switch kind {
	case KindUtilisation:
		// percentage is esimd's extension (after eSIM Go's fields): which
		// threshold this alert is, so that the alerts of one usage record,
		// whose bundles are alike, can be told apart. Receivers that do not
		// know it ignore it (BundleAlert allows further properties).
		var pct *json.Number
		if n := p.num("percentage"); n != "0" {
			pct = &n
		}
		body = struct {
			ICCID      string       `json:"iccid"`
			AlertType  string       `json:"alertType"`
			Bundle     any          `json:"bundle"`
			Percentage *json.Number `json:"percentage,omitempty"`
		}{p.str("iccid"), p.alert(kind), p.bundle("bundle", v3), pct}
	case KindFirstUse:
		body = struct {
			AlertType string `json:"alertType"`
			ICCID     string `json:"iccid"`
			Bundle    any    `json:"bundle"`
		}{p.alert(kind), p.str("iccid"), p.bundle("bundle", v3)}
	case KindFirstAttachment:
		body = struct {
			AlertType string `json:"alertType"`
			ICCID     string `json:"iccid"`
		}{p.alert(kind), p.str("iccid")}
	case KindCountryChange:
		c := p.obj("country")
		body = struct {
			AlertType string `json:"alertType"`
			ICCID     string `json:"iccid"`
			Country   struct {
				Code string `json:"code"`
				Name string `json:"name"`
			} `json:"country"`
		}{AlertType: p.alert(kind), ICCID: p.str("iccid"), Country: struct {
			Code string `json:"code"`
			Name string `json:"name"`
		}{c.str("code"), c.str("name")}}
	case KindTopup, KindAutoTopup, KindESIMGoTopup:
		b := p.obj("bundle")
		type amounts struct {
			OldAmount json.Number `json:"oldAmount"`
			NewAmount json.Number `json:"newAmount"`
		}
		body = struct {
			AlertType string  `json:"alertType"`
			Bundle    amounts `json:"bundle"`
		}{p.alert(kind), amounts{b.num("oldAmount"), b.num("newAmount")}}
	case KindLowBalance, KindInsufficientBalance:
		b := p.obj("balanceInfo")
		type info struct {
			Balance                   json.Number `json:"balance"`
			Threshold                 json.Number `json:"threshold"`
			ThresholdPercentRemaining json.Number `json:"thresholdPercentRemaining"`
		}
		body = struct {
			AlertType   string `json:"alertType"`
			BalanceInfo info   `json:"balanceInfo"`
		}{p.alert(kind), info{b.num("balance"), b.num("threshold"), b.num("thresholdPercentRemaining")}}
	case KindMSISDNEnabled, KindMSISDNDisabled:
		body = struct {
			AlertType string `json:"alertType"`
			ICCID     string `json:"iccid"`
			MSISDN    string `json:"msisdn"`
			Reason    string `json:"reason"`
		}{p.alert(kind), p.str("iccid"), p.str("msisdn"), p.str("reason")}
	case KindDeletionScheduled, KindDeleted:
		event := p.str("event")
		if event == "" {
			event = kind
		}
		body = struct {
			Date  string `json:"date"`
			Event string `json:"event"`
			ICCID string `json:"iccid"`
		}{p.time("date"), event, p.str("iccid")}
	case KindProfileStatusChange:
		type device struct {
			IMEI  string `json:"imei,omitempty"`
			EID   string `json:"eid,omitempty"`
			TAC   string `json:"tac,omitempty"`
			Make  string `json:"make,omitempty"`
			Model string `json:"model,omitempty"`
		}
		var dev *device
		if d := p.obj("device"); len(d) > 0 {
			dev = &device{d.str("imei"), d.str("eid"), d.str("tac"), d.str("make"), d.str("model")}
			if *dev == (device{}) {
				dev = nil
			}
		}
		body = struct {
			ICCID         string  `json:"iccid"`
			ProfileStatus string  `json:"profileStatus"`
			Date          string  `json:"date,omitempty"`
			Device        *device `json:"device,omitempty"`
		}{p.str("iccid"), p.str("profileStatus"), p.time("date"), dev}
	case KindSMSFailed:
		body = struct {
			ICCID     string `json:"iccid"`
			MSISDN    string `json:"msisdn,omitempty"`
			AlertType string `json:"alertType"`
			Timestamp string `json:"timestamp"`
		}{p.str("iccid"), p.str("msisdn"), p.alert(kind), p.time("timestamp")}
	default:
		body = map[string]any(p)
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
	Name              string      `json:"name"`
	InitialQuantity   json.Number `json:"initialQuantity"`
	RemainingQuantity json.Number `json:"remainingQuantity"`
	StartTime         string      `json:"startTime,omitempty"`
	EndTime           string      `json:"endTime,omitempty"`
	Unit              string      `json:"unit,omitempty"`
}

// bundleV3 is the usage bundle of V3 bodies: the assignment's id and
// reference (usable to revoke it or find it in /esims/assignments), its
// description and whether it is unlimited.
type bundleV3 struct {
	ID                string      `json:"id"`
	Reference         string      `json:"reference"`
	Name              string      `json:"name"`
	Description       string      `json:"description"`
	InitialQuantity   json.Number `json:"initialQuantity"`
	RemainingQuantity json.Number `json:"remainingQuantity"`
	StartTime         string      `json:"startTime,omitempty"`
	EndTime           string      `json:"endTime,omitempty"`
	Unlimited         bool        `json:"unlimited"`
	// Unit is minutes or SMSmessages on voice and SMS alerts, as a newer
	// copy of eSIM Go's notification page shows (notes §4.2); data alerts
	// leave it out (bytes).
	Unit string `json:"unit,omitempty"`
}

// payload is a decoded event payload; numbers stay json.Number so that
// amounts and byte counts keep their exact text.
type payload map[string]any

func decodePayload(raw json.RawMessage) (payload, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return payload{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var p payload
	if err := dec.Decode(&p); err != nil {
		return nil, fault.Wrap(fault.Invalid, err, "an event payload must be a JSON object")
	}
	if p == nil {
		p = payload{}
	}
	return p, nil
}

func (p payload) bundle(key string, v3 bool) any {
	b := p.obj(key)
	if v3 {
		return bundleV3{ID: b.str("id"), Reference: b.str("reference"), Name: b.str("name"), Description: b.str("description"),
			InitialQuantity: b.num("initialQuantity"), RemainingQuantity: b.num("remainingQuantity"),
			StartTime: b.time("startTime"), EndTime: b.time("endTime"), Unlimited: b.boolean("unlimited"), Unit: b.str("unit")}
	}
	return bundleV2{Name: b.str("name"), InitialQuantity: b.num("initialQuantity"), RemainingQuantity: b.num("remainingQuantity"),
		StartTime: b.time("startTime"), EndTime: b.time("endTime"), Unit: b.str("unit")}
}

// alert is the payload's alertType, else the event's kind.
func (p payload) alert(kind string) string {
	if a := p.str("alertType"); a != "" {
		return a
	}
	return kind
}

func (p payload) obj(key string) payload {
	m, _ := p[key].(map[string]any)
	return payload(m)
}

// str returns a value as a string: ICCIDs are strings even where a
// payload holds a number.
func (p payload) str(key string) string {
	switch v := p[key].(type) {
	case string:
		return v
	case json.Number:
		return v.String()
	case bool:
		return strconv.FormatBool(v)
	case nil:
		return ""
	default:
		return fmt.Sprint(v)
	}
}

func (p payload) num(key string) json.Number {
	switch v := p[key].(type) {
	case json.Number:
		return v
	case string:
		// A number written as a string is kept if it is a JSON number.
		if _, err := strconv.ParseFloat(v, 64); err == nil && json.Valid([]byte(v)) && v[0] != '"' {
			return json.Number(v)
		}
	}
	return "0"
}

func (p payload) boolean(key string) bool {
	b, _ := p[key].(bool)
	return b
}

// time renders a stored time as RFC 3339 UTC in whole seconds.
func (p payload) time(key string) string {
	s := p.str(key)
	if s == "" {
		return ""
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return s
	}
	return t.UTC().Format(callbackTime)
}
