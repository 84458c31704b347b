package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/esimd/esimd/internal/app"
	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/catalogue/demodata"
	"github.com/esimd/esimd/internal/catalogue/ratesheet"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

func writeJSONOut(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// orgOut is an organisation as the admin commands print it.
type orgOut struct {
	ID               orgs.ID      `json:"id"`
	Name             string       `json:"name"`
	Currency         string       `json:"currency"`
	Sandbox          bool         `json:"sandbox"`
	Balance          money.Amount `json:"balance"`
	CallbackURL      string       `json:"callbackUrl"`
	CallbackVersion  string       `json:"callbackVersion"`
	RefundsEnabled   bool         `json:"refundsEnabled"`
	RefundWindowDays int          `json:"refundWindowDays"`
	Groups           []string     `json:"groups"`
	IPAllowList      []string     `json:"ipAllowList"`
	CreatedAt        time.Time    `json:"createdAt"`
	APIKey           string       `json:"apiKey,omitempty"` // only when just created
}

func toOrgOut(o orgs.Organisation) orgOut {
	allow := make([]string, len(o.IPAllowList))
	for i, p := range o.IPAllowList {
		allow[i] = p.String()
	}
	return orgOut{ID: o.ID, Name: o.Name, Currency: o.Currency, Sandbox: o.Sandbox, Balance: o.Balance,
		CallbackURL: o.CallbackURL, CallbackVersion: o.CallbackVersion, RefundsEnabled: o.RefundsEnabled,
		RefundWindowDays: o.RefundWindowDays, Groups: nonNil(o.Groups), IPAllowList: allow, CreatedAt: o.CreatedAt}
}

func (e env) printOrgs(c common, list []orgOut) error {
	if c.json {
		return writeJSONOut(e.stdout, list)
	}
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tKIND\tBALANCE\tCALLBACK\tREFUNDS")
	for _, o := range list {
		kind := "live"
		if o.Sandbox {
			kind = "sandbox"
		}
		cb := o.CallbackURL
		if cb == "" {
			cb = "-"
		} else {
			cb += " (" + o.CallbackVersion + ")"
		}
		refunds := "off"
		if o.RefundsEnabled {
			refunds = fmt.Sprintf("%d days", o.RefundWindowDays)
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s %s\t%s\t%s\n", o.ID, o.Name, kind, o.Balance, o.Currency, cb, refunds)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, o := range list {
		if o.APIKey != "" {
			fmt.Fprintf(e.stdout, "API key of organisation %d (shown once): %s\n", o.ID, o.APIKey)
		}
	}
	return nil
}

// orgFlags declares the settable organisation fields on fs.
type orgFlags struct {
	name, currency, callbackURL, callbackVersion, groups string
	sandbox, live, refunds                               bool
	refundWindow                                         int
}

func (f *orgFlags) declare(fs *flag.FlagSet) {
	fs.StringVar(&f.name, "name", "", "organisation name")
	fs.StringVar(&f.currency, "currency", "USD", "currency (ISO 4217)")
	fs.BoolVar(&f.sandbox, "sandbox", orgs.DefaultSandbox, "sandbox organisation (test ICCIDs, simulated network, own clock); the default")
	fs.BoolVar(&f.live, "live", false, "live organisation (eSIM profiles from the pool, real network usage): the same as --sandbox=false")
	fs.StringVar(&f.callbackURL, "callback-url", "", "URL that receives notifications")
	fs.StringVar(&f.callbackVersion, "callback-version", "V3", "callback version: V2 (unsigned) or V3 (signed)")
	fs.BoolVar(&f.refunds, "refunds", false, "allow refunds of inventory and revoked bundles (default: on for sandbox, off for live organisations)")
	fs.IntVar(&f.refundWindow, "refund-window-days", 60, "days after purchase in which refunds are allowed")
	fs.StringVar(&f.groups, "groups", "", "comma-separated catalogue groups the organisation may buy (empty: all)")
}

func splitComma(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func (e env) org(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: esimd org create|list|show|update|credit", errUsage)
	}
	sub, args := args[0], args[1:]
	var c common
	fs := e.flags("org "+sub, &c)
	var of orgFlags
	var balance, amount, kind, note, ipAllow string
	switch sub {
	case "create":
		of.declare(fs)
		fs.StringVar(&balance, "balance", "0", "starting balance")
	case "update":
		of.declare(fs)
		fs.StringVar(&ipAllow, "ip-allow", "", `comma-separated CIDR prefixes and addresses the organisation's keys work from ("" allows every address)`)
	case "credit":
		fs.StringVar(&amount, "amount", "", "amount to add (negative only with --kind adjustment)")
		fs.StringVar(&kind, "kind", "topup", "ledger kind: topup, credit or adjustment")
		fs.StringVar(&note, "note", "", "description recorded in the ledger")
	case "list", "show":
	default:
		return fmt.Errorf("%w: unknown org command %q (create, list, show, update, credit)", errUsage, sub)
	}
	if err := e.parse(fs, args); err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	if set["live"] {
		if set["sandbox"] && of.sandbox == of.live {
			return fmt.Errorf("%w: --live and --sandbox say opposite things; give one", errUsage)
		}
		of.sandbox = !of.live
	}
	if !set["refunds"] {
		of.refunds = orgs.DefaultRefunds(of.sandbox)
	}
	log, err := e.logger(c, "text")
	if err != nil {
		return err
	}
	a, err := e.open(ctx, c, log, e.lenientSecret(c, log))
	if err != nil {
		return err
	}
	defer a.Close()

	switch sub {
	case "create":
		if fs.NArg() != 0 {
			return fmt.Errorf("%w: org create takes only flags", errUsage)
		}
		start, err := money.Parse(balance)
		if err != nil {
			return fmt.Errorf("%w: --balance: %v", errUsage, err)
		}
		o, issued, err := a.Accounts.CreateOrganisation(ctx, orgs.NewOrganisation{
			Name: of.name, Currency: of.currency, Sandbox: of.sandbox, StartingBalance: start,
			CallbackURL: of.callbackURL, CallbackVersion: strings.ToUpper(of.callbackVersion), RefundsEnabled: of.refunds,
			RefundWindowDays: of.refundWindow, Groups: splitComma(of.groups), KeyLabel: "created by esimd org create",
		})
		if err != nil {
			return userError(err)
		}
		key := issued.Secret
		e.warnUnsealed(o.ID, issued)
		out := toOrgOut(o)
		out.APIKey = key
		if c.json {
			return writeJSONOut(e.stdout, out)
		}
		return e.printOrgs(c, []orgOut{out})
	case "list":
		list, err := a.Orgs.List(ctx)
		if err != nil {
			return err
		}
		outs := []orgOut{}
		for _, o := range list {
			outs = append(outs, toOrgOut(o))
		}
		return e.printOrgs(c, outs)
	}

	if fs.NArg() != 1 {
		return fmt.Errorf("%w: org %s takes one organisation ID", errUsage, sub)
	}
	id, err := parseOrgID(fs.Arg(0))
	if err != nil {
		return err
	}
	switch sub {
	case "show":
		o, err := a.Orgs.Get(ctx, id)
		if err != nil {
			return userError(err)
		}
		if c.json {
			return writeJSONOut(e.stdout, toOrgOut(o))
		}
		return e.printOrgs(c, []orgOut{toOrgOut(o)})
	case "update":
		var u orgs.Update
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "name":
				u.Name = &of.name
			case "currency":
				u.Currency = &of.currency
			case "sandbox", "live":
				u.Sandbox = &of.sandbox
			case "callback-url":
				u.CallbackURL = &of.callbackURL
			case "callback-version":
				u.CallbackVersion = &of.callbackVersion
			case "refunds":
				u.RefundsEnabled = &of.refunds
			case "refund-window-days":
				u.RefundWindowDays = &of.refundWindow
			case "groups":
				g := splitComma(of.groups)
				u.Groups = &g
			case "ip-allow":
				l := splitComma(ipAllow)
				u.IPAllowList = &l
			}
		})
		o, err := a.Orgs.Update(ctx, id, u)
		if err != nil {
			return userError(err)
		}
		if c.json {
			return writeJSONOut(e.stdout, toOrgOut(o))
		}
		return e.printOrgs(c, []orgOut{toOrgOut(o)})
	default: // credit
		amt, err := money.Parse(amount)
		if err != nil {
			return fmt.Errorf("%w: --amount: %v", errUsage, err)
		}
		k := orgs.LedgerKind(kind)
		if k != orgs.LedgerTopup && k != orgs.LedgerCredit && k != orgs.LedgerAdjustment {
			return fmt.Errorf("%w: --kind must be topup, credit or adjustment, got %q", errUsage, kind)
		}
		entry, err := a.Orgs.Credit(ctx, id, k, amt, "", note)
		if err != nil {
			return userError(err)
		}
		if c.json {
			return writeJSONOut(e.stdout, map[string]any{"id": entry.ID, "organisation": id, "kind": entry.Kind,
				"amount": entry.Amount, "balance": entry.BalanceAfter})
		}
		fmt.Fprintf(e.stdout, "organisation %d: %s %s, balance now %s\n", id, entry.Kind, entry.Amount, entry.BalanceAfter)
		return nil
	}
}

