package httpapi

import (
	"net/http"
	"strconv"
	"time"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
)

type ledgerEntryJSON struct {
	ID           int64        `json:"id"`
	Kind         string       `json:"kind"`
	Amount       money.Amount `json:"amount"`
	BalanceAfter money.Amount `json:"balanceAfter"`
	Reference    string       `json:"reference"`
	Description  string       `json:"description"`
	CreatedAt    time.Time    `json:"createdAt"`
}

// GET /esimd/v1/ledger?after=ID&limit=N: the organisation's balance history,
// every change with the balance after it, oldest first (esimd's extension;
// page on with after = the last id seen).
func (s *Server) ledger(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	limit, set, err := queryInt(q, "limit")
	if err != nil {
		return err
	}
	if !set {
		limit = 100
	}
	var after int64
	if v := q.Get("after"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return fault.Invalidf("after must be a ledger entry id (a whole number), got %q", truncateText(v, 40))
		}
	}
	entries, err := s.cfg.Orgs.Ledger(r.Context(), r.org.ID, after, limit)
	if err != nil {
		return err
	}
	org, err := s.cfg.Orgs.Get(r.Context(), r.org.ID) // the exact balance, not the authentication cache's
	if err != nil {
		return err
	}
	out := struct {
		Currency string            `json:"currency"`
		Balance  money.Amount      `json:"balance"`
		Entries  []ledgerEntryJSON `json:"entries"`
		Next     *int64            `json:"next,omitempty"`
	}{Currency: org.Currency, Balance: org.Balance, Entries: make([]ledgerEntryJSON, 0, len(entries))}
	for _, e := range entries {
		out.Entries = append(out.Entries, ledgerEntryJSON{ID: e.ID, Kind: string(e.Kind), Amount: e.Amount, BalanceAfter: e.BalanceAfter,
			Reference: e.Reference, Description: e.Description, CreatedAt: e.CreatedAt})
	}
	if len(entries) == limit {
		next := entries[len(entries)-1].ID
		out.Next = &next
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
