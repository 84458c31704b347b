package esimapi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Signature errors, wrapped by VerifySignature.
var (
	// ErrNoSignature: the request has neither X-Signature-SHA256 nor
	// webhook-signature (a V2 callback, or not from the API).
	ErrNoSignature = errors.New("no callback signature header")
	// ErrBadSignature: a signature is present but does not match the body.
	ErrBadSignature = errors.New("callback signature does not match")
	// ErrStaleTimestamp: a Standard Webhooks timestamp is outside the
	// tolerance window (a replay, or a badly wrong clock).
	ErrStaleTimestamp = errors.New("webhook-timestamp outside the tolerance window")
)

// DefaultTolerance is how far a Standard Webhooks timestamp may be from now.
const DefaultTolerance = 5 * time.Minute

// VerifySignature checks that a callback body was signed with the
// organisation's API key, with DefaultTolerance and the wall clock. It
// accepts:
//
//   - Standard Webhooks headers (esimd's extension): webhook-id,
//     webhook-timestamp (Unix seconds) and webhook-signature, a
//     space-separated list of "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>";
//     any one matching is enough. A key of the form "whsec_<base64>" is
//     decoded first, as Standard Webhooks libraries do.
//   - eSIM Go's V3 X-Signature-SHA256: HMAC-SHA256(key, body), base64 (as
//     the vendor's OpenAPI sample and esimd send it) or hex (as the
//     vendor's webhooks guide computes it).
//
// When webhook-signature is present it must verify; X-Signature-SHA256 is
// then not consulted. body must be the raw bytes received.
func VerifySignature(body []byte, header http.Header, apiKey string) error {
	return Verifier{Key: apiKey}.Verify(body, header)
}

// Verifier checks callback signatures with a chosen tolerance and clock.
type Verifier struct {
	// Key is the organisation's API key.
	Key string
	// Tolerance bounds the age (and future skew) of a Standard Webhooks
	// timestamp; 0 means DefaultTolerance.
	Tolerance time.Duration
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Verify is [VerifySignature] with v's settings.
func (v Verifier) Verify(body []byte, header http.Header) error {
	if sig := header.Get("Webhook-Signature"); sig != "" {
		return v.verifyStandard(body, header, sig)
	}
	if sig := header.Get("X-Signature-SHA256"); sig != "" {
		return verifyBodySignature(body, sig, []byte(v.Key))
	}
	return fmt.Errorf("esimapi: %w", ErrNoSignature)
}

func (v Verifier) verifyStandard(body []byte, header http.Header, sigs string) error {
	id, ts := header.Get("Webhook-Id"), header.Get("Webhook-Timestamp")
	if id == "" || ts == "" {
		return fmt.Errorf("esimapi: %w: webhook-signature without webhook-id or webhook-timestamp", ErrBadSignature)
	}
	secs, err := strconv.ParseInt(strings.TrimSpace(ts), 10, 64)
	if err != nil {
		return fmt.Errorf("esimapi: %w: webhook-timestamp %q is not Unix seconds", ErrBadSignature, ts)
	}
	now := time.Now
	if v.Now != nil {
		now = v.Now
	}
	tol := v.Tolerance
	if tol <= 0 {
		tol = DefaultTolerance
	}
	if d := now().Sub(time.Unix(secs, 0)); d > tol || d < -tol {
		return fmt.Errorf("esimapi: %w (%s from now)", ErrStaleTimestamp, d.Round(time.Second))
	}
	want := standardMAC(id, strings.TrimSpace(ts), body, standardKey(v.Key))
	for _, s := range strings.Fields(sigs) {
		ver, val, ok := strings.Cut(s, ",")
		if !ok || ver != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(val)
		if err == nil && hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("esimapi: %w", ErrBadSignature)
}

// standardKey is the HMAC key of Standard Webhooks: whsec_-prefixed keys
// are base64; others are used as they are.
func standardKey(key string) []byte {
	if rest, ok := strings.CutPrefix(key, "whsec_"); ok {
		if b, err := base64.StdEncoding.DecodeString(rest); err == nil {
			return b
		}
	}
	return []byte(key)
}

func standardMAC(id, ts string, body, key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return m.Sum(nil)
}

func bodyMAC(body, key []byte) []byte {
	m := hmac.New(sha256.New, key)
	m.Write(body)
	return m.Sum(nil)
}

func verifyBodySignature(body []byte, sig string, key []byte) error {
	sig = strings.TrimSpace(sig)
	sig = strings.TrimPrefix(sig, "sha256=")
	want := bodyMAC(body, key)
	for _, got := range decodeMACs(sig) {
		if hmac.Equal(got, want) {
			return nil
		}
	}
	return fmt.Errorf("esimapi: %w", ErrBadSignature)
}

// decodeMACs returns the readings of a signature: hex, and base64 in its
// standard and URL alphabets, padded or not.
func decodeMACs(sig string) [][]byte {
	var out [][]byte
	if len(sig) == 2*sha256.Size {
		if b, err := hex.DecodeString(sig); err == nil {
			out = append(out, b)
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(sig); err == nil && len(b) == sha256.Size {
			out = append(out, b)
		}
	}
	return out
}

// SignBody returns the X-Signature-SHA256 value of body: base64
// HMAC-SHA256 with the API key, as esimd sends it. Useful to test a
// callback receiver.
func SignBody(body []byte, apiKey string) string {
	return base64.StdEncoding.EncodeToString(bodyMAC(body, []byte(apiKey)))
}

// SignStandardWebhook returns the Standard Webhooks headers of a delivery
// (webhook-id, webhook-timestamp, webhook-signature). Useful to test a
// callback receiver.
func SignStandardWebhook(id string, at time.Time, body []byte, key string) http.Header {
	ts := strconv.FormatInt(at.Unix(), 10)
	h := http.Header{}
	h.Set("Webhook-Id", id)
	h.Set("Webhook-Timestamp", ts)
	h.Set("Webhook-Signature", "v1,"+base64.StdEncoding.EncodeToString(standardMAC(id, ts, body, standardKey(key))))
	return h
}

// CallbackHandler returns an http.Handler for the organisation's callback
// URL: it reads the body (at most 1 MiB), verifies its signature with
// apiKey (an empty apiKey accepts unsigned V2 callbacks; do that only
// behind another safeguard), parses it and calls fn. It answers 200 when
// fn returns nil, 401 for a bad signature, 400 for a body that is not a
// notification, and 500 when fn fails, so that the sender retries.
func CallbackHandler(apiKey string, fn func(ctx context.Context, n Notification) error) http.Handler {
	return Verifier{Key: apiKey}.Handler(fn)
}

// Handler is [CallbackHandler] with v's key, tolerance and clock.
func (v Verifier) Handler(fn func(ctx context.Context, n Notification) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "callbacks are POSTed", http.StatusMethodNotAllowed)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, "the body could not be read", http.StatusBadRequest)
			return
		}
		if v.Key != "" {
			if err := v.Verify(body, r.Header); err != nil {
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
		}
		n, err := ParseNotification(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if err := fn(r.Context(), n); err != nil {
			http.Error(w, "the receiver failed; retry later", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
