package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
)

// Paging and limits of the eSIM endpoints.
const (
	// esimsDefaultPerPage is GET /esims's page size when perPage is absent.
	// The live API's default is not documented; 25 is the second of the
	// four sizes it accepts (notes §2.2, 0.4.11), a full screen of rows
	// without making a first call slow on large fleets.
	esimsDefaultPerPage = 25
	// bundlesDefaultLimit and bundlesMaxLimit bound the assignments of GET
	// /esims/{iccid}/bundles (notes §2.2: 1–200, default 15). Before v2.3 the
	// endpoint had no limit parameter (notes §7), so older prefixes default
	// to the maximum.
	bundlesDefaultLimit = 15
	bundlesMaxLimit     = 200
	// esimBodyLimit caps the bodies of the eSIM endpoints ({iccid,
	// customerRef}, {message}, {suspend}): all are tiny.
	esimBodyLimit = 64 << 10
)

// esimsPerPage are the page sizes GET /esims accepts (notes 0.4.11).
var esimsPerPage = []int{10, 25, 50, 100}

// readESIMBody reads a request body capped at esimBodyLimit.
func readESIMBody(w http.ResponseWriter, r *request) ([]byte, error) {
	return readBodyLimit(w, r.Request, esimBodyLimit)
}

// readESIMObject reads a required JSON object body.
func readESIMObject(w http.ResponseWriter, r *request) (fields, error) {
	b, err := readESIMBody(w, r)
	if err != nil {
		return nil, err
	}
	return decodeObject(b)
}

// esimPathICCID returns the {iccid} path value after the 18–22 digit check
// (notes 0.4.10), so that a malformed ICCID is reported before anything
// about the body or query.
func esimPathICCID(r *request) (string, error) {
	iccid := r.PathValue("iccid")
	return iccid, esims.CheckICCID(iccid)
}

// esimListFields maps filterBy values to their kind: true for time fields.
var esimListFields = map[string]bool{"iccid": false, "customerRef": false, "lastAction": false, "actionDate": true, "assignedDate": true}

// parseESIMFilter reads filterBy and filter (notes §1.7): time fields take
// [eq|lt|lte|gt|gte:]<RFC 3339>, eq by default; string fields take
// [eq|like:]<text>, like (a substring search) by default. Leading and
// trailing * or % wildcards are accepted and mean the same substring search.
func parseESIMFilter(q map[string][]string, lq *esims.ListQuery) error {
	by, value := "", ""
	if v := q["filterBy"]; len(v) > 0 {
		by = strings.TrimSpace(v[0])
	}
	if v := q["filter"]; len(v) > 0 {
		value = v[0]
	}
	if by == "" {
		if value != "" {
			return fault.Invalidf("filter needs filterBy: one of iccid, customerRef, lastAction, actionDate, assignedDate")
		}
		return nil
	}
	canonical := ""
	for name := range esimListFields {
		if strings.EqualFold(name, by) {
			canonical = name
		}
	}
	if canonical == "" {
		return fault.Invalidf("filterBy must be one of iccid, customerRef, lastAction, actionDate, assignedDate, got %q", truncateText(by, 40))
	}
	if value == "" {
		return fault.Invalidf("filter is required with filterBy=%s: the value to filter by", canonical)
	}
	lq.FilterBy = canonical
	op, rest, hasOp := strings.Cut(value, ":")
	if esimListFields[canonical] {
		switch op {
		case "eq", "lt", "lte", "gt", "gte":
		default:
			op, rest = "eq", value
		}
		// An unencoded + in a query string arrives as a space.
		t, err := time.Parse(time.RFC3339Nano, strings.ReplaceAll(rest, " ", "+"))
		if err != nil {
			return fault.Invalidf("filter for %s must be [eq|lt|lte|gt|gte:]<RFC 3339 time> such as gte:2024-03-01T00:00:00Z, got %q", canonical, truncateText(value, 60))
		}
		lq.Op, lq.TimeValue = op, t.UTC()
		return nil
	}
	if !hasOp || (op != "eq" && op != "like") {
		op, rest = "like", value
	}
	if op == "like" {
		rest = strings.Trim(rest, "*%")
	}
	if op == "eq" && rest == "" {
		return fault.Invalidf("filter eq: needs a value after the colon")
	}
	lq.Op, lq.Value = op, rest
	return nil
}

