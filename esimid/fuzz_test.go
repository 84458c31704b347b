package esimid_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/esimd/esimd/esimid"
)

// The fuzz targets assert, for arbitrary input: no panic; on failure a
// *ParseError naming the exact input and wrapping a rule class; on success
// the type's invariants and a String/Parse round trip to an equal value.

func checkFuzzError(t *testing.T, err error, in string) {
	t.Helper()
	var pe *esimid.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *esimid.ParseError", err, err)
	}
	if pe.Input != in {
		t.Fatalf("ParseError.Input = %q, want %q", pe.Input, in)
	}
	if !errors.Is(err, esimid.ErrLength) && !errors.Is(err, esimid.ErrSyntax) && !errors.Is(err, esimid.ErrCheckDigit) {
		t.Fatalf("error %v wraps no rule class", err)
	}
	_ = err.Error() // must not panic, whatever the input
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func FuzzParseICCID(f *testing.F) {
	for _, tc := range goodICCIDs {
		f.Add(tc.in)
	}
	for _, s := range []string{"", "8944538532008160223", "89445385320081602FFF", "8944538532008160222FF", "FFFFFFFFFFFFFFFFFFFF", "8944538532008160222 "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		id, err := esimid.ParseICCID(in)
		if err != nil {
			checkFuzzError(t, err, in)
			if id.IsValid() {
				t.Fatalf("ParseICCID(%q) returned a valid ICCID with error %v", in, err)
			}
			return
		}
		s := id.String()
		if n := len(s); n < esimid.ICCIDMinLen || n > esimid.ICCIDMaxLen || !isDigits(s) {
			t.Fatalf("ParseICCID(%q) = %q: not 18-22 digits", in, s)
		}
		if !strings.HasPrefix(in, s) || strings.Trim(in[len(s):], "Ff") != "" {
			t.Fatalf("ParseICCID(%q) = %q: not the input minus F padding", in, s)
		}
		want, err := esimid.LuhnCheckDigit(s[:len(s)-1])
		if err != nil || want != s[len(s)-1] {
			t.Fatalf("ParseICCID(%q) = %q: Luhn digit should be %q (%v)", in, s, want, err)
		}
		for _, form := range []string{s, id.ES2Plus()} {
			again, err := esimid.ParseICCID(form)
			if err != nil || again != id {
				t.Fatalf("ParseICCID(%q) = %v, %v; want %v", form, again, err, id)
			}
		}
		if built, err := esimid.NewICCID(s[:len(s)-1]); err != nil || built != id {
			t.Fatalf("NewICCID(%q) = %v, %v; want %v", s[:len(s)-1], built, err, id)
		}
	})
}

func FuzzParseEID(f *testing.F) {
	for _, s := range goodEIDs {
		f.Add(s)
	}
	for _, s := range []string{"", "89049032123451234512345678901224", "8904903212345123451234567890123A", "00000000000000000000000000000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		id, err := esimid.ParseEID(in)
		if err != nil {
			checkFuzzError(t, err, in)
			if id.IsValid() {
				t.Fatalf("ParseEID(%q) returned a valid EID with error %v", in, err)
			}
			return
		}
		s := id.String()
		if s != in || len(s) != esimid.EIDLen || !isDigits(s) {
			t.Fatalf("ParseEID(%q) = %q: want the 32-digit input back", in, s)
		}
		if m, check := mod97(s), s[30:]; m != 1 || check < "02" || check > "98" {
			t.Fatalf("ParseEID(%q): mod 97 = %d, check digits %s; want 1 and 02-98", in, m, check)
		}
		// Recompute the check digits the other way round: NewEID from the
		// first 30 digits must reproduce the EID.
		built, err := esimid.NewEID(s[:30])
		if err != nil || built != id {
			t.Fatalf("NewEID(%q) = %v, %v; want %v", s[:30], built, err, id)
		}
		if again, err := esimid.ParseEID(s); err != nil || again != id {
			t.Fatalf("ParseEID(%q) = %v, %v; want %v", s, again, err, id)
		}
		// The E.118 fields partition the digits.
		if f := id.MajorIndustryIdentifier() + id.CountryCode() + id.IssuerID() + id.VersionDigits() + id.IndividualID() + id.CheckDigits(); f != s {
			t.Fatalf("ParseEID(%q): the fields join to %q", s, f)
		}
	})
}

