// Package wiretext holds the rule every text field from outside obeys:
// valid UTF-8 with no U+0000. encoding/json would otherwise turn invalid
// bytes and unpaired surrogate escapes into U+FFFD without a word, and a
// NUL is stored by SQLite but refused by PostgreSQL (a 500 there), so the
// HTTP edges check bodies and query parameters here, once, before any
// field is read, and both engines see the same text.
package wiretext

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"unicode/utf8"

	"github.com/esimd/esimd/internal/fault"
)

// Check returns Invalid, naming field, when s holds U+0000 or is not valid
// UTF-8.
func Check(field, s string) error {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			return invalidUTF8(field, i)
		case r == 0:
			return nul(field)
		}
		i += size
	}
	return nil
}

// CheckQuery checks every name and value of a query string.
func CheckQuery(q url.Values) error {
	for name, values := range q {
		if err := Check("the query parameter name "+printable(name), name); err != nil {
			return err
		}
		for _, v := range values {
			if err := Check("the query parameter "+printable(name), v); err != nil {
				return err
			}
		}
	}
	return nil
}

// CheckJSON checks every string of a JSON text, names and values: its raw
// bytes are valid UTF-8, and no escape stands for U+0000 or for half of a
// UTF-16 surrogate pair. The error names the member the string belongs to.
// A body that is not JSON at all passes if its quoted parts do; the JSON
// decoder reports it.
func CheckJSON(body []byte) error {
	member := ""
	for i := 0; i < len(body); i++ {
		if body[i] != '"' {
			continue
		}
		end, bad := scanString(body, i+1)
		k := end + 1
		for k < len(body) && (body[k] == ' ' || body[k] == '\t' || body[k] == '\n' || body[k] == '\r') {
			k++
		}
		isName := k < len(body) && body[k] == ':'
		if bad != nil {
			field := member
			if isName {
				field = "a member name"
			}
			if field == "" {
				field = "a text value"
			}
			return bad(field)
		}
		if isName && end < len(body) {
			// Names are plain ASCII almost always: decode only escaped ones
			// (an ingest batch has tens of thousands of names).
			if raw := body[i+1 : end]; bytes.IndexByte(raw, '\\') < 0 {
				member = string(raw)
			} else if name := ""; json.Unmarshal(body[i:end+1], &name) == nil {
				member = name
			}
		}
		i = end
	}
	return nil
}

// scanString scans a JSON string body from start to its closing quote and
// returns the quote's index (len(body) when unterminated) and, for a
// string that breaks the rule, the error to report.
func scanString(body []byte, start int) (end int, bad func(field string) error) {
	j := start
	for j < len(body) && body[j] != '"' {
		c := body[j]
		switch {
		case c == '\\' && j+1 < len(body) && body[j+1] == 'u':
			v, ok := hex4(body, j+2)
			if !ok {
				j += 2
				continue
			}
			switch {
			case v == 0 && bad == nil:
				bad = nul
			case v >= 0xD800 && v <= 0xDBFF:
				if j+12 <= len(body) && body[j+6] == '\\' && body[j+7] == 'u' {
					if lo, ok := hex4(body, j+8); ok && lo >= 0xDC00 && lo <= 0xDFFF {
						j += 12
						continue
					}
				}
				if bad == nil {
					bad = surrogate(v)
				}
			case v >= 0xDC00 && v <= 0xDFFF && bad == nil:
				bad = surrogate(v)
			}
			j += 6
		case c == '\\':
			j += 2
		case c == 0:
			if bad == nil {
				bad = nul
			}
			j++
		case c >= utf8.RuneSelf:
			r, size := utf8.DecodeRune(body[j:])
			if r == utf8.RuneError && size == 1 && bad == nil {
				at := j
				bad = func(field string) error { return invalidUTF8(field, at) }
			}
			j += size
		default:
			j++
		}
	}
	return min(j, len(body)), bad
}

func hex4(b []byte, at int) (rune, bool) {
	if at+4 > len(b) {
		return 0, false
	}
	var v rune
	for _, c := range b[at : at+4] {
		switch {
		case c >= '0' && c <= '9':
			v = v<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			v = v<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			v = v<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return v, true
}

func nul(field string) error {
	return fault.Invalidf("%s contains U+0000 (NUL), which no text field accepts; remove it", field)
}

func invalidUTF8(field string, at int) error {
	return fault.Invalidf("%s is not valid UTF-8 (byte %d); send text as UTF-8", field, at)
}

func surrogate(v rune) func(string) error {
	return func(field string) error {
		return fault.Invalidf("%s contains \\u%04X, half of a UTF-16 surrogate pair, which is no character; send the character itself or both halves", field, v)
	}
}

// printable quotes a query parameter name for a message without letting
// the bytes that broke the rule into it.
func printable(name string) string {
	if len(name) > 40 {
		name = name[:40]
	}
	return fmt.Sprintf("%q", name)
}
