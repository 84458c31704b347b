package demodata

import (
	"fmt"
	"io/fs"
	"slices"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/catalogue/ratesheet"
	"github.com/esimd/esimd/internal/money"
)

// GroupVoiceSMS is the group of the demo voice and SMS bundles: the rate
// sheet sells data only, so without them the sandbox's MSISDN flow
// (phone number, MSISDNEnabled, minutes and SMS usage, their utilisation
// callbacks) could not be tried on the demo catalogue.
const GroupVoiceSMS = "Demo Voice and SMS"

// The demo voice and SMS bundles: for each of voiceSMSCountries, the
// sheet's 5GB/30-day bundle of that country (its profile, networks and
// speeds) with voiceSMSMinutes minutes and voiceSMSMessages messages
// added, at the sheet's price plus voiceSMSSurcharge. Their names carry
// _VOICE_SMS_ and their descriptions say they are demo bundles, so they
// are never mistaken for the vendor's.
var voiceSMSCountries = []string{"GB", "US", "DE", "FR", "ES", "IT"}

const (
	voiceSMSMinutes   = 100
	voiceSMSMessages  = 100
	voiceSMSSurcharge = "2.5"
)

// FromRateSheet builds the demo catalogue from a rate-sheet folder: what
// package ratesheet reads, plus the demo voice and SMS bundles. The
// generator writes its result as catalogue.json, and a test compares the
// two.
func FromRateSheet(fsys fs.FS) (catalogue.Data, []ratesheet.Note, error) {
	d, notes, err := ratesheet.LoadNotes(fsys)
	if err != nil {
		return catalogue.Data{}, nil, err
	}
	if err := addVoiceSMS(&d); err != nil {
		return catalogue.Data{}, nil, err
	}
	return d, notes, nil
}

// VoiceSMSName is the name of the demo voice and SMS bundle of a country.
func VoiceSMSName(iso string) string { return "esim_5GB_30D_" + iso + "_VOICE_SMS_V2" }

func addVoiceSMS(d *catalogue.Data) error {
	surcharge := money.MustParse(voiceSMSSurcharge)
	names := map[string]string{}
	for _, c := range d.Countries {
		names[c.ISO] = c.Name
	}
	for _, iso := range voiceSMSCountries {
		baseName := "esim_5GB_30D_" + iso + "_V2"
		i := slices.IndexFunc(d.Bundles, func(b catalogue.Bundle) bool { return b.Name == baseName })
		if i < 0 {
			return fmt.Errorf("demodata: the rate sheet has no %s to derive the %s voice and SMS bundle from", baseName, iso)
		}
		b := d.Bundles[i]
		price, ok := b.Price.Add(surcharge)
		if !ok {
			return fmt.Errorf("demodata: the price of %s overflows", baseName)
		}
		name := VoiceSMSName(iso)
		v := catalogue.Bundle{
			Name: name,
			Description: fmt.Sprintf("eSIM, 5GB, %d mins, %d SMS, 30 Days, %s, V2 (demo voice and SMS bundle)",
				voiceSMSMinutes, voiceSMSMessages, names[iso]),
			Groups:       []string{GroupVoiceSMS},
			Countries:    slices.Clone(b.Countries),
			Roaming:      slices.Clone(b.Roaming),
			DataBytes:    b.DataBytes,
			DurationDays: b.DurationDays,
			Autostart:    b.Autostart,
			Speeds:       slices.Clone(b.Speeds),
			Profile:      b.Profile,
			Price:        price,
			BillingType:  b.BillingType,
			Allowances: []catalogue.Allowance{
				{Type: catalogue.AllowanceData, Service: catalogue.ServiceStandard, Description: name + " (data)", Amount: b.DataBytes},
				{Type: catalogue.AllowanceVoice, Service: catalogue.ServiceStandard, Description: fmt.Sprintf("%d mins", voiceSMSMinutes), Amount: voiceSMSMinutes},
				{Type: catalogue.AllowanceSMS, Service: catalogue.ServiceStandard, Description: fmt.Sprintf("%d SMS", voiceSMSMessages), Amount: voiceSMSMessages},
			},
		}
		d.Bundles = append(d.Bundles, v)
	}
	return nil
}
