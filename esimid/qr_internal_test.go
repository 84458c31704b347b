package esimid

import (
	"bytes"
	"image/png"
	"strings"
	"testing"

	qrcode "github.com/skip2/go-qrcode"
)

// TestQRMinimumSizeMatchesEncoder checks QRCodePNG's module-count formula
// against go-qrcode's own bitmap (quiet zone included) across several
// symbol versions: the smallest accepted size must be exactly one pixel per
// module, and one pixel less must be refused, never silently enlarged.
func TestQRMinimumSizeMatchesEncoder(t *testing.T) {
	for _, n := range []int{1, 20, 100, 400, 1000} {
		ac, err := NewActivationCode("rsp.example.net", strings.Repeat("A", n))
		if err != nil {
			t.Fatal(err)
		}
		q, err := qrcode.New(ac.String(), qrcode.Medium)
		if err != nil {
			t.Fatal(err)
		}
		modules := len(q.Bitmap())
		b, err := ac.QRCodePNG(modules)
		if err != nil {
			t.Fatalf("matching ID of %d chars (version %d): QRCodePNG(%d): %v", n, q.VersionNumber, modules, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != modules {
			t.Errorf("QRCodePNG(%d) is %d pixels wide", modules, img.Bounds().Dx())
		}
		if _, err := ac.QRCodePNG(modules - 1); err == nil {
			t.Errorf("version %d: QRCodePNG(%d) accepted a size below the %d modules", q.VersionNumber, modules-1, modules)
		}
	}
}
