package notify

import (
	"context"

	"github.com/esimd/esimd/internal/events"
	"github.com/esimd/esimd/internal/money"
	"github.com/esimd/esimd/internal/orgs"
)

// DefaultBalanceThreshold is eSIM Go's default organisation balance alert
// threshold: 100 in the organisation's currency.
const DefaultBalanceThreshold money.Amount = 100 * money.Scale

// balanceLevels are the LowBalance levels, in percent of the threshold:
// reaching the threshold, then passing 75 %, 50 % and 10 % of it.
var balanceLevels = []int64{100, 75, 50, 10}

// BalanceAlert is one LowBalance notification.
type BalanceAlert struct {
	Balance   money.Amount // the balance after the change
	Threshold money.Amount
	// PercentRemaining is the level crossed: 100 (the threshold was reached),
	// 75, 50 or 10 (percent of the threshold left).
	PercentRemaining int64
}

// BalanceAlertFor says whether a balance change from prev to next fires a
// LowBalance alert under threshold (notes §4.2): it does when the balance
// falls to or below one of the levels (100 %, 75 %, 50 %, 10 % of the
// threshold) it was above. A change that crosses several levels fires one
// alert, for the lowest level crossed. Rises, a zero threshold and changes
// that stay between two levels fire nothing. It is a pure function: call
// it after every ledger debit, in the debit's transaction, and emit the
// alert's Payload as a "LowBalance" organisation event.
func BalanceAlertFor(prev, next, threshold money.Amount) (BalanceAlert, bool) {
	if threshold <= 0 || next >= prev {
		return BalanceAlert{}, false
	}
	var out BalanceAlert
	found := false
	for _, pct := range balanceLevels {
		level := money.Amount(int64(threshold) * pct / 100)
		if prev > level && next <= level {
			out, found = BalanceAlert{Balance: next, Threshold: threshold, PercentRemaining: pct}, true
		}
	}
	return out, found
}

// Payload is the LowBalance event payload the engine stores (amounts as
// JSON numbers).
func (a BalanceAlert) Payload() events.Balance {
	return events.Balance{AlertType: events.KindLowBalance, BalanceInfo: events.BalanceInfo{
		Balance: a.Balance, Threshold: a.Threshold, ThresholdPercentRemaining: a.PercentRemaining}}
}

// BalanceThreshold returns an organisation's LowBalance threshold
// (DefaultBalanceThreshold unless changed); it joins the transaction in ctx.
func (s *Service) BalanceThreshold(ctx context.Context, org orgs.ID) (money.Amount, error) {
	st, err := s.store.CallbackSettings(ctx, org)
	if err != nil {
		return 0, err
	}
	return st.BalanceThreshold, nil
}
