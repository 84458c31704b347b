package orgs_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/storetest"
)

func newService(t *testing.T) *orgs.Service {
	t.Helper()
	db, _ := storetest.New(t)
	return orgs.NewService(db, func() time.Time { return time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC) })
}

func TestCreateCreditsThroughLedgerAndIssuesKey(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	o, key, err := s.Create(ctx, orgs.NewOrganisation{Name: " Acme ", Currency: "eur", StartingBalance: money.MustParse("99.99")})
	if err != nil {
		t.Fatal(err)
	}
	if o.Name != "Acme" || o.Currency != "EUR" || o.Balance != money.MustParse("99.99") || o.CallbackVersion != "V3" || o.RefundWindowDays != 60 {
		t.Errorf("created %+v", o)
	}
	if !strings.HasPrefix(key, "esimd_") || len(key) != len("esimd_")+52 {
		t.Errorf("key %q: want esimd_ and 52 base32 characters", key)
	}
	entries, err := s.Ledger(ctx, o.ID, 0, 10)
	if err != nil || len(entries) != 1 || entries[0].Kind != orgs.LedgerCredit || entries[0].BalanceAfter != o.Balance {
		t.Fatalf("ledger = %+v, %v; want one credit row", entries, err)
	}
	got, err := s.Authenticate(ctx, key)
	if err != nil || got.ID != o.ID {
		t.Fatalf("Authenticate = %v, %v", got.ID, err)
	}
	for _, bad := range []string{"", key + " ", strings.ToUpper(key), key[:len(key)-1], strings.Repeat("x", 300)} {
		if _, err := s.Authenticate(ctx, bad); !fault.Is(err, fault.Unauthenticated) {
			t.Errorf("Authenticate(%q) = %v, want Unauthenticated", bad, err)
		}
	}
}

func TestCreateValidates(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	for _, n := range []orgs.NewOrganisation{
		{Name: ""},
		{Name: strings.Repeat("n", 201)},
		{Name: "A", Currency: "US"},
		{Name: "A", Currency: "U$D"},
		{Name: "A", CallbackVersion: "V4"},
		{Name: "A", CallbackURL: "ftp://example.com/x"},
		{Name: "A", CallbackURL: "not a url"},
		{Name: "A", StartingBalance: -1},
		{Name: "A", RefundWindowDays: -5},
		{Name: "A", APIKey: "short"},
		{Name: "A", APIKey: "has a space in it!!"},
	} {
		if _, _, err := s.Create(ctx, n); !fault.Is(err, fault.Invalid) {
			t.Errorf("Create(%+v) = %v, want Invalid", n, err)
		}
	}
	list, _ := s.List(ctx)
	if len(list) != 0 {
		t.Fatalf("%d organisations written by invalid creates", len(list))
	}
}

func TestFixedKeyMustBeUnique(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	if _, _, err := s.Create(ctx, orgs.NewOrganisation{Name: "A", APIKey: "fixed-key-0123456789"}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Create(ctx, orgs.NewOrganisation{Name: "B", APIKey: "fixed-key-0123456789"}); !fault.Is(err, fault.Conflict) {
		t.Fatalf("second org with the same key: %v, want Conflict", err)
	}
	if list, _ := s.List(ctx); len(list) != 1 {
		t.Fatalf("%d organisations; the failed create must write nothing", len(list))
	}
}

func TestUpdateAndCurrencyLock(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	empty, _, _ := s.Create(ctx, orgs.NewOrganisation{Name: "Empty"})
	eur := "EUR"
	if o, err := s.Update(ctx, empty.ID, orgs.Update{Currency: &eur}); err != nil || o.Currency != "EUR" {
		t.Fatalf("currency change with an empty ledger: %+v, %v", o, err)
	}
	funded, _, _ := s.Create(ctx, orgs.NewOrganisation{Name: "Funded", StartingBalance: 10 * money.Scale})
	if _, err := s.Update(ctx, funded.ID, orgs.Update{Currency: &eur}); !fault.Is(err, fault.Invalid) {
		t.Fatalf("currency change with ledger entries: %v, want Invalid", err)
	}
	url, v := "https://hooks.example.com/x", "V2"
	o, err := s.Update(ctx, funded.ID, orgs.Update{CallbackURL: &url, CallbackVersion: &v})
	if err != nil || o.CallbackURL != url || o.CallbackVersion != "V2" || o.Balance != 10*money.Scale {
		t.Fatalf("update = %+v, %v", o, err)
	}
	if _, err := s.Update(ctx, 999, orgs.Update{}); !fault.Is(err, fault.NotFound) {
		t.Fatalf("update of unknown organisation: %v", err)
	}
}

func TestCredit(t *testing.T) {
	s := newService(t)
	ctx := context.Background()
	o, _, _ := s.Create(ctx, orgs.NewOrganisation{Name: "A", StartingBalance: 5 * money.Scale})
	if _, err := s.Credit(ctx, o.ID, orgs.LedgerTopup, -money.Scale, "", ""); !fault.Is(err, fault.Invalid) {
		t.Errorf("negative top-up: %v", err)
	}
	if _, err := s.Credit(ctx, o.ID, orgs.LedgerAdjustment, -6*money.Scale, "", ""); !fault.Is(err, fault.Invalid) {
		t.Errorf("adjustment below zero: %v", err)
	}
	e, err := s.Credit(ctx, o.ID, orgs.LedgerAdjustment, -2*money.Scale, "", "correction")
	if err != nil || e.BalanceAfter != 3*money.Scale {
		t.Fatalf("adjustment: %+v, %v", e, err)
	}
	if _, err := s.Credit(ctx, 42, orgs.LedgerTopup, money.Scale, "", ""); !fault.Is(err, fault.NotFound) {
		t.Errorf("credit unknown organisation: %v", err)
	}
}

// TestAuthenticationCache: a key is trusted for AuthCacheTTL without asking
// the database, and a revocation through the service takes effect at once.
func TestAuthenticationCache(t *testing.T) {
	db, _ := storetest.New(t)
	s := orgs.NewService(db, time.Now)
	ctx := context.Background()
	o, key, err := s.Create(ctx, orgs.NewOrganisation{Name: "A"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, key); err != nil {
		t.Fatal(err)
	}
	keys, _ := s.APIKeys(ctx, o.ID)
	// Revoked behind the service's back (as another node would): the cache
	// still answers within the TTL, then the database does.
	if err := db.RevokeAPIKey(ctx, o.ID, keys[0].ID, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, key); err != nil {
		t.Fatalf("within the TTL: %v, want the cached answer", err)
	}
	time.Sleep(orgs.AuthCacheTTL + 50*time.Millisecond)
	if _, err := s.Authenticate(ctx, key); !fault.Is(err, fault.Unauthenticated) {
		t.Fatalf("after the TTL: %v, want Unauthenticated", err)
	}
	// Through the service, a revocation is immediate.
	k2, key2, err := s.CreateAPIKey(ctx, o.ID, "second")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, key2); err != nil {
		t.Fatal(err)
	}
	if err := s.RevokeAPIKey(ctx, o.ID, k2.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Authenticate(ctx, key2); !fault.Is(err, fault.Unauthenticated) {
		t.Fatalf("right after RevokeAPIKey: %v, want Unauthenticated", err)
	}
}
