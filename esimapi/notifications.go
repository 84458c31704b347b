package esimapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Notification is a callback eSIM Go (or esimd) POSTs to the
// organisation's callback URL. [ParseNotification] returns one of:
//
//   - [*UtilisationNotification]: alertType Utilisation (1, 50, 80, 100 % used)
//   - [*FirstAttachmentNotification]: FirstAttachment
//   - [*FirstUseNotification]: FirstUse (the bundle started)
//   - [*CountryChangeNotification]: CountryChange
//   - [*TopupNotification]: Topup, AutoTopup, eSIMGoTopup
//   - [*BalanceNotification]: LowBalance, InsufficientBalance
//   - [*MSISDNNotification]: MSISDNEnabled, MSISDNDisabled
//   - [*DeletionScheduledNotification]: event esim.deletion_scheduled
//   - [*DeletedNotification]: event esim.deleted
//   - [*ProfileStatusChangeNotification]: a profileStatus change
//   - [*SMSFailedNotification]: SMSFailed (esimd sends it; eSIM Go's is undocumented)
//   - [*UnknownNotification]: anything else, kept raw
type Notification interface {
	// Type is the alertType or event ("Utilisation", "esim.deleted",
	// "ProfileStatusChange").
	Type() string
	notification()
}

// Alert types and events.
const (
	AlertUtilisation         = "Utilisation"
	AlertFirstAttachment     = "FirstAttachment"
	AlertFirstUse            = "FirstUse"
	AlertCountryChange       = "CountryChange"
	AlertTopup               = "Topup"
	AlertAutoTopup           = "AutoTopup"
	AlertESIMGoTopup         = "eSIMGoTopup"
	AlertLowBalance          = "LowBalance"
	AlertInsufficientBalance = "InsufficientBalance"
	AlertMSISDNEnabled       = "MSISDNEnabled"
	AlertMSISDNDisabled      = "MSISDNDisabled"
	EventDeletionScheduled   = "esim.deletion_scheduled"
	EventDeleted             = "esim.deleted"
	TypeProfileStatusChange  = "ProfileStatusChange"
	AlertSMSFailed           = "SMSFailed"
)

// NotificationBundle is the assignment a usage notification is about. V2
// callbacks carry name, quantities and times; V3 adds id, reference,
// description and unlimited.
type NotificationBundle struct {
	// ID is the assignment ID (for RevokeAssignment).
	ID string `json:"id,omitempty"`
	// Reference is the assignment reference (for InstallData).
	Reference   string `json:"reference,omitempty"`
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// InitialQuantity and RemainingQuantity are bytes (or Unit).
	InitialQuantity   int64     `json:"initialQuantity"`
	RemainingQuantity int64     `json:"remainingQuantity"`
	StartTime         time.Time `json:"startTime"`
	EndTime           time.Time `json:"endTime"`
	Unlimited         bool      `json:"unlimited"`
	// Unit is minutes or SMSmessages on voice and SMS alerts (then the
	// quantities are minutes or messages); empty or BYTES for data.
	Unit string `json:"unit,omitempty"`
}

// UnmarshalJSON reads id as string or number, quantities as integers or
// decimals (v2.0/v2.1 sent 1000.00), and times leniently.
func (b *NotificationBundle) UnmarshalJSON(data []byte) error {
	type plain NotificationBundle
	var w struct {
		*plain
		ID                flexString  `json:"id"`
		InitialQuantity   json.Number `json:"initialQuantity"`
		RemainingQuantity json.Number `json:"remainingQuantity"`
		StartTime         flexTime    `json:"startTime"`
		EndTime           flexTime    `json:"endTime"`
	}
	w.plain = (*plain)(b)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	b.ID = string(w.ID)
	b.StartTime, b.EndTime = time.Time(w.StartTime), time.Time(w.EndTime)
	var err error
	if b.InitialQuantity, err = quantity(w.InitialQuantity); err != nil {
		return err
	}
	b.RemainingQuantity, err = quantity(w.RemainingQuantity)
	return err
}

