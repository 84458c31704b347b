package httpapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orders"
	"github.com/esimd/esimd/internal/orgs"
)

// installGoldenText compares a non-JSON body with testdata/golden/name.
func installGoldenText(t *testing.T, name string, body []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, body, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), string(body)); diff != "" {
		t.Errorf("%s differs from its golden file (-want +got):\n%s", name, diff)
	}
}

func installCSVRecords(t *testing.T, body []byte) [][]string {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v\n%s", err, body)
	}
	return recs
}

// installZIPFiles opens a ZIP body and returns its files by name, in order.
func installZIPFiles(t *testing.T, body []byte) ([]string, map[string][]byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(body), int64(len(body)))
	if err != nil {
		t.Fatalf("ZIP does not open: %v", err)
	}
	var names []string
	files := map[string][]byte{}
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, f.Name)
		files[f.Name] = b
	}
	return names, files
}

// installTwoLineOrder places one order with a GB eSIM and a US eSIM.
func installTwoLineOrder(t *testing.T, e *env) (string, []string) {
	t.Helper()
	placed, err := e.orders.Place(context.Background(), e.org.ID, orders.Request{Type: "transaction", Assign: true, Lines: []orders.LineRequest{
		{Type: "bundle", Item: "esim_1GB_7D_GB_V2", Quantity: 1}, {Type: "bundle", Item: "esim_1GB_7D_US_V2", Quantity: 1}}}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return placed.Order.Reference, []string{placed.ESIMs[0][0].ICCID, placed.ESIMs[1][0].ICCID}
}

type installItem struct {
	ICCID                  string `json:"iccid"`
	MatchingID             string `json:"matchingId"`
	SMDPAddress            string `json:"smdpAddress"`
	ProfileStatus          string `json:"profileStatus"`
	FirstInstalledDateTime string `json:"firstInstalledDateTime"`
	Bundle                 string `json:"bundle"`
	Reference              string `json:"reference"`
	AppleInstallURL        string `json:"appleInstallUrl"`
	AndroidInstallURL      string `json:"androidInstallUrl"`
}

func TestInstallDataFormats(t *testing.T) {
	e := newEnv(t, envOptions{})
	ref, iccids := installTwoLineOrder(t, e)
	esimInstall(t, e, iccids[0])
	q := "/v2.5/esims/assignments?reference=" + ref

	// CSV is the default, and what */* and text/* get.
	csvRes := e.get(q)
	esimWantStatus(t, "CSV", csvRes, 200)
	if ct := csvRes.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Errorf("default Content-Type %q, want text/csv", ct)
	}
	if cd := csvRes.header.Get("Content-Disposition"); cd != `attachment; filename=`+ref+`.csv` {
		t.Errorf("Content-Disposition %q", cd)
	}
	if cc := csvRes.header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("install data: Cache-Control %q, want no-store", cc)
	}
	installGoldenText(t, "install_v2_5.csv", esimScrub(csvRes.body))
	recs := installCSVRecords(t, csvRes.body)
	if len(recs) != 3 || recs[1][0] != iccids[0] || recs[2][0] != iccids[1] || recs[1][3] != "esim_1GB_7D_GB_V2" ||
		recs[2][4] != ref+"-1" || strings.Contains(recs[1][2], "/") {
		t.Errorf("CSV records = %q", recs)
	}
	for _, accept := range []string{"*/*", "text/csv", "text/*", "application/json;q=0.5, text/csv", "image/png, */*;q=0.1"} {
		res := e.get(q, "Accept", accept)
		if res.status != 200 || !bytes.Equal(res.body, csvRes.body) {
			t.Errorf("Accept %q: %d %s; want the CSV", accept, res.status, res.body)
		}
	}

	// JSON: a list for several eSIMs, firstInstalledDateTime a timestamp string.
	res := e.get(q, "Accept", "application/json")
	esimWantStatus(t, "JSON", res, 200)
	golden(t, "install_list_v2_5", esimScrub(res.body))
	var items []installItem
	res.json(t, &items)
	if len(items) != 2 || items[0].FirstInstalledDateTime != "2026-03-01T12:00:00Z" || items[1].FirstInstalledDateTime != "" ||
		items[0].Reference != ref+"-0" || items[1].Bundle != "esim_1GB_7D_US_V2" || items[0].AppleInstallURL != "" {
		t.Errorf("JSON items = %+v", items)
	}
	for _, accept := range []string{"application/*", "application/zip;q=0, application/json"} {
		if res := e.get(q, "Accept", accept); res.status != 200 || !strings.HasPrefix(string(res.body), "[") {
			t.Errorf("Accept %q: %d %s; want the JSON list", accept, res.status, res.body)
		}
	}
	// One eSIM: one object. An assignment reference selects one assignment.
	res = e.get("/v2.4/esims/assignments?reference="+ref+"-1", "Accept", "application/json")
	esimWantStatus(t, "JSON for one assignment", res, 200)
	golden(t, "install_one_v2_4", esimScrub(res.body))
	var one installItem
	res.json(t, &one)
	if one.ICCID != iccids[1] || one.Reference != ref+"-1" {
		t.Errorf("one assignment = %+v", one)
	}

	// Install links: both keys in JSON, two more CSV columns.
	res = e.get(q+"&additionalFields=installUrl", "Accept", "application/json")
	res.json(t, &items)
	lpa := "LPA:1$" + items[0].SMDPAddress + "$" + items[0].MatchingID
	if items[0].AppleInstallURL != "https://esimsetup.apple.com/esim_qrcode_provisioning?carddata="+lpa ||
		items[0].AndroidInstallURL != "https://esimsetup.android.com/esim_qrcode_provisioning?carddata="+lpa {
		t.Errorf("install links = %q, %q", items[0].AppleInstallURL, items[0].AndroidInstallURL)
	}
	res = e.get(q + "&additionalFields=installUrl")
	installGoldenText(t, "install_urls_v2_5.csv", esimScrub(res.body))
	if recs := installCSVRecords(t, res.body); !slices.Equal(recs[0], []string{"ICCID", "Matching ID", "RSP URL", "Bundle", "Reference", "Apple Install URL", "Android Install URL"}) ||
		recs[1][5] != items[0].AppleInstallURL || recs[1][6] != items[0].AndroidInstallURL {
		t.Errorf("CSV with links = %q", recs)
	}
	// v2.4 wording: the Apple link only.
	res = e.get("/v2.4/esims/assignments?reference=" + ref + "&additionalFields=appleInstallUrl")
	if recs := installCSVRecords(t, res.body); len(recs[0]) != 6 || recs[0][5] != "Apple Install URL" {
		t.Errorf("v2.4 CSV header with appleInstallUrl = %q", recs[0])
	}

	// ZIP: one QR PNG per eSIM and the CSV.
	res = e.get(q, "Accept", "application/zip")
	esimWantStatus(t, "ZIP", res, 200)
	if ct := res.header.Get("Content-Type"); ct != "application/zip" {
		t.Errorf("ZIP Content-Type %q", ct)
	}
	if zr, err := zip.NewReader(bytes.NewReader(res.body), int64(len(res.body))); err == nil && !zr.File[0].Modified.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("ZIP entry time %v, want the time of the request", zr.File[0].Modified)
	}
	names, files := installZIPFiles(t, res.body)
	if diff := cmp.Diff([]string{iccids[0] + ".png", iccids[1] + ".png", "esims.csv"}, names); diff != "" {
		t.Errorf("ZIP entries (-want +got):\n%s", diff)
	}
	for _, iccid := range iccids {
		img, err := png.Decode(bytes.NewReader(files[iccid+".png"]))
		if err != nil {
			t.Errorf("%s.png: %v", iccid, err)
			continue
		}
		if b := img.Bounds(); b.Dx() != 512 || b.Dy() != 512 {
			t.Errorf("%s.png is %dx%d, want 512x512", iccid, b.Dx(), b.Dy())
		}
	}
	if !bytes.Equal(files["esims.csv"], csvRes.body) {
		t.Errorf("esims.csv in the ZIP differs from the CSV answer:\n%s", files["esims.csv"])
	}

	// The path alias and the deprecated routes answer the same data.
	if res := e.get("/v2.5/esims/assignments/"+ref, "Accept", "application/json"); !bytes.Equal(esimScrub(res.body), esimScrub(e.get(q, "Accept", "application/json").body)) {
		t.Errorf("path alias answers %s", res.body)
	}
	for _, v := range []string{"/v2.2", "/v2.4", "/v2.5"} {
		if res := e.get(v + "/esims/csv/" + ref); res.status != 200 || !bytes.Equal(res.body, csvRes.body) {
			t.Errorf("%s/esims/csv: %d %s", v, res.status, res.body)
		}
		res := e.get(v + "/esims/qr/" + ref)
		esimWantStatus(t, v+"/esims/qr", res, 200)
		if names, _ := installZIPFiles(t, res.body); len(names) != 3 || res.header.Get("Content-Disposition") != "attachment; filename="+ref+".zip" {
			t.Errorf("%s/esims/qr: entries %q, Content-Disposition %q", v, names, res.header.Get("Content-Disposition"))
		}
	}

	// Several references: repeated or comma-separated, duplicates once.
	ref2, more := esimPlace(t, e, e.org.ID, "esim_3GB_30D_GB_V2", 1)
	for _, query := range []string{"reference=" + ref + "," + ref2, "reference=" + ref + "&reference=" + ref2, "reference=" + ref + "&reference=" + ref2 + "," + ref} {
		res := e.get("/v2.5/esims/assignments?" + query)
		recs := installCSVRecords(t, res.body)
		if res.status != 200 || len(recs) != 4 || recs[3][0] != more[0] {
			t.Errorf("%s: %d %q", query, res.status, recs)
		}
	}
	if res := e.get("/v2.5/esims/assignments/"+ref+","+ref2, "Accept", "application/zip"); res.status != 200 || res.header.Get("Content-Disposition") != "attachment; filename=esims.zip" {
		t.Errorf("ZIP of two references: %d, Content-Disposition %q", res.status, res.header.Get("Content-Disposition"))
	}

	// An apply reference works like an order reference.
	if _, err := e.orders.Place(context.Background(), e.org.ID, orders.Request{Type: "transaction", Lines: []orders.LineRequest{{Type: "bundle", Item: "esim_1GB_7D_GB_V2", Quantity: 1}}}, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	applied, err := e.orders.Apply(context.Background(), e.org.ID, orders.ApplyRequest{Entries: []orders.ApplyEntry{{Name: "esim_1GB_7D_GB_V2"}}})
	if err != nil {
		t.Fatal(err)
	}
	res = e.get("/v2.5/esims/assignments?reference="+applied.Order.Reference, "Accept", "application/json")
	res.json(t, &one)
	if res.status != 200 || one.ICCID != applied.Units[0].ICCID || one.Reference != applied.Order.Reference+"-0" {
		t.Errorf("apply reference: %d %s", res.status, res.body)
	}
}

