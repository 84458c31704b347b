package ratesheet

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/esimd/esimd/internal/catalogue"
)

// addSeeds adds the inline samples and a few slices of the shipped sheet
// (the header and some rows). Whole files would make
// the fuzzer spend its time minimising them.
func addSeeds(f *testing.F, file string, samples ...string) {
	for _, s := range samples {
		f.Add(s)
	}
	for _, s := range realSlices(file) {
		f.Add(s)
	}
}

// realSlices returns the first rows of a file of the shipped sheet, and its header with a
// later stretch of rows.
func realSlices(file string) []string {
	b, err := os.ReadFile(filepath.Join(testSheet, file))
	if err != nil {
		return nil
	}
	lines := strings.SplitAfter(string(b), "\n")
	head := 2
	if file == FileRegions {
		head = 3
	}
	var out []string
	for _, from := range []int{head, len(lines) / 3, len(lines) * 2 / 3} {
		to := min(from+4, len(lines))
		if from >= to {
			continue
		}
		out = append(out, strings.Join(lines[:head], "")+strings.Join(lines[from:to], ""))
	}
	return out
}

// checkErr asserts that a parser's error is a positioned *Error.
func checkErr(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *Error", err, err)
	}
	if e.Msg == "" || e.Line < 0 || e.Col < 0 || err.Error() == "" {
		t.Fatalf("bad error %#v", e)
	}
}

// checkSheet asserts the invariants of a parsed bundle sheet, and of the
// catalogue it assembles into.
func checkSheet(t *testing.T, sh *Sheet, group string, unlimited bool) {
	t.Helper()
	if len(sh.bundleAt) != len(sh.Bundles) {
		t.Fatalf("%d positions for %d bundles", len(sh.bundleAt), len(sh.Bundles))
	}
	seen := map[string]bool{}
	for _, b := range sh.Bundles {
		checkBundle(t, b)
		if seen[b.Name] {
			t.Fatalf("bundle %s twice", b.Name)
		}
		seen[b.Name] = true
		if len(b.Groups) != 1 || b.Groups[0] != group || b.Unlimited != unlimited || !b.Autostart {
			t.Fatalf("bundle %+v: wrong group, unlimited or autostart", b)
		}
	}
	for _, n := range sh.Names {
		if !codeRe.MatchString(n.ISO) {
			t.Fatalf("bad country code %q", n.ISO)
		}
	}
	if len(sh.Bundles) > 0 && sh.Currency == "" {
		t.Fatalf("bundles without a currency")
	}
	d, _, err := Assemble(sh)
	if err != nil {
		t.Fatalf("Assemble of one valid sheet: %v", err)
	}
	checkData(t, d)
	for _, b := range d.Bundles {
		if len(b.Speeds) == 0 {
			t.Fatalf("bundle %s has no speeds after Assemble", b.Name)
		}
	}
}

func FuzzParseFixed(f *testing.F) {
	addSeeds(f, FileFixed, fixedCSV,
		"Country,ISOCode,Profile,1GB/7days (USD),eSIM Go 1GB Ref\nAlbania,AL,1.0,\"1,3\",esim_1GB_7D_AL_V2\n",
		"Country,ISOCode,Profile,0.5MB/1day (usd),x ref\nA,al;us-hi,Profile 2,0.0001,esim_0.5MB_1D_X\n")
	f.Fuzz(func(t *testing.T, in string) {
		sh, err := ParseFixed(strings.NewReader(in))
		if err != nil {
			checkErr(t, err)
			return
		}
		checkSheet(t, sh, catalogue.GroupFixed, false)
	})
}

func FuzzParseUnlimited(f *testing.F) {
	for _, s := range []string{liteCSV, essentialCSV, plusCSV} {
		for fam := range 4 {
			f.Add(uint8(fam), s)
		}
	}
	for _, fam := range Families() {
		for _, s := range realSlices(fam.File()) {
			f.Add(uint8(fam), s)
		}
	}
	f.Fuzz(func(t *testing.T, fam uint8, in string) {
		family := Family(fam)
		sh, err := ParseUnlimited(strings.NewReader(in), family)
		if !family.valid() {
			if err == nil {
				t.Fatalf("family %d accepted", fam)
			}
			return
		}
		if err != nil {
			checkErr(t, err)
			return
		}
		checkSheet(t, sh, family.Group(), true)
		for _, b := range sh.Bundles {
			if b.DailyHighSpeedBytes != family.DailyHighSpeedBytes() || b.ThrottleKbps != family.ThrottleKbps() {
				t.Fatalf("bundle %s: wrong tier", b.Name)
			}
		}
	})
}

