package httpapi

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/ncruces/go-sqlite3"

	"github.com/esimd/esimd/internal/fault"
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

// TestCancelledStatementIsNotAnError: what each driver returns for a
// statement stopped by the client's cancellation is the cancellation: no
// ERROR line and no answer written to the half-closed connection. On a
// live request the same errors are ours and answered as such.
func TestCancelledStatementIsNotAnError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"sqlite interrupted", fmt.Errorf("list eSIMs: %w", sqlite3.INTERRUPT)},
		{"sqlite interrupted, as the store maps it", fmt.Errorf("%w: %w", context.Canceled, sqlite3.INTERRUPT)},
		{"bad connection", driver.ErrBadConn},
		{"bad connection as Unavailable", fault.Wrap(fault.Unavailable, driver.ErrBadConn, "the database is unavailable")},
		{"transaction already rolled back", fmt.Errorf("commit: %w", sql.ErrTxDone)},
		{"pgx conn closed", pgconn.ErrConnClosed},
		{"wrapped context.Canceled", fmt.Errorf("order: %w", fmt.Errorf("begin: %w", context.Canceled))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := New(Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			w := httptest.NewRecorder()
			s.writeError(w, httptest.NewRequest("POST", "/v2.5/orders", nil).WithContext(ctx), tc.err)
			if strings.Contains(logs.String(), "level=ERROR") || w.Body.Len() != 0 || len(w.Header()) != 0 {
				t.Fatalf("a cancelled request was answered as our failure: log %q, header %v, body %q", logs.String(), w.Header(), w.Body.String())
			}
			logs.Reset()
			w = httptest.NewRecorder()
			s.writeError(w, httptest.NewRequest("POST", "/v2.5/orders", nil), tc.err)
			if !strings.Contains(logs.String(), "level=ERROR") || w.Code < 500 {
				t.Fatalf("on a live request: status %d, log %q; want a 5xx logged at ERROR", w.Code, logs.String())
			}
		})
	}
}
