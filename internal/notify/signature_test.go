package notify_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"strconv"
	"strings"
	"testing"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
)

// verifySignature is what a receiver does (README-callbacks.md): HMAC-SHA256
// of the raw body keyed with its API key, compared in constant time with
// X-Signature-SHA256 decoded from the organisation's encoding.
func verifySignature(apiKey string, body []byte, header, encoding string) bool {
	mac := hmac.New(sha256.New, []byte(apiKey))
	mac.Write(body)
	var got []byte
	var err error
	if encoding == "hex" {
		got, err = hex.DecodeString(header)
	} else {
		got, err = base64.StdEncoding.DecodeString(header)
	}
	return err == nil && hmac.Equal(mac.Sum(nil), got)
}

// verifyStandard checks Standard Webhooks headers as their libraries do:
// base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<body>", any of
// the space-separated "v1,…" signatures matching.
func verifyStandard(apiKey string, r received) bool {
	mac := hmac.New(sha256.New, []byte(apiKey))
	mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "."))
	mac.Write(r.Body)
	want := mac.Sum(nil)
	for _, sig := range strings.Fields(r.Header.Get("webhook-signature")) {
		v, b64, ok := strings.Cut(sig, ",")
		if !ok || v != "v1" {
			continue
		}
		got, err := base64.StdEncoding.DecodeString(b64)
		if err == nil && hmac.Equal(got, want) {
			return true
		}
	}
	return false
}

func TestSignatureBase64AndHex(t *testing.T) {
	e := newEnv(t, envOptions{})
	rc := newReceiver(t, nil)
	o, key := e.org("Acme", true, rc.URL, orgs.CallbackV3)

	id := e.simple(o.ID, "8999901000000000013")
	e.deliver(o.ID)
	got := rc.all()
	if len(got) != 1 {
		t.Fatalf("receiver got %d requests, want 1", len(got))
	}
	r := got[0]
	if r.eventID() != strconv.FormatInt(id, 10) {
		t.Errorf("X-Esimd-Event-Id = %q, want %d", r.eventID(), id)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type = %q", ct)
	}
	sig := r.Header.Get("X-Signature-SHA256")
	if !verifySignature(key, r.Body, sig, "base64") {
		t.Errorf("base64 signature %q does not verify for body %s", sig, r.Body)
	}
	if verifySignature("esimd_some_other_key_0000000000", r.Body, sig, "base64") {
		t.Errorf("the signature verifies with another key")
	}
	if r.Header.Get("webhook-id") != "" {
		t.Errorf("Standard Webhooks headers sent without opting in")
	}

	hexEnc := notify.Hex
	if _, err := e.svc.Configure(e.ctx, o.ID, notify.Change{SignatureEncoding: &hexEnc}); err != nil {
		t.Fatal(err)
	}
	e.simple(o.ID, "8999901000000000021")
	e.deliver(o.ID)
	r = rc.all()[1]
	sig = r.Header.Get("X-Signature-SHA256")
	if len(sig) != 64 || !verifySignature(key, r.Body, sig, "hex") {
		t.Errorf("hex signature %q does not verify for body %s", sig, r.Body)
	}
	if got := e.log(o.ID, 0)[0].Signature; !strings.Contains(got, "X-Signature-SHA256 (hex)") {
		t.Errorf("log signature note %q", got)
	}

	// V2 bodies are not signed.
	v2 := "V2"
	if _, err := e.svc.Configure(e.ctx, o.ID, notify.Change{Version: &v2}); err != nil {
		t.Fatal(err)
	}
	e.simple(o.ID, "8999901000000000039")
	e.deliver(o.ID)
	if sig := rc.all()[2].Header.Get("X-Signature-SHA256"); sig != "" {
		t.Errorf("V2 callback carries a signature %q", sig)
	}
}

