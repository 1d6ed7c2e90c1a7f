package retention

import (
	"context"
	"time"
)

// Tally adds a finished run's checkpoint to its month's tally, as recording the run does; the
// tests call it again to check a run recorded twice is counted once.
func (s *Sweep) Tally(ctx context.Context, cp *Checkpoint, now time.Time) error {
	return s.tally(ctx, cp, now)
}

// Acquire takes the sweep's lease as an invocation does at its start, and returns its owner.
func (s *Sweep) Acquire(ctx context.Context) (string, error) { return s.acquire(ctx) }

// LeaseFor is how long an invocation's lease lasts.
const LeaseFor = leaseFor
