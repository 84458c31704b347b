// The wire shapes of the eSIM endpoints, per API version. Handlers in
// esims.go build them; notes §7 lists where versions differ.

package httpapi

import (
	"strconv"
	"strings"
	"time"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/esims"
)

// esimTime is eSIM Go's timestamp: RFC 3339 in UTC with a Z, with as many
// fractional digits as the time has (notes §1.6).
func esimTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

type esimStatusJSON struct {
	Status string `json:"status"`
}

// esimListItemJSON is one row of GET /esims.
type esimListItemJSON struct {
	ICCID        string `json:"iccid"`
	CustomerRef  string `json:"customerRef"`
	MSISDN       string `json:"msisdn,omitempty"` // v2.5, when the eSIM has one
	LastAction   string `json:"lastAction"`
	ActionDate   string `json:"actionDate"`
	Physical     bool   `json:"physical"`
	AssignedDate string `json:"assignedDate"`
	State        string `json:"state,omitempty"` // v2.5
}

// esimDetailsJSON is GET /esims/{iccid} (eSIMDetailsResponse).
type esimDetailsJSON struct {
	ICCID         string `json:"iccid"`
	MSISDN        string `json:"msisdn,omitempty"` // v2.5, when set
	PIN           string `json:"pin"`
	PUK           string `json:"puk"`
	MatchingID    string `json:"matchingId"`
	SMDPAddress   string `json:"smdpAddress"`
	ProfileStatus string `json:"profileStatus"`
	// FirstInstalledDateTime is epoch milliseconds here (notes 0.3.6),
	// absent until the profile is first installed.
	FirstInstalledDateTime *int64 `json:"firstInstalledDateTime,omitempty"`
	CustomerRef            string `json:"customerRef"`
	AppleInstallURL        string `json:"appleInstallUrl,omitempty"`
	AndroidInstallURL      string `json:"androidInstallUrl,omitempty"`
	BrandingID             string `json:"brandingId,omitempty"`  // v2.5
	ProfileName            string `json:"profileName,omitempty"` // v2.5
	State                  string `json:"state,omitempty"`       // v2.5
}

// esimHistoryJSON is one history entry: bundleName from v2.3, bundle before
// (notes 0.4.6); alertType on utilisation entries from v2.3.
type esimHistoryJSON struct {
	Name       string  `json:"name"`
	BundleName *string `json:"bundleName,omitempty"`
	Bundle     *string `json:"bundle,omitempty"`
	Date       string  `json:"date"`
	AlertType  string  `json:"alertType,omitempty"`
}

type esimLocationJSON struct {
	MobileNetworkCode string `json:"mobileNetworkCode"` // the TADIG code, as eSIM Go's example (FRAF1)
	NetworkName       string `json:"networkName"`
	NetworkBrandName  string `json:"networkBrandName"`
	Country           string `json:"country"`
	LastSeen          string `json:"lastSeen,omitempty"`
}

// assignmentAllowanceJSON is an assignment's allowance (v2.5). The amounts
// are a decimal number of MB on GET /esims/{iccid}/bundles and bytes on
// GET /esims/{iccid}/bundles/{name} (notes 0.4.1).
type assignmentAllowanceJSON struct {
	Type            string     `json:"type"`
	Service         string     `json:"service"`
	Description     string     `json:"description"`
	InitialAmount   esimNumber `json:"initialAmount"`
	RemainingAmount esimNumber `json:"remainingAmount"`
	Unit            string     `json:"unit"`
	Unlimited       bool       `json:"unlimited"`
}

// esimNumber is a number written exactly as its text.
type esimNumber string

func (n esimNumber) MarshalJSON() ([]byte, error) { return []byte(n), nil }

// esimBytesNumber writes a byte count.
func esimBytesNumber(b int64) esimNumber { return esimNumber(strconv.FormatInt(b, 10)) }

// esimMBNumber writes a (non-negative) byte count as base-10 megabytes
// without rounding: 999999999 bytes is 999.999999.
func esimMBNumber(b int64) esimNumber {
	s := strconv.FormatInt(b/1_000_000, 10)
	if frac := b % 1_000_000; frac != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(1_000_000+frac, 10)[1:], "0")
	}
	return esimNumber(s)
}

// assignmentJSON is an assignment from v2.3: startTime, endTime and
// allowances only from v2.5 (notes 0.4.5), the times once it started.
type assignmentJSON struct {
	ID                  string                    `json:"id"`
	CallTypeGroup       string                    `json:"callTypeGroup"`
	InitialQuantity     int64                     `json:"initialQuantity"`
	RemainingQuantity   int64                     `json:"remainingQuantity"`
	AssignmentDateTime  string                    `json:"assignmentDateTime"`
	AssignmentReference string                    `json:"assignmentReference"`
	BundleState         string                    `json:"bundleState"`
	StartTime           string                    `json:"startTime,omitempty"`
	EndTime             string                    `json:"endTime,omitempty"`
	Unlimited           bool                      `json:"unlimited"`
	Allowances          []assignmentAllowanceJSON `json:"allowances,omitempty"`
}

