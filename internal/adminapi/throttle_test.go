package adminapi_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/adminapi"
	"github.com/esimd/esimd/internal/app/apptest"
)

func TestValidateToken(t *testing.T) {
	for _, tc := range []struct {
		token string
		want  string // "" for accepted
	}{
		{"", ""},
		{"a", "at least 32"},
		{strings.Repeat("x", 31), "is 31 characters; it must be at least 32"},
		{strings.Repeat("x", 32), ""},
		{"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", ""},
		{" " + strings.Repeat("x", 32), "spaces"},
	} {
		err := adminapi.ValidateToken(tc.token)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("ValidateToken(%q) = %v, want %q", tc.token, err, tc.want)
		}
		if err != nil && len(tc.token) > 8 && strings.Contains(err.Error(), tc.token) {
			t.Errorf("ValidateToken(%q) repeats the token: %v", tc.token, err)
		}
	}
}

// TestFailedAdminAuthenticationsAreThrottled: after 10 failures an
// address is refused (429 with Retry-After) before its token is checked,
// even the right one, and earns one attempt every 6 s; other addresses
// are not affected; refused attempts are logged at Warn with their
// source and without the token.
func TestFailedAdminAuthenticationsAreThrottled(t *testing.T) {
	const good = "0123456789abcdef0123456789abcdef-admin"
	var (
		mu   sync.Mutex
		now  = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
		logs bytes.Buffer
	)
	clock := apptest.NewClock(now)
	h := apptest.New(t, apptest.Options{AdminToken: good, Clock: clock,
		Logger: slog.New(slog.NewTextHandler(&syncWriter{w: &logs, mu: &mu}, nil))}).App.Handler()
	advance := func(d time.Duration) { clock.Advance(d) }
	try := func(from, token string) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest("GET", "/admin/v1/nothing", nil)
		r.RemoteAddr = from + ":40000"
		r.Header.Set("Authorization", "Bearer "+token)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		var m struct{ Message string }
		if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil || m.Message == "" {
			t.Fatalf("answer %d %s has no message", w.Code, w.Body)
		}
		return w
	}
	const attacker, operator = "198.51.100.7", "192.0.2.10"
	for i := range 10 {
		if w := try(attacker, "guess-"+strings.Repeat("g", i)); w.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d %s, want 401", i+1, w.Code, w.Body)
		}
	}
	for _, tok := range []string{"guess-again", good} {
		w := try(attacker, tok)
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "6" || !strings.Contains(w.Body.String(), "too many failed admin authentications") {
			t.Fatalf("after 10 failures, token %q: %d Retry-After %q %s; want 429 with Retry-After: 6", tok, w.Code, w.Header().Get("Retry-After"), w.Body)
		}
	}
	if w := try(operator, good); w.Code != http.StatusNotFound {
		t.Fatalf("another address with the right token: %d %s, want through (404 for the unknown route)", w.Code, w.Body)
	}
	advance(6 * time.Second)
	if w := try(attacker, good); w.Code != http.StatusNotFound {
		t.Fatalf("6 s later with the right token: %d %s, want through", w.Code, w.Body)
	}
	if w := try(attacker, "guess-once-more"); w.Code != http.StatusUnauthorized {
		t.Fatalf("the earned attempt: %d, want 401", w.Code)
	}
	if w := try(attacker, "guess-too-soon"); w.Code != http.StatusTooManyRequests {
		t.Fatalf("a second attempt within 6 s: %d, want 429", w.Code)
	}
	out := logs.String()
	refused := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.Contains(line, "level=WARN") && (strings.Contains(line, "status=401") || strings.Contains(line, "status=429")) {
			refused++
		}
	}
	if refused != 14 || !strings.Contains(out, "remote="+attacker) {
		t.Errorf("%d refused attempts at Warn (want 14, one each, with the source):\n%s", refused, out)
	}
	for _, secret := range []string{good, "guess-"} {
		if strings.Contains(out, secret) {
			t.Errorf("the log holds a token (%q):\n%s", secret, out)
		}
	}
}

// syncWriter serialises writes to w, which the handler's goroutines share.
type syncWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
