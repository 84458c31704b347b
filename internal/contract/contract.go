package contract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// EnvSpecDir names the environment variable that points at the spec
// directory (the folder holding esimgo-v2.4.lenient.yaml and
// esimgo-v2.5.lenient.yaml).
const EnvSpecDir = "ESIMD_SPEC_DIR"

// The lenient copies of the vendor documents, inside the spec directory.
const (
	fileV24 = "esimgo-v2.4.lenient.yaml"
	fileV25 = "esimgo-v2.5.lenient.yaml"
)

// prefixes maps each URL version prefix we serve to the document it is
// checked against.
var prefixes = map[string]profile{
	"v2":   legacy,
	"v2.1": legacy,
	"v2.2": legacy,
	"v2.3": v24,
	"v2.4": v24,
	"v2.5": v25,
}

// Locate finds the spec directory: $ESIMD_SPEC_DIR if set (returned as is,
// so that a wrong setting fails loudly in Load), otherwise the first
// shared/spec directory holding the lenient documents found beside the
// working directory or one of its parents (the repository sits at
// /work/main with /work/shared beside it; CI clones it elsewhere with a copy
// of shared/ beside it). It returns "" if there is none.
func Locate() string {
	if dir := os.Getenv(EnvSpecDir); dir != "" {
		return dir
	}
	wd, err := os.Getwd()
	if err != nil {
		return ""
	}
	for dir := wd; ; {
		candidate := filepath.Join(dir, "shared", "spec")
		if _, err := os.Stat(filepath.Join(candidate, fileV25)); err == nil {
			return candidate
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// Validator checks responses against the vendor documents as corrected by
// the overrides listed in the package documentation. It is safe for
// concurrent use.
type Validator struct {
	docs map[profile]*document
}

// document is one loaded, overridden document and its routes.
type document struct {
	profile  profile
	doc      *openapi3.T
	routes   []route
	fallback *document // consulted for paths this document lacks (v2.5 for the v2.4-based ones)
}

var registerDecoders sync.Once

// Load loads both lenient documents from dir, applies the overrides to them
// in memory and builds the routes. The v2.4 document is loaded twice: once
// for /v2.3 and /v2.4, once with the v2.0–v2.2 shapes for /v2, /v2.1 and
// /v2.2.
func Load(dir string) (*Validator, error) {
	registerDecoders.Do(func() {
		// CSV, ZIP and PNG bodies are checked as strings (their content is checked
		// separately); kin-openapi's own CSV decoder rewrites the text.
		raw := func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
			data, err := io.ReadAll(body)
			return string(data), err
		}
		openapi3filter.RegisterBodyDecoder("text/csv", raw)
		openapi3filter.RegisterBodyDecoder("application/zip", raw)
		openapi3filter.RegisterBodyDecoder("image/png", raw)
	})

	// The three documents load in parallel: YAML parsing dominates.
	profiles := []profile{v25, v24, legacy}
	docs := make([]*document, len(profiles))
	errs := make([]error, len(profiles))
	var wg sync.WaitGroup
	for i, p := range profiles {
		file := fileV24
		if p == v25 {
			file = fileV25
		}
		wg.Go(func() { docs[i], errs[i] = loadDocument(filepath.Join(dir, file), p) })
	}
	wg.Wait()
	for _, err := range errs { // the first failure; the v2.4 one repeats
		if err != nil {
			return nil, err
		}
	}
	v := &Validator{docs: map[profile]*document{}}
	for i, p := range profiles {
		if p != v25 {
			docs[i].fallback = docs[0] // profiles[0] is v25
		}
		v.docs[p] = docs[i]
	}
	return v, nil
}

func loadDocument(path string, p profile) (*document, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("contract: %w (set %s to the directory holding %s and %s)", err, EnvSpecDir, fileV24, fileV25)
	}
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("contract: load %s: %w", path, err)
	}
	// We route on the path after our version prefix ourselves, so the
	// document's absolute server (https://api.esim-go.com/v2.x) plays no part.
	doc.Servers = openapi3.Servers{{URL: "/"}}
	if err := applyOverrides(doc, p); err != nil {
		return nil, fmt.Errorf("contract: %s: %w", path, err)
	}
	if err := doc.Validate(context.Background(), openapi3.DisableExamplesValidation()); err != nil {
		return nil, fmt.Errorf("contract: %s is invalid after the overrides: %w", path, err)
	}
	return &document{profile: p, doc: doc, routes: buildRoutes(doc)}, nil
}

