package esimapi_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/esimd/esimd/esimapi"
)

func TestParseMoney(t *testing.T) {
	for in, want := range map[string]string{
		"2.28": "2.28", "6.9": "6.9", "6.90": "6.9", "90.275": "90.275", "1000": "1000", "0": "0", "-0.00": "0",
		"+1.5": "1.5", "-6.9": "-6.9", ".5": "0.5", "5.": "5", "007.10": "7.1", "1e3": "1000", "2.5E-2": "0.025",
		"0.1234567890123456789": "0.1234567890123456789", "-0.0001": "-0.0001",
	} {
		m, err := esimapi.ParseMoney(in)
		if err != nil || m.String() != want {
			t.Errorf("ParseMoney(%q) = %s, %v; want %s", in, m, err, want)
		}
	}
	for _, in := range []string{"", "-", ".", "1.2.3", "1,5", "abc", "1e", "1e1000", "NaN", "Infinity", " 1"} {
		if _, err := esimapi.ParseMoney(in); !errors.Is(err, esimapi.ErrMoneySyntax) {
			t.Errorf("ParseMoney(%q) = %v, want ErrMoneySyntax", in, err)
		}
	}
}

func TestMoneyArithmetic(t *testing.T) {
	m := esimapi.MustParseMoney
	sum := m("0.1").Add(m("0.2"))
	if sum.Cmp(m("0.3")) != 0 || sum.String() != "0.3" {
		t.Errorf("0.1 + 0.2 = %s", sum)
	}
	if got := m("250.5").Sub(m("1.73").Mul(2)); got.String() != "247.04" {
		t.Errorf("250.5 - 2×1.73 = %s", got)
	}
	if got := m("1.73").Sub(m("1.73")); !got.IsZero() || got != (esimapi.Money{}) || got.Sign() != 0 {
		t.Errorf("x - x = %#v", got)
	}
	if m("-1").Sign() != -1 || m("2").Sign() != 1 || m("2").Cmp(m("10")) != -1 || m("10").Cmp(m("9.99")) != 1 {
		t.Error("Sign or Cmp is wrong")
	}
	if c, err := m("2.28").MinorUnits(2); err != nil || c != 228 {
		t.Errorf("MinorUnits(2) = %d, %v", c, err)
	}
	if _, err := m("90.275").MinorUnits(2); err == nil {
		t.Error("90.275 in cents did not fail")
	}
	if _, err := m("1e30").MinorUnits(2); err == nil {
		t.Error("an overflow did not fail")
	}
	if got := esimapi.MoneyFromMinor(-1005, 2); got.String() != "-10.05" {
		t.Errorf("MoneyFromMinor(-1005, 2) = %s", got)
	}
}

func TestMoneyJSON(t *testing.T) {
	var v struct {
		A, B, C, D esimapi.Money
	}
	if err := json.Unmarshal([]byte(`{"A":2.28,"B":"240.30","C":null,"D":1E2}`), &v); err != nil {
		t.Fatal(err)
	}
	if v.A.String() != "2.28" || v.B.String() != "240.3" || !v.C.IsZero() || v.D.String() != "100" {
		t.Errorf("decoded %+v", v)
	}
	out, err := json.Marshal(v)
	if err != nil || string(out) != `{"A":2.28,"B":240.3,"C":0,"D":100}` {
		t.Errorf("encoded %s, %v", out, err)
	}
	for _, bad := range []string{`"x"`, `true`, `{}`, `[1]`} {
		var m esimapi.Money
		if err := json.Unmarshal([]byte(bad), &m); err == nil {
			t.Errorf("decoding %s succeeded: %s", bad, m)
		}
	}
	var m esimapi.Money
	if err := m.UnmarshalText([]byte("12.50")); err != nil || m.String() != "12.5" {
		t.Errorf("UnmarshalText = %s, %v", m, err)
	}
}

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{"2.28", "-6.9", "1e3", "0.000", ".5"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := esimapi.ParseMoney(s)
		if err != nil {
			return
		}
		again, err := esimapi.ParseMoney(m.String())
		if err != nil || again != m {
			t.Fatalf("%q → %s → %s, %v: not canonical", s, m, again, err)
		}
		if m.Add(m).Sub(m) != m {
			t.Fatalf("%s + %s - %s != %s", m, m, m, m)
		}
	})
}
