package slasweep_test

import (
	"os"
	"path/filepath"
	"testing"
)

// The Lambda handler takes the scheduled event of events/sla-sweep (the schedule's Input).
func TestHandleTakesTheScheduledEvent(t *testing.T) {
	w := newWorld(t)
	sample, err := os.ReadFile(filepath.Join("..", "..", "events", "sla-sweep", "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := w.sweep.Handle(w.ctx, sample)
	if err != nil || rep.Checked != 0 || rep.Errors != 0 {
		t.Fatalf("report %+v, %v", rep, err)
	}
}
