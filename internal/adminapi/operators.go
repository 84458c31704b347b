package adminapi

import (
	"net/http"
	"time"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

type organisationJSON struct {
	ID               orgs.ID      `json:"id"`
	Name             string       `json:"name"`
	Currency         string       `json:"currency"`
	Sandbox          bool         `json:"sandbox"`
	Balance          money.Amount `json:"balance"`
	RefundsEnabled   bool         `json:"refundsEnabled"`
	RefundWindowDays int          `json:"refundWindowDays"`
	IPAllowList      []string     `json:"ipAllowList"`
	CreatedAt        time.Time    `json:"createdAt"`
	APIKey           string       `json:"apiKey,omitempty"` // only in the answer to a create
}

func toOrganisationJSON(o orgs.Organisation) organisationJSON {
	allow := make([]string, len(o.IPAllowList))
	for i, p := range o.IPAllowList {
		allow[i] = p.String()
	}
	return organisationJSON{ID: o.ID, Name: o.Name, Currency: o.Currency, Sandbox: o.Sandbox, Balance: o.Balance,
		RefundsEnabled: o.RefundsEnabled, RefundWindowDays: o.RefundWindowDays, IPAllowList: allow, CreatedAt: o.CreatedAt}
}

// POST /admin/v1/organisations {"name", "sandbox", "balance", "currency",
// "refundsEnabled"}: a new organisation and its first API key (shown once).
// Test suites create a throwaway sandbox organisation per test this way, so
// that parallel tests never share state.
func (s *Server) createOrganisation(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Orgs == nil || s.cfg.Accounts == nil {
		return fault.Forbiddenf("organisation management is not enabled on this server")
	}
	in := struct {
		Name           string       `json:"name"`
		Sandbox        *bool        `json:"sandbox"`
		Balance        money.Amount `json:"balance"`
		Currency       string       `json:"currency"`
		RefundsEnabled *bool        `json:"refundsEnabled"`
	}{}
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	// Left out, both take the defaults every way of making an
	// organisation shares (orgs.DefaultSandbox).
	sandbox := orgs.DefaultSandbox
	if in.Sandbox != nil {
		sandbox = *in.Sandbox
	}
	refunds := orgs.DefaultRefunds(sandbox)
	if in.RefundsEnabled != nil {
		refunds = *in.RefundsEnabled
	}
	o, issued, err := s.cfg.Accounts.CreateOrganisation(r.Context(), orgs.NewOrganisation{Name: in.Name, Currency: in.Currency, Sandbox: sandbox,
		StartingBalance: in.Balance, RefundsEnabled: refunds, KeyLabel: "created through the admin API"})
	if err != nil {
		return err
	}
	key := issued.Secret
	out := toOrganisationJSON(o)
	out.APIKey = key
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// PATCH /admin/v1/organisations/{org} {"name", "refundsEnabled",
// "refundWindowDays", "ipAllowList"}: changes the settings present in the
// body and keeps the others. ipAllowList lists CIDR prefixes and single
// addresses; [] allows every address again.
func (s *Server) updateOrganisation(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Orgs == nil {
		return fault.Forbiddenf("organisation management is not enabled on this server")
	}
	id, err := pathInt(r, "org", "the organisation ID")
	if err != nil {
		return err
	}
	var in struct {
		Name             *string   `json:"name"`
		RefundsEnabled   *bool     `json:"refundsEnabled"`
		RefundWindowDays *int      `json:"refundWindowDays"`
		IPAllowList      *[]string `json:"ipAllowList"`
	}
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	o, err := s.cfg.Orgs.Update(r.Context(), orgs.ID(id), orgs.Update{Name: in.Name, RefundsEnabled: in.RefundsEnabled,
		RefundWindowDays: in.RefundWindowDays, IPAllowList: in.IPAllowList})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOrganisationJSON(o))
	return nil
}

// GET /admin/v1/organisations
func (s *Server) listOrganisations(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Orgs == nil {
		return fault.Forbiddenf("organisation management is not enabled on this server")
	}
	list, err := s.cfg.Orgs.List(r.Context())
	if err != nil {
		return err
	}
	out := struct {
		Organisations []organisationJSON `json:"organisations"`
	}{Organisations: []organisationJSON{}}
	for _, o := range list {
		out.Organisations = append(out.Organisations, toOrganisationJSON(o))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// GET /admin/v1/organisations/{org}
func (s *Server) getOrganisation(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Orgs == nil {
		return fault.Forbiddenf("organisation management is not enabled on this server")
	}
	id, err := orgID(r)
	if err != nil {
		return err
	}
	o, err := s.cfg.Orgs.Get(r.Context(), id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toOrganisationJSON(o))
	return nil
}

// POST /admin/v1/organisations/{org}/credit {"amount", "kind", "note"}: an
// operator top-up (kind topup, the default), a credit, or an adjustment of
// either sign, through the ledger as "esimd org credit" makes it.
func (s *Server) creditOrganisation(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.Orgs == nil {
		return fault.Forbiddenf("organisation management is not enabled on this server")
	}
	id, err := orgID(r)
	if err != nil {
		return err
	}
	in := struct {
		Amount money.Amount `json:"amount"`
		Kind   string       `json:"kind"`
		Note   string       `json:"note"`
	}{}
	if err := decode(w, r, &in, false); err != nil {
		return err
	}
	kind := orgs.LedgerKind(in.Kind)
	switch kind {
	case "":
		kind = orgs.LedgerTopup
	case orgs.LedgerTopup, orgs.LedgerCredit, orgs.LedgerAdjustment:
	default:
		return fault.Invalidf("kind must be topup, credit or adjustment, got %q", in.Kind)
	}
	e, err := s.cfg.Orgs.Credit(r.Context(), id, kind, in.Amount, "", in.Note)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		ID             int64           `json:"id"`
		OrganisationID orgs.ID         `json:"organisationId"`
		Kind           orgs.LedgerKind `json:"kind"`
		Amount         money.Amount    `json:"amount"`
		Balance        money.Amount    `json:"balance"`
		Note           string          `json:"note"`
		CreatedAt      time.Time       `json:"createdAt"`
	}{e.ID, id, e.Kind, e.Amount, e.BalanceAfter, e.Description, e.CreatedAt})
	return nil
}

type usageRecordJSON struct {
	RecordID  string    `json:"recordId"`
	ICCID     string    `json:"iccid"`
	Bytes     int64     `json:"bytes"`
	MCC       string    `json:"mcc"`
	MNC       string    `json:"mnc"`
	MCCMNC    string    `json:"mccmnc"`
	Country   string    `json:"country"`
	Timestamp time.Time `json:"timestamp"`
}

// POST /admin/v1/usage {"records": [{recordId, iccid, bytes, mccmnc | mcc
// and mnc | country, timestamp}]}: usage from a network's charging or CDR
// feed, applied through the same lifecycle function as the sandbox's. The
// batch commits once; each record is applied, reported as a duplicate of
// one sent before, or rejected alone with the reason.
// maxIngestBody caps a usage batch's body: room for the most records a
// batch may hold at 512 bytes each (a record with a 200-character ID and
// every field takes under 400).
const maxIngestBody = esims.MaxIngestBatch * 512

func (s *Server) ingestUsage(w http.ResponseWriter, r *http.Request) error {
	if s.cfg.ESIMs == nil {
		return fault.Forbiddenf("usage ingest is not enabled on this server")
	}
	var in struct {
		Records []usageRecordJSON `json:"records"`
	}
	if err := decodeUpTo(w, r, &in, false, maxIngestBody); err != nil {
		return err
	}
	if len(in.Records) == 0 {
		return fault.Invalidf("records must list at least one usage record")
	}
	recs := make([]esims.IngestRecord, len(in.Records))
	for i, x := range in.Records {
		recs[i] = esims.IngestRecord{RecordID: x.RecordID, ICCID: x.ICCID, Bytes: x.Bytes, MCC: x.MCC, MNC: x.MNC,
			MCCMNC: x.MCCMNC, Country: x.Country, At: x.Timestamp}
	}
	results, err := s.cfg.ESIMs.Ingest(r.Context(), recs)
	if err != nil {
		return err
	}
	type resultJSON struct {
		RecordID string `json:"recordId"`
		Status   string `json:"status"`
		Reason   string `json:"reason,omitempty"`
		Charged  int64  `json:"bytesCharged"`
		Unbilled int64  `json:"bytesUnbilled"`
	}
	out := struct {
		Applied   int          `json:"applied"`
		Duplicate int          `json:"duplicate"`
		Rejected  int          `json:"rejected"`
		Results   []resultJSON `json:"results"`
	}{Results: make([]resultJSON, 0, len(results))}
	for _, res := range results {
		switch res.Status {
		case esims.IngestApplied:
			out.Applied++
		case esims.IngestDuplicate:
			out.Duplicate++
		default:
			out.Rejected++
		}
		out.Results = append(out.Results, resultJSON{RecordID: res.RecordID, Status: res.Status, Reason: res.Reason, Charged: res.Charged, Unbilled: res.Unbilled})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
