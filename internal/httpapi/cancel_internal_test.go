package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestClientCancellationIsNotAnError(t *testing.T) {
	var logs bytes.Buffer
	s := New(Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := httptest.NewRequest("GET", "/v2.5/esims", nil).WithContext(ctx)
	w := httptest.NewRecorder()
	s.writeError(w, r, fmt.Errorf("list eSIMs: %w", context.Canceled))
	if strings.Contains(logs.String(), "level=ERROR") || w.Body.Len() != 0 {
		t.Fatalf("a cancelled request was treated as our failure: log %q, body %q", logs.String(), w.Body.String())
	}
	// The same error on a live request is ours, and is logged as such.
	logs.Reset()
	s.writeError(httptest.NewRecorder(), httptest.NewRequest("GET", "/v2.5/esims", nil), context.Canceled)
	if !strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("a cancellation of ours was not logged as an error: %q", logs.String())
	}
}
