package esimid

import (
	"database/sql/driver"
	"strings"
)

// acScheme is the prefix that marks an activation code as eSIM content when
// it is scanned from a QR code (GSMA SGP.22 section 4.1). It is rendered in
// upper case, as every LPA and install link expects, and matched without
// regard to case on input.
const acScheme = "LPA:"

// acFormat is the only activation-code format version SGP.22 defines. A
// different version may lay out its fields differently, so it is rejected
// rather than guessed at.
const acFormat = "1"

// maxHostLen is the longest DNS name, in its textual form without a
// trailing dot (RFC 1035 section 2.3.4).
const maxHostLen = 253

// ActivationCode is a GSMA SGP.22 activation code, the string a user scans
// or types to download an eSIM profile:
//
//	LPA:1$<SM-DP+ address>$<matching ID>[$<SM-DP+ OID>[$<confirmation code required flag>]]
//
// The SM-DP+ address is stored in lower case: host names are
// case-insensitive, and normalising them makes == and map keys agree with
// what a device would consider the same server. The matching ID is kept
// exactly as given, because it is an opaque token that the SM-DP+ matches
// byte for byte.
//
// ActivationCode is a comparable value type; the zero value is not a valid
// code and stands for "no activation code".
type ActivationCode struct {
	smdp       string // lower-case host name, never empty in a valid code
	matchingID string // AC_Token, never empty in a valid code
	oid        string // SM-DP+ OID in dotted decimal, or ""
	ccRequired bool   // confirmation code required flag
}

// ParseActivationCode parses an SGP.22 activation code. The rules are:
//
//   - the "LPA:" prefix is required, in any letter case, because it is what
//     distinguishes an activation code from other QR content;
//   - the format version must be "1";
//   - the SM-DP+ address must be a syntactically valid host name (letters,
//     digits and '-' in dot-separated labels of 1-63 characters, 253 at
//     most in all); ports, IP literals in brackets, paths and spaces are
//     rejected because SGP.22 defines the field as an FQDN;
//   - the matching ID must be non-empty and use only ASCII letters, digits
//     and '-'. SGP.22 specifies upper case only, but lower case is accepted
//     because some SM-DP+ vendors issue it and LPAs pass it through;
//   - an optional SM-DP+ OID must be dotted decimal (e.g.
//     1.3.6.1.4.1.31746); it may be empty only when the confirmation code
//     flag follows it ("...$ABC$$1");
//   - the optional confirmation code required flag must be "1", the only
//     value SGP.22 defines (the flag is omitted when no code is required);
//   - no further '$'-separated fields are allowed.
func ParseActivationCode(s string) (ActivationCode, error) {
	const typ = "activation code"
	if len(s) < len(acScheme) || !strings.EqualFold(s[:len(acScheme)], acScheme) {
		return ActivationCode{}, parseErr(typ, s, ErrSyntax, "does not start with %q", acScheme)
	}
	rest := s[len(acScheme):]

	format, rest, ok := strings.Cut(rest, "$")
	if format != acFormat {
		if format == "" {
			return ActivationCode{}, parseErr(typ, s, ErrSyntax, "has no format version after %q, want %q", acScheme, acFormat)
		}
		return ActivationCode{}, parseErr(typ, s, ErrSyntax, "has format version %q, only %q is supported", format, acFormat)
	}
	if !ok {
		return ActivationCode{}, parseErr(typ, s, ErrSyntax, "ends after the format version, want LPA:1$<SM-DP+ address>$<matching ID>")
	}

	host, rest, ok := strings.Cut(rest, "$")
	if reason := checkHost(host); reason != "" {
		return ActivationCode{}, parseErr(typ, s, ErrSyntax, "has an invalid SM-DP+ address: %s", reason)
	}
	if !ok {
		return ActivationCode{}, parseErr(typ, s, ErrSyntax, "has no matching ID field after the SM-DP+ address")
	}

	mid, rest, hasOID := strings.Cut(rest, "$")
	if reason := checkMatchingID(mid); reason != "" {
		return ActivationCode{}, parseErr(typ, s, ErrSyntax, "has an invalid matching ID: %s", reason)
	}
	ac := ActivationCode{smdp: strings.ToLower(host), matchingID: mid}
	if !hasOID {
		return ac, nil
	}

	oid, flag, hasFlag := strings.Cut(rest, "$")
	if oid == "" && !hasFlag {
		return ActivationCode{}, parseErr(typ, s, ErrSyntax, "ends with an empty SM-DP+ OID field and no confirmation code flag after it")
	}
	if oid != "" {
		if reason := checkOID(oid); reason != "" {
			return ActivationCode{}, parseErr(typ, s, ErrSyntax, "has an invalid SM-DP+ OID: %s", reason)
		}
	}
	ac.oid = oid
	if !hasFlag {
		return ac, nil
	}
	if strings.Contains(flag, "$") {
		return ActivationCode{}, parseErr(typ, s, ErrSyntax,
			"has %d '$'-separated fields after %q, want at most 5 (format, SM-DP+ address, matching ID, OID, confirmation code flag)",
			strings.Count(s, "$")+1, acScheme)
	}
	if flag != "1" {
		return ActivationCode{}, parseErr(typ, s, ErrSyntax, "has confirmation code required flag %q, want \"1\" (or no flag field)", flag)
	}
	ac.ccRequired = true
	return ac, nil
}

