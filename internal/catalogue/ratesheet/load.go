package ratesheet

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strings"

	"github.com/esimd/esimd/internal/catalogue"
)

// DefaultCurrency is the catalogue currency when no price column names one.
const DefaultCurrency = "USD"

// Load reads a rate-sheet folder (the seven files of Files, at the root of
// fsys) into a catalogue. See LoadNotes for what the import noticed.
func Load(fsys fs.FS) (catalogue.Data, error) {
	d, _, err := LoadNotes(fsys)
	return d, err
}

// LoadNotes is Load that also returns the notes of the import: cells that
// did not make a bundle, repaired spreadsheet artefacts, names that differ
// between files, countries the region table does not know.
func LoadNotes(fsys fs.FS) (catalogue.Data, []Note, error) {
	sheets := make([]*Sheet, 0, len(Files))
	for _, name := range Files {
		sh, err := parseFile(fsys, name)
		if err != nil {
			return catalogue.Data{}, nil, err
		}
		sheets = append(sheets, sh)
	}
	return Assemble(sheets...)
}

func parseFile(fsys fs.FS, name string) (*Sheet, error) {
	f, err := fsys.Open(name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, errorf(name, 0, "the file is missing; a rate-sheet folder holds %s", strings.Join(Files, ", "))
	}
	if err != nil {
		return nil, errorf(name, 0, "opening the file: %v", err)
	}
	defer f.Close()
	switch name {
	case FileFixed:
		return ParseFixed(f)
	case FileUnlimitedLite:
		return ParseUnlimited(f, Lite)
	case FileUnlimitedEssential:
		return ParseUnlimited(f, Essential)
	case FileUnlimitedPlus:
		return ParseUnlimited(f, Plus)
	case FileLongDuration:
		return ParseLongDuration(f)
	case FileCoverage:
		return ParseCoverage(f)
	case FileRegions:
		return ParseRegions(f)
	}
	return nil, fmt.Errorf("ratesheet: no parser for %s", name)
}

// Assemble joins parsed sheets into one catalogue, in the order given:
//   - bundles keep the sheets' order; a bundle name used twice is an error;
//   - each bundle's Speeds are derived from the networks of all sheets (see
//     the package doc);
//   - networks identical across sheets are kept once; a region name used
//     twice is an error;
//   - the country table holds every code that a bundle, region or network
//     uses or that a sheet mentions (Sheet.Names), named by the first sheet
//     that names it (else by the built-in table), with its continent-level
//     region from the built-in table, sorted by code;
//   - all sheets with prices must agree on the currency.
//
// The sheets are not modified.
func Assemble(sheets ...*Sheet) (catalogue.Data, []Note, error) {
	var notes []Note
	d := catalogue.Data{
		Countries: []catalogue.Country{},
		Regions:   []catalogue.Region{},
		Bundles:   []catalogue.Bundle{},
		Networks:  []catalogue.Network{},
	}
	curFile := ""
	for _, sh := range sheets {
		notes = append(notes, sh.Notes...)
		if sh.Currency == "" {
			continue
		}
		if d.Currency == "" {
			d.Currency, curFile = sh.Currency, sh.File
		} else if d.Currency != sh.Currency {
			return catalogue.Data{}, nil, errorf(sh.File, 0, "prices are in %s but %s prices are in %s", sh.Currency, curFile, d.Currency)
		}
	}
	if d.Currency == "" {
		d.Currency = DefaultCurrency
	}

	// Networks, and the generations live per (country, profile) and per country.
	seenNet := map[string]bool{}
	byProfile := map[string]uint8{}
	byCountry := map[string]uint8{}
	for _, sh := range sheets {
		for _, n := range sh.Networks {
			k := networkKey(n)
			if seenNet[k] {
				continue
			}
			seenNet[k] = true
			n.Speeds = slices.Clone(n.Speeds)
			d.Networks = append(d.Networks, n)
			m := genMask(n.Speeds)
			byProfile[n.CountryISO+"\x00"+n.Profile] |= m
			byCountry[n.CountryISO] |= m
		}
	}

	// Regions.
	regionAt := map[string]string{}
	for _, sh := range sheets {
		for _, r := range sh.Regions {
			if f, dup := regionAt[r.Name]; dup {
				return catalogue.Data{}, nil, errorf(sh.File, 0, "region %q is already defined in %s", r.Name, f)
			}
			regionAt[r.Name] = sh.File
			r.Countries = slices.Clone(r.Countries)
			d.Regions = append(d.Regions, r)
		}
	}

	// Bundles.
	type origin struct {
		file string
		pos  cellPos
	}
	nameAt := map[string]origin{}
	type fallback struct {
		file, first, profile string
		countries            []string
		level, n             int
	}
	fallbacks := map[string]*fallback{}
	var fallbackOrder []string
	for _, sh := range sheets {
		for i, b := range sh.Bundles {
			var pos cellPos
			if i < len(sh.bundleAt) {
				pos = sh.bundleAt[i]
			}
			if prev, dup := nameAt[b.Name]; dup {
				where := prev.file
				if prev.pos.line > 0 {
					where = fmt.Sprintf("%s line %d", prev.file, prev.pos.line)
				}
				e := &Error{File: sh.File, Line: pos.line, Column: pos.column, Msg: fmt.Sprintf("bundle name %q is already used by %s", b.Name, where)}
				if pos.column != "" {
					e.Msg = fmt.Sprintf("bundle name %q in column %q is already used by %s", b.Name, pos.column, where)
				}
				return catalogue.Data{}, nil, e
			}
			nameAt[b.Name] = origin{sh.File, pos}
			b = cloneBundle(b)
			var level int
			b.Speeds, level = bundleSpeeds(b, byProfile, byCountry)
			if level > 0 {
				k := fmt.Sprintf("%s %s %d", strings.Join(b.Countries, ";"), b.Profile, level)
				if fallbacks[k] == nil {
					fallbacks[k] = &fallback{file: sh.File, first: b.Name, countries: b.Countries, profile: b.Profile, level: level}
					fallbackOrder = append(fallbackOrder, k)
				}
				fallbacks[k].n++
			}
			d.Bundles = append(d.Bundles, b)
		}
	}

	for _, k := range fallbackOrder {
		f := fallbacks[k]
		what := "no " + f.profile + " network in " + strings.Join(f.countries, ";") + " has a live generation; speeds taken from the other profiles' networks there"
		if f.level == 2 {
			what = "no network in " + strings.Join(f.countries, ";") + " has a live generation; speeds set to 4G"
		}
		who := f.first
		if f.n > 1 {
			who = fmt.Sprintf("%s and %d more bundles", f.first, f.n-1)
		}
		notes = append(notes, Note{File: f.file, Text: who + ": " + what})
	}

	// Countries.
	used := map[string]bool{}
	use := func(codes ...string) {
		for _, c := range codes {
			used[c] = true
		}
	}
	for _, b := range d.Bundles {
		use(b.Countries...)
		use(b.Roaming...)
	}
	for _, r := range d.Regions {
		use(r.Countries...)
	}
	for _, n := range d.Networks {
		use(n.CountryISO)
	}
	for _, sh := range sheets {
		for _, n := range sh.Names {
			use(n.ISO)
		}
	}
	countries, cnotes := countryTable(used, sheets)
	d.Countries = countries
	notes = append(notes, cnotes...)
	return d, notes, nil
}