func FuzzParseActivationCode(f *testing.F) {
	for _, s := range []string{
		"LPA:1$rsp.example.net$ABC-123",
		"LPA:1$rsp.example.net$ABC$1.3.6.1.4.1.31746",
		"LPA:1$rsp.example.net$ABC$$1",
		"lpa:1$RSP.Example.NET$abc$1.3.6.1.4.1.31746$1",
		"LPA:1$rsp.example.net$ABC$",
		"LPA:1$rsp.example.net$ABC$$1$",
		"LPA:2$x$y",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		ac, err := esimid.ParseActivationCode(in)
		if err != nil {
			checkFuzzError(t, err, in)
			if ac.IsValid() {
				t.Fatalf("ParseActivationCode(%q) returned a valid code with error %v", in, err)
			}
			return
		}
		host, mid, oid := ac.SMDPAddress(), ac.MatchingID(), ac.OID()
		if host == "" || host != strings.ToLower(host) || len(host) > 253 || strings.ContainsAny(host, "$: ") {
			t.Fatalf("ParseActivationCode(%q): bad host %q", in, host)
		}
		if mid == "" || strings.Trim(mid, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
			t.Fatalf("ParseActivationCode(%q): bad matching ID %q", in, mid)
		}
		if strings.Trim(oid, "0123456789.") != "" {
			t.Fatalf("ParseActivationCode(%q): bad OID %q", in, oid)
		}
		// The canonical form may differ from the input only in the case of
		// the "LPA:" prefix and of the host; the rest, the matching ID in
		// particular, is kept byte for byte.
		s := ac.String()
		head := "LPA:1$" + host + "$"
		if !strings.HasPrefix(s, head) || len(in) != len(s) || !strings.EqualFold(in[:len(head)], head) || in[len(head):] != s[len(head):] {
			t.Fatalf("ParseActivationCode(%q).String() = %q: differs beyond prefix/host case", in, s)
		}
		// Only a code with the flag has all five fields (and then ends in
		// "$1"); a matching ID or OID of "1" must not be mistaken for it.
		if ac.ConfirmationCodeRequired() != (strings.Count(s, "$") == 4) || ac.ConfirmationCodeRequired() && !strings.HasSuffix(s, "$1") {
			t.Fatalf("ParseActivationCode(%q): flag %v inconsistent with %q", in, ac.ConfirmationCodeRequired(), s)
		}
		again, err := esimid.ParseActivationCode(s)
		if err != nil || again != ac {
			t.Fatalf("ParseActivationCode(%q) = %v, %v; want %v", s, again, err, ac)
		}
		if ac.AppleInstallURL() != "https://esimsetup.apple.com/esim_qrcode_provisioning?carddata="+s {
			t.Fatalf("AppleInstallURL of %q = %q", in, ac.AppleInstallURL())
		}
		if oid == "" && !ac.ConfirmationCodeRequired() {
			built, err := esimid.NewActivationCode(host, mid)
			if err != nil || built != ac {
				t.Fatalf("NewActivationCode(%q, %q) = %v, %v; want %v", host, mid, built, err, ac)
			}
		}
	})
}

// mod97 is an independent big-number remainder, written differently from
// the package's (nine digits at a time) so the fuzz check is not circular.
func mod97(s string) uint64 {
	var r uint64
	for len(s) > 0 {
		n := min(9, len(s))
		var chunk, scale uint64 = 0, 1
		for _, c := range s[:n] {
			chunk = chunk*10 + uint64(c-'0')
			scale *= 10
		}
		r = (r*scale + chunk) % 97
		s = s[n:]
	}
	return r
}
