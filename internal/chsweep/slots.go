package chsweep

import (
	"context"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/platform"
)

// sweepSlots goes through the slot of every hour from the one after the saved position up to the
// current hour (a missed run is caught up; at most a day's 24 slots, so a sweep that stood still
// for longer checks each connection once, not once per missed day), checking each active
// connection not under suspicion. The position is saved after each page, and where a run stopped
// part way through one, so the next run resumes without checking anything twice. ctx is the run's,
// checks its window for checks (the position is saved with ctx after the window closed). It
// returns the hours gone through to the end, and whether the window closed before the last.
func (s *Sweep) sweepSlots(ctx, checks context.Context, t *tally, suspects map[string]suspicion, now time.Time) ([]string, bool, error) {
	pos, err := s.loadPosition(ctx)
	if err != nil {
		return nil, false, err
	}
	current := now.Truncate(time.Hour)
	first, start := current, map[string]types.AttributeValue(nil)
	if pos != nil {
		first, start = pos.Through.UTC().Add(time.Hour), pos.start()
		if current.Sub(first) >= platform.ConnectionSlots*time.Hour {
			// More than a day behind: the last 24 hours are every slot once.
			first, start = current.Add(-(platform.ConnectionSlots-1)*time.Hour), nil
		}
	}
	var done []string
	for h := first; !h.After(current); h = h.Add(time.Hour) {
		finished, err := s.sweepSlot(ctx, checks, t, h, start, suspects)
		if err != nil {
			return done, false, err
		}
		if !finished {
			return done, true, nil
		}
		done = append(done, h.Format(HourFormat))
		start = nil
	}
	return done, false, nil
}

// sweepSlot goes through the slot of hour page by page from start, and reports whether it got to
// its end.
func (s *Sweep) sweepSlot(ctx, checks context.Context, t *tally, hour time.Time, start map[string]types.AttributeValue,
	suspects map[string]suspicion) (bool, error) {
	slot := platform.SlotName(hour.Hour())
	before := hour.Add(-time.Hour)
	for {
		if checks.Err() != nil {
			return false, nil
		}
		items, next, err := s.Store.ConnectionsInSlot(checks, slot, start, s.pageSize())
		if err != nil {
			if checks.Err() != nil {
				return false, nil
			}
			return false, fmt.Errorf("channel sweep: read slot %s: %w", slot, err)
		}
		examined := make([]bool, len(items))
		g := s.group()
		for i, it := range items {
			conn, err := platform.Decode[platform.ChannelConnection](it)
			switch {
			case err != nil || conn.ID == "":
				t.mu.Lock()
				t.errors++
				t.mu.Unlock()
				s.log().Warn("channel sweep: a connection item could not be read", "slot", slot, "connection", conn.ID)
				examined[i] = true
			case conn.Status != platform.ConnectionActive:
				examined[i] = true // disabled, or revoked and being wiped
			case hasSuspicion(suspects, conn.ID):
				examined[i] = true // the suspicion's recheck asks about it
			default:
				g.Go(func() { examined[i] = s.check(checks, t, conn) })
			}
		}
		g.Wait()
		k := 0
		for k < len(examined) && examined[k] {
			k++
		}
		if k < len(items) {
			// Cut short: resume after the last connection of the unbroken run of examined ones.
			if k > 0 {
				after, err := platform.IndexPosition("GSI3", items[k-1])
				if err != nil {
					return false, fmt.Errorf("channel sweep: %w", err)
				}
				if err := s.save(ctx, before, after); err != nil {
					return false, err
				}
			}
			return false, nil
		}
		if len(next) == 0 {
			return true, s.save(ctx, hour, nil)
		}
		if err := s.save(ctx, before, next); err != nil {
			return false, err
		}
		start = next
	}
}

func hasSuspicion(m map[string]suspicion, id string) bool {
	_, ok := m[id]
	return ok
}

func (s *Sweep) save(ctx context.Context, through time.Time, after map[string]types.AttributeValue) error {
	p, err := positionAfter(through, after)
	if err != nil {
		return err
	}
	return s.savePosition(ctx, p)
}
