package demodata

import (
	"bytes"
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/catalogue/ratesheet"
	"github.com/esimd/esimd/internal/money"
)

// sheetDir is the rate sheet the demo catalogue is generated from, relative
// to this package.
const sheetDir = "../../../../shared/data/ratesheet-2025-11"

func needSheet(tb testing.TB) {
	tb.Helper()
	if _, err := os.Stat(sheetDir); err != nil {
		tb.Skipf("rate sheet folder %s not found (%v); skipping the comparison with the sheet", sheetDir, err)
	}
}

func load(t *testing.T) catalogue.Data {
	t.Helper()
	d, err := Load()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestAgainstRateSheet compares the embedded catalogue with the rate sheet
// it is generated from, which lives outside the repository (the project's
// shared data): without it this one test skips, and every other test of the
// package still runs on the embedded catalogue.
func TestAgainstRateSheet(t *testing.T) {
	needSheet(t)
	t.Run("generated", checkGenerated)
	t.Run("every bundle", checkEveryBundle)
}

// checkGenerated fails when catalogue.json is not what the generator makes
// from the rate sheet.
func checkGenerated(t *testing.T) {
	d, _, err := FromRateSheet(os.DirFS(sheetDir))
	if err != nil {
		t.Fatal(err)
	}
	want, err := Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(want, raw) {
		return
	}
	wl, gl := strings.Split(string(want), "\n"), strings.Split(string(raw), "\n")
	for i := range max(len(wl), len(gl)) {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			t.Fatalf("catalogue.json is stale (run go generate ./internal/catalogue/demodata); first difference on line %d:\n file: %s\n  gen: %s", i+1, g, w)
		}
	}
}