// GET /esims
func (s *Server) listESIMs(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	lq := esims.ListQuery{Page: 1, PerPage: esimsDefaultPerPage}
	if n, set, err := queryPage(q); err != nil {
		return err
	} else if set {
		lq.Page = n
	}
	if v := q.Get("perPage"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		ok := err == nil
		if ok {
			ok = false
			for _, p := range esimsPerPage {
				ok = ok || p == n
			}
		}
		if !ok {
			return fault.Invalidf("perPage must be 10, 25, 50 or 100, got %q", truncateText(v, 40))
		}
		lq.PerPage = n
	}
	switch d := strings.ToLower(q.Get("direction")); d {
	case "", "asc":
	case "desc":
		lq.Descending = true
	default:
		return fault.Invalidf("direction must be asc or desc, got %q", truncateText(q.Get("direction"), 40))
	}
	if o := q.Get("orderBy"); o != "" && !strings.EqualFold(o, "iccid") {
		return fault.Invalidf("orderBy must be iccid (the only column eSIMs are ordered by), got %q", truncateText(o, 40))
	}
	if err := parseESIMFilter(q, &lq); err != nil {
		return err
	}
	list, total, err := s.cfg.ESIMs.List(r.Context(), r.org.ID, lq)
	if err != nil {
		return err
	}
	out := struct {
		ESIMs     []esimListItemJSON `json:"esims"`
		PageCount int                `json:"pageCount"`
		PageSize  int                `json:"pageSize"`
		Rows      int                `json:"rows"`
	}{ESIMs: make([]esimListItemJSON, 0, len(list)), PageCount: (total + lq.PerPage - 1) / lq.PerPage, PageSize: lq.PerPage, Rows: total}
	for _, e := range list {
		j := esimListItemJSON{ICCID: e.ICCID, CustomerRef: e.CustomerRef, LastAction: e.LastAction, ActionDate: esimTime(e.LastActionAt),
			AssignedDate: esimTime(e.AssignedAt)}
		if r.version >= 25 {
			j.State, j.MSISDN = e.State, e.MSISDN
		}
		out.ESIMs = append(out.ESIMs, j)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// PUT /esims: iccid and customerRef as query parameters (as the documents
// say) or in a JSON body (as their example shows); a query parameter wins
// over the same key in the body. An empty customerRef clears it; a missing
// one is an error.
func (s *Server) updateESIM(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	iccid, ref := q.Get("iccid"), q.Get("customerRef")
	hasICCID, hasRef := q.Has("iccid"), q.Has("customerRef")
	body, err := readESIMBody(w, r)
	if err != nil {
		return err
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		f, err := decodeObject(body)
		if err != nil {
			return err
		}
		if !hasICCID {
			if iccid, err = f.str("iccid", "ICCID"); err != nil {
				return err
			}
			hasICCID = iccid != ""
		}
		if !hasRef {
			if _, _, ok := f.raw("customerRef", "CustomerRef"); ok {
				if ref, err = f.str("customerRef", "CustomerRef"); err != nil {
					return err
				}
				hasRef = true
			}
		}
	}
	if !hasICCID || iccid == "" {
		return fault.Invalidf("iccid is required: the eSIM to update, as a query parameter or in a JSON body")
	}
	if !hasRef {
		return fault.Invalidf("customerRef is required: your reference for the eSIM (an empty value clears it), as a query parameter or in a JSON body")
	}
	if _, err := s.cfg.ESIMs.SetCustomerRef(r.Context(), r.org.ID, iccid, ref); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, esimStatusJSON{Status: "success"})
	return nil
}

// GET /esims/{iccid}
func (s *Server) getESIM(w http.ResponseWriter, r *request) error {
	iccid, err := esimPathICCID(r)
	if err != nil {
		return err
	}
	links := parseInstallFields(r)
	e, err := s.cfg.ESIMs.Get(r.Context(), r.org.ID, iccid)
	if err != nil {
		return err
	}
	out := esimDetailsJSON{ICCID: e.ICCID, PIN: e.PIN, PUK: e.PUK, MatchingID: e.MatchingID, SMDPAddress: e.SMDPAddress,
		ProfileStatus: e.ProfileStatus, CustomerRef: e.CustomerRef}
	if e.FirstInstalledAt != nil {
		ms := e.FirstInstalledAt.UnixMilli()
		out.FirstInstalledDateTime = &ms
	}
	if r.version >= 25 {
		out.MSISDN, out.BrandingID, out.ProfileName, out.State = e.MSISDN, e.BrandingID, e.Profile, e.State
	}
	if out.AppleInstallURL, out.AndroidInstallURL, err = links.urls(&e); err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store") // PIN, PUK and activation code
	writeJSON(w, http.StatusOK, out)
	return nil
}

// DELETE /esims/{iccid} (v2.5): revokes every bundle without refund and
// deactivates the eSIM.
func (s *Server) deleteESIM(w http.ResponseWriter, r *request) error {
	iccid, err := esimPathICCID(r)
	if err != nil {
		return err
	}
	if err := s.cfg.ESIMs.Delete(r.Context(), r.org.ID, iccid); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, esimStatusJSON{Status: "eSIM deleted successfully"})
	return nil
}

