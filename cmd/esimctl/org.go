package main

import (
	"fmt"
	"strings"

	"github.com/esimd/esimd/esimapi"
)

// org show
func (a *app) orgShow(args []string) error {
	fs := a.flagSet("org show")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	o, err := c.Organisation(a.ctx)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(o)
	}
	return a.fields("Name", o.Name, "Balance", o.Balance.String()+" "+o.Currency, "API key", o.APIKey,
		"Callback URL", o.CallbackURL, "Groups", strings.Join(o.Groups, ", "))
}

// org topup AMOUNT
func (a *app) orgTopUp(args []string) error {
	fs := a.flagSet("org topup")
	pos, err := a.parse(fs, args, 1, "AMOUNT")
	if err != nil {
		return err
	}
	amount, err := esimapi.ParseMoney(pos[0])
	if err != nil || amount.Sign() <= 0 {
		return usageErr("AMOUNT must be a positive decimal such as 1000, got %q", pos[0])
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	r, err := c.TopUp(a.ctx, amount)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(r)
	}
	_, err = fmt.Fprintf(a.stdout, "topped up %s; balance %s (ref %d)\n", r.Amount, r.Balance, r.Ref)
	return err
}

// org ledger
func (a *app) orgLedger(args []string) error {
	fs := a.flagSet("org ledger")
	after := fs.Int64("after", 0, "start after this entry id")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	entries := []esimapi.LedgerEntry{}
	for after := *after; ; {
		p, err := c.Ledger(a.ctx, after, 100)
		if err != nil {
			return err
		}
		entries = append(entries, p.Entries...)
		if p.Next == 0 {
			break
		}
		after = p.Next
	}
	if a.json {
		return a.printJSON(entries)
	}
	t := a.table("ID", "DATE", "KIND", "AMOUNT", "BALANCE", "REFERENCE", "DESCRIPTION")
	for _, e := range entries {
		t.row(e.ID, e.CreatedAt, e.Kind, e.Amount, e.BalanceAfter, e.Reference, e.Description)
	}
	return t.flush()
}
