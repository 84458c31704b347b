// Package orgs manages organisations, their API keys and their prepaid
// balance ledger.
package orgs

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"encoding/hex"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/wiretext"
)

// ID identifies an organisation.
type ID int64

// Callback versions an organisation can choose (eSIM Go's portal setting).
const (
	CallbackV2 = "V2" // unsigned bodies
	CallbackV3 = "V3" // bodies signed with X-Signature-SHA256
)

// Organisation is a reseller account: a prepaid balance, API keys and
// settings.
type Organisation struct {
	ID       ID
	Name     string
	Currency string // ISO 4217, upper case
	// Sandbox organisations get test ICCIDs, simulated networks and their own
	// clock; live ones use a real SM-DP+ and real network usage.
	Sandbox          bool
	Balance          money.Amount
	CallbackURL      string
	CallbackVersion  string // CallbackV2 or CallbackV3
	RefundsEnabled   bool
	RefundWindowDays int
	// Groups limits the catalogue groups the organisation may buy from;
	// empty means every group.
	Groups  []string
	Profile Profile
	// IPAllowList limits the addresses the organisation's keys work from
	// (v2.5, notes §1.2); empty allows every address. Set by the operator;
	// ParseIPAllowList reads it.
	IPAllowList []netip.Prefix
	// ClockOffset is how far a sandbox organisation's clock runs ahead of the
	// wall clock; always zero for live organisations.
	ClockOffset time.Duration
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Profile is the organisation's contact and business details, shown in
// GET /organisation.
type Profile struct {
	TaxLiable          string
	Addr1, Addr2       string
	City, Country      string
	Postcode           string
	BusinessType       string
	Website            string
	ProductDescription string
	Notes              string
}

// Now returns the organisation's current time: the wall clock for live
// organisations, the wall clock plus the sandbox offset for sandbox ones.
func (o *Organisation) Now(wall time.Time) time.Time {
	return wall.Add(o.ClockOffset).UTC()
}

// APIKey is a stored key: never the key itself, only its hash and a hint.
type APIKey struct {
	ID        int64
	OrgID     ID
	Hint      string // "…" and the key's last four characters, for recognising it
	Label     string
	CreatedAt time.Time
	RevokedAt *time.Time
}

// LedgerKind says why a balance changed.
type LedgerKind string

const (
	LedgerCredit     LedgerKind = "credit"     // starting or test credit
	LedgerTopup      LedgerKind = "topup"      // POST /organisation/balance or an operator top-up
	LedgerOrder      LedgerKind = "order"      // a purchase (negative)
	LedgerRefund     LedgerKind = "refund"     // a refund to balance
	LedgerAdjustment LedgerKind = "adjustment" // an operator correction, either sign
)

// LedgerEntry is one balance change.
type LedgerEntry struct {
	ID           int64
	OrgID        ID
	Kind         LedgerKind
	Amount       money.Amount // positive credits, negative debits
	BalanceAfter money.Amount
	Reference    string
	Description  string
	CreatedAt    time.Time
}

// Store is what the service needs from the database.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	InsertOrganisation(ctx context.Context, o *Organisation) error
	UpdateOrganisation(ctx context.Context, o *Organisation) error
	Organisation(ctx context.Context, id ID) (Organisation, error)
	Organisations(ctx context.Context) ([]Organisation, error)
	InsertAPIKey(ctx context.Context, k *APIKey, hash string) error
	APIKeyByHash(ctx context.Context, hash string) (APIKey, string, error)
	// OrganisationByKeyHash is APIKeyByHash and Organisation in one query:
	// it runs on every request.
	OrganisationByKeyHash(ctx context.Context, hash string) (Organisation, APIKey, string, error)
	RevokeAPIKey(ctx context.Context, org ID, keyID int64, at time.Time) error
	APIKeys(ctx context.Context, org ID) ([]APIKey, error)
	// AddLedgerEntry applies e.Amount to the balance if the result stays at
	// or above zero, records the entry with BalanceAfter set, and returns
	// fault.Invalid (insufficient balance) otherwise.
	AddLedgerEntry(ctx context.Context, e *LedgerEntry) error
	LedgerEntries(ctx context.Context, org ID, afterID int64, limit int) ([]LedgerEntry, error)
}

// Service is the organisation use cases.
type Service struct {
	store Store
	now   func() time.Time

	// keys caches what Authenticate found, by key hash, for AuthCacheTTL of
	// real time: every request authenticates, and without the cache each
	// pays a query beside its own. Changes made through this Service clear
	// it at once; other nodes see a revocation within the TTL.
	keys sync.Map // hash → cachedKey
}

