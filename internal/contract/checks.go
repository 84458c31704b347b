package contract

import (
	"archive/zip"
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"mime"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
)

// errorStatuses are the error statuses the eSIM Go API uses (notes §1.4);
// 401 is not among them (notes §0.3.4, §0.4.3) and neither is 404 (unknown
// routes get 403).
var errorStatuses = []int{
	http.StatusBadRequest,
	http.StatusForbidden,
	http.StatusConflict, // esimd's Idempotency-Key extension: a key reused with another body
	http.StatusGone,
	http.StatusTooManyRequests,
	http.StatusInternalServerError,
	http.StatusServiceUnavailable,
}

// rateLimitMessage is the literal 429 body message (notes §1.4, §6.1).
const rateLimitMessage = "Rate limit exceeded"

// checkErrorResponse checks a 4xx or 5xx response against the notes: one of
// errorStatuses, Content-Type application/json, a body that is exactly
// {"message": "<non-empty string>"}, and Retry-After on 429 and 503.
func checkErrorResponse(e *Error, status int, header http.Header, body []byte) {
	if !slices.Contains(errorStatuses, status) {
		e.add("", fmt.Sprintf("status %d is not one the API uses: errors are 400, 403, 410, 429, 500 or 503 (notes §1.4, §0.4.3), or 409 for esimd's Idempotency-Key extension", status))
	}
	if mt := mediaTypeOf(header.Get("Content-Type")); mt != "application/json" {
		e.add("", fmt.Sprintf("error responses are application/json (notes §1.4, §0.4.3), got Content-Type %q", header.Get("Content-Type")))
	}
	if status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable {
		if header.Get("Retry-After") == "" {
			e.add("", fmt.Sprintf("a %d response carries a Retry-After header in seconds (notes §1.4)", status))
		}
	}

	var obj map[string]any
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	if err := dec.Decode(&obj); err != nil || obj == nil || dec.More() {
		e.add("", `error body must be the JSON object {"message": "…"} (notes §1.4)`)
		return
	}
	raw, present := obj["message"]
	msg, ok := raw.(string)
	switch {
	case !present:
		e.add("", `error body needs a "message" string (notes §1.4)`)
	case !ok:
		e.add("/message", "error body needs a message string (notes §1.4)"+gotSuffix(obj["message"]))
	case strings.TrimSpace(msg) == "":
		e.add("/message", "message must not be empty")
	case status == http.StatusTooManyRequests && msg != rateLimitMessage:
		e.add("/message", fmt.Sprintf("a 429 message is %q (notes §1.4, §6.1), got %q", rateLimitMessage, msg))
	}
	for _, k := range sortedKeys(obj) {
		if k != "message" {
			e.add("/"+escapePointer(k), `unexpected key: error bodies are exactly {"message": "…"} (notes §1.4)`)
		}
	}
}

// checkRateLimitHeaders checks the rate-limit headers where present (notes
// §1.4, §1.5). Their presence is not required.
func checkRateLimitHeaders(e *Error, status int, header http.Header) {
	for _, name := range []string{"X-Ratelimit-Limit", "X-Ratelimit-Remaining", "X-Ratelimit-Cost", "Retry-After"} {
		if v := header.Get(name); v != "" {
			if n, err := strconv.ParseUint(v, 10, 63); err != nil {
				e.add("", fmt.Sprintf("header %s must be a non-negative integer (notes §1.5), got %q", name, v))
			} else if name == "Retry-After" && n == 0 && status == http.StatusTooManyRequests {
				e.add("", "header Retry-After on a 429 must be at least 1 second")
			}
		}
	}
	if v := header.Get("X-Ratelimit-Reset"); v != "" {
		if _, err := time.Parse(time.RFC3339Nano, v); err != nil {
			e.add("", fmt.Sprintf("header X-Ratelimit-Reset must be an ISO 8601 (RFC 3339) timestamp (notes §1.5), got %q", v))
		}
	}
}

// checkNegotiation checks the response media type against the request's
// Accept header, and against the operation's default media type when the
// request has none (GET /esims/assignments answers CSV, notes §1.3).
func checkNegotiation(e *Error, req *http.Request, op *openapi3.Operation, mediaType string) {
	accept := strings.Join(req.Header.Values("Accept"), ",")
	if strings.TrimSpace(accept) == "" {
		if def := extString(op, extDefaultMediaType); def != "" && mediaType != def {
			e.add("", fmt.Sprintf("without an Accept header this operation answers %s (notes §1.3), got Content-Type %q", def, mediaType))
		}
		return
	}
	for _, r := range strings.Split(accept, ",") {
		r = mediaTypeOf(r)
		typ, _, _ := strings.Cut(mediaType, "/")
		if r == "*/*" || r == mediaType || r == typ+"/*" {
			return
		}
	}
	e.add("", fmt.Sprintf("Content-Type %q does not match the request's Accept %q (notes §1.3)", mediaType, accept))
}

// csvHeader is the start of the install-details CSV header row (notes §2.2
// GET /esims/assignments, from the document's GET /esims/csv/{reference}).
var csvHeader = []string{"ICCID", "Matching ID", "RSP URL", "Bundle"}

var iccidRE = regexp.MustCompile(iccidPattern)

// checkCSV checks an install-details CSV body: it parses, its header row
// starts with csvHeader, and every row starts with an ICCID.
func checkCSV(e *Error, body []byte) {
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		e.add("", fmt.Sprintf("CSV body does not parse: %v", err))
		return
	}
	if len(records) == 0 {
		e.add("", "CSV body has no header row")
		return
	}
	if len(records[0]) < len(csvHeader) || !slices.Equal(records[0][:len(csvHeader)], csvHeader) {
		e.add("", fmt.Sprintf("CSV header row must start with %q (notes §2.2), got %q", csvHeader, records[0]))
		return
	}
	for i, rec := range records[1:] {
		if !iccidRE.MatchString(rec[0]) {
			e.add("", fmt.Sprintf("CSV row %d: ICCID %q is not 18–22 digits (notes §0.4.10)", i+2, rec[0]))
		}
	}
}

// checkZIP checks that a ZIP body opens as an archive.
func checkZIP(e *Error, body []byte) {
	if _, err := zip.NewReader(bytes.NewReader(body), int64(len(body))); err != nil {
		e.add("", fmt.Sprintf("ZIP body does not open: %v", err))
	}
}

// mediaTypeOf returns the lower-case media type of a Content-Type or Accept
// element, without parameters.
func mediaTypeOf(v string) string {
	if mt, _, err := mime.ParseMediaType(v); err == nil {
		return mt
	}
	mt, _, _ := strings.Cut(v, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