func TestStandardWebhooksHeaders(t *testing.T) {
	e := newEnv(t, envOptions{})
	rc := newReceiver(t, nil)
	o, key := e.org("Acme", true, rc.URL, orgs.CallbackV3)
	on := true
	if _, err := e.svc.Configure(e.ctx, o.ID, notify.Change{StandardWebhooks: &on}); err != nil {
		t.Fatal(err)
	}
	id := e.simple(o.ID, "8999901000000000013")
	e.deliver(o.ID)
	r := rc.all()[0]
	if got := r.Header.Get("webhook-id"); got != "evt_"+strconv.FormatInt(id, 10) {
		t.Errorf("webhook-id = %q", got)
	}
	if got := r.Header.Get("webhook-timestamp"); got != strconv.FormatInt(t0.Unix(), 10) {
		t.Errorf("webhook-timestamp = %q, want %d", got, t0.Unix())
	}
	if !verifyStandard(key, r) {
		t.Errorf("webhook-signature %q does not verify", r.Header.Get("webhook-signature"))
	}
	if !verifySignature(key, r.Body, r.Header.Get("X-Signature-SHA256"), "base64") {
		t.Errorf("X-Signature-SHA256 missing or wrong beside Standard Webhooks")
	}
}

func TestSigningKeyLifecycle(t *testing.T) {
	e := newEnv(t, envOptions{})
	rc := newReceiver(t, nil)
	// A key issued without a sealed copy (before signing existed).
	o, key, err := e.orgs.Create(e.ctx, orgs.NewOrganisation{Name: "Old", Currency: "USD", Sandbox: true, CallbackURL: rc.URL})
	if err != nil {
		t.Fatal(err)
	}
	e.simple(o.ID, "8999901000000000013")
	e.deliver(o.ID)
	if sig := rc.all()[0].Header.Get("X-Signature-SHA256"); sig != "" {
		t.Errorf("signed without a sealed key: %q", sig)
	}
	if note := e.log(o.ID, 0)[0].Signature; !strings.Contains(note, "unsigned: no unrevoked API key") {
		t.Errorf("log does not say why the callback is unsigned: %q", note)
	}
	ep, err := e.svc.Endpoint(e.ctx, o.ID)
	if err != nil || ep.SigningKey != nil {
		t.Fatalf("endpoint signing key %+v, %v; want none", ep.SigningKey, err)
	}

	// Keys that are not the organisation's active keys cannot be sealed.
	wantKind(t, e.svc.SealSigningKey(e.ctx, o.ID, "esimd_not_a_key_of_this_org_000"), fault.NotFound)
	if err := e.svc.SealSigningKey(e.ctx, o.ID, key); err != nil {
		t.Fatal(err)
	}
	e.simple(o.ID, "8999901000000000021")
	e.deliver(o.ID)
	if r := rc.all()[1]; !verifySignature(key, r.Body, r.Header.Get("X-Signature-SHA256"), "base64") {
		t.Errorf("not signed with the sealed key")
	}

	// A newer key signs; once it is revoked the older one signs again.
	k2, key2, err := e.orgs.CreateAPIKey(e.ctx, o.ID, "rotated")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SealSigningKey(e.ctx, o.ID, key2); err != nil {
		t.Fatal(err)
	}
	e.simple(o.ID, "8999901000000000039")
	e.deliver(o.ID)
	if r := rc.all()[2]; !verifySignature(key2, r.Body, r.Header.Get("X-Signature-SHA256"), "base64") {
		t.Errorf("not signed with the newest key")
	}
	if err := e.orgs.RevokeAPIKey(e.ctx, o.ID, k2.ID); err != nil {
		t.Fatal(err)
	}
	e.simple(o.ID, "8999901000000000047")
	e.deliver(o.ID)
	if r := rc.all()[3]; !verifySignature(key, r.Body, r.Header.Get("X-Signature-SHA256"), "base64") {
		t.Errorf("after revoking the newest key, not signed with the older one")
	}

	// Another server secret cannot open the sealed copies: unsigned, and the log says why.
	cfg := e.cfg
	cfg.SecretKey = []byte("another secret of thirty-two b!!")
	other := notify.New(cfg)
	e.simple(o.ID, "8999901000000000054")
	if err := other.DeliverDue(e.ctx, o.ID); err != nil {
		t.Fatal(err)
	}
	if sig := rc.all()[4].Header.Get("X-Signature-SHA256"); sig != "" {
		t.Errorf("signed with a key sealed under another secret")
	}
	if note := e.log(o.ID, 0)[0].Signature; !strings.Contains(note, "does not open") {
		t.Errorf("log note %q", note)
	}
}
