package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/esimd/esimd/esimapi"
)

func itoa(n int) string { return strconv.Itoa(n) }

// orderFlags are the flags of order validate and order buy.
type orderFlags struct {
	quantity      int
	inventory     bool
	iccids        stringList
	allowReassign bool
	profileID     string
}

func (o *orderFlags) register(fs *flag.FlagSet) {
	fs.IntVar(&o.quantity, "quantity", 1, "number of bundles")
	fs.BoolVar(&o.inventory, "inventory", false, "buy into inventory instead of onto eSIMs")
	fs.Var(&o.iccids, "iccid", "top up this eSIM (repeatable; as many as --quantity)")
	fs.BoolVar(&o.allowReassign, "allow-reassign", false, "use a new eSIM when an --iccid is not compatible")
	fs.StringVar(&o.profileID, "profile-id", "", "branding profile (v2.5)")
}

func (o *orderFlags) request(bundle string) (esimapi.OrderRequest, error) {
	if o.quantity < 1 {
		return esimapi.OrderRequest{}, usageErr("--quantity must be 1 or more")
	}
	if o.inventory && len(o.iccids) > 0 {
		return esimapi.OrderRequest{}, usageErr("--iccid and --inventory exclude each other")
	}
	if len(o.iccids) > 0 && o.quantity == 1 {
		o.quantity = len(o.iccids)
	}
	return esimapi.OrderRequest{Assign: !o.inventory, ProfileID: o.profileID,
		Lines: []esimapi.OrderLine{{Item: bundle, Quantity: o.quantity, ICCIDs: o.iccids, AllowReassign: o.allowReassign}}}, nil
}

// order validate BUNDLE
func (a *app) orderValidate(args []string) error {
	fs := a.flagSet("order validate")
	var of orderFlags
	of.register(fs)
	pos, err := a.parse(fs, args, 1, "BUNDLE")
	if err != nil {
		return err
	}
	req, err := of.request(pos[0])
	if err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	v, err := c.ValidateOrder(a.ctx, req)
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(v)
	}
	t := a.table("BUNDLE", "QUANTITY", "PRICE", "SUBTOTAL")
	for _, l := range v.Order {
		t.row(l.Item, l.Quantity, l.PricePerUnit, l.SubTotal)
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "total %s %s; valid: %v (nothing was charged)\n", v.Total, v.Currency, v.Valid)
	return nil
}

// order buy BUNDLE
func (a *app) orderBuy(args []string) error {
	fs := a.flagSet("order buy")
	var of orderFlags
	of.register(fs)
	key := fs.String("idempotency-key", "", "send Idempotency-Key so that repeating the command cannot buy twice")
	noWait := fs.Bool("no-wait", false, "do not wait for a large order to finish processing")
	poll := fs.Duration("poll", 5*time.Second, "longest wait between polls of a processing order")
	quiet := fs.Bool("quiet", false, "print only the ICCIDs, one a line (the reference for inventory purchases), for scripts")
	pos, err := a.parse(fs, args, 1, "BUNDLE")
	if err != nil {
		return err
	}
	req, err := of.request(pos[0])
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
	o, err := c.PlaceOrder(a.ctx, req, opts...)
	if err != nil {
		return err
	}
	if o.Processing() && !*noWait {
		units := 0
		for _, l := range req.Lines {
			units += l.Quantity
		}
		bar := a.progress(fmt.Sprintf("order %s: assigning %d eSIMs", o.OrderReference, units))
		o, err = c.WaitForOrder(a.ctx, o.OrderReference, esimapi.WaitOptions{MaxInterval: *poll,
			OnPoll: func(polls int, wait time.Duration) { bar.tick(fmt.Sprintf("processing, poll %d", polls)) }})
		bar.done()
		if err != nil {
			return err
		}
	}
	if *quiet && !a.json {
		ids := o.ICCIDs()
		if len(ids) == 0 {
			ids = []string{o.OrderReference}
		}
		for _, id := range ids {
			fmt.Fprintln(a.stdout, id)
		}
		return nil
	}
	return a.showOrder(o)
}

func (a *app) showOrder(o esimapi.Order) error {
	if a.json {
		return a.printJSON(o)
	}
	kv := []any{"Reference", o.OrderReference, "Status", o.Status, "Message", o.StatusMessage,
		"Total", o.Total.String() + " " + o.Currency, "Created", o.CreatedDate}
	if !o.RunningBalance.IsZero() {
		kv = append(kv, "Balance after", o.RunningBalance.String()+" "+o.Currency)
	}
	if err := a.fields(kv...); err != nil {
		return err
	}
	if es := o.ESIMs(); len(es) > 0 {
		fmt.Fprintln(a.stdout)
		t := a.table("ICCID", "MATCHING ID", "SM-DP+ ADDRESS")
		for _, e := range es {
			t.row(e.ICCID, e.MatchingID, e.SMDPAddress)
		}
		return t.flush()
	}
	if ids := o.ICCIDs(); len(ids) > 0 {
		fmt.Fprintln(a.stdout)
		t := a.table("ICCID")
		for _, id := range ids {
			t.row(id)
		}
		return t.flush()
	}
	return nil
}

