// Package esims is the eSIM lifecycle engine: the profile pool, eSIMs and
// their bundle assignments, the one function every usage record runs
// through, and the time-driven transitions (expiry, lapse, inactivity
// deletion). It has no HTTP in it; the eSIM Go surface and the sandbox
// drive it.
package esims

import (
	"context"
	"time"

	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

// Profile statuses (eSIM Go's profileStatus).
const (
	ProfileReleased    = "Released"
	ProfileDownloaded  = "Downloaded"
	ProfileInstalled   = "Installed"
	ProfileUnavailable = "Unavailable"
	ProfileDeactivated = "Deactivated"
)

// eSIM states (v2.5 state).
const (
	StateActive      = "active"
	StateSuspended   = "suspended"
	StateDeactivated = "deactivated"
)

// Assignment states (bundleState).
type BundleState string

const (
	BundleProcessing BundleState = "processing"
	BundleQueued     BundleState = "queued"
	BundleActive     BundleState = "active"
	BundleDepleted   BundleState = "depleted"
	BundleExpired    BundleState = "expired"
	BundleRevoked    BundleState = "revoked"
	BundleLapsed     BundleState = "lapsed"
)

// Ended reports whether an assignment in this state can never be used again.
func (s BundleState) Ended() bool {
	switch s {
	case BundleDepleted, BundleExpired, BundleRevoked, BundleLapsed:
		return true
	}
	return false
}

// History event names (GET /esims/{iccid}/history).
const (
	HistBundleApplied       = "Bundle Applied"
	HistESIMUpdated         = "eSIM Updated"
	HistESIMRefreshed       = "eSIM Refreshed"
	HistUtilisationAlert    = "eSIM Utilisation Alert"
	HistBundleRefundBalance = "Bundle Refunded To Balance"
	HistBundleRefundInv     = "Bundle Refunded to Inventory"
	HistBundleRevoked       = "Bundle Revoked"
	HistFirstAttachment     = "eSIM First Attachment"
	HistFirstUse            = "eSIM First Use"
	HistBundleExpired       = "Bundle Expired"
	HistBundleLapsed        = "Bundle Lapsed"
	HistBundleDepleted      = "Bundle Depleted"
	HistESIMSuspended       = "eSIM Suspended"
	HistESIMUnsuspended     = "eSIM Unsuspended"
	HistESIMDeleted         = "eSIM Deleted"
	HistDeletionScheduled   = "eSIM Deletion Scheduled"
	HistProfileStatus       = "Profile Status Change"
	HistSMSSent             = "SMS Sent"
	HistESIMReturned        = "eSIM Returned"
	HistESIMGivenBack       = "eSIM Given Back"
)

// LapsesAt is when a bundle assigned at assigned lapses if never started:
// 12 calendar months later (notes §3.1).
func LapsesAt(assigned time.Time) time.Time { return assigned.AddDate(0, 12, 0) }

// Rules with numbers in them (notes §3.1, §5.2, §5.5).
const (
	ReturnsHold         = 4 * 24 * time.Hour   // a returned eSIM comes back if installed within 4 days
	InactivityDeletion  = 180 * 24 * time.Hour // no bundle applied or used for 180 days → deletion scheduled
	DeletionGrace       = 7 * 24 * time.Hour   // then 7 days to apply a bundle before the eSIM is deleted
	CountryChangeWindow = 24 * time.Hour       // CountryChange is not re-sent for a country seen within 24 h
)

// ESIM is one eSIM of an organisation.
type ESIM struct {
	ID               int64
	OrgID            orgs.ID
	ICCID            string // validated with esimid at the edges; stored as digits
	MatchingID       string
	SMDPAddress      string
	PIN, PUK         string
	Profile          string // network profile, "Profile 1"
	ProfileStatus    string
	State            string
	CustomerRef      string
	MSISDN           string
	EID              string
	BrandingID       string
	FirstInstalledAt *time.Time
	FirstAttachedAt  *time.Time
	LastAction       string
	LastActionAt     time.Time
	AssignedAt       time.Time
	Location         Location
	CountriesSeen    map[string]time.Time // ISO → last CountryChange sent
	LastActivityAt   time.Time
	DeletionDueAt    *time.Time
	// ReturnedAt is set while the eSIM is in the returns process: out of the
	// organisation's account until given back or retired.
	ReturnedAt *time.Time
}

// Location is the last network the eSIM registered on.
type Location struct {
	Country     string // ISO 3166 alpha-2
	MCC, MNC    string
	TADIG       string
	NetworkName string
	Brand       string
	LastSeen    *time.Time
}

// Assignment is one bundle applied to an eSIM.
type Assignment struct {
	ID             int64
	OrgID          orgs.ID
	ESIMID         int64
	ICCID          string // filled on reads for convenience
	OrderID        int64
	Reference      string // <order or apply reference>-<n>
	BundleName     string
	Description    string
	Profile        string
	State          BundleState
	Unlimited      bool
	InitialBytes   int64
	RemainingBytes int64
	// Voice minutes and SMS of bundles with those allowances; zero otherwise.
	InitialMinutes, RemainingMinutes int64
	InitialSMS, RemainingSMS         int64
	DurationDays                     int
	Autostart                        bool
	Price                            money.Amount // what the organisation paid for it
	BatchID                          *int64       // the inventory batch it came from, for refunds to inventory
	AssignedAt                       time.Time
	// StartAt is when a bundle that does not start automatically starts
	// (the deprecated apply's startTime); nil: on first use.
	StartAt   *time.Time
	StartedAt *time.Time
	EndsAt    *time.Time
	LapsesAt  time.Time
	// EndedAt is when the assignment stopped being usable: depleted,
	// expired, revoked or lapsed. A depleted bundle keeps it when it
	// expires later.
	EndedAt    *time.Time
	Used       bool
	AlertsSent uint16
}

// HistoryEntry is one line of an eSIM's history.
type HistoryEntry struct {
	Name       string
	BundleName string
	AlertType  string
	At         time.Time
}

// Event is a notification written to the outbox in the transaction of the
// change that caused it; the callbacks worker delivers it.
type Event struct {
	ID      int64
	OrgID   orgs.ID
	ICCID   string
	Kind    string // alertType or event name: Utilisation, FirstUse, esim.deleted …
	Payload events.Payload
	At      time.Time
}

// DueItem is time-driven work.
type DueItem struct {
	ID        int64
	OrgID     orgs.ID
	Kind      string
	SubjectID int64
	DueAt     time.Time // in the organisation's time
}

// Due work kinds.
const (
	DueBundleExpiry    = "bundle.expire"
	DueBundleLapse     = "bundle.lapse"
	DueBundleProvision = "bundle.provision" // processing → queued when the SM-DP+ is done
	DueBundleStart     = "bundle.start"     // a bundle's scheduled start (startTime)
	DueInactivity      = "esim.inactivity"
	DueDeletion        = "esim.delete"
	DueOrderAssign     = "order.assign" // an asynchronous order (orders package)
	DueApplyAssign     = "apply.assign" // an asynchronous apply (orders package)
	DueReturnCheck     = "esim.return"  // the end of an eSIM's returns process
)

// PoolProfile is a profile ready to become an eSIM.
type PoolProfile struct {
	ICCID       string
	MatchingID  string
	SMDPAddress string
	PIN, PUK    string
	Profile     string
}

// ListQuery selects eSIMs for GET /esims.
type ListQuery struct {
	Page, PerPage int
	Descending    bool
	FilterBy      string // iccid, customerRef, lastAction, actionDate, assignedDate
	Op            string // eq, like, lt, lte, gt, gte
	Value         string
	TimeValue     time.Time
}

// SMS is a message sent to an eSIM.
type SMS struct {
	ID      int64
	Sender  string
	Message string
	At      time.Time
}

// Store is what the engine needs from the database. Every method joins the
// transaction in ctx.
type Store interface {
	// RequireTx fails (Internal) unless ctx holds a write transaction:
	// the methods documented "in the caller's transaction" check it.
	RequireTx(ctx context.Context, what string) error
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	NextCounter(ctx context.Context, name string, n int64) (first int64, err error)
	ClaimPoolProfiles(ctx context.Context, profile string, n int) ([]PoolProfile, error)
	InsertPoolProfiles(ctx context.Context, ps []PoolProfile, at time.Time) (int, error)
	InsertESIM(ctx context.Context, e *ESIM) error
	UpdateESIM(ctx context.Context, e *ESIM) error
	ESIMByICCID(ctx context.Context, org orgs.ID, iccid string) (ESIM, error)
	ESIMByICCIDAnyOrg(ctx context.Context, iccid string) (ESIM, error)
	ESIMByID(ctx context.Context, id int64) (ESIM, error)
	ListESIMs(ctx context.Context, org orgs.ID, q ListQuery) ([]ESIM, int, error)
	InsertAssignment(ctx context.Context, a *Assignment) error
	UpdateAssignment(ctx context.Context, a *Assignment) error
	Assignment(ctx context.Context, id int64) (Assignment, error)
	AssignmentsOfESIM(ctx context.Context, esimID int64) ([]Assignment, error)
	AssignmentsOfOrder(ctx context.Context, orderID int64) ([]Assignment, error)
	AddHistory(ctx context.Context, esimID int64, h HistoryEntry) error
	History(ctx context.Context, esimID int64) ([]HistoryEntry, error)
	AddEvent(ctx context.Context, e *Event) error
	Events(ctx context.Context, org orgs.ID, afterID int64, limit int) ([]Event, error)
	// ProvisioningDelay is how long the built-in SM-DP+ takes to provision
	// a sandbox organisation's assignments (zero unless set).
	ProvisioningDelay(ctx context.Context, org orgs.ID) (time.Duration, error)
	ScheduleDue(ctx context.Context, d DueItem) error
	CancelDue(ctx context.Context, kind string, subjectID int64) error
	DueItems(ctx context.Context, wall time.Time, org orgs.ID, limit int) ([]DueItem, error)
	DeleteDue(ctx context.Context, id int64) error
	AddSMS(ctx context.Context, esimID int64, s *SMS) error
	SMSOf(ctx context.Context, esimID int64) ([]SMS, error)
	// Savepoint runs fn so that its failure undoes only its own writes.
	Savepoint(ctx context.Context, fn func(ctx context.Context) error) error
	// RecordUsage marks a network usage record as applied; Conflict when it
	// was applied before.
	RecordUsage(ctx context.Context, org orgs.ID, recordID, iccid string, bytes int64, usedAt, appliedAt time.Time) error

	// The set-based forms an ingest batch uses (see usageBatch).
	ESIMsByICCIDs(ctx context.Context, iccids []string) ([]ESIM, error)
	// AssignmentsOfESIMs leaves Assignment.ICCID empty.
	AssignmentsOfESIMs(ctx context.Context, esimIDs []int64) ([]Assignment, error)
	UsageRecordsApplied(ctx context.Context, org orgs.ID, recordIDs []string) ([]string, error)
	RecordUsages(ctx context.Context, recs []AppliedUsage) error
	// UpdateESIMActivity writes only Location and LastActivityAt.
	UpdateESIMActivity(ctx context.Context, e *ESIM) error
	// UpdateAssignmentUsage writes only the remaining allowances, Used and
	// AlertsSent.
	UpdateAssignmentUsage(ctx context.Context, a *Assignment) error
	// OpenSavepoint starts a savepoint; end(true) undoes what was written
	// since, end(false) keeps it.
	OpenSavepoint(ctx context.Context) (end func(undo bool) error, err error)
}

// UsageRecordKey names a usage record: record IDs are the organisation's.
type UsageRecordKey struct {
	Org      orgs.ID
	RecordID string
}

// AppliedUsage is a usage record to mark as applied.
type AppliedUsage struct {
	UsageRecordKey
	ICCID             string
	Bytes             int64
	UsedAt, AppliedAt time.Time
}
