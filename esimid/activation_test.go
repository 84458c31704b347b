package esimid_test

import (
	"strings"
	"testing"

	"github.com/esimd/esimd/esimid"
	"github.com/google/go-cmp/cmp"
)

// acFields is a plain view of an ActivationCode so that expected values can
// be written as literals and compared with go-cmp.
type acFields struct {
	SMDP, MatchingID, OID string
	CCRequired            bool
	String                string
}

func fieldsOf(ac esimid.ActivationCode) acFields {
	return acFields{ac.SMDPAddress(), ac.MatchingID(), ac.OID(), ac.ConfirmationCodeRequired(), ac.String()}
}

func TestParseActivationCodeGood(t *testing.T) {
	tests := []struct {
		in   string
		want acFields
	}{
		{"LPA:1$rsp.example.net$ABC-123",
			acFields{"rsp.example.net", "ABC-123", "", false, "LPA:1$rsp.example.net$ABC-123"}},
		{"LPA:1$rsp.example.net$ABC$1.3.6.1.4.1.31746",
			acFields{"rsp.example.net", "ABC", "1.3.6.1.4.1.31746", false, "LPA:1$rsp.example.net$ABC$1.3.6.1.4.1.31746"}},
		{"LPA:1$rsp.example.net$ABC$$1",
			acFields{"rsp.example.net", "ABC", "", true, "LPA:1$rsp.example.net$ABC$$1"}},
		{"LPA:1$rsp.example.net$ABC$1.3.6.1.4.1.31746$1",
			acFields{"rsp.example.net", "ABC", "1.3.6.1.4.1.31746", true, "LPA:1$rsp.example.net$ABC$1.3.6.1.4.1.31746$1"}},
		// Prefix and host are case-insensitive and canonicalised; the
		// matching ID keeps its case.
		{"lpa:1$RSP.Example.NET$AbC-123",
			acFields{"rsp.example.net", "AbC-123", "", false, "LPA:1$rsp.example.net$AbC-123"}},
		{"Lpa:1$rsp.example.net$abc",
			acFields{"rsp.example.net", "abc", "", false, "LPA:1$rsp.example.net$abc"}},
		// eSIM Go style matching ID and a single-label host.
		{"LPA:1$smdp.io$K2-1VQ5OQ-1FK6DH3",
			acFields{"smdp.io", "K2-1VQ5OQ-1FK6DH3", "", false, "LPA:1$smdp.io$K2-1VQ5OQ-1FK6DH3"}},
		{"LPA:1$localhost$X",
			acFields{"localhost", "X", "", false, "LPA:1$localhost$X"}},
		{"LPA:1$10.0.0.1$X",
			acFields{"10.0.0.1", "X", "", false, "LPA:1$10.0.0.1$X"}},
		{"LPA:1$a-b.c$---",
			acFields{"a-b.c", "---", "", false, "LPA:1$a-b.c$---"}},
		{"LPA:1$" + strings.Repeat("a", 63) + ".net$X",
			acFields{strings.Repeat("a", 63) + ".net", "X", "", false, "LPA:1$" + strings.Repeat("a", 63) + ".net$X"}},
		// A matching ID of "1" is not a confirmation flag (found by
		// FuzzParseActivationCode).
		{"LPA:1$0$1",
			acFields{"0", "1", "", false, "LPA:1$0$1"}},
		{"LPA:1$h$X$0.0",
			acFields{"h", "X", "0.0", false, "LPA:1$h$X$0.0"}},
	}
	for _, tc := range tests {
		ac, err := esimid.ParseActivationCode(tc.in)
		if err != nil {
			t.Errorf("ParseActivationCode(%q): %v", tc.in, err)
			continue
		}
		if !ac.IsValid() {
			t.Errorf("ParseActivationCode(%q).IsValid() = false", tc.in)
		}
		if diff := cmp.Diff(tc.want, fieldsOf(ac)); diff != "" {
			t.Errorf("ParseActivationCode(%q) mismatch (-want +got):\n%s", tc.in, diff)
		}
		if again := esimid.MustParseActivationCode(ac.String()); again != ac {
			t.Errorf("String() of %q re-parses to %v", tc.in, again)
		}
	}
}

