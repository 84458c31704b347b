package esimapi_test

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/esimapi"
)

func TestParseNotification(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	end := start.Add(7 * 24 * time.Hour)
	bundle := esimapi.NotificationBundle{ID: "17", Reference: "ref-0", Name: "esim_1GB_7D_GB_V2", Description: "eSIM, 1GB",
		InitialQuantity: 1_000_000_000, RemainingQuantity: 500_000_000, StartTime: start, EndTime: end}
	for _, tc := range []struct {
		name, body string
		want       esimapi.Notification
	}{
		{"utilisation V3", `{"alertType":"Utilisation","iccid":"8944538532008160222","percentage":50,
			"bundle":{"id":17,"reference":"ref-0","name":"esim_1GB_7D_GB_V2","description":"eSIM, 1GB","initialQuantity":1000000000,
			"remainingQuantity":500000000,"startTime":"2026-03-01T12:00:00Z","endTime":"2026-03-08T12:00:00Z","unlimited":false}}`,
			&esimapi.UtilisationNotification{AlertType: "Utilisation", ICCID: "8944538532008160222", Percentage: 50, Bundle: bundle}},
		{"esimd's SMS alert, percentage last as esimd renders it", `{"iccid":"8999901000000000013","alertType":"Utilisation","bundle":{"name":"v",
			"initialQuantity":50,"remainingQuantity":25,"startTime":"2026-03-01T12:00:00Z","unit":"SMSmessages"},"percentage":50}`,
			&esimapi.UtilisationNotification{AlertType: "Utilisation", ICCID: "8999901000000000013", Percentage: 50,
				Bundle: esimapi.NotificationBundle{Name: "v", InitialQuantity: 50, RemainingQuantity: 25, StartTime: start, Unit: "SMSmessages"}}},
		{"usage V2.0 with decimal quantities", `{"alertType":"usage","iccid":"1","bundle":{"name":"b","initialQuantity":1000.00,"remainingQuantity":90.00}}`,
			&esimapi.UtilisationNotification{AlertType: "Utilisation", ICCID: "1", Bundle: esimapi.NotificationBundle{Name: "b", InitialQuantity: 1000, RemainingQuantity: 90}}},
		{"first attachment", `{"alertType":"FirstAttachment","iccid":"8944538532008160222"}`,
			&esimapi.FirstAttachmentNotification{AlertType: "FirstAttachment", ICCID: "8944538532008160222"}},
		{"first use with a numeric iccid", `{"alertType":"FirstUse","iccid":8944538532008160222,"bundle":{"name":"b","initialQuantity":5,"remainingQuantity":4,"startTime":"2026-03-01T12:00:00Z"}}`,
			&esimapi.FirstUseNotification{AlertType: "FirstUse", ICCID: "8944538532008160222", Bundle: esimapi.NotificationBundle{Name: "b", InitialQuantity: 5, RemainingQuantity: 4, StartTime: start}}},
		{"country change", `{"alertType":"CountryChange","iccid":"1","country":{"code":"FR","name":"France"}}`,
			func() esimapi.Notification {
				n := &esimapi.CountryChangeNotification{AlertType: "CountryChange", ICCID: "1"}
				n.Country.Code, n.Country.Name = "FR", "France"
				return n
			}()},
		{"top-up", `{"alertType":"AutoTopup","bundle":{"oldAmount":90.5,"newAmount":1090.5}}`,
			&esimapi.TopupNotification{AlertType: "AutoTopup", OldAmount: esimapi.MustParseMoney("90.5"), NewAmount: esimapi.MustParseMoney("1090.5")}},
		{"low balance", `{"alertType":"LowBalance","balanceInfo":{"balance":75,"threshold":100,"thresholdPercentRemaining":75}}`,
			&esimapi.BalanceNotification{AlertType: "LowBalance", Balance: esimapi.MustParseMoney("75"), Threshold: esimapi.MustParseMoney("100"), ThresholdPercentRemaining: 75}},
		{"insufficient balance", `{"alertType":"InsufficientBalance","balanceInfo":{"balance":1.2,"threshold":0,"thresholdPercentRemaining":0}}`,
			&esimapi.BalanceNotification{AlertType: "InsufficientBalance", Balance: esimapi.MustParseMoney("1.2")}},
		{"MSISDN enabled", `{"alertType":"MSISDNEnabled","iccid":"1","msisdn":"447700900123","reason":""}`,
			&esimapi.MSISDNNotification{AlertType: "MSISDNEnabled", ICCID: "1", MSISDN: "447700900123"}},
		{"MSISDN disabled", `{"alertType":"MSISDNDisabled","iccid":"1","msisdn":"447700900123","reason":"Bundle expired"}`,
			&esimapi.MSISDNNotification{AlertType: "MSISDNDisabled", ICCID: "1", MSISDN: "447700900123", Reason: "Bundle expired"}},
		{"deletion scheduled", `{"event":"esim.deletion_scheduled","iccid":"1","date":"2026-03-08T12:00:00Z"}`,
			&esimapi.DeletionScheduledNotification{Event: "esim.deletion_scheduled", ICCID: "1", Date: end}},
		{"deleted", `{"date":"2026-03-01T12:00:00Z","event":"esim.deleted","iccid":"1"}`,
			&esimapi.DeletedNotification{Event: "esim.deleted", ICCID: "1", Date: start}},
		{"profile status change", `{"iccid":"1","profileStatus":"Installed","date":"2026-03-01T12:00:00Z","device":{"eid":"89049032000000000000000000000123","make":"Apple"}}`,
			&esimapi.ProfileStatusChangeNotification{ICCID: "1", ProfileStatus: "Installed", Date: start,
				Device: &esimapi.DeviceInfo{EID: "89049032000000000000000000000123", Make: "Apple"}}},
		{"profile released without device", `{"iccid":"1","profileStatus":"Released"}`,
			&esimapi.ProfileStatusChangeNotification{ICCID: "1", ProfileStatus: "Released"}},
		{"SMS failed", `{"iccid":"1","msisdn":"447700900123","alertType":"SMSFailed","timestamp":"2026-03-01T12:00:00Z"}`,
			&esimapi.SMSFailedNotification{AlertType: "SMSFailed", ICCID: "1", MSISDN: "447700900123", Timestamp: start}},
		{"unknown alert", `{"alertType":"BundleExpired","iccid":"1"}`,
			&esimapi.UnknownNotification{Kind: "BundleExpired", Raw: []byte(`{"alertType":"BundleExpired","iccid":"1"}`)}},
		{"unknown event", `{"event":"esim.renamed"}`,
			&esimapi.UnknownNotification{Kind: "esim.renamed", Raw: []byte(`{"event":"esim.renamed"}`)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := esimapi.ParseNotification([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
			if got.Type() != tc.want.Type() {
				t.Errorf("Type() = %q", got.Type())
			}
		})
	}
	for _, bad := range []string{``, `[]`, `"x"`, `{"alertType":`, `{"alertType":"Utilisation","bundle":"nope"}`} {
		if n, err := esimapi.ParseNotification([]byte(bad)); err == nil {
			t.Errorf("ParseNotification(%q) = %#v, want an error", bad, n)
		}
	}
	if _, err := esimapi.ParseNotification([]byte(`[1]`)); !errors.Is(err, esimapi.ErrNotNotification) {
		t.Errorf("array: %v", err)
	}
}

func TestUsedPercent(t *testing.T) {
	b := esimapi.NotificationBundle{InitialQuantity: 1000, RemainingQuantity: 200}
	if b.UsedPercent() != 80 {
		t.Errorf("UsedPercent = %d", b.UsedPercent())
	}
	b.Unlimited = true
	if b.UsedPercent() != 0 {
		t.Errorf("unlimited UsedPercent = %d", b.UsedPercent())
	}
}

func FuzzParseNotification(f *testing.F) {
	for _, s := range []string{`{"alertType":"Utilisation","iccid":"1","bundle":{"initialQuantity":1}}`, `{"event":"esim.deleted"}`,
		`{"iccid":1,"profileStatus":"Installed","device":{}}`, `{"alertType":"Topup","bundle":{"oldAmount":1e2}}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		n, err := esimapi.ParseNotification(body)
		if err == nil && n == nil {
			t.Fatal("nil notification without an error")
		}
		if err == nil {
			_ = n.Type()
		}
	})
}
