package ratesheet

import (
	"errors"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/money"
)

// testSheet is a slice of the November 2025 rate sheet shipped with the
// tests: a few rows of every file, with the country codes the sheet gets
// wrong or invents (IC, CYP, US-HI, PO, XK, AN, EH, NA).
const testSheet = "testdata/ratesheet"

// realSheet is the whole November 2025 rate sheet in the project's shared
// data, relative to this package. Tests run on testSheet; where the real
// sheet is there (beside the repository), they run on it too.
const realSheet = "../../../../shared/data/ratesheet-2025-11"

// sheets are the rate-sheet folders a test runs over: the shipped slice,
// and the real sheet when it is there.
func sheets(t *testing.T) []string {
	t.Helper()
	if _, err := os.Stat(realSheet); err != nil {
		t.Logf("rate sheet folder %s not found: checking the shipped slice %s only", realSheet, testSheet)
		return []string{testSheet}
	}
	return []string{testSheet, realSheet}
}

func loadSheet(tb testing.TB, dir string) (catalogue.Data, []Note) {
	tb.Helper()
	d, notes, err := LoadNotes(os.DirFS(dir))
	if err != nil {
		tb.Fatalf("LoadNotes(%s): %v", dir, err)
	}
	return d, notes
}

// Small but complete rate-sheet folder used by several tests.
const (
	fixedCSV = "\ufeffCountry,ISOCode,Profile,1GB/7days (USD),2GB/15days (USD),eSIM Go 1GB Ref,eSIM Go 2GB Ref\r\n" +
		"Aaland Islands, AX ,1.0,1.3,2.29,esim_1GB_7D_AX_V2,esim_2GB_15D_AX_V2\r\n" +
		"Africa,EG;MA;ma,4.0,6.9,NA,esim_1GB_7D_RAF_V2,NA\r\n" +
		",,,,,,\r\n" +
		"Namibia,NA,3.0,22.15,N/A,esim_1GB_7D_NA_V2,esim_2GB_15D_NA_V2\r\n" +
		"Argentina,AR,3.0,3.1,117.17,esim_1GB_7D_AR_V2,NA\r\n"
	liteCSV = "Country,ISOCode,Profile,UL/1day (USD),UL/3days (USD),eSIM Go 1D UL Ref,eSIM Go 3D UL Ref\n" +
		"Aaland Islands,AX,1.0,1.56,3.51,esim_UL_1D_AX_V2,esim_UL_3D_AX_V2\n"
	essentialCSV = "Country,ISOCode,Profile,UL/1day (USD),eSIM Go 1D UL Ref\n" +
		"Monaco,MC,3.0,,esim_ULE_1D_MC_V2\n"
	plusCSV = "Country,ISOCode,Profile,UL/1day (USD),eSIM Go 1D ULP Ref\n" +
		"Aaland Islands,AX,1.0,3.74,esim_ULP_1D_AX_V2\n"
	longCSV = "Country,Profile,ISOCode,20GB/60days (USD),50GB/90days (USD),Base 20GB Ref,Base 50GB Ref\n" +
		"Global - Light,4,AX;PO;US-HI,38.3,90.275,esim_20GB_60D_RGBL_V2,esim_50GB_90D_RGBL_V2\n"
	coverageCSV = "Country,ISOCode,Profile,NetworkName,NetworkCode,MCCMNC,2G,3G,4G,5G\n" +
		"Aaland Islands,AX,1.0,Telia Finland,FINTF,24491,Live,Live,Live,NA\n" +
		"Aaland Islands,AX,1.0,Telia Finland,FINTF,24491,Live,Live,Live,NA\n" +
		"Aaland Islands,AX,4.0,Ålands Telekommunikation Ab,FINAM,24414.0,NA,NA,Live,Live\n" +
		"Egypt,EG,4.0,Orange,EGYMS,60201|60201|602010,Live,NA,NA,NA\n" +
		"Morocco,EH,4.0,Orange Maroc,MARMT,60400,Live,Live,Live,NA\n" +
		"Morocco,MA,4.0,Orange Maroc,MARMT,60400,Live,Live,Live,NA\n"
	regionsCSV = "Africa,Profile 4,,Europe Lite,Profile 1\n" +
		"Country,ISOCode,,Country,ISOCode\n" +
		"Egypt,EG,,Aaland Islands,AX\n" +
		"Morocco,MA,,Aaland Islands,AX\n" +
		",,,Canary Islands,IC\n"
)

func sampleFS() fstest.MapFS {
	return fstest.MapFS{
		FileFixed:              {Data: []byte(fixedCSV)},
		FileUnlimitedLite:      {Data: []byte(liteCSV)},
		FileUnlimitedEssential: {Data: []byte(essentialCSV)},
		FileUnlimitedPlus:      {Data: []byte(plusCSV)},
		FileLongDuration:       {Data: []byte(longCSV)},
		FileCoverage:           {Data: []byte(coverageCSV)},
		FileRegions:            {Data: []byte(regionsCSV)},
	}
}

func dataAllowance(name string, bytes int64, unlimited bool) []catalogue.Allowance {
	return []catalogue.Allowance{{Type: catalogue.AllowanceData, Service: catalogue.ServiceStandard, Description: name + " (data)", Amount: bytes, Unlimited: unlimited}}
}

