package httpapi_test

import (
	"bytes"
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"image/png"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/esimid"
)

// zipStreamEntry is one entry as a streaming reader (Java's
// ZipInputStream, unzip -p from a pipe) sees it: from its local file
// header, without the central directory.
type zipStreamEntry struct {
	name       string
	method     uint16
	descriptor bool // general-purpose flag bit 3: sizes follow the data
	data       []byte
}

// readZIPStream walks a ZIP body local header by local header, as a
// streaming reader does, and returns its entries in order. archive/zip
// cannot check this: it reads the central directory at the end. A
// streaming reader cannot find the end of a stored entry whose sizes come
// only in a data descriptor after it, so such an entry is an error, as it
// is for ZipInputStream ("only DEFLATED entries can have EXT descriptor").
func readZIPStream(body []byte) ([]zipStreamEntry, error) {
	r := bytes.NewReader(body)
	var out []zipStreamEntry
	for {
		var sig uint32
		if err := binary.Read(r, binary.LittleEndian, &sig); err != nil {
			return nil, fmt.Errorf("entry %d: %v", len(out), err)
		}
		if sig == 0x02014b50 { // the central directory: no more entries
			return out, nil
		}
		if sig != 0x04034b50 {
			return nil, fmt.Errorf("entry %d: signature %#x, want a local file header", len(out), sig)
		}
		var h struct {
			Version, Flags, Method, Time, Date uint16
			CRC, CompressedSize, Size          uint32
			NameLen, ExtraLen                  uint16
		}
		if err := binary.Read(r, binary.LittleEndian, &h); err != nil {
			return nil, err
		}
		name := make([]byte, h.NameLen)
		if _, err := io.ReadFull(r, name); err != nil {
			return nil, err
		}
		if _, err := r.Seek(int64(h.ExtraLen), io.SeekCurrent); err != nil {
			return nil, err
		}
		e := zipStreamEntry{name: string(name), method: h.Method, descriptor: h.Flags&0x8 != 0}
		var err error
		switch {
		case e.method == 0 && e.descriptor:
			return nil, fmt.Errorf("%s is stored with a data descriptor: a streaming reader cannot find its end", e.name)
		case e.method == 0:
			e.data = make([]byte, h.CompressedSize)
			_, err = io.ReadFull(r, e.data)
		case e.method == 8:
			// *bytes.Reader is an io.ByteReader, so flate reads exactly the
			// compressed stream and r stops at what follows it.
			e.data, err = io.ReadAll(flate.NewReader(r))
		default:
			return nil, fmt.Errorf("%s: compression method %d", e.name, e.method)
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %v", e.name, err)
		}
		crc, size := h.CRC, h.Size
		if e.descriptor {
			var d [4]uint32
			if err := binary.Read(r, binary.LittleEndian, &d[0]); err != nil {
				return nil, err
			}
			if d[0] != 0x08074b50 { // the descriptor's signature is optional
				if _, err := r.Seek(-4, io.SeekCurrent); err != nil {
					return nil, err
				}
			}
			if err := binary.Read(r, binary.LittleEndian, d[1:]); err != nil {
				return nil, err
			}
			crc, size = d[1], d[3]
		}
		if crc32.ChecksumIEEE(e.data) != crc || uint32(len(e.data)) != size {
			return nil, fmt.Errorf("%s: CRC or size does not match its header", e.name)
		}
		out = append(out, e)
	}
}

func TestInstallZIPsReadEntryByEntry(t *testing.T) {
	e := newEnv(t, envOptions{})
	ref, iccids := installTwoLineOrder(t, e)
	csv := e.get("/v2.5/esims/assignments?reference=" + ref).body
	// Every route that serves QR codes as a ZIP.
	for _, tc := range []struct{ path, accept string }{
		{"/v2.5/esims/assignments?reference=" + ref, "application/zip"},
		{"/v2.5/esims/assignments/" + ref, "application/zip"},
		{"/v2.4/esims/assignments?reference=" + ref, "application/json;q=0.5, application/zip"},
		{"/v2.5/esims/qr/" + ref, ""},
		{"/v2.2/esims/qr/" + ref, ""},
	} {
		res := e.get(tc.path, "Accept", tc.accept)
		esimWantStatus(t, tc.path, res, 200)
		entries, err := readZIPStream(res.body)
		if err != nil {
			t.Errorf("%s: a streaming reader fails: %v", tc.path, err)
			continue
		}
		var names []string
		for _, en := range entries {
			names = append(names, en.name)
			if en.method != 8 {
				t.Errorf("%s: %s has compression method %d, want 8 (deflate)", tc.path, en.name, en.method)
			}
			if strings.HasSuffix(en.name, ".png") {
				if _, err := png.Decode(bytes.NewReader(en.data)); err != nil {
					t.Errorf("%s: %s read by the streaming reader: %v", tc.path, en.name, err)
				}
			} else if !bytes.Equal(en.data, csv) {
				t.Errorf("%s: %s = %q, want the CSV answer", tc.path, en.name, en.data)
			}
		}
		if diff := cmp.Diff([]string{iccids[0] + ".png", iccids[1] + ".png", "esims.csv"}, names); diff != "" {
			t.Errorf("%s: entries (-want +got):\n%s", tc.path, diff)
		}
	}
}

