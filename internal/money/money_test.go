package money

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestParseAndString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Amount
		out  string
	}{
		{"2.28", 22800, "2.28"},
		{"6.9", 69000, "6.9"},
		{"6.90", 69000, "6.9"},
		{"90.275", 902750, "90.275"},
		{"1000", 10000000, "1000"},
		{"0", 0, "0"},
		{"-0.5", -5000, "-0.5"},
		{"+3", 30000, "3"},
		{".5", 5000, "0.5"},
		{"0.0001", 1, "0.0001"},
		{"2.280000", 22800, "2.28"},
		{"922337203685477.5807", math.MaxInt64, "922337203685477.5807"},
	} {
		got, err := Parse(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
			continue
		}
		if s := got.String(); s != tc.out {
			t.Errorf("Parse(%q).String() = %q, want %q", tc.in, s, tc.out)
		}
	}
}

func TestParseRejects(t *testing.T) {
	for _, in := range []string{"", "-", ".", "1.", "1.00001", "1e3", "1,5", "abc", "1.2.3", " 1", "0x10", "922337203685478", "922337203685477.5808", "--1", "1.-2"} {
		if got, err := Parse(in); err == nil {
			t.Errorf("Parse(%q) = %d, want an error", in, got)
		} else if !strings.Contains(err.Error(), "money:") {
			t.Errorf("Parse(%q) error %q does not say where it came from", in, err)
		}
	}
}

func TestJSON(t *testing.T) {
	var v struct {
		Price Amount `json:"price"`
	}
	for _, in := range []string{`{"price":2.28}`, `{"price":"2.28"}`} {
		if err := json.Unmarshal([]byte(in), &v); err != nil || v.Price != 22800 {
			t.Fatalf("Unmarshal %s = %d, %v", in, v.Price, err)
		}
	}
	b, _ := json.Marshal(v)
	if string(b) != `{"price":2.28}` {
		t.Fatalf("Marshal = %s", b)
	}
	if err := json.Unmarshal([]byte(`{"price":1e2}`), &v); err == nil {
		t.Fatal("exponent accepted")
	}
	if b, _ := json.Marshal(Amount(math.MinInt64)); string(b) != "-922337203685477.5808" {
		t.Fatalf("MinInt64 = %s", b)
	}
}

func TestArithmeticReportsOverflow(t *testing.T) {
	if r, ok := MustParse("2.28").Mul(3); !ok || r.String() != "6.84" {
		t.Errorf("2.28 × 3 = %s, %v", r, ok)
	}
	if _, ok := Amount(math.MaxInt64 / 2).Mul(3); ok {
		t.Error("overflowing Mul reported ok")
	}
	if r, ok := MustParse("0.1").Add(MustParse("0.2")); !ok || r.String() != "0.3" {
		t.Errorf("0.1 + 0.2 = %s, %v (exact arithmetic wanted)", r, ok)
	}
	if _, ok := Amount(math.MaxInt64).Add(1); ok {
		t.Error("overflowing Add reported ok")
	}
	if _, ok := Amount(math.MinInt64).Add(-1); ok {
		t.Error("underflowing Add reported ok")
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{"2.28", "-0.5", "1000", ".5", "1.00001", "922337203685477.5807", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := Parse(s)
		if err != nil {
			return
		}
		again, err := Parse(a.String())
		if err != nil || again != a {
			t.Fatalf("Parse(%q) = %d; its String %q parses to %d, %v", s, a, a.String(), again, err)
		}
	})
}

func BenchmarkAppendText(b *testing.B) {
	a := MustParse("90.275")
	buf := make([]byte, 0, 32)
	for b.Loop() {
		buf = a.AppendText(buf[:0])
	}
}