func TestLoadSample(t *testing.T) {
	d, notes, err := LoadNotes(sampleFS())
	if err != nil {
		t.Fatal(err)
	}
	fixed := func(name, desc string, countries []string, gb int64, days int, profile, price string, speeds []string) catalogue.Bundle {
		return catalogue.Bundle{
			Name: name, Description: desc, Groups: []string{catalogue.GroupFixed}, Countries: countries, Roaming: []string{},
			DataBytes: gb * 1_000_000_000, DurationDays: days, Autostart: true, Speeds: speeds, Profile: profile,
			Price: money.MustParse(price), BillingType: catalogue.BillingFixedCost, Allowances: dataAllowance(name, gb*1_000_000_000, false),
		}
	}
	unl := func(name, desc, group string, days int, price string, daily int64, kbps int) catalogue.Bundle {
		return catalogue.Bundle{
			Name: name, Description: desc, Groups: []string{group}, Countries: []string{"AX"}, Roaming: []string{},
			Unlimited: true, DurationDays: days, Autostart: true, Speeds: []string{"2G", "3G", "4G"}, Profile: "Profile 1",
			Price: money.MustParse(price), BillingType: catalogue.BillingFixedCost, Allowances: dataAllowance(name, 0, true),
			DailyHighSpeedBytes: daily, ThrottleKbps: kbps,
		}
	}
	long := func(name string, gb int64, days int, price string) catalogue.Bundle {
		b := fixed(name, "", []string{"AX", "PO", "US-HI"}, gb, days, "Profile 4", price, []string{"4G", "5G"})
		b.Groups = []string{catalogue.GroupLongDuration}
		b.Description = "eSIM, " + strings.TrimSuffix(strings.TrimPrefix(name, "esim_"), "_RGBL_V2")
		return b
	}
	l1 := long("esim_20GB_60D_RGBL_V2", 20, 60, "38.3")
	l1.Description = "eSIM, 20GB, 60 Days, Global - Light, V2"
	l2 := long("esim_50GB_90D_RGBL_V2", 50, 90, "90.275")
	l2.Description = "eSIM, 50GB, 90 Days, Global - Light, V2"
	want := catalogue.Data{
		Currency: "USD",
		Countries: []catalogue.Country{
			{ISO: "AR", Name: "Argentina", Region: "South America"},
			{ISO: "AX", Name: "Aaland Islands", Region: "Europe"},
			{ISO: "EG", Name: "Egypt", Region: "Africa"},
			{ISO: "EH", Name: "Western Sahara", Region: "Africa"},
			{ISO: "IC", Name: "Canary Islands", Region: "Europe"},
			{ISO: "MA", Name: "Morocco", Region: "Africa"},
			{ISO: "MC", Name: "Monaco", Region: "Europe"},
			{ISO: "NA", Name: "Namibia", Region: "Africa"},
			{ISO: "PO", Name: "Poland", Region: "Europe"},
			{ISO: "US-HI", Name: "Hawaii", Region: "North America"},
		},
		Regions: []catalogue.Region{
			{Name: "Africa", Profile: "Profile 4", Countries: []string{"EG", "MA"}},
			{Name: "Europe Lite", Profile: "Profile 1", Countries: []string{"AX", "IC"}},
		},
		Bundles: []catalogue.Bundle{
			fixed("esim_1GB_7D_AX_V2", "eSIM, 1GB, 7 Days, Aaland Islands, V2", []string{"AX"}, 1, 7, "Profile 1", "1.3", []string{"2G", "3G", "4G"}),
			fixed("esim_2GB_15D_AX_V2", "eSIM, 2GB, 15 Days, Aaland Islands, V2", []string{"AX"}, 2, 15, "Profile 1", "2.29", []string{"2G", "3G", "4G"}),
			fixed("esim_1GB_7D_RAF_V2", "eSIM, 1GB, 7 Days, Africa, V2", []string{"EG", "MA"}, 1, 7, "Profile 4", "6.9", []string{"2G", "3G", "4G"}),
			fixed("esim_1GB_7D_NA_V2", "eSIM, 1GB, 7 Days, Namibia, V2", []string{"NA"}, 1, 7, "Profile 3", "22.15", []string{"4G"}),
			fixed("esim_1GB_7D_AR_V2", "eSIM, 1GB, 7 Days, Argentina, V2", []string{"AR"}, 1, 7, "Profile 3", "3.1", []string{"4G"}),
			unl("esim_UL_1D_AX_V2", "eSIM, Unlimited Lite, 1 Day, Aaland Islands, V2", catalogue.GroupUnlimitedLite, 1, "1.56", 1_000_000_000, 512),
			unl("esim_UL_3D_AX_V2", "eSIM, Unlimited Lite, 3 Days, Aaland Islands, V2", catalogue.GroupUnlimitedLite, 3, "3.51", 1_000_000_000, 512),
			unl("esim_ULP_1D_AX_V2", "eSIM, Unlimited Plus, 1 Day, Aaland Islands, V2", catalogue.GroupUnlimitedPlus, 1, "3.74", 2_000_000_000, 2000),
			l1, l2,
		},
		Networks: []catalogue.Network{
			{CountryISO: "AX", Profile: "Profile 1", Name: "Telia Finland", Brand: "Telia Finland", MCC: "244", MNC: "91", TADIG: "FINTF", Speeds: []string{"2G", "3G", "4G"}},
			{CountryISO: "AX", Profile: "Profile 4", Name: "Ålands Telekommunikation Ab", Brand: "Ålands Telekommunikation Ab", MCC: "244", MNC: "14", TADIG: "FINAM", Speeds: []string{"4G", "5G"}},
			{CountryISO: "EG", Profile: "Profile 4", Name: "Orange", Brand: "Orange", MCC: "602", MNC: "01", TADIG: "EGYMS", Speeds: []string{"2G"}},
			{CountryISO: "EG", Profile: "Profile 4", Name: "Orange", Brand: "Orange", MCC: "602", MNC: "010", TADIG: "EGYMS", Speeds: []string{"2G"}},
			{CountryISO: "EH", Profile: "Profile 4", Name: "Orange Maroc", Brand: "Orange Maroc", MCC: "604", MNC: "00", TADIG: "MARMT", Speeds: []string{"2G", "3G", "4G"}},
			{CountryISO: "MA", Profile: "Profile 4", Name: "Orange Maroc", Brand: "Orange Maroc", MCC: "604", MNC: "00", TADIG: "MARMT", Speeds: []string{"2G", "3G", "4G"}},
		},
	}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("LoadNotes(sample) mismatch (-want +got):\n%s", diff)
	}

	var texts []string
	for _, n := range notes {
		texts = append(texts, n.String())
	}
	wantNotes := []string{
		`standard-fixed.csv line 5: bundle esim_2GB_15D_NA_V2 in column "eSIM Go 2GB Ref" has no price ("N/A" in column "2GB/15days (USD)"); no bundle`,
		`standard-fixed.csv line 6: price 117.17 in column "2GB/15days (USD)" has no bundle name in column "eSIM Go 2GB Ref"; no bundle`,
		`standard-unlimited-essential.csv line 2: bundle esim_ULE_1D_MC_V2 in column "eSIM Go 1D UL Ref" has no price (empty in column "UL/1day (USD)"); no bundle`,
		`coverage.csv line 4: MCCMNC "24414.0" in column "MCCMNC" read as a number; trailing ".0" dropped`,
		`regional-bundles.csv line 4: region "Europe Lite" lists AX twice; kept once`,
		`standard-fixed.csv: esim_1GB_7D_NA_V2: no network in NA has a live generation; speeds set to 4G`,
		`standard-fixed.csv: esim_1GB_7D_AR_V2: no network in AR has a live generation; speeds set to 4G`,
		`coverage.csv: country EH is named "Morocco", which is the name of MA; not used for EH`,
	}
	if diff := cmp.Diff(wantNotes, texts); diff != "" {
		t.Errorf("notes mismatch (-want +got):\n%s", diff)
	}
}

