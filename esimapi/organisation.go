package esimapi

import (
	"context"
	"encoding/json"
	"errors"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Organisation is the caller's organisation.
type Organisation struct {
	Name string `json:"name"`
	// APIKey shows only a hint of the key on esimd.
	APIKey             string   `json:"apiKey"`
	TaxLiable          string   `json:"taxLiable"`
	Addr1              string   `json:"addr1"`
	Addr2              string   `json:"addr2"`
	City               string   `json:"city"`
	Country            string   `json:"country"`
	Postcode           string   `json:"postcode"`
	CallbackURL        string   `json:"callbackUrl"`
	Notes              string   `json:"notes"`
	Groups             []string `json:"groups"`
	Currency           string   `json:"currency"`
	Balance            Money    `json:"balance"`
	TestCredit         Money    `json:"testCredit"`
	TestCreditExpiry   string   `json:"testCreditExpiry,omitempty"`
	BusinessType       string   `json:"businessType"`
	Website            string   `json:"website"`
	ProductDescription string   `json:"productDescription"`
	Users              []User   `json:"users"`
}

// User is a portal user of the organisation.
type User struct {
	FirstName    string `json:"firstName"`
	LastName     string `json:"lastName"`
	Role         string `json:"role"`
	EmailAddress string `json:"emailAddress"`
	PhoneNumber  string `json:"phoneNumber"`
	TimeZone     string `json:"timeZone"`
}

// Organisation calls GET /organisation. It reads both the live API's
// {"organisations": [ … ]} and the document's bare object.
func (c *Client) Organisation(ctx context.Context, opts ...CallOption) (Organisation, error) {
	var raw json.RawMessage
	path := c.api("/organisation")
	if err := c.do(ctx, call{method: http.MethodGet, path: path, opts: opts}, &raw); err != nil {
		return Organisation{}, err
	}
	var wrapped struct {
		Organisations []Organisation `json:"organisations"`
	}
	if err := json.Unmarshal(raw, &wrapped); err == nil && wrapped.Organisations != nil {
		if len(wrapped.Organisations) == 0 {
			return Organisation{}, decodeError(http.MethodGet, path, errors.New("the organisations list is empty"))
		}
		return wrapped.Organisations[0], nil
	}
	var o Organisation
	if err := json.Unmarshal(raw, &o); err != nil {
		return o, decodeError(http.MethodGet, path, err)
	}
	return o, nil
}

// Group is a bundle group the organisation may order from.
type Group struct {
	Name         string `json:"name"`
	PriceListURL string `json:"priceListUrl,omitempty"`
	Desc         string `json:"desc,omitempty"`
	Icon         string `json:"icon,omitempty"`
}

// Groups calls GET /organisation/groups ({groups: […]}, or the bare array
// of v2.2 and older).
func (c *Client) Groups(ctx context.Context, opts ...CallOption) ([]Group, error) {
	var raw json.RawMessage
	path := c.api("/organisation/groups")
	if err := c.do(ctx, call{method: http.MethodGet, path: path, opts: opts}, &raw); err != nil {
		return nil, err
	}
	var out struct {
		Groups []Group `json:"groups"`
	}
	var err error
	if isArray(raw) {
		err = json.Unmarshal(raw, &out.Groups)
	} else {
		err = json.Unmarshal(raw, &out)
	}
	if err != nil {
		return nil, decodeError(http.MethodGet, path, err)
	}
	return out.Groups, nil
}

// TopUpResult is the answer of a top-up.
type TopUpResult struct {
	Amount  Money `json:"amount"`
	Balance Money `json:"balance"`
	// Ref identifies the top-up.
	Ref int64 `json:"ref"`
}

// TopUp calls POST /organisation/balance?amount=: charges the saved card
// on eSIM Go; on esimd it credits sandbox organisations (at least 1000, at
// most 5000 a day) and is refused for live ones.
func (c *Client) TopUp(ctx context.Context, amount Money, opts ...CallOption) (TopUpResult, error) {
	var r TopUpResult
	err := c.do(ctx, call{method: http.MethodPost, path: c.api("/organisation/balance"),
		query: url.Values{"amount": {amount.String()}}, opts: opts}, &r)
	return r, err
}

// LedgerPage is a page of esimd's balance history.
type LedgerPage struct {
	Currency string `json:"currency"`
	// Balance is the balance now.
	Balance Money         `json:"balance"`
	Entries []LedgerEntry `json:"entries"`
	// Next is the after value of the next page; 0 on the last page.
	Next int64 `json:"next,omitempty"`
}

// LedgerEntry is one change of the balance.
type LedgerEntry struct {
	ID int64 `json:"id"`
	// Kind is credit, topup, order, refund or adjustment.
	Kind         string    `json:"kind"`
	Amount       Money     `json:"amount"`
	BalanceAfter Money     `json:"balanceAfter"`
	Reference    string    `json:"reference"`
	Description  string    `json:"description"`
	CreatedAt    time.Time `json:"createdAt"`
}

// Ledger calls GET /esimd/v1/ledger (an esimd extension): the entries
// after the entry with ID after, oldest first, at most limit (0: the
// server's default of 100).
func (c *Client) Ledger(ctx context.Context, after int64, limit int, opts ...CallOption) (LedgerPage, error) {
	v := url.Values{}
	if after > 0 {
		v.Set("after", strconv.FormatInt(after, 10))
	}
	setInt(v, "limit", limit)
	var p LedgerPage
	err := c.do(ctx, call{method: http.MethodGet, path: "/esimd/v1/ledger", query: v, opts: opts}, &p)
	return p, err
}

// AllLedgerEntries walks the whole ledger, oldest first.
func (c *Client) AllLedgerEntries(ctx context.Context, opts ...CallOption) iter.Seq2[LedgerEntry, error] {
	return func(yield func(LedgerEntry, error) bool) {
		var after int64
		for {
			p, err := c.Ledger(ctx, after, 100, opts...)
			if err != nil {
				yield(LedgerEntry{}, err)
				return
			}
			for _, e := range p.Entries {
				if !yield(e, nil) {
					return
				}
			}
			if p.Next == 0 || len(p.Entries) == 0 {
				return
			}
			after = p.Next
		}
	}
}
