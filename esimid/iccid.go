package esimid

import (
	"database/sql/driver"
	"strings"
)

// ICCID length limits. They are eSIM Go's: its API answers 400 for an ICCID
// outside 18-22 digits, and esimd must accept what eSIM Go accepts. The
// numbers esimd issues are 19 digits.
const (
	// ICCIDMinLen is the fewest digits, check digit included, ParseICCID
	// accepts.
	ICCIDMinLen = 18
	// ICCIDMaxLen is the most digits, check digit included, ParseICCID
	// accepts.
	ICCIDMaxLen = 22
)

// iccidPaddedLen is the width of the ICCID in the SIM's EF_ICCID file and
// in GSMA ES2+ messages: 10 BCD bytes, i.e. 20 nibbles, with unused nibbles
// set to F.
const iccidPaddedLen = 20

// ICCID is an Integrated Circuit Card Identifier: the serial number of a
// SIM or eSIM profile, 18 to 22 decimal digits whose last digit is a Luhn
// check digit.
//
// ICCID is a comparable value type; the zero value is not a valid ICCID and
// stands for "no ICCID". It holds the digits only, without any F padding.
type ICCID struct {
	// s holds the validated digits; a string rather than an integer because
	// 22 digits overflow uint64 and leading zeros would be lost.
	s string
}

// ParseICCID parses s as an ICCID. It requires 18-22 ASCII digits whose last
// digit is the Luhn check digit of the others.
//
// The padded form used on SIM files and in ES2+ (the digits followed by 'F'
// or 'f' up to exactly 20 characters, e.g. a 19-digit ICCID plus one 'F') is
// also accepted, so values copied from either source parse; the padding is
// dropped. No other leniency is applied: surrounding spaces, separators and
// letters are errors, because an identifier that reaches storage should
// already be in canonical form.
//
// The Luhn check is always enforced because every ICCID esimd issues has one
// and a failing check means a mistyped number. Callers that must mimic eSIM
// Go's looser length-only validation can test errors.Is(err, ErrCheckDigit)
// to tell "well formed but cannot exist" from "malformed".
func ParseICCID(s string) (ICCID, error) {
	const typ = "ICCID"
	if s == "" {
		return ICCID{}, parseErr(typ, s, ErrLength, "is empty, want %d-%d digits", ICCIDMinLen, ICCIDMaxLen)
	}
	digits := strings.TrimRight(s, "Ff")
	if len(digits) != len(s) && len(s) != iccidPaddedLen {
		return ICCID{}, parseErr(typ, s, ErrLength,
			"has F padding but is %d characters long; a padded ICCID is exactly %d", len(s), iccidPaddedLen)
	}
	if len(digits) < ICCIDMinLen || len(digits) > ICCIDMaxLen {
		if len(digits) != len(s) {
			return ICCID{}, parseErr(typ, s, ErrLength, "has %d characters before its F padding, want %d-%d digits",
				len(digits), ICCIDMinLen, ICCIDMaxLen)
		}
		return ICCID{}, parseErr(typ, s, ErrLength, "has %d characters, want %d-%d digits",
			len(digits), ICCIDMinLen, ICCIDMaxLen)
	}
	if i := firstNonDigit(digits); i >= 0 {
		return ICCID{}, nonDigitErr(typ, s, digits, i)
	}
	body, got := digits[:len(digits)-1], digits[len(digits)-1]
	if want := luhnDigit(body); got != want {
		return ICCID{}, parseErr(typ, s, ErrCheckDigit, "fails the Luhn check digit (want %c)", want)
	}
	return ICCID{s: digits}, nil
}

// MustParseICCID is like [ParseICCID] but panics on error. It is meant for
// constants in tests and configuration defaults, where a bad value is a
// programming error.
func MustParseICCID(s string) ICCID {
	id, err := ParseICCID(s)
	if err != nil {
		panic(err)
	}
	return id
}

