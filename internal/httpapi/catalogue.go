package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
)

// countryJSON is {name, region, iso}, as eSIM Go writes countries.
type countryJSON struct {
	Name   string `json:"name"`
	Region string `json:"region"`
	ISO    string `json:"iso"`
}

type catalogueAllowanceJSON struct {
	Type        string `json:"type"`
	Service     string `json:"service"`
	Description string `json:"description"`
	Amount      int64  `json:"amount"`
	Unit        string `json:"unit"`
	Unlimited   bool   `json:"unlimited"`
}

// bundleJSON is a catalogue bundle on the wire. Group is set only on the
// single-bundle answer, which the v2.5 document spells "group" while list
// items say "groups" (notes 0.4.2: send both there).
type bundleJSON struct {
	Name           string                   `json:"name"`
	Description    string                   `json:"description"`
	Groups         []string                 `json:"groups"`
	Group          []string                 `json:"group,omitempty"`
	Countries      []countryJSON            `json:"countries"`
	DataAmount     int64                    `json:"dataAmount"`
	Duration       int                      `json:"duration"`
	Speed          []string                 `json:"speed"`
	Autostart      bool                     `json:"autostart"`
	Unlimited      bool                     `json:"unlimited"`
	RoamingEnabled []countryJSON            `json:"roamingEnabled"`
	Price          money.Amount             `json:"price"`
	BillingType    string                   `json:"billingType"`
	ProfileName    string                   `json:"profileName"`
	Allowances     []catalogueAllowanceJSON `json:"allowances"`
}

func countriesJSON(snap *catalogue.Snapshot, isos []string) []countryJSON {
	out := make([]countryJSON, 0, len(isos))
	for _, iso := range isos {
		c, _ := snap.Country(iso)
		out = append(out, countryJSON{Name: c.Name, Region: c.Region, ISO: iso})
	}
	return out
}

func newBundleJSON(snap *catalogue.Snapshot, b *catalogue.Bundle, detail bool) bundleJSON {
	out := bundleJSON{
		Name: b.Name, Description: b.Description, Groups: nonNilStrings(b.Groups),
		Countries: countriesJSON(snap, b.Countries), DataAmount: dataAmountMB(b), Duration: b.DurationDays,
		Speed: nonNilStrings(b.Speeds), Autostart: b.Autostart, Unlimited: b.Unlimited,
		RoamingEnabled: countriesJSON(snap, b.Roaming), Price: b.Price, BillingType: b.BillingType,
		ProfileName: b.Profile, Allowances: make([]catalogueAllowanceJSON, 0, len(b.Allowances)),
	}
	if out.BillingType == "" {
		out.BillingType = catalogue.BillingFixedCost
	}
	if detail {
		out.Group = out.Groups
	}
	for _, a := range b.Allowances {
		j := catalogueAllowanceJSON{Type: string(a.Type), Service: string(a.Service), Description: a.Description, Amount: a.Amount, Unlimited: a.Unlimited}
		switch a.Type {
		case catalogue.AllowanceData:
			j.Unit, j.Amount = "MB", a.Amount/1_000_000
		case catalogue.AllowanceVoice:
			j.Unit = "MINS"
		case catalogue.AllowanceSMS:
			j.Unit = "SMS"
		}
		if a.Unlimited {
			j.Amount = 0
		}
		out.Allowances = append(out.Allowances, j)
	}
	return out
}

// dataAmountMB is the catalogue's dataAmount: base-10 megabytes, -1 for
// unlimited bundles.
func dataAmountMB(b *catalogue.Bundle) int64 {
	if b.Unlimited {
		return -1
	}
	return b.DataBytes / 1_000_000
}

