package esimid_test

import (
	"database/sql/driver"
	"encoding"
	"encoding/json"
	"errors"
	"testing"

	"github.com/esimd/esimd/esimid"
	"github.com/google/go-cmp/cmp"
)

// record is a JSON document of the kind the API layer exchanges; it checks
// that the identifiers travel as plain strings and that zero values encode
// as "" and come back as zero values.
type record struct {
	ICCID esimid.ICCID          `json:"iccid"`
	EID   esimid.EID            `json:"eid"`
	AC    esimid.ActivationCode `json:"activationCode"`
}

func TestJSONRoundTrip(t *testing.T) {
	tests := []struct {
		name string
		in   record
		json string
	}{
		{
			name: "set",
			in: record{
				ICCID: esimid.MustParseICCID("8944538532008160222F"),
				EID:   esimid.MustParseEID("89049032123451234512345678901235"),
				AC:    esimid.MustParseActivationCode("lpa:1$RSP.example.net$ABC$$1"),
			},
			json: `{"iccid":"8944538532008160222","eid":"89049032123451234512345678901235","activationCode":"LPA:1$rsp.example.net$ABC$$1"}`,
		},
		{
			name: "zero",
			in:   record{},
			json: `{"iccid":"","eid":"","activationCode":""}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.Marshal(tc.in)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tc.json {
				t.Errorf("json.Marshal = %s, want %s", b, tc.json)
			}
			var got record
			if err := json.Unmarshal(b, &got); err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.in, got, cmpOpts); diff != "" {
				t.Errorf("JSON round trip mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

func TestJSONRejectsInvalid(t *testing.T) {
	for _, doc := range []string{
		`{"iccid":"8944538532008160223"}`,
		`{"eid":"89049032123451234512345678901224"}`,
		`{"activationCode":"LPA:1$rsp.example.net$"}`,
	} {
		var r record
		err := json.Unmarshal([]byte(doc), &r)
		var pe *esimid.ParseError
		if !errors.As(err, &pe) {
			t.Errorf("json.Unmarshal(%s) error = %v, want a *esimid.ParseError", doc, err)
		}
	}
}

// textValue is the set of methods every identifier type shares.
type textValue interface {
	encoding.TextMarshaler
	encoding.TextAppender
	driver.Valuer
	String() string
	IsValid() bool
}

// textPtr is the pointer side: the decoding methods.
type textPtr interface {
	encoding.TextUnmarshaler
	Scan(any) error
}

// roundTrip runs v through every encoding (text, append, SQL Value) and
// decodes each result into a fresh T through its pointer type P, comparing
// with v.
func roundTrip[T textValue, P interface {
	*T
	textPtr
}](t *testing.T, v T) {
	t.Helper()
	text, err := v.MarshalText()
	if err != nil {
		t.Fatalf("%v.MarshalText: %v", v, err)
	}
	if string(text) != v.String() {
		t.Errorf("MarshalText = %q, String = %q", text, v.String())
	}
	app, err := v.AppendText([]byte("prefix:"))
	if err != nil || string(app) != "prefix:"+v.String() {
		t.Errorf("AppendText = %q, %v; want %q", app, err, "prefix:"+v.String())
	}

	var fromText T
	if err := P(&fromText).UnmarshalText(text); err != nil {
		t.Fatalf("UnmarshalText(%q): %v", text, err)
	}
	if diff := cmp.Diff(v, fromText, cmpOpts); diff != "" {
		t.Errorf("text round trip of %q (-want +got):\n%s", text, diff)
	}

	dv, err := v.Value()
	if err != nil {
		t.Fatalf("Value: %v", err)
	}
	if v.IsValid() {
		if s, ok := dv.(string); !ok || s != v.String() {
			t.Errorf("Value() = %#v, want %q", dv, v.String())
		}
	} else if dv != nil {
		t.Errorf("zero value's Value() = %#v, want nil (SQL NULL)", dv)
	}
	// Scan what Value produced, and the []byte form drivers also return.
	for _, src := range []any{dv, text} {
		var fromSQL T
		if err := P(&fromSQL).Scan(src); err != nil {
			t.Fatalf("Scan(%#v): %v", src, err)
		}
		if diff := cmp.Diff(v, fromSQL, cmpOpts); diff != "" {
			t.Errorf("SQL round trip via %T (-want +got):\n%s", src, diff)
		}
	}
}

func TestTextAndSQLRoundTrips(t *testing.T) {
	for _, tc := range goodICCIDs {
		roundTrip(t, esimid.MustParseICCID(tc.in))
	}
	roundTrip(t, esimid.ICCID{})
	for _, in := range goodEIDs {
		roundTrip(t, esimid.MustParseEID(in))
	}
	roundTrip(t, esimid.EID{})
	for _, in := range []string{
		"LPA:1$rsp.example.net$ABC-123",
		"LPA:1$rsp.example.net$ABC$1.3.6.1.4.1.31746",
		"LPA:1$rsp.example.net$ABC$$1",
		"lpa:1$RSP.example.net$abc$1.3.6.1.4.1.31746$1",
	} {
		roundTrip(t, esimid.MustParseActivationCode(in))
	}
	roundTrip(t, esimid.ActivationCode{})
}

// TestDecodeErrorsLeaveValueUnchanged checks the documented contract that a
// failed UnmarshalText or Scan does not clobber the destination, and that
// Scan rejects column types that cannot hold an identifier.
func TestDecodeErrorsLeaveValueUnchanged(t *testing.T) {
	iccid := esimid.MustParseICCID("8944538532008160222")
	eid := esimid.MustParseEID("89049032123451234512345678901235")
	ac := esimid.MustParseActivationCode("LPA:1$rsp.example.net$ABC")

	check := func(name string, p textPtr, before, after any) {
		t.Helper()
		if err := p.UnmarshalText([]byte("bogus")); err == nil {
			t.Errorf("%s.UnmarshalText(bogus) succeeded", name)
		}
		if err := p.Scan("bogus"); err == nil {
			t.Errorf("%s.Scan(bogus) succeeded", name)
		}
		if err := p.Scan(int64(8944538532008160222)); err == nil {
			t.Errorf("%s.Scan(int64) succeeded", name)
		}
		if diff := cmp.Diff(before, after, cmpOpts); diff != "" {
			t.Errorf("%s changed after failed decode (-want +got):\n%s", name, diff)
		}
	}
	i2, e2, a2 := iccid, eid, ac
	check("ICCID", &i2, iccid, i2)
	check("EID", &e2, eid, e2)
	check("ActivationCode", &a2, ac, a2)

	// NULL resets to the zero value.
	if err := i2.Scan(nil); err != nil || i2.IsValid() {
		t.Errorf("ICCID.Scan(nil) = %v, value %v", err, i2)
	}
	if err := e2.Scan(nil); err != nil || e2.IsValid() {
		t.Errorf("EID.Scan(nil) = %v, value %v", err, e2)
	}
	if err := a2.Scan(nil); err != nil || a2.IsValid() {
		t.Errorf("ActivationCode.Scan(nil) = %v, value %v", err, a2)
	}
}

// TestComparableAsMapKeys relies on the types being comparable, which is
// part of their contract (netip style).
func TestComparableAsMapKeys(t *testing.T) {
	m := map[esimid.ICCID]int{
		esimid.MustParseICCID("8944538532008160222"): 1,
	}
	if m[esimid.MustParseICCID("8944538532008160222F")] != 1 {
		t.Error("padded and unpadded ICCID should be the same map key")
	}
	acs := map[esimid.ActivationCode]bool{esimid.MustParseActivationCode("LPA:1$A.B$X"): true}
	if !acs[esimid.MustParseActivationCode("lpa:1$a.b$X")] {
		t.Error("activation codes differing only in host case should be the same map key")
	}
}
