package retention

import (
	"context"
	"sync"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
)

// A legal hold stops every automatic destruction of what it covers (SPEC §2). The sweep judges each
// page by the active holds it read at the current holds epoch, and every transaction of its writes
// carries the condition that the epoch is unchanged: a hold placed while a run is under way cancels
// the writes judged before it, which are judged again by the new holds (fast.go), so nothing covered
// is destroyed after the hold's write.

// holdView is the active holds of the accounts a run has met, as of one holds epoch.
type holdView struct {
	s  *Sweep
	mu sync.Mutex
	// epoch is the holds epoch the cached holds were read at; byAccount is cleared when it moves.
	epoch     int64
	read      bool
	byAccount map[string][]platform.LegalHold
}

// refresh reads the holds epoch; a new epoch drops the holds read before it. It returns the epoch.
func (v *holdView) refresh(ctx context.Context) (int64, error) {
	e, err := v.s.Ledger.HoldsEpoch(ctx)
	if err != nil {
		return 0, err
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if !v.read || e != v.epoch {
		v.epoch, v.read, v.byAccount = e, true, map[string][]platform.LegalHold{}
	}
	return e, nil
}

// covers reports whether an active hold (as of epoch) covers a platform item. Items of the ledger
// table (requests, evidence) are not the data holds keep.
func (v *holdView) covers(ctx context.Context, epoch int64, c datamap.Category, item map[string]types.AttributeValue) (bool, error) {
	if c.Location.Table != datamap.PlatformTable {
		return false, nil
	}
	return v.coversItem(ctx, epoch, item)
}

// coversItem reports whether an active hold (as of epoch) covers an item of the platform table.
func (v *holdView) coversItem(ctx context.Context, epoch int64, item map[string]types.AttributeValue) (bool, error) {
	account := platform.AttrString(item["accountId"])
	if account == "" || account == "-" {
		return false, nil
	}
	v.mu.Lock()
	hs, ok := v.byAccount[account]
	stale := v.epoch != epoch
	v.mu.Unlock()
	if !ok || stale {
		var err error
		if hs, err = v.s.Ledger.ActiveHolds(ctx, account); err != nil {
			return false, err
		}
		v.mu.Lock()
		if v.epoch == epoch {
			v.byAccount[account] = hs
		}
		v.mu.Unlock()
	}
	return coveredBy(hs, item), nil
}

// coveredBy reports whether one of an account's active holds covers the item's account, bot or end user.
func coveredBy(hs []platform.LegalHold, item map[string]types.AttributeValue) bool {
	account := platform.AttrString(item["accountId"])
	for _, h := range hs {
		if h.Covers(account, platform.AttrString(item["botId"]), platform.AttrString(item["endUserId"])) {
			return true
		}
	}
	return false
}

// recheck judges again, by the holds of the current epoch, the changes judged at an older one: a
// change now covered by a hold is dropped (left unapplied). It returns the changes to make and the
// epoch they are judged at.
func (v *holdView) recheck(ctx context.Context, changes []*change) ([]*change, int64, error) {
	epoch, err := v.refresh(ctx)
	if err != nil {
		return nil, 0, err
	}
	var keep []*change
	for _, c := range changes {
		if c.epoch != epoch {
			held, err := v.covers(ctx, epoch, c.d.category, c.item)
			if err != nil {
				return nil, 0, err
			}
			if held {
				c.held = true
				continue
			}
			c.epoch = epoch
		}
		keep = append(keep, c)
	}
	return keep, epoch, nil
}