func TestInstallDataErrors(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	ref, _ := installTwoLineOrder(t, e)
	inventory, err := e.orders.Place(ctx, e.org.ID, orders.Request{Type: "transaction", Lines: []orders.LineRequest{{Type: "bundle", Item: "esim_1GB_7D_GB_V2", Quantity: 2}}}, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	other, _, err := e.orgs.Create(ctx, orgs.NewOrganisation{Name: "Other", Currency: "USD", Sandbox: true, StartingBalance: 100 * money.Scale})
	if err != nil {
		t.Fatal(err)
	}
	theirs, _ := esimPlace(t, e, other.ID, "esim_1GB_7D_GB_V2", 1)
	unknown := "3f0c9a52-1d2e-4b7a-9c1d-0123456789ab"
	var refs []string
	for i := range 101 {
		refs = append(refs, fmt.Sprintf("%s%03d", unknown[:33], i))
	}
	for _, tc := range []struct {
		path, accept string
		status       int
		mention      string
	}{
		{"/v2.5/esims/assignments", "", 400, "reference is required"},
		{"/v2.5/esims/assignments?reference=", "", 400, "reference is required"},
		{"/v2.5/esims/assignments?reference=,,", "", 400, "reference is required"},
		{"/v2.5/esims/assignments?reference=abc", "", 400, "UUID"},
		{"/v2.5/esims/assignments/abc", "application/json", 400, "UUID"},
		{"/v2.5/esims/qr/abc", "", 400, "UUID"},
		{"/v2.5/esims/csv/" + ref + "x", "", 400, "UUID"},
		{"/v2.5/esims/assignments?reference=" + unknown, "", 403, "not accessible"},
		{"/v2.5/esims/assignments?reference=" + ref + "," + unknown, "", 403, "not accessible"},
		{"/v2.5/esims/assignments?reference=" + theirs, "", 403, "not accessible"},
		{"/v2.4/esims/qr/" + theirs, "", 403, "not accessible"},
		{"/v2.5/esims/assignments?reference=" + inventory.Order.Reference, "", 400, "inventory"},
		{"/v2.5/esims/assignments?reference=" + ref + "-7", "application/json", 400, "no assignment"},
		{"/v2.5/esims/assignments?reference=" + ref, "application/xml", 400, "Accept"},
		{"/v2.5/esims/assignments?reference=" + ref, "text/csv;q=0", 400, "Accept"},
		{"/v2.5/esims/assignments?reference=" + strings.Join(refs, ","), "", 400, "at most 100"},
	} {
		res := e.get(tc.path, "Accept", tc.accept)
		if res.status != tc.status || !strings.Contains(res.message(t), tc.mention) {
			t.Errorf("%.120s (Accept %q): %d %s; want %d mentioning %q", tc.path, tc.accept, res.status, res.body, tc.status, tc.mention)
		}
	}
	// Another organisation's order and an unknown one answer alike.
	a := strings.ReplaceAll(e.get("/v2.5/esims/assignments?reference="+theirs).message(t), theirs, "<REF>")
	b := strings.ReplaceAll(e.get("/v2.5/esims/assignments?reference="+unknown).message(t), unknown, "<REF>")
	if a != b {
		t.Errorf("another organisation's order answers %q, an unknown one %q", a, b)
	}
}

func TestInstallDataWhileProcessing(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	ref, iccids := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 6)
	if len(iccids) != 0 {
		t.Fatalf("an order of 6 eSIMs assigned %d at once; it should be processed later", len(iccids))
	}
	for _, path := range []string{
		"/v2.5/esims/assignments?reference=" + ref,
		"/v2.4/esims/assignments/" + ref,
		"/v2.5/esims/qr/" + ref,
		"/v2.2/esims/csv/" + ref,
	} {
		for _, accept := range []string{"", "application/json", "application/zip"} {
			res := e.get(path, "Accept", accept)
			// Six eSIMs take milliseconds: Retry-After is its least, 1 (TestProcessingRetryAfter).
			if res.status != 503 || res.header.Get("Retry-After") != "1" || !strings.Contains(res.message(t), "processed") {
				t.Errorf("%s (Accept %q) while processing: %d, Retry-After %q, %s", path, accept, res.status, res.header.Get("Retry-After"), res.body)
			}
		}
	}
	if n, err := e.esims.RunDue(ctx, 0); err != nil || n != 1 {
		t.Fatalf("RunDue = %d, %v", n, err)
	}
	res := e.get("/v2.5/esims/assignments?reference=" + ref)
	if recs := installCSVRecords(t, res.body); res.status != 200 || len(recs) != 7 {
		t.Fatalf("after processing: %d, %d CSV records", res.status, len(recs))
	}
	res = e.get("/v2.5/esims/assignments?reference="+ref, "Accept", "application/zip")
	if names, _ := installZIPFiles(t, res.body); len(names) != 7 {
		t.Errorf("ZIP after processing has %d entries, want 6 PNGs and the CSV", len(names))
	}
}