func TestInstallCSVQuotesOnlyWhereNeeded(t *testing.T) {
	e := newEnv(t, envOptions{})
	ref, iccids := installTwoLineOrder(t, e)
	for _, q := range []string{"", "&additionalFields=installUrl"} {
		res := e.get("/v2.5/esims/assignments?reference=" + ref + q)
		esimWantStatus(t, q, res, 200)
		lines := strings.Split(strings.TrimSuffix(string(res.body), "\n"), "\n")
		// What storefront code does: split lines and fields by hand.
		header := strings.Split(lines[0], ",")
		want := []string{"ICCID", "Matching ID", "RSP URL", "Bundle", "Reference"}
		if q != "" {
			want = append(want, "Apple Install URL", "Android Install URL")
		}
		if diff := cmp.Diff(want, header); diff != "" {
			t.Errorf("%s: header split on commas (-want +got):\n%s", q, diff)
		}
		if len(lines) != 3 || !strings.HasPrefix(lines[1], iccids[0]+",") || !strings.HasPrefix(lines[2], iccids[1]+",") {
			t.Errorf("%s: rows %q, want bare ICCIDs first", q, lines[1:])
		}
		if strings.Contains(string(res.body), `"`) {
			t.Errorf("%s: no field needs quoting, yet the CSV has quotes:\n%s", q, res.body)
		}
	}
}

func TestAdditionalFieldsIgnoresUnknownValues(t *testing.T) {
	e := newEnv(t, envOptions{})
	ref, _ := installTwoLineOrder(t, e)
	q := "/v2.5/esims/assignments?reference=" + ref
	plain, links := e.get(q), e.get(q+"&additionalFields=installUrl")
	for _, tc := range []struct {
		query string
		want  []byte
	}{
		{"&additionalFields=qrCode", plain.body},
		{"&additionalFields=qrCode,something%20else", plain.body},
		{"&additionalFields=qrCode,installUrl", links.body},
		{"&additionalFields=qrCode&additionalFields=installUrl", links.body},
	} {
		res := e.get(q + tc.query)
		if res.status != 200 || !bytes.Equal(res.body, tc.want) {
			t.Errorf("%s: %d %s", tc.query, res.status, res.body)
		}
	}
	res := e.get("/v2.5/esims/csv/" + ref + "?additionalFields=qrCode")
	if res.status != 200 || !bytes.Equal(res.body, plain.body) {
		t.Errorf("deprecated CSV with qrCode: %d %s", res.status, res.body)
	}
	res = e.get("/v2.5/esims/qr/"+ref+"?additionalFields=qrCode", "Accept", "")
	esimWantStatus(t, "deprecated ZIP with qrCode", res, 200)
}

func TestLegacyESIMQRCodeIsPNG(t *testing.T) {
	e := newEnv(t, envOptions{})
	_, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 1)
	var d esimDetails
	e.get("/v2.5/esims/"+iccids[0]).json(t, &d)
	ac, err := esimid.NewActivationCode(d.SMDPAddress, d.MatchingID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := ac.QRCodePNG(512)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"/v2", "/v2.1", "/v2.2"} {
		res := e.get(v+"/esims/"+iccids[0]+"/qr", "Accept", "")
		esimWantStatus(t, v, res, 200)
		if ct, cc := res.header.Get("Content-Type"), res.header.Get("Cache-Control"); ct != "image/png" || cc != "no-store" {
			t.Errorf("%s: Content-Type %q, Cache-Control %q; want image/png, no-store", v, ct, cc)
		}
		img, err := png.Decode(bytes.NewReader(res.body))
		if err != nil || img.Bounds().Dx() != 512 || !bytes.Equal(res.body, want) {
			t.Errorf("%s: not the 512×512 QR code of %s: %v", v, ac, err)
		}
	}
	// The key's query form of v2.2-era clients works too.
	res := e.get("/v2.2/esims/"+iccids[0]+"/qr?api_key="+e.key, "X-API-Key", "")
	esimWantStatus(t, "api_key", res, 200)
	for _, tc := range []struct {
		path    string
		status  int
		mention string
	}{
		{"/v2.2/esims/123/qr", 400, "ICCID"},
		{"/v2.2/esims/8999901000000009999/qr", 403, ""},
		{"/v2.3/esims/" + iccids[0] + "/qr", 403, "not an endpoint"},
		{"/v2.5/esims/" + iccids[0] + "/qr", 403, "not an endpoint"},
	} {
		res := e.get(tc.path)
		if res.status != tc.status || !strings.Contains(res.message(t), tc.mention) {
			t.Errorf("%s: %d %s; want %d mentioning %q", tc.path, res.status, res.body, tc.status, tc.mention)
		}
	}
}
