package esimapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Money is an exact decimal amount of money in an organisation's currency.
//
// eSIM Go sends prices and balances as JSON numbers (2.28, 6.9, 90.275) and
// a few as strings (runningBalance); Money reads both from the literal text,
// never through float64, so 0.1 + 0.2 is exactly 0.3 and a balance never
// drifts by a cent. It writes itself back as a JSON number.
//
// The zero value is 0. Money is comparable with == only in canonical form,
// which every constructor returns; use [Money.Cmp] to compare amounts.
type Money struct {
	// s is the canonical decimal text: an optional '-', integer digits
	// without leading zeros, and a fraction without trailing zeros
	// ("-12.345", "6.9", "0"). Empty means 0.
	s string
}

// ErrMoneySyntax is wrapped by the errors of [ParseMoney] and of decoding a
// Money from JSON.
var ErrMoneySyntax = errors.New("not a decimal amount")

// ParseMoney reads a decimal amount such as "2.28", "-6.9", "1000",
// "90.275" or "1e3". Any number of decimals is kept exactly.
func ParseMoney(s string) (Money, error) {
	n, scale, err := parseDecimal(s)
	if err != nil {
		return Money{}, err
	}
	return fromScaled(n, scale), nil
}

// MustParseMoney is like [ParseMoney] but panics on error; for constants in
// tests and examples.
func MustParseMoney(s string) Money {
	m, err := ParseMoney(s)
	if err != nil {
		panic(err)
	}
	return m
}

// MoneyFromMinor returns units / 10^decimals, e.g. MoneyFromMinor(228, 2)
// is 2.28.
func MoneyFromMinor(units int64, decimals int) Money {
	return fromScaled(big.NewInt(units), decimals)
}

// parseDecimal reads s into an integer n and a scale: s = n / 10^scale.
func parseDecimal(s string) (*big.Int, int, error) {
	orig := s
	bad := func() (*big.Int, int, error) {
		return nil, 0, fmt.Errorf("esimapi: money %q: %w", orig, ErrMoneySyntax)
	}
	if len(s) > 400 {
		return bad()
	}
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	mant, exp, hasExp := strings.Cut(strings.ToLower(s), "e")
	intPart, frac, _ := strings.Cut(mant, ".")
	if intPart == "" && frac == "" {
		return bad()
	}
	digits := intPart + frac
	for i := 0; i < len(digits); i++ {
		if digits[i] < '0' || digits[i] > '9' {
			return bad()
		}
	}
	scale := len(frac)
	if hasExp {
		e, ok := smallInt(exp)
		if !ok {
			return bad()
		}
		scale -= e
	}
	n, _ := new(big.Int).SetString(digits, 10)
	if scale < 0 {
		n.Mul(n, pow10(-scale))
		scale = 0
	}
	if neg {
		n.Neg(n)
	}
	return n, scale, nil
}

// smallInt parses an exponent of at most three digits with an optional sign.
func smallInt(s string) (int, bool) {
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	if s == "" || len(s) > 3 {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
		n = n*10 + int(s[i]-'0')
	}
	if neg {
		n = -n
	}
	return n, true
}

func pow10(n int) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(n)), nil)
}

// fromScaled builds the canonical form of n / 10^scale.
func fromScaled(n *big.Int, scale int) Money {
	if scale < 0 {
		n = new(big.Int).Mul(n, pow10(-scale))
		scale = 0
	}
	neg := n.Sign() < 0
	digits := new(big.Int).Abs(n).String()
	if len(digits) <= scale {
		digits = strings.Repeat("0", scale-len(digits)+1) + digits
	}
	intPart, frac := digits[:len(digits)-scale], strings.TrimRight(digits[len(digits)-scale:], "0")
	s := intPart
	if frac != "" {
		s += "." + frac
	}
	if s == "0" {
		return Money{}
	}
	if neg {
		s = "-" + s
	}
	return Money{s: s}
}

// scaled returns m as n / 10^scale.
func (m Money) scaled() (*big.Int, int) {
	if m.s == "" {
		return new(big.Int), 0
	}
	n, scale, err := parseDecimal(m.s)
	if err != nil {
		panic("esimapi: non-canonical Money " + m.s) // only constructors build Money
	}
	return n, scale
}

// align returns a and b as integers over the same power of ten.
func align(a, b Money) (*big.Int, *big.Int, int) {
	an, as := a.scaled()
	bn, bs := b.scaled()
	switch {
	case as < bs:
		an.Mul(an, pow10(bs-as))
		as = bs
	case bs < as:
		bn.Mul(bn, pow10(as-bs))
	}
	return an, bn, as
}

// String returns the amount as canonical decimal text ("2.28", "-6.9", "0").
func (m Money) String() string {
	if m.s == "" {
		return "0"
	}
	return m.s
}

// IsZero reports whether m is 0.
func (m Money) IsZero() bool { return m.s == "" }

// Sign returns -1, 0 or +1.
func (m Money) Sign() int {
	switch {
	case m.s == "":
		return 0
	case m.s[0] == '-':
		return -1
	}
	return 1
}

// Cmp compares m and o: -1 if m < o, 0 if equal, +1 if m > o.
func (m Money) Cmp(o Money) int {
	a, b, _ := align(m, o)
	return a.Cmp(b)
}

// Equal reports whether m and o are the same amount.
func (m Money) Equal(o Money) bool { return m.Cmp(o) == 0 }

// Add returns m + o, exactly.
func (m Money) Add(o Money) Money {
	a, b, s := align(m, o)
	return fromScaled(a.Add(a, b), s)
}

// Sub returns m - o, exactly.
func (m Money) Sub(o Money) Money {
	a, b, s := align(m, o)
	return fromScaled(a.Sub(a, b), s)
}

// Mul returns m × n, exactly (a price times a quantity).
func (m Money) Mul(n int64) Money {
	a, s := m.scaled()
	return fromScaled(a.Mul(a, big.NewInt(n)), s)
}

// MinorUnits returns m × 10^decimals as an integer, for systems that count
// cents: MustParseMoney("2.28").MinorUnits(2) is 228. It fails when m has
// more decimals than asked for or the result overflows int64.
func (m Money) MinorUnits(decimals int) (int64, error) {
	n, s := m.scaled()
	if s > decimals {
		return 0, fmt.Errorf("esimapi: %s has more than %d decimals", m, decimals)
	}
	n.Mul(n, pow10(decimals-s))
	if !n.IsInt64() {
		return 0, fmt.Errorf("esimapi: %s × 10^%d overflows int64", m, decimals)
	}
	return n.Int64(), nil
}

// MarshalJSON writes m as a JSON number, as eSIM Go does.
func (m Money) MarshalJSON() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalJSON reads a JSON number or a string holding a decimal; null
// leaves m unchanged.
func (m *Money) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		s = strings.TrimSpace(s)
		if s == "" {
			*m = Money{}
			return nil
		}
		b = []byte(s)
	}
	v, err := ParseMoney(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}

// MarshalText writes the decimal text (for flags, CSV and map keys).
func (m Money) MarshalText() ([]byte, error) { return []byte(m.String()), nil }

// UnmarshalText reads decimal text.
func (m *Money) UnmarshalText(b []byte) error {
	v, err := ParseMoney(string(b))
	if err != nil {
		return err
	}
	*m = v
	return nil
}