// NewICCID builds an ICCID from body, the 17-21 digits without the check
// digit, by appending the Luhn check digit. It is how the built-in SM-DP+
// mints numbers: a fixed issuer prefix plus a serial, completed here so that
// every issued ICCID passes [ParseICCID].
func NewICCID(body string) (ICCID, error) {
	const typ = "ICCID body"
	if len(body) < ICCIDMinLen-1 || len(body) > ICCIDMaxLen-1 {
		return ICCID{}, parseErr(typ, body, ErrLength, "has %d characters, want %d-%d digits (the check digit is appended)",
			len(body), ICCIDMinLen-1, ICCIDMaxLen-1)
	}
	if i := firstNonDigit(body); i >= 0 {
		return ICCID{}, nonDigitErr(typ, body, body, i)
	}
	return ICCID{s: body + string(luhnDigit(body))}, nil
}

// LuhnCheckDigit returns the Luhn (ISO/IEC 7812) check digit for digits, as
// the ASCII character '0'-'9' so it can be appended to the string directly.
// digits must be non-empty and all ASCII digits. It is exported for callers
// that build other Luhn-checked numbers (IMEIs, card numbers) or want to
// show the expected digit in a UI.
func LuhnCheckDigit(digits string) (byte, error) {
	const typ = "Luhn input"
	if digits == "" {
		return 0, parseErr(typ, digits, ErrLength, "is empty, want at least one digit")
	}
	if i := firstNonDigit(digits); i >= 0 {
		return 0, nonDigitErr(typ, digits, digits, i)
	}
	return luhnDigit(digits), nil
}

// luhnDigit computes the Luhn check digit of body, which must be all ASCII
// digits. Starting from the rightmost digit of body (the one next to where
// the check digit goes), every second digit is doubled, with 9 subtracted
// when the double exceeds 9; the check digit brings the sum to a multiple
// of 10.
func luhnDigit(body string) byte {
	sum := 0
	double := true
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if double {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return byte('0' + (10-sum%10)%10)
}

// IsValid reports whether id is a parsed ICCID rather than the zero value.
func (id ICCID) IsValid() bool { return id.s != "" }

// String returns the ICCID's digits without padding, or "" for the zero
// value.
func (id ICCID) String() string { return id.s }

// ES2Plus returns the ICCID in the 20-character form used by GSMA ES2+ and
// the SIM's EF_ICCID file: shorter ICCIDs are right-padded with 'F'. ICCIDs
// of 20 or more digits are returned unchanged, since they need no padding
// (21- and 22-digit ICCIDs do not fit EF_ICCID at all). It returns "" for
// the zero value.
func (id ICCID) ES2Plus() string {
	if id.s == "" || len(id.s) >= iccidPaddedLen {
		return id.s
	}
	return id.s + strings.Repeat("F", iccidPaddedLen-len(id.s))
}

// AppendText implements [encoding.TextAppender]; it appends the same text
// as [ICCID.String].
func (id ICCID) AppendText(b []byte) ([]byte, error) { return append(b, id.s...), nil }

// MarshalText implements [encoding.TextMarshaler]. The zero value marshals
// to empty text, so an unset ICCID appears in JSON as "".
func (id ICCID) MarshalText() ([]byte, error) { return []byte(id.s), nil }

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseICCID].
// Empty text yields the zero value, mirroring MarshalText. On error *id is
// left unchanged.
func (id *ICCID) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*id = ICCID{}
		return nil
	}
	v, err := ParseICCID(string(text))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Scan implements [database/sql.Scanner]. It accepts string and []byte
// columns, parsed with [ParseICCID]; NULL and the empty string yield the
// zero value. Values are validated on the way out of the database too, so a
// corrupted row shows up as an error rather than as an invalid ICCID in
// memory.
func (id *ICCID) Scan(src any) error {
	s, ok, err := scanString("ICCID", src)
	if err != nil {
		return err
	}
	if !ok || s == "" {
		*id = ICCID{}
		return nil
	}
	v, err := ParseICCID(s)
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Value implements [database/sql/driver.Valuer]. The zero value is stored
// as NULL, so a nullable column needs no sql.Null wrapper; any other ICCID
// is stored as its digit string (never as a number, which would lose
// leading zeros and overflow for 20+ digits).
func (id ICCID) Value() (driver.Value, error) {
	if id.s == "" {
		return nil, nil
	}
	return id.s, nil
}
