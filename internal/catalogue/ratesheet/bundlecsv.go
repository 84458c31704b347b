package ratesheet

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/esimd/esimd/internal/catalogue"
)

// BundleCSVHeader is the header of the simple bundle import format read by
// ParseBundleCSV. Columns may come in any order and any letter case; all of
// them must be present and no other may be.
const BundleCSVHeader = "name,description,groups,countries,roaming,data_mb,duration_days,autostart,speeds,profile,price"

// BundleCSVOptional are further columns a bundle CSV may have: voice
// minutes and SMS included in the bundle (empty or absent: none).
var BundleCSVOptional = []string{"voice_minutes", "sms"}

// MaxUnits bounds voice_minutes and sms.
const MaxUnits = 10_000_000

// MaxDataMB bounds data_mb in ParseBundleCSV (one petabyte).
const MaxDataMB = 1_000_000_000

// ParseBundleCSV reads the simple bundle import format: a header
// (BundleCSVHeader) and one bundle per row.
//
//	name           bundle name, required, unique in the file; 1 to 100 letters,
//	               digits, '_', '-', '.' or '+', starting with a letter or digit
//	description    free text; when empty it is derived like the rate sheet's
//	               ("eSIM, 1GB, 7 Days, France, V2"), the area being the
//	               country's name for one country and "Regional" for several
//	groups         group names separated by ";", at least one
//	countries      base countries, ISO codes separated by ";", at least one
//	roaming        further countries, ISO codes separated by ";", may be empty
//	data_mb        whole megabytes (1 MB = 1,000,000 bytes), or "unlimited"
//	duration_days  1 to 3650
//	autostart      true/false (also yes/no, 1/0)
//	speeds         generations separated by ";" (2G, 3G, 4G, 5G), may be empty
//	profile        1, 1.0 or Profile 1
//	price          decimal number, at most 4 decimals, not negative
//	voice_minutes  optional column: minutes of calls included (empty: none)
//	sms            optional column: messages included (empty: none)
//
// An unlimited bundle in one of the standard unlimited groups gets that tier's
// daily full-speed data and throttle (see Family); other unlimited bundles
// get neither. Blank rows are skipped. Errors are *Error values without a
// file name ("line 3: …"); set Error.File to name the upload.
func ParseBundleCSV(r io.Reader) ([]catalogue.Bundle, error) {
	t := newTable("", r)
	if err := t.readHeader(BundleCSVHeader); err != nil {
		return nil, err
	}
	want := strings.Split(BundleCSVHeader, ",")
	col := map[string]int{}
	for _, w := range want {
		i, err := t.require(key(w), w)
		if err != nil {
			return nil, err
		}
		col[w] = i
	}
	for _, o := range BundleCSVOptional {
		i, err := t.find(key(o))
		if err != nil {
			return nil, err
		}
		col[o] = i // -1 when absent
	}
	known := append(slices.Clone(want), BundleCSVOptional...)
	for i, h := range t.header {
		if h != "" && !slices.ContainsFunc(known, func(w string) bool { return key(w) == t.keys[i] }) {
			return nil, t.headerErr(i, "unknown column %q in the header; the columns are %s (and optionally %s)", h, BundleCSVHeader, strings.Join(BundleCSVOptional, ", "))
		}
	}

	var out []catalogue.Bundle
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
		for i, h := range t.header {
			if h == "" && t.cell(i) != "" {
				return nil, t.cellErr(i, "cell %q is in column %d, which has no header", t.cell(i), i+1)
			}
		}
		b, err := bundleRow(t, col)
		if err != nil {
			return nil, err
		}
		if prev, dup := seen[b.Name]; dup {
			return nil, t.cellErr(col["name"], "bundle name %q is already used on line %d", b.Name, prev)
		}
		seen[b.Name] = t.line
		out = append(out, b)
	}
	if out == nil {
		out = []catalogue.Bundle{}
	}
	return out, nil
}

