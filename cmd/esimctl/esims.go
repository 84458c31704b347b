package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/esimd/esimd/esimapi"
	"github.com/esimd/esimd/esimid"
)

// esims list
func (a *app) esimsList(args []string) error {
	fs := a.flagSet("esims list")
	var q esimapi.ESIMsQuery
	fs.StringVar(&q.FilterBy, "filter-by", "", "iccid, customerRef, lastAction, actionDate or assignedDate")
	fs.StringVar(&q.Filter, "filter", "", "the value to filter by (dates: gte:2026-01-01T00:00:00Z)")
	desc := fs.Bool("desc", false, "highest ICCID first")
	limit := fs.Int("limit", 0, "show at most this many eSIMs (0: all)")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	if *desc {
		q.Direction = "desc"
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	list := []esimapi.ESIMSummary{}
	for e, err := range c.AllESIMs(a.ctx, q) {
		if err != nil {
			return err
		}
		list = append(list, e)
		if *limit > 0 && len(list) == *limit {
			break
		}
	}
	if a.json {
		return a.printJSON(list)
	}
	t := a.table("ICCID", "STATE", "CUSTOMER REF", "LAST ACTION", "ACTION DATE", "ASSIGNED")
	for _, e := range list {
		t.row(e.ICCID, e.State, e.CustomerRef, e.LastAction, e.ActionDate, e.AssignedDate)
	}
	return t.flush()
}

func (a *app) oneICCID(name string, args []string) (*esimapi.Client, string, error) {
	fs := a.flagSet(name)
	pos, err := a.parse(fs, args, 1, "ICCID")
	if err != nil {
		return nil, "", err
	}
	c, err := a.api()
	return c, pos[0], err
}

// esims show ICCID
func (a *app) esimsShow(args []string) error {
	c, iccid, err := a.oneICCID("esims show", args)
	if err != nil {
		return err
	}
	e, err := c.ESIM(a.ctx, iccid)
	if err != nil {
		return err
	}
	bundles, err := c.ESIMBundles(a.ctx, iccid, esimapi.BundlesQuery{})
	if err != nil {
		return err
	}
	if a.json {
		if bundles == nil {
			bundles = []esimapi.AppliedBundle{}
		}
		return a.printJSON(struct {
			esimapi.ESIM
			Bundles []esimapi.AppliedBundle `json:"bundles"`
		}{e, bundles})
	}
	code := ""
	if ac, err := e.ActivationCode(); err == nil {
		code = ac.String()
	}
	if err := a.fields("ICCID", e.ICCID, "State", e.State, "Profile status", e.ProfileStatus, "First installed", e.FirstInstalled,
		"Customer ref", e.CustomerRef, "Network profile", e.ProfileName, "Activation code", code,
		"Apple install URL", e.AppleInstallURL, "Android install URL", e.AndroidInstallURL, "PIN", e.PIN, "PUK", e.PUK); err != nil {
		return err
	}
	if len(bundles) == 0 {
		return nil
	}
	fmt.Fprintln(a.stdout)
	return a.bundleTable(bundles)
}

func (a *app) bundleTable(bundles []esimapi.AppliedBundle) error {
	t := a.table("BUNDLE", "ASSIGNMENT", "STATE", "REMAINING", "OF", "STARTED", "ENDS")
	for _, b := range bundles {
		for _, as := range b.Assignments {
			remaining, initial := bytesText(as.RemainingQuantity), bytesText(as.InitialQuantity)
			if as.Unlimited {
				remaining, initial = "unlimited", "unlimited"
			}
			t.row(b.Name, as.ID, as.BundleState, remaining, initial, as.StartTime, as.EndTime)
		}
	}
	return t.flush()
}

// esims bundles ICCID
func (a *app) esimsBundles(args []string) error {
	fs := a.flagSet("esims bundles")
	all := fs.Bool("all", false, "include expired, depleted, revoked and lapsed bundles")
	pos, err := a.parse(fs, args, 1, "ICCID")
	if err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	bundles, err := c.ESIMBundles(a.ctx, pos[0], esimapi.BundlesQuery{IncludeUsed: *all, Limit: 200})
	if err != nil {
		return err
	}
	if a.json {
		if bundles == nil {
			bundles = []esimapi.AppliedBundle{}
		}
		return a.printJSON(bundles)
	}
	return a.bundleTable(bundles)
}

// esims history ICCID
func (a *app) esimsHistory(args []string) error {
	c, iccid, err := a.oneICCID("esims history", args)
	if err != nil {
		return err
	}
	hist, err := c.History(a.ctx, iccid)
	if err != nil {
		return err
	}
	if a.json {
		if hist == nil {
			hist = []esimapi.HistoryEntry{}
		}
		return a.printJSON(hist)
	}
	t := a.table("DATE", "EVENT", "BUNDLE", "DETAIL")
	for _, h := range hist {
		t.row(h.Date, h.Name, h.BundleName, h.AlertType)
	}
	return t.flush()
}

// esims location ICCID
func (a *app) esimsLocation(args []string) error {
	c, iccid, err := a.oneICCID("esims location", args)
	if err != nil {
		return err
	}
	l, err := c.Location(a.ctx, iccid)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(l)
	}
	return a.fields("Country", l.Country, "Network", l.NetworkName, "Brand", l.NetworkBrandName, "Network code", l.MobileNetworkCode, "Last seen", l.LastSeen)
}

