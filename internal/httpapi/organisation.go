package httpapi

import (
	"net/http"

	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

type organisationJSON struct {
	Name               string       `json:"name"`
	APIKey             string       `json:"apiKey"`
	TaxLiable          string       `json:"taxLiable"`
	Addr1              string       `json:"addr1"`
	Addr2              string       `json:"addr2"`
	City               string       `json:"city"`
	Country            string       `json:"country"`
	Postcode           string       `json:"postcode"`
	CallbackURL        string       `json:"callbackUrl"`
	Notes              string       `json:"notes"`
	Groups             []string     `json:"groups"`
	Currency           string       `json:"currency"`
	Balance            money.Amount `json:"balance"`
	TestCredit         money.Amount `json:"testCredit"`
	BusinessType       string       `json:"businessType"`
	Website            string       `json:"website"`
	ProductDescription string       `json:"productDescription"`
	Users              []struct{}   `json:"users"`
}

// GET /organisation: the live API wraps the organisation in a one-element
// list (notes 0.3.2). Keys are stored hashed, so apiKey shows the key's hint.
func (s *Server) getOrganisation(w http.ResponseWriter, r *request) error {
	// Read afresh: authentication may answer from a cache a second old,
	// and the balance must be exact.
	o, err := s.cfg.Orgs.Get(r.Context(), r.org.ID)
	if err != nil {
		return err
	}
	p := o.Profile
	groups := o.Groups
	if len(groups) == 0 {
		groups = s.cfg.Catalogue.Current(r.Context()).Groups(nil)
	}
	key := r.Header.Get("X-API-Key")
	if key == "" {
		key = r.URL.Query().Get("api_key")
	}
	body := organisationJSON{
		Name: o.Name, APIKey: maskKey(key), TaxLiable: p.TaxLiable, Addr1: p.Addr1, Addr2: p.Addr2, City: p.City,
		Country: p.Country, Postcode: p.Postcode, CallbackURL: o.CallbackURL, Notes: p.Notes,
		Groups: nonNilStrings(groups), Currency: o.Currency, Balance: o.Balance, BusinessType: p.BusinessType,
		Website: p.Website, ProductDescription: p.ProductDescription, Users: []struct{}{},
	}
	writeJSON(w, http.StatusOK, struct {
		Organisations []organisationJSON `json:"organisations"`
	}{[]organisationJSON{body}})
	return nil
}

// maskKey shows the caller's own key as its stored hint shows it.
func maskKey(key string) string { return orgs.KeyHint(key) }