// quantity reads a whole number, allowing a zero fraction ("1000.00").
func quantity(n json.Number) (int64, error) {
	if n == "" {
		return 0, nil
	}
	if v, err := n.Int64(); err == nil {
		return v, nil
	}
	m, err := ParseMoney(n.String()) // exact decimal parsing
	if err != nil {
		return 0, fmt.Errorf("quantity %s: %w", n, err)
	}
	return m.MinorUnits(0)
}

// UsedPercent is how much of the bundle is used, 0–100 (0 for unlimited).
func (b NotificationBundle) UsedPercent() int {
	if b.Unlimited || b.InitialQuantity <= 0 {
		return 0
	}
	return int((b.InitialQuantity - b.RemainingQuantity) * 100 / b.InitialQuantity)
}

// UtilisationNotification: data used on a bundle crossed 50, 80 or 100 %
// (eSIM Go's FirstUse replaces the 1 % alert), or voice minutes or SMS
// of a bundle crossed 1, 50, 80 or 100 % (Bundle.Unit minutes or
// SMSmessages).
type UtilisationNotification struct {
	AlertType string `json:"alertType"`
	ICCID     string `json:"iccid"`
	// Percentage is the threshold crossed: esimd's extension field
	// "percentage" of the body, so that the alerts of one usage record
	// can be told apart. Zero from eSIM Go: use Bundle.UsedPercent.
	Percentage int                `json:"percentage,omitempty"`
	Bundle     NotificationBundle `json:"bundle"`
}

// FirstAttachmentNotification: the eSIM registered on a network for the
// first time.
type FirstAttachmentNotification struct {
	AlertType string `json:"alertType"`
	ICCID     string `json:"iccid"`
}

// FirstUseNotification: the eSIM used data for the first time; the bundle
// started.
type FirstUseNotification struct {
	AlertType string             `json:"alertType"`
	ICCID     string             `json:"iccid"`
	Bundle    NotificationBundle `json:"bundle"`
}

// CountryChangeNotification: the eSIM registered in a country it was not
// in during the last 24 hours.
type CountryChangeNotification struct {
	AlertType string `json:"alertType"`
	ICCID     string `json:"iccid"`
	Country   struct {
		Code string `json:"code"` // ISO
		Name string `json:"name"`
	} `json:"country"`
}

// TopupNotification: the balance was topped up (Topup by you, AutoTopup,
// eSIMGoTopup).
type TopupNotification struct {
	AlertType string `json:"alertType"`
	OldAmount Money  `json:"-"`
	NewAmount Money  `json:"-"`
}

// BalanceNotification: the balance reached the alert threshold
// (LowBalance) or a purchase was refused for lack of credit
// (InsufficientBalance).
type BalanceNotification struct {
	AlertType string `json:"alertType"`
	Balance   Money  `json:"-"`
	Threshold Money  `json:"-"`
	// ThresholdPercentRemaining is the percentage of the threshold left.
	ThresholdPercentRemaining float64 `json:"-"`
}

// MSISDNNotification: a voice/SMS bundle gave the eSIM a phone number
// (MSISDNEnabled) or took it away (MSISDNDisabled, with Reason "Bundle
// expired", "Bundle revoked" or "Bundle depleted").
type MSISDNNotification struct {
	AlertType string `json:"alertType"`
	ICCID     string `json:"iccid"`
	MSISDN    string `json:"msisdn"`
	Reason    string `json:"reason,omitempty"`
}

// DeletionScheduledNotification: the eSIM has had no bundle for 180 days;
// apply one before Date (7 days) or it is deleted.
type DeletionScheduledNotification struct {
	Event string    `json:"event"`
	ICCID string    `json:"iccid"`
	Date  time.Time `json:"date"`
}

// DeletedNotification: the eSIM was permanently deactivated.
type DeletedNotification struct {
	Event string    `json:"event"`
	ICCID string    `json:"iccid"`
	Date  time.Time `json:"date"`
}

// ProfileStatusChangeNotification: the profile was downloaded, installed or
// deleted from a device (Released).
type ProfileStatusChangeNotification struct {
	ICCID         string    `json:"iccid"`
	ProfileStatus string    `json:"profileStatus"`
	Date          time.Time `json:"date"`
	// Device is nil when unknown; Released usually carries only EID.
	Device *DeviceInfo `json:"device,omitempty"`
}

