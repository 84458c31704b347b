package esimapi

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Country is a country as the catalogue names it.
type Country struct {
	Name   string `json:"name"`
	Region string `json:"region"`
	ISO    string `json:"iso"`
}

// Allowance is what a bundle gives: data, voice minutes or SMS.
type Allowance struct {
	Type        string  `json:"type"`    // DATA, VOICE, SMS
	Service     string  `json:"service"` // STANDARD, ROAMING
	Description string  `json:"description"`
	Amount      float64 `json:"amount"` // in Unit
	Unit        string  `json:"unit"`   // MB, MINS, SMS
	Unlimited   bool    `json:"unlimited"`
}

// Bundle is a catalogue bundle.
type Bundle struct {
	// Name is the case-sensitive name used to order it (esim_1GB_7D_GB_V2).
	Name        string   `json:"name"`
	Description string   `json:"description"`
	Groups      []string `json:"groups"`
	// Countries are the base countries; RoamingEnabled are the others
	// where the bundle works.
	Countries []Country `json:"countries"`
	// DataAmount is in megabytes (1000 per GB); esimd sends -1 for
	// unlimited bundles. Deprecated in v2.5 in favour of Allowances.
	DataAmount int64 `json:"dataAmount"`
	// Duration is the validity in days.
	Duration       int         `json:"duration"`
	Speed          []string    `json:"speed"`
	Autostart      bool        `json:"autostart"`
	Unlimited      bool        `json:"unlimited"`
	RoamingEnabled []Country   `json:"roamingEnabled"`
	ImageURL       string      `json:"imageUrl,omitempty"`
	Price          Money       `json:"price"`
	BillingType    string      `json:"billingType"`
	ProfileName    string      `json:"profileName"`
	Allowances     []Allowance `json:"allowances"`
}

// UnmarshalJSON also reads "group", the single-bundle answer's spelling.
func (b *Bundle) UnmarshalJSON(data []byte) error {
	type plain Bundle
	var w struct {
		*plain
		Group []string `json:"group"`
	}
	w.plain = (*plain)(b)
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	if len(b.Groups) == 0 && len(w.Group) > 0 {
		b.Groups = w.Group
	}
	return nil
}

// CatalogueQuery filters and pages GET /catalogue. Zero fields are not sent.
type CatalogueQuery struct {
	// Page counts from 1. PerPage 0 lets the server choose (esimd: all
	// bundles on one page).
	Page, PerPage int
	// Direction is "asc" or "desc"; OrderBy a column such as "price".
	Direction, OrderBy string
	// Description matches a substring (or a pattern with * or %).
	Description string
	// Group is an exact group name ("Standard Fixed").
	Group string
	// Countries are ISO codes: a bundle matches if one is a base country.
	Countries []string
	// Region is a region name ("Europe").
	Region string
}

func (q CatalogueQuery) values() url.Values {
	v := url.Values{}
	setInt(v, "page", q.Page)
	setInt(v, "perPage", q.PerPage)
	setStr(v, "direction", q.Direction)
	setStr(v, "orderBy", q.OrderBy)
	setStr(v, "description", q.Description)
	setStr(v, "group", q.Group)
	setStr(v, "countries", strings.Join(q.Countries, ","))
	setStr(v, "region", q.Region)
	return v
}

func setInt(v url.Values, k string, n int) {
	if n != 0 {
		v.Set(k, strconv.Itoa(n))
	}
}

func setStr(v url.Values, k, s string) {
	if s != "" {
		v.Set(k, s)
	}
}

// CataloguePage is one page of the catalogue.
type CataloguePage struct {
	Bundles []Bundle `json:"bundles"`
	// PageCount is the number of pages, Rows the number of matching
	// bundles, PageSize the bundles per page.
	PageCount int `json:"pageCount"`
	Rows      int `json:"rows"`
	PageSize  int `json:"pageSize"`
}

