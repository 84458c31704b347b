// Package ratesheet reads a wholesale rate sheet (a folder of CSV files, one
// per sheet of the vendor's spreadsheet) into a catalogue.Data, and reads a
// simpler one-bundle-per-row CSV for operators (ParseBundleCSV).
//
// It is how the demo catalogue is built (package demodata) and how a live
// operator imports a rate sheet, so it treats its input as untrusted: every
// rule the input breaks is an *Error naming the file, the line and the
// column, for example
//
//	standard-fixed.csv line 14: price "1,3" in column "1GB/7days (USD)" is not a decimal number
//
// and what it repairs or skips without failing is reported as a Note
// (LoadNotes).
//
// # Files
//
// A rate-sheet folder holds these files (Files), all required; a file with a
// header and no rows is valid:
//
//	standard-fixed.csv                 ParseFixed
//	standard-unlimited-lite.csv        ParseUnlimited(r, Lite)
//	standard-unlimited-essential.csv   ParseUnlimited(r, Essential)
//	standard-unlimited-plus.csv        ParseUnlimited(r, Plus)
//	standard-long-duration-bundle.csv  ParseLongDuration
//	coverage.csv                       ParseCoverage
//	regional-bundles.csv               ParseRegions
//
// Load reads them from an fs.FS (os.DirFS, an uploaded folder) and Assemble
// joins the parsed sheets.
//
// # Reading CSV
//
// A UTF-8 byte-order mark is dropped (UTF-16 files are rejected with a hint),
// cells are trimmed, blank rows are skipped, CRLF and LF both work, cells must
// be UTF-8, and the separator is a comma (a header that is one cell full of
// ";" or tabs gets an error saying so). The parsers stream the input; callers
// bound the size of uploads.
//
// Bundle sheets find their columns by header, in any order and letter case
// ("ISO Code" = "ISOCode"): Country, ISOCode and Profile are
// required; price columns are "<n>GB/<n>days (<CUR>)" (MB and TB too) in the
// fixed and long-duration sheets and "UL/<n>days (<CUR>)" in the unlimited
// ones; bundle-name columns are the headers ending in "Ref" and pair with the
// price columns in order. Other columns are ignored with a note. All price
// columns must name the same currency, which becomes Data.Currency ("USD" for
// this sheet).
//
// # Derivation rules
//
// Bundles. A price cell and its Ref cell make one bundle. "NA", "N/A" or an
// empty cell means no bundle; a price without a name, or a name without a
// price, makes no bundle either and is noted. A price that is not a decimal
// number, or is negative, is an error. For each bundle:
//
//   - Name: the Ref cell verbatim (case-sensitive). It must be 1–100 letters,
//     digits, '_', '-', '.' or '+' (it appears in URL paths). A name used twice
//     in any of the files is an error. A name that follows the
//     esim_<data>_<n>D_ / esim_UL|ULE|ULP_<n>D_ convention must agree with its
//     price column (amount, duration, tier), which catches shifted columns.
//   - Description: "eSIM, 1GB, 7 Days, United Kingdom, V2"; unlimited bundles
//     say "Unlimited Lite", "Unlimited Essential" or "Unlimited Plus" in place
//     of the amount; "1 Day" is singular; the area is the row's Country cell
//     (a region name such as "Africa" or "Global - Light" for regional rows);
//     the version is the name's final "_V<n>", left out when there is none.
//   - Groups: one of catalogue.GroupFixed, GroupUnlimitedLite/Essential/Plus,
//     GroupLongDuration, by file.
//   - Countries (base countries): the codes of the ISOCode cell; a cell listing
//     several codes separated by ";" is a regional bundle. Codes are
//     upper-cased and de-duplicated. Roaming is always empty: the sheets list
//     no roaming countries.
//   - DataBytes: base 10 (1GB = 1,000,000,000), from the price column header.
//     Unlimited bundles have DataBytes 0, Unlimited true and, per tier, full
//     speed for 1 GB a day then 512 kbps (Lite), 1 GB then 1250 kbps
//     (Essential), 2 GB then 2000 kbps (Plus) in DailyHighSpeedBytes and
//     ThrottleKbps.
//   - DurationDays: from the price column header ("7days", "UL/1day", 1–3650).
//   - Autostart: true for every bundle. The sheets do not say; eSIM Go's
//     standard bundles start on first attachment, so this is our choice.
//   - Profile: "1.0", "4" or "Profile 4" become "Profile 4".
//   - Price: the cell's exact decimal (money.Parse, never float).
//   - BillingType "FixedCost" and one DATA allowance: service STANDARD,
//     description "<name> (data)", amount in bytes (0 and unlimited for the
//     unlimited tiers). The sheets have no voice or SMS.
//   - Speeds: the union, in the order 2G, 3G, 4G, 5G, of the generations
//     marked "Live" on coverage networks of the bundle's profile in its base
//     countries; if there are none, of the networks of any profile there
//     (noted); if still none, ["4G"] (noted).
//
// Networks (coverage.csv). One catalogue.Network per row and MCC+MNC: the
// MCCMNC cell may list several codes separated by "|" (all are kept, each as
// a network with the row's name and TADIG). MCC is the first three digits and
// MNC the rest, leading zeros kept (codes have 5 or 6 digits). Name and Brand
// are both NetworkName, TADIG is NetworkCode (5 letters or digits), Speeds
// are the generations marked "Live" (anything else means not live). Identical
// networks are kept once.
//
// Regions (regional-bundles.csv). A first row of region names with their
// profile in groups of three columns (name, profile, empty), a second row of
// titles (Country, ISOCode, empty), then one member per group and row. A
// country listed twice in a region is kept once (noted).
//
// Countries. Data.Countries holds every code that any file mentions (in a
// bundle row, a region or a network), sorted by code. Its name is the first
// one the files give it, in the order standard-fixed, unlimited lite,
// essential, plus, long duration, coverage, regions (only single-code rows
// name a country), skipping a name
// that is another code's (coverage.csv names EH "Morocco"); failing that the
// name in this package's table (CountryInfo). Differing names are noted. The
// region is a continent-level name from that table (Europe, Asia, Middle
// East, Africa, North America, Central America, South America, Caribbean,
// Oceania); a code the table lacks is kept with an empty region and noted.
//
// # Anomalies of the November 2025 sheet
//
// These are kept as the sheet gives them, not corrected:
//
//   - Non-ISO codes: IC (Canary Islands, Europe), CYP (Northern Cyprus,
//     Europe), US-HI (Hawaii, an ISO 3166-2 code; North America), XK (Kosovo,
//     Europe), AN (Netherlands Antilles, withdrawn in 2010; Caribbean). They
//     are countries of their own.
//   - PO in the long-duration rows "Global - Standard" and "Global - Max"
//     stands where PL (Poland) stands in "Global - Light": a typo, kept as the
//     country PO named "Poland" (Europe). Likewise IO (British Indian Ocean
//     Territory) in the long-duration Global rows sits where Isle of Man (IM)
//     would in their alphabetical-by-name order; it is kept as IO.
//   - Namibia's code is NA, the same text as "no bundle": only price and Ref
//     cells read NA as "no bundle".
//   - Multi-code rows that are single places: "Congo" (CG;CD), "Congo-the
//     Democratic Republic of the" (CD;CG), "Guernsey" (GG;JE), "Jersey"
//     (JE;GG), "Northern Cyprus" (CYP;CY) and, in the unlimited sheets,
//     "Cyprus" (CY;CYP). They follow the rule: several codes, several base
//     countries.
//   - Prices without a Ref (Argentina, Armenia, Azerbaijan, Moldova,
//     Montenegro, Bahrain, Panama, Vanuatu, British Virgin Islands, South
//     Africa in some sheets) and Refs without a price (Monaco's empty
//     Essential/Plus prices, Vatican City and US Virgin Islands Essential)
//     make no bundle; "N/A" (Gibraltar) is read like NA.
//   - coverage.csv: MCCMNC cells with a spreadsheet ".0" ("26003.0"), several
//     codes joined by "|" (one repeated: "22606|22603|22603"), a row for EH
//     (Western Sahara) named "Morocco" with a Moroccan network, and names that
//     differ from the bundle sheets ("Brunei Darussalam", "Russia", "Mayotte,
//     Réunion", "Guam, Northern Mariana Islands").
//   - regional-bundles.csv: the region "Carribbean" is spelt so (kept); its
//     members differ from the fixed sheet's Caribbean row (which has MQ and SR
//     but not AW and GP) and include SV (El Salvador) and GF (French Guiana);
//     regions are kept as listed, bundles keep their own country lists.
//   - Regional names differ between sheets (the fixed sheet's "Middle East &
//     Africa" row has the codes of the long-duration "Middle East" row); names
//     and codes are taken per file, not reconciled.
package ratesheet