var (
	forTestOnce sync.Once
	forTestV    *Validator
	forTestErr  error
	forTestDir  string
)

// ForTest returns a Validator loaded once per test binary, for a test
// whose point is the comparison with the vendor's documents. When the spec
// directory cannot be found it skips the test with a message naming
// ESIMD_SPEC_DIR, unless the environment variable CI is true, in which case
// it fails: CI must always have the spec. A spec directory that is found but
// does not load always fails the test.
func ForTest(t testing.TB) *Validator {
	t.Helper()
	v, missing := load(t)
	if missing != "" {
		t.Skip(missing)
	}
	return v
}

// IfPresent is ForTest for tests of behaviour that also check what they see
// against the vendor's documents when they can: without the spec directory
// it returns nil (check nothing, run the test), so that a clone without
// ../shared still runs every behaviour test. Under CI=true the spec must be
// there, as with ForTest. A package that uses it should also have one test
// that calls ForTest, so that a run without the documents says so once.
func IfPresent(t testing.TB) *Validator {
	t.Helper()
	v, _ := load(t)
	return v
}

// load loads the documents once per test binary. missing is the message
// saying they were not found (nil Validator); a load error, or missing
// documents under CI, fails t.
func load(t testing.TB) (v *Validator, missing string) {
	t.Helper()
	forTestOnce.Do(func() {
		forTestDir = Locate()
		if forTestDir != "" {
			forTestV, forTestErr = Load(forTestDir)
		}
	})
	if forTestDir == "" {
		msg := fmt.Sprintf("contract: vendor OpenAPI documents not found, so responses are not compared with them: set %s to the directory holding %s and %s (normally shared/spec beside the repository)", EnvSpecDir, fileV24, fileV25)
		if ci, _ := strconv.ParseBool(os.Getenv("CI")); ci {
			t.Fatal(msg + "; CI must have them")
		}
		return nil, msg
	}
	if forTestErr != nil {
		t.Fatal(forTestErr)
	}
	return forTestV, ""
}

// Validate checks one exchange: the request as we received it (its method,
// path with our version prefix, and Accept header), the status, response
// headers and body we sent. It returns nil if the response is valid, or an
// *Error listing every problem with its JSON pointer.
//
// Success responses are checked against the operation's declared response
// (statuses, media types and schemas, after the overrides). Error responses
// (4xx and 5xx) are checked against the notes instead of the documents: see
// the package documentation. Requests themselves are not validated.
func (v *Validator) Validate(req *http.Request, status int, header http.Header, body []byte) error {
	if header == nil {
		header = http.Header{}
	}
	e := &Error{Method: req.Method, Path: req.URL.EscapedPath(), Status: status}
	if q := req.URL.RawQuery; q != "" {
		e.Path += "?" + q
	}

	checkRateLimitHeaders(e, status, header)

	m := v.match(req)
	if m != nil {
		e.Operation = m.String()
	}
	switch {
	case status >= 400:
		if m == nil && status != http.StatusForbidden && status != http.StatusTooManyRequests {
			e.add("", fmt.Sprintf("no operation for %s %s: the API answers unknown routes with 403 (notes §1.4, §10.2), not %d", req.Method, req.URL.Path, status))
		}
		checkErrorResponse(e, status, header, body)
	case m == nil:
		e.add("", fmt.Sprintf("no operation for %s %s", req.Method, req.URL.Path))
	default:
		v.checkSuccess(e, req, m, status, header, body)
	}
	return e.orNil()
}

