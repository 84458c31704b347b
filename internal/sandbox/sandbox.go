// Package sandbox gives developers control over a sandbox organisation:
// its own clock (advancing it runs everything that falls due, in order),
// a simulated device (install, uninstall), a simulated network (attach in a
// country on a real network of the eSIM's profile, use data), injected
// faults, and a reset to the starting state. Everything ends in the same
// lifecycle code live organisations use.
package sandbox

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/esimd/esimd/esimid"
	"github.com/esimd/esimd/internal/catalogue"
	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// Store is what the sandbox needs from the database.
type Store interface {
	InTx(ctx context.Context, fn func(ctx context.Context) error) error
	Organisation(ctx context.Context, id orgs.ID) (orgs.Organisation, error)
	UpdateOrganisation(ctx context.Context, o *orgs.Organisation) error
	// ResetOrganisation deletes everything an organisation did (eSIMs,
	// orders, inventory, events, due work, idempotency keys, ledger) and
	// leaves one ledger credit of its starting balance.
	ResetOrganisation(ctx context.Context, org orgs.ID, at time.Time) error
	NextCounter(ctx context.Context, name string, n int64) (int64, error)
	ProvisioningDelay(ctx context.Context, org orgs.ID) (time.Duration, error)
	SetProvisioningDelay(ctx context.Context, org orgs.ID, d time.Duration) error
}

// Delivery drains an organisation's due callbacks (package notify); nil
// when callbacks are not wired.
type Delivery interface {
	DeliverDue(ctx context.Context, org orgs.ID) error
}

// Service is the sandbox controls.
type Service struct {
	store    Store
	esims    *esims.Service
	cat      *catalogue.Service
	now      func() time.Time
	delivery Delivery

	mu        sync.Mutex
	faults    map[orgs.ID][]Fault
	nextID    int64
	rnd       *rand.Rand
	autopilot map[orgs.ID]*autopilotState
}

// NewService returns the sandbox controls.
func NewService(store Store, engine *esims.Service, cat *catalogue.Service, now func() time.Time, delivery Delivery) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{store: store, esims: engine, cat: cat, now: now, delivery: delivery,
		faults: map[orgs.ID][]Fault{}, rnd: rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0x5eed))}
}

// sandboxOrg loads an organisation and refuses live ones.
func (s *Service) sandboxOrg(ctx context.Context, id orgs.ID) (orgs.Organisation, error) {
	o, err := s.store.Organisation(ctx, id)
	if err != nil {
		return o, err
	}
	if !o.Sandbox {
		return o, fault.Forbiddenf("sandbox controls work only for sandbox organisations; this one is live")
	}
	return o, nil
}

// Clock is a sandbox organisation's time.
type Clock struct {
	Now    time.Time
	Offset time.Duration // ahead of the wall clock
}

// Clock reads an organisation's clock. Errors: Forbidden for live ones.
func (s *Service) Clock(ctx context.Context, org orgs.ID) (Clock, error) {
	o, err := s.sandboxOrg(ctx, org)
	if err != nil {
		return Clock{}, err
	}
	return Clock{Now: o.Now(s.now()), Offset: o.ClockOffset}, nil
}

// MaxAdvance bounds one advance, so that a typo cannot move a clock by
// centuries.
const MaxAdvance = 10 * 365 * 24 * time.Hour

// Advance moves an organisation's clock forward by d, or to the instant to
// when d is zero, then runs everything that fell due in between, in order,
// and delivers the callbacks that are due, before it returns.
// Errors: Invalid (backwards, too far), Forbidden (live organisation).
func (s *Service) Advance(ctx context.Context, org orgs.ID, d time.Duration, to time.Time) (Clock, int, error) {
	var out Clock
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		o, err := s.sandboxOrg(ctx, org)
		if err != nil {
			return err
		}
		now := o.Now(s.now())
		if !to.IsZero() {
			if to.Before(now) {
				return fault.Invalidf("the clock cannot go back: it is %s and %s is earlier", now.Format(time.RFC3339), to.UTC().Format(time.RFC3339))
			}
			d = to.Sub(now)
		}
		if d < 0 {
			return fault.Invalidf("duration must not be negative, got %s", d)
		}
		if d > MaxAdvance {
			return fault.Invalidf("one advance may move the clock at most 10 years, got %s", d)
		}
		o.ClockOffset += d
		o.UpdatedAt = s.now().UTC()
		if err := s.store.UpdateOrganisation(ctx, &o); err != nil {
			return err
		}
		out = Clock{Now: o.Now(s.now()), Offset: o.ClockOffset}
		return nil
	})
	if err != nil {
		return out, 0, err
	}
	n, err := s.esims.RunDue(ctx, org)
	if err != nil {
		return out, n, err
	}
	if s.delivery != nil {
		if err := s.delivery.DeliverDue(ctx, org); err != nil {
			return out, n, err
		}
	}
	return out, n, nil
}