// MustParseActivationCode is like [ParseActivationCode] but panics on
// error. It is meant for constants in tests and configuration defaults.
func MustParseActivationCode(s string) ActivationCode {
	ac, err := ParseActivationCode(s)
	if err != nil {
		panic(err)
	}
	return ac
}

// NewActivationCode builds the common form of activation code, with no OID
// and no confirmation code, from an SM-DP+ host name and a matching ID. The
// fields are validated by the same rules as [ParseActivationCode], so the
// result always survives a String/Parse round trip.
func NewActivationCode(smdp, matchingID string) (ActivationCode, error) {
	if reason := checkHost(smdp); reason != "" {
		return ActivationCode{}, parseErr("SM-DP+ address", smdp, ErrSyntax, "is invalid: %s", reason)
	}
	if reason := checkMatchingID(matchingID); reason != "" {
		return ActivationCode{}, parseErr("matching ID", matchingID, ErrSyntax, "is invalid: %s", reason)
	}
	return ActivationCode{smdp: strings.ToLower(smdp), matchingID: matchingID}, nil
}

// checkHost returns why h is not an acceptable SM-DP+ host name, or "".
func checkHost(h string) string {
	if h == "" {
		return "it is empty"
	}
	if len(h) > maxHostLen {
		return "it is longer than 253 characters"
	}
	labelStart := 0
	for i := 0; i <= len(h); i++ {
		if i < len(h) && h[i] != '.' {
			c := h[i]
			if !isAlnum(c) && c != '-' {
				return "character " + quoteChar(h, i) + " is not allowed in a host name (want letters, digits, '-' and '.')"
			}
			continue
		}
		label := h[labelStart:i]
		switch {
		case label == "":
			return "it has an empty label (leading, trailing or doubled '.')"
		case len(label) > 63:
			return "label " + quote(label) + " is longer than 63 characters"
		case label[0] == '-' || label[len(label)-1] == '-':
			return "label " + quote(label) + " starts or ends with '-'"
		}
		labelStart = i + 1
	}
	return ""
}

// checkMatchingID returns why m is not an acceptable matching ID, or "".
func checkMatchingID(m string) string {
	if m == "" {
		return "it is empty"
	}
	for i := 0; i < len(m); i++ {
		if c := m[i]; !isAlnum(c) && c != '-' {
			return "character " + quoteChar(m, i) + " is not allowed (want letters, digits and '-')"
		}
	}
	return ""
}

