package esimid_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/esimd/esimd/esimid"
	"github.com/google/go-cmp/cmp"
)

// cmpOpts lets go-cmp look inside the identifier types, whose fields are
// unexported by design, so a failing comparison prints a field-level diff.
var cmpOpts = cmp.AllowUnexported(esimid.ICCID{}, esimid.EID{}, esimid.ActivationCode{})

// checkParseError asserts that err is a *esimid.ParseError of the given
// type and rule class, naming the input, whose message contains reason.
func checkParseError(t *testing.T, err error, typ, input string, class error, reason string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got nil error, want %s error for %q", typ, input)
	}
	var pe *esimid.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *esimid.ParseError", err, err)
	}
	if pe.Type != typ || pe.Input != input {
		t.Errorf("ParseError{Type: %q, Input: %q}, want {%q, %q}", pe.Type, pe.Input, typ, input)
	}
	if !errors.Is(err, class) {
		t.Errorf("error %q: errors.Is(err, %v) = false", err, class)
	}
	if !strings.Contains(err.Error(), reason) {
		t.Errorf("error %q does not mention %q", err, reason)
	}
	if !strings.HasPrefix(err.Error(), "esimid: "+typ+" ") {
		t.Errorf("error %q does not start with %q", err, "esimid: "+typ+" ")
	}
}

func asParseError(err error, pe **esimid.ParseError) bool { return errors.As(err, pe) }
