package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
	"github.com/esimd/esimd/internal/store"
)

// credit writes one ledger entry of amount units in the transaction in ctx.
func credit(ctx context.Context, t *testing.T, db *store.DB, org orgs.ID, units int64, ref string) error {
	e := orgs.LedgerEntry{OrgID: org, Kind: orgs.LedgerCredit, Amount: money.Amount(units) * money.Scale, Reference: ref, CreatedAt: time.Now()}
	return db.AddLedgerEntry(ctx, &e)
}

// TestConcurrentTransactionsSucceedAndFailAlone runs many use cases at
// once, every third of which fails after writing and one of which panics:
// whatever their transactions shared (a commit group on SQLite), exactly
// the successful ones are written, each caller hears its own outcome, and
// the panic reaches its own caller only.
func TestConcurrentTransactionsSucceedAndFailAlone(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	o := newOrg(t, db)
	const n = 90
	failed := errors.New("refused after writing")
	errs := make([]error, n)
	panicked := make([]any, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { panicked[i] = recover() }()
			errs[i] = db.InTx(ctx, func(ctx context.Context) error {
				if err := credit(ctx, t, db, o.ID, 1, fmt.Sprint(i)); err != nil {
					return err
				}
				switch {
				case i == 7:
					panic("use case 7 panics")
				case i%3 == 0:
					return failed
				}
				return nil
			})
		}()
	}
	wg.Wait()
	want := money.Amount(0)
	for i := range n {
		switch {
		case i == 7:
			if panicked[i] != "use case 7 panics" {
				t.Errorf("use case 7: recovered %v, want its panic", panicked[i])
			}
		case panicked[i] != nil:
			t.Errorf("use case %d panicked with %v", i, panicked[i])
		case i%3 == 0:
			if !errors.Is(errs[i], failed) {
				t.Errorf("use case %d: %v, want its own error", i, errs[i])
			}
		default:
			if errs[i] != nil {
				t.Errorf("use case %d: %v", i, errs[i])
			}
			want += money.Scale
		}
	}
	got, err := db.Organisation(ctx, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	entries, err := db.LedgerEntries(ctx, o.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got.Balance != want || money.Amount(len(entries))*money.Scale != want {
		t.Fatalf("balance %s over %d entries; want %s, one entry per successful use case", got.Balance, len(entries), want)
	}
	for _, e := range entries {
		var i int
		if _, err := fmt.Sscan(e.Reference, &i); err != nil || i%3 == 0 || i == 7 {
			t.Errorf("entry %q written by a use case that failed", e.Reference)
		}
	}
}

// TestGroupCommitSharesCommits checks that on SQLite use cases queued behind
// a running one commit with it, and that a caller still sees its write
// committed (from the reader pool) as soon as InTx returns.
func TestGroupCommitSharesCommits(t *testing.T) {
	db := openDB(t)
	if db.Engine() != store.EngineSQLite {
		t.Skip("group commit is SQLite's; PostgreSQL runs transactions side by side")
	}
	ctx := context.Background()
	o := newOrg(t, db)
	groups0, members0 := store.GroupStats(db)
	// The first use case holds the writer until the others are queued.
	release := make(chan struct{})
	started := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_ = db.InTx(ctx, func(ctx context.Context) error {
			close(started)
			<-release
			return credit(ctx, t, db, o.ID, 1, "first")
		})
	}()
	<-started
	const queued = 20
	for i := range queued {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := db.InTx(ctx, func(ctx context.Context) error { return credit(ctx, t, db, o.ID, 1, fmt.Sprint(i)) }); err != nil {
				t.Error(err)
				return
			}
			// Committed before InTx returned: a reader sees it.
			entries, err := db.LedgerEntries(ctx, o.ID, 0, 1000)
			if err != nil {
				t.Error(err)
			}
			found := false
			for _, e := range entries {
				found = found || e.Reference == fmt.Sprint(i)
			}
			if !found {
				t.Errorf("use case %d returned before its write was visible", i)
			}
		}()
	}
	time.Sleep(300 * time.Millisecond) // let the others queue behind the first
	close(release)
	wg.Wait()
	groups, members := store.GroupStats(db)
	groups, members = groups-groups0, members-members0
	if members != queued+1 || groups >= members || groups < 1 {
		t.Fatalf("%d use cases ran in %d groups; want %d in fewer groups than use cases", members, groups, queued+1)
	}
}

// TestQueuedTransactionWithdrawnWhenCallerGivesUp checks that a use case
// whose caller's context ends while it waits for the writer never runs.
func TestQueuedTransactionWithdrawnWhenCallerGivesUp(t *testing.T) {
	db := openDB(t)
	if db.Engine() != store.EngineSQLite {
		t.Skip("only SQLite queues use cases for one writer")
	}
	ctx := context.Background()
	release := make(chan struct{})
	started := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- db.InTx(ctx, func(ctx context.Context) error {
			close(started)
			<-release
			return nil
		})
	}()
	<-started
	gone, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	ran := false
	err := db.InTx(gone, func(ctx context.Context) error { ran = true; return nil })
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !errors.Is(err, context.DeadlineExceeded) || ran {
		t.Fatalf("InTx after the caller gave up = %v (ran: %v); want the deadline's error and nothing run", err, ran)
	}
}

// TestTransactionPreparesAStatementOnce checks that a statement first met
// inside a transaction is prepared there once, however often it runs: each
// prepared statement holds connection memory until the transaction ends.
func TestTransactionPreparesAStatementOnce(t *testing.T) {
	db := openDB(t)
	ctx := context.Background()
	o := newOrg(t, db)
	err := db.InTx(ctx, func(ctx context.Context) error {
		for i := range 500 {
			if err := credit(ctx, t, db, o.ID, 1, fmt.Sprint(i)); err != nil {
				return err
			}
		}
		local, missed := store.TxPrepared(ctx)
		if missed > local || local > 10 {
			t.Errorf("500 ledger entries prepared %d statements in the transaction (%d noted for the pool); want each once", local, missed)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
