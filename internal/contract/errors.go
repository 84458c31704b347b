package contract

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
)

// maxProblems caps the problems an Error lists.
const maxProblems = 50

// Error is what Validate returns for an invalid response: every problem
// found, each with the JSON pointer of the offending value in the body.
type Error struct {
	Method    string // request method
	Path      string // request path and query, as we serve it
	Status    int    // response status
	Operation string // the operation and document matched, "" if none
	Problems  []Problem
	dropped   int // problems beyond maxProblems
}

// Problem is one way in which a response breaks the contract.
type Problem struct {
	// Pointer is the RFC 6901 JSON pointer of the value in the response
	// body ("/bundles/0/price"); "" for the body as a whole, the status or a
	// header.
	Pointer string
	Message string
}

func (p Problem) String() string {
	if p.Pointer == "" {
		return p.Message
	}
	return p.Pointer + ": " + p.Message
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "contract: %s %s answered %d", e.Method, e.Path, e.Status)
	if e.Operation != "" {
		fmt.Fprintf(&b, " (%s)", e.Operation)
	}
	n := len(e.Problems) + e.dropped
	if n == 1 {
		b.WriteString(": 1 problem")
	} else {
		fmt.Fprintf(&b, ": %d problems", n)
	}
	for _, p := range e.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.String())
	}
	if e.dropped > 0 {
		fmt.Fprintf(&b, "\n  … and %d more", e.dropped)
	}
	return b.String()
}

func (e *Error) add(pointer, msg string) {
	for _, p := range e.Problems {
		if p.Pointer == pointer && p.Message == msg {
			return
		}
	}
	if len(e.Problems) >= maxProblems {
		e.dropped++
		return
	}
	e.Problems = append(e.Problems, Problem{Pointer: pointer, Message: msg})
}

func (e *Error) orNil() error {
	if len(e.Problems) == 0 {
		return nil
	}
	return e
}

// addValidationError adds the problems in a kin-openapi response
// validation error.
func addValidationError(e *Error, err error) {
	flatten(e, "", "", err)
}

func flatten(e *Error, base, prefix string, err error) {
	var me openapi3.MultiError
	var se *openapi3.SchemaError
	var re *openapi3filter.ResponseError
	switch {
	case errors.As(err, &re) && re.Err == nil:
		e.add(base, prefix+re.Reason)
	case errors.As(err, &re) && !isSchemaError(re.Err):
		e.add(base, prefix+re.Reason+": "+re.Err.Error())
	case errors.As(err, &re):
		flatten(e, base, prefix, re.Err)
	case errors.As(err, &me) && isMulti(err):
		for _, x := range me {
			flatten(e, base, prefix, x)
		}
	case errors.As(err, &se):
		ptr := base + pointer(se.JSONPointer())
		if alts := alternatives(se); alts != nil {
			e.add(ptr, fmt.Sprintf("%smatches none of the %d accepted forms (%s)", prefix, len(alts), se.SchemaField))
			for i, alt := range alts {
				if aerr := alt.Value.VisitJSON(se.Value, visitOptions...); aerr != nil {
					flatten(e, ptr, fmt.Sprintf("%sform %d: ", prefix, i+1), aerr)
				}
			}
			return
		}
		msg := se.Reason
		if msg == "" && se.Origin != nil {
			msg = se.Origin.Error()
		}
		if msg == "" {
			msg = "does not match schema keyword " + se.SchemaField
		}
		if se.SchemaField != "required" {
			msg += gotSuffix(se.Value)
		}
		e.add(ptr, prefix+msg)
	default:
		e.add(base, prefix+err.Error())
	}
}

// visitOptions are the schema options used to re-check anyOf/oneOf
// alternatives, matching validationOptions.
var visitOptions = []openapi3.SchemaValidationOption{
	openapi3.MultiErrors(),
	openapi3.VisitAsResponse(),
	openapi3.WithStringFormatValidators(stringFormats),
}

func isMulti(err error) bool {
	_, ok := err.(openapi3.MultiError)
	return ok
}

func isSchemaError(err error) bool {
	var me openapi3.MultiError
	var se *openapi3.SchemaError
	return errors.As(err, &se) || (errors.As(err, &me) && isMulti(err))
}

// alternatives returns the subschemas of an anyOf/oneOf failure, so that
// each can be reported; kin-openapi reports only that none matched.
func alternatives(se *openapi3.SchemaError) openapi3.SchemaRefs {
	if se.Schema == nil {
		return nil
	}
	switch se.SchemaField {
	case "anyOf":
		return se.Schema.AnyOf
	case "oneOf":
		return se.Schema.OneOf
	}
	return nil
}

func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(escapePointer(t))
	}
	return b.String()
}

func escapePointer(t string) string {
	return strings.NewReplacer("~", "~0", "/", "~1").Replace(t)
}

// gotSuffix renders a scalar value for a message: ` (got 2.28)`.
func gotSuffix(v any) string {
	var s string
	switch x := v.(type) {
	case nil:
		s = "null"
	case string:
		if len(x) > 60 {
			x = x[:57] + "..."
		}
		s = strconv.Quote(x)
	case json.Number:
		s = x.String()
	case bool, float64, int64, int:
		s = fmt.Sprint(x)
	case []any:
		s = "an array"
	case map[string]any:
		s = "an object"
	default:
		return ""
	}
	return " (got " + s + ")"
}