// Install puts an eSIM's profile on a simulated device: Released →
// Downloaded → Installed, each a ProfileStatusChange. eid may be empty: a
// valid test EID is generated. Errors: Invalid, Forbidden.
func (s *Service) Install(ctx context.Context, org orgs.ID, iccid, eid string) (esims.ESIM, error) {
	if _, err := s.sandboxOrg(ctx, org); err != nil {
		return esims.ESIM{}, err
	}
	if eid == "" {
		serial, err := s.store.NextCounter(ctx, "sandbox_eid", 1)
		if err != nil {
			return esims.ESIM{}, err
		}
		id, err := esimid.GenerateEID("89049032000000000000", uint64(serial))
		if err != nil {
			return esims.ESIM{}, err
		}
		eid = id.String()
	}
	e, err := s.esims.Device(ctx, org, iccid)
	if err != nil {
		return e, err
	}
	if e.ProfileStatus == esims.ProfileInstalled {
		return e, fault.Invalidf("eSIM %s is already installed", iccid)
	}
	if e.ProfileStatus == esims.ProfileReleased {
		if e, err = s.esims.SetProfileStatus(ctx, org, iccid, esims.ProfileDownloaded, eid); err != nil {
			return e, err
		}
	}
	return s.esims.SetProfileStatus(ctx, org, iccid, esims.ProfileInstalled, eid)
}

// Uninstall deletes the profile from the device (Installed → Released).
func (s *Service) Uninstall(ctx context.Context, org orgs.ID, iccid string) (esims.ESIM, error) {
	if _, err := s.sandboxOrg(ctx, org); err != nil {
		return esims.ESIM{}, err
	}
	e, err := s.esims.Device(ctx, org, iccid)
	if err != nil {
		return e, err
	}
	if e.ProfileStatus != esims.ProfileInstalled && e.ProfileStatus != esims.ProfileDownloaded {
		return e, fault.Invalidf("eSIM %s is not on a device (profile %s)", iccid, e.ProfileStatus)
	}
	return s.esims.SetProfileStatus(ctx, org, iccid, esims.ProfileReleased, "")
}

// Where names a network: a country (any network of the eSIM's profile
// there) or an MCC+MNC.
type Where struct {
	Country string
	MCCMNC  string
}

// network finds a real network from the coverage data for an eSIM.
func (s *Service) network(ctx context.Context, e *esims.ESIM, w Where) (esims.Registration, error) {
	snap := s.cat.Current(ctx)
	switch {
	case w.MCCMNC != "":
		if len(w.MCCMNC) < 5 || len(w.MCCMNC) > 6 || strings.Trim(w.MCCMNC, "0123456789") != "" {
			return esims.Registration{}, fault.Invalidf("mccmnc must be 5 or 6 digits (MCC then MNC), got %q", w.MCCMNC)
		}
		var fallback *catalogue.Network
		for i, n := range snap.Data.Networks {
			if n.MCC+n.MNC != w.MCCMNC {
				continue
			}
			if n.Profile == e.Profile {
				return registration(n), nil
			}
			if fallback == nil {
				fallback = &snap.Data.Networks[i]
			}
		}
		if fallback != nil {
			return esims.Registration{}, fault.Invalidf("network %s (%s) does not serve %s, the profile of eSIM %s", w.MCCMNC, fallback.Name, e.Profile, e.ICCID)
		}
		return esims.Registration{}, fault.Invalidf("no network with MCC+MNC %s in the coverage data (GET /v2.5/networks lists them)", w.MCCMNC)
	case w.Country != "":
		iso := strings.ToUpper(w.Country)
		if _, ok := snap.Country(iso); !ok {
			return esims.Registration{}, fault.Invalidf("country %q is not in the coverage data; use an ISO code such as FR", w.Country)
		}
		nets := snap.NetworksIn(iso, e.Profile)
		if len(nets) == 0 {
			return esims.Registration{}, fault.Invalidf("no %s network in %s: eSIM %s cannot register there", e.Profile, iso, e.ICCID)
		}
		return registration(nets[0]), nil
	}
	return esims.Registration{}, fault.Invalidf("give country (an ISO code such as FR) or mccmnc (such as 20801)")
}