func TestActivationCodeCaseEquality(t *testing.T) {
	a := esimid.MustParseActivationCode("LPA:1$RSP.EXAMPLE.NET$ABC")
	b := esimid.MustParseActivationCode("lpa:1$rsp.example.net$ABC")
	if a != b {
		t.Errorf("host/prefix case should not matter: %v != %v", a, b)
	}
	c := esimid.MustParseActivationCode("LPA:1$rsp.example.net$abc")
	if a == c {
		t.Errorf("matching ID case should matter: %v == %v", a, c)
	}
}

func TestParseActivationCodeBad(t *testing.T) {
	long := strings.Repeat("a", 64)
	tests := []struct {
		in     string
		reason string
	}{
		{"", `does not start with "LPA:"`},
		{"LPA", `does not start with "LPA:"`},
		{"1$rsp.example.net$ABC", `does not start with "LPA:"`},
		{" LPA:1$rsp.example.net$ABC", `does not start with "LPA:"`},
		{"LPB:1$rsp.example.net$ABC", `does not start with "LPA:"`},
		{"LPA:", `has no format version after "LPA:"`},
		{"LPA:$rsp.example.net$ABC", `has no format version`},
		{"LPA:2$rsp.example.net$ABC", `has format version "2", only "1" is supported`},
		{"LPA:01$rsp.example.net$ABC", `has format version "01"`},
		{"LPA:1", "ends after the format version"},
		{"LPA:1$rsp.example.net", "has no matching ID field"},
		{"LPA:1$$ABC", "invalid SM-DP+ address: it is empty"},
		{"LPA:1$rsp example.net$ABC", `invalid SM-DP+ address: character ' ' is not allowed`},
		{"LPA:1$rsp.example.net:443$ABC", `character ':' is not allowed`},
		{"LPA:1$https://rsp.example.net$ABC", `character ':' is not allowed`},
		{"LPA:1$rsp_1.example.net$ABC", `character '_' is not allowed`},
		{"LPA:1$rsp.exämple.net$ABC", `character 'ä' is not allowed`},
		{"LPA:1$rsp.example.net.$ABC", "empty label"},
		{"LPA:1$.example.net$ABC", "empty label"},
		{"LPA:1$rsp..net$ABC", "empty label"},
		{"LPA:1$-rsp.example.net$ABC", `label "-rsp" starts or ends with '-'`},
		{"LPA:1$rsp-.example.net$ABC", `label "rsp-" starts or ends with '-'`},
		{"LPA:1$" + long + ".net$ABC", "longer than 63 characters"},
		{"LPA:1$" + strings.Repeat("a.", 127) + "ab$ABC", "longer than 253 characters"},
		{"LPA:1$rsp.example.net$", "invalid matching ID: it is empty"},
		{"LPA:1$rsp.example.net$$1.2", "invalid matching ID: it is empty"},
		{"LPA:1$rsp.example.net$ABC 123", `invalid matching ID: character ' ' is not allowed`},
		{"LPA:1$rsp.example.net$ABC_123", `character '_' is not allowed`},
		{"LPA:1$rsp.example.net$ABC/123", `character '/' is not allowed`},
		{"LPA:1$rsp.example.net$ÄBC", `character 'Ä' is not allowed`},
		{"LPA:1$rsp.example.net$ABC$", "empty SM-DP+ OID field and no confirmation code flag"},
		{"LPA:1$rsp.example.net$ABC$1.3.6.x", `invalid SM-DP+ OID: character 'x' is not allowed`},
		{"LPA:1$rsp.example.net$ABC$1", "single arc"},
		{"LPA:1$rsp.example.net$ABC$1..3", "empty arc"},
		{"LPA:1$rsp.example.net$ABC$.1.3", "empty arc"},
		{"LPA:1$rsp.example.net$ABC$1.3.", "empty arc"},
		{"LPA:1$rsp.example.net$ABC$1.03", `arc "03" has a leading zero`},
		{"LPA:1$rsp.example.net$ABC$$", `confirmation code required flag ""`},
		{"LPA:1$rsp.example.net$ABC$$0", `confirmation code required flag "0"`},
		{"LPA:1$rsp.example.net$ABC$$true", `confirmation code required flag "true"`},
		{"LPA:1$rsp.example.net$ABC$$1$", "has 6 '$'-separated fields"},
		{"LPA:1$rsp.example.net$ABC$1.2$1$extra", "has 6 '$'-separated fields"},
		{"LPA:1$rsp.example.net$ABC$$1$$$", "has 8 '$'-separated fields"},
	}
	for _, tc := range tests {
		ac, err := esimid.ParseActivationCode(tc.in)
		if ac.IsValid() {
			t.Errorf("ParseActivationCode(%q) = %v, want zero value on error", tc.in, ac)
		}
		checkParseError(t, err, "activation code", tc.in, esimid.ErrSyntax, tc.reason)
	}
}

