package esimid_test

import (
	"math"
	"strings"
	"testing"

	"github.com/esimd/esimd/esimid"
)

// The valid EIDs below were checked independently by evaluating the whole
// 32-digit number modulo 97 with Python's big integers (int(eid) % 97 == 1):
//
//	89049032123451234512345678901235  the GSMA SGP.29 example EID
//	89049032000000000000000000000163
//	89000000000000000000000000000002
//	00000000000000000000000000000098  check digits at their maximum
//	12345678901234567890123456789039
//
// 89049032123451234512345678901224, which circulates as an "example EID",
// gives 87, not 1, so it is used as a known-bad value. The "want NN" check
// digits in TestParseEIDBad were computed the same way.
var goodEIDs = []string{
	"89049032123451234512345678901235",
	"89049032000000000000000000000163",
	"89000000000000000000000000000002",
	"00000000000000000000000000000098",
	"12345678901234567890123456789039",
}

func TestParseEIDGood(t *testing.T) {
	for _, in := range goodEIDs {
		id, err := esimid.ParseEID(in)
		if err != nil {
			t.Errorf("ParseEID(%q): %v", in, err)
			continue
		}
		if !id.IsValid() || id.String() != in {
			t.Errorf("ParseEID(%q) = %q (valid=%v)", in, id, id.IsValid())
		}
	}
}

func TestParseEIDBad(t *testing.T) {
	tests := []struct {
		in     string
		class  error
		reason string
	}{
		{"", esimid.ErrLength, "is empty, want 32 digits"},
		{"8904903212345123451234567890123", esimid.ErrLength, "has 31 characters"},
		{"890490321234512345123456789012350", esimid.ErrLength, "has 33 characters"},
		{"89049032123451234512345678901224", esimid.ErrCheckDigit, "(check digits 24, want 35)"},
		{"89049032123451234512345678901253", esimid.ErrCheckDigit, "(check digits 53, want 35)"},
		{"89049032123415234512345678901235", esimid.ErrCheckDigit, "(check digits 35, want 38)"}, // transposed 5/1
		{"8904903212345123451234567890123A", esimid.ErrSyntax, "non-digit 'A' at index 31"},
		{"89049032 23451234512345678901235", esimid.ErrSyntax, "non-digit ' ' at index 8"},
		{"8904903212345123451234567890123é", esimid.ErrLength, "has 33 characters"}, // é is 2 bytes
		{"8904903212345123451234567890123\x00", esimid.ErrSyntax, `non-digit '\x00' at index 31`},
		{strings.Repeat("0", 32), esimid.ErrCheckDigit, "(check digits 00, want 98)"},
		// ≡ 1 (mod 97) but with a check pair ISO 7064 never generates:
		// 00 and 01 are congruent to 97 and 98. Found by FuzzParseEID.
		{"00000000000400000000000000000000", esimid.ErrCheckDigit, "(check digits 00, want 97)"},
		{"00000000000000000000000000000001", esimid.ErrCheckDigit, "(check digits 01, want 98)"},
	}
	for _, tc := range tests {
		id, err := esimid.ParseEID(tc.in)
		if id.IsValid() {
			t.Errorf("ParseEID(%q) = %v, want zero value on error", tc.in, id)
		}
		checkParseError(t, err, "EID", tc.in, tc.class, tc.reason)
	}
}

func TestNewEID(t *testing.T) {
	for _, want := range goodEIDs {
		id, err := esimid.NewEID(want[:30])
		if err != nil || id.String() != want {
			t.Errorf("NewEID(%q) = %q, %v; want %q", want[:30], id, err, want)
		}
	}
	for _, tc := range []struct {
		in     string
		class  error
		reason string
	}{
		{"", esimid.ErrLength, "has 0 characters, want 30 digits"},
		{"89049032", esimid.ErrLength, "has 8 characters"},
		{"8904903212345123451234567890123", esimid.ErrLength, "has 31 characters"},
		{"89049032123451234512345678901x", esimid.ErrSyntax, "non-digit 'x' at index 29"},
	} {
		_, err := esimid.NewEID(tc.in)
		checkParseError(t, err, "EID prefix", tc.in, tc.class, tc.reason)
	}
}

