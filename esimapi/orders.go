package esimapi

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"time"

	"github.com/esimd/esimd/esimid"
)

// OrderRequest is a purchase of bundles.
type OrderRequest struct {
	// Assign puts the bundles on eSIMs (new ones, or the ICCIDs given);
	// false buys them into inventory.
	Assign bool
	// ProfileID selects a branding profile (v2.5; Assign only).
	ProfileID string
	Lines     []OrderLine
}

// OrderLine is one bundle of an order.
type OrderLine struct {
	// Item is the bundle name.
	Item     string
	Quantity int
	// ICCIDs are existing eSIMs to top up (Assign only; as many as
	// Quantity).
	ICCIDs []string
	// AllowReassign puts the bundle on a new eSIM when an ICCID given is
	// not compatible with it.
	AllowReassign bool
}

type orderWire struct {
	Type      string          `json:"type"`
	Assign    bool            `json:"assign"`
	Order     []orderLineWire `json:"order"`
	ProfileID string          `json:"profileID,omitempty"`
}

type orderLineWire struct {
	Type          string   `json:"type"`
	Item          string   `json:"item"`
	Quantity      int      `json:"quantity"`
	ICCIDs        []string `json:"iccids,omitempty"`
	AllowReassign bool     `json:"allowReassign,omitempty"`
}

func (r OrderRequest) wire(typ string) orderWire {
	w := orderWire{Type: typ, Assign: r.Assign, ProfileID: r.ProfileID, Order: make([]orderLineWire, 0, len(r.Lines))}
	for _, l := range r.Lines {
		w.Order = append(w.Order, orderLineWire{Type: "bundle", Item: l.Item, Quantity: l.Quantity, ICCIDs: l.ICCIDs, AllowReassign: l.AllowReassign})
	}
	return w
}

// OrderItem is one line of an order as the server reports it.
type OrderItem struct {
	// ESIMs are the eSIMs of the line (orders of at most five eSIMs, and
	// GET /orders/{reference}).
	ESIMs []OrderESIM `json:"esims,omitempty"`
	// Type is bundle, or bundleAssignment, apiTopup … in listings.
	Type          string   `json:"type"`
	Item          string   `json:"item"`
	ICCIDs        []string `json:"iccids,omitempty"`
	Quantity      int      `json:"quantity"`
	SubTotal      Money    `json:"subTotal"`
	PricePerUnit  Money    `json:"pricePerUnit"`
	AllowReassign bool     `json:"AllowReassign"` // sic: eSIM Go's capital A
}

// OrderESIM is an eSIM created or topped up by an order.
type OrderESIM struct {
	ICCID       string `json:"iccid"`
	MatchingID  string `json:"matchingId"`
	SMDPAddress string `json:"smdpAddress"`
}

// ActivationCode returns the LPA string (LPA:1$<smdp>$<matchingId>) that
// installs the eSIM, for a QR code or an install link.
func (e OrderESIM) ActivationCode() (esimid.ActivationCode, error) {
	return esimid.NewActivationCode(e.SMDPAddress, e.MatchingID)
}

// OrderValidation is the answer of a validate order: every check ran,
// nothing was charged.
type OrderValidation struct {
	Order       []OrderItem `json:"order"`
	Total       Money       `json:"total"`
	Valid       bool        `json:"valid"`
	Currency    string      `json:"currency"`
	CreatedDate time.Time   `json:"createdDate"`
	Assigned    bool        `json:"assigned"`
}

// Order statuses.
const (
	OrderCompleted  = "completed"
	OrderProcessing = "processing"
	OrderFailed     = "failed" // esimd: an asynchronous order that could not complete (refunded)
)

// Order is a placed order.
type Order struct {
	Order []OrderItem `json:"order"`
	Total Money       `json:"total"`
	// Currency of Total and the prices.
	Currency string `json:"currency"`
	// Status is completed, processing (large orders, esimd) or failed.
	Status         string    `json:"status"`
	StatusMessage  string    `json:"statusMessage"`
	OrderReference string    `json:"orderReference"`
	CreatedDate    time.Time `json:"createdDate"`
	Assigned       bool      `json:"assigned"`
	SourceIP       string    `json:"sourceIP"`
	// RunningBalance is the balance after the order (v2.5).
	RunningBalance Money `json:"runningBalance"`
}