// TestRoundTrip checks that decoding and re-encoding gives the file back.
func TestRoundTrip(t *testing.T) {
	b, err := Marshal(load(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, raw) {
		t.Error("Marshal(Load()) differs from catalogue.json")
	}
	if !bytes.Equal(JSON(), raw) {
		t.Error("JSON() differs from the embedded file")
	}
}

func TestLoadReturnsCopies(t *testing.T) {
	a := load(t)
	a.Currency = "EUR"
	a.Countries[0].Name = "changed"
	a.Regions[0].Countries[0] = "ZZ"
	a.Bundles[0].Groups[0] = "changed"
	a.Bundles[0].Countries[0] = "ZZ"
	a.Bundles[0].Speeds[0] = "9G"
	a.Bundles[0].Allowances[0].Amount = -1
	a.Networks[0].Speeds[0] = "9G"
	a.Bundles = append(a.Bundles[:0], a.Bundles[1:]...)
	b := load(t)
	if diff := cmp.Diff(decodedOrFatal(t), b); diff != "" {
		t.Errorf("a caller's changes leaked into the next Load (-want +got):\n%s", diff)
	}
}

func decodedOrFatal(t *testing.T) catalogue.Data {
	d, err := decoded()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// sheetBundles reads the bundle names and prices of a bundle CSV without the
// ratesheet package: a bundle is a Ref cell that is not NA whose price cell
// (the price column of the same rank) is a number.
func sheetBundles(t *testing.T, file string) map[string]string {
	t.Helper()
	f, err := os.Open(filepath.Join(sheetDir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	var prices, refs []int
	for i, h := range rows[0] {
		switch {
		case strings.HasSuffix(h, "(USD)"):
			prices = append(prices, i)
		case strings.HasSuffix(h, "Ref"):
			refs = append(refs, i)
		}
	}
	if len(prices) != len(refs) || len(prices) == 0 {
		t.Fatalf("%s: %d price and %d Ref columns", file, len(prices), len(refs))
	}
	out := map[string]string{}
	for _, r := range rows[1:] {
		for k := range prices {
			price, ref := r[prices[k]], r[refs[k]]
			if ref == "NA" || ref == "" {
				continue
			}
			if _, err := strconv.ParseFloat(price, 64); err != nil {
				continue
			}
			out[ref] = price
		}
	}
	return out
}

// checkEveryBundle checks that every bundle of every sheet is in the demo
// catalogue, in the right group, at the sheet's price, and nothing else is
// but the demo voice and SMS bundles (TestVoiceSMSBundles).
func checkEveryBundle(t *testing.T) {
	d := load(t)
	got := map[string]map[string]string{} // group → name → price
	for _, b := range d.Bundles {
		if len(b.Groups) != 1 {
			t.Fatalf("bundle %s has groups %v", b.Name, b.Groups)
		}
		if b.Groups[0] == GroupVoiceSMS {
			continue
		}
		if got[b.Groups[0]] == nil {
			got[b.Groups[0]] = map[string]string{}
		}
		got[b.Groups[0]][b.Name] = b.Price.String()
	}
	files := map[string]string{
		catalogue.GroupFixed:              ratesheet.FileFixed,
		catalogue.GroupUnlimitedLite:      ratesheet.FileUnlimitedLite,
		catalogue.GroupUnlimitedEssential: ratesheet.FileUnlimitedEssential,
		catalogue.GroupUnlimitedPlus:      ratesheet.FileUnlimitedPlus,
		catalogue.GroupLongDuration:       ratesheet.FileLongDuration,
	}
	want := map[string]map[string]string{}
	total := 0
	for group, file := range files {
		want[group] = map[string]string{}
		for name, price := range sheetBundles(t, file) {
			// Normalise the sheet's text ("158.0") the way money prints it.
			want[group][name] = money.MustParse(price).String()
		}
		total += len(want[group])
		if len(want[group]) == 0 {
			t.Errorf("%s has no bundles", file)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("bundles per group (-sheet +catalogue):\n%s", diff)
	}
	if len(d.Bundles) != total+len(voiceSMSCountries) {
		t.Errorf("%d bundles, the sheets have %d and %d demo voice and SMS bundles are added", len(d.Bundles), total, len(voiceSMSCountries))
	}
}

func TestSpotChecks(t *testing.T) {
	d := load(t)
	bundles := map[string]catalogue.Bundle{}
	for _, b := range d.Bundles {
		bundles[b.Name] = b
	}
	data := func(name string, bytes int64, unlimited bool) []catalogue.Allowance {
		return []catalogue.Allowance{{Type: catalogue.AllowanceData, Service: catalogue.ServiceStandard, Description: name + " (data)", Amount: bytes, Unlimited: unlimited}}
	}
	all := []string{"2G", "3G", "4G", "5G"}
	africa := []string{"EG", "MA", "TZ", "UG", "TN", "ZA", "ZM", "MG", "NG", "KE", "MU", "RE"}
	tests := []catalogue.Bundle{
		{Name: "esim_1GB_7D_AX_V2", Description: "eSIM, 1GB, 7 Days, Aaland Islands, V2", Groups: []string{"Standard Fixed"},
			Countries: []string{"AX"}, Roaming: []string{}, DataBytes: 1_000_000_000, DurationDays: 7, Autostart: true, Speeds: all,
			Profile: "Profile 1", Price: money.MustParse("1.3"), BillingType: "FixedCost", Allowances: data("esim_1GB_7D_AX_V2", 1_000_000_000, false)},
		{Name: "esim_1GB_7D_RAF_V2", Description: "eSIM, 1GB, 7 Days, Africa, V2", Groups: []string{"Standard Fixed"},
			Countries: africa, Roaming: []string{}, DataBytes: 1_000_000_000, DurationDays: 7, Autostart: true, Speeds: all,
			Profile: "Profile 4", Price: money.MustParse("6.9"), BillingType: "FixedCost", Allowances: data("esim_1GB_7D_RAF_V2", 1_000_000_000, false)},
		{Name: "esim_100GB_30D_GB_V2", Description: "eSIM, 100GB, 30 Days, United Kingdom, V2", Groups: []string{"Standard Fixed"},
			Countries: []string{"GB"}, Roaming: []string{}, DataBytes: 100_000_000_000, DurationDays: 30, Autostart: true, Speeds: all,
			Profile: "Profile 4", Price: money.MustParse("57.37"), BillingType: "FixedCost", Allowances: data("esim_100GB_30D_GB_V2", 100_000_000_000, false)},
		{Name: "esim_UL_1D_GB_V2", Description: "eSIM, Unlimited Lite, 1 Day, United Kingdom, V2", Groups: []string{"Standard Unlimited Lite"},
			Countries: []string{"GB"}, Roaming: []string{}, Unlimited: true, DurationDays: 1, Autostart: true, Speeds: all,
			Profile: "Profile 4", Price: money.MustParse("1.7"), BillingType: "FixedCost", Allowances: data("esim_UL_1D_GB_V2", 0, true),
			DailyHighSpeedBytes: 1_000_000_000, ThrottleKbps: 512},
		{Name: "esim_ULE_3D_GB_V2", Description: "eSIM, Unlimited Essential, 3 Days, United Kingdom, V2", Groups: []string{"Standard Unlimited Essential"},
			Countries: []string{"GB"}, Roaming: []string{}, Unlimited: true, DurationDays: 3, Autostart: true, Speeds: all,
			Profile: "Profile 4", Price: money.MustParse("4.81"), BillingType: "FixedCost", Allowances: data("esim_ULE_3D_GB_V2", 0, true),
			DailyHighSpeedBytes: 1_000_000_000, ThrottleKbps: 1250},
		{Name: "esim_ULP_30D_GB_V2", Description: "eSIM, Unlimited Plus, 30 Days, United Kingdom, V2", Groups: []string{"Standard Unlimited Plus"},
			Countries: []string{"GB"}, Roaming: []string{}, Unlimited: true, DurationDays: 30, Autostart: true, Speeds: all,
			Profile: "Profile 4", Price: money.MustParse("84.48"), BillingType: "FixedCost", Allowances: data("esim_ULP_30D_GB_V2", 0, true),
			DailyHighSpeedBytes: 2_000_000_000, ThrottleKbps: 2000},
		{Name: "esim_1GB_7D_US-HI_V2", Description: "eSIM, 1GB, 7 Days, Hawaii, V2", Groups: []string{"Standard Fixed"},
			Countries: []string{"US-HI"}, Roaming: []string{}, DataBytes: 1_000_000_000, DurationDays: 7, Autostart: true, Speeds: []string{"2G", "4G", "5G"},
			Profile: "Profile 1", Price: bundles["esim_1GB_7D_US-HI_V2"].Price, BillingType: "FixedCost", Allowances: data("esim_1GB_7D_US-HI_V2", 1_000_000_000, false)},
	}
	for _, want := range tests {
		t.Run(want.Name, func(t *testing.T) {
			got, ok := bundles[want.Name]
			if !ok {
				t.Fatalf("bundle %s missing", want.Name)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}

	// Long-duration bundles.
	for _, tt := range []struct {
		name, price, desc string
		gb                int64
		days, countries   int
	}{
		{"esim_20GB_60D_RGBL_V2", "38.3", "eSIM, 20GB, 60 Days, Global - Light, V2", 20, 60, 61},
		{"esim_50GB_90D_RGBL_V2", "90.275", "eSIM, 50GB, 90 Days, Global - Light, V2", 50, 90, 61},
		{"esim_100GB_180D_RGBL_V2", "189.5", "eSIM, 100GB, 180 Days, Global - Light, V2", 100, 180, 61},
		{"esim_50GB_90D_RGBS_V2", "135.163", "eSIM, 50GB, 90 Days, Global - Standard, V2", 50, 90, 74},
		{"esim_20GB_60D_RAF_V2", "110.75", "eSIM, 20GB, 60 Days, Africa, V2", 20, 60, 12},
	} {
		b, ok := bundles[tt.name]
		if !ok {
			t.Errorf("bundle %s missing", tt.name)
			continue
		}
		got := []any{b.Price.String(), b.Description, b.DataBytes, b.DurationDays, len(b.Countries), b.Groups, b.Profile}
		want := []any{tt.price, tt.desc, tt.gb * 1_000_000_000, tt.days, tt.countries, []string{catalogue.GroupLongDuration}, "Profile 4"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", tt.name, diff)
		}
	}
	if b := bundles["esim_50GB_90D_RGBS_V2"]; !slices.Contains(b.Countries, "PO") || slices.Contains(b.Countries, "PL") {
		t.Errorf("esim_50GB_90D_RGBS_V2 should keep the sheet's PO: %v", b.Countries)
	}
	for _, name := range []string{"esim_ULE_1D_MC_V2", "esim_ULE_7D_VA_V2", "esim_100GB_30D_AR_V2", "esim_100GB_30D_GI_V2"} {
		if _, ok := bundles[name]; ok {
			t.Errorf("bundle %s has no price or no name in the sheet but is in the catalogue", name)
		}
	}
}

func TestFamiliesPresent(t *testing.T) {
	d := load(t)
	count := map[string]int{}
	prefix := regexp.MustCompile(`^esim_(UL|ULE|ULP|\d+GB)_(\d+)D_`)
	for _, b := range d.Bundles {
		m := prefix.FindStringSubmatch(b.Name)
		if m == nil {
			t.Errorf("bundle %s does not follow the naming convention", b.Name)
			continue
		}
		kind := m[1]
		if strings.HasSuffix(kind, "GB") {
			kind = b.Groups[0]
		}
		count[kind]++
	}
	for _, k := range []string{"UL", "ULE", "ULP", catalogue.GroupFixed, catalogue.GroupLongDuration} {
		if count[k] == 0 {
			t.Errorf("no %s bundles", k)
		}
	}
	want := map[string]int{
		"UL": 1258, "ULE": 1249, "ULP": 1248,
		catalogue.GroupFixed: 1441, catalogue.GroupLongDuration: 25, GroupVoiceSMS: 6,
	}
	if diff := cmp.Diff(want, count); diff != "" {
		t.Errorf("bundles per family (-want +got):\n%s", diff)
	}
}

func TestCountriesRegionsNetworks(t *testing.T) {
	d := load(t)
	if d.Currency != "USD" {
		t.Errorf("currency %q", d.Currency)
	}
	countries := map[string]catalogue.Country{}
	for _, c := range d.Countries {
		if _, dup := countries[c.ISO]; dup {
			t.Errorf("country %s twice", c.ISO)
		}
		countries[c.ISO] = c
		if c.Name == "" || !slices.Contains(ratesheet.Regions, c.Region) {
			t.Errorf("country %+v has no name or a bad region", c)
		}
	}
	for _, want := range []catalogue.Country{
		{ISO: "AX", Name: "Aaland Islands", Region: "Europe"},
		{ISO: "GB", Name: "United Kingdom", Region: "Europe"},
		{ISO: "US", Name: "United States of America", Region: "North America"},
		{ISO: "IC", Name: "Canary Islands", Region: "Europe"},
		{ISO: "CYP", Name: "Northern Cyprus", Region: "Europe"},
		{ISO: "US-HI", Name: "Hawaii", Region: "North America"},
		{ISO: "PO", Name: "Poland", Region: "Europe"},
		{ISO: "NA", Name: "Namibia", Region: "Africa"},
	} {
		if diff := cmp.Diff(want, countries[want.ISO]); diff != "" {
			t.Errorf("country %s (-want +got):\n%s", want.ISO, diff)
		}
	}
	used := func(where string, codes ...string) {
		for _, c := range codes {
			if _, ok := countries[c]; !ok {
				t.Errorf("%s: country %s not in the table", where, c)
			}
		}
	}
	for _, b := range d.Bundles {
		used(b.Name, b.Countries...)
	}

	regions := map[string]catalogue.Region{}
	for _, r := range d.Regions {
		regions[r.Name] = r
		used(r.Name, r.Countries...)
	}
	if len(d.Regions) != 14 {
		t.Errorf("%d regions, want 14", len(d.Regions))
	}
	for name, want := range map[string]struct {
		profile string
		n       int
	}{
		"Africa": {"Profile 4", 12}, "Balkans": {"Profile 4", 10}, "Carribbean": {"Profile 2", 25},
		"North America": {"Profile 1", 3}, "Oceania": {"Profile 1", 2}, "CIS": {"Profile 3", 7},
	} {
		r := regions[name]
		if r.Profile != want.profile || len(r.Countries) != want.n {
			t.Errorf("region %s: %s with %d countries, want %s with %d", name, r.Profile, len(r.Countries), want.profile, want.n)
		}
	}

	mcc := regexp.MustCompile(`^\d{3}$`)
	mnc := regexp.MustCompile(`^\d{2,3}$`)
	tadig := regexp.MustCompile(`^[A-Z0-9]{5}$`)
	seen := map[string]bool{}
	for _, n := range d.Networks {
		if !mcc.MatchString(n.MCC) || !mnc.MatchString(n.MNC) || !tadig.MatchString(n.TADIG) || n.Name == "" || n.Brand == "" || !strings.HasPrefix(n.Profile, "Profile ") {
			t.Errorf("bad network %+v", n)
		}
		used(n.Name, n.CountryISO)
		k := strings.Join([]string{n.CountryISO, n.Profile, n.Name, n.MCC, n.MNC, n.TADIG, strings.Join(n.Speeds, ",")}, "|")
		if seen[k] {
			t.Errorf("network %+v twice", n)
		}
		seen[k] = true
	}
	for _, want := range []catalogue.Network{
		{CountryISO: "GB", Profile: "Profile 4", Name: "Virgin Media O2", Brand: "Virgin Media O2", MCC: "234", MNC: "10", TADIG: "GBRCN", Speeds: []string{"2G", "3G", "4G", "5G"}},
		{CountryISO: "JM", Profile: "Profile 2", Name: "Digicel (Jamaica) Limited", Brand: "Digicel (Jamaica) Limited", MCC: "338", MNC: "050", TADIG: "JAMDC", Speeds: []string{"2G", "3G", "4G"}},
		{CountryISO: "PL", Profile: "Profile 4", Name: "Orange Poland", Brand: "Orange Poland", MCC: "260", MNC: "03", TADIG: "POL03", Speeds: []string{"2G", "3G", "4G", "5G"}},
	} {
		if !slices.ContainsFunc(d.Networks, func(n catalogue.Network) bool { return cmp.Equal(n, want) }) {
			t.Errorf("network %+v missing", want)
		}
	}
}

func BenchmarkLoad(b *testing.B) {
	b.Run("demodata", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := Load(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ratesheet", func(b *testing.B) {
		needSheet(b)
		fsys := os.DirFS(sheetDir)
		b.ReportAllocs()
		for b.Loop() {
			if _, err := ratesheet.Load(fsys); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestVoiceSMSBundles: the demo catalogue has a voice and SMS bundle for
// each of a handful of the sheet's countries, each the sheet's 5GB/30-day
// bundle of that country with minutes and SMS added, clearly named.
func TestVoiceSMSBundles(t *testing.T) {
	d := load(t)
	bundles := map[string]catalogue.Bundle{}
	for _, b := range d.Bundles {
		bundles[b.Name] = b
	}
	for _, iso := range []string{"GB", "US", "DE", "FR", "ES", "IT"} {
		base, ok := bundles["esim_5GB_30D_"+iso+"_V2"]
		if !ok {
			t.Fatalf("no esim_5GB_30D_%s_V2 to compare with", iso)
		}
		name := "esim_5GB_30D_" + iso + "_VOICE_SMS_V2"
		got, ok := bundles[name]
		if !ok {
			t.Errorf("%s missing", name)
			continue
		}
		want := base
		want.Name, want.Groups = name, []string{"Demo Voice and SMS"}
		want.Price, _ = base.Price.Add(money.MustParse("2.5"))
		want.Allowances = []catalogue.Allowance{
			{Type: catalogue.AllowanceData, Service: catalogue.ServiceStandard, Description: name + " (data)", Amount: 5_000_000_000},
			{Type: catalogue.AllowanceVoice, Service: catalogue.ServiceStandard, Description: "100 mins", Amount: 100},
			{Type: catalogue.AllowanceSMS, Service: catalogue.ServiceStandard, Description: "100 SMS", Amount: 100},
		}
		got.Description = strings.Replace(got.Description, ", 100 mins, 100 SMS", "", 1)
		want.Description = strings.Replace(base.Description, "V2", "V2 (demo voice and SMS bundle)", 1)
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s (-want +got):\n%s", name, diff)
		}
	}
	if want := "eSIM, 5GB, 100 mins, 100 SMS, 30 Days, United Kingdom, V2 (demo voice and SMS bundle)"; bundles["esim_5GB_30D_GB_VOICE_SMS_V2"].Description != want {
		t.Errorf("description %q, want %q", bundles["esim_5GB_30D_GB_VOICE_SMS_V2"].Description, want)
	}
}
