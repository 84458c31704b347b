package adminapi

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

	"github.com/ncruces/go-sqlite3"

	"github.com/esimd/esimd/internal/fault"
)

// TestAdminCancellationIsNotAnError: an admin request whose client went
// away is not logged as our failure and gets nothing written; on a live
// request the same errors are ours.
func TestAdminCancellationIsNotAnError(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"context.Canceled", fmt.Errorf("list deliveries: %w", context.Canceled)},
		{"sqlite interrupted", sqlite3.INTERRUPT},
		{"bad connection", fault.Wrap(fault.Unavailable, driver.ErrBadConn, "the database is unavailable")},
		{"transaction already rolled back", sql.ErrTxDone},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var logs bytes.Buffer
			s := New(Config{Token: "x", Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			w := httptest.NewRecorder()
			s.writeError(w, httptest.NewRequest("GET", "/admin/v1/organisations", nil).WithContext(ctx), tc.err)
			if strings.Contains(logs.String(), "level=ERROR") || w.Body.Len() != 0 {
				t.Fatalf("a cancelled admin request was answered as our failure: log %q, body %q", logs.String(), w.Body.String())
			}
			logs.Reset()
			w = httptest.NewRecorder()
			s.writeError(w, httptest.NewRequest("GET", "/admin/v1/organisations", nil), tc.err)
			if !strings.Contains(logs.String(), "level=ERROR") || w.Code < 500 {
				t.Fatalf("on a live request: status %d, log %q; want a 5xx logged at ERROR", w.Code, logs.String())
			}
		})
	}
}
