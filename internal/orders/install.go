package orders

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/esimd/esimd/internal/esims"
	"github.com/esimd/esimd/internal/fault"
	"github.com/esimd/esimd/internal/orgs"
)

// InstallRow is one assignment of an order with the eSIM it went on: what
// install data (QR codes, the CSV) is made of.
type InstallRow struct {
	ESIM      esims.ESIM
	Bundle    string
	Reference string // the assignment reference, <order reference>-<n>
	// Unavailable says why the eSIM's install data is left out: "" (it is
	// served), InstallDeactivated or InstallReturned.
	Unavailable string
}

// Why an eSIM of an order has no install data.
const (
	InstallDeactivated = "deactivated" // v2.5: deleted, or retired after the returns process
	InstallReturned    = "returned"    // in the returns process: out of the account
)

// StillProcessing is the error of install data asked for while its order
// is being assigned in the background; Order says how much work is left.
type StillProcessing struct{ Order Order }

func (e *StillProcessing) Error() string {
	return fmt.Sprintf("order %s is still being processed", e.Order.Reference)
}

// Unwrap makes the error Unavailable for surfaces that only look at kinds.
func (e *StillProcessing) Unwrap() error {
	return fault.E(fault.Unavailable, "order %s is still being processed; retry later", e.Order.Reference)
}

// InstallDetails resolves references to the eSIMs they put bundles on, in
// the order given and in assignment order within each. A reference is an
// order or apply reference, or one assignment's reference (<reference>-<n>,
// as callbacks carry it). What an order sold stays listed after its eSIM
// left the account; rows of eSIMs in the returns process, and of
// deactivated ones when hideDeactivated (v2.5), are marked Unavailable and
// the others of the reference are still served.
// Errors: *StillProcessing while an order is being assigned; Invalid (an
// order that failed or put no bundle on an eSIM); NotFound (no such
// assignment); Forbidden (another organisation's or unknown); Gone when
// every eSIM asked for is deactivated.
func (s *Service) InstallDetails(ctx context.Context, org orgs.ID, refs []string, hideDeactivated bool) ([]InstallRow, error) {
	var rows []InstallRow
	var gone []string // ICCIDs of deactivated eSIMs
	seen := map[string]esims.ESIM{}
	for _, ref := range refs {
		orderRef, only := ref, ""
		if len(ref) > 37 && ref[36] == '-' && assignmentIndex(ref[37:]) {
			orderRef, only = ref[:36], ref
		}
		o, err := s.Get(ctx, org, orderRef)
		if err != nil {
			return nil, err
		}
		switch o.Status {
		case StatusProcessing:
			return nil, &StillProcessing{Order: o}
		case StatusFailed:
			return nil, fault.Invalidf("order %s failed and has no eSIMs: %s", o.Reference, o.StatusMessage)
		}
		as, err := s.esims.AssignmentsOfOrder(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		n := 0
		for _, a := range as {
			if only != "" && a.Reference != only {
				continue
			}
			e, ok := seen[a.ICCID]
			if !ok {
				// What the order sold, also once returned.
				if e, err = s.esims.Sold(ctx, org, a.ICCID); err != nil {
					return nil, err
				}
				seen[a.ICCID] = e
			}
			row := InstallRow{ESIM: e, Bundle: a.BundleName, Reference: a.Reference}
			switch {
			case hideDeactivated && e.State == esims.StateDeactivated:
				row.Unavailable = InstallDeactivated
				gone = append(gone, e.ICCID)
			case e.ReturnedAt != nil:
				row.Unavailable = InstallReturned
			}
			rows = append(rows, row)
			n++
		}
		switch {
		case n > 0:
		case only != "":
			return nil, fault.NotFoundf("order %s has no assignment %s", o.Reference, only)
		default:
			return nil, fault.Invalidf("%s put no bundles on eSIMs (an inventory purchase or a top-up); apply inventory with POST /esims/apply and use its applyReference", o.Reference)
		}
	}
	if len(gone) == len(rows) {
		return nil, fault.E(fault.Gone, "eSIM %s of %s has been deactivated; its install details are no longer available",
			strings.Join(slices.Compact(gone), ", "), strings.Join(refs, ", "))
	}
	return rows, nil
}

// assignmentIndex reports whether s is the <n> of an assignment reference.
func assignmentIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