func TestParseErrors(t *testing.T) {
	const hdr = "Country,ISOCode,Profile,1GB/7days (USD),eSIM Go 1GB Ref\n"
	const ulHdr = "Country,ISOCode,Profile,UL/1day (USD),eSIM Go 1D UL Ref\n"
	fixed := func(s string) error { _, err := ParseFixed(strings.NewReader(s)); return err }
	lite := func(s string) error { _, err := ParseUnlimited(strings.NewReader(s), Lite); return err }
	long := func(s string) error { _, err := ParseLongDuration(strings.NewReader(s)); return err }
	coverage := func(s string) error { _, err := ParseCoverage(strings.NewReader(s)); return err }
	regions := func(s string) error { _, err := ParseRegions(strings.NewReader(s)); return err }
	bundles := func(s string) error { _, err := ParseBundleCSV(strings.NewReader(s)); return err }
	const covHdr = "Country,ISOCode,Profile,NetworkName,NetworkCode,MCCMNC,2G,3G,4G,5G\n"
	const bHdr = BundleCSVHeader + "\n"

	tests := []struct {
		name  string
		parse func(string) error
		in    string
		want  string
	}{
		{"comma decimal", fixed, hdr + "Aaland Islands,AX,1.0,1.3,esim_1GB_7D_AX_V2\nAlbania,AL,1.0,\"1,3\",esim_1GB_7D_AL_V2\n",
			`standard-fixed.csv line 3: price "1,3" in column "1GB/7days (USD)" is not a decimal number`},
		{"negative price", fixed, hdr + "Albania,AL,1.0,-1,esim_1GB_7D_AL_V2\n",
			`standard-fixed.csv line 2: price "-1" in column "1GB/7days (USD)" is negative`},
		{"too many decimals", fixed, hdr + "Albania,AL,1.0,1.23456,esim_1GB_7D_AL_V2\n",
			`standard-fixed.csv line 2: price "1.23456" in column "1GB/7days (USD)" has more than 4 decimals`},
		{"garbage price without name", fixed, hdr + "Albania,AL,1.0,abc,NA\n",
			`standard-fixed.csv line 2: price "abc" in column "1GB/7days (USD)" is not a decimal number`},
		{"empty file", fixed, "",
			`standard-fixed.csv: the file is empty; expected a header row (Country, ISOCode, Profile, price columns, Ref columns)`},
		{"utf16", fixed, "\xff\xfeC\x00o\x00",
			`standard-fixed.csv: the file is UTF-16 text; save the sheet as CSV (UTF-8)`},
		{"latin1", fixed, hdr + "\xc5land,AX,1.0,1,esim_1GB_7D_AX_V2\n",
			`standard-fixed.csv line 2: cell in column "Country" is not UTF-8 text; save the sheet as CSV (UTF-8)`},
		{"semicolon separated", fixed, "Country;ISOCode;Profile;1GB/7days (USD);eSIM Go 1GB Ref\n",
			`standard-fixed.csv line 1: the header is a single cell with ";" in it; the file must be comma-separated (CSV)`},
		{"missing profile column", fixed, "Country,ISOCode,1GB/7days (USD),eSIM Go 1GB Ref\n",
			`standard-fixed.csv line 1: the header has no "Profile" column`},
		{"duplicate column", fixed, "Country,ISOCode,Profile,ISO Code,1GB/7days (USD),eSIM Go 1GB Ref\n",
			`standard-fixed.csv line 1: column "ISO Code" appears twice in the header (columns 2 and 4)`},
		{"no price column", fixed, "Country,ISOCode,Profile\n",
			`standard-fixed.csv line 1: the header has no price columns (headers like "1GB/7days (USD)")`},
		{"unpaired ref", fixed, "Country,ISOCode,Profile,1GB/7days (USD),2GB/15days (USD),eSIM Go 1GB Ref\n",
			`standard-fixed.csv line 1: the header has 2 price columns but 1 bundle-name (Ref) columns; they pair up in order`},
		{"mixed currency", fixed, "Country,ISOCode,Profile,1GB/7days (USD),2GB/15days (EUR),A Ref,B Ref\n",
			`standard-fixed.csv line 1: price column "2GB/15days (EUR)" is in EUR but earlier price columns are in USD`},
		{"zero days", fixed, "Country,ISOCode,Profile,1GB/0days (USD),A Ref\n",
			`standard-fixed.csv line 1: price column "1GB/0days (USD)" has a duration of 0 days; it must be 1 to 3650`},
		{"bad profile", fixed, hdr + "Albania,AL,one,1,esim_1GB_7D_AL_V2\n",
			`standard-fixed.csv line 2: profile "one" in column "Profile" is not a profile number such as 1, 1.0 or Profile 1`},
		{"profile zero", fixed, hdr + "Albania,AL,0.0,1,esim_1GB_7D_AL_V2\n",
			`standard-fixed.csv line 2: profile "0.0" in column "Profile" is not a profile number such as 1, 1.0 or Profile 1`},
		{"bad code", fixed, hdr + "Albania,AL;A1,1.0,1,esim_1GB_7D_AL_V2\n",
			`standard-fixed.csv line 2: "A1" in column "ISOCode" is not a country code (codes like GB, separated by ";")`},
		{"empty code", fixed, hdr + "Albania,,1.0,1,esim_1GB_7D_AL_V2\n",
			`standard-fixed.csv line 2: the "ISOCode" cell is empty; it needs a country code`},
		{"only separators", fixed, hdr + "Albania,;;,1.0,1,esim_1GB_7D_AL_V2\n",
			`standard-fixed.csv line 2: the "ISOCode" cell ";;" has no country code`},
		{"empty country", fixed, hdr + ",AL,1.0,1,esim_1GB_7D_AL_V2\n",
			`standard-fixed.csv line 2: the "Country" cell is empty`},
		{"bad name", fixed, hdr + "Albania,AL,1.0,1,esim 1GB\n",
			`standard-fixed.csv line 2: bundle name "esim 1GB" in column "eSIM Go 1GB Ref" must be 1 to 100 letters, digits, '_', '-', '.' or '+', starting with a letter or digit`},
		{"shifted column", fixed, hdr + "Albania,AL,1.0,1,esim_2GB_15D_AL_V2\n",
			`standard-fixed.csv line 2: bundle name "esim_2GB_15D_AL_V2" in column "eSIM Go 1GB Ref" does not match its price column "1GB/7days (USD)" (1GB, 7 days)`},
		{"duplicate name", fixed, hdr + "Albania,AL,1.0,1,esim_1GB_7D_AL_V2\nAlbania,AL,1.0,1,esim_1GB_7D_AL_V2\n",
			`standard-fixed.csv line 3: bundle name "esim_1GB_7D_AL_V2" in column "eSIM Go 1GB Ref" is already used on line 2`},
		{"cell beyond header", fixed, hdr + "Albania,AL,1.0,1,esim_1GB_7D_AL_V2,oops\n",
			`standard-fixed.csv line 2: cell "oops" in column 6 is beyond the last header column (5)`},
		{"bare quote", fixed, hdr + "Alb\"ania,AL,1.0,1,esim_1GB_7D_AL_V2\n",
			`standard-fixed.csv line 2: malformed CSV at character 4: bare " in non-quoted-field`},
		{"wrong tier", lite, ulHdr + "Albania,AL,1.0,1,esim_ULE_1D_AL_V2\n",
			`standard-unlimited-lite.csv line 2: bundle name "esim_ULE_1D_AL_V2" in column "eSIM Go 1D UL Ref" does not match its price column "UL/1day (USD)" (UL, 1 days)`},
		{"fixed header in unlimited", lite, hdr,
			`standard-unlimited-lite.csv line 1: the header has no price columns (headers like "UL/1day (USD)")`},
		{"long duration price", long, "Country,Profile,ISOCode,20GB/60days (USD),Base 20GB Ref\nGlobal,4,AL;AT,x,esim_20GB_60D_RGBL_V2\n",
			`standard-long-duration-bundle.csv line 2: price "x" in column "20GB/60days (USD)" is not a decimal number`},
		{"coverage mccmnc", coverage, covHdr + "Austria,AT,1.0,A1,AUTPT,2321,Live,Live,Live,Live\n",
			`coverage.csv line 2: MCCMNC "2321" in column "MCCMNC" is not 5 or 6 digits (several codes are separated by "|")`},
		{"coverage two countries", coverage, covHdr + "Austria,AT;DE,1.0,A1,AUTPT,23201,Live,Live,Live,Live\n",
			`coverage.csv line 2: "AT;DE" in column "ISOCode" names 2 countries; a coverage row is about one`},
		{"coverage tadig", coverage, covHdr + "Austria,AT,1.0,A1,AUT,23201,Live,Live,Live,Live\n",
			`coverage.csv line 2: TADIG code "AUT" in column "NetworkCode" is not 5 letters or digits`},
		{"coverage no name", coverage, covHdr + "Austria,AT,1.0,,AUTPT,23201,Live,Live,Live,Live\n",
			`coverage.csv line 2: the "NetworkName" cell is empty`},
		{"coverage missing column", coverage, "Country,ISOCode,Profile,NetworkName,NetworkCode\n",
			`coverage.csv line 1: the header has no "MCCMNC" column`},
		{"regions empty", regions, "",
			`regional-bundles.csv: the file is empty; expected a row of region names and profiles (Africa,Profile 4,,Americas,Profile 3,…)`},
		{"regions no profile", regions, "Africa,,,Asia,Profile 4\n",
			`regional-bundles.csv line 1: profile "" of region "Africa" in column 2 is not a profile such as Profile 4`},
		{"regions separator", regions, "Africa,Profile 4,x\n",
			`regional-bundles.csv line 1: cell "x" in column 3 should be empty: each region takes three columns (name, profile, empty)`},
		{"regions duplicate", regions, "Africa,Profile 4,,Africa,Profile 1\n",
			`regional-bundles.csv line 1: region "Africa" in column 4 is already in column 1`},
		{"regions titles", regions, "Africa,Profile 4\nCountry,ISO\n",
			`regional-bundles.csv line 2: region "Africa": columns 1 and 2 of the second row should be titled Country and ISOCode, not "Country" and "ISO"`},
		{"regions member without code", regions, "Africa,Profile 4\nCountry,ISOCode\nEgypt,\n",
			`regional-bundles.csv line 3: country "Egypt" of region "Africa" has no ISO code in column "Africa ISOCode"`},
		{"regions stray cell", regions, "Africa,Profile 4\nCountry,ISOCode\nEgypt,EG,x\n",
			`regional-bundles.csv line 3: cell "x" in column 3 is outside every region's columns`},
		{"bundles missing column", bundles, "name,price\n",
			`line 1: the header has no "description" column`},
		{"bundles unknown column", bundles, bHdr[:len(bHdr)-1] + ",colour\n",
			`line 1: unknown column "colour" in the header; the columns are ` + BundleCSVHeader + " (and optionally voice_minutes, sms)"},
		{"bundles no name", bundles, bHdr + ",d,Standard Fixed,GB,,1000,7,true,4G,1,1.5\n",
			`line 2: the "name" cell is empty`},
		{"bundles data", bundles, bHdr + "b1,d,Standard Fixed,GB,,1GB,7,true,4G,1,1.5\n",
			`line 2: "1GB" in column "data_mb" is neither a whole number of megabytes (1 to 1000000000) nor "unlimited"`},
		{"bundles days", bundles, bHdr + "b1,d,Standard Fixed,GB,,1000,0,true,4G,1,1.5\n",
			`line 2: "0" in column "duration_days" is not a whole number of days from 1 to 3650`},
		{"bundles autostart", bundles, bHdr + "b1,d,Standard Fixed,GB,,1000,7,maybe,4G,1,1.5\n",
			`line 2: "maybe" in column "autostart" is not true or false`},
		{"bundles speed", bundles, bHdr + "b1,d,Standard Fixed,GB,,1000,7,true,6G,1,1.5\n",
			`line 2: speed "6G" in column "speeds" is not one of 2G, 3G, 4G, 5G`},
		{"bundles roaming", bundles, bHdr + "b1,d,Standard Fixed,GB,F-R,1000,7,true,4G,1,1.5\n",
			`line 2: "F-R" in column "roaming" is not a country code (codes like GB, separated by ";")`},
		{"bundles groups", bundles, bHdr + "b1,d,;,GB,,1000,7,true,4G,1,1.5\n",
			`line 2: the "groups" cell ";" names no group`},
		{"bundles price", bundles, bHdr + "b1,d,Standard Fixed,GB,,1000,7,true,4G,1,$1.5\n",
			`line 2: price "$1.5" in column "price" is not a decimal number`},
		{"bundles duplicate", bundles, bHdr + "b1,d,G,GB,,1000,7,true,4G,1,1.5\n\nb1,d,G,GB,,1000,7,true,4G,1,1.5\n",
			`line 4: bundle name "b1" is already used on line 2`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.parse(tt.in)
			if err == nil {
				t.Fatalf("no error; want %s", tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("error\n got: %s\nwant: %s", got, tt.want)
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Errorf("error %T is not a *Error", err)
			}
		})
	}
}

