package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/esimd/esimd/esimapi"
)

// TestBulkQRSkipsUnavailableESIMs: the QR codes of an order with a
// deactivated eSIM are written for the others, and the deactivated one is
// named on stderr instead of failing the command.
func TestBulkQRSkipsUnavailableESIMs(t *testing.T) {
	c := newCLI(t)
	var o struct {
		OrderReference string `json:"orderReference"`
		Order          []struct {
			ICCIDs []string `json:"iccids"`
		} `json:"order"`
	}
	c.json(&o, "order", "buy", "esim_1GB_7D_GB_V2", "--quantity", "2")
	if len(o.Order) != 1 || len(o.Order[0].ICCIDs) != 2 {
		t.Fatalf("order = %+v", o)
	}
	gone, kept := o.Order[0].ICCIDs[0], o.Order[0].ICCIDs[1]
	sdk, err := esimapi.NewClient(c.env["ESIMD_URL"], esimapi.WithAPIKey(testKey))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdk.DeleteESIM(t.Context(), gone); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	out, errOut, err := c.run("esims", "qr", "--reference", o.OrderReference, "--out", dir)
	if err != nil {
		t.Fatalf("bulk qr: %v\n%s", err, errOut)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.png"))
	if len(files) != 1 || filepath.Base(files[0]) != kept+".png" || !strings.Contains(out, kept) {
		t.Errorf("bulk qr wrote %v:\n%s", files, out)
	}
	if !strings.Contains(errOut, gone) || !strings.Contains(errOut, "deactivated") {
		t.Errorf("stderr %q does not name the deactivated eSIM", errOut)
	}
}