func registration(n catalogue.Network) esims.Registration {
	return esims.Registration{Country: n.CountryISO, MCC: n.MCC, MNC: n.MNC, TADIG: n.TADIG, NetworkName: n.Name, Brand: n.Brand}
}

// Attach registers an installed eSIM on a network.
func (s *Service) Attach(ctx context.Context, org orgs.ID, iccid string, w Where) (esims.ESIM, error) {
	if _, err := s.sandboxOrg(ctx, org); err != nil {
		return esims.ESIM{}, err
	}
	e, err := s.esims.Get(ctx, org, iccid)
	if err != nil {
		return e, err
	}
	reg, err := s.network(ctx, &e, w)
	if err != nil {
		return e, err
	}
	return s.esims.Attach(ctx, org, iccid, reg, time.Time{})
}

// Usage is what a simulated device uses.
type Usage struct {
	Bytes, Minutes, SMS int64
}

// Use consumes data, voice minutes or SMS on the eSIM's current network
// (or, with w set, after moving there), through the same function network
// usage goes through.
func (s *Service) Use(ctx context.Context, org orgs.ID, iccid string, u Usage, w Where) (esims.UsageResult, error) {
	if _, err := s.sandboxOrg(ctx, org); err != nil {
		return esims.UsageResult{}, err
	}
	if u.Bytes < 0 || u.Minutes < 0 || u.SMS < 0 || u.Bytes+u.Minutes+u.SMS == 0 {
		return esims.UsageResult{}, fault.Invalidf("bytes, minutes or sms must be positive (and none negative)")
	}
	e, err := s.esims.Get(ctx, org, iccid)
	if err != nil {
		return esims.UsageResult{}, err
	}
	rec := esims.UsageRecord{Org: org, ICCID: iccid, Bytes: u.Bytes, Minutes: u.Minutes, SMS: u.SMS}
	if w != (Where{}) {
		if rec.Network, err = s.network(ctx, &e, w); err != nil {
			return esims.UsageResult{}, err
		}
	} else if e.Location.Country == "" {
		return esims.UsageResult{}, fault.Invalidf("eSIM %s has not attached to a network yet; attach it first or give a country", iccid)
	}
	return s.esims.ApplyUsage(ctx, rec)
}

// Reset returns a sandbox organisation to its starting state: no eSIMs,
// orders, inventory or callbacks, the starting balance, the wall clock.
func (s *Service) Reset(ctx context.Context, org orgs.ID) error {
	if _, err := s.sandboxOrg(ctx, org); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.faults, org)
	delete(s.autopilot, org)
	s.mu.Unlock()
	return s.store.ResetOrganisation(ctx, org, s.now().UTC())
}

// Settings are a sandbox organisation's settings of its simulated world.
// They are stored, so they outlive a restart; a reset clears them.
type Settings struct {
	// ProvisioningDelay is how long the built-in SM-DP+ takes to provision
	// a new assignment: processing until then, queued after (0 to
	// esims.MaxProvisioningDelay of the organisation's clock; default 0).
	ProvisioningDelay time.Duration
}

// Settings reads an organisation's settings. Errors: Forbidden for live
// organisations.
func (s *Service) Settings(ctx context.Context, org orgs.ID) (Settings, error) {
	if _, err := s.sandboxOrg(ctx, org); err != nil {
		return Settings{}, err
	}
	d, err := s.store.ProvisioningDelay(ctx, org)
	return Settings{ProvisioningDelay: d}, err
}

// SetSettings changes an organisation's settings; assignments made before
// keep the delay they were made with. Errors: Invalid, Forbidden.
func (s *Service) SetSettings(ctx context.Context, org orgs.ID, st Settings) (Settings, error) {
	if st.ProvisioningDelay < 0 || st.ProvisioningDelay > esims.MaxProvisioningDelay {
		return Settings{}, fault.Invalidf("provisioningDelay must be 0 to 10m (eSIM Go provisions within 10 minutes), got %s", st.ProvisioningDelay)
	}
	err := s.store.InTx(ctx, func(ctx context.Context) error {
		if _, err := s.sandboxOrg(ctx, org); err != nil {
			return err
		}
		return s.store.SetProvisioningDelay(ctx, org, st.ProvisioningDelay)
	})
	return st, err
}

// Fault is an injected failure: requests matching Method and Path (a
// prefix of the path after the version, such as "/orders" or "/esims/")
// fail with Status (or only wait Latency when Status is 0) with
// Probability, Remaining times (0: until removed).
type Fault struct {
	ID          int64         `json:"id"`
	Method      string        `json:"method"`
	Path        string        `json:"path"`
	Status      int           `json:"status"`
	Message     string        `json:"message"`
	Latency     time.Duration `json:"-"`
	Probability float64       `json:"probability"`
	Remaining   int           `json:"remaining"`
}