func bundleRow(t *table, col map[string]int) (catalogue.Bundle, error) {
	required := func(c string) (int, string, error) {
		i := col[c]
		v := t.cell(i)
		if v == "" {
			return i, "", t.cellErr(i, "the %s cell is empty", t.colName(i))
		}
		return i, v, nil
	}
	ni, name, err := required("name")
	if err != nil {
		return catalogue.Bundle{}, err
	}
	if err := checkName(t, ni, name); err != nil {
		return catalogue.Bundle{}, err
	}

	gi, groupsText, err := required("groups")
	if err != nil {
		return catalogue.Bundle{}, err
	}
	var groups []string
	for g := range strings.SplitSeq(groupsText, ";") {
		g = strings.TrimSpace(g)
		if g != "" && !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	if len(groups) == 0 {
		return catalogue.Bundle{}, t.cellErr(gi, "the %s cell %q names no group", t.colName(gi), groupsText)
	}

	if _, _, err := required("countries"); err != nil {
		return catalogue.Bundle{}, err
	}
	countries, err := parseCodes(t, col["countries"])
	if err != nil {
		return catalogue.Bundle{}, err
	}
	roaming := []string{}
	if ri := col["roaming"]; t.cell(ri) != "" {
		codes, bad := splitCodes(t.cell(ri))
		if bad != "" {
			return catalogue.Bundle{}, t.cellErr(ri, "%q in column %s is not a country code (codes like GB, separated by \";\")", bad, t.colName(ri))
		}
		roaming = append(roaming, codes...)
	}

	di, dataText, err := required("data_mb")
	if err != nil {
		return catalogue.Bundle{}, err
	}
	unlimited := strings.EqualFold(dataText, "unlimited")
	var dataBytes int64
	var dataLabel string
	if !unlimited {
		mb, err := strconv.ParseInt(dataText, 10, 64)
		if err != nil || mb < 1 || mb > MaxDataMB {
			return catalogue.Bundle{}, t.cellErr(di, "%q in column %s is neither a whole number of megabytes (1 to %d) nor \"unlimited\"", dataText, t.colName(di), MaxDataMB)
		}
		dataBytes = mb * 1_000_000
		if mb%1000 == 0 {
			dataLabel = strconv.FormatInt(mb/1000, 10) + "GB"
		} else {
			dataLabel = strconv.FormatInt(mb, 10) + "MB"
		}
	}

	dui, durText, err := required("duration_days")
	if err != nil {
		return catalogue.Bundle{}, err
	}
	days, err := strconv.Atoi(durText)
	if err != nil || days < 1 || days > MaxDurationDays {
		return catalogue.Bundle{}, t.cellErr(dui, "%q in column %s is not a whole number of days from 1 to %d", durText, t.colName(dui), MaxDurationDays)
	}

	ai, autoText, err := required("autostart")
	if err != nil {
		return catalogue.Bundle{}, err
	}
	var autostart bool
	switch strings.ToLower(autoText) {
	case "true", "yes", "1", "y":
		autostart = true
	case "false", "no", "0", "n":
	default:
		return catalogue.Bundle{}, t.cellErr(ai, "%q in column %s is not true or false", autoText, t.colName(ai))
	}

	si := col["speeds"]
	var mask uint8
	for s := range strings.SplitSeq(t.cell(si), ";") {
		s = strings.ToUpper(strings.TrimSpace(s))
		if s == "" {
			continue
		}
		g := slices.Index(Generations, s)
		if g < 0 {
			return catalogue.Bundle{}, t.cellErr(si, "speed %q in column %s is not one of 2G, 3G, 4G, 5G", s, t.colName(si))
		}
		mask |= 1 << g
	}

	if _, _, err := required("profile"); err != nil {
		return catalogue.Bundle{}, err
	}
	profile, err := parseProfile(t, col["profile"])
	if err != nil {
		return catalogue.Bundle{}, err
	}
	pi, priceText, err := required("price")
	if err != nil {
		return catalogue.Bundle{}, err
	}
	price, err := parsePrice(t, pi, priceText)
	if err != nil {
		return catalogue.Bundle{}, err
	}

	var fam Family
	if unlimited {
		for _, f := range Families() {
			if slices.Contains(groups, f.Group()) {
				fam = f
				break
			}
		}
	}
	description := t.cell(col["description"])
	if description == "" {
		area := "Regional"
		if len(countries) == 1 {
			area = countries[0]
			if n, _, ok := CountryInfo(area); ok {
				area = n
			}
		}
		label := dataLabel
		switch {
		case fam != 0:
			label = fam.String()
		case unlimited:
			label = "Unlimited"
		}
		description = describe(name, label, days, area)
	}
	b := catalogue.Bundle{
		Name:         name,
		Description:  description,
		Groups:       groups,
		Countries:    countries,
		Roaming:      roaming,
		DataBytes:    dataBytes,
		Unlimited:    unlimited,
		DurationDays: days,
		Autostart:    autostart,
		Speeds:       maskSpeeds(mask),
		Profile:      profile,
		Price:        price,
		BillingType:  catalogue.BillingFixedCost,
		Allowances: []catalogue.Allowance{{
			Type:        catalogue.AllowanceData,
			Service:     catalogue.ServiceStandard,
			Description: fmt.Sprintf("%s (data)", name),
			Amount:      dataBytes,
			Unlimited:   unlimited,
		}},
	}
	if fam != 0 {
		b.DailyHighSpeedBytes = fam.DailyHighSpeedBytes()
		b.ThrottleKbps = fam.ThrottleKbps()
	}
	for _, u := range []struct {
		column string
		kind   catalogue.AllowanceType
		label  string
	}{{"voice_minutes", catalogue.AllowanceVoice, "voice"}, {"sms", catalogue.AllowanceSMS, "sms"}} {
		i := col[u.column]
		if i < 0 || t.cell(i) == "" {
			continue
		}
		n, err := strconv.ParseInt(t.cell(i), 10, 64)
		if err != nil || n < 1 || n > MaxUnits {
			return catalogue.Bundle{}, t.cellErr(i, "%q in column %s is not a whole number from 1 to %d", t.cell(i), t.colName(i), MaxUnits)
		}
		b.Allowances = append(b.Allowances, catalogue.Allowance{Type: u.kind, Service: catalogue.ServiceStandard,
			Description: fmt.Sprintf("%s (%s)", name, u.label), Amount: n})
	}
	return b, nil
}