// esims apply BUNDLE
func (a *app) esimsApply(args []string) error {
	fs := a.flagSet("esims apply")
	iccid := fs.String("iccid", "", "top up this eSIM (default: a new eSIM)")
	repeat := fs.Int("repeat", 0, "number of new eSIMs (not with --iccid)")
	reassign := fs.Bool("allow-reassign", false, "use a new eSIM when --iccid is not compatible")
	key := fs.String("idempotency-key", "", "send Idempotency-Key so that repeating the command applies once")
	pos, err := a.parse(fs, args, 1, "BUNDLE")
	if err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	var opts []esimapi.CallOption
	if *key != "" {
		opts = append(opts, esimapi.WithIdempotencyKey(*key))
	}
	res, err := c.Apply(a.ctx, esimapi.ApplyRequest{ICCID: *iccid, Name: pos[0], Repeat: *repeat, AllowReassign: *reassign}, opts...)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(res)
	}
	t := a.table("ICCID", "BUNDLE", "STATUS")
	for _, e := range res.ESIMs {
		t.row(e.ICCID, e.Bundle, e.Status)
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "apply reference %s\n", res.ApplyReference)
	return nil
}

// esims revoke ICCID BUNDLE
func (a *app) esimsRevoke(args []string) error {
	fs := a.flagSet("esims revoke")
	var o esimapi.RevokeOptions
	assignment := fs.String("assignment", "", "revoke this assignment (default: the oldest unused one)")
	fs.BoolVar(&o.RefundToBalance, "refund-to-balance", false, "refund the price to the balance instead of inventory")
	fs.BoolVar(&o.Validate, "validate", false, "only say what would happen")
	pos, err := a.parse(fs, args, 2, "ICCID BUNDLE")
	if err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	var status string
	if *assignment != "" {
		status, err = c.RevokeAssignment(a.ctx, pos[0], pos[1], *assignment, o)
	} else {
		status, err = c.RevokeBundle(a.ctx, pos[0], pos[1], o)
	}
	if err != nil {
		return err
	}
	return a.printStatus(status)
}

// esims sms ICCID MESSAGE…
func (a *app) esimsSMS(args []string) error {
	fs := a.flagSet("esims sms")
	pos, err := a.parse(fs, args, -2, "ICCID MESSAGE")
	if err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	msg := pos[1]
	for _, p := range pos[2:] {
		msg += " " + p
	}
	status, err := c.SendSMS(a.ctx, pos[0], msg)
	if err != nil {
		return err
	}
	return a.printStatus(status)
}

// esims suspend ICCID
func (a *app) esimsSuspend(args []string) error {
	c, iccid, err := a.oneICCID("esims suspend", args)
	if err != nil {
		return err
	}
	status, err := c.Suspend(a.ctx, iccid)
	if err != nil {
		return err
	}
	return a.printStatus(status)
}

// esims resume ICCID
func (a *app) esimsResume(args []string) error {
	c, iccid, err := a.oneICCID("esims resume", args)
	if err != nil {
		return err
	}
	status, err := c.Resume(a.ctx, iccid)
	if err != nil {
		return err
	}
	return a.printStatus(status)
}

// esims update ICCID --customer-ref REF
func (a *app) esimsUpdate(args []string) error {
	fs := a.flagSet("esims update")
	ref := fs.String("customer-ref", "", "your reference for the eSIM (empty clears it)")
	pos, err := a.parse(fs, args, 1, "ICCID")
	if err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	status, err := c.UpdateESIM(a.ctx, pos[0], *ref)
	if err != nil {
		return err
	}
	return a.printStatus(status)
}

// qrFile is one QR code written.
type qrFile struct {
	ICCID          string `json:"iccid"`
	File           string `json:"file"`
	ActivationCode string `json:"activationCode"`
}

