package esimid

import (
	"errors"
	"fmt"
	"strconv"
	"unicode/utf8"
)

// The rule classes a [ParseError] wraps. They exist so that callers can map
// failures to API behaviour without matching message text: eSIM Go answers
// 400 for an ICCID of the wrong length or with non-digits, whereas a
// correctly shaped ICCID with a bad check digit is merely one that cannot
// exist, which an API may prefer to treat as "not found".
var (
	// ErrLength reports an identifier with the wrong number of characters.
	ErrLength = errors.New("wrong length")
	// ErrSyntax reports a character or field that is not allowed where it
	// appears, or a missing or unsupported structural element.
	ErrSyntax = errors.New("invalid syntax")
	// ErrCheckDigit reports an identifier of the right shape whose check
	// digit(s) do not match the rest of it, i.e. a typo or a made-up number.
	ErrCheckDigit = errors.New("check digit mismatch")
)

// maxQuotedInput bounds how much of the input [ParseError.Error] echoes, so
// that an attacker-sized input cannot produce an attacker-sized log line.
// The full input stays available in [ParseError.Input].
const maxQuotedInput = 100

// ParseError describes why a string is not a valid identifier. It is a
// struct rather than a formatted string so that callers (the HTTP layer in
// particular) can build their own messages from the parts.
type ParseError struct {
	// Type names what was being parsed, e.g. "ICCID", "EID",
	// "activation code", "SM-DP+ address".
	Type string
	// Input is the complete string that was rejected.
	Input string
	// Reason is a human-readable statement of the rule the input broke,
	// phrased to follow the quoted input, e.g. "has 17 characters, want
	// 18-22 digits".
	Reason string
	// Err is the rule class: one of ErrLength, ErrSyntax or ErrCheckDigit.
	Err error
}

// Error renders `esimid: <Type> "<Input>" <Reason>`, truncating very long
// inputs so the message stays loggable.
func (e *ParseError) Error() string {
	in := e.Input
	suffix := ""
	if len(in) > maxQuotedInput {
		// Back off to a rune boundary so a multi-byte character is not
		// split, but no further than one rune's width: input that is not
		// UTF-8 at all is cut at the limit and escaped by Quote.
		cut := maxQuotedInput
		for back := 0; back < utf8.UTFMax-1 && !utf8.RuneStart(in[cut]); back++ {
			cut--
		}
		if !utf8.RuneStart(in[cut]) {
			cut = maxQuotedInput
		}
		in = in[:cut]
		suffix = fmt.Sprintf("... (%d bytes)", len(e.Input))
	}
	return "esimid: " + e.Type + " " + strconv.Quote(in) + suffix + " " + e.Reason
}

// Unwrap returns the rule class so that errors.Is(err, ErrCheckDigit) and
// friends work through any wrapping the caller adds.
func (e *ParseError) Unwrap() error { return e.Err }

func parseErr(typ, input string, class error, format string, args ...any) *ParseError {
	return &ParseError{Type: typ, Input: input, Reason: fmt.Sprintf(format, args...), Err: class}
}

// firstNonDigit returns the index of the first byte of s that is not an
// ASCII digit, or -1 if there is none.
func firstNonDigit(s string) int {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return i
		}
	}
	return -1
}

// nonDigitErr builds the error for a non-digit at index i, naming the
// offending character (decoded as a rune, so multi-byte input reads well).
func nonDigitErr(typ, input, s string, i int) *ParseError {
	return parseErr(typ, input, ErrSyntax, "contains non-digit %s at index %d", quoteChar(s, i), i)
}

// scanString converts the source values database/sql drivers hand to Scan
// into a string. ok is false for NULL. []byte is copied because drivers may
// reuse the buffer after Scan returns.
func scanString(typ string, src any) (s string, ok bool, err error) {
	switch v := src.(type) {
	case nil:
		return "", false, nil
	case string:
		return v, true, nil
	case []byte:
		return string(v), true, nil
	default:
		return "", false, fmt.Errorf("esimid: cannot scan %T into %s", src, typ)
	}
}

// quote renders s as a Go string literal for use inside a Reason.
func quote(s string) string { return strconv.Quote(s) }

// quoteChar renders the character starting at s[i] as a Go rune literal,
// decoding UTF-8 so a multi-byte character is named whole rather than as
// its first byte.
func quoteChar(s string, i int) string {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return strconv.QuoteRune(r)
}