// UnmarshalJSON also reads the legacy listing's "createDate".
func (o *Order) UnmarshalJSON(data []byte) error {
	type plain Order
	var w struct {
		*plain
		CreatedDate flexTime `json:"createdDate"`
		CreateDate  flexTime `json:"createDate"`
	}
	w.plain = (*plain)(o)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	o.CreatedDate = time.Time(w.CreatedDate)
	if o.CreatedDate.IsZero() {
		o.CreatedDate = time.Time(w.CreateDate)
	}
	return nil
}

// Processing reports whether the order is still being assigned in the
// background; [Client.WaitForOrder] waits for it.
func (o Order) Processing() bool { return o.Status == OrderProcessing }

// ESIMs returns the eSIMs of every line.
func (o Order) ESIMs() []OrderESIM {
	var out []OrderESIM
	for _, l := range o.Order {
		out = append(out, l.ESIMs...)
	}
	return out
}

// ICCIDs returns the ICCIDs of every line.
func (o Order) ICCIDs() []string {
	var out []string
	for _, l := range o.Order {
		if len(l.ICCIDs) > 0 {
			out = append(out, l.ICCIDs...)
			continue
		}
		for _, e := range l.ESIMs {
			out = append(out, e.ICCID)
		}
	}
	return out
}

// ValidateOrder calls POST /orders with type "validate": every check of a
// purchase, nothing charged.
func (c *Client) ValidateOrder(ctx context.Context, r OrderRequest, opts ...CallOption) (OrderValidation, error) {
	var v OrderValidation
	err := c.do(ctx, call{method: http.MethodPost, path: c.api("/orders"), body: r.wire("validate"), opts: opts}, &v)
	return v, err
}

// PlaceOrder calls POST /orders with type "transaction": the total is
// debited from the balance. Orders assigning more than five eSIMs answer
// with Status "processing"; [Client.WaitForOrder] returns them completed.
// Send it [WithIdempotencyKey] so that a retry cannot buy twice.
func (c *Client) PlaceOrder(ctx context.Context, r OrderRequest, opts ...CallOption) (Order, error) {
	var o Order
	err := c.do(ctx, call{method: http.MethodPost, path: c.api("/orders"), body: r.wire("transaction"), opts: opts}, &o)
	return o, err
}

// OrdersQuery pages GET /orders.
type OrdersQuery struct {
	// Page counts from 1; Limit is orders per page (server default 50).
	Page, Limit int
	// IncludeICCIDs adds each order's eSIMs.
	IncludeICCIDs bool
	// CreatedAt filters by creation time; conditions are combined.
	CreatedAt []TimeFilter
}

// TimeFilter is a condition on a time: Op is eq, lt, lte, gt or gte.
type TimeFilter struct {
	Op string
	At time.Time
}

// OrderPage is a page of orders, newest first.
type OrderPage struct {
	Orders    []Order `json:"orders"`
	PageCount int     `json:"pageCount"`
	PageSize  int     `json:"pageSize"`
	Rows      int     `json:"rows"`
}

// UnmarshalJSON also reads the legacy bare array.
func (p *OrderPage) UnmarshalJSON(data []byte) error {
	if isArray(data) {
		*p = OrderPage{PageCount: 1}
		if err := json.Unmarshal(data, &p.Orders); err != nil {
			return err
		}
		p.Rows, p.PageSize = len(p.Orders), len(p.Orders)
		return nil
	}
	type plain OrderPage
	return json.Unmarshal(data, (*plain)(p))
}

// ListOrders calls GET /orders.
func (c *Client) ListOrders(ctx context.Context, q OrdersQuery, opts ...CallOption) (OrderPage, error) {
	v := url.Values{}
	setInt(v, "page", q.Page)
	setInt(v, "limit", q.Limit)
	if q.IncludeICCIDs {
		v.Set("includeIccids", "true")
	}
	for _, f := range q.CreatedAt {
		op := f.Op
		if op == "" {
			op = "eq"
		}
		v.Add("createdAt", op+":"+f.At.UTC().Format(time.RFC3339Nano))
	}
	var p OrderPage
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/orders"), query: v, opts: opts}, &p)
	return p, err
}

// AllOrders walks every page of GET /orders, newest first.
func (c *Client) AllOrders(ctx context.Context, q OrdersQuery, opts ...CallOption) iter.Seq2[Order, error] {
	first := max(q.Page, 1)
	return paginate(ctx, func(ctx context.Context, page int) ([]Order, int, error) {
		q.Page = first + page - 1
		p, err := c.ListOrders(ctx, q, opts...)
		return p.Orders, p.PageCount - first + 1, err
	})
}

