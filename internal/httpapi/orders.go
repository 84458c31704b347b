package httpapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orders"
)

type orderESIMJSON struct {
	ICCID       string `json:"iccid"`
	MatchingID  string `json:"matchingId"`
	SMDPAddress string `json:"smdpAddress"`
}

type orderLineJSON struct {
	ESIMs         *[]orderESIMJSON `json:"esims,omitempty"`
	Type          string           `json:"type"`
	Item          string           `json:"item"`
	ICCIDs        *[]string        `json:"iccids,omitempty"`
	Quantity      int              `json:"quantity"`
	SubTotal      money.Amount     `json:"subTotal"`
	PricePerUnit  money.Amount     `json:"pricePerUnit"`
	AllowReassign bool             `json:"AllowReassign"` // sic: eSIM Go's capital A
}

type orderValidateJSON struct {
	Order       []orderLineJSON `json:"order"`
	Total       money.Amount    `json:"total"`
	Valid       bool            `json:"valid"`
	Currency    string          `json:"currency"`
	CreatedDate time.Time       `json:"createdDate"`
	Assigned    bool            `json:"assigned"`
}

type orderJSON struct {
	Order          []orderLineJSON `json:"order"`
	Total          money.Amount    `json:"total"`
	Currency       string          `json:"currency"`
	Status         string          `json:"status"`
	StatusMessage  string          `json:"statusMessage"`
	OrderReference string          `json:"orderReference"`
	CreatedDate    time.Time       `json:"createdDate"`
	Assigned       bool            `json:"assigned"`
	SourceIP       string          `json:"sourceIP"`
	RunningBalance *string         `json:"runningBalance,omitempty"`
}

// encodeOrder renders an order. withESIMs adds each line's eSIM details
// (orders of at most five eSIMs, notes 0.4.4); withICCIDs adds the iccids
// list (always from v2.3).
func encodeOrder(v apiVersion, o *orders.Order, perLine [][]esims.ESIM, withESIMs, withICCIDs bool) orderJSON {
	out := orderJSON{Order: make([]orderLineJSON, 0, len(o.Lines)), Total: o.Total, Currency: o.Currency, Status: o.Status,
		StatusMessage: o.StatusMessage, OrderReference: o.Reference, CreatedDate: o.CreatedAt, Assigned: o.Assigned, SourceIP: o.SourceIP}
	if v >= 25 {
		rb := o.RunningBalance.String()
		out.RunningBalance = &rb
	}
	for i, l := range o.Lines {
		j := orderLineJSON{Type: l.Type, Item: l.Item, Quantity: l.Quantity, SubTotal: l.SubTotal, PricePerUnit: l.PricePerUnit, AllowReassign: l.AllowReassign}
		var list []esims.ESIM
		if i < len(perLine) {
			list = perLine[i]
		}
		if withESIMs && o.Assigned {
			es := make([]orderESIMJSON, 0, len(list))
			for _, e := range list {
				es = append(es, orderESIMJSON{ICCID: e.ICCID, MatchingID: e.MatchingID, SMDPAddress: e.SMDPAddress})
			}
			j.ESIMs = &es
		}
		if withICCIDs {
			ids := make([]string, 0, len(list))
			for _, e := range list {
				ids = append(ids, e.ICCID)
			}
			j.ICCIDs = &ids
		}
		out.Order = append(out.Order, j)
	}
	return out
}