type cachedKey struct {
	org Organisation
	at  time.Time // real time of the lookup
}

// AuthCacheTTL is how long an authenticated key is trusted without asking
// the database again.
const AuthCacheTTL = time.Second

// NewService returns a Service over store with the given wall clock.
func NewService(store Store, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, now: now}
}

// forget clears the authentication cache after a change to an
// organisation or its keys.
func (s *Service) forget() { s.keys.Clear() }

// The defaults of a new organisation, the same wherever one is made
// (esimd org create, POST /admin/v1/organisations, the first start of
// esimd serve). A sandbox unless a live one is asked for: a sandbox made
// by mistake costs nothing, a live one hands out real profiles. Refunds on
// for a sandbox, so that every path of revoke and refund can be tried, and
// off for a live organisation, as eSIM Go's account managers enable them
// per customer (notes §5.3).
const DefaultSandbox = true

// DefaultRefunds is whether refunds are on when not asked: for sandbox
// organisations only (see DefaultSandbox).
func DefaultRefunds(sandbox bool) bool { return sandbox }

// NewOrganisation is what Create needs.
type NewOrganisation struct {
	Name             string
	Currency         string
	Sandbox          bool
	StartingBalance  money.Amount
	CallbackURL      string
	CallbackVersion  string
	RefundsEnabled   bool
	RefundWindowDays int
	Groups           []string
	Profile          Profile
	// APIKey fixes the first key (ESIMD_BOOTSTRAP_API_KEY); empty generates one.
	APIKey   string
	KeyLabel string
}

// Create makes an organisation, credits its starting balance through the
// ledger and issues its first API key, in one transaction. It returns the
// key in clear; it is not stored and cannot be shown again.
// Errors: Invalid for bad fields.
func (s *Service) Create(ctx context.Context, n NewOrganisation) (Organisation, string, error) {
	now := s.now().UTC()
	o := Organisation{
		Name: strings.TrimSpace(n.Name), Currency: strings.ToUpper(strings.TrimSpace(n.Currency)),
		Sandbox: n.Sandbox, CallbackURL: strings.TrimSpace(n.CallbackURL), CallbackVersion: n.CallbackVersion,
		RefundsEnabled: n.RefundsEnabled, RefundWindowDays: n.RefundWindowDays, Groups: n.Groups,
		Profile: n.Profile, CreatedAt: now, UpdatedAt: now,
	}
	if o.Currency == "" {
		o.Currency = "USD"
	}
	if o.CallbackVersion == "" {
		o.CallbackVersion = CallbackV3
	}
	if o.RefundWindowDays == 0 {
		o.RefundWindowDays = 60
	}
	if err := validate(&o); err != nil {
		return Organisation{}, "", err
	}
	if n.StartingBalance < 0 {
		return Organisation{}, "", fault.Invalidf("the starting balance must not be negative, got %s", n.StartingBalance)
	}
	key := n.APIKey
	if key == "" {
		key = NewKey()
	} else if err := checkKeyFormat(key); err != nil {
		return Organisation{}, "", err
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if err := s.store.InsertOrganisation(ctx, &o); err != nil {
			return err
		}
		if n.StartingBalance > 0 {
			e := LedgerEntry{OrgID: o.ID, Kind: LedgerCredit, Amount: n.StartingBalance, Description: "Starting balance", CreatedAt: now}
			if err := s.store.AddLedgerEntry(ctx, &e); err != nil {
				return err
			}
			o.Balance = e.BalanceAfter
		}
		k := APIKey{OrgID: o.ID, Hint: KeyHint(key), Label: n.KeyLabel, CreatedAt: now}
		if err := s.store.InsertAPIKey(ctx, &k, HashKey(key)); err != nil {
			if fault.Is(err, fault.Conflict) {
				return fault.Conflictf("that API key is already in use by an organisation; choose another")
			}
			return err
		}
		return nil
	})
	if err != nil {
		return Organisation{}, "", err
	}
	return o, key, nil
}

// Get returns one organisation. Errors: NotFound.
func (s *Service) Get(ctx context.Context, id ID) (Organisation, error) {
	o, err := s.store.Organisation(ctx, id)
	if fault.Is(err, fault.NotFound) {
		return o, fault.NotFoundf("organisation %d does not exist", id)
	}
	return o, err
}

// List returns every organisation, oldest first.
func (s *Service) List(ctx context.Context) ([]Organisation, error) {
	return s.store.Organisations(ctx)
}