// Order calls GET /orders/{reference}. While an order is processing the
// server answers 503 with Retry-After, which the client retries under its
// retry policy; [Client.WaitForOrder] waits as long as it takes.
func (c *Client) Order(ctx context.Context, reference string, opts ...CallOption) (Order, error) {
	var o Order
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/orders/" + esc(reference)), opts: opts}, &o)
	return o, err
}

// WaitOptions tunes [Client.WaitForOrder].
type WaitOptions struct {
	// MaxInterval caps the wait between polls (the server's Retry-After
	// otherwise; 1 s when it sends none).
	MaxInterval time.Duration
	// OnPoll, when set, is called before each wait with the number of
	// polls so far and the wait ahead.
	OnPoll func(polls int, wait time.Duration)
}

// WaitForOrder polls GET /orders/{reference} until the order is no longer
// processing, honouring Retry-After and ctx (give ctx a deadline).
func (c *Client) WaitForOrder(ctx context.Context, reference string, w WaitOptions, opts ...CallOption) (Order, error) {
	noRetry := *c
	noRetry.maxRetries = 0
	for polls := 1; ; polls++ {
		o, err := noRetry.Order(ctx, reference, opts...)
		var e *Error
		switch {
		case err == nil && !o.Processing():
			return o, nil
		case err == nil:
		case errors.As(err, &e) && e.StatusCode == http.StatusServiceUnavailable:
		default:
			return o, err
		}
		wait := time.Second
		if e != nil && e.RetryAfter > 0 {
			wait = e.RetryAfter
		}
		if w.MaxInterval > 0 && wait > w.MaxInterval {
			wait = w.MaxInterval
		}
		if w.OnPoll != nil {
			w.OnPoll(polls, wait)
		}
		if err := sleep(ctx, wait); err != nil {
			return Order{}, err
		}
	}
}

// InventoryBundle is a bundle bought into inventory, with its batches.
type InventoryBundle struct {
	Name   string `json:"name"`
	Desc   string `json:"desc"`
	UseDMS bool   `json:"useDms"`
	// Available lists the purchase batches; their ID is the usageId that
	// RefundInventory takes.
	Available []InventoryBatch `json:"available"`
	Countries []string         `json:"countries"`
	// Data is in megabytes (-1 unlimited on esimd).
	Data         int64       `json:"data"`
	Duration     int         `json:"duration"`
	DurationUnit string      `json:"durationUnit"`
	Autostart    bool        `json:"autostart"`
	Unlimited    bool        `json:"unlimited"`
	Speed        []string    `json:"speed"`
	Allowances   []Allowance `json:"allowances"`
}

// Remaining sums the units left over every batch.
func (b InventoryBundle) Remaining() int {
	n := 0
	for _, a := range b.Available {
		n += a.Remaining
	}
	return n
}

// InventoryBatch is one purchase of a bundle into inventory.
type InventoryBatch struct {
	// ID is eSIM Go's usageId.
	ID        int64 `json:"id"`
	Total     int   `json:"total"`
	Remaining int   `json:"remaining"`
	// Expiry is the day the unused units expire (12 months after purchase).
	Expiry time.Time `json:"expiry"`
}

// UnmarshalJSON reads expiry as a date.
func (b *InventoryBatch) UnmarshalJSON(data []byte) error {
	type plain InventoryBatch
	var w struct {
		*plain
		Expiry flexTime `json:"expiry"`
	}
	w.plain = (*plain)(b)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	b.Expiry = time.Time(w.Expiry)
	return nil
}

// Inventory calls GET /inventory.
func (c *Client) Inventory(ctx context.Context, opts ...CallOption) ([]InventoryBundle, error) {
	var out struct {
		Bundles []InventoryBundle `json:"bundles"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/inventory"), opts: opts}, &out)
	return out.Bundles, err
}

// RefundInventory calls POST /inventory/refund: quantity unused units of
// batch usageID back to the balance, where refunds are enabled and inside
// the refund window. It returns the server's status sentence.
func (c *Client) RefundInventory(ctx context.Context, usageID int64, quantity int, opts ...CallOption) (string, error) {
	body := struct {
		UsageID  int64 `json:"usageId"`
		Quantity int   `json:"quantity"`
	}{usageID, quantity}
	return c.status(ctx, call{method: http.MethodPost, path: c.api("/inventory/refund"), body: body, opts: opts})
}
