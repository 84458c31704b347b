// Package catalogue holds the bundles an organisation can buy, the countries
// and regions they cover, and the mobile networks behind them.
package catalogue

import (
	"slices"

	"github.com/esimd/esimd/internal/money"
)

// Group names of the standard tier, as the rate sheet and eSIM Go use them.
const (
	GroupFixed              = "Standard Fixed"
	GroupLongDuration       = "Standard Long Duration"
	GroupUnlimitedLite      = "Standard Unlimited Lite"
	GroupUnlimitedEssential = "Standard Unlimited Essential"
	GroupUnlimitedPlus      = "Standard Unlimited Plus"
)

// BillingFixedCost is the only billing type the catalogue offers.
const BillingFixedCost = "FixedCost"

// Country is a country or territory a bundle or network covers.
type Country struct {
	ISO    string `json:"iso"`    // ISO 3166-1 alpha-2, upper case (a few rate-sheet codes such as "IC" are kept as given)
	Name   string `json:"name"`   // English short name as the rate sheet writes it
	Region string `json:"region"` // continent-level region: Europe, Asia, Middle East, Africa, North America, Central America, South America, Caribbean, Oceania
}

// Region is a named set of countries that regional bundles cover
// (Africa, Americas, EU+, Global …).
type Region struct {
	Name      string   `json:"name"`
	Profile   string   `json:"profile"` // "Profile 4"
	Countries []string `json:"countries"`
}

// AllowanceType says what an allowance counts.
type AllowanceType string

const (
	AllowanceData  AllowanceType = "DATA"
	AllowanceVoice AllowanceType = "VOICE"
	AllowanceSMS   AllowanceType = "SMS"
)

// AllowanceService says where an allowance may be used.
type AllowanceService string

const (
	ServiceStandard AllowanceService = "STANDARD"
	ServiceRoaming  AllowanceService = "ROAMING"
)

// Allowance is one quantity a bundle grants.
type Allowance struct {
	Type        AllowanceType    `json:"type"`
	Service     AllowanceService `json:"service"`
	Description string           `json:"description"`
	// Amount is in bytes for data (base 10: 1 GB = 1,000,000,000), minutes for
	// voice and messages for SMS. Zero when Unlimited.
	Amount    int64 `json:"amount"`
	Unlimited bool  `json:"unlimited"`
}

// Bundle is one product of the catalogue.
type Bundle struct {
	Name        string   `json:"name"`        // case-sensitive, e.g. esim_1GB_7D_GB_V2
	Description string   `json:"description"` // "eSIM, 1GB, 7 Days, United Kingdom, V2"
	Groups      []string `json:"groups"`
	Countries   []string `json:"countries"` // base countries, ISO codes
	Roaming     []string `json:"roaming"`   // additional countries where it works, ISO codes
	// DataBytes is the data allowance in bytes; 0 for unlimited bundles.
	DataBytes    int64        `json:"dataBytes"`
	Unlimited    bool         `json:"unlimited"`
	DurationDays int          `json:"durationDays"`
	Autostart    bool         `json:"autostart"`
	Speeds       []string     `json:"speeds"`  // ["2G","3G","4G","5G"]
	Profile      string       `json:"profile"` // network profile, "Profile 1"
	Price        money.Amount `json:"price"`   // wholesale price in the catalogue currency
	BillingType  string       `json:"billingType"`
	Allowances   []Allowance  `json:"allowances"`
	// Unlimited bundles run at full speed for DailyHighSpeedBytes a day and
	// then at ThrottleKbps; both zero for fixed bundles.
	DailyHighSpeedBytes int64 `json:"dailyHighSpeedBytes,omitempty"`
	ThrottleKbps        int   `json:"throttleKbps,omitempty"`
}

// VisibleTo reports whether an organisation limited to the bundle groups
// allowed (none: every group) may see and buy the bundle: the one rule the
// catalogue's lists, its bundle detail and orders all apply.
func (b *Bundle) VisibleTo(allowed []string) bool {
	if len(allowed) == 0 {
		return true
	}
	for _, g := range b.Groups {
		if slices.Contains(allowed, g) {
			return true
		}
	}
	return false
}

// Network is a mobile network a profile can use in a country.
type Network struct {
	CountryISO string   `json:"country"`
	Profile    string   `json:"profile"` // "Profile 1"
	Name       string   `json:"name"`
	Brand      string   `json:"brand"`
	MCC        string   `json:"mcc"`   // three digits
	MNC        string   `json:"mnc"`   // two or three digits
	TADIG      string   `json:"tadig"` // five characters, e.g. GBRCN
	Speeds     []string `json:"speeds"`
}

// Data is a whole catalogue: what the demo data holds and what an import
// replaces.
type Data struct {
	Currency  string    `json:"currency"`
	Countries []Country `json:"countries"`
	Regions   []Region  `json:"regions"`
	Bundles   []Bundle  `json:"bundles"`
	Networks  []Network `json:"networks"`
}