func TestInstallDataDeactivatedESIM(t *testing.T) {
	e := newEnv(t, envOptions{})
	ref, iccids := installTwoLineOrder(t, e)
	if res := e.do("DELETE", "/v2.5/esims/"+iccids[0], nil); res.status != 200 {
		t.Fatalf("delete: %d %s", res.status, res.body)
	}
	// Only the deactivated eSIM asked for: 410. (With the others of its
	// order, they are served: TestInstallDataOfAnOrderWithADeactivatedESIM.)
	for _, tc := range []struct{ path, accept string }{
		{"/v2.5/esims/assignments?reference=" + ref + "-0", ""},
		{"/v2.5/esims/assignments?reference=" + ref + "-0", "application/json"},
		{"/v2.5/esims/assignments/" + ref + "-0", "application/zip"},
	} {
		res := e.get(tc.path, "Accept", tc.accept)
		if res.status != 410 || !strings.Contains(res.message(t), iccids[0]) || !strings.Contains(res.message(t), "deactivated") {
			t.Errorf("%s (Accept %q): %d %s; want 410 naming the deactivated eSIM", tc.path, tc.accept, res.status, res.body)
		}
	}
	// The other eSIM of the order is still available on its own.
	if res := e.get("/v2.5/esims/assignments?reference="+ref+"-1", "Accept", "application/json"); res.status != 200 || !strings.Contains(string(res.body), iccids[1]) {
		t.Errorf("the live eSIM of the order: %d %s", res.status, res.body)
	}
	// Before v2.5 there is no 410: the eSIM shows as Deactivated.
	var items []installItem
	res := e.get("/v2.4/esims/assignments?reference="+ref, "Accept", "application/json")
	res.json(t, &items)
	if res.status != 200 || len(items) != 2 || items[0].ProfileStatus != "Deactivated" || items[1].ProfileStatus != "Released" {
		t.Errorf("v2.4 install data with a deactivated eSIM: %d %s", res.status, res.body)
	}
}

func TestInstallDataFailedOrder(t *testing.T) {
	e := newEnv(t, envOptions{})
	ctx := context.Background()
	ref, _ := esimPlace(t, e, e.org.ID, "esim_1GB_7D_GB_V2", 6)
	// The bundle leaves the catalogue before the order is processed: it fails.
	d := fixture()
	d.Bundles = slices.DeleteFunc(d.Bundles, func(b catalogue.Bundle) bool { return b.Name == "esim_1GB_7D_GB_V2" })
	if err := e.cat.Import(ctx, d); err != nil {
		t.Fatal(err)
	}
	if _, err := e.esims.RunDue(ctx, 0); err != nil {
		t.Fatal(err)
	}
	res := e.get("/v2.5/esims/assignments?reference=" + ref)
	if res.status != 400 || !strings.Contains(res.message(t), "failed") {
		t.Errorf("install data of a failed order: %d %s", res.status, res.body)
	}
}
