package esimid

import (
	"database/sql/driver"
	"strconv"
)

// EIDLen is the length of an EID: 32 decimal digits (GSMA SGP.29).
const EIDLen = 32

// eidBodyLen is the number of EID digits before the two check digits.
const eidBodyLen = EIDLen - 2

// EID is an eUICC Identifier: the 32-digit number that names the embedded
// SIM chip of a device (GSMA SGP.29). Its last two digits are check digits
// chosen per ISO/IEC 7064 MOD 97-10, so that the whole EID read as a decimal
// number leaves remainder 1 when divided by 97 (the same scheme as IBANs).
//
// EID is a comparable value type; the zero value is not a valid EID and
// stands for "no EID".
type EID struct {
	// s holds the 32 validated digits; a string because 32 digits do not
	// fit any integer type.
	s string
}

// ParseEID parses s as an EID: exactly 32 ASCII digits whose last two are
// the MOD 97-10 check digits of the first 30 (so the number is ≡ 1 mod 97,
// and the check pair lies in 02-98 as ISO 7064 generates it). The SGP.29 structure of the leading digits (industry
// identifier "89", country and issuer codes) is deliberately not checked:
// EIDs come from devices, the check digits already catch typos, and test
// eUICCs do not always follow the numbering plan.
func ParseEID(s string) (EID, error) {
	const typ = "EID"
	if len(s) != EIDLen {
		if s == "" {
			return EID{}, parseErr(typ, s, ErrLength, "is empty, want %d digits", EIDLen)
		}
		return EID{}, parseErr(typ, s, ErrLength, "has %d characters, want %d digits", len(s), EIDLen)
	}
	if i := firstNonDigit(s); i >= 0 {
		return EID{}, nonDigitErr(typ, s, s, i)
	}
	// Compare with the generated check digits rather than only testing
	// mod 97 == 1: the check pair is always 02-98, and 00/01 (which are
	// congruent to 97/98) also satisfy the congruence but are never issued,
	// just as IBAN validation rejects them.
	got := int(s[eidBodyLen]-'0')*10 + int(s[eidBodyLen+1]-'0')
	if want := eidCheck(s[:eidBodyLen]); got != want {
		return EID{}, parseErr(typ, s, ErrCheckDigit,
			"fails the ISO 7064 MOD 97-10 check (check digits %02d, want %02d)", got, want)
	}
	return EID{s: s}, nil
}

// MustParseEID is like [ParseEID] but panics on error. It is meant for
// constants in tests and configuration defaults.
func MustParseEID(s string) EID {
	id, err := ParseEID(s)
	if err != nil {
		panic(err)
	}
	return id
}

// NewEID builds an EID from its first 30 digits by appending the MOD 97-10
// check digits. It exists so that simulators and tests can mint EIDs that
// real validation (ours and any LPA's) accepts.
func NewEID(prefix30 string) (EID, error) {
	const typ = "EID prefix"
	if len(prefix30) != eidBodyLen {
		return EID{}, parseErr(typ, prefix30, ErrLength,
			"has %d characters, want %d digits (the 2 check digits are appended)", len(prefix30), eidBodyLen)
	}
	if i := firstNonDigit(prefix30); i >= 0 {
		return EID{}, nonDigitErr(typ, prefix30, prefix30, i)
	}
	return EID{s: prefix30 + eidCheckDigits(prefix30)}, nil
}

// GenerateEID builds an EID from a fixed digit prefix (e.g. "89049032" plus
// a made-up issuer block) and a serial number, which is written in decimal
// and zero-padded to fill the remaining digits before the check digits.
// Serial numbers that need more digits than remain are an error rather than
// being truncated, because truncation would hand out duplicate EIDs.
func GenerateEID(prefix string, serial uint64) (EID, error) {
	const typ = "EID prefix"
	if len(prefix) >= eidBodyLen {
		return EID{}, parseErr(typ, prefix, ErrLength,
			"has %d characters, want at most %d digits to leave room for the serial", len(prefix), eidBodyLen-1)
	}
	if i := firstNonDigit(prefix); i >= 0 {
		return EID{}, nonDigitErr(typ, prefix, prefix, i)
	}
	room := eidBodyLen - len(prefix)
	num := strconv.FormatUint(serial, 10)
	if len(num) > room {
		return EID{}, parseErr(typ, prefix, ErrLength,
			"leaves room for %d serial digits, but serial %d has %d", room, serial, len(num))
	}
	body := make([]byte, 0, EIDLen)
	body = append(body, prefix...)
	for range room - len(num) {
		body = append(body, '0')
	}
	body = append(body, num...)
	body = append(body, eidCheckDigits(string(body))...)
	return EID{s: string(body)}, nil
}

// mod97 returns the decimal number spelled by digits modulo 97, computed
// digit by digit because the number is far wider than any integer type.
func mod97(digits string) int {
	r := 0
	for i := 0; i < len(digits); i++ {
		r = (r*10 + int(digits[i]-'0')) % 97
	}
	return r
}

