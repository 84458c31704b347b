package main

import (
	"fmt"
	"strconv"

	"github.com/esimd/esimd/esimapi"
)

// The orgs commands are the operator's: they use the admin API with the
// admin token and need no organisation's API key.

func (a *app) orgsTable(list []esimapi.AdminOrganisation) error {
	t := a.table("ID", "NAME", "KIND", "BALANCE", "REFUNDS", "CREATED")
	for _, o := range list {
		kind, refunds := "live", "off"
		if o.Sandbox {
			kind = "sandbox"
		}
		if o.RefundsEnabled {
			refunds = fmt.Sprintf("%d days", o.RefundWindowDays)
		}
		t.row(o.ID, o.Name, kind, o.Balance.String()+" "+o.Currency, refunds, o.CreatedAt)
	}
	return t.flush()
}

// orgs list
func (a *app) orgsList(args []string) error {
	fs := a.flagSet("orgs list")
	a.adminTokenFlag(fs)
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	adm, err := a.admin()
	if err != nil {
		return err
	}
	list, err := adm.Organisations(a.ctx)
	if err != nil {
		return err
	}
	if a.json {
		if list == nil {
			list = []esimapi.AdminOrganisation{}
		}
		return a.printJSON(list)
	}
	return a.orgsTable(list)
}

// orgs create --name N [--balance B] [--live] [--currency C] [--refunds]
func (a *app) orgsCreate(args []string) error {
	fs := a.flagSet("orgs create")
	a.adminTokenFlag(fs)
	name := fs.String("name", "", "organisation `name` (required)")
	balance := fs.String("balance", "0", "starting `balance`")
	currency := fs.String("currency", "", "`currency` (ISO 4217; the server's default is USD)")
	live := fs.Bool("live", false, "a live organisation (real eSIMs from the profile pool) instead of a sandbox one")
	refunds := fs.Bool("refunds", false, "allow refunds of inventory and revoked bundles")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	if *name == "" {
		return usageErr("--name is required")
	}
	amount, err := esimapi.ParseMoney(*balance)
	if err != nil || amount.Sign() < 0 {
		return usageErr("--balance must be a non-negative decimal such as 500, got %q", *balance)
	}
	adm, err := a.admin()
	if err != nil {
		return err
	}
	sandbox := !*live
	o, err := adm.CreateOrganisation(a.ctx, esimapi.NewOrganisation{Name: *name, Sandbox: &sandbox, Balance: amount, Currency: *currency, RefundsEnabled: *refunds})
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(o)
	}
	if err := a.orgsTable([]esimapi.AdminOrganisation{o}); err != nil {
		return err
	}
	// The key goes to stdout, where the person who asked for it sees it;
	// it is stored only as a hash.
	_, err = fmt.Fprintf(a.stdout, "API key of organisation %d (shown once): %s\n", o.ID, o.APIKey)
	return err
}

func orgArg(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 {
		return 0, usageErr("%q is not an organisation ID (a positive number; esimctl orgs list shows them)", s)
	}
	return id, nil
}

// orgs show ID
func (a *app) orgsShow(args []string) error {
	fs := a.flagSet("orgs show")
	a.adminTokenFlag(fs)
	pos, err := a.parse(fs, args, 1, "ID")
	if err != nil {
		return err
	}
	id, err := orgArg(pos[0])
	if err != nil {
		return err
	}
	adm, err := a.admin()
	if err != nil {
		return err
	}
	o, err := adm.Organisation(a.ctx, id)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(o)
	}
	kind := "live"
	if o.Sandbox {
		kind = "sandbox"
	}
	refunds := "off"
	if o.RefundsEnabled {
		refunds = fmt.Sprintf("within %d days", o.RefundWindowDays)
	}
	return a.fields("ID", o.ID, "Name", o.Name, "Kind", kind, "Balance", o.Balance.String()+" "+o.Currency, "Refunds", refunds, "Created", o.CreatedAt)
}

// orgs credit ID AMOUNT [--kind topup|credit|adjustment] [--note N]
func (a *app) orgsCredit(args []string) error {
	fs := a.flagSet("orgs credit")
	a.adminTokenFlag(fs)
	kind := fs.String("kind", esimapi.CreditTopUp, "ledger `kind`: topup, credit or adjustment (the only one that may be negative)")
	note := fs.String("note", "", "description recorded in the ledger")
	pos, err := a.parse(fs, args, 2, "ID AMOUNT")
	if err != nil {
		return err
	}
	id, err := orgArg(pos[0])
	if err != nil {
		return err
	}
	amount, err := esimapi.ParseMoney(pos[1])
	if err != nil || amount.Sign() == 0 {
		return usageErr("AMOUNT must be a decimal other than 0, such as 250 or -1.5, got %q", pos[1])
	}
	adm, err := a.admin()
	if err != nil {
		return err
	}
	r, err := adm.Credit(a.ctx, id, esimapi.CreditRequest{Amount: amount, Kind: *kind, Note: *note})
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(r)
	}
	_, err = fmt.Fprintf(a.stdout, "organisation %d: %s %s, balance now %s\n", r.OrganisationID, r.Kind, r.Amount, r.Balance)
	return err
}
