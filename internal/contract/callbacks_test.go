package contract

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

// TestCallbackBodies checks the Utilisation bodies esimd sends (the golden
// files of internal/notify, which pin them byte for byte) against the
// vendor's BundleAlert schema: its extension fields (percentage, and unit
// on voice and SMS alerts) are allowed, since the schema does not close
// the object, while a wrongly typed vendor field is caught.
func TestCallbackBodies(t *testing.T) {
	v := ForTest(t)
	// The vendor's schema as published (not the in-memory copy, which the
	// open-objects override opens anyway) leaves BundleAlert and its bundle
	// open to further properties.
	raw, err := openapi3.NewLoader().LoadFromFile(filepath.Join(Locate(), fileV25))
	if err != nil {
		t.Fatal(err)
	}
	alert := raw.Components.Schemas["BundleAlert"]
	if alert == nil || alert.Value.Properties["bundle"] == nil {
		t.Fatal("the v2.5 document has no BundleAlert with a bundle; revisit ValidateCallback")
	}
	for name, s := range map[string]*openapi3.Schema{"BundleAlert": alert.Value, "BundleAlert.bundle": alert.Value.Properties["bundle"].Value} {
		if ap := s.AdditionalProperties; ap.Has != nil && !*ap.Has {
			t.Errorf("%s forbids additional properties: esimd's extension fields would break receivers generated from it", name)
		}
	}
	files, err := filepath.Glob(filepath.Join("..", "notify", "testdata", "golden", "Utilisation.*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Utilisation golden bodies (%v)", err)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(body), `"percentage":`) {
			t.Errorf("%s does not say which threshold it is", f)
		}
		if err := v.ValidateCallback("Utilisation", body); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	for _, tc := range []struct {
		name, body, wantErr string
	}{
		{"voice alert with its unit", `{"iccid":"8999901000000000013","alertType":"Utilisation","bundle":{"id":"1","reference":"r-0","name":"b","description":"d","initialQuantity":100,"remainingQuantity":15,"startTime":"2026-03-01T12:00:00Z","endTime":"2026-03-08T12:00:00Z","unlimited":false,"unit":"minutes"},"percentage":80}`, ""},
		{"quantity as a string", `{"iccid":"8999901000000000013","alertType":"Utilisation","bundle":{"initialQuantity":"100"},"percentage":80}`, "/bundle/initialQuantity"},
		{"iccid as a number", `{"iccid":8999901000000000013,"alertType":"Utilisation","bundle":{}}`, "/iccid"},
	} {
		err := v.ValidateCallback("Utilisation", []byte(tc.body))
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("%s: error %v, want one naming %s", tc.name, err, tc.wantErr)
		}
	}
}