// order list
func (a *app) orderList(args []string) error {
	fs := a.flagSet("order list")
	limit := fs.Int("limit", 20, "orders per page")
	page := fs.Int("page", 1, "page, from 1")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	p, err := c.ListOrders(a.ctx, esimapi.OrdersQuery{Page: *page, Limit: *limit})
	if err != nil {
		return err
	}
	if a.json {
		return a.printJSON(p)
	}
	t := a.table("REFERENCE", "CREATED", "STATUS", "ITEMS", "TOTAL")
	for _, o := range p.Orders {
		items := ""
		for i, l := range o.Order {
			if i > 0 {
				items += ", "
			}
			items += fmt.Sprintf("%d× %s", l.Quantity, l.Item)
		}
		t.row(o.OrderReference, o.CreatedDate, o.Status, items, o.Total.String()+" "+o.Currency)
	}
	if err := t.flush(); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "page %d of %d (%d orders)\n", *page, max(p.PageCount, 1), p.Rows)
	return nil
}

// order show REFERENCE
func (a *app) orderShow(args []string) error {
	fs := a.flagSet("order show")
	pos, err := a.parse(fs, args, 1, "REFERENCE")
	if err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	o, err := c.Order(a.ctx, pos[0])
	if err != nil {
		return err
	}
	return a.showOrder(o)
}

// inventory list
func (a *app) inventoryList(args []string) error {
	fs := a.flagSet("inventory list")
	if _, err := a.parse(fs, args, 0, ""); err != nil {
		return err
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	inv, err := c.Inventory(a.ctx)
	if err != nil {
		return err
	}
	if a.json {
		if inv == nil {
			inv = []esimapi.InventoryBundle{}
		}
		return a.printJSON(inv)
	}
	t := a.table("BUNDLE", "USAGE ID", "REMAINING", "TOTAL", "EXPIRY")
	for _, b := range inv {
		for _, batch := range b.Available {
			t.row(b.Name, batch.ID, batch.Remaining, batch.Total, batch.Expiry.Format(time.DateOnly))
		}
	}
	return t.flush()
}

// inventory refund USAGE_ID
func (a *app) inventoryRefund(args []string) error {
	fs := a.flagSet("inventory refund")
	qty := fs.Int("quantity", 1, "unused bundles of the batch to refund")
	pos, err := a.parse(fs, args, 1, "USAGE_ID")
	if err != nil {
		return err
	}
	id, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || id <= 0 {
		return usageErr("USAGE_ID must be a batch id from \"esimctl inventory list\", got %q", pos[0])
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	status, err := c.RefundInventory(a.ctx, id, *qty)
	if err != nil {
		return err
	}
	return a.printStatus(status)
}

// printStatus prints a {"status"} answer.
func (a *app) printStatus(status string) error {
	if a.json {
		return a.printJSON(map[string]string{"status": status})
	}
	_, err := fmt.Fprintln(a.stdout, status)
	return err
}

// order install-data REFERENCE… [--csv FILE|-] [--zip FILE]
func (a *app) orderInstallData(args []string) error {
	fs := a.flagSet("order install-data")
	csvOut := fs.String("csv", "", "write the CSV (ICCID, matching ID, RSP URL, bundle …) to this `file`; - for stdout")
	zipOut := fs.String("zip", "", "write a ZIP of one PNG QR code per eSIM to this `file`")
	refs, err := a.parse(fs, args, -1, "REFERENCE… (order or apply references)")
	if err != nil {
		return err
	}
	if *csvOut != "" && *zipOut != "" {
		return usageErr("give --csv or --zip, not both")
	}
	if *zipOut == "-" {
		return usageErr("--zip needs a file name: a ZIP on a terminal is unreadable")
	}
	c, err := a.api()
	if err != nil {
		return err
	}
	switch {
	case *csvOut == "-":
		data, err := c.InstallCSV(a.ctx, refs)
		if err != nil {
			return err
		}
		_, err = a.stdout.Write(data)
		return err
	case *csvOut != "" || *zipOut != "":
		path, fetch := *csvOut, c.InstallCSV
		if *zipOut != "" {
			path, fetch = *zipOut, c.InstallQRZip
		}
		data, err := fetch(a.ctx, refs)
		if err != nil {
			return err
		}
		if err := os.WriteFile(path, data, 0o600); err != nil { // activation codes install the eSIMs: private
			return err
		}
		if a.json {
			return a.printJSON(map[string]any{"file": path, "bytes": len(data)})
		}
		_, err = fmt.Fprintf(a.stdout, "wrote %s (%s)\n", path, bytesText(int64(len(data))))
		return err
	}
	rows, err := c.InstallData(a.ctx, refs)
	if err != nil {
		return err
	}
	if a.json {
		if rows == nil {
			rows = []esimapi.InstallDetails{}
		}
		return a.printJSON(rows)
	}
	t := a.table("ICCID", "PROFILE STATUS", "ACTIVATION CODE", "FIRST INSTALLED")
	for _, r := range rows {
		code := ""
		if ac, err := r.ActivationCode(); err == nil {
			code = ac.String()
		}
		t.row(r.ICCID, r.ProfileStatus, code, r.FirstInstalled)
	}
	return t.flush()
}
