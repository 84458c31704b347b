package esimapi_test

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"image/png"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/esimd/esimd/esimapi"
)

func amount(s string) esimapi.Money { return esimapi.MustParseMoney(s) }

func wantMoney(t *testing.T, what string, got esimapi.Money, want string) {
	t.Helper()
	if got.Cmp(amount(want)) != 0 {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

func wantStatus(t *testing.T, what string, err error, status int) *esimapi.Error {
	t.Helper()
	var e *esimapi.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: got %v, want an *esimapi.Error with status %d", what, err, status)
	}
	if e.StatusCode != status {
		t.Fatalf("%s: status %d (%s), want %d", what, e.StatusCode, e.Message, status)
	}
	if e.Message == "" || e.RequestID == "" {
		t.Errorf("%s: error %#v lacks a message or request ID", what, e)
	}
	return e
}

func TestContractCatalogueAndOrganisation(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t)
	ctx := t.Context()

	if err := c.Health(ctx); err != nil {
		t.Fatalf("Health: %v", err)
	}

	page, err := c.ListCatalogue(ctx, esimapi.CatalogueQuery{Countries: []string{"GB"}, OrderBy: "price", Direction: "asc"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range page.Bundles {
		names = append(names, b.Name+"="+b.Price.String())
	}
	want := []string{"esim_1GB_7D_GB_V2=1.73", "esim_1GB_7D_REUL_V2=3.1", "esim_3GB_30D_GB_V2=4.5", "esim_20GB_60D_GB_V2=90.275"}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("catalogue for GB by price (-want +got):\n%s", diff)
	}
	if page.Rows != 4 || page.PageCount != 1 {
		t.Errorf("rows %d pages %d, want 4 and 1", page.Rows, page.PageCount)
	}

	var all []string
	for b, err := range c.AllBundles(ctx, esimapi.CatalogueQuery{PerPage: 2, OrderBy: "name"}) {
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, b.Name)
	}
	if len(all) != 5 || !slices.IsSorted(all) {
		t.Errorf("AllBundles with 2 per page = %v, want the 5 bundles by name", all)
	}
	// Breaking out of the loop stops paging.
	n := 0
	for range c.AllBundles(ctx, esimapi.CatalogueQuery{PerPage: 1}) {
		n++
		if n == 2 {
			break
		}
	}

	b, err := c.Bundle(ctx, "esim_20GB_60D_GB_V2")
	if err != nil {
		t.Fatal(err)
	}
	if b.Duration != 60 || b.DataAmount != 20000 || len(b.Groups) != 1 || b.Countries[0].ISO != "GB" || len(b.Allowances) != 1 || b.ProfileName != "Profile 1" {
		t.Errorf("Bundle = %+v", b)
	}
	wantMoney(t, "price", b.Price, "90.275")
	_, err = c.Bundle(ctx, "esim_1gb_7d_gb_v2")
	wantStatus(t, "lower-case bundle name", err, 400)

	nets, err := c.Networks(ctx, esimapi.NetworksQuery{ISOs: []string{"GB", "FR"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(nets) != 2 || len(nets[0].Networks) == 0 || nets[0].Networks[0].TADIG == "" {
		t.Errorf("Networks = %+v", nets)
	}

	_, err = c.CataloguePrices(ctx)
	wantStatus(t, "catalogue prices (not served by esimd)", err, 403)

	org, err := c.Organisation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if org.Name != "Acme Travel" || org.Currency != "USD" || !strings.Contains(org.APIKey, "…") {
		t.Errorf("Organisation = %+v", org)
	}
	wantMoney(t, "balance", org.Balance, "250.5")

	groups, err := c.Groups(ctx)
	if err != nil || len(groups) == 0 {
		t.Fatalf("Groups = %v, %v", groups, err)
	}
	old, err := esimapi.NewClient(ts.URL+"/v2.2", esimapi.WithAPIKey(ts.Key))
	if err != nil {
		t.Fatal(err)
	}
	oldGroups, err := old.Groups(ctx) // a bare array on v2.2
	if err != nil || !cmp.Equal(groups, oldGroups) {
		t.Errorf("v2.2 Groups = %v, %v; want %v", oldGroups, err, groups)
	}
	details, err := old.APIDetails(ctx)
	if err != nil || !slices.Contains(details, "GET /catalogue") {
		t.Errorf("APIDetails = %v, %v", details, err)
	}

	top, err := c.TopUp(ctx, amount("1000"))
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "top-up balance", top.Balance, "1250.5")
	_, err = c.TopUp(ctx, amount("10"))
	wantStatus(t, "top-up under 1000", err, 400)

	live, err := esimapi.NewClient(ts.URL, esimapi.WithAPIKey(ts.Live))
	if err != nil {
		t.Fatal(err)
	}
	_, err = live.TopUp(ctx, amount("1000"))
	wantStatus(t, "live top-up", err, 403)
	_, err = live.Sandbox().Clock(ctx)
	wantStatus(t, "live sandbox clock", err, 403)

	bad, _ := esimapi.NewClient(ts.URL, esimapi.WithAPIKey("esimd_not_a_key_at_all_000000"))
	_, err = bad.Organisation(ctx)
	if !esimapi.IsForbidden(err) {
		t.Errorf("bad key: %v, want 403", err)
	}

	var ledger []esimapi.LedgerEntry
	for e, err := range c.AllLedgerEntries(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		ledger = append(ledger, e)
	}
	if len(ledger) != 2 || ledger[0].Kind != "credit" || ledger[1].Kind != "topup" {
		t.Fatalf("ledger = %+v", ledger)
	}
	wantMoney(t, "ledger balance after top-up", ledger[1].BalanceAfter, "1250.5")
	lp, err := c.Ledger(ctx, 0, 1)
	if err != nil || len(lp.Entries) != 1 || lp.Next != ledger[0].ID {
		t.Errorf("Ledger(0, 1) = %+v, %v", lp, err)
	}
}

func TestContractOrdersAndInventory(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t)
	ctx := t.Context()

	req := esimapi.OrderRequest{Assign: true, Lines: []esimapi.OrderLine{{Item: "esim_1GB_7D_GB_V2", Quantity: 2}}}
	v, err := c.ValidateOrder(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if !v.Valid || v.Currency != "USD" || len(v.Order) != 1 {
		t.Errorf("ValidateOrder = %+v", v)
	}
	wantMoney(t, "validate total", v.Total, "3.46")

	var info esimapi.ResponseInfo
	o, err := c.PlaceOrder(ctx, req, esimapi.WithIdempotencyKey("order-0001"), esimapi.WithResponseInfo(&info))
	if err != nil {
		t.Fatal(err)
	}
	if o.Status != esimapi.OrderCompleted || o.StatusMessage != "Order completed: 2 eSIMs assigned" || len(o.ICCIDs()) != 2 || len(o.ESIMs()) != 2 {
		t.Fatalf("PlaceOrder = %+v", o)
	}
	if info.Replayed || info.RequestID == "" || info.StatusCode != 200 {
		t.Errorf("first answer info = %+v", info)
	}
	wantMoney(t, "running balance", o.RunningBalance, "247.04")
	ac, err := o.ESIMs()[0].ActivationCode()
	if err != nil || !strings.HasPrefix(ac.String(), "LPA:1$") {
		t.Errorf("ActivationCode = %v, %v", ac, err)
	}

	again, err := c.PlaceOrder(ctx, req, esimapi.WithIdempotencyKey("order-0001"), esimapi.WithResponseInfo(&info))
	if err != nil || again.OrderReference != o.OrderReference || !info.Replayed {
		t.Errorf("replayed order = %s (replayed %v), %v; want %s", again.OrderReference, info.Replayed, err, o.OrderReference)
	}
	other := req
	other.Lines = []esimapi.OrderLine{{Item: "esim_3GB_30D_GB_V2", Quantity: 1}}
	_, err = c.PlaceOrder(ctx, other, esimapi.WithIdempotencyKey("order-0001"))
	if !esimapi.IsConflict(err) {
		t.Errorf("same key, other order: %v, want 409", err)
	}

	got, err := c.Order(ctx, o.OrderReference)
	if err != nil || got.OrderReference != o.OrderReference || len(got.ESIMs()) != 2 {
		t.Errorf("Order = %+v, %v", got, err)
	}
	_, err = c.Order(ctx, "not-a-uuid")
	wantStatus(t, "malformed order reference", err, 400)

	// Into inventory, then apply, refund and run out.
	inv, err := c.PlaceOrder(ctx, esimapi.OrderRequest{Lines: []esimapi.OrderLine{{Item: "esim_3GB_30D_GB_V2", Quantity: 3}}})
	if err != nil || inv.StatusMessage != "Order completed" {
		t.Fatalf("inventory order = %+v, %v", inv, err)
	}
	bundles, err := c.Inventory(ctx)
	if err != nil || len(bundles) != 1 || bundles[0].Remaining() != 3 || len(bundles[0].Available) != 1 {
		t.Fatalf("Inventory = %+v, %v", bundles, err)
	}
	batch := bundles[0].Available[0]
	if want := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC); !batch.Expiry.Equal(want) {
		t.Errorf("batch expiry %v, want %v", batch.Expiry, want)
	}
	status, err := c.RefundInventory(ctx, batch.ID, 1)
	if err != nil || status != "Successfully refunded bundles to balance" {
		t.Errorf("RefundInventory = %q, %v", status, err)
	}
	_, err = c.RefundInventory(ctx, batch.ID, 5)
	wantStatus(t, "refund more than remains", err, 400)

	applied, err := c.Apply(ctx, esimapi.ApplyRequest{Name: "esim_3GB_30D_GB_V2"})
	if err != nil || len(applied.ESIMs) != 1 || applied.ApplyReference == "" {
		t.Fatalf("Apply = %+v, %v", applied, err)
	}
	topped, err := c.Apply(ctx, esimapi.ApplyRequest{ICCID: o.ICCIDs()[0], Name: "esim_3GB_30D_GB_V2"})
	if err != nil || topped.ESIMs[0].ICCID != o.ICCIDs()[0] {
		t.Fatalf("Apply to an eSIM = %+v, %v", topped, err)
	}
	_, err = c.Apply(ctx, esimapi.ApplyRequest{Bundles: []esimapi.ApplyItem{{Name: "esim_3GB_30D_GB_V2"}}})
	wantStatus(t, "apply with no inventory left", err, 403)

	page, err := c.ListOrders(ctx, esimapi.OrdersQuery{Limit: 2, IncludeICCIDs: true})
	if err != nil || len(page.Orders) != 2 || page.Rows < 4 || page.PageCount < 2 {
		t.Fatalf("ListOrders = %+v, %v", page, err)
	}
	var refs []string
	for o, err := range c.AllOrders(ctx, esimapi.OrdersQuery{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, o.OrderReference)
	}
	if len(refs) != page.Rows || !slices.Contains(refs, o.OrderReference) {
		t.Errorf("AllOrders gave %d orders, want %d including %s", len(refs), page.Rows, o.OrderReference)
	}
	future, err := c.ListOrders(ctx, esimapi.OrdersQuery{CreatedAt: []esimapi.TimeFilter{{Op: "gt", At: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}}})
	if err != nil || len(future.Orders) != 0 {
		t.Errorf("orders after 2030 = %+v, %v", future.Orders, err)
	}

	// More than five eSIMs are assigned in the background.
	big, err := c.PlaceOrder(ctx, esimapi.OrderRequest{Assign: true, Lines: []esimapi.OrderLine{{Item: "esim_1GB_7D_GB_V2", Quantity: 6}}})
	if err != nil {
		t.Fatal(err)
	}
	if !big.Processing() {
		t.Fatalf("an order of 6 eSIMs is %q, want processing", big.Status)
	}
	polls := 0
	done, err := c.WaitForOrder(ctx, big.OrderReference, esimapi.WaitOptions{MaxInterval: 20 * time.Millisecond,
		OnPoll: func(int, time.Duration) { polls++ }})
	if err != nil || done.Status != esimapi.OrderCompleted || len(done.ICCIDs()) != 6 {
		t.Fatalf("WaitForOrder = %+v, %v (after %d polls)", done, err, polls)
	}
	data, err := c.InstallData(ctx, []string{big.OrderReference})
	if err != nil || len(data) != 6 {
		t.Fatalf("InstallData of 6 = %d rows, %v", len(data), err)
	}

	// Sandbox magic: forced answers come back as typed errors.
	noRetry := ts.client(t, esimapi.WithoutRetry())
	_, err = noRetry.PlaceOrder(ctx, esimapi.OrderRequest{Lines: []esimapi.OrderLine{{Item: "sandbox_processing", Quantity: 1}}})
	e := wantStatus(t, "sandbox_processing", err, 503)
	if e.RetryAfter != 5*time.Second || !e.Temporary() {
		t.Errorf("RetryAfter = %v, want 5s", e.RetryAfter)
	}
	_, err = noRetry.ValidateOrder(ctx, esimapi.OrderRequest{Lines: []esimapi.OrderLine{{Item: "sandbox_insufficient_balance", Quantity: 1}}})
	wantStatus(t, "sandbox_insufficient_balance", err, 400)
	_, err = noRetry.ESIM(ctx, "8999900000000000410")
	if !esimapi.IsGone(err) {
		t.Errorf("magic 410 ICCID: %v", err)
	}
	// A Retry-After longer than the client's maximum wait is not waited for.
	impatient := ts.client(t, esimapi.WithRetry(3, time.Second))
	start := time.Now()
	_, err = impatient.ESIM(ctx, "8999900000000000429", esimapi.WithResponseInfo(&info))
	if !esimapi.IsRateLimited(err) || info.Attempts != 1 || time.Since(start) > 2*time.Second {
		t.Errorf("magic 429 with a 5 s Retry-After and a 1 s maximum wait: %v after %d attempts", err, info.Attempts)
	}
}

func TestContractESIMLifecycle(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t)
	sb := c.Sandbox()
	ctx := t.Context()

	o, err := c.PlaceOrder(ctx, esimapi.OrderRequest{Assign: true, Lines: []esimapi.OrderLine{{Item: "esim_1GB_7D_GB_V2", Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	iccid := o.ICCIDs()[0]

	list, err := c.ListESIMs(ctx, esimapi.ESIMsQuery{PerPage: 10})
	if err != nil || len(list.ESIMs) != 1 || list.ESIMs[0].ICCID != iccid || list.ESIMs[0].State != esimapi.StateActive || list.ESIMs[0].AssignedDate.IsZero() {
		t.Fatalf("ListESIMs = %+v, %v", list, err)
	}
	_, err = c.ListESIMs(ctx, esimapi.ESIMsQuery{PerPage: 7})
	wantStatus(t, "perPage 7", err, 400)

	e, err := c.ESIM(ctx, iccid)
	if err != nil {
		t.Fatal(err)
	}
	if e.ProfileStatus != esimapi.ProfileReleased || !e.FirstInstalled.IsZero() || e.AppleInstallURL == "" || e.AndroidInstallURL == "" || e.ProfileName != "Profile 1" {
		t.Errorf("ESIM before install = %+v", e)
	}
	if ac, err := e.ActivationCode(); err != nil || !strings.HasSuffix(e.AppleInstallURL, ac.String()) {
		t.Errorf("activation code %v (%v) does not end the Apple install URL %s", ac, err, e.AppleInstallURL)
	}
	if status, err := c.UpdateESIM(ctx, iccid, "customer-42"); err != nil || status != "success" {
		t.Errorf("UpdateESIM = %q, %v", status, err)
	}
	byRef, err := c.ListESIMs(ctx, esimapi.ESIMsQuery{FilterBy: "customerRef", Filter: "customer-42"})
	if err != nil || len(byRef.ESIMs) != 1 || byRef.ESIMs[0].CustomerRef != "customer-42" {
		t.Errorf("filter by customerRef = %+v, %v", byRef, err)
	}
	var seen []string
	for s, err := range c.AllESIMs(ctx, esimapi.ESIMsQuery{}) {
		if err != nil {
			t.Fatal(err)
		}
		seen = append(seen, s.ICCID)
	}
	if !cmp.Equal(seen, []string{iccid}) {
		t.Errorf("AllESIMs = %v", seen)
	}

	if ok, err := c.Compatible(ctx, iccid, "esim_3GB_30D_GB_V2"); err != nil || !ok {
		t.Errorf("Compatible(same profile) = %v, %v", ok, err)
	}
	if ok, err := c.Compatible(ctx, iccid, "esim_1GB_7D_US_V2"); err != nil || ok {
		t.Errorf("Compatible(other profile) = %v, %v", ok, err)
	}

	// A device installs it, attaches in GB and uses 600 MB.
	d, err := sb.Install(ctx, iccid, "")
	if err != nil || d.ProfileStatus != esimapi.ProfileInstalled || d.EID == "" || d.FirstInstalled.IsZero() {
		t.Fatalf("Install = %+v, %v", d, err)
	}
	if d, err = sb.Attach(ctx, iccid, esimapi.Where{Country: "GB"}); err != nil || d.Country != "GB" || d.MobileNetworkCode != "GBRME" {
		t.Fatalf("Attach = %+v, %v", d, err)
	}
	if d, err = sb.Use(ctx, iccid, 600_000_000, esimapi.Where{}); err != nil || d.BytesCharged != 600_000_000 {
		t.Fatalf("Use = %+v, %v", d, err)
	}
	e, err = c.ESIM(ctx, iccid)
	if err != nil || e.ProfileStatus != esimapi.ProfileInstalled || !e.FirstInstalled.Equal(time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("ESIM after install = %+v, %v", e, err)
	}
	loc, err := c.Location(ctx, iccid)
	if err != nil || loc.Country != "GB" || loc.MobileNetworkCode != "GBRME" || loc.LastSeen.IsZero() {
		t.Errorf("Location = %+v, %v", loc, err)
	}

	// Top up with a second bundle from a new order: it queues.
	if _, err := c.PlaceOrder(ctx, esimapi.OrderRequest{Assign: true, Lines: []esimapi.OrderLine{{Item: "esim_3GB_30D_GB_V2", Quantity: 1, ICCIDs: []string{iccid}}}}); err != nil {
		t.Fatal(err)
	}
	applied, err := c.ESIMBundles(ctx, iccid, esimapi.BundlesQuery{IncludeUsed: true, Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, b := range applied {
		for _, a := range b.Assignments {
			states[b.Name] = a.BundleState
		}
	}
	if diff := cmp.Diff(map[string]string{"esim_1GB_7D_GB_V2": esimapi.BundleActive, "esim_3GB_30D_GB_V2": esimapi.BundleQueued}, states); diff != "" {
		t.Errorf("bundle states (-want +got):\n%s", diff)
	}
	first, err := c.ESIMBundle(ctx, iccid, "esim_1GB_7D_GB_V2")
	if err != nil || len(first) != 1 {
		t.Fatalf("ESIMBundle = %+v, %v", first, err)
	}
	a := first[0]
	if a.InitialQuantity != 1_000_000_000 || a.RemainingQuantity != 400_000_000 || a.StartTime.IsZero() || a.EndTime.Sub(a.StartTime) != 7*24*time.Hour ||
		a.ID == "" || !strings.HasPrefix(a.AssignmentReference, o.OrderReference) || len(a.Allowances) != 1 || a.Allowances[0].Unit != "BYTES" {
		t.Errorf("assignment = %+v", a)
	}

	// Revoke the queued bundle: validate first, then back to inventory.
	status, err := c.RevokeBundle(ctx, iccid, "esim_3GB_30D_GB_V2", esimapi.RevokeOptions{Validate: true})
	if err != nil || !strings.Contains(status, "refunded to inventory") {
		t.Errorf("validate revoke = %q, %v", status, err)
	}
	queued, err := c.ESIMBundle(ctx, iccid, "esim_3GB_30D_GB_V2")
	if err != nil {
		t.Fatal(err)
	}
	status, err = c.RevokeAssignment(ctx, iccid, "esim_3GB_30D_GB_V2", queued[0].ID, esimapi.RevokeOptions{})
	if err != nil || status != "Successfully Revoked Bundle, bundle has been refunded to inventory" {
		t.Errorf("RevokeAssignment = %q, %v", status, err)
	}
	inv, err := c.Inventory(ctx)
	if err != nil || len(inv) != 1 || inv[0].Name != "esim_3GB_30D_GB_V2" || inv[0].Remaining() != 1 {
		t.Errorf("inventory after the revoke = %+v, %v", inv, err)
	}
	// Deprecated apply onto the eSIM, then revoke by name with a refund to balance.
	if status, err := c.ApplyToESIM(ctx, iccid, "esim_3GB_30D_GB_V2", 0); err != nil || status != "Successfully Applied Bundle" {
		t.Errorf("ApplyToESIM = %q, %v", status, err)
	}
	status, err = c.RevokeBundle(ctx, iccid, "esim_3GB_30D_GB_V2", esimapi.RevokeOptions{RefundToBalance: true})
	if err != nil || !strings.Contains(status, "refunded to balance") {
		t.Errorf("RevokeBundle to balance = %q, %v", status, err)
	}

	// SMS, refresh, suspension.
	if status, err := c.SendSMS(ctx, iccid, "Welcome!"); err != nil || status != "sent" {
		t.Errorf("SendSMS = %q, %v", status, err)
	}
	msgs, err := sb.SMS(ctx, iccid)
	if err != nil || len(msgs) != 1 || msgs[0].Message != "Welcome!" || msgs[0].From != "eSIM" {
		t.Errorf("sandbox SMS = %+v, %v", msgs, err)
	}
	_, err = c.SendSMS(ctx, iccid, strings.Repeat("x", 161))
	wantStatus(t, "SMS of 161 characters", err, 400)
	if status, err := c.RefreshESIM(ctx, iccid); err != nil || status != "Successfully refreshed SIM" {
		t.Errorf("RefreshESIM = %q, %v", status, err)
	}
	if status, err := c.Suspend(ctx, iccid); err != nil || status != "eSIM suspended successfully" {
		t.Errorf("Suspend = %q, %v", status, err)
	}
	if s, err := c.SuspendStatus(ctx, iccid); err != nil || !s {
		t.Errorf("SuspendStatus after Suspend = %v, %v", s, err)
	}
	if _, err := c.Resume(ctx, iccid); err != nil {
		t.Errorf("Resume: %v", err)
	}
	if s, err := c.SuspendStatus(ctx, iccid); err != nil || s {
		t.Errorf("SuspendStatus after Resume = %v, %v", s, err)
	}

	hist, err := c.History(ctx, iccid)
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, h := range hist {
		events = append(events, h.Name)
		if h.Date.IsZero() {
			t.Errorf("history entry %+v has no date", h)
		}
	}
	for _, want := range []string{"Bundle Applied", "eSIM First Attachment", "eSIM First Use", "eSIM Utilisation Alert", "eSIM Updated", "Bundle Revoked", "eSIM Refreshed"} {
		if !slices.Contains(events, want) {
			t.Errorf("history %v lacks %q", events, want)
		}
	}

	// Install data in all three forms.
	ref := []string{o.OrderReference}
	data, err := c.InstallData(ctx, ref)
	if err != nil || len(data) != 1 || data[0].ICCID != iccid || data[0].AndroidInstallURL == "" || data[0].FirstInstalled.IsZero() {
		t.Fatalf("InstallData = %+v, %v", data, err)
	}
	csv, err := c.InstallCSV(ctx, ref)
	// Fields are quoted only where CSV needs it: the header is bare.
	if err != nil || !bytes.HasPrefix(csv, []byte("ICCID,Matching ID,RSP URL,Bundle")) || !bytes.Contains(csv, []byte(iccid)) {
		t.Errorf("InstallCSV = %q, %v", csv, err)
	}
	zipped, err := c.InstallQRZip(ctx, ref)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(zipped), int64(len(zipped)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open(iccid + ".png")
	if err != nil {
		t.Fatalf("ZIP lacks %s.png: %v", iccid, err)
	}
	if _, err := png.Decode(f); err != nil {
		t.Errorf("QR PNG: %v", err)
	}
	f.Close()

	// The clock: the first bundle expires a week after it started. The
	// expiry is done when Advance returns; the harness's background worker
	// may be the one that ran it (DueItemsRun then counts 0), so the test
	// checks the bundle's state below, not the count.
	k, err := sb.Advance(ctx, 8*24*time.Hour)
	if err != nil || k.Offset != 8*24*time.Hour || k.DueItemsRun < 0 {
		t.Fatalf("Advance = %+v, %v", k, err)
	}
	if k2, err := sb.Clock(ctx); err != nil || !k2.Now.Equal(k.Now) {
		t.Errorf("Clock = %+v, %v; want %v", k2, err, k.Now)
	}
	if _, err := sb.AdvanceTo(ctx, k.Now.Add(-time.Hour)); !esimapi.IsInvalid(err) {
		t.Errorf("AdvanceTo the past: %v, want 400", err)
	}
	first, err = c.ESIMBundle(ctx, iccid, "esim_1GB_7D_GB_V2")
	if err != nil || first[0].BundleState != esimapi.BundleExpired {
		t.Errorf("after 8 days: %+v, %v", first, err)
	}

	// Every notification so far, typed.
	cbs, err := sb.Callbacks(ctx, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	for _, cb := range cbs {
		n, err := cb.Notification()
		if err != nil {
			t.Fatalf("callback %d (%s): %v\n%s", cb.ID, cb.Kind, err, cb.Payload)
		}
		if n.Type() != cb.Kind {
			t.Errorf("callback %d kind %s parsed as %s", cb.ID, cb.Kind, n.Type())
		}
		switch n := n.(type) {
		case *esimapi.UtilisationNotification:
			if n.ICCID != iccid || n.Bundle.Name != "esim_1GB_7D_GB_V2" || n.Bundle.ID != a.ID || n.Bundle.Reference != a.AssignmentReference || n.Percentage == 0 {
				t.Errorf("utilisation %+v", n)
			}
		case *esimapi.FirstUseNotification:
			if n.Bundle.StartTime.IsZero() || n.Bundle.InitialQuantity != 1_000_000_000 {
				t.Errorf("first use %+v", n)
			}
		case *esimapi.CountryChangeNotification:
			if n.Country.Code != "GB" {
				t.Errorf("country change %+v", n)
			}
		case *esimapi.ProfileStatusChangeNotification:
			if n.Device == nil || n.Device.EID != d.EID || n.Date.IsZero() {
				t.Errorf("profile status change %+v", n)
			}
		case *esimapi.UnknownNotification:
			t.Errorf("callback %s not recognised: %s", cb.Kind, n.Raw)
		}
		kinds[n.Type()]++
	}
	for _, k := range []string{"ProfileStatusChange", "FirstAttachment", "CountryChange", "FirstUse", "Utilisation"} {
		if kinds[k] == 0 {
			t.Errorf("no %s callback in %v", k, kinds)
		}
	}
	if later, err := sb.Callbacks(ctx, cbs[len(cbs)-1].ID, 10); err != nil || len(later) != 0 {
		t.Errorf("callbacks after the last = %v, %v", later, err)
	}

	// Uninstall, faults, autopilot.
	if d, err := sb.Uninstall(ctx, iccid); err != nil || d.ProfileStatus != esimapi.ProfileReleased {
		t.Errorf("Uninstall = %+v, %v", d, err)
	}
	f1, err := sb.AddFault(ctx, esimapi.Fault{Method: "GET", Path: "/organisation", Status: 500, Count: 1, Latency: 10 * time.Millisecond})
	if err != nil || f1.ID == 0 || f1.Latency != 10*time.Millisecond || f1.Probability != 1 {
		t.Fatalf("AddFault = %+v, %v", f1, err)
	}
	if fs, err := sb.Faults(ctx); err != nil || len(fs) != 1 {
		t.Errorf("Faults = %+v, %v", fs, err)
	}
	_, err = c.Organisation(ctx)
	wantStatus(t, "injected fault", err, 500)
	if _, err := c.Organisation(ctx); err != nil {
		t.Errorf("after the one injected fault: %v", err)
	}
	if _, err := sb.AddFault(ctx, esimapi.Fault{Path: "/catalogue", Status: 503}); err != nil {
		t.Fatal(err)
	}
	if err := sb.ClearFaults(ctx); err != nil {
		t.Fatal(err)
	}
	if fs, err := sb.Faults(ctx); err != nil || len(fs) != 0 {
		t.Errorf("Faults after ClearFaults = %+v, %v", fs, err)
	}
	if ap, err := sb.SetAutopilot(ctx, esimapi.Autopilot{Enabled: true, BytesPerHour: 1_000_000}); err != nil || !ap.Enabled {
		t.Errorf("SetAutopilot = %+v, %v", ap, err)
	}
	if ap, err := sb.Autopilot(ctx); err != nil || ap.BytesPerHour != 1_000_000 {
		t.Errorf("Autopilot = %+v, %v", ap, err)
	}
	if st, err := sb.SetSettings(ctx, esimapi.SandboxSettings{ProvisioningDelay: 90 * time.Second}); err != nil || st.ProvisioningDelay != 90*time.Second {
		t.Errorf("SetSettings = %+v, %v", st, err)
	}
	if st, err := sb.Settings(ctx); err != nil || st.ProvisioningDelay != 90*time.Second {
		t.Errorf("Settings = %+v, %v", st, err)
	}
	_, err = sb.SetSettings(ctx, esimapi.SandboxSettings{ProvisioningDelay: time.Hour})
	wantStatus(t, "an hour's provisioning delay", err, 400)
	if _, err := sb.SetSettings(ctx, esimapi.SandboxSettings{}); err != nil {
		t.Fatal(err)
	}

	// Delete: install data is gone (410) and the eSIM is deactivated.
	if status, err := c.DeleteESIM(ctx, iccid); err != nil || status == "" {
		t.Errorf("DeleteESIM = %q, %v", status, err)
	}
	_, err = c.InstallData(ctx, ref)
	wantStatus(t, "install data of a deleted eSIM", err, 410)
	e, err = c.ESIM(ctx, iccid)
	if err != nil || e.State != esimapi.StateDeactivated {
		t.Errorf("ESIM after delete = %+v, %v", e, err)
	}
	_, err = c.ESIM(ctx, "12345")
	wantStatus(t, "short ICCID", err, 400)
	_, err = c.ESIM(ctx, "8944538532008160222")
	wantStatus(t, "someone else's ICCID", err, 403)

	// Reset: back to the starting balance, no eSIMs.
	if err := sb.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	org, err := c.Organisation(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantMoney(t, "balance after reset", org.Balance, "250.5")
	if l, err := c.ListESIMs(ctx, esimapi.ESIMsQuery{}); err != nil || len(l.ESIMs) != 0 {
		t.Errorf("eSIMs after reset = %+v, %v", l, err)
	}
}

func TestContractOldVersions(t *testing.T) {
	ts := newTestServer(t)
	ctx := t.Context()
	c := ts.client(t)
	o, err := c.PlaceOrder(ctx, esimapi.OrderRequest{Assign: true, Lines: []esimapi.OrderLine{{Item: "esim_1GB_7D_GB_V2", Quantity: 1}}})
	if err != nil {
		t.Fatal(err)
	}
	iccid := o.ICCIDs()[0]
	for _, v := range []string{"v2.2", "v2.3", "v2.4"} {
		old := ts.client(t, esimapi.WithVersion(v))
		hist, err := old.History(ctx, iccid)
		if err != nil || len(hist) == 0 || hist[0].BundleName != "esim_1GB_7D_GB_V2" {
			t.Errorf("%s History = %+v, %v", v, hist, err)
		}
		e, err := old.ESIM(ctx, iccid)
		if err != nil || e.AppleInstallURL == "" {
			t.Errorf("%s ESIM = %+v, %v", v, e, err)
		}
	}
	if _, err := ts.client(t, esimapi.WithVersion("v2.4")).Suspend(ctx, iccid); !esimapi.IsForbidden(err) {
		t.Errorf("suspend on v2.4 (a v2.5 route): %v, want 403", err)
	}
}

func TestContractContextCancelled(t *testing.T) {
	ts := newTestServer(t)
	c := ts.client(t)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := c.Organisation(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}
