package esimid_test

import (
	"bytes"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/esimd/esimd/esimid"
)

func TestQRCodePNGSize(t *testing.T) {
	ac := esimid.MustParseActivationCode("LPA:1$rsp.example.net$K2-1VQ5OQ-1FK6DH3")
	for _, tc := range []struct{ size, want int }{
		{0, esimid.DefaultQRSize},
		{-5, esimid.DefaultQRSize},
		{100, 100},
		{256, 256},
		{300, 300},
		{1000, 1000},
		{esimid.MaxQRSize, esimid.MaxQRSize},
	} {
		b, err := ac.QRCodePNG(tc.size)
		if err != nil {
			t.Fatalf("QRCodePNG(%d): %v", tc.size, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("QRCodePNG(%d) is not a PNG: %v", tc.size, err)
		}
		if r := img.Bounds(); r.Dx() != tc.want || r.Dy() != tc.want {
			t.Errorf("QRCodePNG(%d) is %dx%d, want %dx%d", tc.size, r.Dx(), r.Dy(), tc.want, tc.want)
		}
	}
}

func TestQRCodePNGErrors(t *testing.T) {
	ac := esimid.MustParseActivationCode("LPA:1$rsp.example.net$K2-1VQ5OQ-1FK6DH3")
	for _, tc := range []struct {
		size int
		want string
	}{
		{10, "smaller than the"},
		{esimid.MaxQRSize + 1, "exceeds the maximum"},
	} {
		if _, err := ac.QRCodePNG(tc.size); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("QRCodePNG(%d) error = %v, want one containing %q", tc.size, err, tc.want)
		}
	}
	if _, err := (esimid.ActivationCode{}).QRCodePNG(0); err == nil {
		t.Error("QRCodePNG of the zero ActivationCode succeeded")
	}
	// Content beyond QR capacity (version 40 at medium error correction
	// holds 2331 bytes) must be an error, not a panic.
	huge := esimid.MustParseActivationCode("LPA:1$rsp.example.net$" + strings.Repeat("A-", 2000))
	if _, err := huge.QRCodePNG(0); err == nil {
		t.Error("QRCodePNG of a 4000-byte code succeeded")
	}
}

// TestQRCodePNGDecodes scans the PNG with ZBar, an independent decoder, so
// the test proves a phone camera would read back the exact LPA string.
func TestQRCodePNGDecodes(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Skip("zbarimg not on PATH (install Debian package zbar-tools) - cannot decode the QR code independently")
	}
	for _, tc := range []struct {
		code string
		size int
	}{
		{"LPA:1$rsp.example.net$K2-1VQ5OQ-1FK6DH3", 0},
		{"LPA:1$rsp.example.net$abc-def$1.3.6.1.4.1.31746$1", 300},
		{"LPA:1$smdp.io$X$$1", 120},
	} {
		ac := esimid.MustParseActivationCode(tc.code)
		b, err := ac.QRCodePNG(tc.size)
		if err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(t.TempDir(), "qr.png")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(zbar, "--quiet", "--raw", "-Sbinary", path).Output()
		if err != nil {
			t.Fatalf("zbarimg %s: %v", path, err)
		}
		if got := strings.TrimSuffix(string(out), "\n"); got != ac.String() {
			t.Errorf("QR code (size %d) decodes to %q, want %q", tc.size, got, ac.String())
		}
	}
}

func BenchmarkQRCodePNG(b *testing.B) {
	ac := esimid.MustParseActivationCode("LPA:1$rsp.example.net$K2-1VQ5OQ-1FK6DH3")
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ac.QRCodePNG(0); err != nil {
			b.Fatal(err)
		}
	}
}