func nonNilStrings(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// encodedCatalogue holds every bundle's wire form for one snapshot: the
// catalogue is read far more often than it changes, and encoding 6,000
// bundles per request would dominate GET /catalogue.
type encodedCatalogue struct {
	snap   *catalogue.Snapshot
	list   [][]byte
	detail [][]byte
}

type encodedCatalogueCache struct {
	mu  sync.Mutex
	cur *encodedCatalogue
}

func (c *encodedCatalogueCache) get(snap *catalogue.Snapshot) *encodedCatalogue {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.cur != nil && c.cur.snap == snap {
		return c.cur
	}
	e := &encodedCatalogue{snap: snap, list: make([][]byte, len(snap.Bundles)), detail: make([][]byte, len(snap.Bundles))}
	for i := range snap.Bundles {
		var err error
		if e.list[i], err = json.Marshal(newBundleJSON(snap, &snap.Bundles[i], false)); err != nil {
			panic(err) // plain structs of strings and numbers always encode
		}
		if e.detail[i], err = json.Marshal(newBundleJSON(snap, &snap.Bundles[i], true)); err != nil {
			panic(err)
		}
	}
	c.cur = e
	return e
}

// isoPattern accepts ISO 3166 alpha-2 codes and the few longer codes the
// rate sheet uses (CYP, US-HI).
var isoPattern = regexp.MustCompile(`^[A-Z]{2,3}(-[A-Z]{2})?$`)

// splitList splits a comma-separated query value, trimming spaces and
// dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func queryInt(q map[string][]string, name string) (int, bool, error) {
	vs := q[name]
	if len(vs) == 0 || vs[0] == "" {
		return 0, false, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(vs[0]))
	if err != nil {
		return 0, false, fault.Invalidf("%s must be a whole number, got %q", name, vs[0])
	}
	return n, true, nil
}

// maxPage bounds page on every paged route: the offset (page − 1) × page
// size must fit a 64-bit integer (an overflow was a negative OFFSET, which
// PostgreSQL refuses and SQLite reads as 0), and no list has a billion
// pages.
const maxPage = 1_000_000_000

// queryPage parses the page parameter of a paged route: absent, or a
// whole number from 1 to maxPage.
func queryPage(q map[string][]string) (page int, set bool, err error) {
	n, set, err := queryInt(q, "page")
	if err != nil || !set {
		return 0, set, err
	}
	if n < 1 || n > maxPage {
		return 0, false, fault.Invalidf("page must be a whole number from 1 to %d, got %d", maxPage, n)
	}
	return n, true, nil
}

func parseISOs(param, v string) ([]string, error) {
	var out []string
	for _, iso := range splitList(v) {
		iso = strings.ToUpper(iso)
		if !isoPattern.MatchString(iso) {
			return nil, fault.Invalidf("%s must be comma-separated ISO country codes such as GB, US; %q is not one", param, iso)
		}
		out = append(out, iso)
	}
	return out, nil
}

// GET /catalogue
func (s *Server) listCatalogue(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	var cq catalogue.Query
	var err error
	var set bool
	if cq.Page, _, err = queryPage(q); err != nil {
		return err
	}
	if cq.PerPage, set, err = queryInt(q, "perPage"); err != nil {
		return err
	} else if set && cq.PerPage < 1 {
		return fault.Invalidf("perPage must be 1 or more, got %d", cq.PerPage)
	}
	switch d := strings.ToLower(q.Get("direction")); d {
	case "", "asc":
	case "desc":
		cq.Descending = true
	default:
		return fault.Invalidf("direction must be asc or desc, got %q", q.Get("direction"))
	}
	cq.OrderBy = q.Get("orderBy")
	cq.Description = strings.TrimSpace(q.Get("description"))
	cq.Group = strings.TrimSpace(q.Get("group"))
	cq.Region = strings.TrimSpace(q.Get("region"))
	if cq.Countries, err = parseISOs("countries", q.Get("countries")); err != nil {
		return err
	}
	cq.AllowedGroups = r.org.Groups
	snap := s.cfg.Catalogue.Current(r.Context())
	page, err := snap.List(cq)
	if err != nil {
		return err
	}
	enc := s.encoded.get(snap)
	size := 64
	for _, i := range page.Bundles {
		size += len(enc.list[i]) + 1
	}
	var b bytes.Buffer
	b.Grow(size)
	b.WriteString(`{"bundles":[`)
	for n, i := range page.Bundles {
		if n > 0 {
			b.WriteByte(',')
		}
		b.Write(enc.list[i])
	}
	b.WriteString(`],"pageCount":`)
	b.WriteString(strconv.Itoa(page.Pages))
	b.WriteString(`,"rows":`)
	b.WriteString(strconv.Itoa(page.Rows))
	b.WriteString(`,"pageSize":`)
	b.WriteString(strconv.Itoa(page.PageSize))
	b.WriteByte('}')
	writeRaw(w, http.StatusOK, b.Bytes())
	return nil
}

// GET /catalogue/bundle/{name}
func (s *Server) getBundle(w http.ResponseWriter, r *request) error {
	name := r.PathValue("name")
	snap := s.cfg.Catalogue.Current(r.Context())
	i, ok := snap.Index(name)
	if !ok || !snap.Bundles[i].VisibleTo(r.org.Groups) {
		return fault.NotFoundf("bundle %q is not in the catalogue; names are case-sensitive (GET /catalogue lists them)", name)
	}
	writeRaw(w, http.StatusOK, s.encoded.get(snap).detail[i])
	return nil
}

