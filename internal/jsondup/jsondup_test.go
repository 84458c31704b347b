package jsondup

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestFind(t *testing.T) {
	cases := []struct {
		name string
		in   string
		fold bool
		want *Duplicate
	}{
		{"none", `{"type":"validate","order":[{"type":"bundle"}]}`, false, nil},
		{"top level", `{"type":"validate","type":"transaction"}`, false, &Duplicate{Key: "type"}},
		{"in an array's object", `{"order":[{"item":"a"},{"item":"b","quantity":1,"item":"c"}]}`, false, &Duplicate{Key: "item", Path: "order[1]"}},
		{"deep", `{"a":{"b":[[{"c":{"d":1,"d":2}}]]}}`, false, &Duplicate{Key: "d", Path: "a.b[0][0].c"}},
		{"same key in sibling objects is fine", `[{"a":1},{"a":2}]`, false, nil},
		{"same key at two levels is fine", `{"a":{"a":1}}`, false, nil},
		{"escaped spelling is the same key", `{"type":1,"\u0074ype":2}`, false, &Duplicate{Key: "type"}},
		{"letter case differs", `{"name":"a","Name":"b"}`, false, nil},
		{"letter case folded", `{"name":"a","Name":"b"}`, true, &Duplicate{Key: "Name"}},
		{"string values that look like keys", `{"a":"a","b":["a","a"]}`, false, nil},
		{"malformed after a duplicate", `{"a":1,"a":2,`, false, &Duplicate{Key: "a"}},
		{"malformed", `{"a":`, false, nil},
		{"not an object", `"a"`, false, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if diff := cmp.Diff(c.want, Find([]byte(c.in), c.fold)); diff != "" {
				t.Errorf("Find(%s) (-want +got):\n%s", c.in, diff)
			}
		})
	}
}

func TestWhere(t *testing.T) {
	for _, c := range []struct {
		d    Duplicate
		want string
	}{{Duplicate{Key: "type"}, `"type"`}, {Duplicate{Key: "item", Path: "order[1]"}, `"item" in order[1]`}} {
		if got := c.d.Where(); got != c.want {
			t.Errorf("Where() = %s, want %s", got, c.want)
		}
	}
}

// FuzzFind checks Find against an oracle that shares none of its code: in
// valid JSON, a key is repeated exactly when the document has more keys
// (strings followed by a colon, counted byte by byte) than the objects
// encoding/json builds from it hold (it keeps one entry per distinct key).
func FuzzFind(f *testing.F) {
	for _, s := range []string{`{"type":"validate","type":"transaction"}`, `{"order":[{"item":"a","item":"b"}]}`,
		`[{"a":1},{"a":2}]`, `{"a":{"a":{"a":[1,{"b":"\":"}]}}}`, `{"k":[[],{},[{"x":1,"X":2}],{"y":[1,2,{"z":0,"z":1}]}]}`, `{"\u0061":1,"a":2}`, `{}`, `[]`, `"x"`, `{"a":[{"b":1,"c":{"b":2}}],"b":3}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d := Find(data, false)
		folded := Find(data, true)
		if d != nil && folded == nil {
			t.Fatalf("exact duplicate %+v not found when folding case in %q", d, data)
		}
		if !json.Valid(data) {
			return
		}
		var v any
		if err := json.Unmarshal(data, &v); err != nil {
			t.Skip() // valid but too deep for encoding/json
		}
		repeated := countKeys(data) > entries(v)
		if (d != nil) != repeated {
			t.Fatalf("Find(%q) = %+v; the document repeats a key: %v", data, d, repeated)
		}
		for _, fold := range []bool{false, true} {
			if got, want := Find(data, fold), findByTokens(data, fold); !cmp.Equal(got, want) {
				t.Fatalf("Find(%q, %v) = %+v; encoding/json's tokens find %+v", data, fold, got, want)
			}
		}
	})
}

// findByTokens is Find written over encoding/json's tokens: slower, and
// simple enough to trust, so the fuzzer compares the two on valid JSON.
func findByTokens(data []byte, fold bool) *Duplicate {
	dec := json.NewDecoder(bytes.NewReader(data))
	type level struct {
		keys    map[string]bool // nil for an array
		index   int
		nextKey bool
		name    string
	}
	var stack []*level
	path := func() string {
		var b strings.Builder
		for i, f := range stack[1:] {
			if stack[i].keys == nil {
				b.WriteString("[" + f.name + "]")
				continue
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.name)
		}
		return b.String()
	}
	done := func() {
		if len(stack) > 0 {
			if top := stack[len(stack)-1]; top.keys == nil {
				top.index++
			} else {
				top.nextKey = true
			}
		}
	}
	cur := ""
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil
		}
		var top *level
		if len(stack) > 0 {
			top = stack[len(stack)-1]
		}
		if k, ok := tok.(string); ok && top != nil && top.keys != nil && top.nextKey {
			id := k
			if fold {
				id = strings.ToLower(k)
			}
			if top.keys[id] {
				return &Duplicate{Key: k, Path: path()}
			}
			top.keys[id], top.nextKey, cur = true, false, k
			continue
		}
		name := cur
		if top != nil && top.keys == nil {
			name = strconv.Itoa(top.index)
		}
		switch tok {
		case json.Delim('{'):
			stack = append(stack, &level{keys: map[string]bool{}, nextKey: true, name: name})
		case json.Delim('['):
			stack = append(stack, &level{name: name})
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
			done()
		default:
			done()
		}
	}
}

// countKeys counts the strings followed by a colon outside strings.
func countKeys(data []byte) int {
	n := 0
	for i := 0; i < len(data); i++ {
		if data[i] != '"' {
			continue
		}
		for i++; i < len(data) && data[i] != '"'; i++ {
			if data[i] == '\\' {
				i++
			}
		}
		j := i + 1
		for j < len(data) && (data[j] == ' ' || data[j] == '\t' || data[j] == '\n' || data[j] == '\r') {
			j++
		}
		if j < len(data) && data[j] == ':' {
			n++
		}
	}
	return n
}

// entries counts the entries of every object in v.
func entries(v any) int {
	switch x := v.(type) {
	case map[string]any:
		n := len(x)
		for _, e := range x {
			n += entries(e)
		}
		return n
	case []any:
		n := 0
		for _, e := range x {
			n += entries(e)
		}
		return n
	}
	return 0
}
