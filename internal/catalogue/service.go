package catalogue

import (
	"cmp"
	"context"
	"fmt"
	"path"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/esimd/esimd/internal/fault"
)

// Store is what the catalogue needs from the database.
type Store interface {
	// ReplaceCatalogue swaps the whole catalogue in one transaction and
	// returns the new version.
	ReplaceCatalogue(ctx context.Context, d Data) (version string, err error)
	// Catalogue loads the whole catalogue and its version; an empty Data
	// (no bundles) means none was ever imported.
	Catalogue(ctx context.Context) (Data, string, error)
	// CatalogueVersion is cheap: it tells whether a cached copy is stale.
	CatalogueVersion(ctx context.Context) (string, error)
	// InTx runs fn in one transaction; the methods above called with its
	// ctx take part in it.
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
}

// Service answers catalogue questions from an in-memory snapshot that is
// reloaded when the stored version changes (checked at most once per
// recheck interval, so several nodes converge after an import elsewhere).
type Service struct {
	store   Store
	now     func() time.Time
	recheck time.Duration

	snap      atomic.Pointer[Snapshot]
	reloadMu  sync.Mutex
	checkedAt atomic.Int64 // unix nanos of the last version check
}

// NewService returns a Service over store. Call Load before serving.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now, recheck: 5 * time.Second}
}

// Snapshot is one immutable version of the catalogue with its indexes.
type Snapshot struct {
	Data
	Version    string
	byName     map[string]int       // bundle name → index in Bundles
	countries  map[string]Country   // ISO → country
	byCountry  map[string][]int     // ISO → indexes of bundles with that base country
	groups     []string             // distinct groups in first-seen order
	networks   map[string][]Network // ISO → networks, deduplicated by MCC/MNC
	countryISO map[string]string    // lower-case country name → ISO
}

// Load reads the catalogue from the store. It is called at start and after
// an import.
func (s *Service) Load(ctx context.Context) error {
	d, version, err := s.store.Catalogue(ctx)
	if err != nil {
		return fmt.Errorf("load catalogue: %w", err)
	}
	snap, err := newSnapshot(d, version)
	if err != nil {
		return err
	}
	s.snap.Store(snap)
	s.checkedAt.Store(s.now().UnixNano())
	return nil
}

// Empty reports whether no catalogue was ever imported.
func (s *Service) Empty() bool {
	snap := s.snap.Load()
	return snap == nil || len(snap.Bundles) == 0
}

// Import validates d and replaces the whole catalogue with it.
// Errors: Invalid, naming the first bad bundle or network.
func (s *Service) Import(ctx context.Context, d Data) error {
	if _, err := newSnapshot(d, ""); err != nil {
		return err
	}
	if _, err := s.store.ReplaceCatalogue(ctx, d); err != nil {
		return err
	}
	return s.Load(ctx)
}

// Merged says what MergeBundles did.
type Merged struct {
	Added, Replaced, Kept int  // bundles new, replaced by name, left as they were
	Data                  Data // the catalogue after the merge
}

// MergeBundles adds bundles to the stored catalogue, replacing those of the
// same name and keeping every other bundle, country, region and network, in
// one transaction. An empty currency keeps the catalogue's. Errors: Invalid,
// naming the first bad bundle.
func (s *Service) MergeBundles(ctx context.Context, bundles []Bundle, currency string) (Merged, error) {
	var m Merged
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		cur, _, err := s.store.Catalogue(ctx)
		if err != nil {
			return err
		}
		m = merge(cur, bundles)
		if currency != "" {
			m.Data.Currency = currency
		}
		if _, err := newSnapshot(m.Data, ""); err != nil {
			return err
		}
		_, err = s.store.ReplaceCatalogue(ctx, m.Data)
		return err
	})
	if err != nil {
		return Merged{}, err
	}
	return m, s.Load(ctx)
}

// merge puts bundles into cur by name: a bundle of a name cur has takes
// its place, the others come after cur's in the order given.
func merge(cur Data, bundles []Bundle) Merged {
	m := Merged{Data: cur}
	byName := make(map[string]int, len(cur.Bundles))
	m.Data.Bundles = slices.Clone(cur.Bundles)
	for i, b := range m.Data.Bundles {
		byName[b.Name] = i
	}
	replaced := map[string]bool{}
	for _, b := range bundles {
		if i, ok := byName[b.Name]; ok {
			if i < len(cur.Bundles) && !replaced[b.Name] {
				m.Replaced++
				replaced[b.Name] = true
			}
			m.Data.Bundles[i] = b
			continue
		}
		byName[b.Name] = len(m.Data.Bundles)
		m.Data.Bundles = append(m.Data.Bundles, b)
		m.Added++
	}
	m.Kept = len(cur.Bundles) - m.Replaced
	return m
}