func genMask(speeds []string) uint8 {
	var m uint8
	for _, s := range speeds {
		if i := slices.Index(Generations, s); i >= 0 {
			m |= 1 << i
		}
	}
	return m
}

func maskSpeeds(m uint8) []string {
	out := []string{}
	for i, g := range Generations {
		if m&(1<<i) != 0 {
			out = append(out, g)
		}
	}
	return out
}

// bundleSpeeds is the union of the generations live on the networks of the
// bundle's profile in its base countries; failing that (level 1), on any
// profile's networks there; failing that (level 2), 4G.
func bundleSpeeds(b catalogue.Bundle, byProfile, byCountry map[string]uint8) (speeds []string, level int) {
	var m uint8
	for _, c := range b.Countries {
		m |= byProfile[c+"\x00"+b.Profile]
	}
	if m != 0 {
		return maskSpeeds(m), 0
	}
	for _, c := range b.Countries {
		m |= byCountry[c]
	}
	if m != 0 {
		return maskSpeeds(m), 1
	}
	return []string{"4G"}, 2
}

// countryTable names and places every used code. A code's name is the first
// one a sheet gives it, skipping a name that belongs to another code (coverage
// names EH "Morocco"; the built-in table says Morocco is MA); failing that, the
// built-in table's name; failing that, the code itself. The region comes from
// the built-in table.
func countryTable(used map[string]bool, sheets []*Sheet) ([]catalogue.Country, []Note) {
	var notes []Note
	type candidate struct{ name, file string }
	cands := map[string][]candidate{}
	codesOf := map[string][]string{} // name → codes that sheets give it
	for _, sh := range sheets {
		for _, n := range sh.Names {
			if n.Name == "" || slices.ContainsFunc(cands[n.ISO], func(c candidate) bool { return c.name == n.Name }) {
				continue
			}
			cands[n.ISO] = append(cands[n.ISO], candidate{n.Name, sh.File})
			if !slices.Contains(codesOf[n.Name], n.ISO) {
				codesOf[n.Name] = append(codesOf[n.Name], n.ISO)
			}
		}
	}
	// owner returns the code another than iso that name rightly belongs to.
	owner := func(name, iso string) string {
		for _, other := range codesOf[name] {
			if other == iso {
				continue
			}
			if tn, _, ok := CountryInfo(other); ok && strings.EqualFold(tn, name) {
				return other
			}
		}
		return ""
	}
	codes := slices.Sorted(maps.Keys(used))
	out := make([]catalogue.Country, 0, len(codes))
	for _, iso := range codes {
		tableName, region, known := CountryInfo(iso)
		name := ""
		for _, c := range cands[iso] {
			if o := owner(c.name, iso); o != "" {
				notes = append(notes, Note{File: c.file, Text: fmt.Sprintf("country %s is named %q, which is the name of %s; not used for %s", iso, c.name, o, iso)})
				continue
			}
			if name == "" {
				name = c.name
			} else if c.name != name {
				notes = append(notes, Note{File: c.file, Text: fmt.Sprintf("country %s is named %q here but %q earlier; using %q", iso, c.name, name, name)})
			}
		}
		if name == "" {
			name = tableName
		}
		if !known {
			notes = append(notes, Note{Text: fmt.Sprintf("country code %s is not in the region table; it has no region", iso)})
			if name == "" {
				name = iso
			}
		}
		out = append(out, catalogue.Country{ISO: iso, Name: name, Region: region})
	}
	return out, notes
}

func cloneBundle(b catalogue.Bundle) catalogue.Bundle {
	b.Groups = slices.Clone(b.Groups)
	b.Countries = slices.Clone(b.Countries)
	b.Roaming = slices.Clone(b.Roaming)
	b.Speeds = slices.Clone(b.Speeds)
	b.Allowances = slices.Clone(b.Allowances)
	if b.Roaming == nil {
		b.Roaming = []string{}
	}
	return b
}