// checkSuccess validates a non-error response against the matched operation.
func (v *Validator) checkSuccess(e *Error, req *http.Request, m *routeMatch, status int, header http.Header, body []byte) {
	if status < 200 || status > 299 {
		e.add("", fmt.Sprintf("status %d is neither a success nor an error status", status))
		return
	}
	ct := header.Get("Content-Type")
	mediaType := mediaTypeOf(ct)
	checkNegotiation(e, req, m.op, mediaType)

	if mediaType == "application/json" && !json.Valid(body) {
		e.add("", "body is not valid JSON (or has data after the JSON value)")
		return
	}
	switch mediaType {
	case "text/csv":
		checkCSV(e, body)
	case "application/zip":
		checkZIP(e, body)
	}

	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request:    req,
			PathParams: m.params,
			Route: &routers.Route{
				Spec:      m.doc.doc,
				Path:      m.route.template,
				PathItem:  m.route.item,
				Method:    req.Method,
				Operation: m.op,
			},
		},
		Status:  status,
		Header:  header,
		Options: validationOptions,
	}
	input.SetBodyBytes(body)
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		addValidationError(e, err)
	}
}

// validationOptions are the kin-openapi options for every response check.
var validationOptions = &openapi3filter.Options{
	MultiError:            true,
	IncludeResponseStatus: true,
	AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
	SchemaValidationOptions: []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidators(stringFormats),
	},
}

// stringFormats replace kin-openapi's format checks for this validation
// only (see "Formats" in the package documentation).
var stringFormats = map[string]openapi3.StringFormatValidator{
	"date-time": openapi3.NewCallbackValidator(func(s string) error {
		if !dateTimeUTC.MatchString(s) {
			return errors.New("not an RFC 3339 UTC timestamp ending in Z (notes §1.6)")
		}
		if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
			return err
		}
		return nil
	}),
	"date": openapi3.NewCallbackValidator(func(s string) error {
		_, err := time.Parse(time.DateOnly, s)
		return err
	}),
	"uuid": openapi3.NewRegexpFormatValidator(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`),
	"uri": openapi3.NewCallbackValidator(func(s string) error {
		u, err := url.Parse(s)
		if err != nil {
			return err
		}
		if u.Scheme == "" || u.Host == "" {
			return errors.New("not an absolute URI")
		}
		return nil
	}),
}

var dateTimeUTC = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$`)

// usageCallbackPath is the operation by which the v2.5 document describes
// the usage callback eSIM Go POSTs to the organisation's URL: its request
// body is the BundleAlert schema.
const usageCallbackPath = "/your-usage-callback-url/"

// ValidateCallback checks a callback body esimd sends against the schema
// the v2.5 document gives it. Only the usage callback (Utilisation) has
// one, BundleAlert, which declares no additionalProperties: false, so
// esimd's extension fields pass as receivers generated from it accept
// them. Bodies of other kinds pass unchecked.
func (v *Validator) ValidateCallback(kind string, body []byte) error {
	if kind != "Utilisation" {
		return nil
	}
	d := v.docs[v25].doc
	item := d.Paths.Find(usageCallbackPath)
	if item == nil || item.Post == nil || item.Post.RequestBody == nil || item.Post.RequestBody.Value == nil {
		return fmt.Errorf("contract: the v2.5 document no longer describes POST %s; revisit ValidateCallback", usageCallbackPath)
	}
	mt := item.Post.RequestBody.Value.Content.Get("application/json")
	if mt == nil || mt.Schema == nil {
		return fmt.Errorf("contract: POST %s has no JSON body schema", usageCallbackPath)
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return fmt.Errorf("contract: %s callback body is not JSON: %w", kind, err)
	}
	if err := mt.Schema.Value.VisitJSON(value, openapi3.MultiErrors()); err != nil {
		e := &Error{Method: http.MethodPost, Path: "<callback URL>", Operation: "the usage callback's BundleAlert, v2.5 document"}
		addValidationError(e, err)
		return e.orNil()
	}
	return nil
}
