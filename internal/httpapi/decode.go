package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/jsondup"
	"github.com/esimd/esimd/internal/wiretext"
)

// maxBody caps request bodies: the largest legitimate body (an order of
// 100 lines with ICCIDs) is far smaller.
const maxBody = 1 << 20

// readBody reads a request body capped at maxBody.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	return readBodyLimit(w, r, maxBody)
}

// readBodyLimit reads a request body of at most limit bytes. Every body
// of the API is JSON and every one comes through here, so this is where
// text that is not UTF-8, or holds U+0000, is refused (wiretext) before
// encoding/json could turn it into U+FFFD or a field could carry a NUL to
// the database.
func readBodyLimit(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, fault.Invalidf("the request body is larger than %d bytes", limit)
		}
		return nil, fault.Invalidf("the request body could not be read")
	}
	if err := wiretext.CheckJSON(b); err != nil {
		return nil, err
	}
	return b, nil
}

// fields is a JSON object read loosely: eSIM Go clients in the wild send
// legacy key spellings ("Order", "Bundle"), booleans as strings and numbers
// as strings, and esimd accepts them all.
type fields map[string]json.RawMessage

// decodeObject parses a JSON object body. Errors: Invalid with a message
// that says what is wrong.
func decodeObject(body []byte) (fields, error) {
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return nil, fault.Invalidf("the request body is empty; send a JSON object")
	}
	if err := refuseDuplicateKeys(body); err != nil {
		return nil, err
	}
	var f fields
	if err := json.Unmarshal(body, &f); err != nil || f == nil {
		return nil, fault.Invalidf("the request body is not a JSON object: %s", jsonErrorText(err))
	}
	return f, nil
}

// refuseDuplicateKeys answers Invalid for a body that gives a key twice in
// one object: encoding/json would keep the last silently, so that
// {"type":"validate","type":"transaction"} placed a real order.
func refuseDuplicateKeys(body []byte) error {
	if d := jsondup.Find(body, false); d != nil {
		return fault.Invalidf("the request body gives the key %s twice; send each key once", d.Where())
	}
	return nil
}

func jsonErrorText(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return "null"
	case errors.As(err, &se):
		return "syntax error at byte " + strconv.FormatInt(se.Offset, 10)
	case errors.As(err, &te):
		return "expected an object, got " + te.Value
	}
	return "malformed JSON"
}

// raw returns the value of the first key present.
func (f fields) raw(keys ...string) (json.RawMessage, string, bool) {
	for _, k := range keys {
		if v, ok := f[k]; ok && string(v) != "null" {
			return v, k, true
		}
	}
	return nil, "", false
}

// str reads a string field (a number is accepted and kept as written).
func (f fields) str(keys ...string) (string, error) {
	v, k, ok := f.raw(keys...)
	if !ok {
		return "", nil
	}
	var s string
	if err := json.Unmarshal(v, &s); err == nil {
		return s, nil
	}
	var n json.Number
	if err := json.Unmarshal(v, &n); err == nil {
		return n.String(), nil
	}
	return "", fault.Invalidf("%s must be a string", k)
}

// boolean reads true/false, also as the strings "true"/"false".
func (f fields) boolean(keys ...string) (bool, error) {
	v, k, ok := f.raw(keys...)
	if !ok {
		return false, nil
	}
	return parseBool(k, v)
}

func parseBool(name string, v json.RawMessage) (bool, error) {
	switch strings.ToLower(strings.Trim(string(v), `"`)) {
	case "true":
		return true, nil
	case "false", "":
		return false, nil
	}
	return false, fault.Invalidf("%s must be true or false, got %s", name, truncateText(string(v), 40))
}

// integer reads a whole number, also as a numeric string.
func (f fields) integer(keys ...string) (int, bool, error) {
	v, k, ok := f.raw(keys...)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.Atoi(strings.Trim(string(v), `"`))
	if err != nil {
		return 0, true, fault.Invalidf("%s must be a whole number, got %s", k, truncateText(string(v), 40))
	}
	return n, true, nil
}

// int64 reads a whole number that may exceed int32, also as a numeric string.
func (f fields) int64(keys ...string) (int64, bool, error) {
	v, k, ok := f.raw(keys...)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(strings.Trim(string(v), `"`), 10, 64)
	if err != nil {
		return 0, true, fault.Invalidf("%s must be a whole number, got %s", k, truncateText(string(v), 40))
	}
	return n, true, nil
}

// strings reads a list of strings.
func (f fields) strings(keys ...string) ([]string, error) {
	v, k, ok := f.raw(keys...)
	if !ok {
		return nil, nil
	}
	var out []string
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, fault.Invalidf("%s must be a list of strings", k)
	}
	return out, nil
}

// objects reads a list of objects.
func (f fields) objects(keys ...string) ([]fields, string, error) {
	v, k, ok := f.raw(keys...)
	if !ok {
		return nil, "", nil
	}
	var out []fields
	if err := json.Unmarshal(v, &out); err != nil {
		return nil, k, fault.Invalidf("%s must be a list of objects", k)
	}
	for i, o := range out {
		if o == nil {
			return nil, k, fault.Invalidf("%s: entry %d must be an object (entries count from 1)", k, i+1)
		}
	}
	return out, k, nil
}

func truncateText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// queryBool reads an optional boolean query parameter.
func queryBool(r *request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	return parseBool(name, json.RawMessage(v))
}
