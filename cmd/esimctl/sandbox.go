package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/esimd/esimd/esimapi"
)

type clockJSON struct {
	Now           time.Time `json:"now"`
	OffsetSeconds int64     `json:"offsetSeconds"`
	Offset        string    `json:"offset"`
	DueItemsRun   int       `json:"dueItemsRun,omitempty"`
}

func (a *app) printClock(k esimapi.Clock) error {
	if a.json {
		return a.printJSON(clockJSON{Now: k.Now, OffsetSeconds: int64(k.Offset / time.Second), Offset: k.Offset.String(), DueItemsRun: k.DueItemsRun})
	}
	return a.fields("Now", k.Now, "Ahead of wall clock", k.Offset.String(), "Due items run", k.DueItemsRun)
}

// sandbox clock
func (a *app) sandboxClock(args []string) error {
	fs := a.flagSet("sandbox clock")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	k, err := c.Sandbox().Clock(a.ctx)
	if err != nil {
		return err
	}
	return a.printClock(k)
}

// parseDays reads Go durations plus whole days: 30d, 1d12h, 72h.
func parseDays(v string) (time.Duration, error) {
	var days time.Duration
	if i := strings.IndexByte(v, 'd'); i >= 0 {
		n, err := strconv.Atoi(v[:i])
		if err != nil || n < 0 {
			return 0, fmt.Errorf("bad day count in %q", v)
		}
		days, v = time.Duration(n)*24*time.Hour, v[i+1:]
		if v == "" {
			return days, nil
		}
	}
	d, err := time.ParseDuration(v)
	return days + d, err
}

// sandbox advance DURATION | --to TIME
func (a *app) sandboxAdvance(args []string) error {
	fs := a.flagSet("sandbox advance")
	to := fs.String("to", "", "advance to this RFC 3339 time instead")
	pos, err := a.parse(fs, args, anyArgs, "DURATION (72h, 30d) | --to TIME")
	if err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	var k esimapi.Clock
	switch {
	case *to != "" && len(pos) == 0:
		t, err := time.Parse(time.RFC3339Nano, *to)
		if err != nil {
			return usageErr("--to must be an RFC 3339 time such as 2027-01-01T00:00:00Z")
		}
		k, err = c.Sandbox().AdvanceTo(a.ctx, t)
		if err != nil {
			return err
		}
	case *to == "" && len(pos) == 1:
		d, err := parseDays(pos[0])
		if err != nil || d <= 0 {
			return usageErr("DURATION must look like 90s, 72h, 30d or 1d12h, got %q", pos[0])
		}
		k, err = c.Sandbox().Advance(a.ctx, d)
		if err != nil {
			return err
		}
	default:
		return usageErr("sandbox advance takes a DURATION or --to TIME")
	}
	return a.printClock(k)
}

func (a *app) printDevice(d esimapi.Device) error {
	if a.json {
		return a.printJSON(d)
	}
	kv := []any{"ICCID", d.ICCID, "Profile status", d.ProfileStatus, "EID", d.EID, "State", d.State,
		"Country", d.Country, "Network", d.NetworkName, "Network code", d.MobileNetworkCode}
	if d.BytesCharged != 0 || d.BytesUnbilled != 0 {
		kv = append(kv, "Charged", bytesText(d.BytesCharged))
	}
	if d.BytesUnbilled != 0 {
		kv = append(kv, "Not covered by a bundle", bytesText(d.BytesUnbilled))
	}
	return a.fields(kv...)
}

// sandbox install ICCID [--eid EID]
func (a *app) sandboxInstall(args []string) error {
	fs := a.flagSet("sandbox install")
	eid := fs.String("eid", "", "the device's EID (default: a valid test EID)")
	pos, err := a.parse(fs, args, 1, "ICCID")
	if err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	d, err := c.Sandbox().Install(a.ctx, pos[0], *eid)
	if err != nil {
		return err
	}
	return a.printDevice(d)
}

// sandbox uninstall ICCID
func (a *app) sandboxUninstall(args []string) error {
	c, iccid, err := a.oneICCID("sandbox uninstall", args)
	if err != nil {
		return err
	}
	d, err := c.Sandbox().Uninstall(a.ctx, iccid)
	if err != nil {
		return err
	}
	return a.printDevice(d)
}

func whereFlags(country, mccmnc *string) esimapi.Where {
	return esimapi.Where{Country: *country, MCCMNC: *mccmnc}
}