// Current returns the snapshot to answer from, reloading it first when the
// stored version moved on. A failed version check keeps serving the cached
// copy: the catalogue is read far more than it changes.
func (s *Service) Current(ctx context.Context) *Snapshot {
	snap := s.snap.Load()
	now := s.now().UnixNano()
	if last := s.checkedAt.Load(); now-last < int64(s.recheck) || !s.checkedAt.CompareAndSwap(last, now) {
		return snap
	}
	v, err := s.store.CatalogueVersion(ctx)
	if err != nil || (snap != nil && v == snap.Version) {
		return snap
	}
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	if cur := s.snap.Load(); cur != nil && cur.Version == v {
		return cur
	}
	if err := s.Load(ctx); err != nil {
		return snap
	}
	return s.snap.Load()
}

func newSnapshot(d Data, version string) (*Snapshot, error) {
	// Bundles are kept in name order, so that an index order is a name
	// order and the default listing needs no string comparisons.
	d.Bundles = slices.Clone(d.Bundles)
	slices.SortStableFunc(d.Bundles, func(a, b Bundle) int { return strings.Compare(a.Name, b.Name) })
	s := &Snapshot{Data: d, Version: version,
		byName: make(map[string]int, len(d.Bundles)), countries: make(map[string]Country, len(d.Countries)),
		byCountry: map[string][]int{}, networks: map[string][]Network{}, countryISO: map[string]string{}}
	for _, c := range d.Countries {
		if c.ISO == "" || c.Name == "" {
			return nil, fault.Invalidf("catalogue: a country needs an ISO code and a name, got %+v", c)
		}
		s.countries[c.ISO] = c
		s.countryISO[strings.ToLower(c.Name)] = c.ISO
	}
	seenGroup := map[string]bool{}
	for i := range d.Bundles {
		b := &d.Bundles[i]
		if err := b.validate(s.countries); err != nil {
			return nil, err
		}
		if _, dup := s.byName[b.Name]; dup {
			return nil, fault.Invalidf("catalogue: bundle %q appears twice", b.Name)
		}
		s.byName[b.Name] = i
		for _, iso := range b.Countries {
			s.byCountry[iso] = append(s.byCountry[iso], i)
		}
		for _, g := range b.Groups {
			if !seenGroup[g] {
				seenGroup[g] = true
				s.groups = append(s.groups, g)
			}
		}
	}
	type netKey struct{ mcc, mnc string }
	seenNet := map[string]map[netKey]int{}
	for _, n := range d.Networks {
		if len(n.MCC) != 3 || len(n.MNC) < 2 || len(n.MNC) > 3 {
			return nil, fault.Invalidf("catalogue: network %q in %s has MCC %q and MNC %q; want 3 and 2–3 digits", n.Name, n.CountryISO, n.MCC, n.MNC)
		}
		if _, ok := s.countries[n.CountryISO]; !ok {
			return nil, fault.Invalidf("catalogue: network %q names unknown country %q", n.Name, n.CountryISO)
		}
		if seenNet[n.CountryISO] == nil {
			seenNet[n.CountryISO] = map[netKey]int{}
		}
		k := netKey{n.MCC, n.MNC}
		if j, ok := seenNet[n.CountryISO][k]; ok {
			// The same network behind several profiles: one entry, best speeds.
			prev := &s.networks[n.CountryISO][j]
			prev.Speeds = mergeSpeeds(prev.Speeds, n.Speeds)
			continue
		}
		seenNet[n.CountryISO][k] = len(s.networks[n.CountryISO])
		n.Speeds = slices.Clone(n.Speeds)
		s.networks[n.CountryISO] = append(s.networks[n.CountryISO], n)
	}
	return s, nil
}