func (e env) apikey(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: esimd apikey create ORG | list ORG | revoke ORG KEY_ID", errUsage)
	}
	sub, args := args[0], args[1:]
	var c common
	fs := e.flags("apikey "+sub, &c)
	label := ""
	if sub == "create" {
		fs.StringVar(&label, "label", "", "a note to recognise the key by")
	}
	if err := e.parse(fs, args); err != nil {
		return err
	}
	want := map[string]int{"create": 1, "list": 1, "revoke": 2}[sub]
	if want == 0 {
		return fmt.Errorf("%w: unknown apikey command %q (create, list, revoke)", errUsage, sub)
	}
	if fs.NArg() != want {
		return fmt.Errorf("%w: apikey %s takes %d argument(s)", errUsage, sub, want)
	}
	id, err := parseOrgID(fs.Arg(0))
	if err != nil {
		return err
	}
	log, err := e.logger(c, "text")
	if err != nil {
		return err
	}
	a, err := e.open(ctx, c, log, e.lenientSecret(c, log))
	if err != nil {
		return err
	}
	defer a.Close()
	switch sub {
	case "create":
		issued, err := a.Accounts.IssueKey(ctx, id, label)
		if err != nil {
			return userError(err)
		}
		k, key := issued.Key, issued.Secret
		e.warnUnsealed(id, issued)
		if c.json {
			return writeJSONOut(e.stdout, map[string]any{"id": k.ID, "organisation": id, "label": k.Label, "apiKey": key})
		}
		fmt.Fprintf(e.stdout, "API key %d for organisation %d (shown once): %s\n", k.ID, id, key)
		return nil
	case "list":
		keys, err := a.Orgs.APIKeys(ctx, id)
		if err != nil {
			return err
		}
		type keyOut struct {
			ID        int64      `json:"id"`
			Hint      string     `json:"hint"`
			Label     string     `json:"label"`
			CreatedAt time.Time  `json:"createdAt"`
			RevokedAt *time.Time `json:"revokedAt,omitempty"`
		}
		outs := []keyOut{}
		for _, k := range keys {
			outs = append(outs, keyOut{k.ID, k.Hint, k.Label, k.CreatedAt, k.RevokedAt})
		}
		if c.json {
			return writeJSONOut(e.stdout, outs)
		}
		tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "ID\tKEY\tLABEL\tCREATED\tSTATE")
		for _, k := range outs {
			state := "active"
			if k.RevokedAt != nil {
				state = "revoked " + k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\n", k.ID, k.Hint, k.Label, k.CreatedAt.Format(time.RFC3339), state)
		}
		return tw.Flush()
	default: // revoke
		var keyID int64
		if _, err := fmt.Sscan(fs.Arg(1), &keyID); err != nil || keyID <= 0 {
			return fmt.Errorf("%w: %q is not a key ID (esimd apikey list %d shows them)", errUsage, fs.Arg(1), id)
		}
		if err := a.Orgs.RevokeAPIKey(ctx, id, keyID); err != nil {
			return userError(err)
		}
		if c.json {
			return writeJSONOut(e.stdout, map[string]any{"id": keyID, "organisation": id, "revoked": true})
		}
		fmt.Fprintf(e.stdout, "revoked API key %d of organisation %d\n", keyID, id)
		return nil
	}
}