func TestGenerateEID(t *testing.T) {
	tests := []struct {
		prefix string
		serial uint64
		want   string
	}{
		// Checked with Python: int(want) % 97 == 1.
		{"89049032", 42, "89049032000000000000000000004237"},
		{"8904903212345123451234567890", 12, "89049032123451234512345678901235"},
		{"", 0, "00000000000000000000000000000098"},
		{"8904903200", math.MaxUint64, "89049032001844674407370955161580"}, // all 20 serial digits
	}
	for _, tc := range tests {
		id, err := esimid.GenerateEID(tc.prefix, tc.serial)
		if err != nil || id.String() != tc.want {
			t.Errorf("GenerateEID(%q, %d) = %q, %v; want %q", tc.prefix, tc.serial, id, err, tc.want)
		}
	}

	_, err := esimid.GenerateEID("890490321234512345123456789012", 1)
	checkParseError(t, err, "EID prefix", "890490321234512345123456789012", esimid.ErrLength, "want at most 29 digits")
	_, err = esimid.GenerateEID("8904903212345123451234567890", 123)
	checkParseError(t, err, "EID prefix", "8904903212345123451234567890", esimid.ErrLength, "room for 2 serial digits, but serial 123 has 3")
	_, err = esimid.GenerateEID("89049032000", math.MaxUint64)
	checkParseError(t, err, "EID prefix", "89049032000", esimid.ErrLength, "room for 19 serial digits, but serial 18446744073709551615 has 20")
	_, err = esimid.GenerateEID("8904903X", 1)
	checkParseError(t, err, "EID prefix", "8904903X", esimid.ErrSyntax, "non-digit 'X' at index 7")
}

func TestEIDZeroValue(t *testing.T) {
	var id esimid.EID
	if id.IsValid() || id.String() != "" {
		t.Errorf("zero EID: IsValid=%v String=%q", id.IsValid(), id.String())
	}
}

func TestMustParseEIDPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParseEID did not panic on a bad EID")
		}
	}()
	esimid.MustParseEID("89049032123451234512345678901224")
}

func BenchmarkParseEID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := esimid.ParseEID("89049032123451234512345678901235"); err != nil {
			b.Fatal(err)
		}
	}
}

// TestEIDFields splits published example EIDs into the fields of the
// E.118-based layout of SGP.02/SGP.22.
func TestEIDFields(t *testing.T) {
	type fields struct {
		Industry, Country, Issuer, Version, Individual, Check string
		E118                                                  bool
	}
	for _, tc := range []struct {
		eid  string
		want fields
	}{
		// The example EID of SGP.22's EID annex: Germany (49), issuer 032.
		{"89049032123451234512345678901235", fields{"89", "049", "032", "1234512345", "123456789012", "35", true}},
		// An example EID of GSMA RSP test material and open-source LPAs:
		// the North American zone (1), issuer 012.
		{"89001012012341234012345678901224", fields{"89", "001", "012", "0123412340", "123456789012", "24", true}},
		// Test eUICCs numbered outside the plan still parse; the fields are
		// then only digit ranges.
		{"12345678901234567890123456789039", fields{"12", "345", "678", "9012345678", "901234567890", "39", false}},
	} {
		id := esimid.MustParseEID(tc.eid)
		got := fields{id.MajorIndustryIdentifier(), id.CountryCode(), id.IssuerID(), id.VersionDigits(), id.IndividualID(), id.CheckDigits(), id.FollowsE118()}
		if got != tc.want {
			t.Errorf("%s: fields %+v, want %+v", tc.eid, got, tc.want)
		}
		if joined := got.Industry + got.Country + got.Issuer + got.Version + got.Individual + got.Check; joined != tc.eid {
			t.Errorf("%s: the fields join to %s", tc.eid, joined)
		}
	}
	var zero esimid.EID
	if zero.CountryCode() != "" || zero.IssuerID() != "" || zero.VersionDigits() != "" || zero.IndividualID() != "" ||
		zero.CheckDigits() != "" || zero.MajorIndustryIdentifier() != "" || zero.FollowsE118() {
		t.Error("the zero EID has fields")
	}
}