func (b *Bundle) validate(countries map[string]Country) error {
	switch {
	case b.Name == "" || len(b.Name) > 200 || strings.ContainsAny(b.Name, " /?#%\t\r\n"):
		return fault.Invalidf("catalogue: bundle name %q must be 1–200 characters without spaces, '/', '?', '#' or '%%'", b.Name)
	case b.DurationDays <= 0:
		return fault.Invalidf("catalogue: bundle %q needs a duration of at least one day", b.Name)
	case b.Price < 0:
		return fault.Invalidf("catalogue: bundle %q has a negative price", b.Name)
	case !b.Unlimited && b.DataBytes <= 0 && !hasNonData(b.Allowances):
		return fault.Invalidf("catalogue: bundle %q has no data and is not unlimited", b.Name)
	case b.Profile == "":
		return fault.Invalidf("catalogue: bundle %q has no network profile", b.Name)
	case len(b.Countries) == 0:
		return fault.Invalidf("catalogue: bundle %q has no base country", b.Name)
	}
	for _, iso := range append(slices.Clone(b.Countries), b.Roaming...) {
		if _, ok := countries[iso]; !ok {
			return fault.Invalidf("catalogue: bundle %q names country %q, which is not in the country list", b.Name, iso)
		}
	}
	return nil
}

func hasNonData(as []Allowance) bool {
	for _, a := range as {
		if a.Type != AllowanceData {
			return true
		}
	}
	return false
}

var speedOrder = []string{"2G", "3G", "4G", "5G"}

