package httpapi

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/esimd/esimd/esimid"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orders"
)

// Install data: GET /esims/assignments (CSV, JSON or a ZIP of QR codes,
// chosen by Accept), its path alias /esims/assignments/{reference}, and
// the deprecated /esims/qr/{reference} (ZIP) and /esims/csv/{reference}
// (CSV).

// Media types of install data.
const (
	installCSVType  = "text/csv"
	installJSONType = "application/json"
	installZIPType  = "application/zip"
)

const (
	// maxInstallReferences caps the references of one request.
	maxInstallReferences = 100
	// installQRSize is the width and height of each QR code PNG.
	installQRSize = 512
)

// installLinks says which one-tap install links a request asked for with
// additionalFields: appleInstallUrl (the v2.4 wording) or installUrl (the
// v2.5 wording), repeated or comma-separated (notes 0.4.5, 0.4.7). Both
// give the Apple link; installUrl, or either on v2.5, also gives the
// Android one (the v2.4 documents know only the Apple link).
type installLinks struct{ apple, android bool }

// parseInstallFields reads additionalFields. Both vendor documents declare
// it a free string, and storefront code in the wild sends values esimd has
// no column for (qrCode): those are ignored, as eSIM Go does, rather than
// refused.
func parseInstallFields(r *request) installLinks {
	var l installLinks
	for _, v := range r.URL.Query()["additionalFields"] {
		for _, f := range splitList(v) {
			switch {
			case strings.EqualFold(f, "appleInstallUrl"):
				l.apple = true
				l.android = l.android || r.version >= 25
			case strings.EqualFold(f, "installUrl"):
				l.apple, l.android = true, true
			}
		}
	}
	return l
}

// urls returns the requested install links of an eSIM ("" for the others).
func (l installLinks) urls(e *esims.ESIM) (apple, android string, err error) {
	if !l.apple && !l.android {
		return "", "", nil
	}
	ac, err := esimid.NewActivationCode(e.SMDPAddress, e.MatchingID)
	if err != nil {
		return "", "", fmt.Errorf("activation code of eSIM %s: %w", e.ICCID, err)
	}
	if l.apple {
		apple = ac.AppleInstallURL()
	}
	if l.android {
		android = ac.AndroidInstallURL()
	}
	return apple, android, nil
}

// GET /esims/{collection}/{reference}: /esims/assignments/{reference}
// (alias of ?reference=, notes §2.1 row 17b), /esims/qr/{reference} and
// /esims/csv/{reference}. Any other collection is not an endpoint.
func (s *Server) esimsByReference(w http.ResponseWriter, r *request) error {
	ref := r.PathValue("reference")
	switch r.PathValue("collection") {
	case "assignments":
		return s.serveInstall(w, r, splitList(ref), "")
	case "qr":
		return s.serveInstall(w, r, []string{ref}, installZIPType)
	case "csv":
		return s.serveInstall(w, r, []string{ref}, installCSVType)
	}
	return fault.Forbiddenf("%s %s is not an endpoint of this API; see GET /openapi.yaml or the README for the routes", r.Method, r.URL.Path)
}

// GET /esims/assignments?reference=…
func (s *Server) installDetails(w http.ResponseWriter, r *request) error {
	var refs []string
	for _, v := range r.URL.Query()["reference"] {
		refs = append(refs, splitList(v)...)
	}
	return s.serveInstall(w, r, refs, "")
}

// serveInstall answers install data for order or apply references in the
// media type forced (the deprecated routes) or negotiated from Accept.
func (s *Server) serveInstall(w http.ResponseWriter, r *request, refs []string, media string) error {
	if media == "" {
		var err error
		if media, err = negotiateInstallMedia(r.Header.Values("Accept")); err != nil {
			return err
		}
	}
	links := parseInstallFields(r)
	var unique []string
	for _, ref := range refs {
		if !slices.Contains(unique, ref) {
			unique = append(unique, ref)
		}
	}
	if len(unique) == 0 {
		return fault.Invalidf("reference is required: one or more order or apply references (repeat reference= or separate them with commas)")
	}
	if len(unique) > maxInstallReferences {
		return fault.Invalidf("at most %d references per request, got %d", maxInstallReferences, len(unique))
	}
	rows, err := s.installRows(r.Context(), w, r, unique)
	if err != nil {
		return err
	}
	name := "esims"
	if len(unique) == 1 {
		name = unique[0]
	}
	// Activation codes, PINs and PUKs: no cache may keep them.
	w.Header().Set("Cache-Control", "no-store")
	var body []byte
	switch media {
	case installCSVType:
		if body, err = installCSV(availableRows(rows), links); err != nil {
			return err
		}
		writeInstallFile(w, installCSVType+"; charset=utf-8", name+".csv", body)
	case installZIPType:
		if body, err = installZIP(availableRows(rows), links, s.now()); err != nil {
			return err
		}
		writeInstallFile(w, installZIPType, name+".zip", body)
	default:
		items := make([]any, 0, len(rows))
		for _, row := range rows {
			if row.Unavailable != "" {
				// Listed, so that the list still accounts for every eSIM of
				// the order, without what would install it.
				e := &row.ESIM
				items = append(items, unavailableInstallJSON{ICCID: e.ICCID, ProfileStatus: e.ProfileStatus, Bundle: row.Bundle,
					Reference: row.Reference, Unavailable: row.Unavailable})
				continue
			}
			j, err := newInstallJSON(row, links)
			if err != nil {
				return err
			}
			items = append(items, j)
		}
		if len(items) == 1 && rows[0].Unavailable == "" {
			writeJSON(w, http.StatusOK, items[0]) // one eSIM: one object, as the documents' example
		} else {
			writeJSON(w, http.StatusOK, items)
		}
	}
	return nil
}