// GET /esims/{iccid}/history: a list, oldest first (the documents declare
// one object; their example and the live API are lists).
func (s *Server) esimHistory(w http.ResponseWriter, r *request) error {
	iccid, err := esimPathICCID(r)
	if err != nil {
		return err
	}
	hist, err := s.cfg.ESIMs.History(r.Context(), r.org.ID, iccid)
	if err != nil {
		return err
	}
	out := make([]esimHistoryJSON, 0, len(hist))
	for _, h := range hist {
		j := esimHistoryJSON{Name: h.Name, Date: esimTime(h.At)}
		name := h.BundleName
		if r.version >= 23 {
			j.BundleName = &name
			if h.Name == esims.HistUtilisationAlert {
				j.AlertType = h.AlertType
			}
		} else {
			j.Bundle = &name
		}
		out = append(out, j)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// GET /esims/{iccid}/refresh
func (s *Server) refreshESIM(w http.ResponseWriter, r *request) error {
	iccid, err := esimPathICCID(r)
	if err != nil {
		return err
	}
	if err := s.cfg.ESIMs.Refresh(r.Context(), r.org.ID, iccid); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, esimStatusJSON{Status: "Successfully refreshed SIM"})
	return nil
}

// GET /esims/{iccid}/compatible/{bundle}: whether the bundle can top up
// the eSIM (same network profile, eSIM not deactivated; notes §5.6). A
// bundle outside the catalogue, or outside the organisation's groups, is
// a 400.
func (s *Server) esimCompatible(w http.ResponseWriter, r *request) error {
	iccid, err := esimPathICCID(r)
	if err != nil {
		return err
	}
	e, err := s.cfg.ESIMs.Get(r.Context(), r.org.ID, iccid)
	if err != nil {
		return err
	}
	name := r.PathValue("bundle")
	b, ok := s.cfg.Catalogue.Current(r.Context()).Bundle(name)
	if !ok || !b.VisibleTo(r.org.Groups) {
		return fault.NotFoundf("bundle %q is not in the catalogue; names are case-sensitive (GET /catalogue lists them)", truncateText(name, 80))
	}
	writeJSON(w, http.StatusOK, struct {
		Compatible bool `json:"compatible"`
	}{esims.Compatible(&e, &b)})
	return nil
}

// POST /esims/{iccid}/sms {message, from?}
func (s *Server) sendSMS(w http.ResponseWriter, r *request) error {
	iccid, err := esimPathICCID(r)
	if err != nil {
		return err
	}
	f, err := readESIMObject(w, r)
	if err != nil {
		return err
	}
	if _, _, ok := f.raw("message"); !ok {
		return fault.Invalidf("message is required: 1 to 160 characters of UTF-8 text")
	}
	msg, err := f.str("message")
	if err != nil {
		return err
	}
	from, err := f.str("from")
	if err != nil {
		return err
	}
	if err := s.cfg.ESIMs.SendSMS(r.Context(), r.org.ID, iccid, msg, from); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, esimStatusJSON{Status: "sent"})
	return nil
}