func mergeSpeeds(a, b []string) []string {
	var out []string
	for _, s := range speedOrder {
		if slices.Contains(a, s) || slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}

// Bundle returns one bundle by its case-sensitive name.
func (s *Snapshot) Bundle(name string) (Bundle, bool) {
	i, ok := s.byName[name]
	if !ok {
		return Bundle{}, false
	}
	return s.Bundles[i], true
}

// Index returns the position of a bundle in Bundles, for callers that keep
// per-snapshot caches (such as pre-encoded wire bodies).
func (s *Snapshot) Index(name string) (int, bool) {
	i, ok := s.byName[name]
	return i, ok
}

// Country returns a country by ISO code.
func (s *Snapshot) Country(iso string) (Country, bool) {
	c, ok := s.countries[iso]
	return c, ok
}

// Groups returns the distinct bundle groups, in catalogue order, limited to
// allowed when it is not empty.
func (s *Snapshot) Groups(allowed []string) []string {
	if len(allowed) == 0 {
		return slices.Clone(s.groups)
	}
	var out []string
	for _, g := range s.groups {
		if slices.Contains(allowed, g) {
			out = append(out, g)
		}
	}
	return out
}

// Query selects and orders catalogue bundles (GET /catalogue).
type Query struct {
	Page        int      // 1-based; 0 means 1
	PerPage     int      // 0 means every match on one page
	Descending  bool     // direction=desc
	OrderBy     string   // one of OrderByColumns; "" means name
	Description string   // case-insensitive; '*' and '%' are wildcards, otherwise a substring
	Group       string   // exact group name
	Countries   []string // ISO codes; a bundle matches when one is a base country
	Region      string   // a bundle matches when a base country lies in this region
	// AllowedGroups limits the result to the organisation's groups (empty: all).
	AllowedGroups []string
}

// OrderByColumns are the accepted orderBy values (as the wire names them).
var OrderByColumns = []string{"name", "description", "price", "duration", "dataAmount", "profileName"}

// Page is one page of a catalogue query.
type Page struct {
	Bundles  []int // indexes into the snapshot
	Rows     int   // total matches
	PageSize int
	Pages    int
}

// List runs q against the snapshot. Errors: Invalid for bad paging or
// ordering.
func (s *Snapshot) List(q Query) (Page, error) {
	if q.Page < 0 {
		return Page{}, fault.Invalidf("page must be 1 or more, got %d", q.Page)
	}
	if q.PerPage < 0 {
		return Page{}, fault.Invalidf("perPage must be 1 or more, got %d", q.PerPage)
	}
	if q.OrderBy != "" && !slices.Contains(OrderByColumns, q.OrderBy) {
		return Page{}, fault.Invalidf("orderBy %q is not a column; use one of %s", q.OrderBy, strings.Join(OrderByColumns, ", "))
	}
	var candidates []int
	if len(q.Countries) > 0 {
		seen := map[int]bool{}
		for _, iso := range q.Countries {
			for _, i := range s.byCountry[iso] {
				if !seen[i] {
					seen[i] = true
					candidates = append(candidates, i)
				}
			}
		}
	} else {
		candidates = make([]int, len(s.Bundles))
		for i := range candidates {
			candidates[i] = i
		}
	}
	desc := strings.ToLower(q.Description)
	glob := strings.ContainsAny(desc, "*%")
	if glob {
		desc = strings.ReplaceAll(desc, "%", "*")
		if _, err := path.Match(desc, ""); err != nil {
			return Page{}, fault.Invalidf("description %q is not a valid wildcard pattern", q.Description)
		}
	}
	matches := candidates[:0:0]
	for _, i := range candidates {
		b := &s.Bundles[i]
		if q.Group != "" && !slices.Contains(b.Groups, q.Group) {
			continue
		}
		if !b.VisibleTo(q.AllowedGroups) {
			continue
		}
		if q.Region != "" && !slices.ContainsFunc(b.Countries, func(iso string) bool {
			return strings.EqualFold(s.countries[iso].Region, q.Region)
		}) {
			continue
		}
		if desc != "" {
			d := strings.ToLower(b.Description)
			if glob {
				if ok, _ := path.Match(desc, d); !ok {
					continue
				}
			} else if !strings.Contains(d, desc) {
				continue
			}
		}
		matches = append(matches, i)
	}
	s.sort(matches, q.OrderBy, q.Descending)
	p := Page{Rows: len(matches), PageSize: q.PerPage}
	if p.PageSize == 0 {
		p.PageSize = max(len(matches), 1)
	}
	p.Pages = (p.Rows + p.PageSize - 1) / p.PageSize
	page := max(q.Page, 1)
	start := (page - 1) * p.PageSize
	if start < len(matches) && page-1 < (len(matches)+p.PageSize-1)/p.PageSize {
		p.Bundles = matches[start:min(start+p.PageSize, len(matches))]
	}
	return p, nil
}

func (s *Snapshot) sort(idx []int, orderBy string, desc bool) {
	if orderBy == "" || orderBy == "name" {
		slices.Sort(idx) // Bundles are in name order
		if desc {
			slices.Reverse(idx)
		}
		return
	}
	key := func(a, b int) int {
		x, y := &s.Bundles[a], &s.Bundles[b]
		var c int
		switch orderBy {
		case "description":
			c = strings.Compare(x.Description, y.Description)
		case "price":
			c = cmp.Compare(x.Price, y.Price)
		case "duration":
			c = cmp.Compare(x.DurationDays, y.DurationDays)
		case "dataAmount":
			c = cmp.Compare(dataMB(x), dataMB(y))
		case "profileName":
			c = strings.Compare(x.Profile, y.Profile)
		}
		if c == 0 {
			c = strings.Compare(x.Name, y.Name)
		}
		if desc {
			c = -c
		}
		return c
	}
	slices.SortStableFunc(idx, key)
}

// dataMB is the catalogue's dataAmount: megabytes (base 10), -1 for unlimited.
func dataMB(b *Bundle) int64 {
	if b.Unlimited {
		return -1
	}
	return b.DataBytes / 1_000_000
}

// CountryNetworks is the networks of one country (GET /networks).
type CountryNetworks struct {
	ISO      string
	Networks []Network
}

// NetworkQuery selects countries for GET /networks.
type NetworkQuery struct {
	CountryNames []string
	ISOs         []string
	All          bool
}

// Networks answers a network query. Errors: Invalid when nothing selects a
// country.
func (s *Snapshot) Networks(q NetworkQuery) ([]CountryNetworks, error) {
	var isos []string
	if q.All {
		for iso := range s.networks {
			isos = append(isos, iso)
		}
		slices.Sort(isos)
	} else {
		if len(q.CountryNames) == 0 && len(q.ISOs) == 0 {
			return nil, fault.Invalidf("give countries (names), isos (ISO codes) or returnAll=true")
		}
		for _, name := range q.CountryNames {
			if iso, ok := s.countryISO[strings.ToLower(name)]; ok && !slices.Contains(isos, iso) {
				isos = append(isos, iso)
			}
		}
		for _, iso := range q.ISOs {
			if !slices.Contains(isos, iso) {
				isos = append(isos, iso)
			}
		}
	}
	out := make([]CountryNetworks, 0, len(isos))
	for _, iso := range isos {
		if nets, ok := s.networks[iso]; ok {
			out = append(out, CountryNetworks{ISO: iso, Networks: nets})
		}
	}
	return out, nil
}

// NetworksIn returns the networks of one country that serve a profile
// ("" for any), for the network simulator and usage ingest.
func (s *Snapshot) NetworksIn(iso, profile string) []Network {
	var out []Network
	for _, n := range s.Data.Networks {
		if n.CountryISO == iso && (profile == "" || n.Profile == profile) {
			out = append(out, n)
		}
	}
	return out
}