// sandbox attach ICCID --country CC | --mccmnc N
func (a *app) sandboxAttach(args []string) error {
	fs := a.flagSet("sandbox attach")
	country := fs.String("country", "", "ISO country: a network of the eSIM's profile there")
	mccmnc := fs.String("mccmnc", "", "a network's MCC and MNC, such as 20801")
	pos, err := a.parse(fs, args, 1, "ICCID")
	if err != nil {
		return err
	}
	if (*country == "") == (*mccmnc == "") {
		return usageErr("give --country or --mccmnc")
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	d, err := c.Sandbox().Attach(a.ctx, pos[0], whereFlags(country, mccmnc))
	if err != nil {
		return err
	}
	return a.printDevice(d)
}

// sandbox use ICCID --mb N | --bytes N
func (a *app) sandboxUse(args []string) error {
	fs := a.flagSet("sandbox use")
	mb := fs.Int64("mb", 0, "megabytes to use (1 MB = 1,000,000 bytes)")
	bytes := fs.Int64("bytes", 0, "bytes to use")
	country := fs.String("country", "", "use the data in this country (moves the eSIM)")
	mccmnc := fs.String("mccmnc", "", "use the data on this network")
	pos, err := a.parse(fs, args, 1, "ICCID")
	if err != nil {
		return err
	}
	if (*mb == 0) == (*bytes == 0) {
		return usageErr("give --mb or --bytes")
	}
	n := *bytes
	if *mb != 0 {
		n = *mb * 1_000_000
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	d, err := c.Sandbox().Use(a.ctx, pos[0], n, whereFlags(country, mccmnc))
	if err != nil {
		return err
	}
	return a.printDevice(d)
}

// sandbox sms ICCID
func (a *app) sandboxSMS(args []string) error {
	c, iccid, err := a.oneICCID("sandbox sms", args)
	if err != nil {
		return err
	}
	msgs, err := c.Sandbox().SMS(a.ctx, iccid)
	if err != nil {
		return err
	}
	if a.json {
		if msgs == nil {
			msgs = []esimapi.ReceivedSMS{}
		}
		return a.printJSON(msgs)
	}
	t := a.table("DATE", "FROM", "MESSAGE")
	for _, m := range msgs {
		t.row(m.Date, m.From, m.Message)
	}
	return t.flush()
}

// sandbox reset
func (a *app) sandboxReset(args []string) error {
	fs := a.flagSet("sandbox reset")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	if err := c.Sandbox().Reset(a.ctx); err != nil {
		return err
	}
	return a.printStatus("sandbox organisation reset to its starting state")
}

// callbacks tail [--follow]
func (a *app) callbacksTail(args []string) error {
	fs := a.flagSet("callbacks tail")
	after := fs.Int64("after", 0, "start after this callback id")
	follow := fs.Bool("follow", false, "keep polling for new callbacks until interrupted")
	fs.BoolVar(follow, "f", false, "short for --follow")
	interval := fs.Duration("interval", 2*time.Second, "polling interval with --follow")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	if *interval <= 0 {
		return usageErr("--interval must be positive")
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	sb := c.Sandbox()
	header := false
	for last := *after; ; {
		cbs, err := sb.Callbacks(a.ctx, last, 1000)
		if err != nil {
			if *follow && a.ctx.Err() != nil {
				return nil // interrupted: a normal end of --follow
			}
			return err
		}
		for _, cb := range cbs {
			last = cb.ID
			if a.json {
				// One object per line, for jq and friends.
				if err := a.printLine(cb); err != nil {
					return err
				}
				continue
			}
			if !header {
				fmt.Fprintf(a.stdout, "%-6s %-20s %-22s %-20s %s\n", "ID", "DATE", "TYPE", "ICCID", "DETAIL")
				header = true
			}
			fmt.Fprintf(a.stdout, "%-6d %-20s %-22s %-20s %s\n", cb.ID, cb.Date.UTC().Format(time.RFC3339), cb.Kind, cell(cb.ICCID), describe(cb))
		}
		if len(cbs) == 1000 {
			continue // more are waiting
		}
		if !*follow {
			return nil
		}
		select {
		case <-a.ctx.Done():
			return nil
		case <-time.After(*interval):
		}
	}
}

func (a *app) printLine(v any) error {
	return json.NewEncoder(a.stdout).Encode(v)
}

// describe summarises a notification in a few words.
func describe(cb esimapi.Callback) string {
	n, err := cb.Notification()
	if err != nil {
		return "unreadable: " + err.Error()
	}
	switch n := n.(type) {
	case *esimapi.UtilisationNotification:
		pct := n.Percentage
		if pct == 0 {
			pct = n.Bundle.UsedPercent()
		}
		return fmt.Sprintf("%s %d%% used, %s left", n.Bundle.Name, pct, bytesText(n.Bundle.RemainingQuantity))
	case *esimapi.FirstAttachmentNotification:
		return "first network registration"
	case *esimapi.FirstUseNotification:
		return n.Bundle.Name + " started"
	case *esimapi.CountryChangeNotification:
		return "now in " + n.Country.Code + " (" + n.Country.Name + ")"
	case *esimapi.TopupNotification:
		return fmt.Sprintf("balance %s → %s", n.OldAmount, n.NewAmount)
	case *esimapi.BalanceNotification:
		return fmt.Sprintf("balance %s", n.Balance)
	case *esimapi.MSISDNNotification:
		return strings.TrimSpace(n.MSISDN + " " + n.Reason)
	case *esimapi.DeletionScheduledNotification:
		return "deleted on " + n.Date.UTC().Format(time.RFC3339) + " unless a bundle is applied"
	case *esimapi.DeletedNotification:
		return "eSIM deleted"
	case *esimapi.ProfileStatusChangeNotification:
		s := "profile " + n.ProfileStatus
		if n.Device != nil && n.Device.EID != "" {
			s += " (EID " + n.Device.EID + ")"
		}
		return s
	}
	return string(cb.Payload)
}

// adminFlags are the flags of the commands that use the operator API.
func (a *app) adminFlags(fs *flag.FlagSet) (org *int64) {
	a.adminTokenFlag(fs)
	return fs.Int64("org", 1, "organisation ID (esimd org list)")
}

func (a *app) adminTokenFlag(fs *flag.FlagSet) {
	fs.Var(kept{&a.adminToken}, "admin-token", "operator admin `token`"+a.envNote("ESIMD_ADMIN_TOKEN"))
}

// admin returns the operator API client, authenticated by the admin token
// alone: the operator API needs no organisation's key.
func (a *app) admin() (*esimapi.Admin, error) {
	if a.adminToken == "" {
		a.adminToken = a.getenv("ESIMD_ADMIN_TOKEN")
	}
	if a.adminToken == "" {
		return nil, usageErr("no admin token: set ESIMD_ADMIN_TOKEN or pass --admin-token")
	}
	c, err := a.newClient()
	if err != nil {
		return nil, err
	}
	return c.Admin(a.adminToken), nil
}

func (a *app) printAttempt(d esimapi.DeliveryAttempt) {
	detail := d.Error
	if detail == "" {
		detail = d.Response
	}
	if len(detail) > 60 {
		detail = detail[:60] + "…"
	}
	what := d.Kind
	if d.Test {
		what += " (test)"
	} else if d.Replay > 0 {
		what += fmt.Sprintf(" (replay %d)", d.Replay)
	}
	fmt.Fprintf(a.stdout, "%-6d %-20s %-26s %-3d %-10s %6.1fms %s\n", d.ID, d.At.UTC().Format(time.RFC3339), what, d.StatusCode, d.Outcome, d.LatencyMs, strings.TrimSpace(detail))
}

// callbacks deliveries [--org ID] [--follow]
func (a *app) callbacksDeliveries(args []string) error {
	fs := a.flagSet("callbacks deliveries")
	org := a.adminFlags(fs)
	follow := fs.Bool("follow", false, "keep polling for new attempts until interrupted")
	fs.BoolVar(follow, "f", false, "short for --follow")
	interval := fs.Duration("interval", 2*time.Second, "polling interval with --follow")
	limit := fs.Int("limit", 20, "attempts to show first (newest)")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	adm, err := a.admin()
	if err != nil {
		return err
	}
	var last int64
	header := false
	for first := true; ; first = false {
		n := *limit
		if !first {
			n = 100
		}
		p, err := adm.Deliveries(a.ctx, *org, esimapi.DeliveriesQuery{Limit: n})
		if err != nil {
			if *follow && a.ctx.Err() != nil {
				return nil
			}
			return err
		}
		// Newest first on the wire; print oldest first, only the new ones.
		for i := len(p.Deliveries) - 1; i >= 0; i-- {
			d := p.Deliveries[i]
			if d.ID <= last {
				continue
			}
			last = d.ID
			if a.json {
				if err := a.printLine(d); err != nil {
					return err
				}
				continue
			}
			if !header {
				fmt.Fprintf(a.stdout, "%-6s %-20s %-26s %-3s %-10s %8s %s\n", "ID", "AT", "KIND", "HTTP", "OUTCOME", "LATENCY", "DETAIL")
				header = true
			}
			a.printAttempt(d)
		}
		if !*follow {
			return nil
		}
		select {
		case <-a.ctx.Done():
			return nil
		case <-time.After(*interval):
		}
	}
}

// callbacks test [--org ID] [--kind K]
func (a *app) callbacksTest(args []string) error {
	fs := a.flagSet("callbacks test")
	org := a.adminFlags(fs)
	kind := fs.String("kind", "", "send a sample of this notification (Utilisation, FirstUse …) instead of a test body")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	adm, err := a.admin()
	if err != nil {
		return err
	}
	d, err := adm.TestCallback(a.ctx, *org, *kind)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(d)
	}
	return a.fields("URL", d.URL, "Kind", d.Kind, "HTTP status", d.StatusCode, "Outcome", d.Outcome,
		"Latency", fmt.Sprintf("%.1f ms", d.LatencyMs), "Signature", d.Signature, "Answer", d.Response, "Error", d.Error)
}

func (a *app) faultTable(faults []esimapi.Fault) error {
	if a.json {
		if faults == nil {
			faults = []esimapi.Fault{}
		}
		return a.printJSON(faults)
	}
	t := a.table("ID", "METHOD", "PATH", "STATUS", "LATENCY", "PROBABILITY", "COUNT", "MESSAGE")
	for _, f := range faults {
		method, status, count, prob := f.Method, "-", "until cleared", "1"
		if method == "" {
			method = "any"
		}
		if f.Status != 0 {
			status = itoa(f.Status)
		}
		if f.Count != 0 {
			count = itoa(f.Count)
		}
		if f.Probability != 0 {
			prob = strconv.FormatFloat(f.Probability, 'f', -1, 64)
		}
		t.row(f.ID, method, f.Path, status, f.Latency.String(), prob, count, f.Message)
	}
	return t.flush()
}

// sandbox faults
func (a *app) sandboxFaults(args []string) error {
	fs := a.flagSet("sandbox faults")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	faults, err := c.Sandbox().Faults(a.ctx)
	if err != nil {
		return err
	}
	return a.faultTable(faults)
}

// sandbox fault --path P [--method M] [--status N] [--latency D] …
func (a *app) sandboxFault(args []string) error {
	fs := a.flagSet("sandbox fault")
	var f esimapi.Fault
	fs.StringVar(&f.Path, "path", "", "fail requests whose `path` after the version starts with this, such as /catalogue (default: every path)")
	fs.StringVar(&f.Method, "method", "", "only requests with this `method` (default: any)")
	fs.IntVar(&f.Status, "status", 0, "answer with this HTTP `status`, such as 503 (0: only delay, with --latency)")
	fs.StringVar(&f.Message, "message", "", "the error's message")
	fs.DurationVar(&f.Latency, "latency", 0, "delay the answer by this `duration`, such as 2s")
	fs.Float64Var(&f.Probability, "probability", 0, "share of matching requests that fail, above 0 and at most 1 (default 1)")
	fs.IntVar(&f.Count, "count", 0, "fail this many requests, then stop (0: until cleared)")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	if f.Status == 0 && f.Latency == 0 {
		return usageErr("give --status, --latency or both")
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	added, err := c.Sandbox().AddFault(a.ctx, f)
	if err != nil {
		return err
	}
	return a.faultTable([]esimapi.Fault{added})
}

// sandbox clear-faults
func (a *app) sandboxClearFaults(args []string) error {
	fs := a.flagSet("sandbox clear-faults")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	if err := c.Sandbox().ClearFaults(a.ctx); err != nil {
		return err
	}
	return a.printStatus("every injected fault removed")
}

// sandbox autopilot [--on|--off] [--mb-per-hour N]
func (a *app) sandboxAutopilot(args []string) error {
	fs := a.flagSet("sandbox autopilot")
	on := fs.Bool("on", false, "switch the autopilot on")
	off := fs.Bool("off", false, "switch the autopilot off")
	mbPerHour := fs.Int64("mb-per-hour", 0, "megabytes each attached eSIM uses per hour of sandbox time")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	if *on && *off {
		return usageErr("give --on or --off, not both")
	}
	if *mbPerHour < 0 {
		return usageErr("--mb-per-hour must be positive")
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	sb := c.Sandbox()
	ap, err := sb.Autopilot(a.ctx)
	if err != nil {
		return err
	}
	if *on || *off || *mbPerHour > 0 {
		switch {
		case *on:
			ap.Enabled = true
		case *off:
			ap.Enabled = false
		}
		if *mbPerHour > 0 {
			ap.BytesPerHour = *mbPerHour * 1_000_000
		}
		if ap, err = sb.SetAutopilot(a.ctx, ap); err != nil {
			return err
		}
	}
	if a.json {
		return a.printJSON(ap)
	}
	state := "off"
	if ap.Enabled {
		state = "on"
	}
	return a.fields("Autopilot", state, "Data per hour", bytesText(ap.BytesPerHour))
}