type groupJSON struct {
	Name string `json:"name"`
}

// GET /organisation/groups: a bare array up to v2.2, {groups: […]} after.
func (s *Server) listGroups(w http.ResponseWriter, r *request) error {
	snap := s.cfg.Catalogue.Current(r.Context())
	groups := []groupJSON{}
	for _, g := range snap.Groups(r.org.Groups) {
		groups = append(groups, groupJSON{Name: g})
	}
	if r.version <= 22 {
		writeJSON(w, http.StatusOK, groups)
		return nil
	}
	writeJSON(w, http.StatusOK, struct {
		Groups []groupJSON `json:"groups"`
	}{groups})
	return nil
}

// GET /organisation/groups/{group}/countries (v2.1-era): the base countries
// of the group's bundles.
func (s *Server) listGroupCountries(w http.ResponseWriter, r *request) error {
	group := r.PathValue("group")
	snap := s.cfg.Catalogue.Current(r.Context())
	page, err := snap.List(catalogue.Query{Group: group, AllowedGroups: r.org.Groups})
	if err != nil {
		return err
	}
	if page.Rows == 0 {
		return fault.NotFoundf("group %q has no bundles; GET /organisation/groups lists the groups", group)
	}
	seen := map[string]bool{}
	var isos []string
	for _, i := range page.Bundles {
		for _, iso := range snap.Bundles[i].Countries {
			if !seen[iso] {
				seen[iso] = true
				isos = append(isos, iso)
			}
		}
	}
	writeJSON(w, http.StatusOK, countriesJSON(snap, isos))
	return nil
}

type networkJSON struct {
	Name      string   `json:"name"`
	BrandName string   `json:"brandName"`
	MCC       string   `json:"mcc"`
	MNC       string   `json:"mnc"`
	TADIG     string   `json:"tagid"` // sic: eSIM Go's spelling
	Speed     []string `json:"speed"`
}

type countryNetworksJSON struct {
	Name     string        `json:"name"`
	Networks []networkJSON `json:"networks"`
}

// GET /networks
func (s *Server) listNetworks(w http.ResponseWriter, r *request) error {
	q := r.URL.Query()
	var nq catalogue.NetworkQuery
	switch v := strings.ToLower(strings.TrimSpace(q.Get("returnAll"))); v {
	case "", "false":
	case "true":
		nq.All = true
	default:
		return fault.Invalidf("returnAll must be true or false, got %q", q.Get("returnAll"))
	}
	nq.CountryNames = splitList(q.Get("countries"))
	var err error
	if nq.ISOs, err = parseISOs("isos", q.Get("isos")); err != nil {
		return err
	}
	snap := s.cfg.Catalogue.Current(r.Context())
	found, err := snap.Networks(nq)
	if err != nil {
		return err
	}
	out := struct {
		CountryNetworks []countryNetworksJSON `json:"countryNetworks"`
	}{CountryNetworks: make([]countryNetworksJSON, 0, len(found))}
	for _, cn := range found {
		nets := make([]networkJSON, 0, len(cn.Networks))
		for _, n := range cn.Networks {
			nets = append(nets, networkJSON{Name: n.Name, BrandName: n.Brand, MCC: n.MCC, MNC: n.MNC, TADIG: n.TADIG, Speed: nonNilStrings(n.Speeds)})
		}
		out.CountryNetworks = append(out.CountryNetworks, countryNetworksJSON{Name: cn.ISO, Networks: nets})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// GET / (v2.4 and older): the list of endpoints, as "METHOD /path" strings.
func (s *Server) apiDetails(w http.ResponseWriter, r *request) error {
	var out []string
	for _, rt := range s.apiRoutes() {
		if rt.path == "/{$}" || (rt.minVersion != 0 && r.version < rt.minVersion) || (rt.maxVersion != 0 && r.version > rt.maxVersion) {
			continue
		}
		out = append(out, rt.method+" "+rt.path)
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// GET /catalogue/prices (v2.5) is for consumption-billing partners; esimd
// bills bundles at a fixed cost, so every organisation gets eSIM Go's 403.
func (s *Server) cataloguePrices(w http.ResponseWriter, r *request) error {
	return fault.Forbiddenf("the Organisation is not a Consumption partner: its bundles are billed at a fixed cost (GET /catalogue)")
}