// GET /esims/{iccid}/location: the last network the eSIM registered on.
// An eSIM that never registered answers 200 with empty strings and no
// lastSeen: it is a valid eSIM with no location yet, not a bad request.
func (s *Server) esimLocation(w http.ResponseWriter, r *request) error {
	iccid, err := esimPathICCID(r)
	if err != nil {
		return err
	}
	e, err := s.cfg.ESIMs.Get(r.Context(), r.org.ID, iccid)
	if err != nil {
		return err
	}
	l := e.Location
	out := esimLocationJSON{MobileNetworkCode: l.TADIG, NetworkName: l.NetworkName, NetworkBrandName: l.Brand, Country: l.Country}
	if l.LastSeen != nil {
		out.LastSeen = esimTime(*l.LastSeen)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// POST /esims/{iccid}/suspend {suspend: bool} (v2.5): 201.
func (s *Server) suspendESIM(w http.ResponseWriter, r *request) error {
	iccid, err := esimPathICCID(r)
	if err != nil {
		return err
	}
	f, err := readESIMObject(w, r)
	if err != nil {
		return err
	}
	if _, _, ok := f.raw("suspend"); !ok {
		return fault.Invalidf("suspend is required: true to suspend the eSIM, false to unsuspend it")
	}
	suspend, err := f.boolean("suspend")
	if err != nil {
		return err
	}
	if err := s.cfg.ESIMs.SetSuspended(r.Context(), r.org.ID, iccid, suspend); err != nil {
		return err
	}
	status := "eSIM suspended successfully"
	if !suspend {
		status = "eSIM unsuspended successfully"
	}
	writeJSON(w, http.StatusCreated, esimStatusJSON{Status: status})
	return nil
}

// GET /esims/{iccid}/suspend (v2.5)
func (s *Server) esimSuspended(w http.ResponseWriter, r *request) error {
	iccid, err := esimPathICCID(r)
	if err != nil {
		return err
	}
	e, err := s.cfg.ESIMs.Get(r.Context(), r.org.ID, iccid)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Suspended bool `json:"suspended"`
	}{e.State == esims.StateSuspended})
	return nil
}

// The data call type group; esimd's assignments are data bundles.
const esimCallTypeData = "data"

// parseBundleQuery reads includeUsed and limit of GET /esims/{iccid}/bundles.
// v2.1 and older listed used assignments too, which includeUsed exists to
// restore ("backward compatibility for v2.1"), so there it defaults to true;
// before v2.3 there was no limit, so the default is the maximum.
func parseBundleQuery(r *request) (includeUsed bool, limit int, err error) {
	q := r.URL.Query()
	includeUsed = r.version <= 21
	if v := q.Get("includeUsed"); v != "" {
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			includeUsed = true
		case "false":
			includeUsed = false
		default:
			return false, 0, fault.Invalidf("includeUsed must be true or false, got %q", truncateText(v, 40))
		}
	}
	limit = bundlesDefaultLimit
	if r.version < 23 {
		limit = bundlesMaxLimit
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > bundlesMaxLimit {
			return false, 0, fault.Invalidf("limit must be a whole number from 1 to %d, got %q", bundlesMaxLimit, truncateText(v, 40))
		}
		limit = n
	}
	return includeUsed, limit, nil
}