func (e env) catalogueCmd(ctx context.Context, args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("%w: esimd catalogue import (--ratesheet DIR | --csv FILE) | demo | show", errUsage)
	}
	sub, args := args[0], args[1:]
	var c common
	fs := e.flags("catalogue "+sub, &c)
	var dir, csvPath, currency string
	var replace bool
	switch sub {
	case "import":
		fs.StringVar(&dir, "ratesheet", "", "folder of rate-sheet CSVs (standard-fixed.csv, coverage.csv …); replaces the whole catalogue")
		fs.StringVar(&csvPath, "csv", "", "CSV file with one bundle per row (see README): adds its bundles and replaces those of the same name; keeps the other bundles, countries and networks")
		fs.BoolVar(&replace, "replace", false, "with --csv: replace every bundle with the file's instead of merging by name")
		fs.StringVar(&currency, "currency", "", "currency of the prices (default: the current catalogue's, else USD)")
	case "demo", "show":
	default:
		return fmt.Errorf("%w: unknown catalogue command %q (import, demo, show)", errUsage, sub)
	}
	if err := e.parse(fs, args); err != nil {
		return err
	}
	log, err := e.logger(c, "text")
	if err != nil {
		return err
	}
	a, err := e.open(ctx, c, log, nil)
	if err != nil {
		return err
	}
	defer a.Close()
	var d catalogue.Data
	switch sub {
	case "show":
		snap := a.Catalogue.Current(ctx)
		summary := catalogueSummary(snap.Data)
		if c.json {
			return writeJSONOut(e.stdout, summary)
		}
		fmt.Fprintf(e.stdout, "%d bundles, %d countries, %d regions, %d networks, currency %s\n",
			summary.Bundles, summary.Countries, summary.Regions, summary.Networks, summary.Currency)
		for _, g := range summary.Groups {
			fmt.Fprintf(e.stdout, "  %-32s %d bundles\n", g.Name, g.Bundles)
		}
		return nil
	case "demo":
		if d, err = demodata.Load(); err != nil {
			return err
		}
	case "import":
		switch {
		case (dir == "") == (csvPath == ""):
			return fmt.Errorf("%w: give exactly one of --ratesheet DIR or --csv FILE", errUsage)
		case dir != "":
			if d, err = ratesheet.Load(os.DirFS(dir)); err != nil {
				return fmt.Errorf("read rate sheet %s: %w", dir, err)
			}
		default:
			f, err := os.Open(csvPath)
			if err != nil {
				return err
			}
			bundles, err := ratesheet.ParseBundleCSV(f)
			f.Close()
			if err != nil {
				return fmt.Errorf("read %s: %w", filepath.Base(csvPath), err)
			}
			if !replace {
				return e.mergeBundles(ctx, a, c, bundles, strings.ToUpper(currency))
			}
			// A bundle CSV carries no coverage data: keep the current countries,
			// regions and networks.
			cur := a.Catalogue.Current(ctx).Data
			d = catalogue.Data{Currency: cur.Currency, Countries: cur.Countries, Regions: cur.Regions, Networks: cur.Networks, Bundles: bundles}
		}
		if currency != "" {
			d.Currency = strings.ToUpper(currency)
		}
		if d.Currency == "" {
			d.Currency = "USD"
		}
	}
	before := len(a.Catalogue.Current(ctx).Bundles)
	if err := a.Catalogue.Import(ctx, d); err != nil {
		return userError(err)
	}
	summary := catalogueSummary(d)
	if c.json {
		return writeJSONOut(e.stdout, importOut{Mode: "replace", Removed: before, summaryOut: summary})
	}
	fmt.Fprintf(e.stdout, "replaced the catalogue (%d bundles before): imported %d bundles, %d countries, %d networks\n",
		before, summary.Bundles, summary.Countries, summary.Networks)
	return nil
}