func TestNewActivationCode(t *testing.T) {
	ac, err := esimid.NewActivationCode("RSP.Example.net", "ABC-123")
	if err != nil {
		t.Fatal(err)
	}
	want := acFields{"rsp.example.net", "ABC-123", "", false, "LPA:1$rsp.example.net$ABC-123"}
	if diff := cmp.Diff(want, fieldsOf(ac)); diff != "" {
		t.Errorf("NewActivationCode mismatch (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(esimid.MustParseActivationCode("LPA:1$rsp.example.net$ABC-123"), ac, cmpOpts); diff != "" {
		t.Errorf("NewActivationCode differs from the parsed form (-want +got):\n%s", diff)
	}

	_, err = esimid.NewActivationCode("", "ABC")
	checkParseError(t, err, "SM-DP+ address", "", esimid.ErrSyntax, "is invalid: it is empty")
	_, err = esimid.NewActivationCode("rsp$example.net", "ABC")
	checkParseError(t, err, "SM-DP+ address", "rsp$example.net", esimid.ErrSyntax, `character '$' is not allowed`)
	_, err = esimid.NewActivationCode("rsp.example.net", "")
	checkParseError(t, err, "matching ID", "", esimid.ErrSyntax, "is invalid: it is empty")
	_, err = esimid.NewActivationCode("rsp.example.net", "A$B")
	checkParseError(t, err, "matching ID", "A$B", esimid.ErrSyntax, `character '$' is not allowed`)
}

// TestInstallURLs pins the exact link format eSIM Go documents:
// the prefix followed by the activation code with '$' left unescaped.
func TestInstallURLs(t *testing.T) {
	tests := []struct {
		in, apple, android string
	}{
		{
			"LPA:1$rsp.example.net$ABC-123",
			"https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=LPA:1$rsp.example.net$ABC-123",
			"https://esimsetup.android.com/esim_qrcode_provisioning?carddata=LPA:1$rsp.example.net$ABC-123",
		},
		{
			"lpa:1$RSP.example.net$abc$1.3.6.1.4.1.31746$1",
			"https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=LPA:1$rsp.example.net$abc$1.3.6.1.4.1.31746$1",
			"https://esimsetup.android.com/esim_qrcode_provisioning?carddata=LPA:1$rsp.example.net$abc$1.3.6.1.4.1.31746$1",
		},
	}
	for _, tc := range tests {
		ac := esimid.MustParseActivationCode(tc.in)
		if got := ac.AppleInstallURL(); got != tc.apple {
			t.Errorf("AppleInstallURL(%q) = %q, want %q", tc.in, got, tc.apple)
		}
		if got := ac.AndroidInstallURL(); got != tc.android {
			t.Errorf("AndroidInstallURL(%q) = %q, want %q", tc.in, got, tc.android)
		}
	}
	var zero esimid.ActivationCode
	if zero.AppleInstallURL() != "" || zero.AndroidInstallURL() != "" {
		t.Error("zero ActivationCode should have no install URLs")
	}
}

func TestActivationCodeZeroValue(t *testing.T) {
	var ac esimid.ActivationCode
	want := acFields{}
	if diff := cmp.Diff(want, fieldsOf(ac)); diff != "" || ac.IsValid() {
		t.Errorf("zero ActivationCode (-want +got):\n%s", diff)
	}
}

func TestMustParseActivationCodePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParseActivationCode did not panic on a bad code")
		}
	}()
	esimid.MustParseActivationCode("LPA:2$x$y")
}

func BenchmarkParseActivationCode(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := esimid.ParseActivationCode("LPA:1$rsp.example.net$K2-1VQ5OQ-1FK6DH3"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseActivationCodeFull(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := esimid.ParseActivationCode("lpa:1$RSP.Example.NET$K2-1VQ5OQ-1FK6DH3$1.3.6.1.4.1.31746$1"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkActivationCodeString(b *testing.B) {
	ac := esimid.MustParseActivationCode("LPA:1$rsp.example.net$K2-1VQ5OQ-1FK6DH3$1.3.6.1.4.1.31746$1")
	b.ReportAllocs()
	for b.Loop() {
		_ = ac.String()
	}
}
