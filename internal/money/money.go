// Package money holds exact monetary amounts.
//
// An Amount is an integer count of ten-thousandths of a currency unit. The
// rate sheet prices bundles with up to three decimals (90.275 USD), so cents
// are not fine enough; four decimals leave a margin while keeping every sum
// exact in int64 arithmetic (the range is about ±922 trillion units).
// Amounts never pass through float64: they are parsed from and written as
// decimal text, and render in JSON as plain numbers (2.28, 6.9) the way the
// eSIM Go API does.
package money

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Scale is the number of Amount units in one currency unit.
const Scale = 10000

// scaleDigits is the number of decimal digits Scale represents.
const scaleDigits = 4

// Amount is an exact sum of money in ten-thousandths of a currency unit.
type Amount int64

// FromUnits returns whole currency units as an Amount.
func FromUnits(units int64) Amount { return Amount(units * Scale) }

// Parse reads a decimal number such as "2.28", "-6.9", "1000" or "90.275".
// It accepts at most four decimals and no exponent, so that what it returns
// is exactly what was written.
func Parse(s string) (Amount, error) {
	orig := s
	if s == "" {
		return 0, errors.New("money: empty amount")
	}
	neg := false
	switch s[0] {
	case '-':
		neg = true
		s = s[1:]
	case '+':
		s = s[1:]
	}
	intPart, fracPart, hasDot := strings.Cut(s, ".")
	if intPart == "" && (!hasDot || fracPart == "") {
		return 0, fmt.Errorf("money: %q is not a decimal number", orig)
	}
	if hasDot && fracPart == "" {
		return 0, fmt.Errorf("money: %q has a decimal point with no digits after it", orig)
	}
	if len(fracPart) > scaleDigits {
		// Trailing zeros beyond the scale are harmless (JSON encoders write 2.2800).
		trimmed := strings.TrimRight(fracPart[scaleDigits:], "0")
		if trimmed != "" {
			return 0, fmt.Errorf("money: %q has more than %d decimals", orig, scaleDigits)
		}
		fracPart = fracPart[:scaleDigits]
	}
	for _, part := range []string{intPart, fracPart} {
		for i := 0; i < len(part); i++ {
			if part[i] < '0' || part[i] > '9' {
				return 0, fmt.Errorf("money: %q is not a decimal number", orig)
			}
		}
	}
	var units uint64
	if intPart != "" {
		u, err := strconv.ParseUint(intPart, 10, 64)
		if err != nil || u > math.MaxInt64/Scale {
			return 0, fmt.Errorf("money: %q is too large", orig)
		}
		units = u
	}
	frac := uint64(0)
	if fracPart != "" {
		padded := fracPart + strings.Repeat("0", scaleDigits-len(fracPart))
		f, err := strconv.ParseUint(padded, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("money: %q is not a decimal number", orig)
		}
		frac = f
	}
	total := units*Scale + frac
	if total > math.MaxInt64 {
		return 0, fmt.Errorf("money: %q is too large", orig)
	}
	v := int64(total)
	if neg {
		v = -v
	}
	return Amount(v), nil
}

// MustParse is Parse for constants in code and tests; it panics on bad input.
func MustParse(s string) Amount {
	a, err := Parse(s)
	if err != nil {
		panic(err)
	}
	return a
}

// String writes the shortest exact decimal form: "2.28", "6.9", "1000", "-0.5".
func (a Amount) String() string {
	return string(a.AppendText(nil))
}

// AppendText appends the shortest exact decimal form of a to b.
func (a Amount) AppendText(b []byte) []byte {
	v := int64(a)
	var u uint64
	if v < 0 {
		b = append(b, '-')
		u = uint64(-(v + 1)) + 1 // safe for math.MinInt64
	} else {
		u = uint64(v)
	}
	b = strconv.AppendUint(b, u/Scale, 10)
	frac := u % Scale
	if frac == 0 {
		return b
	}
	digits := [scaleDigits]byte{}
	for i := scaleDigits - 1; i >= 0; i-- {
		digits[i] = byte('0' + frac%10)
		frac /= 10
	}
	end := scaleDigits
	for end > 0 && digits[end-1] == '0' {
		end--
	}
	b = append(b, '.')
	return append(b, digits[:end]...)
}

// MarshalJSON writes the amount as a JSON number.
func (a Amount) MarshalJSON() ([]byte, error) { return a.AppendText(nil), nil }

// UnmarshalJSON reads a JSON number (or a numeric string, which some clients
// send) without going through float64.
func (a *Amount) UnmarshalJSON(b []byte) error {
	s := string(b)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		s = s[1 : len(s)-1]
	}
	v, err := Parse(s)
	if err != nil {
		return err
	}
	*a = v
	return nil
}

// Mul returns a times n, reporting overflow instead of wrapping.
func (a Amount) Mul(n int64) (Amount, bool) {
	if n == 0 || a == 0 {
		return 0, true
	}
	r := int64(a) * n
	if r/n != int64(a) {
		return 0, false
	}
	return Amount(r), true
}

// Add returns a + b, reporting overflow instead of wrapping.
func (a Amount) Add(b Amount) (Amount, bool) {
	r := a + b
	if (b > 0 && r < a) || (b < 0 && r > a) {
		return 0, false
	}
	return r, true
}