// importOut is what catalogue import reports: whether it merged or
// replaced, and the counts.
type importOut struct {
	Mode     string `json:"mode"` // merge or replace
	Added    int    `json:"added,omitempty"`
	Replaced int    `json:"replaced,omitempty"`
	Kept     int    `json:"kept,omitempty"`
	Removed  int    `json:"removed,omitempty"` // replace: the bundles there were before
	summaryOut
}

// mergeBundles is catalogue import --csv without --replace.
func (e env) mergeBundles(ctx context.Context, a *app.App, c common, bundles []catalogue.Bundle, currency string) error {
	m, err := a.Catalogue.MergeBundles(ctx, bundles, currency)
	if err != nil {
		return userError(err)
	}
	summary := catalogueSummary(m.Data)
	if c.json {
		return writeJSONOut(e.stdout, importOut{Mode: "merge", Added: m.Added, Replaced: m.Replaced, Kept: m.Kept, summaryOut: summary})
	}
	fmt.Fprintf(e.stdout, "merged by name: %d bundles added, %d replaced, %d kept; the catalogue has %d bundles (--replace replaces them all)\n",
		m.Added, m.Replaced, m.Kept, summary.Bundles)
	return nil
}

type groupCount struct {
	Name    string `json:"name"`
	Bundles int    `json:"bundles"`
}

type summaryOut struct {
	Currency  string       `json:"currency"`
	Bundles   int          `json:"bundles"`
	Countries int          `json:"countries"`
	Regions   int          `json:"regions"`
	Networks  int          `json:"networks"`
	Groups    []groupCount `json:"groups"`
}

func catalogueSummary(d catalogue.Data) summaryOut {
	s := summaryOut{Currency: d.Currency, Bundles: len(d.Bundles), Countries: len(d.Countries), Regions: len(d.Regions), Networks: len(d.Networks), Groups: []groupCount{}}
	idx := map[string]int{}
	for _, b := range d.Bundles {
		for _, g := range b.Groups {
			i, ok := idx[g]
			if !ok {
				i = len(s.Groups)
				idx[g] = i
				s.Groups = append(s.Groups, groupCount{Name: g})
			}
			s.Groups[i].Bundles++
		}
	}
	return s
}
