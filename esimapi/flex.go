package esimapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// flexTime decodes the time forms the API uses: RFC 3339 strings (with or
// without fractions), dates ("2027-03-01"), integer epoch milliseconds
// (firstInstalledDateTime on eSIM details), and "", 0 or null for none.
type flexTime time.Time

func (t *flexTime) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	switch string(b) {
	case "null", `""`, "0":
		*t = flexTime{}
		return nil
	}
	if len(b) > 0 && b[0] != '"' {
		ms, err := strconv.ParseInt(string(b), 10, 64)
		if err != nil {
			return fmt.Errorf("time %s is neither a string nor epoch milliseconds", b)
		}
		*t = flexTime(time.UnixMilli(ms).UTC())
		return nil
	}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := parseTime(s)
	if err != nil {
		return err
	}
	*t = flexTime(v)
	return nil
}

func parseTime(s string) (time.Time, error) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05", time.DateOnly} {
		if v, err := time.Parse(layout, s); err == nil {
			return v, nil
		}
	}
	return time.Time{}, fmt.Errorf("time %q is not RFC 3339", s)
}

// flexString decodes a string or a number into a string (assignment IDs
// are strings in the documents and numbers in some answers).
type flexString string

func (s *flexString) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var v string
		if err := json.Unmarshal(b, &v); err != nil {
			return err
		}
		*s = flexString(v)
		return nil
	}
	var n json.Number
	if err := json.Unmarshal(b, &n); err != nil {
		return fmt.Errorf("%s is neither a string nor a number", b)
	}
	*s = flexString(n.String())
	return nil
}

// flexBool decodes true/false, also as strings.
type flexBool bool

func (v *flexBool) UnmarshalJSON(b []byte) error {
	switch strings.ToLower(strings.Trim(string(bytes.TrimSpace(b)), `"`)) {
	case "true":
		*v = true
	case "false", "", "null":
		*v = false
	default:
		return fmt.Errorf("%s is not a boolean", b)
	}
	return nil
}