// negotiateInstallMedia picks CSV, JSON or ZIP from Accept headers, by
// quality then order; no Accept (or */*) means CSV (notes §1.3).
func negotiateInstallMedia(accept []string) (string, error) {
	type mediaRange struct {
		typ string
		q   float64
	}
	var ranges []mediaRange
	raw := strings.Join(accept, ",")
	if strings.TrimSpace(raw) == "" {
		return installCSVType, nil
	}
	for _, part := range strings.Split(raw, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		typ, params, err := mime.ParseMediaType(part)
		if err != nil {
			typ, _, _ = strings.Cut(part, ";")
			typ = strings.ToLower(strings.TrimSpace(typ))
		}
		q := 1.0
		if v, ok := params["q"]; ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > 0 {
			ranges = append(ranges, mediaRange{typ, q})
		}
	}
	slices.SortStableFunc(ranges, func(a, b mediaRange) int {
		switch {
		case a.q > b.q:
			return -1
		case a.q < b.q:
			return 1
		}
		return 0
	})
	for _, m := range ranges {
		switch m.typ {
		case "*/*", "text/*", installCSVType:
			return installCSVType, nil
		case "application/*", installJSONType:
			return installJSONType, nil
		case installZIPType:
			return installZIPType, nil
		}
	}
	return "", fault.Invalidf("Accept must be text/csv (the default), application/json or application/zip (QR codes), got %q", truncateText(raw, 80))
}

// installRow is one eSIM of an order's install data (orders.InstallRow).
type installRow = orders.InstallRow

// availableRows are the rows whose install data is served.
func availableRows(rows []installRow) []installRow {
	return slices.DeleteFunc(slices.Clone(rows), func(r installRow) bool { return r.Unavailable != "" })
}

// installRows is orders.InstallDetails for the caller, with the answer to
// an order still processing (503 and an estimated Retry-After).
func (s *Server) installRows(ctx context.Context, w http.ResponseWriter, r *request, refs []string) ([]installRow, error) {
	rows, err := s.cfg.Orders.InstallDetails(ctx, r.org.ID, refs, r.version >= 25)
	var busy *orders.StillProcessing
	if errors.As(err, &busy) {
		return nil, processing(w, &busy.Order)
	}
	return rows, err
}

// installJSON is one eSIM of the JSON install data: the documents'
// eSIMDetailsInstallResponse (firstInstalledDateTime an RFC 3339 string
// here, notes 0.3.6) plus the bundle and assignment reference of the older
// Assignments schema.
type installJSON struct {
	ICCID                  string `json:"iccid"`
	MatchingID             string `json:"matchingId"`
	SMDPAddress            string `json:"smdpAddress"`
	ProfileStatus          string `json:"profileStatus"`
	PIN                    string `json:"pin"`
	PUK                    string `json:"puk"`
	FirstInstalledDateTime string `json:"firstInstalledDateTime,omitempty"`
	Bundle                 string `json:"bundle"`
	Reference              string `json:"reference"`
	AppleInstallURL        string `json:"appleInstallUrl,omitempty"`
	AndroidInstallURL      string `json:"androidInstallUrl,omitempty"`
}

// unavailableInstallJSON stands in the JSON install data for an eSIM of
// the order whose install data is left out. Unavailable (esimd's
// extension) says why: deactivated or returned.
type unavailableInstallJSON struct {
	ICCID         string `json:"iccid"`
	ProfileStatus string `json:"profileStatus"`
	Bundle        string `json:"bundle"`
	Reference     string `json:"reference"`
	Unavailable   string `json:"unavailable"`
}

