package ratesheet

import (
	"io"
	"regexp"
	"slices"
	"strings"

	"github.com/esimd/esimd/internal/catalogue"
)

// Generations lists the radio generations in their canonical order.
var Generations = []string{"2G", "3G", "4G", "5G"}

var (
	mccmncRe = regexp.MustCompile(`^\d{5,6}$`)
	tadigRe  = regexp.MustCompile(`^[A-Z0-9]{5}$`)
)

// ParseCoverage reads coverage.csv: one network per row with its country,
// profile, name, TADIG code (NetworkCode), MCC+MNC and the status of each
// generation (2G, 3G, 4G, 5G; "Live" means available).
//
// An MCCMNC cell may list several codes separated by "|"; each becomes a
// Network. A trailing ".0" (a spreadsheet turning the code into a number) is
// dropped with a note. Identical networks are kept once.
func ParseCoverage(r io.Reader) (*Sheet, error) {
	t := newTable(FileCoverage, r)
	if err := t.readHeader("Country, ISOCode, Profile, NetworkName, NetworkCode, MCCMNC, 2G, 3G, 4G, 5G"); err != nil {
		return nil, err
	}
	cols := map[string]int{}
	for _, c := range []struct{ key, name string }{
		{"country", "Country"}, {"isocode", "ISOCode"}, {"profile", "Profile"},
		{"networkname", "NetworkName"}, {"networkcode", "NetworkCode"}, {"mccmnc", "MCCMNC"},
	} {
		i, err := t.require(c.key, c.name)
		if err != nil {
			return nil, err
		}
		cols[c.key] = i
	}
	gens := make([]int, len(Generations))
	for g, name := range Generations {
		i, err := t.find(strings.ToLower(name))
		if err != nil {
			return nil, err
		}
		gens[g] = i
	}
	sh := &Sheet{File: FileCoverage}
	seen := map[string]bool{}
	for {
		ok, err := t.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if err := t.checkExtra(); err != nil {
			return nil, err
		}
		ii := cols["isocode"]
		codes, err := parseCodes(t, ii)
		if err != nil {
			return nil, err
		}
		if len(codes) != 1 {
			return nil, t.cellErr(ii, "%q in column %s names %d countries; a coverage row is about one", t.cell(ii), t.colName(ii), len(codes))
		}
		iso := codes[0]
		if name := t.cell(cols["country"]); name != "" {
			sh.Names = append(sh.Names, CountryName{ISO: iso, Name: name})
		}
		profile, err := parseProfile(t, cols["profile"])
		if err != nil {
			return nil, err
		}
		ni := cols["networkname"]
		name := t.cell(ni)
		if name == "" {
			return nil, t.cellErr(ni, "the %s cell is empty", t.colName(ni))
		}
		ti := cols["networkcode"]
		tadig := strings.ToUpper(t.cell(ti))
		if !tadigRe.MatchString(tadig) {
			return nil, t.cellErr(ti, "TADIG code %q in column %s is not 5 letters or digits", t.cell(ti), t.colName(ti))
		}
		var speeds []string
		for g, i := range gens {
			if i >= 0 && strings.EqualFold(t.cell(i), "Live") {
				speeds = append(speeds, Generations[g])
			}
		}
		if speeds == nil {
			speeds = []string{}
		}
		mi := cols["mccmnc"]
		codesText := t.cell(mi)
		if codesText == "" {
			return nil, t.cellErr(mi, "the %s cell is empty", t.colName(mi))
		}
		var mccmncs []string
		repaired := false
		for part := range strings.SplitSeq(codesText, "|") {
			c := strings.TrimSpace(part)
			if s, ok := strings.CutSuffix(c, ".0"); ok && mccmncRe.MatchString(s) {
				c, repaired = s, true
			}
			if !mccmncRe.MatchString(c) {
				return nil, t.cellErr(mi, "MCCMNC %q in column %s is not 5 or 6 digits (several codes are separated by \"|\")", part, t.colName(mi))
			}
			if !slices.Contains(mccmncs, c) {
				mccmncs = append(mccmncs, c)
			}
		}
		if repaired {
			t.note(mi, "MCCMNC %q in column %s read as a number; trailing \".0\" dropped", codesText, t.colName(mi))
		}
		for _, c := range mccmncs {
			n := catalogue.Network{
				CountryISO: iso,
				Profile:    profile,
				Name:       name,
				Brand:      name,
				MCC:        c[:3],
				MNC:        c[3:],
				TADIG:      tadig,
				Speeds:     slices.Clone(speeds),
			}
			k := networkKey(n)
			if seen[k] {
				continue
			}
			seen[k] = true
			sh.Networks = append(sh.Networks, n)
		}
	}
	sh.Notes = t.notes
	return sh, nil
}

func networkKey(n catalogue.Network) string {
	return strings.Join([]string{n.CountryISO, n.Profile, n.Name, n.Brand, n.MCC, n.MNC, n.TADIG, strings.Join(n.Speeds, ",")}, "\x00")
}