// checkOID returns why o is not a dotted-decimal object identifier, or "".
// It requires at least two arcs and no leading zeros, which is what
// X.690 can encode and what every SM-DP+ OID in the wild looks like.
func checkOID(o string) string {
	arcs := 0
	start := 0
	for i := 0; i <= len(o); i++ {
		if i < len(o) && o[i] != '.' {
			if o[i] < '0' || o[i] > '9' {
				return "character " + quoteChar(o, i) + " is not allowed (want digits and '.')"
			}
			continue
		}
		arc := o[start:i]
		switch {
		case arc == "":
			return "it has an empty arc (leading, trailing or doubled '.')"
		case len(arc) > 1 && arc[0] == '0':
			return "arc " + quote(arc) + " has a leading zero"
		}
		arcs++
		start = i + 1
	}
	if arcs < 2 {
		return "it has a single arc, want at least two (e.g. 1.3.6.1.4.1.31746)"
	}
	return ""
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// IsValid reports whether ac is a parsed activation code rather than the
// zero value.
func (ac ActivationCode) IsValid() bool { return ac.smdp != "" }

// SMDPAddress returns the SM-DP+ host name, in lower case.
func (ac ActivationCode) SMDPAddress() string { return ac.smdp }

// MatchingID returns the matching ID (SGP.22 AC_Token) exactly as parsed.
func (ac ActivationCode) MatchingID() string { return ac.matchingID }

// OID returns the SM-DP+ object identifier, or "" when the code has none.
func (ac ActivationCode) OID() string { return ac.oid }

// ConfirmationCodeRequired reports whether the LPA must ask the user for a
// confirmation code before downloading the profile.
func (ac ActivationCode) ConfirmationCodeRequired() bool { return ac.ccRequired }

// String returns the canonical activation code: upper-case "LPA:" prefix,
// lower-case host, and only as many optional fields as are needed (an empty
// OID is written only when the confirmation flag follows it). It returns ""
// for the zero value.
func (ac ActivationCode) String() string {
	if !ac.IsValid() {
		return ""
	}
	b, _ := ac.AppendText(make([]byte, 0, ac.textLen()))
	return string(b)
}

// textLen returns the length of the canonical text, to size buffers once.
func (ac ActivationCode) textLen() int {
	n := len(acScheme) + len(acFormat) + 1 + len(ac.smdp) + 1 + len(ac.matchingID)
	if ac.oid != "" || ac.ccRequired {
		n += 1 + len(ac.oid)
	}
	if ac.ccRequired {
		n += 2
	}
	return n
}

// AppendText implements [encoding.TextAppender]; it appends the same text
// as [ActivationCode.String].
func (ac ActivationCode) AppendText(b []byte) ([]byte, error) {
	if !ac.IsValid() {
		return b, nil
	}
	b = append(b, acScheme+acFormat+"$"...)
	b = append(b, ac.smdp...)
	b = append(b, '$')
	b = append(b, ac.matchingID...)
	if ac.oid != "" || ac.ccRequired {
		b = append(b, '$')
		b = append(b, ac.oid...)
	}
	if ac.ccRequired {
		b = append(b, "$1"...)
	}
	return b, nil
}

// MarshalText implements [encoding.TextMarshaler]. The zero value marshals
// to empty text, so an unset code appears in JSON as "".
func (ac ActivationCode) MarshalText() ([]byte, error) {
	return ac.AppendText(make([]byte, 0, ac.textLen()))
}

// UnmarshalText implements [encoding.TextUnmarshaler] with
// [ParseActivationCode]. Empty text yields the zero value, mirroring
// MarshalText. On error *ac is left unchanged.
func (ac *ActivationCode) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*ac = ActivationCode{}
		return nil
	}
	v, err := ParseActivationCode(string(text))
	if err != nil {
		return err
	}
	*ac = v
	return nil
}

// Scan implements [database/sql.Scanner]. It accepts string and []byte
// columns, parsed with [ParseActivationCode]; NULL and the empty string
// yield the zero value.
func (ac *ActivationCode) Scan(src any) error {
	s, ok, err := scanString("activation code", src)
	if err != nil {
		return err
	}
	if !ok || s == "" {
		*ac = ActivationCode{}
		return nil
	}
	v, err := ParseActivationCode(s)
	if err != nil {
		return err
	}
	*ac = v
	return nil
}

// Value implements [database/sql/driver.Valuer]. The zero value is stored
// as NULL; any other code as its canonical string.
func (ac ActivationCode) Value() (driver.Value, error) {
	if !ac.IsValid() {
		return nil, nil
	}
	return ac.String(), nil
}

// appleInstallPrefix and androidInstallPrefix are the universal-link
// endpoints that open the platform's eSIM installer with a given activation
// code, as documented by eSIM Go.
const (
	appleInstallPrefix   = "https://esimsetup.apple.com/esim_qrcode_provisioning?carddata="
	androidInstallPrefix = "https://esimsetup.android.com/esim_qrcode_provisioning?carddata="
)

// AppleInstallURL returns the link that installs the profile directly on
// an iPhone (iOS 17.4 and later) without scanning a QR code. The activation
// code is appended verbatim, '$' and ':' unescaped, because that is the
// exact form eSIM Go documents and returns; every character the parser
// accepts is already legal in a URL query. It returns "" for the zero value.
func (ac ActivationCode) AppleInstallURL() string {
	if !ac.IsValid() {
		return ""
	}
	return appleInstallPrefix + ac.String()
}

// AndroidInstallURL returns the link that installs the profile directly on
// an Android device, built exactly like [ActivationCode.AppleInstallURL]
// (same verbatim activation code) for the same reason. It returns "" for
// the zero value.
func (ac ActivationCode) AndroidInstallURL() string {
	if !ac.IsValid() {
		return ""
	}
	return androidInstallPrefix + ac.String()
}
