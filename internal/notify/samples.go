package notify

import (
	"encoding/json"
)

// sampleICCID is a sandbox test ICCID (Luhn-valid, prefix 8999901).
const sampleICCID = "8999901000000000013"

// samples are payloads shaped exactly as the engine writes them, for test
// sends and for kinds the engine does not emit yet.
var samples = map[string]string{
	KindUtilisation: `{"alertType":"Utilisation","iccid":"` + sampleICCID + `","percentage":80,"bundle":{"id":"42","reference":"0f8c2a8e-5d2b-4f7e-9a51-1c3f1f6f8b10-0",` +
		`"name":"esim_1GB_7D_GB_V2","description":"eSIM, 1GB, 7 Days, United Kingdom, V2","initialQuantity":1000000000,` +
		`"remainingQuantity":200000000,"unlimited":false,"startTime":"2026-03-01T12:00:00Z","endTime":"2026-03-08T12:00:00Z"}}`,
	KindFirstUse: `{"alertType":"FirstUse","iccid":"` + sampleICCID + `","bundle":{"id":"42","reference":"0f8c2a8e-5d2b-4f7e-9a51-1c3f1f6f8b10-0",` +
		`"name":"esim_1GB_7D_GB_V2","description":"eSIM, 1GB, 7 Days, United Kingdom, V2","initialQuantity":1000000000,` +
		`"remainingQuantity":1000000000,"unlimited":false,"startTime":"2026-03-01T12:00:00Z","endTime":"2026-03-08T12:00:00Z"}}`,
	KindFirstAttachment:     `{"alertType":"FirstAttachment","iccid":"` + sampleICCID + `"}`,
	KindCountryChange:       `{"alertType":"CountryChange","iccid":"` + sampleICCID + `","country":{"code":"GB","name":"United Kingdom"}}`,
	KindTopup:               `{"alertType":"Topup","bundle":{"oldAmount":250.5,"newAmount":1250.5}}`,
	KindAutoTopup:           `{"alertType":"AutoTopup","bundle":{"oldAmount":40,"newAmount":140}}`,
	KindESIMGoTopup:         `{"alertType":"eSIMGoTopup","bundle":{"oldAmount":0,"newAmount":1000}}`,
	KindLowBalance:          `{"alertType":"LowBalance","balanceInfo":{"balance":74.25,"threshold":100,"thresholdPercentRemaining":75}}`,
	KindInsufficientBalance: `{"alertType":"InsufficientBalance","balanceInfo":{"balance":1.5,"threshold":100,"thresholdPercentRemaining":1}}`,
	KindMSISDNEnabled:       `{"alertType":"MSISDNEnabled","iccid":"` + sampleICCID + `","msisdn":"447700900123","reason":"Bundle applied"}`,
	KindMSISDNDisabled:      `{"alertType":"MSISDNDisabled","iccid":"` + sampleICCID + `","msisdn":"447700900123","reason":"Bundle expired"}`,
	KindDeletionScheduled:   `{"event":"esim.deletion_scheduled","iccid":"` + sampleICCID + `","date":"2026-09-04T12:00:00Z"}`,
	KindDeleted:             `{"event":"esim.deleted","iccid":"` + sampleICCID + `","date":"2026-09-04T12:00:00Z"}`,
	KindProfileStatusChange: `{"iccid":"` + sampleICCID + `","profileStatus":"Installed","date":"2026-03-01T11:58:03Z","device":{"eid":"89049032000001000000000000000074"}}`,
	KindSMSFailed:           `{"alertType":"SMSFailed","iccid":"` + sampleICCID + `","msisdn":"447700900123","timestamp":"2026-03-01T12:30:00Z"}`,
}

// SamplePayload returns an example payload of a kind, as the engine
// writes it.
func SamplePayload(kind string) (json.RawMessage, bool) {
	s, ok := samples[kind]
	return json.RawMessage(s), ok
}
