package ratesheet

// Continent-level region names a Country can carry.
const (
	RegionEurope         = "Europe"
	RegionAsia           = "Asia"
	RegionMiddleEast     = "Middle East"
	RegionAfrica         = "Africa"
	RegionNorthAmerica   = "North America"
	RegionCentralAmerica = "Central America"
	RegionSouthAmerica   = "South America"
	RegionCaribbean      = "Caribbean"
	RegionOceania        = "Oceania"
)

// Regions lists every continent-level region name, in a fixed order.
var Regions = []string{
	RegionEurope, RegionAsia, RegionMiddleEast, RegionAfrica, RegionNorthAmerica,
	RegionCentralAmerica, RegionSouthAmerica, RegionCaribbean, RegionOceania,
}

type countryInfo struct {
	name   string
	region string
}

// CountryInfo returns the English short name and the continent-level region
// of a country code: every ISO 3166-1 alpha-2 code, plus the non-standard
// codes rate sheets use (IC, XK, AN, CYP, US-HI, PO). ok is false for codes
// the table does not know.
func CountryInfo(iso string) (name, region string, ok bool) {
	c, ok := countries[iso]
	return c.name, c.region, ok
}

// countries maps country codes to an English name and a continent-level
// region. The split follows the UN M49 geoscheme with these choices:
// Middle East = the Arabian peninsula, the Levant, Iraq and Iran; Egypt is in
// Africa; Turkey, Cyprus and Russia are in Europe; the Caucasus and Central
// Asia are in Asia; Mexico, Greenland, Bermuda and Saint Pierre and Miquelon
// are in North America; Belize to Panama are Central America; Antarctic
// territories go with their nearest inhabited region.
var countries = map[string]countryInfo{
	// Europe
	"AD": {"Andorra", RegionEurope},
	"AL": {"Albania", RegionEurope},
	"AT": {"Austria", RegionEurope},
	"AX": {"Aaland Islands", RegionEurope},
	"BA": {"Bosnia and Herzegovina", RegionEurope},
	"BE": {"Belgium", RegionEurope},
	"BG": {"Bulgaria", RegionEurope},
	"BY": {"Belarus", RegionEurope},
	"CH": {"Switzerland", RegionEurope},
	"CY": {"Cyprus", RegionEurope},
	"CZ": {"Czech Republic", RegionEurope},
	"DE": {"Germany", RegionEurope},
	"DK": {"Denmark", RegionEurope},
	"EE": {"Estonia", RegionEurope},
	"ES": {"Spain", RegionEurope},
	"FI": {"Finland", RegionEurope},
	"FO": {"Faroe Islands", RegionEurope},
	"FR": {"France", RegionEurope},
	"GB": {"United Kingdom", RegionEurope},
	"GG": {"Guernsey", RegionEurope},
	"GI": {"Gibraltar", RegionEurope},
	"GR": {"Greece", RegionEurope},
	"HR": {"Croatia", RegionEurope},
	"HU": {"Hungary", RegionEurope},
	"IE": {"Ireland", RegionEurope},
	"IM": {"Isle of Man", RegionEurope},
	"IS": {"Iceland", RegionEurope},
	"IT": {"Italy", RegionEurope},
	"JE": {"Jersey", RegionEurope},
	"LI": {"Liechtenstein", RegionEurope},
	"LT": {"Lithuania", RegionEurope},
	"LU": {"Luxembourg", RegionEurope},
	"LV": {"Latvia", RegionEurope},
	"MC": {"Monaco", RegionEurope},
	"MD": {"Moldova", RegionEurope},
	"ME": {"Montenegro", RegionEurope},
	"MK": {"North Macedonia", RegionEurope},
	"MT": {"Malta", RegionEurope},
	"NL": {"Netherlands", RegionEurope},
	"NO": {"Norway", RegionEurope},
	"PL": {"Poland", RegionEurope},
	"PT": {"Portugal", RegionEurope},
	"RO": {"Romania", RegionEurope},
	"RS": {"Serbia", RegionEurope},
	"RU": {"Russian Federation", RegionEurope},
	"SE": {"Sweden", RegionEurope},
	"SI": {"Slovenia", RegionEurope},
	"SJ": {"Svalbard and Jan Mayen", RegionEurope},
	"SK": {"Slovakia", RegionEurope},
	"SM": {"San Marino", RegionEurope},
	"TR": {"Turkey", RegionEurope},
	"UA": {"Ukraine", RegionEurope},
	"VA": {"Vatican City", RegionEurope},

	// Asia
	"AF": {"Afghanistan", RegionAsia},
	"AM": {"Armenia", RegionAsia},
	"AZ": {"Azerbaijan", RegionAsia},
	"BD": {"Bangladesh", RegionAsia},
	"BN": {"Brunei Darussalam", RegionAsia},
	"BT": {"Bhutan", RegionAsia},
	"CN": {"China", RegionAsia},
	"GE": {"Georgia", RegionAsia},
	"HK": {"Hong Kong", RegionAsia},
	"ID": {"Indonesia", RegionAsia},
	"IN": {"India", RegionAsia},
	"JP": {"Japan", RegionAsia},
	"KG": {"Kyrgyzstan", RegionAsia},
	"KH": {"Cambodia", RegionAsia},
	"KP": {"Korea, Democratic People's Republic of", RegionAsia},
	"KR": {"Korea, Republic of", RegionAsia},
	"KZ": {"Kazakhstan", RegionAsia},
	"LA": {"Laos", RegionAsia},
	"LK": {"Sri Lanka", RegionAsia},
	"MM": {"Myanmar", RegionAsia},
	"MN": {"Mongolia", RegionAsia},
	"MO": {"Macao", RegionAsia},
	"MV": {"Maldives", RegionAsia},
	"MY": {"Malaysia", RegionAsia},
	"NP": {"Nepal", RegionAsia},
	"PH": {"Philippines", RegionAsia},
	"PK": {"Pakistan", RegionAsia},
	"SG": {"Singapore", RegionAsia},
	"TH": {"Thailand", RegionAsia},
	"TJ": {"Tajikistan", RegionAsia},
	"TL": {"Timor-Leste", RegionAsia},
	"TM": {"Turkmenistan", RegionAsia},
	"TW": {"Taiwan", RegionAsia},
	"UZ": {"Uzbekistan", RegionAsia},
	"VN": {"Vietnam", RegionAsia},

	// Middle East
	"AE": {"United Arab Emirates", RegionMiddleEast},
	"BH": {"Bahrain", RegionMiddleEast},
	"IL": {"Israel", RegionMiddleEast},
	"IQ": {"Iraq", RegionMiddleEast},
	"IR": {"Iran", RegionMiddleEast},
	"JO": {"Jordan", RegionMiddleEast},
	"KW": {"Kuwait", RegionMiddleEast},
	"LB": {"Lebanon", RegionMiddleEast},
	"OM": {"Oman", RegionMiddleEast},
	"PS": {"Palestine", RegionMiddleEast},
	"QA": {"Qatar", RegionMiddleEast},
	"SA": {"Saudi Arabia", RegionMiddleEast},
	"SY": {"Syria", RegionMiddleEast},
	"YE": {"Yemen", RegionMiddleEast},

	// Africa
	"AO": {"Angola", RegionAfrica},
	"BF": {"Burkina Faso", RegionAfrica},
	"BI": {"Burundi", RegionAfrica},
	"BJ": {"Benin", RegionAfrica},
	"BW": {"Botswana", RegionAfrica},
	"CD": {"Congo, Democratic Republic of the", RegionAfrica},
	"CF": {"Central African Republic", RegionAfrica},
	"CG": {"Congo", RegionAfrica},
	"CI": {"Ivory Coast", RegionAfrica},
	"CM": {"Cameroon", RegionAfrica},
	"CV": {"Cape Verde", RegionAfrica},
	"DJ": {"Djibouti", RegionAfrica},
	"DZ": {"Algeria", RegionAfrica},
	"EG": {"Egypt", RegionAfrica},
	"EH": {"Western Sahara", RegionAfrica},
	"ER": {"Eritrea", RegionAfrica},
	"ET": {"Ethiopia", RegionAfrica},
	"GA": {"Gabon", RegionAfrica},
	"GH": {"Ghana", RegionAfrica},
	"GM": {"Gambia", RegionAfrica},
	"GN": {"Guinea", RegionAfrica},
	"GQ": {"Equatorial Guinea", RegionAfrica},
	"GW": {"Guinea-Bissau", RegionAfrica},
	"IO": {"British Indian Ocean Territory", RegionAfrica},
	"KE": {"Kenya", RegionAfrica},
	"KM": {"Comoros", RegionAfrica},
	"LR": {"Liberia", RegionAfrica},
	"LS": {"Lesotho", RegionAfrica},
	"LY": {"Libya", RegionAfrica},
	"MA": {"Morocco", RegionAfrica},
	"MG": {"Madagascar", RegionAfrica},
	"ML": {"Mali", RegionAfrica},
	"MR": {"Mauritania", RegionAfrica},
	"MU": {"Mauritius", RegionAfrica},
	"MW": {"Malawi", RegionAfrica},
	"MZ": {"Mozambique", RegionAfrica},
	"NA": {"Namibia", RegionAfrica},
	"NE": {"Niger", RegionAfrica},
	"NG": {"Nigeria", RegionAfrica},
	"RE": {"Reunion", RegionAfrica},
	"RW": {"Rwanda", RegionAfrica},
	"SC": {"Seychelles", RegionAfrica},
	"SD": {"Sudan", RegionAfrica},
	"SH": {"Saint Helena", RegionAfrica},
	"SL": {"Sierra Leone", RegionAfrica},
	"SN": {"Senegal", RegionAfrica},
	"SO": {"Somalia", RegionAfrica},
	"SS": {"South Sudan", RegionAfrica},
	"ST": {"Sao Tome and Principe", RegionAfrica},
	"SZ": {"Eswatini", RegionAfrica},
	"TD": {"Chad", RegionAfrica},
	"TF": {"French Southern Territories", RegionAfrica},
	"TG": {"Togo", RegionAfrica},
	"TN": {"Tunisia", RegionAfrica},
	"TZ": {"Tanzania, United Republic of", RegionAfrica},
	"UG": {"Uganda", RegionAfrica},
	"YT": {"Mayotte", RegionAfrica},
	"ZA": {"South Africa", RegionAfrica},
	"ZM": {"Zambia", RegionAfrica},
	"ZW": {"Zimbabwe", RegionAfrica},

	// North America
	"BM": {"Bermuda", RegionNorthAmerica},
	"CA": {"Canada", RegionNorthAmerica},
	"GL": {"Greenland", RegionNorthAmerica},
	"MX": {"Mexico", RegionNorthAmerica},
	"PM": {"Saint Pierre and Miquelon", RegionNorthAmerica},
	"US": {"United States of America", RegionNorthAmerica},

	// Central America
	"BZ": {"Belize", RegionCentralAmerica},
	"CR": {"Costa Rica", RegionCentralAmerica},
	"GT": {"Guatemala", RegionCentralAmerica},
	"HN": {"Honduras", RegionCentralAmerica},
	"NI": {"Nicaragua", RegionCentralAmerica},
	"PA": {"Panama", RegionCentralAmerica},
	"SV": {"El Salvador", RegionCentralAmerica},

	// South America
	"AR": {"Argentina", RegionSouthAmerica},
	"BO": {"Bolivia", RegionSouthAmerica},
	"BR": {"Brazil", RegionSouthAmerica},
	"BV": {"Bouvet Island", RegionSouthAmerica},
	"CL": {"Chile", RegionSouthAmerica},
	"CO": {"Colombia", RegionSouthAmerica},
	"EC": {"Ecuador", RegionSouthAmerica},
	"FK": {"Falkland Islands", RegionSouthAmerica},
	"GF": {"French Guiana", RegionSouthAmerica},
	"GS": {"South Georgia and the South Sandwich Islands", RegionSouthAmerica},
	"GY": {"Guyana", RegionSouthAmerica},
	"PE": {"Peru", RegionSouthAmerica},
	"PY": {"Paraguay", RegionSouthAmerica},
	"SR": {"Suriname", RegionSouthAmerica},
	"UY": {"Uruguay", RegionSouthAmerica},
	"VE": {"Venezuela", RegionSouthAmerica},

	// Caribbean
	"AG": {"Antigua and Barbuda", RegionCaribbean},
	"AI": {"Anguilla", RegionCaribbean},
	"AW": {"Aruba", RegionCaribbean},
	"BB": {"Barbados", RegionCaribbean},
	"BL": {"Saint Barthelemy", RegionCaribbean},
	"BQ": {"Bonaire, Saint Eustatius and Saba", RegionCaribbean},
	"BS": {"Bahamas", RegionCaribbean},
	"CU": {"Cuba", RegionCaribbean},
	"CW": {"Curacao", RegionCaribbean},
	"DM": {"Dominica", RegionCaribbean},
	"DO": {"Dominican Republic", RegionCaribbean},
	"GD": {"Grenada", RegionCaribbean},
	"GP": {"Guadeloupe", RegionCaribbean},
	"HT": {"Haiti", RegionCaribbean},
	"JM": {"Jamaica", RegionCaribbean},
	"KN": {"Saint Kitts and Nevis", RegionCaribbean},
	"KY": {"Cayman Islands", RegionCaribbean},
	"LC": {"Saint Lucia", RegionCaribbean},
	"MF": {"Saint Martin", RegionCaribbean},
	"MQ": {"Martinique", RegionCaribbean},
	"MS": {"Montserrat", RegionCaribbean},
	"PR": {"Puerto Rico", RegionCaribbean},
	"SX": {"Sint Maarten", RegionCaribbean},
	"TC": {"Turks and Caicos Islands", RegionCaribbean},
	"TT": {"Trinidad and Tobago", RegionCaribbean},
	"VC": {"Saint Vincent and the Grenadines", RegionCaribbean},
	"VG": {"Virgin Islands - British", RegionCaribbean},
	"VI": {"Virgin Islands - United States", RegionCaribbean},

	// Oceania
	"AQ": {"Antarctica", RegionOceania},
	"AS": {"American Samoa", RegionOceania},
	"AU": {"Australia", RegionOceania},
	"CC": {"Cocos (Keeling) Islands", RegionOceania},
	"CK": {"Cook Islands", RegionOceania},
	"CX": {"Christmas Island", RegionOceania},
	"FJ": {"Fiji", RegionOceania},
	"FM": {"Micronesia", RegionOceania},
	"GU": {"Guam", RegionOceania},
	"HM": {"Heard Island and McDonald Islands", RegionOceania},
	"KI": {"Kiribati", RegionOceania},
	"MH": {"Marshall Islands", RegionOceania},
	"MP": {"Northern Mariana Islands", RegionOceania},
	"NC": {"New Caledonia", RegionOceania},
	"NF": {"Norfolk Island", RegionOceania},
	"NR": {"Nauru", RegionOceania},
	"NU": {"Niue", RegionOceania},
	"NZ": {"New Zealand", RegionOceania},
	"PF": {"French Polynesia", RegionOceania},
	"PG": {"Papua New Guinea", RegionOceania},
	"PN": {"Pitcairn", RegionOceania},
	"PW": {"Palau", RegionOceania},
	"SB": {"Solomon Islands", RegionOceania},
	"TK": {"Tokelau", RegionOceania},
	"TO": {"Tonga", RegionOceania},
	"TV": {"Tuvalu", RegionOceania},
	"UM": {"United States Minor Outlying Islands", RegionOceania},
	"VU": {"Vanuatu", RegionOceania},
	"WF": {"Wallis and Futuna", RegionOceania},
	"WS": {"Samoa", RegionOceania},

	// Codes outside ISO 3166-1 that rate sheets use (see the package doc).
	"AN":    {"Netherlands Antilles", RegionCaribbean}, // withdrawn from ISO 3166-1 in 2010
	"CYP":   {"Northern Cyprus", RegionEurope},         // not an ISO code
	"IC":    {"Canary Islands", RegionEurope},          // exceptionally reserved ISO code
	"PO":    {"Poland", RegionEurope},                  // typo for PL in two long-duration rows
	"US-HI": {"Hawaii", RegionNorthAmerica},            // ISO 3166-2 subdivision of US
	"XK":    {"Kosovo", RegionEurope},                  // user-assigned code in common use
}

// nonISOCodes are the table's codes that are not ISO 3166-1 alpha-2 codes in
// current use.
var nonISOCodes = map[string]bool{"AN": true, "CYP": true, "IC": true, "PO": true, "US-HI": true, "XK": true}