// AddFault injects a failure for an organisation. Errors: Invalid.
func (s *Service) AddFault(ctx context.Context, org orgs.ID, f Fault) (Fault, error) {
	if _, err := s.sandboxOrg(ctx, org); err != nil {
		return f, err
	}
	switch {
	case f.Status != 0 && (f.Status < 400 || f.Status > 599):
		return f, fault.Invalidf("status must be an error status 400–599 (or 0 for latency only), got %d", f.Status)
	case f.Status == 0 && f.Latency == 0:
		return f, fault.Invalidf("give status, latencyMs or both")
	case f.Latency < 0 || f.Latency > 30*time.Second:
		return f, fault.Invalidf("latencyMs must be 0 to 30000")
	case f.Probability < 0 || f.Probability > 1:
		return f, fault.Invalidf("probability must be between 0 and 1, got %v", f.Probability)
	case f.Remaining < 0:
		return f, fault.Invalidf("count must not be negative")
	case f.Path != "" && !strings.HasPrefix(f.Path, "/"):
		return f, fault.Invalidf("path must start with /, such as /orders")
	}
	if f.Probability == 0 {
		f.Probability = 1
	}
	f.Method = strings.ToUpper(f.Method)
	if f.Message == "" && f.Status != 0 {
		f.Message = fmt.Sprintf("Injected sandbox fault: status %d", f.Status)
		if f.Status == 429 {
			f.Message = "Rate limit exceeded"
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.nextID++
	f.ID = s.nextID
	s.faults[org] = append(s.faults[org], f)
	return f, nil
}

// Faults lists an organisation's injected failures.
func (s *Service) Faults(org orgs.ID) []Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Fault{}, s.faults[org]...)
}

// ClearFaults removes every injected failure of an organisation.
func (s *Service) ClearFaults(org orgs.ID) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.faults, org)
}

// Match returns the fault a request triggers, if any, consuming one use.
func (s *Service) Match(org orgs.ID, method, path string) (Fault, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.faults[org]
	for i := range list {
		f := &list[i]
		if (f.Method != "" && f.Method != method) || !strings.HasPrefix(path, f.Path) {
			continue
		}
		if f.Probability < 1 && s.rnd.Float64() >= f.Probability {
			continue
		}
		hit := *f
		if f.Remaining > 0 {
			f.Remaining--
			if f.Remaining == 0 {
				s.faults[org] = append(list[:i:i], list[i+1:]...)
			}
		}
		return hit, true
	}
	return Fault{}, false
}

// Magic values force documented errors without any setup: ordering or
// applying a reserved bundle name, or calling any eSIM route with a
// reserved ICCID.
var (
	// MagicBundles maps reserved bundle names to the status they force.
	MagicBundles = map[string]int{
		"sandbox_insufficient_balance": 400,
		"sandbox_incompatible_profile": 400,
		"sandbox_processing":           503,
		"sandbox_rate_limited":         429,
		"sandbox_server_error":         500,
	}
)

// MagicICCID reports the status a reserved ICCID forces: 8999900000000000
// followed by the status, e.g. 8999900000000000503.
func MagicICCID(iccid string) (int, bool) {
	const prefix = "8999900000000000"
	if len(iccid) != len(prefix)+3 || !strings.HasPrefix(iccid, prefix) {
		return 0, false
	}
	switch status := iccid[len(prefix):]; status {
	case "400", "403", "410", "429", "500", "503":
		n := int(status[0]-'0')*100 + int(status[1]-'0')*10 + int(status[2]-'0')
		return n, true
	}
	return 0, false
}

// MagicMessage is the message of a forced error.
func MagicMessage(name string, status int) string {
	switch name {
	case "sandbox_insufficient_balance":
		return "insufficient balance: forced by the sandbox bundle name sandbox_insufficient_balance"
	case "sandbox_incompatible_profile":
		return "the bundle is not compatible with the eSIM's profile: forced by the sandbox bundle name sandbox_incompatible_profile"
	}
	switch status {
	case 429:
		return "Rate limit exceeded"
	case 503:
		return "Processing: forced by a sandbox magic value; retry after the number of seconds in Retry-After"
	case 500:
		return "Internal server error: forced by a sandbox magic value"
	case 410:
		return "The eSIM has been deactivated: forced by a sandbox magic value"
	case 403:
		return "The ICCID is not accessible: forced by a sandbox magic value"
	}
	return fmt.Sprintf("Forced by the sandbox magic value %s", name)
}