// POST /orders
func (s *Server) placeOrder(w http.ResponseWriter, r *request) error {
	body, err := readBody(w, r.Request)
	if err != nil {
		return err
	}
	req, err := decodeOrderRequest(body)
	if err != nil {
		return err
	}
	placed, err := s.cfg.Orders.Place(r.Context(), r.org.ID, req, clientIP(r.Request))
	if err != nil {
		return err
	}
	o := placed.Order
	if req.Type == "validate" {
		out := orderValidateJSON{Order: make([]orderLineJSON, 0, len(o.Lines)), Total: o.Total, Valid: placed.Valid,
			Currency: o.Currency, CreatedDate: o.CreatedAt, Assigned: o.Assigned}
		for _, l := range o.Lines {
			out.Order = append(out.Order, orderLineJSON{Type: l.Type, Item: l.Item, Quantity: l.Quantity, SubTotal: l.SubTotal,
				PricePerUnit: l.PricePerUnit, AllowReassign: l.AllowReassign})
		}
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	small := o.Status == orders.StatusCompleted
	writeJSON(w, http.StatusOK, encodeOrder(r.version, &o, placed.ESIMs, small, r.version >= 23 || o.Assigned))
	return nil
}

// decodeOrderRequest reads every spelling of an order seen in the wild:
// "order" or legacy "Order", booleans as strings, and the quick-start's
// flat {type, item, quantity}.
func decodeOrderRequest(body []byte) (orders.Request, error) {
	f, err := decodeObject(body)
	if err != nil {
		return orders.Request{}, err
	}
	var req orders.Request
	if req.Type, err = f.str("type", "Type"); err != nil {
		return req, err
	}
	if req.Type == "" {
		return req, fault.Invalidf("type is required: \"validate\" to check an order, \"transaction\" to place it")
	}
	if req.Assign, err = f.boolean("assign", "Assign"); err != nil {
		return req, err
	}
	if req.ProfileID, err = f.str("profileID", "profileId"); err != nil {
		return req, err
	}
	lines, key, err := f.objects("order", "Order")
	if err != nil {
		return req, err
	}
	if key == "" {
		if _, _, ok := f.raw("item"); ok {
			lines = []fields{f} // the quick-start's flat body
			f["type"] = []byte(`"bundle"`)
			key = "order"
		} else {
			return req, fault.Invalidf("order is required: a list of {\"type\":\"bundle\",\"item\":\"<bundle name>\",\"quantity\":1}")
		}
	}
	for i, l := range lines {
		var lr orders.LineRequest
		if lr.Type, err = l.str("type"); err != nil {
			return req, lineErr(key, i, err)
		}
		if lr.Type == "" {
			return req, fault.Invalidf("%s line %d: type is required (\"bundle\")", key, i+1)
		}
		if lr.Item, err = l.str("item"); err != nil {
			return req, lineErr(key, i, err)
		}
		if lr.Item == "" {
			return req, fault.Invalidf("%s line %d: item is required: the bundle name", key, i+1)
		}
		q, ok, err := l.integer("quantity")
		if err != nil {
			return req, lineErr(key, i, err)
		}
		if !ok {
			return req, fault.Invalidf("%s line %d: quantity is required", key, i+1)
		}
		lr.Quantity = q
		if lr.ICCIDs, err = l.strings("iccids"); err != nil {
			return req, lineErr(key, i, err)
		}
		for _, iccid := range lr.ICCIDs {
			if err := esims.CheckICCID(iccid); err != nil {
				return req, lineErr(key, i, err)
			}
		}
		if lr.AllowReassign, err = l.boolean("allowReassign", "AllowReassign"); err != nil {
			return req, lineErr(key, i, err)
		}
		req.Lines = append(req.Lines, lr)
	}
	return req, nil
}

// lineErr names an order line as the order service does, counting from 1.
func lineErr(key string, i int, err error) error {
	return fault.Invalidf("%s line %d: %s", key, i+1, fault.MessageOf(err))
}

// GET /orders
func (s *Server) listOrders(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	oq := orders.Query{Page: 1, Limit: 50}
	if n, set, err := queryPage(q); err != nil {
		return err
	} else if set {
		oq.Page = n
	}
	if n, set, err := queryInt(q, "limit"); err != nil {
		return err
	} else if set {
		oq.Limit = n
	}
	for _, v := range q["createdAt"] {
		tf, err := parseTimeFilter("createdAt", v)
		if err != nil {
			return err
		}
		oq.CreatedAt = append(oq.CreatedAt, tf)
	}
	includeICCIDs, err := queryBool(r, "includeIccids")
	if err != nil {
		return err
	}
	list, total, err := s.cfg.Orders.List(r.Context(), r.org.ID, oq)
	if err != nil {
		return err
	}
	out := struct {
		Orders    []orderJSON `json:"orders"`
		PageCount int         `json:"pageCount"`
		PageSize  int         `json:"pageSize"`
		Rows      int         `json:"rows"`
	}{Orders: make([]orderJSON, 0, len(list)), PageCount: (total + oq.Limit - 1) / oq.Limit, PageSize: oq.Limit, Rows: total}
	for i := range list {
		o := &list[i]
		var per [][]esims.ESIM
		if includeICCIDs && o.Assigned && o.Status == orders.StatusCompleted {
			if per, err = s.cfg.Orders.ESIMsOfOrder(r.Context(), o); err != nil {
				return err
			}
		}
		out.Orders = append(out.Orders, encodeOrder(r.version, o, per, includeICCIDs, includeICCIDs))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// parseTimeFilter reads "op:value" (eq, lt, lte, gt, gte; eq by default)
// with an RFC 3339 value.
func parseTimeFilter(name, v string) (orders.TimeFilter, error) {
	op, val := "eq", v
	if before, after, ok := strings.Cut(v, ":"); ok {
		switch before {
		case "eq", "lt", "lte", "gt", "gte":
			op, val = before, after
		}
	}
	t, err := time.Parse(time.RFC3339Nano, val)
	if err != nil {
		return orders.TimeFilter{}, fault.Invalidf("%s must be [eq|lt|lte|gt|gte:]<RFC 3339 time> such as gte:2024-03-01T00:00:00.000Z, got %q", name, truncateText(v, 60))
	}
	return orders.TimeFilter{Op: op, At: t.UTC()}, nil
}

// GET /orders/{orderReference}
func (s *Server) getOrder(w http.ResponseWriter, r *request) error {
	o, err := s.cfg.Orders.Get(r.Context(), r.org.ID, r.PathValue("orderReference"))
	if err != nil {
		return err
	}
	if o.Status == orders.StatusProcessing {
		return processing(w, &o)
	}
	var per [][]esims.ESIM
	if o.Assigned && o.Status == orders.StatusCompleted {
		if per, err = s.cfg.Orders.ESIMsOfOrder(r.Context(), &o); err != nil {
			return err
		}
	}
	writeJSON(w, http.StatusOK, encodeOrder(r.version, &o, per, true, true))
	return nil
}

// processing is the answer for a read that depends on work still running.
// Retry-After is the order's estimated work in whole seconds (at least 1,
// the header's unit): a small order is done in milliseconds, and a client
// told 5 would wait for nothing.
func processing(w http.ResponseWriter, o *orders.Order) error {
	secs := max(1, int((o.EstimatedWork()+time.Second-1)/time.Second))
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return poll{fault.E(fault.Unavailable, "order %s is still being processed (%d bundles); retry after the number of seconds in Retry-After", o.Reference, o.Units())}
}

// poll marks the 503 that answers a poll of work still running: part of
// the protocol, not a failure, so it is logged at Info.
type poll struct{ error }

func (p poll) Unwrap() error { return p.error }

// Expected tells web.ErrorWriter to log the answer at Info: polling work
// that is still running is the protocol, not a failure.
func (p poll) Expected() bool { return true }

type inventoryBatchJSON struct {
	ID        int64  `json:"id"`
	Total     int    `json:"total"`
	Remaining int    `json:"remaining"`
	Expiry    string `json:"expiry"`
}

type inventoryAllowanceJSON struct {
	Type        string `json:"type"`
	Service     string `json:"service"`
	Description string `json:"description"`
	Amount      int64  `json:"amount"`
	Unit        string `json:"unit"`
	Unlimited   bool   `json:"unlimited"`
}

type inventoryBundleJSON struct {
	Name         string                   `json:"name"`
	Desc         string                   `json:"desc"`
	UseDms       bool                     `json:"useDms"`
	Available    []inventoryBatchJSON     `json:"available"`
	Countries    []string                 `json:"countries"`
	Data         int64                    `json:"data"`
	Duration     int                      `json:"duration"`
	DurationUnit string                   `json:"durationUnit"`
	Autostart    bool                     `json:"autostart"`
	Unlimited    bool                     `json:"unlimited"`
	Speed        []string                 `json:"speed"`
	Allowances   []inventoryAllowanceJSON `json:"allowances"`
}

// GET /inventory
func (s *Server) listInventory(w http.ResponseWriter, r *request) error {
	items, err := s.cfg.Orders.Inventory(r.Context(), r.org.ID)
	if err != nil {
		return err
	}
	out := struct {
		Bundles []inventoryBundleJSON `json:"bundles"`
	}{Bundles: make([]inventoryBundleJSON, 0, len(items))}
	for _, it := range items {
		b := it.Bundle
		j := inventoryBundleJSON{Name: b.Name, Desc: b.Description, Countries: nonNilStrings(b.Countries), Data: dataAmountMB(&b),
			Duration: b.DurationDays, DurationUnit: "day", Autostart: b.Autostart, Unlimited: b.Unlimited,
			Speed: nonNilStrings(b.Speeds), Allowances: []inventoryAllowanceJSON{}, Available: []inventoryBatchJSON{}}
		for _, a := range b.Allowances {
			unit, amount := allowanceUnit(a)
			j.Allowances = append(j.Allowances, inventoryAllowanceJSON{Type: string(a.Type), Service: string(a.Service),
				Description: a.Description, Amount: amount, Unit: unit, Unlimited: a.Unlimited})
		}
		for _, batch := range it.Batches {
			j.Available = append(j.Available, inventoryBatchJSON{ID: batch.ID, Total: batch.Total, Remaining: batch.Remaining,
				Expiry: batch.ExpiresAt.Format(time.DateOnly)})
		}
		out.Bundles = append(out.Bundles, j)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// allowanceUnit is an allowance's catalogue unit and amount (data in MB).
func allowanceUnit(a catalogue.Allowance) (string, int64) {
	if a.Unlimited {
		switch a.Type {
		case catalogue.AllowanceVoice:
			return "MINS", 0
		case catalogue.AllowanceSMS:
			return "SMS", 0
		}
		return "MB", 0
	}
	switch a.Type {
	case catalogue.AllowanceVoice:
		return "MINS", a.Amount
	case catalogue.AllowanceSMS:
		return "SMS", a.Amount
	}
	return "MB", a.Amount / 1_000_000
}

type statusBody struct {
	Status string `json:"status"`
}

// POST /inventory/refund
func (s *Server) refundInventory(w http.ResponseWriter, r *request) error {
	body, err := readBody(w, r.Request)
	if err != nil {
		return err
	}
	f, err := decodeObject(body)
	if err != nil {
		return err
	}
	usageID, ok, err := f.integer("usageId", "usageID")
	if err != nil {
		return err
	}
	if !ok {
		return fault.Invalidf("usageId is required: the id of a batch in GET /inventory")
	}
	qty, ok, err := f.integer("quantity")
	if err != nil {
		return err
	}
	if !ok {
		return fault.Invalidf("quantity is required: how many unused bundles of the batch to refund")
	}
	if _, err := s.cfg.Orders.RefundInventory(r.Context(), r.org.ID, int64(usageID), qty); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "Successfully refunded bundles to balance"})
	return nil
}

// POST /organisation/balance?amount=
func (s *Server) topUp(w http.ResponseWriter, r *request) error {
	v := r.URL.Query().Get("amount")
	if v == "" {
		return fault.Invalidf("amount is required as a query parameter, e.g. ?amount=1000")
	}
	amount, err := money.Parse(v)
	if err != nil || amount <= 0 {
		return fault.Invalidf("amount must be a positive decimal number, got %q", truncateText(v, 40))
	}
	o, entry, err := s.cfg.Orders.TopUp(r.Context(), r.org.ID, amount)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, struct {
		Amount  money.Amount `json:"amount"`
		Balance money.Amount `json:"balance"`
		Ref     int64        `json:"ref"`
	}{amount, entry.BalanceAfter, o.ID})
	return nil
}

type appliedESIMJSON struct {
	ICCID  string `json:"iccid"`
	Status string `json:"status"`
	Bundle string `json:"bundle"`
}

// POST /esims/apply
func (s *Server) applyBundles(w http.ResponseWriter, r *request) error {
	body, err := readBody(w, r.Request)
	if err != nil {
		return err
	}
	req, err := decodeApplyRequest(body)
	if err != nil {
		return err
	}
	applied, err := s.cfg.Orders.Apply(r.Context(), r.org.ID, req)
	if err != nil {
		return err
	}
	status := "Successfully Applied Bundle"
	if r.version >= 24 {
		status = "ACTIVE"
	}
	out := struct {
		ESIMs          []appliedESIMJSON `json:"esims"`
		ApplyReference string            `json:"applyReference"`
	}{ESIMs: make([]appliedESIMJSON, 0, len(applied.Units)), ApplyReference: applied.Order.Reference}
	for _, u := range applied.Units {
		out.ESIMs = append(out.ESIMs, appliedESIMJSON{ICCID: u.ICCID, Status: status, Bundle: u.Bundle})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// decodeApplyRequest reads every form of an apply: {iccid?, name,
// repeat?, allowReassign?}, {bundles: […]}, and the older "Bundle",
// "Bundles" spellings.
func decodeApplyRequest(body []byte) (orders.ApplyRequest, error) {
	f, err := decodeObject(body)
	if err != nil {
		return orders.ApplyRequest{}, err
	}
	var req orders.ApplyRequest
	if req.ICCID, err = f.str("iccid", "ICCID"); err != nil {
		return req, err
	}
	if req.ICCID != "" {
		if err := esims.CheckICCID(req.ICCID); err != nil {
			return req, err
		}
	}
	entry := func(o fields) (orders.ApplyEntry, error) {
		var e orders.ApplyEntry
		var err error
		if e.Name, err = o.str("name", "Name", "bundle", "Bundle"); err != nil {
			return e, err
		}
		if e.Repeat, _, err = o.integer("repeat", "Repeat"); err != nil {
			return e, err
		}
		if e.AllowReassign, err = o.boolean("allowReassign", "AllowReassign"); err != nil {
			return e, err
		}
		return e, nil
	}
	list, _, err := f.objects("bundles", "Bundles")
	if err != nil {
		return req, err
	}
	if list == nil {
		e, err := entry(f)
		if err != nil {
			return req, err
		}
		if e.Name == "" {
			return req, fault.Invalidf("name is required: the bundle to apply from your inventory (or bundles: [{\"name\": …}])")
		}
		req.Entries = []orders.ApplyEntry{e}
		return req, nil
	}
	if len(list) == 0 {
		return req, fault.Invalidf("bundles must list at least one {\"name\": …}")
	}
	for i, o := range list {
		e, err := entry(o)
		if err != nil {
			return req, fault.Invalidf("bundle %d: %s", i+1, fault.MessageOf(err))
		}
		if e.Name == "" {
			return req, fault.Invalidf("bundle %d: name is required", i+1)
		}
		req.Entries = append(req.Entries, e)
	}
	return req, nil
}

// POST /esims/{iccid}/bundles (deprecated): apply from inventory to one eSIM.
func (s *Server) applyToESIM(w http.ResponseWriter, r *request) error {
	iccid := r.PathValue("iccid")
	if err := esims.CheckICCID(iccid); err != nil {
		return err
	}
	body, err := readBody(w, r.Request)
	if err != nil {
		return err
	}
	f, err := decodeObject(body)
	if err != nil {
		return err
	}
	name, err := f.str("name", "Name")
	if err != nil {
		return err
	}
	if name == "" {
		return fault.Invalidf("name is required: the bundle to apply from your inventory")
	}
	repeat, _, err := f.integer("repeat")
	if err != nil {
		return err
	}
	if repeat < 0 || repeat > 100 {
		return fault.Invalidf("repeat must be 1 to 100, got %d", repeat)
	}
	// startTime (notes §2.2): when a bundle with autostart false starts;
	// empty, it starts on first use. Bundles that start automatically
	// start on first use whatever it says.
	startText, err := f.str("startTime", "StartTime")
	if err != nil {
		return err
	}
	var start time.Time
	if startText != "" {
		if start, err = time.Parse(time.RFC3339Nano, startText); err != nil {
			return fault.Invalidf("startTime must be an RFC 3339 time such as 2026-12-01T09:00:00Z (or left out to start on first use), got %q", truncateText(startText, 60))
		}
	}
	req := orders.ApplyRequest{ICCID: iccid}
	for range max(repeat, 1) {
		req.Entries = append(req.Entries, orders.ApplyEntry{Name: name, StartTime: start})
	}
	if _, err := s.cfg.Orders.Apply(r.Context(), r.org.ID, req); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusBody{Status: "Successfully Applied Bundle"})
	return nil
}

// DELETE /esims/{iccid}/bundles/{name}
func (s *Server) revokeByName(w http.ResponseWriter, r *request) error {
	var id int64
	if offer := r.URL.Query().Get("offerId"); offer != "" {
		n, err := strconv.ParseInt(offer, 10, 64)
		if err != nil || n <= 0 {
			return fault.Invalidf("offerId must be an assignment id (GET /esims/{iccid}/bundles lists them), got %q", truncateText(offer, 40))
		}
		id = n
	}
	return s.revoke(w, r, id)
}

// DELETE /esims/{iccid}/bundles/{name}/assignments/{assignmentId} (and the
// deprecated …/applications/{assignmentId}).
func (s *Server) revokeAssignment(w http.ResponseWriter, r *request) error {
	v := r.PathValue("assignmentId")
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id <= 0 {
		return fault.Invalidf("assignmentId must be an assignment id (GET /esims/{iccid}/bundles lists them), got %q", truncateText(v, 40))
	}
	return s.revoke(w, r, id)
}

func (s *Server) revoke(w http.ResponseWriter, r *request, assignmentID int64) error {
	req := orders.RevokeRequest{ICCID: r.PathValue("iccid"), BundleName: r.PathValue("name"), AssignmentID: assignmentID}
	switch t := r.URL.Query().Get("type"); t {
	case "", "transaction":
	case "validate":
		req.ValidateOnly = true
	default:
		return fault.Invalidf("type must be validate or transaction, got %q", truncateText(t, 40))
	}
	var err error
	if req.RefundToBalance, err = queryBool(r, "refundToBalance"); err != nil {
		return err
	}
	if err := esims.CheckICCID(req.ICCID); err != nil {
		return err
	}
	status, err := s.cfg.Orders.Revoke(r.Context(), r.org.ID, req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, statusBody{Status: status})
	return nil
}