func newInstallJSON(row installRow, links installLinks) (installJSON, error) {
	e := &row.ESIM
	j := installJSON{ICCID: e.ICCID, MatchingID: e.MatchingID, SMDPAddress: e.SMDPAddress, ProfileStatus: e.ProfileStatus,
		PIN: e.PIN, PUK: e.PUK, Bundle: row.Bundle, Reference: row.Reference}
	if e.FirstInstalledAt != nil {
		j.FirstInstalledDateTime = esimTime(*e.FirstInstalledAt)
	}
	var err error
	j.AppleInstallURL, j.AndroidInstallURL, err = links.urls(e)
	return j, err
}

// installCSV is the CSV install data: the deprecated CSV endpoint's header
// ICCID,Matching ID,RSP URL,Bundle (the RSP URL being the bare SM-DP+
// host, notes 0.4.8), then Reference, then the install links asked for.
// encoding/csv quotes a field only where RFC 4180 needs it, so storefront
// code that splits lines on commas and compares header == "ICCID" works.
func installCSV(rows []installRow, links installLinks) ([]byte, error) {
	var b bytes.Buffer
	cw := csv.NewWriter(&b)
	header := []string{"ICCID", "Matching ID", "RSP URL", "Bundle", "Reference"}
	if links.apple {
		header = append(header, "Apple Install URL")
	}
	if links.android {
		header = append(header, "Android Install URL")
	}
	if err := cw.Write(header); err != nil {
		return nil, err
	}
	for _, row := range rows {
		e := &row.ESIM
		rec := []string{e.ICCID, e.MatchingID, e.SMDPAddress, row.Bundle, row.Reference}
		apple, android, err := links.urls(e)
		if err != nil {
			return nil, err
		}
		if links.apple {
			rec = append(rec, apple)
		}
		if links.android {
			rec = append(rec, android)
		}
		if err := cw.Write(rec); err != nil {
			return nil, err
		}
	}
	cw.Flush()
	return b.Bytes(), cw.Error()
}

// installZIP is a ZIP of one QR code PNG per eSIM (<iccid>.png, encoding
// LPA:1$<smdp>$<matchingId>) plus esims.csv mapping them (notes §2.2, the
// QR guide); modified is the entries' time.
func installZIP(rows []installRow, links installLinks, modified time.Time) ([]byte, error) {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	done := map[string]bool{}
	for _, row := range rows {
		e := &row.ESIM
		if done[e.ICCID] {
			continue
		}
		done[e.ICCID] = true
		ac, err := esimid.NewActivationCode(e.SMDPAddress, e.MatchingID)
		if err != nil {
			return nil, fmt.Errorf("activation code of eSIM %s: %w", e.ICCID, err)
		}
		png, err := ac.QRCodePNG(installQRSize)
		if err != nil {
			return nil, err
		}
		// Deflated although PNG is compressed already: archive/zip streams
		// every entry with a data descriptor, and Java's ZipInputStream
		// (behind many Android and JVM storefront backends) refuses a
		// stored entry that has one.
		f, err := zw.CreateHeader(&zip.FileHeader{Name: e.ICCID + ".png", Method: zip.Deflate, Modified: modified.UTC()})
		if err != nil {
			return nil, err
		}
		if _, err := f.Write(png); err != nil {
			return nil, err
		}
	}
	table, err := installCSV(rows, links)
	if err != nil {
		return nil, err
	}
	f, err := zw.CreateHeader(&zip.FileHeader{Name: "esims.csv", Method: zip.Deflate, Modified: modified.UTC()})
	if err != nil {
		return nil, err
	}
	if _, err := f.Write(table); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeInstallFile writes a CSV or ZIP body as a download.
func writeInstallFile(w http.ResponseWriter, contentType, filename string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", contentType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("Content-Disposition", mime.FormatMediaType("attachment", map[string]string{"filename": filename}))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(body)
}

// GET /esims/{iccid}/qr (v2.0–v2.2): the eSIM's QR code as a PNG, as
// v2.2-era client code fetches it one eSIM at a time (notes §2.2 Legacy).
func (s *Server) esimQR(w http.ResponseWriter, r *request) error {
	iccid, err := esimPathICCID(r)
	if err != nil {
		return err
	}
	e, err := s.cfg.ESIMs.Get(r.Context(), r.org.ID, iccid)
	if err != nil {
		return err
	}
	ac, err := esimid.NewActivationCode(e.SMDPAddress, e.MatchingID)
	if err != nil {
		return fmt.Errorf("activation code of eSIM %s: %w", e.ICCID, err)
	}
	png, err := ac.QRCodePNG(installQRSize)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Cache-Control", "no-store") // an activation code: no cache may keep it
	h.Set("Content-Type", "image/png")
	h.Set("Content-Length", strconv.Itoa(len(png)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(png)
	return nil
}