// GET /esims/{iccid}/bundles: the most recent assignments (limit), grouped
// by bundle in order of each bundle's newest assignment, newest first
// within a bundle.
func (s *Server) esimBundles(w http.ResponseWriter, r *request) error {
	iccid, err := esimPathICCID(r)
	if err != nil {
		return err
	}
	includeUsed, limit, err := parseBundleQuery(r)
	if err != nil {
		return err
	}
	as, err := s.cfg.ESIMs.Assignments(r.Context(), r.org.ID, iccid, includeUsed, limit)
	if err != nil {
		return err
	}
	var order []string
	groups := map[string][]*esims.Assignment{}
	for i := range as {
		a := &as[i]
		if _, ok := groups[a.BundleName]; !ok {
			order = append(order, a.BundleName)
		}
		groups[a.BundleName] = append(groups[a.BundleName], a)
	}
	switch {
	case r.version <= 20:
		type promotionJSON struct {
			Moniker      string          `json:"moniker"`
			ActiveOffers []esimOfferJSON `json:"activeOffers"`
		}
		out := struct {
			Promotions []promotionJSON `json:"Promotions"`
		}{Promotions: make([]promotionJSON, 0, len(order))}
		for _, name := range order {
			p := promotionJSON{Moniker: name, ActiveOffers: make([]esimOfferJSON, 0, len(groups[name]))}
			for _, a := range groups[name] {
				start, end := esimAssignmentTimes(a)
				p.ActiveOffers = append(p.ActiveOffers, esimOfferJSON{ElementID: a.Reference, OfferID: strconv.FormatInt(a.ID, 10),
					CallTypeGroup: esimCallTypeData, InitialQuantity: strconv.FormatInt(a.InitialBytes, 10),
					RemainingQuantity: strconv.FormatInt(a.RemainingBytes, 10), StartTime: start, EndTime: end})
			}
			out.Promotions = append(out.Promotions, p)
		}
		writeJSON(w, http.StatusOK, out)
	case r.version <= 22:
		type legacyBundleJSON struct {
			Name        string                 `json:"name"`
			Assignments []legacyAssignmentJSON `json:"assignments"`
		}
		out := struct {
			Bundles []legacyBundleJSON `json:"bundles"`
		}{Bundles: make([]legacyBundleJSON, 0, len(order))}
		for _, name := range order {
			b := legacyBundleJSON{Name: name, Assignments: make([]legacyAssignmentJSON, 0, len(groups[name]))}
			for _, a := range groups[name] {
				b.Assignments = append(b.Assignments, newLegacyAssignmentJSON(a))
			}
			out.Bundles = append(out.Bundles, b)
		}
		writeJSON(w, http.StatusOK, out)
	default:
		type appliedBundleJSON struct {
			Name        string           `json:"name"`
			Description string           `json:"description"`
			Assignments []assignmentJSON `json:"assignments"`
		}
		snap := s.cfg.Catalogue.Current(r.Context())
		out := struct {
			Bundles []appliedBundleJSON `json:"bundles"`
		}{Bundles: make([]appliedBundleJSON, 0, len(order))}
		for _, name := range order {
			g := groups[name]
			b := appliedBundleJSON{Name: name, Description: g[0].Description, Assignments: make([]assignmentJSON, 0, len(g))}
			for _, a := range g {
				b.Assignments = append(b.Assignments, newAssignmentJSON(r.version, snap, a, true))
			}
			out.Bundles = append(out.Bundles, b)
		}
		writeJSON(w, http.StatusOK, out)
	}
	return nil
}

// GET /esims/{iccid}/bundles/{name}: every assignment of that bundle on the
// eSIM, newest (the "latest assignment" the documents speak of) first,
// ended ones included; 400 when the eSIM never had that bundle.
func (s *Server) esimBundle(w http.ResponseWriter, r *request) error {
	iccid, err := esimPathICCID(r)
	if err != nil {
		return err
	}
	name := r.PathValue("name")
	as, err := s.cfg.ESIMs.Assignments(r.Context(), r.org.ID, iccid, true, 0)
	if err != nil {
		return err
	}
	var mine []*esims.Assignment
	for i := range as {
		if as[i].BundleName == name {
			mine = append(mine, &as[i])
		}
	}
	if len(mine) == 0 {
		return fault.NotFoundf("eSIM %s has no assignment of bundle %q; names are case-sensitive (GET /esims/%s/bundles lists them)", iccid, truncateText(name, 80), iccid)
	}
	if r.version < 23 {
		out := struct {
			Assignments []legacyAssignmentJSON `json:"assignments"`
		}{Assignments: make([]legacyAssignmentJSON, 0, len(mine))}
		for _, a := range mine {
			out.Assignments = append(out.Assignments, newLegacyAssignmentJSON(a))
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	snap := s.cfg.Catalogue.Current(r.Context())
	out := struct {
		Assignments []assignmentJSON `json:"assignments"`
	}{Assignments: make([]assignmentJSON, 0, len(mine))}
	for _, a := range mine {
		out.Assignments = append(out.Assignments, newAssignmentJSON(r.version, snap, a, false))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
