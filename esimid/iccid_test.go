package esimid_test

import (
	"strings"
	"testing"

	"github.com/esimd/esimd/esimid"
)

// The valid ICCIDs below were checked by computing the Luhn check digit
// independently (a separate Python implementation, and the classic
// 7992739871 -> 3 textbook example in TestLuhnCheckDigit):
//
//	8944538532008160222   19 digits, eSIM Go documentation example
//	8943108165015003887   19 digits, eSIM Go documentation example
//	890000000000000004    18 digits
//	89882300000000000010  20 digits
//	890010120123412340124 21 digits
//	8912345678901234567898 22 digits
//
// The "want N" digits in TestParseICCIDBad were computed the same way.
var goodICCIDs = []struct {
	in   string
	want string // canonical String()
	es2  string // ES2Plus()
}{
	{"8944538532008160222", "8944538532008160222", "8944538532008160222F"},
	{"8943108165015003887", "8943108165015003887", "8943108165015003887F"},
	{"890000000000000004", "890000000000000004", "890000000000000004FF"},
	{"89882300000000000010", "89882300000000000010", "89882300000000000010"},
	{"890010120123412340124", "890010120123412340124", "890010120123412340124"},
	{"8912345678901234567898", "8912345678901234567898", "8912345678901234567898"},
	// ES2+ / EF_ICCID padded forms.
	{"8944538532008160222F", "8944538532008160222", "8944538532008160222F"},
	{"8944538532008160222f", "8944538532008160222", "8944538532008160222F"},
	{"890000000000000004FF", "890000000000000004", "890000000000000004FF"},
	{"890000000000000004Ff", "890000000000000004", "890000000000000004FF"},
}

func TestParseICCIDGood(t *testing.T) {
	for _, tc := range goodICCIDs {
		id, err := esimid.ParseICCID(tc.in)
		if err != nil {
			t.Errorf("ParseICCID(%q): %v", tc.in, err)
			continue
		}
		if !id.IsValid() {
			t.Errorf("ParseICCID(%q).IsValid() = false", tc.in)
		}
		if got := id.String(); got != tc.want {
			t.Errorf("ParseICCID(%q).String() = %q, want %q", tc.in, got, tc.want)
		}
		if got := id.ES2Plus(); got != tc.es2 {
			t.Errorf("ParseICCID(%q).ES2Plus() = %q, want %q", tc.in, got, tc.es2)
		}
		if again := esimid.MustParseICCID(id.ES2Plus()); again != id {
			t.Errorf("ES2Plus form of %q re-parses to %v", tc.in, again)
		}
	}
}

func TestParseICCIDBad(t *testing.T) {
	tests := []struct {
		in     string
		class  error
		reason string
	}{
		{"", esimid.ErrLength, "is empty, want 18-22 digits"},
		{"89445385320081602", esimid.ErrLength, "has 17 characters, want 18-22 digits"},        // too short
		{"89123456789012345678901", esimid.ErrLength, "has 23 characters"},                     // too long
		{"8944538532008160223", esimid.ErrCheckDigit, "fails the Luhn check digit (want 2)"},   // last digit wrong
		{"8944538532008160202", esimid.ErrCheckDigit, "fails the Luhn check digit (want 6)"},   // body digit wrong
		{"8944538532008610222", esimid.ErrCheckDigit, "fails the Luhn check digit (want 6)"},   // transposition
		{"89445385320081602A2", esimid.ErrSyntax, "non-digit 'A' at index 17"},                 // letter
		{"8944 538532008160222", esimid.ErrSyntax, "non-digit ' ' at index 4"},                 // space
		{" 8944538532008160222", esimid.ErrSyntax, "non-digit ' ' at index 0"},                 // leading space
		{"894453853200816022é", esimid.ErrSyntax, "non-digit 'é' at index 18"},                 // multi-byte
		{"-944538532008160222", esimid.ErrSyntax, "non-digit '-' at index 0"},                  // sign
		{"8944538532008160222FF", esimid.ErrLength, "has F padding but is 21 characters long"}, // over-padded
		{"8944538532008160222 ", esimid.ErrSyntax, "non-digit ' ' at index 19"},                // trailing space
		{"89445385320081602FFF", esimid.ErrLength, "has 17 characters before its F padding"},   // padding eats digits
		{"89882300000000000010F", esimid.ErrLength, "has F padding but is 21 characters long"}, // 20 digits + F
		{"8944538532008160F22F", esimid.ErrSyntax, "non-digit 'F' at index 16"},                // F inside
		{"FFFFFFFFFFFFFFFFFFFF", esimid.ErrLength, "has 0 characters before its F padding"},    // all padding
		{"894453853200816022\x00", esimid.ErrSyntax, `non-digit '\x00' at index 18`},           // NUL
		{"８944538532008160222", esimid.ErrSyntax, "non-digit '８' at index 0"},                  // full-width digit
		{"89445385320081602229", esimid.ErrCheckDigit, "fails the Luhn check digit (want 7)"},  // extra digit
		{"0000000000000000001", esimid.ErrCheckDigit, "fails the Luhn check digit (want 0)"},   // all zeros but one
		{strings.Repeat("9", 1000), esimid.ErrLength, "has 1000 characters"},                   // huge
	}
	for _, tc := range tests {
		id, err := esimid.ParseICCID(tc.in)
		if id.IsValid() {
			t.Errorf("ParseICCID(%q) = %v, want zero value on error", tc.in, id)
		}
		checkParseError(t, err, "ICCID", tc.in, tc.class, tc.reason)
	}
}

