package chsweep

import (
	"context"
	"fmt"
	"time"

	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
)

// sweepSlots goes through the slot of every hour from the one after the saved position up to the
// current hour (a missed run is caught up; at most a day's 24 slots, so a sweep that stood still
// for longer checks each connection once, not once per missed day), checking each active
// connection not under suspicion. The position is saved after each page, and where a run stopped
// part way through one, so the next run resumes without checking anything twice. ctx is the run's,
// checks its window for checks (the position is saved with ctx after the window closed). It
// returns the hours gone through to the end, and whether the window closed before the last.
func (s *Sweep) sweepSlots(ctx, checks context.Context, t *tally, suspects map[string]ledger.Suspicion, now time.Time) ([]string, bool, error) {
	pos, err := s.Checks.Position(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("channel sweep: %w", err)
	}
	current := now.Truncate(time.Hour)
	first, after := current, ""
	if pos != nil {
		first, after = pos.Through.UTC().Add(time.Hour), pos.After
		if current.Sub(first) >= platform.ConnectionSlots*time.Hour {
			// More than a day behind: the last 24 hours are every slot once.
			first, after = current.Add(-(platform.ConnectionSlots-1)*time.Hour), ""
		}
	}
	var done []string
	for h := first; !h.After(current); h = h.Add(time.Hour) {
		finished, err := s.sweepSlot(ctx, checks, t, h, after, suspects)
		if err != nil {
			return done, false, err
		}
		if !finished {
			return done, true, nil
		}
		done = append(done, h.Format(HourFormat))
		after = ""
	}
	return done, false, nil
}

// sweepSlot goes through the slot of hour page by page from after, and reports whether it got to
// its end.
func (s *Sweep) sweepSlot(ctx, checks context.Context, t *tally, hour time.Time, after string,
	suspects map[string]ledger.Suspicion) (bool, error) {
	slot := platform.SlotName(hour.Hour())
	before := hour.Add(-time.Hour)
	for {
		if checks.Err() != nil {
			return false, nil
		}
		entries, next, err := s.Store.ConnectionsInSlot(checks, slot, after, s.pageSize())
		if err != nil {
			if checks.Err() != nil {
				return false, nil
			}
			return false, fmt.Errorf("channel sweep: read slot %s: %w", slot, err)
		}
		examined := make([]bool, len(entries))
		g := s.group()
		for i, e := range entries {
			conn := e.Conn
			switch {
			case e.Err != nil:
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
		if k < len(entries) {
			// Cut short: resume after the last of the unbroken run of examined connections.
			if k > 0 {
				if err := s.save(ctx, before, entries[k-1].After); err != nil {
					return false, err
				}
			}
			return false, nil
		}
		if next == "" {
			return true, s.save(ctx, hour, "")
		}
		if err := s.save(ctx, before, next); err != nil {
			return false, err
		}
		after = next
	}
}

func hasSuspicion(m map[string]ledger.Suspicion, id string) bool {
	_, ok := m[id]
	return ok
}

func (s *Sweep) save(ctx context.Context, through time.Time, after string) error {
	if err := s.Checks.SavePosition(ctx, ledger.SweepPosition{Through: through, After: after}); err != nil {
		return fmt.Errorf("channel sweep: %w", err)
	}
	return nil
}