// legacyAssignmentJSON is an assignment on v2.1 and v2.2 (notes §7); the
// times appear once the bundle started.
type legacyAssignmentJSON struct {
	ID                string `json:"id"`
	CallTypeGroup     string `json:"callTypeGroup"`
	InitialQuantity   int64  `json:"initialQuantity"`
	RemainingQuantity int64  `json:"remainingQuantity"`
	StartTime         string `json:"startTime,omitempty"`
	EndTime           string `json:"endTime,omitempty"`
}

// esimOfferJSON is an assignment on v2.0, an "active offer" of a promotion
// (notes §7): offerId is the assignment id (the origin of offerId in the
// later revoke API); elementId, whose meaning is not recorded, carries the
// assignment reference; quantities are strings of bytes.
type esimOfferJSON struct {
	ElementID         string `json:"elementId"`
	OfferID           string `json:"offerId"`
	CallTypeGroup     string `json:"callTypeGroup"`
	InitialQuantity   string `json:"initialQuantity"`
	RemainingQuantity string `json:"remainingQuantity"`
	StartTime         string `json:"startTime,omitempty"`
	EndTime           string `json:"endTime,omitempty"`
}

func esimAssignmentTimes(a *esims.Assignment) (start, end string) {
	if a.StartedAt != nil {
		start = esimTime(*a.StartedAt)
		if a.EndsAt != nil {
			end = esimTime(*a.EndsAt)
		}
	}
	return start, end
}

// newAssignmentJSON encodes an assignment for v2.3 and later; inMB picks
// the allowance unit (MB on the bundle list, BYTES on one bundle).
func newAssignmentJSON(v apiVersion, snap *catalogue.Snapshot, a *esims.Assignment, inMB bool) assignmentJSON {
	j := assignmentJSON{ID: strconv.FormatInt(a.ID, 10), CallTypeGroup: esimCallTypeData, InitialQuantity: a.InitialBytes,
		RemainingQuantity: a.RemainingBytes, AssignmentDateTime: esimTime(a.AssignedAt), AssignmentReference: a.Reference,
		BundleState: string(a.State), Unlimited: a.Unlimited}
	if v < 25 {
		return j
	}
	j.StartTime, j.EndTime = esimAssignmentTimes(a)
	al := assignmentAllowanceJSON{Type: string(catalogue.AllowanceData), Service: string(catalogue.ServiceStandard),
		Description: a.BundleName + " (data)", Unlimited: a.Unlimited, Unit: "BYTES",
		InitialAmount: esimBytesNumber(a.InitialBytes), RemainingAmount: esimBytesNumber(a.RemainingBytes)}
	if b, ok := snap.Bundle(a.BundleName); ok {
		for _, ca := range b.Allowances {
			if ca.Type == catalogue.AllowanceData {
				al.Service, al.Description = string(ca.Service), ca.Description
				break
			}
		}
	}
	if inMB {
		al.Unit, al.InitialAmount, al.RemainingAmount = "MB", esimMBNumber(a.InitialBytes), esimMBNumber(a.RemainingBytes)
	}
	j.Allowances = nil
	if a.Unlimited || a.InitialBytes > 0 || (a.InitialMinutes == 0 && a.InitialSMS == 0) {
		j.Allowances = append(j.Allowances, al)
	}
	// Voice and SMS, counted in minutes and messages on both endpoints.
	if a.InitialMinutes > 0 {
		j.Allowances = append(j.Allowances, assignmentAllowanceJSON{Type: string(catalogue.AllowanceVoice), Service: string(catalogue.ServiceStandard),
			Description: a.BundleName + " (voice)", Unit: "MINS", InitialAmount: esimBytesNumber(a.InitialMinutes), RemainingAmount: esimBytesNumber(a.RemainingMinutes)})
	}
	if a.InitialSMS > 0 {
		j.Allowances = append(j.Allowances, assignmentAllowanceJSON{Type: string(catalogue.AllowanceSMS), Service: string(catalogue.ServiceStandard),
			Description: a.BundleName + " (sms)", Unit: "SMS", InitialAmount: esimBytesNumber(a.InitialSMS), RemainingAmount: esimBytesNumber(a.RemainingSMS)})
	}
	return j
}

func newLegacyAssignmentJSON(a *esims.Assignment) legacyAssignmentJSON {
	j := legacyAssignmentJSON{ID: strconv.FormatInt(a.ID, 10), CallTypeGroup: esimCallTypeData, InitialQuantity: a.InitialBytes,
		RemainingQuantity: a.RemainingBytes}
	j.StartTime, j.EndTime = esimAssignmentTimes(a)
	return j
}
