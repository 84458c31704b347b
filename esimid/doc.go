// Package esimid provides the identifier value types of the eSIM world:
// ICCIDs (SIM profile serial numbers), EIDs (eUICC identifiers) and SGP.22
// activation codes (the "LPA:1$..." strings printed as QR codes).
//
// The types follow the style of net/netip: each is a small immutable value
// that is comparable with ==, usable as a map key, and whose zero value is
// the invalid "no identifier" value reported by IsValid. Values are only
// built by the Parse and New functions, which validate their input
// completely, so code holding an [ICCID], [EID] or [ActivationCode] never
// needs to re-check it.
//
// Every type implements [encoding.TextMarshaler], [encoding.TextUnmarshaler]
// and [encoding.TextAppender] (so it travels through encoding/json as a plain
// string, as the eSIM Go API does) and the database/sql [sql.Scanner] and
// [driver.Valuer] interfaces. The zero value marshals to the empty string and
// is stored as SQL NULL, so optional identifiers need no pointer wrapper.
//
// Parse failures are reported as [*ParseError], which names the input and
// the rule it broke and wraps one of [ErrLength], [ErrSyntax] or
// [ErrCheckDigit] so that callers can tell a malformed identifier from one
// that is well formed but mistyped.
package esimid

import (
	"database/sql"
	"database/sql/driver"
	"encoding"
)

// Compile-time checks that every identifier type implements the interfaces
// the package documentation promises; a missed method would otherwise only
// show up as a silent fallback to reflection-based encoding.
var (
	_ encoding.TextMarshaler   = ICCID{}
	_ encoding.TextAppender    = ICCID{}
	_ encoding.TextUnmarshaler = (*ICCID)(nil)
	_ sql.Scanner              = (*ICCID)(nil)
	_ driver.Valuer            = ICCID{}

	_ encoding.TextMarshaler   = EID{}
	_ encoding.TextAppender    = EID{}
	_ encoding.TextUnmarshaler = (*EID)(nil)
	_ sql.Scanner              = (*EID)(nil)
	_ driver.Valuer            = EID{}

	_ encoding.TextMarshaler   = ActivationCode{}
	_ encoding.TextAppender    = ActivationCode{}
	_ encoding.TextUnmarshaler = (*ActivationCode)(nil)
	_ sql.Scanner              = (*ActivationCode)(nil)
	_ driver.Valuer            = ActivationCode{}
)