// DeviceInfo is what the network knows of a device.
type DeviceInfo struct {
	IMEI  string `json:"imei,omitempty"`
	EID   string `json:"eid,omitempty"`
	TAC   string `json:"tac,omitempty"`
	Make  string `json:"make,omitempty"`
	Model string `json:"model,omitempty"`
}

// SMSFailedNotification: an SMS to the eSIM was not delivered.
type SMSFailedNotification struct {
	AlertType string    `json:"alertType"`
	ICCID     string    `json:"iccid"`
	MSISDN    string    `json:"msisdn,omitempty"`
	Timestamp time.Time `json:"timestamp"`
}

// UnmarshalJSON reads timestamp leniently.
func (n *SMSFailedNotification) UnmarshalJSON(data []byte) error {
	type plain SMSFailedNotification
	var w struct {
		*plain
		Timestamp flexTime `json:"timestamp"`
	}
	w.plain = (*plain)(n)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	n.Timestamp = time.Time(w.Timestamp)
	return nil
}

// UnknownNotification is a notification of a type this SDK does not know,
// kept whole.
type UnknownNotification struct {
	Kind string
	Raw  json.RawMessage
}

// Type returns the notification's alertType or event.
func (n *UtilisationNotification) Type() string { return AlertUtilisation }

// Type returns the notification's alertType or event.
func (n *FirstAttachmentNotification) Type() string { return AlertFirstAttachment }

// Type returns the notification's alertType or event.
func (n *FirstUseNotification) Type() string { return AlertFirstUse }

// Type returns the notification's alertType or event.
func (n *CountryChangeNotification) Type() string { return AlertCountryChange }

// Type returns the notification's alertType or event.
func (n *TopupNotification) Type() string { return n.AlertType }

// Type returns the notification's alertType or event.
func (n *BalanceNotification) Type() string { return n.AlertType }

// Type returns the notification's alertType or event.
func (n *MSISDNNotification) Type() string { return n.AlertType }

// Type returns the notification's alertType or event.
func (n *DeletionScheduledNotification) Type() string { return EventDeletionScheduled }

// Type returns the notification's alertType or event.
func (n *DeletedNotification) Type() string { return EventDeleted }

// Type returns the notification's alertType or event.
func (n *ProfileStatusChangeNotification) Type() string { return TypeProfileStatusChange }

// Type returns the notification's alertType or event.
func (n *SMSFailedNotification) Type() string { return AlertSMSFailed }

// Type returns the notification's alertType or event.
func (n *UnknownNotification) Type() string { return n.Kind }

func (*UtilisationNotification) notification()         {}
func (*FirstAttachmentNotification) notification()     {}
func (*FirstUseNotification) notification()            {}
func (*CountryChangeNotification) notification()       {}
func (*TopupNotification) notification()               {}
func (*BalanceNotification) notification()             {}
func (*MSISDNNotification) notification()              {}
func (*DeletionScheduledNotification) notification()   {}
func (*DeletedNotification) notification()             {}
func (*ProfileStatusChangeNotification) notification() {}
func (*SMSFailedNotification) notification()           {}
func (*UnknownNotification) notification()             {}

// ErrNotNotification is wrapped by ParseNotification's error for a body
// that is not a JSON object.
var ErrNotNotification = errors.New("not a notification")