// eidCheckDigits returns the two MOD 97-10 check digits for a 30-digit
// body: with n = body followed by "00", the check value is 98 - (n mod 97),
// which lies in 02-98 and makes body+check ≡ 1 (mod 97).
func eidCheckDigits(body string) string {
	c := eidCheck(body)
	return string([]byte{byte('0' + c/10), byte('0' + c%10)})
}

// eidCheck returns the check value of eidCheckDigits as a number, so that
// ParseEID can compare without allocating.
func eidCheck(body string) int { return 98 - (mod97(body)*100)%97 }

// The fields of an EID in the E.118-based numbering of GSMA SGP.02 and
// SGP.22 (their annex on the EID), by digit position:
//
//	89 049 032 1234512345 123456789012 35
//	│  │   │   │          │            └ check digits (31–32, ISO 7064 MOD 97-10)
//	│  │   │   │          └ individual identification number (19–30)
//	│  │   │   └ issuer-specific version digits (9–18: platform and OS versions)
//	│  │   └ issuer identifier (6–8)
//	│  └ country code (3–5, the E.164 country code padded to 3 digits)
//	└ major industry identifier (1–2, "89": telecommunications)
//
// The accessors slice the digits as laid out; ParseEID does not check the
// layout (see there), so an eUICC numbered otherwise still parses and its
// fields are then only digit ranges. [EID.FollowsE118] reports whether the
// EID carries the telecommunications industry identifier.
const (
	eidCountryAt    = 2
	eidIssuerAt     = 5
	eidVersionAt    = 8
	eidIndividualAt = 18
)

// MajorIndustryIdentifier returns digits 1–2: "89" for telecommunications
// under ITU-T E.118. "" for the zero value.
func (id EID) MajorIndustryIdentifier() string { return id.digits(0, eidCountryAt) }

// FollowsE118 reports whether the EID starts with the telecommunications
// major industry identifier 89, as every EID numbered under SGP.02/SGP.22
// does.
func (id EID) FollowsE118() bool { return id.MajorIndustryIdentifier() == "89" }

// CountryCode returns digits 3–5: the E.164 country code of the issuer's
// country, zero-padded to three digits ("049" for Germany, "033" for
// France, "001" for the North American zone).
func (id EID) CountryCode() string { return id.digits(eidCountryAt, eidIssuerAt) }

// IssuerID returns digits 6–8: the eUICC issuer (manufacturer)
// identifier, assigned per country.
func (id EID) IssuerID() string { return id.digits(eidIssuerAt, eidVersionAt) }

// VersionDigits returns digits 9–18: issuer-specific information that
// SGP.02 reserves for the platform and operating-system versions of the
// eUICC.
func (id EID) VersionDigits() string { return id.digits(eidVersionAt, eidIndividualAt) }

// IndividualID returns digits 19–30: the individual identification number
// of the eUICC within its issuer and version.
func (id EID) IndividualID() string { return id.digits(eidIndividualAt, eidBodyLen) }

// CheckDigits returns digits 31–32, the ISO 7064 MOD 97-10 check digits.
func (id EID) CheckDigits() string { return id.digits(eidBodyLen, EIDLen) }

// digits returns s[from:to], or "" for the zero value.
func (id EID) digits(from, to int) string {
	if id.s == "" {
		return ""
	}
	return id.s[from:to]
}

// IsValid reports whether id is a parsed EID rather than the zero value.
func (id EID) IsValid() bool { return id.s != "" }

// String returns the EID's 32 digits, or "" for the zero value.
func (id EID) String() string { return id.s }

// AppendText implements [encoding.TextAppender]; it appends the same text
// as [EID.String].
func (id EID) AppendText(b []byte) ([]byte, error) { return append(b, id.s...), nil }

// MarshalText implements [encoding.TextMarshaler]. The zero value marshals
// to empty text, so an unset EID appears in JSON as "".
func (id EID) MarshalText() ([]byte, error) { return []byte(id.s), nil }

// UnmarshalText implements [encoding.TextUnmarshaler] with [ParseEID].
// Empty text yields the zero value, mirroring MarshalText. On error *id is
// left unchanged.
func (id *EID) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*id = EID{}
		return nil
	}
	v, err := ParseEID(string(text))
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Scan implements [database/sql.Scanner]. It accepts string and []byte
// columns, parsed with [ParseEID]; NULL and the empty string yield the zero
// value. Stored values are re-validated so corruption surfaces as an error.
func (id *EID) Scan(src any) error {
	s, ok, err := scanString("EID", src)
	if err != nil {
		return err
	}
	if !ok || s == "" {
		*id = EID{}
		return nil
	}
	v, err := ParseEID(s)
	if err != nil {
		return err
	}
	*id = v
	return nil
}

// Value implements [database/sql/driver.Valuer]. The zero value is stored
// as NULL; any other EID as its 32-digit string.
func (id EID) Value() (driver.Value, error) {
	if id.s == "" {
		return nil, nil
	}
	return id.s, nil
}