func TestErrorColumn(t *testing.T) {
	_, err := ParseFixed(strings.NewReader("Country,ISOCode,Profile,1GB/7days (USD),eSIM Go 1GB Ref\nAlbania,AL,1.0,\"1,3\",x\n"))
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v is not a *Error", err)
	}
	want := &Error{File: FileFixed, Line: 2, Col: 4, Column: "1GB/7days (USD)", Msg: `price "1,3" in column "1GB/7days (USD)" is not a decimal number`}
	if diff := cmp.Diff(want, e); diff != "" {
		t.Errorf("error mismatch (-want +got):\n%s", diff)
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(fstest.MapFS)
		want   string
	}{
		{"missing file", func(m fstest.MapFS) { delete(m, FileCoverage) },
			"coverage.csv: the file is missing; a rate-sheet folder holds " + strings.Join(Files, ", ")},
		{"duplicate across files", func(m fstest.MapFS) {
			m[FileLongDuration] = &fstest.MapFile{Data: []byte("Country,Profile,ISOCode,1GB/7days (USD),Ref\nX,4,AX,1,esim_1GB_7D_AX_V2\n")}
		}, `standard-long-duration-bundle.csv line 2: bundle name "esim_1GB_7D_AX_V2" in column "Ref" is already used by standard-fixed.csv line 2`},
		{"currency", func(m fstest.MapFS) {
			m[FileUnlimitedPlus] = &fstest.MapFile{Data: []byte("Country,ISOCode,Profile,UL/1day (EUR),Ref\n")}
		}, `standard-unlimited-plus.csv: prices are in EUR but standard-fixed.csv prices are in USD`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sampleFS()
			tt.change(m)
			_, err := Load(m)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Load error\n got: %v\nwant: %s", err, tt.want)
			}
		})
	}
}

