package wiretext_test

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/wiretext"
)

func TestCheckJSON(t *testing.T) {
	for _, tc := range []struct {
		body    string
		mention string // "" when the body passes
	}{
		{`{"customerRef":"shop-1","message":"héllo 👋"}`, ""},
		{`{"message":"\u00e9\ud83d\udc4b","n":1,"x":null}`, ""},
		{`{"message":"\\u0000 is text: a backslash, then u0000"}`, ""},
		{`{"message":"a real U+FFFD: ` + "\uFFFD" + ` or \ufffd"}`, ""},
		{`["\u0041"]`, ""},
		{`{"customerRef":"a\u0000b"}`, "customerRef contains U+0000"},
		{`{"customerRef":"ok","message":"a\u0000"}`, "message contains U+0000"},
		{`{"order":[{"iccids":["8944\u0000"]}]}`, "iccids contains U+0000"},
		{`{"a\u0000":1}`, "a member name contains U+0000"},
		{`["\u0000"]`, "a text value contains U+0000"},
		{`{"message":"` + "caf\xe9" + `"}`, "message is not valid UTF-8 (byte 15)"},
		{`{"name":"` + "\xff\xfe" + `"}`, "name is not valid UTF-8"},
		{`{"message":"\ud83d"}`, `message contains \uD83D, half of a UTF-16 surrogate pair`},
		{`{"message":"\ud83d\u0041"}`, `\uD83D`},
		{`{"message":"\udc4b"}`, `\uDC4B`},
		{`{"recordId":"r-1\u0000"}`, "recordId contains U+0000"},
	} {
		err := wiretext.CheckJSON([]byte(tc.body))
		switch {
		case tc.mention == "" && err != nil:
			t.Errorf("%q: %v, want it to pass", tc.body, err)
		case tc.mention != "" && (!fault.Is(err, fault.Invalid) || !strings.Contains(fault.MessageOf(err), tc.mention)):
			t.Errorf("%q: %v, want Invalid mentioning %q", tc.body, err, tc.mention)
		}
	}
}

func TestCheckQuery(t *testing.T) {
	for _, tc := range []struct{ query, mention string }{
		{"filterBy=customerRef&filterValue=shop%20%C3%A9", ""},
		{"filterBy=customerRef&filterValue=a%00b", `the query parameter "filterValue" contains U+0000`},
		{"customerRef=%FF", `the query parameter "customerRef" is not valid UTF-8`},
		{"a%00=1", "the query parameter name"},
	} {
		q, err := url.ParseQuery(tc.query)
		if err != nil {
			t.Fatal(err)
		}
		err = wiretext.CheckQuery(q)
		if (tc.mention == "") != (err == nil) || (err != nil && !strings.Contains(fault.MessageOf(err), tc.mention)) {
			t.Errorf("%s: %v, want %q", tc.query, err, tc.mention)
		}
	}
}

// strings returns every string of a decoded JSON value, names included.
func stringsOf(v any, out []string) []string {
	switch v := v.(type) {
	case string:
		out = append(out, v)
	case []any:
		for _, e := range v {
			out = stringsOf(e, out)
		}
	case map[string]any:
		for k, e := range v {
			out = stringsOf(e, append(out, k))
		}
	}
	return out
}

// FuzzCheckJSON holds CheckJSON to encoding/json both ways: a body it
// accepts decodes to strings without NUL, and without U+FFFD unless the
// body spelled one; a body it refuses is either not JSON or decodes to a
// string that has a NUL or a U+FFFD the body did not spell (what
// encoding/json makes of invalid bytes and unpaired surrogates).
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"a":"b"}`, `{"a":"\u0000"}`, `{"a":"\ud800"}`, "{\"a\":\"\xff\"}", `["\ud83d\udc4b"]`,
		`{"a":"\\u0000"}`, `{"a":["x",{"b":"\ufffd"}]}`, `"\u0000`, `{"a\u0000":1}`, `"\\`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		err := wiretext.CheckJSON(body)
		if err != nil && (!fault.Is(err, fault.Invalid) || fault.MessageOf(err) == "") {
			t.Fatalf("error %v is not Invalid with a message", err)
		}
		var v any
		if json.Unmarshal(body, &v) != nil {
			return
		}
		spelled := strings.Contains(string(body), "\uFFFD") || strings.Contains(strings.ToLower(string(body)), `\ufffd`)
		broken := false
		for _, s := range stringsOf(v, nil) {
			if strings.ContainsRune(s, 0) || (!spelled && strings.ContainsRune(s, utf8.RuneError)) {
				broken = true
			}
		}
		if err == nil && broken {
			t.Fatalf("CheckJSON accepted %q, which decodes to NUL or U+FFFD", body)
		}
		if err != nil && !broken && !spelled {
			t.Fatalf("CheckJSON refused %q (%v), which decodes to clean text", body, err)
		}
	})
}

func TestCheck(t *testing.T) {
	if err := wiretext.Check("name", "Acme Travel é"); err != nil {
		t.Error(err)
	}
	if err := wiretext.Check("name", "Acme\x00"); !strings.Contains(fault.MessageOf(err), "name contains U+0000") {
		t.Errorf("NUL: %v", err)
	}
	if err := wiretext.Check("name", "Acme\xc3"); !strings.Contains(fault.MessageOf(err), "name is not valid UTF-8 (byte 4)") {
		t.Errorf("invalid UTF-8: %v", err)
	}
}