// ParseNotification decodes a callback body into its typed form. A JSON
// object of an unknown type gives an [*UnknownNotification] and no error.
func ParseNotification(body []byte) (Notification, error) {
	var probe struct {
		AlertType     string          `json:"alertType"`
		Event         string          `json:"event"`
		ProfileStatus string          `json:"profileStatus"`
		ICCID         flexString      `json:"iccid"`
		Date          flexTime        `json:"date"`
		Bundle        json.RawMessage `json:"bundle"`
		BalanceInfo   struct {
			Balance                   Money   `json:"balance"`
			Threshold                 Money   `json:"threshold"`
			ThresholdPercentRemaining float64 `json:"thresholdPercentRemaining"`
		} `json:"balanceInfo"`
	}
	if !isObject(body) {
		return nil, fmt.Errorf("esimapi: %w: the body is not a JSON object", ErrNotNotification)
	}
	if err := json.Unmarshal(body, &probe); err != nil {
		return nil, fmt.Errorf("esimapi: %w: %w", ErrNotNotification, err)
	}
	iccid := string(probe.ICCID)
	switch {
	case probe.Event == EventDeletionScheduled:
		return &DeletionScheduledNotification{Event: probe.Event, ICCID: iccid, Date: time.Time(probe.Date)}, nil
	case probe.Event == EventDeleted:
		return &DeletedNotification{Event: probe.Event, ICCID: iccid, Date: time.Time(probe.Date)}, nil
	case probe.Event != "":
		return &UnknownNotification{Kind: probe.Event, Raw: append(json.RawMessage(nil), body...)}, nil
	}
	switch probe.AlertType {
	case AlertUtilisation, "usage": // "usage" is v2.0's name
		n := &UtilisationNotification{}
		if err := withICCID(body, n, &n.ICCID); err != nil {
			return nil, err
		}
		n.AlertType = AlertUtilisation
		return n, nil
	case AlertFirstAttachment:
		return &FirstAttachmentNotification{AlertType: probe.AlertType, ICCID: iccid}, nil
	case AlertFirstUse:
		n := &FirstUseNotification{}
		if err := withICCID(body, n, &n.ICCID); err != nil {
			return nil, err
		}
		return n, nil
	case AlertCountryChange:
		n := &CountryChangeNotification{}
		if err := withICCID(body, n, &n.ICCID); err != nil {
			return nil, err
		}
		return n, nil
	case AlertTopup, AlertAutoTopup, AlertESIMGoTopup:
		var amounts struct {
			OldAmount Money `json:"oldAmount"`
			NewAmount Money `json:"newAmount"`
		}
		if len(probe.Bundle) > 0 {
			if err := json.Unmarshal(probe.Bundle, &amounts); err != nil {
				return nil, fmt.Errorf("esimapi: %s notification: %w", probe.AlertType, err)
			}
		}
		return &TopupNotification{AlertType: probe.AlertType, OldAmount: amounts.OldAmount, NewAmount: amounts.NewAmount}, nil
	case AlertLowBalance, AlertInsufficientBalance:
		bi := probe.BalanceInfo
		return &BalanceNotification{AlertType: probe.AlertType, Balance: bi.Balance, Threshold: bi.Threshold,
			ThresholdPercentRemaining: bi.ThresholdPercentRemaining}, nil
	case AlertSMSFailed:
		n := &SMSFailedNotification{}
		if err := withICCID(body, n, &n.ICCID); err != nil {
			return nil, err
		}
		return n, nil
	case AlertMSISDNEnabled, AlertMSISDNDisabled:
		n := &MSISDNNotification{}
		if err := withICCID(body, n, &n.ICCID); err != nil {
			return nil, err
		}
		return n, nil
	case "":
		if probe.ProfileStatus != "" {
			n := &ProfileStatusChangeNotification{}
			var w struct {
				Device *DeviceInfo `json:"device"`
			}
			if err := json.Unmarshal(body, &w); err != nil {
				return nil, fmt.Errorf("esimapi: ProfileStatusChange notification: %w", err)
			}
			n.ICCID, n.ProfileStatus, n.Date, n.Device = iccid, probe.ProfileStatus, time.Time(probe.Date), w.Device
			return n, nil
		}
	}
	return &UnknownNotification{Kind: probe.AlertType, Raw: append(json.RawMessage(nil), body...)}, nil
}

// withICCID decodes body into n, reading iccid as a string or a number
// (the FirstUse example renders it as a number).
func withICCID(body []byte, n Notification, iccid *string) error {
	var w struct {
		ICCID flexString `json:"iccid"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return fmt.Errorf("esimapi: %s notification: %w", n.Type(), err)
	}
	// Decode everything but iccid through a copy with iccid removed.
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("esimapi: %s notification: %w", n.Type(), err)
	}
	delete(m, "iccid")
	rest, _ := json.Marshal(m)
	if err := json.Unmarshal(rest, n); err != nil {
		return fmt.Errorf("esimapi: %s notification: %w", n.Type(), err)
	}
	*iccid = string(w.ICCID)
	return nil
}

func isObject(data []byte) bool {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		}
		return false
	}
	return false
}