func FuzzParseLongDuration(f *testing.F) {
	addSeeds(f, FileLongDuration, longCSV)
	f.Fuzz(func(t *testing.T, in string) {
		sh, err := ParseLongDuration(strings.NewReader(in))
		if err != nil {
			checkErr(t, err)
			return
		}
		checkSheet(t, sh, catalogue.GroupLongDuration, false)
	})
}

func FuzzParseCoverage(f *testing.F) {
	addSeeds(f, FileCoverage, coverageCSV)
	f.Fuzz(func(t *testing.T, in string) {
		sh, err := ParseCoverage(strings.NewReader(in))
		if err != nil {
			checkErr(t, err)
			return
		}
		seen := map[string]bool{}
		for _, n := range sh.Networks {
			checkNetwork(t, n)
			k := networkKey(n)
			if seen[k] {
				t.Fatalf("network %+v twice", n)
			}
			seen[k] = true
		}
	})
}

func FuzzParseRegions(f *testing.F) {
	addSeeds(f, FileRegions, regionsCSV, "Africa,Profile 4\nCountry,ISOCode\nEgypt,\n")
	f.Fuzz(func(t *testing.T, in string) {
		sh, err := ParseRegions(strings.NewReader(in))
		if err != nil {
			checkErr(t, err)
			return
		}
		if len(sh.Regions) == 0 {
			t.Fatalf("no regions and no error")
		}
		names := map[string]bool{}
		for _, r := range sh.Regions {
			if r.Name == "" || names[r.Name] || !strings.HasPrefix(r.Profile, "Profile ") || r.Countries == nil {
				t.Fatalf("bad region %+v", r)
			}
			names[r.Name] = true
			seen := map[string]bool{}
			for _, c := range r.Countries {
				if !codeRe.MatchString(c) || seen[c] {
					t.Fatalf("region %s: bad or repeated code %q", r.Name, c)
				}
				seen[c] = true
			}
		}
	})
}

func FuzzParseBundleCSV(f *testing.F) {
	f.Add(BundleCSVHeader + "\nb1,,Standard Fixed,GB,FR;DE,1000,7,true,4G;5G,1,1.5\n")
	f.Add(BundleCSVHeader + "\nb2,x,Standard Unlimited Plus,GB;US-HI,,unlimited,1,no,,Profile 4,0\n")
	f.Add("\ufeffNAME,PRICE,profile,description,groups,countries,roaming,data_mb,duration_days,autostart,speeds\nb,1,1,d,g,gb,,1,1,1,\n")
	f.Fuzz(func(t *testing.T, in string) {
		bundles, err := ParseBundleCSV(strings.NewReader(in))
		if err != nil {
			checkErr(t, err)
			return
		}
		seen := map[string]bool{}
		for _, b := range bundles {
			checkBundle(t, b)
			if seen[b.Name] {
				t.Fatalf("bundle %s twice", b.Name)
			}
			seen[b.Name] = true
		}
	})
}

// FuzzLoad feeds three fuzzed files, with the others from the sample, through
// Load, to exercise Assemble (duplicates across files, speeds, countries).
func FuzzLoad(f *testing.F) {
	f.Add(fixedCSV, coverageCSV, regionsCSV)
	f.Add(fixedCSV, "Country,ISOCode,Profile,NetworkName,NetworkCode,MCCMNC\n", "Africa,Profile 4\nCountry,ISOCode\n")
	f.Fuzz(func(t *testing.T, fixed, coverage, regions string) {
		m := sampleFS()
		m[FileFixed] = &fstest.MapFile{Data: []byte(fixed)}
		m[FileCoverage] = &fstest.MapFile{Data: []byte(coverage)}
		m[FileRegions] = &fstest.MapFile{Data: []byte(regions)}
		d, err := Load(m)
		if err != nil {
			checkErr(t, err)
			return
		}
		checkData(t, d)
		known := map[string]bool{}
		for _, c := range d.Countries {
			if c.Name == "" || known[c.ISO] {
				t.Fatalf("bad or repeated country %+v", c)
			}
			known[c.ISO] = true
		}
		for _, b := range d.Bundles {
			if len(b.Speeds) == 0 {
				t.Fatalf("bundle %s has no speeds", b.Name)
			}
			for _, c := range b.Countries {
				if !known[c] {
					t.Fatalf("bundle %s: country %s not in the table", b.Name, c)
				}
			}
		}
	})
}