// esims qr ICCID [--out FILE.png], or esims qr --reference REF --out DIR
func (a *app) esimsQR(args []string) error {
	fs := a.flagSet("esims qr")
	var refs stringList
	fs.Var(&refs, "reference", "order or apply reference: write a QR code for each of its eSIMs (repeatable)")
	out := fs.String("out", "", "PNG file (one eSIM; default ICCID.png) or directory (--reference; default .)")
	size := fs.Int("size", 512, "width and height in pixels")
	pos, err := a.parse(fs, args, anyArgs, "ICCID | --reference REF…")
	if err != nil {
		return err
	}
	switch {
	case len(refs) == 0 && len(pos) != 1:
		return usageErr("esims qr takes one ICCID, or --reference REF and no ICCID")
	case len(refs) > 0 && len(pos) != 0:
		return usageErr("esims qr takes --reference or an ICCID, not both")
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	var written []qrFile
	if len(refs) == 0 {
		e, err := c.ESIM(a.ctx, pos[0])
		if err != nil {
			return err
		}
		path := *out
		if path == "" {
			path = e.ICCID + ".png"
		} else if fi, err := os.Stat(path); err == nil && fi.IsDir() {
			path = filepath.Join(path, e.ICCID+".png")
		}
		f, err := writeQR(e.ICCID, e.SMDPAddress, e.MatchingID, path, *size)
		if err != nil {
			return err
		}
		written = append(written, f)
	} else {
		dir := *out
		if dir == "" {
			dir = "."
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		rows, err := c.InstallData(a.ctx, refs)
		if err != nil {
			return err
		}
		bar := a.progress(fmt.Sprintf("writing %d QR codes", len(rows)))
		for i, r := range rows {
			if r.Unavailable != "" {
				fmt.Fprintf(a.stderr, "eSIM %s is %s: no install data, no QR code\n", r.ICCID, r.Unavailable)
				bar.set(i+1, len(rows))
				continue
			}
			f, err := writeQR(r.ICCID, r.SMDPAddress, r.MatchingID, filepath.Join(dir, r.ICCID+".png"), *size)
			if err != nil {
				bar.done()
				return err
			}
			written = append(written, f)
			bar.set(i+1, len(rows))
		}
		bar.done()
	}
	if a.json {
		return a.printJSON(written)
	}
	t := a.table("ICCID", "FILE", "ACTIVATION CODE")
	for _, f := range written {
		t.row(f.ICCID, f.File, f.ActivationCode)
	}
	return t.flush()
}

// writeQR renders an eSIM's activation code as a PNG at path.
func writeQR(iccid, smdp, matchingID, path string, size int) (qrFile, error) {
	ac, err := esimid.NewActivationCode(smdp, matchingID)
	if err != nil {
		return qrFile{}, fmt.Errorf("eSIM %s: %w", iccid, err)
	}
	png, err := ac.QRCodePNG(size)
	if err != nil {
		return qrFile{}, fmt.Errorf("eSIM %s: %w", iccid, err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return qrFile{}, err
	}
	return qrFile{ICCID: iccid, File: path, ActivationCode: ac.String()}, nil
}

// esims delete ICCID
func (a *app) esimsDelete(args []string) error {
	c, iccid, err := a.oneICCID("esims delete", args)
	if err != nil {
		return err
	}
	status, err := c.DeleteESIM(a.ctx, iccid)
	if err != nil {
		return err
	}
	return a.printStatus(status)
}

// esims refresh ICCID
func (a *app) esimsRefresh(args []string) error {
	c, iccid, err := a.oneICCID("esims refresh", args)
	if err != nil {
		return err
	}
	status, err := c.RefreshESIM(a.ctx, iccid)
	if err != nil {
		return err
	}
	return a.printStatus(status)
}

// esims compatible ICCID BUNDLE
func (a *app) esimsCompatible(args []string) error {
	fs := a.flagSet("esims compatible")
	pos, err := a.parse(fs, args, 2, "ICCID BUNDLE")
	if err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	ok, err := c.Compatible(a.ctx, pos[0], pos[1])
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(struct {
			ICCID      string `json:"iccid"`
			Bundle     string `json:"bundle"`
			Compatible bool   `json:"compatible"`
		}{pos[0], pos[1], ok})
	}
	verdict := "can take"
	if !ok {
		verdict = "cannot take"
	}
	_, err = fmt.Fprintf(a.stdout, "eSIM %s %s bundle %s\n", pos[0], verdict, pos[1])
	return err
}
