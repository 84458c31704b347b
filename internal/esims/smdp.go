package esims

import (
	"context"
	"fmt"

	"github.com/esimd/esimd/esimid"
	"github.com/esimd/esimd/internal/fault"
)

// SMDP is where eSIM profiles come from. Profiles are taken inside the
// transaction of the order that needs them, so an adapter must not call an
// outside system here: a real ES2+ adapter downloads and confirms profiles
// ahead of time into the pool (ImportPool) and serves them from there.
type SMDP interface {
	// Profiles takes n profiles on a network profile, or fails with
	// Unavailable and takes none.
	Profiles(ctx context.Context, profile string, n int) ([]PoolProfile, error)
}

// CounterStore reserves serial numbers that never repeat.
type CounterStore interface {
	NextCounter(ctx context.Context, name string, n int64) (first int64, err error)
}

// SandboxSMDP is the built-in SM-DP+ of sandbox organisations: test
// profiles that exist only inside esimd, with Luhn-valid ICCIDs starting
// 8999901, random matching IDs, PINs and PUKs.
type SandboxSMDP struct {
	Store   CounterStore
	Address string // the SM-DP+ host written into activation codes
}

// Profiles makes n new test profiles.
func (b SandboxSMDP) Profiles(ctx context.Context, profile string, n int) ([]PoolProfile, error) {
	first, err := b.Store.NextCounter(ctx, "sandbox_iccid", int64(n))
	if err != nil {
		return nil, err
	}
	out := make([]PoolProfile, 0, n)
	for i := range n {
		serial := first + int64(i)
		iccid, err := esimid.NewICCID(fmt.Sprintf("%s%011d", sandboxICCIDPrefix, serial))
		if err != nil {
			return nil, fmt.Errorf("sandbox ICCID %d: %w", serial, err)
		}
		out = append(out, PoolProfile{ICCID: iccid.String(), MatchingID: randomMatchingID(), SMDPAddress: b.Address,
			PIN: randomDigits(4), PUK: randomDigits(8), Profile: profile})
	}
	return out, nil
}

// PoolStore hands out imported profiles.
type PoolStore interface {
	ClaimPoolProfiles(ctx context.Context, profile string, n int) ([]PoolProfile, error)
}

// PoolSMDP serves live organisations from the operator's imported pool of
// profiles (an SM-DP+'s or a SIM vendor's output).
type PoolSMDP struct{ Store PoolStore }

// Profiles takes n profiles from the pool, oldest ICCID first.
func (p PoolSMDP) Profiles(ctx context.Context, profile string, n int) ([]PoolProfile, error) {
	got, err := p.Store.ClaimPoolProfiles(ctx, profile, n)
	if err != nil {
		return nil, err
	}
	if len(got) < n {
		return nil, fault.E(fault.Unavailable, "the operator's eSIM pool has %d profile(s) left on %s and the order needs %d; retry after the pool is refilled", len(got), profile, n)
	}
	return got, nil
}