// Update is a partial change to an organisation; nil fields stay as they are.
type Update struct {
	Name             *string
	Currency         *string
	Sandbox          *bool
	CallbackURL      *string
	CallbackVersion  *string
	RefundsEnabled   *bool
	RefundWindowDays *int
	Groups           *[]string
	// IPAllowList replaces the allow-list (entries as ParseIPAllowList
	// reads them); an empty list allows every address again.
	IPAllowList *[]string
}

// Update changes an organisation's settings. The currency can change only
// while the ledger is empty (amounts are not converted). Errors: NotFound,
// Invalid.
func (s *Service) Update(ctx context.Context, id ID, u Update) (Organisation, error) {
	var out Organisation
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		o, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		if u.Name != nil {
			o.Name = strings.TrimSpace(*u.Name)
		}
		if u.Currency != nil {
			c := strings.ToUpper(strings.TrimSpace(*u.Currency))
			if c != o.Currency {
				entries, err := s.store.LedgerEntries(ctx, id, 0, 1)
				if err != nil {
					return err
				}
				if len(entries) > 0 {
					return fault.Invalidf("the currency of organisation %d cannot change once its ledger has entries (amounts are not converted)", id)
				}
				o.Currency = c
			}
		}
		if u.Sandbox != nil {
			o.Sandbox = *u.Sandbox
		}
		if u.CallbackURL != nil {
			o.CallbackURL = strings.TrimSpace(*u.CallbackURL)
		}
		if u.CallbackVersion != nil {
			o.CallbackVersion = strings.ToUpper(strings.TrimSpace(*u.CallbackVersion))
		}
		if u.RefundsEnabled != nil {
			o.RefundsEnabled = *u.RefundsEnabled
		}
		if u.RefundWindowDays != nil {
			o.RefundWindowDays = *u.RefundWindowDays
		}
		if u.Groups != nil {
			o.Groups = *u.Groups
		}
		if u.IPAllowList != nil {
			if o.IPAllowList, err = ParseIPAllowList(*u.IPAllowList); err != nil {
				return err
			}
		}
		if !o.Sandbox {
			o.ClockOffset = 0
		}
		if err := validate(&o); err != nil {
			return err
		}
		o.UpdatedAt = s.now().UTC()
		if err := s.store.UpdateOrganisation(ctx, &o); err != nil {
			return err
		}
		out = o
		return nil
	})
	s.forget()
	return out, err
}

// Credit adds money to an organisation's balance through the ledger (a
// starting credit, an operator top-up or adjustment). Errors: NotFound,
// Invalid.
func (s *Service) Credit(ctx context.Context, id ID, kind LedgerKind, amount money.Amount, reference, description string) (LedgerEntry, error) {
	if amount == 0 {
		return LedgerEntry{}, fault.Invalidf("the amount must not be zero")
	}
	if kind != LedgerAdjustment && amount < 0 {
		return LedgerEntry{}, fault.Invalidf("a %s must be positive, got %s", kind, amount)
	}
	e := LedgerEntry{OrgID: id, Kind: kind, Amount: amount, Reference: reference, Description: description, CreatedAt: s.now().UTC()}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.Get(ctx, id); err != nil {
			return err
		}
		return s.store.AddLedgerEntry(ctx, &e)
	})
	s.forget()
	return e, err
}

// Ledger returns up to limit ledger entries with IDs above afterID, oldest
// first, so that a client can page through with the last ID it saw.
func (s *Service) Ledger(ctx context.Context, id ID, afterID int64, limit int) ([]LedgerEntry, error) {
	if limit <= 0 || limit > 1000 {
		return nil, fault.Invalidf("limit must be between 1 and 1000, got %d", limit)
	}
	return s.store.LedgerEntries(ctx, id, afterID, limit)
}

// CreateAPIKey issues a new key for an organisation and returns it in clear
// (shown once). Errors: NotFound.
func (s *Service) CreateAPIKey(ctx context.Context, id ID, label string) (APIKey, string, error) {
	key := NewKey()
	k := APIKey{OrgID: id, Hint: KeyHint(key), Label: strings.TrimSpace(label), CreatedAt: s.now().UTC()}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.Get(ctx, id); err != nil {
			return err
		}
		return s.store.InsertAPIKey(ctx, &k, HashKey(key))
	})
	if err != nil {
		return APIKey{}, "", err
	}
	return k, key, nil
}

