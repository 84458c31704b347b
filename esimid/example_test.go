package esimid_test

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/esimd/esimd/esimid"
)

func ExampleParseICCID() {
	id, err := esimid.ParseICCID("8944538532008160222F") // ES2+ padded form
	if err != nil {
		panic(err)
	}
	fmt.Println(id)
	fmt.Println(id.ES2Plus())

	_, err = esimid.ParseICCID("8944538532008160223")
	fmt.Println(err)
	// Output:
	// 8944538532008160222
	// 8944538532008160222F
	// esimid: ICCID "8944538532008160223" fails the Luhn check digit (want 2)
}

func ExampleNewICCID() {
	// Issue the next number in a range: prefix + serial, check digit added.
	id, err := esimid.NewICCID(fmt.Sprintf("89999000%010d", 42))
	if err != nil {
		panic(err)
	}
	fmt.Println(id)
	// Output:
	// 8999900000000000428
}

func ExampleLuhnCheckDigit() {
	d, err := esimid.LuhnCheckDigit("7992739871")
	if err != nil {
		panic(err)
	}
	fmt.Printf("%c\n", d)
	// Output:
	// 3
}

func ExampleParseEID() {
	eid, err := esimid.ParseEID("89049032123451234512345678901235")
	fmt.Println(eid, err)

	_, err = esimid.ParseEID("89049032123451234512345678901224")
	fmt.Println(err)
	// Output:
	// 89049032123451234512345678901235 <nil>
	// esimid: EID "89049032123451234512345678901224" fails the ISO 7064 MOD 97-10 check (check digits 24, want 35)
}

func ExampleGenerateEID() {
	eid, err := esimid.GenerateEID("89049032", 42)
	if err != nil {
		panic(err)
	}
	fmt.Println(eid)
	// Output:
	// 89049032000000000000000000004237
}

func ExampleParseActivationCode() {
	ac, err := esimid.ParseActivationCode("lpa:1$RSP.Example.NET$K2-1VQ5OQ-1FK6DH3$$1")
	if err != nil {
		panic(err)
	}
	fmt.Println(ac.SMDPAddress())
	fmt.Println(ac.MatchingID())
	fmt.Printf("%q\n", ac.OID())
	fmt.Println(ac.ConfirmationCodeRequired())
	fmt.Println(ac)
	// Output:
	// rsp.example.net
	// K2-1VQ5OQ-1FK6DH3
	// ""
	// true
	// LPA:1$rsp.example.net$K2-1VQ5OQ-1FK6DH3$$1
}

func ExampleNewActivationCode() {
	ac, err := esimid.NewActivationCode("rsp.example.net", "ABC-123")
	if err != nil {
		panic(err)
	}
	fmt.Println(ac)
	// Output:
	// LPA:1$rsp.example.net$ABC-123
}

func ExampleActivationCode_AppleInstallURL() {
	ac := esimid.MustParseActivationCode("LPA:1$rsp.example.net$ABC-123")
	fmt.Println(ac.AppleInstallURL())
	// Output:
	// https://esimsetup.apple.com/esim_qrcode_provisioning?carddata=LPA:1$rsp.example.net$ABC-123
}

func ExampleActivationCode_AndroidInstallURL() {
	ac := esimid.MustParseActivationCode("LPA:1$rsp.example.net$ABC-123")
	fmt.Println(ac.AndroidInstallURL())
	// Output:
	// https://esimsetup.android.com/esim_qrcode_provisioning?carddata=LPA:1$rsp.example.net$ABC-123
}

func ExampleActivationCode_QRCodePNG() {
	ac := esimid.MustParseActivationCode("LPA:1$rsp.example.net$ABC-123")
	png, err := ac.QRCodePNG(0) // 0 selects DefaultQRSize
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q\n", png[1:4])
	// Output:
	// "PNG"
}

func ExampleParseError() {
	_, err := esimid.ParseICCID("8944538532008160223")

	// Map the rule class to an API answer without parsing the message.
	switch {
	case errors.Is(err, esimid.ErrCheckDigit):
		fmt.Println("well formed, but no such ICCID can exist")
	case errors.Is(err, esimid.ErrLength), errors.Is(err, esimid.ErrSyntax):
		fmt.Println("malformed")
	}

	var pe *esimid.ParseError
	if errors.As(err, &pe) {
		fmt.Printf("type=%s input=%s reason=%q\n", pe.Type, pe.Input, pe.Reason)
	}
	// Output:
	// well formed, but no such ICCID can exist
	// type=ICCID input=8944538532008160223 reason="fails the Luhn check digit (want 2)"
}

func ExampleICCID_MarshalText() {
	type esim struct {
		ICCID esimid.ICCID `json:"iccid"`
		EID   esimid.EID   `json:"eid"` // zero: not yet bound to a device
	}
	b, err := json.Marshal(esim{ICCID: esimid.MustParseICCID("8943108165015003887")})
	if err != nil {
		panic(err)
	}
	fmt.Println(string(b))
	// Output:
	// {"iccid":"8943108165015003887","eid":""}
}
