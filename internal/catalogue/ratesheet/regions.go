package ratesheet

import (
	"fmt"
	"io"

	"github.com/esimd/esimd/internal/catalogue"
)

// ParseRegions reads regional-bundles.csv. Columns come in groups of three,
// one group per region: the first row holds the region's name and profile
// ("Africa,Profile 4,"), the second row the column titles ("Country,ISOCode,"),
// and each further row one member country per group (name, ISO code), the
// third column of a group staying empty. Groups end at different rows; empty
// cells below a group's last member are fine.
func ParseRegions(r io.Reader) (*Sheet, error) {
	t := newTable(FileRegions, r)
	ok, err := t.next()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf(FileRegions, 0, "the file is empty; expected a row of region names and profiles (Africa,Profile 4,,Americas,Profile 3,…)")
	}
	sh := &Sheet{File: FileRegions}
	t.hdrLine = t.line
	type group struct {
		col    int // column of the country names
		region catalogue.Region
		seen   map[string]bool
	}
	var groups []*group
	inGroup := map[int]bool{}
	titles := make([]string, len(t.rec))
	for c := 0; c < len(t.rec); c += 3 {
		name, prof, sep := t.cell(c), t.cell(c+1), t.cell(c+2)
		if sep != "" {
			return nil, t.cellErr(c+2, "cell %q in column %d should be empty: each region takes three columns (name, profile, empty)", sep, c+3)
		}
		if name == "" && prof == "" {
			continue
		}
		if name == "" {
			return nil, t.cellErr(c, "profile %q in column %d has no region name in column %d", prof, c+2, c+1)
		}
		profile, ok := profileName(prof)
		if !ok {
			return nil, t.cellErr(c+1, "profile %q of region %q in column %d is not a profile such as Profile 4", prof, name, c+2)
		}
		for _, g := range groups {
			if g.region.Name == name {
				return nil, t.cellErr(c, "region %q in column %d is already in column %d", name, c+1, g.col+1)
			}
		}
		groups = append(groups, &group{col: c, region: catalogue.Region{Name: name, Profile: profile, Countries: []string{}}, seen: map[string]bool{}})
		inGroup[c], inGroup[c+1] = true, true
		titles[c] = name + " Country"
		if c+1 < len(titles) {
			titles[c+1] = name + " ISOCode"
		}
	}
	if len(groups) == 0 {
		return nil, t.rowErr("the first row names no region (expected Africa,Profile 4,,Americas,Profile 3,…)")
	}
	// Name the columns after their region for the messages that follow.
	width := groups[len(groups)-1].col + 2
	if len(titles) < width {
		titles = append(titles, make([]string, width-len(titles))...)
	}
	titles[width-1] = groups[len(groups)-1].region.Name + " ISOCode"

	ok, err = t.next()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, errorf(FileRegions, 0, "the file ends after the region names; expected a row of column titles (Country,ISOCode,,…)")
	}
	for _, g := range groups {
		if key(t.cell(g.col)) != "country" || key(t.cell(g.col+1)) != "isocode" {
			return nil, t.cellErr(g.col, "region %q: columns %d and %d of the second row should be titled Country and ISOCode, not %q and %q",
				g.region.Name, g.col+1, g.col+2, t.cell(g.col), t.cell(g.col+1))
		}
	}
	t.header = titles
	for c := range t.rec {
		if !inGroup[c] && t.cell(c) != "" {
			return nil, t.cellErr(c, "cell %q in column %d is outside every region's columns", t.cell(c), c+1)
		}
	}

	for {
		ok, err := t.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		for c := range t.rec {
			if !inGroup[c] && t.cell(c) != "" {
				return nil, t.cellErr(c, "cell %q in column %d is outside every region's columns", t.cell(c), c+1)
			}
		}
		for _, g := range groups {
			name, iso := t.cell(g.col), t.cell(g.col+1)
			if name == "" && iso == "" {
				continue
			}
			if iso == "" {
				return nil, t.cellErr(g.col+1, "country %q of region %q has no ISO code in column %s", name, g.region.Name, t.colName(g.col+1))
			}
			codes, err := parseCodes(t, g.col+1)
			if err != nil {
				return nil, err
			}
			if len(codes) != 1 {
				return nil, t.cellErr(g.col+1, "%q in column %s names %d countries; a region lists one per row", iso, t.colName(g.col+1), len(codes))
			}
			code := codes[0]
			if name != "" {
				sh.Names = append(sh.Names, CountryName{ISO: code, Name: name})
			}
			if g.seen[code] {
				t.note(g.col+1, "region %q lists %s twice; kept once", g.region.Name, code)
				continue
			}
			g.seen[code] = true
			g.region.Countries = append(g.region.Countries, code)
		}
	}
	for _, g := range groups {
		if len(g.region.Countries) == 0 {
			t.notes = append(t.notes, Note{File: FileRegions, Line: t.hdrLine, Text: fmt.Sprintf("region %q has no countries", g.region.Name)})
		}
		sh.Regions = append(sh.Regions, g.region)
	}
	sh.Notes = t.notes
	return sh, nil
}
