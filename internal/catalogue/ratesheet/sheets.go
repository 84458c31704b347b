package ratesheet

import (
	"fmt"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/money"
)

// File names of a rate-sheet folder.
const (
	FileFixed              = "standard-fixed.csv"
	FileUnlimitedLite      = "standard-unlimited-lite.csv"
	FileUnlimitedEssential = "standard-unlimited-essential.csv"
	FileUnlimitedPlus      = "standard-unlimited-plus.csv"
	FileLongDuration       = "standard-long-duration-bundle.csv"
	FileRegions            = "regional-bundles.csv"
	FileCoverage           = "coverage.csv"
)

// Files lists the files of a rate-sheet folder in the order Load reads them.
// The order matters: bundles keep it, and when files name a country
// differently the earlier file wins.
var Files = []string{
	FileFixed, FileUnlimitedLite, FileUnlimitedEssential, FileUnlimitedPlus,
	FileLongDuration, FileCoverage, FileRegions,
}

// Family is a tier of unlimited bundles.
type Family int

const (
	Lite      Family = iota + 1 // esim_UL_…, 1 GB a day at full speed then 512 kbps
	Essential                   // esim_ULE_…, 1 GB a day then 1.25 Mbps
	Plus                        // esim_ULP_…, 2 GB a day then 2 Mbps
)

type familyInfo struct {
	code, label, group, file string
	dailyBytes               int64
	throttleKbps             int
}

var familyInfos = [...]familyInfo{
	Lite:      {"UL", "Unlimited Lite", catalogue.GroupUnlimitedLite, FileUnlimitedLite, 1_000_000_000, 512},
	Essential: {"ULE", "Unlimited Essential", catalogue.GroupUnlimitedEssential, FileUnlimitedEssential, 1_000_000_000, 1250},
	Plus:      {"ULP", "Unlimited Plus", catalogue.GroupUnlimitedPlus, FileUnlimitedPlus, 2_000_000_000, 2000},
}

// Families lists the unlimited tiers.
func Families() []Family { return []Family{Lite, Essential, Plus} }

func (f Family) valid() bool { return f >= Lite && f <= Plus }

func (f Family) info() familyInfo {
	if !f.valid() {
		return familyInfo{}
	}
	return familyInfos[f]
}

// String is the tier's label as descriptions use it: "Unlimited Lite".
func (f Family) String() string {
	if !f.valid() {
		return "Family(" + strconv.Itoa(int(f)) + ")"
	}
	return f.info().label
}

// Code is the tier's code in bundle names: UL, ULE or ULP.
func (f Family) Code() string { return f.info().code }

// Group is the catalogue group of the tier's bundles.
func (f Family) Group() string { return f.info().group }

// File is the name of the tier's file in a rate-sheet folder.
func (f Family) File() string { return f.info().file }

// DailyHighSpeedBytes is how much data a day runs at full speed.
func (f Family) DailyHighSpeedBytes() int64 { return f.info().dailyBytes }

// ThrottleKbps is the speed after the daily full-speed data.
func (f Family) ThrottleKbps() int { return f.info().throttleKbps }

// CountryName is a country code a file mentions and the name it gives it
// ("" when it gives none, as in a row listing several codes).
type CountryName struct {
	ISO  string
	Name string
}

// Sheet is what one file of a rate sheet holds. Bundle sheets fill Bundles
// (with Speeds left empty: Assemble derives them from coverage), coverage
// fills Networks, the regions file fills Regions; all of them fill Names
// with the country names they write.
type Sheet struct {
	File     string
	Currency string // currency of the price columns, "" when there are none
	Bundles  []catalogue.Bundle
	Regions  []catalogue.Region
	Networks []catalogue.Network
	Names    []CountryName
	Notes    []Note

	bundleAt []cellPos // parallel to Bundles: where each name was read
}

type cellPos struct {
	line   int
	column string
}