// AddAPIKey registers a key chosen by the operator (ESIMD_BOOTSTRAP_API_KEY)
// for an organisation. Errors: NotFound, Invalid, Conflict when the key is
// already in use.
func (s *Service) AddAPIKey(ctx context.Context, id ID, key, label string) (APIKey, error) {
	if err := checkKeyFormat(key); err != nil {
		return APIKey{}, err
	}
	k := APIKey{OrgID: id, Hint: KeyHint(key), Label: strings.TrimSpace(label), CreatedAt: s.now().UTC()}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.Get(ctx, id); err != nil {
			return err
		}
		err := s.store.InsertAPIKey(ctx, &k, HashKey(key))
		if fault.Is(err, fault.Conflict) {
			return fault.Conflictf("that API key is already in use (perhaps revoked); choose another")
		}
		return err
	})
	return k, err
}

// RevokeAPIKey stops a key from working. Errors: NotFound.
func (s *Service) RevokeAPIKey(ctx context.Context, id ID, keyID int64) error {
	err := s.store.RevokeAPIKey(ctx, id, keyID, s.now().UTC())
	s.forget()
	return err
}

// APIKeys lists an organisation's keys (hints only).
func (s *Service) APIKeys(ctx context.Context, id ID) ([]APIKey, error) {
	return s.store.APIKeys(ctx, id)
}

// Authenticate returns the organisation a key belongs to. Errors:
// Unauthenticated for a missing, unknown or revoked key (one answer for all,
// so nothing is learnt by probing).
func (s *Service) Authenticate(ctx context.Context, key string) (Organisation, error) {
	deny := fault.E(fault.Unauthenticated, "Forbidden: send a valid API key in the X-API-Key header")
	if key == "" || len(key) > 256 {
		return Organisation{}, deny
	}
	want := HashKey(key)
	if v, ok := s.keys.Load(want); ok {
		if c := v.(cachedKey); time.Since(c.at) < AuthCacheTTL {
			return c.org, nil
		}
	}
	o, k, stored, err := s.store.OrganisationByKeyHash(ctx, want)
	if err != nil {
		if fault.Is(err, fault.NotFound) {
			return Organisation{}, deny
		}
		return Organisation{}, err
	}
	// The lookup already matched on the hash; compare again in constant time
	// so that correctness never rests on how the database compares text.
	if subtle.ConstantTimeCompare([]byte(stored), []byte(want)) != 1 || k.RevokedAt != nil {
		return Organisation{}, deny
	}
	s.keys.Store(want, cachedKey{org: o, at: time.Now()})
	return o, nil
}

// NewKey returns a fresh random API key: "esimd_" and 52 base32 characters
// (256 bits).
func NewKey() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("orgs: crypto/rand failed: " + err.Error()) // never happens on supported platforms
	}
	return "esimd_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// HashKey is how keys are stored: SHA-256, hex.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// KeyHint is how a key is shown once stored: "…" and its last four
// characters ("…" alone for a key too short to show any). No more: the
// first characters of a chosen key are as secret as the rest (a
// 16-character key showed 10 of them), and four tell an organisation's
// keys apart.
func KeyHint(key string) string {
	if len(key) < 16 {
		return "…"
	}
	return "…" + key[len(key)-4:]
}

func checkKeyFormat(key string) error {
	if len(key) < 16 || len(key) > 256 {
		return fault.Invalidf("an API key must be 16 to 256 characters long, got %d", len(key))
	}
	for _, r := range key {
		if r <= ' ' || r > '~' {
			return fault.Invalidf("an API key may contain only printable ASCII characters without spaces")
		}
	}
	return nil
}

func validate(o *Organisation) error {
	if o.Name == "" || utf8.RuneCountInString(o.Name) > 200 {
		return fault.Invalidf("the organisation name must be 1 to 200 characters long")
	}
	// The CLI reaches here without an HTTP edge's check.
	if err := wiretext.Check("the organisation name", o.Name); err != nil {
		return err
	}
	if len(o.Currency) != 3 || strings.ToUpper(o.Currency) != o.Currency || strings.IndexFunc(o.Currency, func(r rune) bool { return r < 'A' || r > 'Z' }) >= 0 {
		return fault.Invalidf("currency must be a three-letter ISO 4217 code such as USD, got %q", o.Currency)
	}
	if o.CallbackVersion != CallbackV2 && o.CallbackVersion != CallbackV3 {
		return fault.Invalidf("callback version must be V2 or V3, got %q", o.CallbackVersion)
	}
	if o.CallbackURL != "" {
		u, err := url.Parse(o.CallbackURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fault.Invalidf("callback URL must be an absolute http or https URL, got %q", o.CallbackURL)
		}
	}
	if o.RefundWindowDays < 0 || o.RefundWindowDays > 3650 {
		return fault.Invalidf("the refund window must be 0 to 3650 days, got %d", o.RefundWindowDays)
	}
	if o.Groups == nil {
		o.Groups = []string{}
	}
	return nil
}