// TestParseICCIDErrorMessage pins the complete message format, since the
// HTTP layer shows it to API clients.
func TestParseICCIDErrorMessage(t *testing.T) {
	_, err := esimid.ParseICCID("8944538532008160223")
	const want = `esimid: ICCID "8944538532008160223" fails the Luhn check digit (want 2)`
	if err == nil || err.Error() != want {
		t.Errorf("got %v, want %s", err, want)
	}
}

func TestParseErrorTruncatesLongInput(t *testing.T) {
	in := strings.Repeat("é", 300) // 600 bytes; the cut must respect runes
	_, err := esimid.ParseICCID(in)
	msg := err.Error()
	if len(msg) > 250 {
		t.Errorf("message is %d bytes, want it truncated: %s", len(msg), msg)
	}
	if !strings.Contains(msg, "... (600 bytes)") || strings.Contains(msg, `\x`) {
		t.Errorf("message %q lacks a clean truncation marker", msg)
	}
	var pe *esimid.ParseError
	if !asParseError(err, &pe) || pe.Input != in {
		t.Errorf("ParseError.Input was truncated too")
	}
}

func TestNewICCID(t *testing.T) {
	for _, tc := range goodICCIDs {
		if tc.in != tc.want { // padded forms have no separate body
			continue
		}
		body := tc.want[:len(tc.want)-1]
		id, err := esimid.NewICCID(body)
		if err != nil {
			t.Errorf("NewICCID(%q): %v", body, err)
			continue
		}
		if id.String() != tc.want {
			t.Errorf("NewICCID(%q) = %q, want %q", body, id, tc.want)
		}
	}

	bad := []struct {
		in     string
		class  error
		reason string
	}{
		{"", esimid.ErrLength, "has 0 characters, want 17-21 digits"},
		{"8944538532008160", esimid.ErrLength, "has 16 characters"},
		{"8944538532008160222222", esimid.ErrLength, "has 22 characters"},
		{"89445385320081602X", esimid.ErrSyntax, "non-digit 'X' at index 17"},
	}
	for _, tc := range bad {
		_, err := esimid.NewICCID(tc.in)
		checkParseError(t, err, "ICCID body", tc.in, tc.class, tc.reason)
	}
}

func TestLuhnCheckDigit(t *testing.T) {
	tests := []struct {
		in   string
		want byte
	}{
		{"7992739871", '3'}, // the textbook example (79927398713)
		{"0", '0'},
		{"1", '8'},
		{"9", '1'},
		{"894453853200816022", '2'},
		{"894310816501500388", '7'},
	}
	for _, tc := range tests {
		got, err := esimid.LuhnCheckDigit(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("LuhnCheckDigit(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	_, err := esimid.LuhnCheckDigit("")
	checkParseError(t, err, "Luhn input", "", esimid.ErrLength, "is empty")
	_, err = esimid.LuhnCheckDigit("12a")
	checkParseError(t, err, "Luhn input", "12a", esimid.ErrSyntax, "non-digit 'a' at index 2")
}

func TestICCIDZeroValue(t *testing.T) {
	var id esimid.ICCID
	if id.IsValid() || id.String() != "" || id.ES2Plus() != "" {
		t.Errorf("zero ICCID: IsValid=%v String=%q ES2Plus=%q", id.IsValid(), id.String(), id.ES2Plus())
	}
}

func TestMustParseICCIDPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParseICCID did not panic on a bad ICCID")
		}
	}()
	esimid.MustParseICCID("123")
}

func BenchmarkParseICCID(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := esimid.ParseICCID("8944538532008160222"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseICCIDPadded(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := esimid.ParseICCID("8944538532008160222F"); err != nil {
			b.Fatal(err)
		}
	}
}

func TestParseErrorTruncatesNonUTF8Input(t *testing.T) {
	in := strings.Repeat("\x87", 500)
	_, err := esimid.ParseICCID(in)
	msg := err.Error()
	if !strings.Contains(msg, strings.Repeat(`\x87`, 100)+`"... (500 bytes)`) {
		t.Errorf("message %q should show the first 100 bytes escaped", msg)
	}
}