// ParseFixed reads standard-fixed.csv: per country or region, the profile,
// the prices of the fixed-data bundles and their names.
func ParseFixed(r io.Reader) (*Sheet, error) {
	return parseBundleSheet(FileFixed, r, catalogue.GroupFixed, 0)
}

// ParseUnlimited reads one of the unlimited files
// (standard-unlimited-lite.csv, -essential.csv, -plus.csv).
func ParseUnlimited(r io.Reader, f Family) (*Sheet, error) {
	if !f.valid() {
		return nil, fmt.Errorf("ratesheet: unknown unlimited family %d", int(f))
	}
	return parseBundleSheet(f.File(), r, f.Group(), f)
}

// ParseLongDuration reads standard-long-duration-bundle.csv.
func ParseLongDuration(r io.Reader) (*Sheet, error) {
	return parseBundleSheet(FileLongDuration, r, catalogue.GroupLongDuration, 0)
}

var (
	dataPriceRe = regexp.MustCompile(`(?i)^(\d{1,6}(?:\.\d{1,3})?)\s*(MB|GB|TB)\s*/\s*(\d{1,5})\s*days?\s*\(\s*([A-Z]{3})\s*\)$`)
	ulPriceRe   = regexp.MustCompile(`(?i)^UL\s*/\s*(\d{1,5})\s*days?\s*\(\s*([A-Z]{3})\s*\)$`)
	refRe       = regexp.MustCompile(`(?i)(^|\s)ref$`)
	bundleName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.+-]{0,99}$`)
	dataNameRe  = regexp.MustCompile(`^esim_(\d+(?:\.\d+)?)(MB|GB|TB)_(\d+)D_`)
	ulNameRe    = regexp.MustCompile(`^esim_(UL|ULE|ULP)_(\d+)D_`)
	versionRe   = regexp.MustCompile(`_(V\d+)$`)
	codeRe      = regexp.MustCompile(`^[A-Z]{2,3}(-[A-Z0-9]{1,3})?$`)
)

// MaxDurationDays bounds bundle durations (ten years).
const MaxDurationDays = 3650

type priceCol struct {
	price, ref int
	bytes      int64  // 0 for unlimited
	dataText   string // "1GB"; "" for unlimited
	days       int
}

func parseBundleSheet(file string, r io.Reader, group string, fam Family) (*Sheet, error) {
	t := newTable(file, r)
	if err := t.readHeader("Country, ISOCode, Profile, price columns, Ref columns"); err != nil {
		return nil, err
	}
	ci, err := t.require("country", "Country")
	if err != nil {
		return nil, err
	}
	ii, err := t.require("isocode", "ISOCode")
	if err != nil {
		return nil, err
	}
	pi, err := t.require("profile", "Profile")
	if err != nil {
		return nil, err
	}
	sh := &Sheet{File: file}
	var prices []priceCol
	var refs []int
	for i, h := range t.header {
		if i == ci || i == ii || i == pi {
			continue
		}
		if fam == 0 {
			if m := dataPriceRe.FindStringSubmatch(h); m != nil {
				pc, err := dataColumn(t, i, m)
				if err != nil {
					return nil, err
				}
				if err := setCurrency(t, sh, i, m[4]); err != nil {
					return nil, err
				}
				prices = append(prices, pc)
				continue
			}
		} else if m := ulPriceRe.FindStringSubmatch(h); m != nil {
			days, err := durationOf(t, i, m[1])
			if err != nil {
				return nil, err
			}
			if err := setCurrency(t, sh, i, m[2]); err != nil {
				return nil, err
			}
			prices = append(prices, priceCol{price: i, days: days})
			continue
		}
		if refRe.MatchString(h) {
			refs = append(refs, i)
			continue
		}
		if h == "" {
			continue // an unnamed column; its cells must be empty (checked per row)
		}
		t.notes = append(t.notes, Note{File: file, Line: t.hdrLine, Column: h, Text: fmt.Sprintf("column %q is neither a price nor a bundle-name (Ref) column; ignored", h)})
	}
	example := `"1GB/7days (USD)"`
	if fam != 0 {
		example = `"UL/1day (USD)"`
	}
	if len(prices) == 0 {
		return nil, &Error{File: file, Line: t.hdrLine, Msg: "the header has no price columns (headers like " + example + ")"}
	}
	if len(prices) != len(refs) {
		return nil, &Error{File: file, Line: t.hdrLine, Msg: fmt.Sprintf("the header has %d price columns but %d bundle-name (Ref) columns; they pair up in order", len(prices), len(refs))}
	}
	for k := range prices {
		prices[k].ref = refs[k]
	}
	unnamed := func(i int) bool { return i < len(t.header) && t.header[i] == "" }

	seen := map[string]int{}
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
		for i := range t.header {
			if unnamed(i) && t.cell(i) != "" {
				return nil, t.cellErr(i, "cell %q is in column %d, which has no header", t.cell(i), i+1)
			}
		}
		country := t.cell(ci)
		if country == "" {
			return nil, t.cellErr(ci, "the %s cell is empty", t.colName(ci))
		}
		codes, err := parseCodes(t, ii)
		if err != nil {
			return nil, err
		}
		profile, err := parseProfile(t, pi)
		if err != nil {
			return nil, err
		}
		if len(codes) == 1 {
			sh.Names = append(sh.Names, CountryName{ISO: codes[0], Name: country})
		} else {
			for _, c := range codes {
				sh.Names = append(sh.Names, CountryName{ISO: c})
			}
		}
		for _, pc := range prices {
			priceText, ref := t.cell(pc.price), t.cell(pc.ref)
			priceNA, refNA := isNA(priceText), isNA(ref)
			var price money.Amount
			if !priceNA {
				if price, err = parsePrice(t, pc.price, priceText); err != nil {
					return nil, err
				}
			}
			switch {
			case priceNA && refNA:
				continue
			case refNA:
				t.note(pc.price, "price %s in column %s has no bundle name in column %s; no bundle", priceText, t.colName(pc.price), t.colName(pc.ref))
				continue
			case priceNA:
				shown := priceText
				if shown == "" {
					shown = "empty"
				} else {
					shown = strconv.Quote(shown)
				}
				t.note(pc.ref, "bundle %s in column %s has no price (%s in column %s); no bundle", ref, t.colName(pc.ref), shown, t.colName(pc.price))
				continue
			}
			if err := checkName(t, pc.ref, ref); err != nil {
				return nil, err
			}
			if err := crossCheck(t, pc, fam, ref); err != nil {
				return nil, err
			}
			if prev, dup := seen[ref]; dup {
				return nil, t.cellErr(pc.ref, "bundle name %q in column %s is already used on line %d", ref, t.colName(pc.ref), prev)
			}
			seen[ref] = t.cellLine(pc.ref)
			sh.Bundles = append(sh.Bundles, newBundle(ref, country, codes, profile, price, group, fam, pc))
			sh.bundleAt = append(sh.bundleAt, cellPos{line: t.cellLine(pc.ref), column: t.header[pc.ref]})
		}
	}
	sh.Notes = t.notes
	return sh, nil
}

func newBundle(name, area string, codes []string, profile string, price money.Amount, group string, fam Family, pc priceCol) catalogue.Bundle {
	data := pc.dataText
	if fam != 0 {
		data = fam.String()
	}
	b := catalogue.Bundle{
		Name:         name,
		Description:  describe(name, data, pc.days, area),
		Groups:       []string{group},
		Countries:    slices.Clone(codes),
		Roaming:      []string{},
		DataBytes:    pc.bytes,
		Unlimited:    fam != 0,
		DurationDays: pc.days,
		Autostart:    true,
		Speeds:       []string{},
		Profile:      profile,
		Price:        price,
		BillingType:  catalogue.BillingFixedCost,
		Allowances: []catalogue.Allowance{{
			Type:        catalogue.AllowanceData,
			Service:     catalogue.ServiceStandard,
			Description: name + " (data)",
			Amount:      pc.bytes,
			Unlimited:   fam != 0,
		}},
	}
	if fam != 0 {
		b.DataBytes = 0
		b.Allowances[0].Amount = 0
		b.DailyHighSpeedBytes = fam.DailyHighSpeedBytes()
		b.ThrottleKbps = fam.ThrottleKbps()
	}
	return b
}

// describe builds "eSIM, 1GB, 7 Days, United Kingdom, V2"; the version is
// the name's last part when it is V<n>, and is left out otherwise.
func describe(name, data string, days int, area string) string {
	var b strings.Builder
	b.WriteString("eSIM, ")
	b.WriteString(data)
	b.WriteString(", ")
	b.WriteString(strconv.Itoa(days))
	if days == 1 {
		b.WriteString(" Day, ")
	} else {
		b.WriteString(" Days, ")
	}
	b.WriteString(area)
	if m := versionRe.FindStringSubmatch(name); m != nil {
		b.WriteString(", ")
		b.WriteString(m[1])
	}
	return b.String()
}

func dataColumn(t *table, i int, m []string) (priceCol, error) {
	unit := strings.ToUpper(m[2])
	bytes, ok := dataBytes(m[1], unit)
	if !ok || bytes <= 0 {
		return priceCol{}, t.headerErr(i, "price column %s has no data amount", t.colName(i))
	}
	days, err := durationOf(t, i, m[3])
	if err != nil {
		return priceCol{}, err
	}
	return priceCol{price: i, bytes: bytes, dataText: m[1] + unit, days: days}, nil
}

func durationOf(t *table, i int, s string) (int, error) {
	days, err := strconv.Atoi(s)
	if err != nil || days < 1 || days > MaxDurationDays {
		return 0, t.headerErr(i, "price column %s has a duration of %s days; it must be 1 to %d", t.colName(i), s, MaxDurationDays)
	}
	return days, nil
}

func setCurrency(t *table, sh *Sheet, i int, cur string) error {
	cur = strings.ToUpper(cur)
	if sh.Currency == "" {
		sh.Currency = cur
		return nil
	}
	if sh.Currency != cur {
		return t.headerErr(i, "price column %s is in %s but earlier price columns are in %s", t.colName(i), cur, sh.Currency)
	}
	return nil
}

var unitBytes = map[string]int64{"MB": 1_000_000, "GB": 1_000_000_000, "TB": 1_000_000_000_000}

// dataBytes converts "1", "1.5" with a unit to bytes, base 10, refusing
// amounts that would overflow or have more than three decimals.
func dataBytes(num, unit string) (int64, bool) {
	mult, ok := unitBytes[unit]
	if !ok {
		return 0, false
	}
	ip, fp, _ := strings.Cut(num, ".")
	n, err := strconv.ParseInt(ip, 10, 64)
	if err != nil || n >= math.MaxInt64/mult || len(fp) > 3 {
		return 0, false
	}
	total := n * mult
	if fp != "" {
		f, err := strconv.ParseInt(fp, 10, 64)
		if err != nil {
			return 0, false
		}
		div := int64(1)
		for range fp {
			div *= 10
		}
		total += f * mult / div
	}
	return total, true
}

// isNA reports whether a price or name cell says "no bundle": NA, N/A or
// empty, in any case.
func isNA(s string) bool {
	return s == "" || strings.EqualFold(s, "NA") || strings.EqualFold(s, "N/A")
}

func parsePrice(t *table, i int, s string) (money.Amount, error) {
	a, err := money.Parse(s)
	if err != nil {
		switch {
		case strings.Contains(err.Error(), "more than"):
			return 0, t.cellErr(i, "price %q in column %s has more than 4 decimals", s, t.colName(i))
		case strings.Contains(err.Error(), "too large"):
			return 0, t.cellErr(i, "price %q in column %s is too large", s, t.colName(i))
		}
		return 0, t.cellErr(i, "price %q in column %s is not a decimal number", s, t.colName(i))
	}
	if a < 0 {
		return 0, t.cellErr(i, "price %q in column %s is negative", s, t.colName(i))
	}
	return a, nil
}

// parseCodes reads a country-code cell: one code or several separated by
// ";", upper-cased, without duplicates.
func parseCodes(t *table, i int) ([]string, error) {
	s := t.cell(i)
	if s == "" {
		return nil, t.cellErr(i, "the %s cell is empty; it needs a country code", t.colName(i))
	}
	codes, bad := splitCodes(s)
	if bad != "" {
		return nil, t.cellErr(i, "%q in column %s is not a country code (codes like GB, separated by \";\")", bad, t.colName(i))
	}
	if len(codes) == 0 {
		return nil, t.cellErr(i, "the %s cell %q has no country code", t.colName(i), s)
	}
	return codes, nil
}

// splitCodes splits "EG; ma;TZ" into upper-case codes, dropping empty parts
// and repeats; bad is the first part that is not a code.
func splitCodes(s string) (codes []string, bad string) {
	for part := range strings.SplitSeq(s, ";") {
		c := strings.ToUpper(strings.TrimSpace(part))
		if c == "" {
			continue
		}
		if !codeRe.MatchString(c) {
			return nil, strings.TrimSpace(part)
		}
		if !slices.Contains(codes, c) {
			codes = append(codes, c)
		}
	}
	return codes, ""
}

var profileRe = regexp.MustCompile(`(?i)^(?:profile\s*)?0*(\d{1,3})(?:\.0*)?$`)

// parseProfile reads "1", "1.0", "4" or "Profile 4" as "Profile N".
func parseProfile(t *table, i int) (string, error) {
	s := t.cell(i)
	p, ok := profileName(s)
	if !ok {
		return "", t.cellErr(i, "profile %q in column %s is not a profile number such as 1, 1.0 or Profile 1", s, t.colName(i))
	}
	return p, nil
}

func profileName(s string) (string, bool) {
	m := profileRe.FindStringSubmatch(s)
	if m == nil || m[1] == "0" {
		return "", false
	}
	return "Profile " + m[1], true
}

func checkName(t *table, i int, name string) error {
	if !bundleName.MatchString(name) {
		return t.cellErr(i, "bundle name %q in column %s must be 1 to 100 letters, digits, '_', '-', '.' or '+', starting with a letter or digit", name, t.colName(i))
	}
	return nil
}

// crossCheck rejects a bundle name that follows the esim_<data>_<n>D_ naming
// convention but disagrees with its price column: a sign of shifted columns.
func crossCheck(t *table, pc priceCol, fam Family, name string) error {
	if fam == 0 {
		m := dataNameRe.FindStringSubmatch(name)
		if m == nil {
			return nil
		}
		b, ok := dataBytes(m[1], m[2])
		days, _ := strconv.Atoi(m[3])
		if !ok || b != pc.bytes || days != pc.days {
			return t.cellErr(pc.ref, "bundle name %q in column %s does not match its price column %s (%s, %d days)", name, t.colName(pc.ref), t.colName(pc.price), pc.dataText, pc.days)
		}
		return nil
	}
	m := ulNameRe.FindStringSubmatch(name)
	if m == nil {
		return nil
	}
	days, _ := strconv.Atoi(m[2])
	if m[1] != fam.Code() || days != pc.days {
		return t.cellErr(pc.ref, "bundle name %q in column %s does not match its price column %s (%s, %d days)", name, t.colName(pc.ref), t.colName(pc.price), fam.Code(), pc.days)
	}
	return nil
}
