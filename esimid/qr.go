package esimid

import (
	"errors"
	"fmt"

	qrcode "github.com/skip2/go-qrcode"
)

// QR code rendering limits.
const (
	// DefaultQRSize is the PNG width and height used when QRCodePNG is
	// asked for size <= 0: large enough to scan from a phone screen or a
	// printed page, small enough to inline in an e-mail.
	DefaultQRSize = 256
	// MaxQRSize caps the PNG width and height. The size usually comes from
	// an API query parameter, and the encoder allocates size*size bytes, so
	// an unbounded size would let one request exhaust memory.
	MaxQRSize = 4096
)

// qrQuietZone is the blank border, in modules, that go-qrcode draws on each
// side of the symbol (the minimum ISO/IEC 18004 requires).
const qrQuietZone = 4

// QRCodePNG renders the activation code as a QR code in a size×size pixel
// PNG, the form users scan with their phone's eSIM setup. It uses medium
// (~15%) error correction, which keeps the symbol coarse enough to scan
// from a screen even for long SM-DP+ addresses while tolerating glare and
// creases on paper.
//
// size <= 0 selects DefaultQRSize. A size too small to give every module at
// least one pixel, or larger than MaxQRSize, is an error rather than being
// silently changed, so callers always get the dimensions they asked for.
func (ac ActivationCode) QRCodePNG(size int) ([]byte, error) {
	if !ac.IsValid() {
		return nil, errors.New("esimid: cannot render a QR code for the zero ActivationCode")
	}
	if size <= 0 {
		size = DefaultQRSize
	}
	if size > MaxQRSize {
		return nil, fmt.Errorf("esimid: QR code size %d exceeds the maximum of %d pixels", size, MaxQRSize)
	}
	q, err := qrcode.New(ac.String(), qrcode.Medium)
	if err != nil {
		return nil, fmt.Errorf("esimid: encoding activation code as QR code: %w", err)
	}
	// A version-v symbol is 17+4v modules wide, plus the quiet zone.
	if modules := 17 + 4*q.VersionNumber + 2*qrQuietZone; size < modules {
		return nil, fmt.Errorf("esimid: QR code size %d is smaller than the %d modules this activation code needs", size, modules)
	}
	png, err := q.PNG(size)
	if err != nil {
		return nil, fmt.Errorf("esimid: encoding QR code PNG: %w", err)
	}
	return png, nil
}
