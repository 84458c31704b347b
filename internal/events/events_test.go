package events_test

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/money"
)

func at(s string) *time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return &t
}

// every is one payload of each struct, filled.
func every() []events.Payload {
	b := events.Bundle{ID: "42", Reference: "r-1", Name: "esim_1GB_7D_GB_V2", Description: "d", InitialQuantity: 1_000_000_000,
		RemainingQuantity: 200_000_000, StartTime: at("2026-03-01T12:00:00Z"), EndTime: at("2026-03-08T12:00:00Z"), Unit: "minutes"}
	return []events.Payload{
		events.Utilisation{AlertType: events.KindUtilisation, ICCID: "8999901000000000013", Percentage: 80, Bundle: b},
		events.FirstUse{AlertType: events.KindFirstUse, ICCID: "8999901000000000013", Bundle: b},
		events.FirstAttachment{AlertType: events.KindFirstAttachment, ICCID: "8999901000000000013"},
		events.CountryChange{AlertType: events.KindCountryChange, ICCID: "8999901000000000013", Country: events.Country{Code: "GB", Name: "United Kingdom"}},
		events.Topup{AlertType: events.KindAutoTopup, Bundle: events.Amounts{OldAmount: money.MustParse("40"), NewAmount: money.MustParse("140.25")}},
		events.Balance{AlertType: events.KindInsufficientBalance, BalanceInfo: events.BalanceInfo{Balance: money.MustParse("1.5"), Threshold: money.MustParse("100"), ThresholdPercentRemaining: 1}},
		events.MSISDN{AlertType: events.KindMSISDNDisabled, ICCID: "8999901000000000013", MSISDN: "447700900123", Reason: "Bundle expired"},
		events.Deletion{Event: events.KindDeletionScheduled, ICCID: "8999901000000000013", Date: *at("2026-09-04T12:00:00Z")},
		events.ProfileStatusChange{ICCID: "8999901000000000013", ProfileStatus: "Installed", Date: *at("2026-03-01T11:58:03Z"), Device: &events.Device{EID: "89049032000001000000000000000074"}},
		events.SMSFailed{AlertType: events.KindSMSFailed, ICCID: "8999901000000000013", MSISDN: "447700900123", Timestamp: *at("2026-03-01T12:30:00Z")},
	}
}

// TestPayloadsRoundTrip: every payload decodes back to itself by its kind,
// and its stored text has its keys in sorted order at every level, as the
// maps the engine wrote before payloads were typed did, so old rows and
// new ones read the same.
func TestPayloadsRoundTrip(t *testing.T) {
	for _, p := range every() {
		raw, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		got, err := events.Decode(p.Kind(), raw)
		if err != nil {
			t.Fatalf("%s: %v", p.Kind(), err)
		}
		if diff := cmp.Diff(p, got); diff != "" {
			t.Errorf("%s round trip (-want +got):\n%s", p.Kind(), diff)
		}
		if canon := canonical(t, raw); string(canon) != string(raw) {
			t.Errorf("%s is stored as\n%s\nnot with its keys sorted as a map's would be:\n%s", p.Kind(), raw, canon)
		}
	}
}

// canonical re-encodes JSON through maps (encoding/json sorts map keys),
// keeping numbers' text.
func canonical(t *testing.T, raw []byte) []byte {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return mustMarshal(t, v)
}

func mustMarshal(t *testing.T, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeOtherKindsAndBadShapes(t *testing.T) {
	p, err := events.Decode("esim.future_kind", []byte(`{"a":[1,{"b":null}]}`))
	if err != nil {
		t.Fatal(err)
	}
	if p.Kind() != "esim.future_kind" || string(mustMarshal(t, p)) != `{"a":[1,{"b":null}]}` {
		t.Errorf("an unknown kind came back as %s %s", p.Kind(), mustMarshal(t, p))
	}
	for kind, raw := range map[string]string{
		events.KindUtilisation: `{"bundle":{"initialQuantity":"12x"}}`,
		events.KindTopup:       `{"bundle":{"oldAmount":"lots"}}`,
		"esim.future_kind":     `[1,2]`,
	} {
		if _, err := events.Decode(kind, []byte(raw)); err == nil {
			t.Errorf("Decode(%s, %s) accepted a payload of the wrong shape", kind, raw)
		}
	}
	// A payload that left out the field naming its kind gets it back.
	p, err = events.Decode(events.KindESIMGoTopup, []byte(`{"bundle":{"oldAmount":0,"newAmount":1000}}`))
	if err != nil || p.(events.Topup).AlertType != events.KindESIMGoTopup || p.Kind() != events.KindESIMGoTopup {
		t.Errorf("eSIMGoTopup without alertType = %+v, %v", p, err)
	}
	// A numeric ICCID is read as its digits.
	p, err = events.Decode(events.KindFirstAttachment, []byte(`{"iccid":8944538532008160222}`))
	if err != nil || p.(events.FirstAttachment).ICCID != "8944538532008160222" {
		t.Errorf("numeric ICCID = %+v, %v", p, err)
	}
}

// FuzzDecode: any stored text decodes to a payload or an error, never a
// panic, and a payload decoded once encodes to text that decodes again.
func FuzzDecode(f *testing.F) {
	for _, p := range every() {
		f.Add(p.Kind(), string(mustMarshalF(p)))
	}
	f.Add("Other", `{"a":1}`)
	f.Fuzz(func(t *testing.T, kind, raw string) {
		p, err := events.Decode(kind, []byte(raw))
		if err != nil {
			return
		}
		again, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("Decode(%q, %q) gave %#v, which does not encode: %v", kind, raw, p, err)
		}
		if _, err := events.Decode(kind, again); err != nil {
			t.Fatalf("re-decoding %s: %v", again, err)
		}
	})
}

func mustMarshalF(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
