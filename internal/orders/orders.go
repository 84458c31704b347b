// Package orders is buying and moving bundles: orders (validate or
// transaction, into inventory or onto eSIMs), inventory batches and their
// refunds, applying inventory to eSIMs, revokes with refunds, and balance
// top-ups. Every money movement is a ledger row written in the transaction
// of its use case.
package orders

import (
	"context"
	"time"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/notify"
	"github.com/esimd/esimd/internal/orgs"
)

// Order kinds.
const (
	KindOrder            = "order"
	KindBundleAssignment = "bundleAssignment"
	KindTopup            = "topup"
)

// Order statuses.
const (
	StatusProcessing = "processing"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
)

// Line types.
const (
	LineBundle           = "bundle"
	LineBundleAssignment = "bundleAssignment"
	LineAPITopup         = "apiTopup"
)

// InventoryExpiry is when unused inventory bought at bought expires: 12
// calendar months later, as documented (notes §5.2), not 365 days.
func InventoryExpiry(bought time.Time) time.Time { return bought.AddDate(0, 12, 0) }

// AsyncThreshold: orders and applies of more than this many bundles are
// processed in the background (notes §1.8).
const AsyncThreshold = 5

// Order is a purchase, an apply (bundleAssignment) or a top-up.
type Order struct {
	ID             int64
	OrgID          orgs.ID
	Reference      string
	Kind           string
	Status         string
	StatusMessage  string
	Assigned       bool
	Total          money.Amount
	Currency       string
	SourceIP       string
	RunningBalance money.Amount
	ProfileID      string
	CreatedAt      time.Time
	CompletedAt    *time.Time
	Lines          []Line
}

// unitWork is about what assigning one bundle in the background costs,
// with room to spare: PostgreSQL on a 2-core machine assigns about 700 new
// eSIMs a second, SQLite several times more (BENCHMARKS.md).
const unitWork = 2 * time.Millisecond

// Units is the number of bundles the order assigns (an apply line is one).
func (o *Order) Units() int {
	n := 0
	for _, l := range o.Lines {
		n += max(l.Quantity, 1)
	}
	return n
}

// EstimatedWork is how long the background assignment of a processing
// order takes: it runs in one transaction, so all of its bundles.
func (o *Order) EstimatedWork() time.Duration { return time.Duration(o.Units()) * unitWork }

// Line is one line of an order.
type Line struct {
	ID            int64
	No            int
	Type          string
	Item          string
	Quantity      int
	PricePerUnit  money.Amount
	SubTotal      money.Amount
	AllowReassign bool
	// Requested is what asynchronous processing needs: for order lines the
	// ICCIDs asked for, for apply lines the unit to assign.
	Requested []string
}

// Batch is one purchase of bundles into inventory; its ID is eSIM Go's
// usageId.
type Batch struct {
	ID          int64
	OrgID       orgs.ID
	BundleName  string
	OrderID     int64
	Total       int
	Remaining   int
	Price       money.Amount // per unit
	PurchasedAt time.Time
	ExpiresAt   time.Time
}

// Query selects orders for GET /orders.
type Query struct {
	Page, Limit int
	CreatedAt   []TimeFilter
}

// TimeFilter is one createdAt=op:value condition.
type TimeFilter struct {
	Op string // eq, lt, lte, gt, gte
	At time.Time
}

// Store is what orders need from the database, beyond the eSIM engine's.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	// Gate holds the node-local gate called name until the transaction in
	// ctx has ended (committed or rolled back, before any retry).
	Gate(ctx context.Context, name string)
	// AfterTx runs fn once the transaction in ctx has ended (at once
	// without one).
	AfterTx(ctx context.Context, fn func())
	Organisation(ctx context.Context, id orgs.ID) (orgs.Organisation, error)
	AddLedgerEntry(ctx context.Context, e *orgs.LedgerEntry) error
	InsertOrder(ctx context.Context, o *Order) error
	// UpdateOrder writes an order's status and running balance.
	UpdateOrder(ctx context.Context, o *Order) error
	OrderByReference(ctx context.Context, org orgs.ID, ref string) (Order, error)
	OrderByID(ctx context.Context, id int64) (Order, error)
	ListOrders(ctx context.Context, org orgs.ID, q Query) ([]Order, int, error)
	InsertBatch(ctx context.Context, b *Batch) error
	Batch(ctx context.Context, id int64) (Batch, error)
	// Batches lists an organisation's batches with units left that have not
	// expired at now, oldest first; bundle "" means every bundle.
	Batches(ctx context.Context, org orgs.ID, bundle string, now time.Time) ([]Batch, error)
	// AdjustBatch adds delta to a batch's remaining units if the result stays
	// within 0…total. Errors: Invalid otherwise.
	AdjustBatch(ctx context.Context, id int64, delta int) error
	TopupsSince(ctx context.Context, org orgs.ID, since time.Time) (money.Amount, error)
	// LatestLedgerID is the ID of the organisation's newest positive ledger
	// entry of one of the kinds, 0 when there is none.
	LatestLedgerID(ctx context.Context, org orgs.ID, kinds ...orgs.LedgerKind) (int64, error)
	// CountInsufficientBalance counts a refusal in the organisation's
	// running episode, which a newer ledger mark restarts, and returns the
	// episode's count (1 for its first).
	CountInsufficientBalance(ctx context.Context, org orgs.ID, mark int64) (int, error)
	// ScheduleDue queues work for the due-work runner (background orders
	// and applies).
	ScheduleDue(ctx context.Context, d esims.DueItem) error
	// CallbackSettings holds the organisation's LowBalance threshold.
	CallbackSettings(ctx context.Context, org orgs.ID) (notify.Settings, error)
	// AssignmentsOfESIM lists an eSIM's assignments (revoke reads them).
	AssignmentsOfESIM(ctx context.Context, esimID int64) ([]esims.Assignment, error)
	// Savepoint runs fn so that its failure undoes only its own writes.
	Savepoint(ctx context.Context, fn func(ctx context.Context) error) error
}