func TestHeaderOnlyFolder(t *testing.T) {
	m := fstest.MapFS{}
	for name, content := range sampleFS() {
		first, _, _ := strings.Cut(string(content.Data), "\n")
		if name == FileRegions {
			first = "Africa,Profile 4\nCountry,ISOCode"
		}
		m[name] = &fstest.MapFile{Data: []byte(first + "\n")}
	}
	d, notes, err := LoadNotes(m)
	if err != nil {
		t.Fatal(err)
	}
	want := catalogue.Data{Currency: "USD", Countries: []catalogue.Country{}, Bundles: []catalogue.Bundle{}, Networks: []catalogue.Network{},
		Regions: []catalogue.Region{{Name: "Africa", Profile: "Profile 4", Countries: []string{}}}}
	if diff := cmp.Diff(want, d); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}
	if len(notes) != 1 || notes[0].Text != `region "Africa" has no countries` {
		t.Errorf("notes = %v", notes)
	}
}

func TestParseBundleCSV(t *testing.T) {
	in := "\ufeffName , Price,Profile,Description,Groups,Countries,Roaming,DATA_MB,duration days,Autostart,Speeds\n" +
		"my_fr_1,1.5,1.0,,Standard Fixed,fr,,1500,1,yes,5G;2g;4G\n" +
		"\n" +
		"my_ul_7,9.99,Profile 4,Seven days unlimited,Standard Unlimited Essential;Travel,FR;DE,ES;IT,Unlimited,7,false,,\n" +
		"my_10gb,20,2,,Custom,FR;DE,,10000,30,1,4G\n"
	got, err := ParseBundleCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []catalogue.Bundle{
		{Name: "my_fr_1", Description: "eSIM, 1500MB, 1 Day, France", Groups: []string{"Standard Fixed"}, Countries: []string{"FR"}, Roaming: []string{},
			DataBytes: 1_500_000_000, DurationDays: 1, Autostart: true, Speeds: []string{"2G", "4G", "5G"}, Profile: "Profile 1",
			Price: money.MustParse("1.5"), BillingType: catalogue.BillingFixedCost, Allowances: dataAllowance("my_fr_1", 1_500_000_000, false)},
		{Name: "my_ul_7", Description: "Seven days unlimited", Groups: []string{catalogue.GroupUnlimitedEssential, "Travel"}, Countries: []string{"FR", "DE"}, Roaming: []string{"ES", "IT"},
			Unlimited: true, DurationDays: 7, Speeds: []string{}, Profile: "Profile 4", Price: money.MustParse("9.99"), BillingType: catalogue.BillingFixedCost,
			Allowances: dataAllowance("my_ul_7", 0, true), DailyHighSpeedBytes: 1_000_000_000, ThrottleKbps: 1250},
		{Name: "my_10gb", Description: "eSIM, 10GB, 30 Days, Regional", Groups: []string{"Custom"}, Countries: []string{"FR", "DE"}, Roaming: []string{},
			DataBytes: 10_000_000_000, DurationDays: 30, Autostart: true, Speeds: []string{"4G"}, Profile: "Profile 2",
			Price: money.MustParse("20"), BillingType: catalogue.BillingFixedCost, Allowances: dataAllowance("my_10gb", 10_000_000_000, false)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ParseBundleCSV mismatch (-want +got):\n%s", diff)
	}
}

func TestCountryTable(t *testing.T) {
	iso := 0
	for code, c := range countries {
		if !slices.Contains(Regions, c.region) {
			t.Errorf("%s: region %q is not one of %v", code, c.region, Regions)
		}
		if c.name == "" {
			t.Errorf("%s has no name", code)
		}
		if !nonISOCodes[code] {
			iso++
			if !regexp.MustCompile(`^[A-Z]{2}$`).MatchString(code) {
				t.Errorf("%s is not an alpha-2 code", code)
			}
		}
	}
	if iso != 249 {
		t.Errorf("the table has %d ISO 3166-1 codes; there are 249", iso)
	}
	for code := range nonISOCodes {
		if _, ok := countries[code]; !ok {
			t.Errorf("non-ISO code %s is not in the table", code)
		}
	}
}

// TestSheetRegions asserts that every code a rate sheet uses is a country
// of the catalogue with a region.
func TestSheetRegions(t *testing.T) {
	for _, dir := range sheets(t) {
		t.Run(dir, func(t *testing.T) { checkRegions(t, dir) })
	}
}

func checkRegions(t *testing.T, dir string) {
	d, notes := loadSheet(t, dir)
	byISO := map[string]catalogue.Country{}
	for _, c := range d.Countries {
		byISO[c.ISO] = c
		if !slices.Contains(Regions, c.Region) {
			t.Errorf("country %s (%s) has region %q", c.ISO, c.Name, c.Region)
		}
		if c.Name == "" {
			t.Errorf("country %s has no name", c.ISO)
		}
	}
	check := func(where string, codes ...string) {
		for _, c := range codes {
			if _, ok := byISO[c]; !ok {
				t.Errorf("%s: code %s is not in Countries", where, c)
			}
		}
	}
	for _, b := range d.Bundles {
		check(b.Name, b.Countries...)
		check(b.Name, b.Roaming...)
	}
	for _, r := range d.Regions {
		check(r.Name, r.Countries...)
	}
	for _, n := range d.Networks {
		check(n.Name, n.CountryISO)
	}
	for _, n := range notes {
		if strings.Contains(n.Text, "not in the region table") {
			t.Errorf("note: %s", n)
		}
	}
	// The anomalies are kept, with sensible names and regions.
	for _, want := range []catalogue.Country{
		{ISO: "IC", Name: "Canary Islands", Region: "Europe"},
		{ISO: "CYP", Name: "Northern Cyprus", Region: "Europe"},
		{ISO: "US-HI", Name: "Hawaii", Region: "North America"},
		{ISO: "PO", Name: "Poland", Region: "Europe"},
		{ISO: "XK", Name: "Kosovo", Region: "Europe"},
		{ISO: "AN", Name: "Netherlands Antilles", Region: "Caribbean"},
		{ISO: "EH", Name: "Western Sahara", Region: "Africa"},
		{ISO: "NA", Name: "Namibia", Region: "Africa"},
		{ISO: "AX", Name: "Aaland Islands", Region: "Europe"},
		{ISO: "GB", Name: "United Kingdom", Region: "Europe"},
	} {
		if diff := cmp.Diff(want, byISO[want.ISO]); diff != "" {
			t.Errorf("country %s (-want +got):\n%s", want.ISO, diff)
		}
	}
}

func TestSheetInvariants(t *testing.T) {
	want := map[string]struct {
		groups  map[string]int
		regions int
	}{
		testSheet: {map[string]int{
			catalogue.GroupFixed:              77,
			catalogue.GroupUnlimitedLite:      66,
			catalogue.GroupUnlimitedEssential: 66,
			catalogue.GroupUnlimitedPlus:      66,
			catalogue.GroupLongDuration:       6,
		}, 14},
		realSheet: {map[string]int{
			catalogue.GroupFixed:              1441,
			catalogue.GroupUnlimitedLite:      1258,
			catalogue.GroupUnlimitedEssential: 1249,
			catalogue.GroupUnlimitedPlus:      1248,
			catalogue.GroupLongDuration:       25,
		}, 14},
	}
	for _, dir := range sheets(t) {
		t.Run(dir, func(t *testing.T) {
			d, _ := loadSheet(t, dir)
			checkData(t, d)
			groups := map[string]int{}
			for _, b := range d.Bundles {
				groups[b.Groups[0]]++
			}
			if diff := cmp.Diff(want[dir].groups, groups); diff != "" {
				t.Errorf("bundles per group (-want +got):\n%s", diff)
			}
			if len(d.Regions) != want[dir].regions {
				t.Errorf("%d regions, want %d", len(d.Regions), want[dir].regions)
			}
		})
	}
}

// checkData asserts what must hold of any catalogue Load returns.
func checkData(t testing.TB, d catalogue.Data) {
	t.Helper()
	if d.Currency == "" {
		t.Errorf("no currency")
	}
	names := map[string]bool{}
	for _, b := range d.Bundles {
		checkBundle(t, b)
		if names[b.Name] {
			t.Errorf("bundle %s appears twice", b.Name)
		}
		names[b.Name] = true
	}
	for _, n := range d.Networks {
		checkNetwork(t, n)
	}
	for _, r := range d.Regions {
		if r.Name == "" || !strings.HasPrefix(r.Profile, "Profile ") || r.Countries == nil {
			t.Errorf("bad region %+v", r)
		}
	}
	if !slices.IsSortedFunc(d.Countries, func(a, b catalogue.Country) int { return strings.Compare(a.ISO, b.ISO) }) {
		t.Errorf("countries are not sorted by code")
	}
}

var (
	mccRe = regexp.MustCompile(`^\d{3}$`)
	mncRe = regexp.MustCompile(`^\d{2,3}$`)
)

func checkBundle(t testing.TB, b catalogue.Bundle) {
	t.Helper()
	bad := func(format string, args ...any) {
		t.Helper()
		t.Errorf("bundle %q: "+format, append([]any{b.Name}, args...)...)
	}
	if b.Name == "" || !bundleName.MatchString(b.Name) {
		bad("bad name")
	}
	if b.Description == "" {
		bad("no description")
	}
	if b.Price < 0 {
		bad("negative price %v", b.Price)
	}
	if len(b.Groups) == 0 || slices.Contains(b.Groups, "") {
		bad("groups %q", b.Groups)
	}
	if len(b.Countries) == 0 {
		bad("no countries")
	}
	for _, c := range append(slices.Clone(b.Countries), b.Roaming...) {
		if !codeRe.MatchString(c) {
			bad("country code %q", c)
		}
	}
	if b.Roaming == nil || b.Speeds == nil {
		bad("nil roaming or speeds")
	}
	if b.DurationDays < 1 || b.DurationDays > MaxDurationDays {
		bad("duration %d", b.DurationDays)
	}
	if b.Unlimited != (b.DataBytes == 0) {
		bad("unlimited %v with %d bytes", b.Unlimited, b.DataBytes)
	}
	if !b.Unlimited && (b.DailyHighSpeedBytes != 0 || b.ThrottleKbps != 0) {
		bad("throttle on a fixed bundle")
	}
	if b.DataBytes < 0 {
		bad("negative data")
	}
	if !strings.HasPrefix(b.Profile, "Profile ") {
		bad("profile %q", b.Profile)
	}
	if b.BillingType != catalogue.BillingFixedCost {
		bad("billing type %q", b.BillingType)
	}
	if len(b.Allowances) != 1 || b.Allowances[0].Type != catalogue.AllowanceData || b.Allowances[0].Amount != b.DataBytes || b.Allowances[0].Unlimited != b.Unlimited {
		bad("allowances %+v", b.Allowances)
	}
	if !slices.IsSortedFunc(b.Speeds, func(x, y string) int { return slices.Index(Generations, x) - slices.Index(Generations, y) }) {
		bad("speeds %v not in order", b.Speeds)
	}
	for _, s := range b.Speeds {
		if !slices.Contains(Generations, s) {
			bad("speed %q", s)
		}
	}
}

func checkNetwork(t testing.TB, n catalogue.Network) {
	t.Helper()
	if !mccRe.MatchString(n.MCC) || !mncRe.MatchString(n.MNC) || len(n.TADIG) != 5 || n.Name == "" || n.Brand == "" ||
		!strings.HasPrefix(n.Profile, "Profile ") || !codeRe.MatchString(n.CountryISO) || n.Speeds == nil {
		t.Errorf("bad network %+v", n)
	}
}

func TestFamilies(t *testing.T) {
	var got []string
	for _, f := range Families() {
		got = append(got, strings.Join([]string{f.String(), f.Code(), f.Group(), f.File()}, "|"))
	}
	want := []string{
		"Unlimited Lite|UL|Standard Unlimited Lite|standard-unlimited-lite.csv",
		"Unlimited Essential|ULE|Standard Unlimited Essential|standard-unlimited-essential.csv",
		"Unlimited Plus|ULP|Standard Unlimited Plus|standard-unlimited-plus.csv",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Error(diff)
	}
	if _, err := ParseUnlimited(strings.NewReader(""), 0); err == nil {
		t.Error("ParseUnlimited with family 0: no error")
	}
	if Family(9).String() != "Family(9)" {
		t.Errorf("Family(9) = %s", Family(9))
	}
}

func BenchmarkLoad(b *testing.B) {
	dir := realSheet
	if _, err := os.Stat(dir); err != nil {
		dir = testSheet
	}
	fsys := os.DirFS(dir)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Load(fsys); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBundleCSVVoiceAndSMS(t *testing.T) {
	in := BundleCSVHeader + ",voice_minutes,sms\n" +
		"talk_5GB_30D_GB,,Talk,GB,,5000,30,true,4G,1,9.5,100,50\n" +
		"data_1GB_7D_GB,,Data,GB,,1000,7,true,4G,1,1.5,,\n"
	got, err := ParseBundleCSV(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || len(got[0].Allowances) != 3 || len(got[1].Allowances) != 1 {
		t.Fatalf("allowances = %+v / %+v", got[0].Allowances, got[1].Allowances)
	}
	v, s := got[0].Allowances[1], got[0].Allowances[2]
	if v.Type != catalogue.AllowanceVoice || v.Amount != 100 || s.Type != catalogue.AllowanceSMS || s.Amount != 50 {
		t.Errorf("voice %+v, sms %+v", v, s)
	}
	for _, bad := range []string{"0", "-5", "many", "10000001"} {
		row := "talk_5GB_30D_GB,,Talk,GB,,5000,30,true,4G,1,9.5," + bad + ",\n"
		if _, err := ParseBundleCSV(strings.NewReader(BundleCSVHeader + ",voice_minutes,sms\n" + row)); err == nil || !strings.Contains(err.Error(), "voice_minutes") {
			t.Errorf("voice_minutes %q: %v", bad, err)
		}
	}
}