// UnmarshalJSON also reads the bare array the vendor's document declares.
func (p *CataloguePage) UnmarshalJSON(data []byte) error {
	if isArray(data) {
		*p = CataloguePage{PageCount: 1}
		if err := json.Unmarshal(data, &p.Bundles); err != nil {
			return err
		}
		p.Rows, p.PageSize = len(p.Bundles), len(p.Bundles)
		return nil
	}
	type plain CataloguePage
	return json.Unmarshal(data, (*plain)(p))
}

func isArray(data []byte) bool {
	for _, c := range data {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '[':
			return true
		}
		return false
	}
	return false
}

// ListCatalogue calls GET /catalogue: one page of the bundles the
// organisation may order.
func (c *Client) ListCatalogue(ctx context.Context, q CatalogueQuery, opts ...CallOption) (CataloguePage, error) {
	var p CataloguePage
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/catalogue"), query: q.values(), opts: opts}, &p)
	return p, err
}

// AllBundles walks every page of GET /catalogue (PerPage defaults to 100,
// starting at q.Page or 1). It stops at the first error, which it yields.
func (c *Client) AllBundles(ctx context.Context, q CatalogueQuery, opts ...CallOption) iter.Seq2[Bundle, error] {
	if q.PerPage == 0 {
		q.PerPage = 100
	}
	first := max(q.Page, 1)
	return paginate(ctx, func(ctx context.Context, page int) ([]Bundle, int, error) {
		q.Page = first + page - 1
		p, err := c.ListCatalogue(ctx, q, opts...)
		return p.Bundles, p.PageCount - first + 1, err
	})
}

// Bundle calls GET /catalogue/bundle/{name}. Names are case-sensitive; an
// unknown one is a 400.
func (c *Client) Bundle(ctx context.Context, name string, opts ...CallOption) (Bundle, error) {
	var b Bundle
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/catalogue/bundle/" + esc(name)), opts: opts}, &b)
	return b, err
}

// PriceList is GET /catalogue/prices (v2.5, consumption-billing
// organisations only; others, and esimd, answer 403).
type PriceList struct {
	// Hash changes when any price changes.
	Hash   string         `json:"hash"`
	Prices []CountryPrice `json:"prices"`
}

// CountryPrice lists the per-GB prices of one country.
type CountryPrice struct {
	Country struct {
		ISO  string `json:"iso"`
		Name string `json:"name"`
	} `json:"country"`
	Prices []struct {
		ID       string `json:"id"`
		Price    Money  `json:"price"`
		Currency string `json:"currency"`
		Profile  string `json:"profile"`
	} `json:"prices"`
}

// CataloguePrices calls GET /catalogue/prices.
func (c *Client) CataloguePrices(ctx context.Context, opts ...CallOption) (PriceList, error) {
	var p PriceList
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/catalogue/prices"), opts: opts}, &p)
	return p, err
}

// NetworksQuery selects GET /networks: country names, ISO codes, or all.
type NetworksQuery struct {
	Countries []string // names: "United Kingdom"
	ISOs      []string // ISO codes: "GB"
	ReturnAll bool
}

// CountryNetworks is the networks of one country.
type CountryNetworks struct {
	// Name is the country (esimd sends its ISO code).
	Name     string    `json:"name"`
	Networks []Network `json:"networks"`
}

// Network is a mobile network.
type Network struct {
	Name      string   `json:"name"`
	BrandName string   `json:"brandName"`
	MCC       string   `json:"mcc"`
	MNC       string   `json:"mnc"`
	TADIG     string   `json:"tagid"` // sic: eSIM Go's spelling
	Speed     []string `json:"speed"`
}

// Networks calls GET /networks.
func (c *Client) Networks(ctx context.Context, q NetworksQuery, opts ...CallOption) ([]CountryNetworks, error) {
	v := url.Values{}
	setStr(v, "countries", strings.Join(q.Countries, ","))
	setStr(v, "isos", strings.Join(q.ISOs, ","))
	if q.ReturnAll {
		v.Set("returnAll", "true")
	}
	var out struct {
		CountryNetworks []CountryNetworks `json:"countryNetworks"`
	}
	err := c.do(ctx, call{method: http.MethodGet, path: c.api("/networks"), query: v, opts: opts}, &out)
	return out.CountryNetworks, err
}
