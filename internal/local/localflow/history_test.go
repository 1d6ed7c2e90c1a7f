package localflow_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/local/statemachine"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/system"
)

// vastScope stands in for the erasure engine on a scope of millions of items, so that the real state
// machines run the thousands of slices such a scope takes without the test writing millions of items:
// what is under test is the machines' history, not DynamoDB's speed.
type vastScope struct {
	items, perSlice int64
	failAt          int64 // the slice that fails for good (0: none)
	led             *ledger.Ledger
	slices          atomic.Int64
}

func (v *vastScope) Step(ctx context.Context, id string, cp erasure.Checkpoint, _ erasure.Budget) (erasure.Checkpoint, error) {
	if cp.Deleted == nil {
		cp.Deleted = map[string]int64{}
	}
	if v.failAt > 0 && int64(cp.Slices)+1 == v.failAt {
		return cp, errors.New("disk on fire")
	}
	cp.Deleted[datamap.Message] += min(v.perSlice, v.items-cp.Deleted[datamap.Message])
	cp.Slices++
	cp.Done = cp.Deleted[datamap.Message] >= v.items
	v.slices.Add(1)
	return cp, nil
}

func (v *vastScope) Complete(ctx context.Context, id string, cp erasure.Checkpoint) (request.Request, error) {
	return v.led.Update(ctx, id, func(r *request.Request) error {
		r.Status, r.Progress = request.StatusCompleted, map[string]int64{datamap.Message: cp.Deleted[datamap.Message]}
		return nil
	})
}

func (v *vastScope) Evidence(context.Context, string) ([]evidence.Record, error) { return nil, nil }

// Resume: the stand-in stores no checkpoint; every execution's erase starts from the beginning.
func (v *vastScope) Resume(context.Context, string) (erasure.Checkpoint, error) {
	return erasure.Checkpoint{}, nil
}

func TestNoExecutionNearsTheHistoryLimitOnAScopeOfMillions(t *testing.T) {
	const items, perSlice = 5_000_000, 1_000
	vast := &vastScope{items: items, perSlice: perSlice}
	w := newWorld(t, lateNovember2025, func(s *system.System) {
		vast.led = s.Ledger
		s.Tasks.Deleter = vast
	})
	req, _, err := w.sys.Requests.RequestDeletion(w.ctx, requests.Deletion{Kind: request.KindEndUserDeletion, Source: "dashboard",
		Scope: platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: "A-vast", BotID: "B", EndUserID: "U"}})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	r := w.request(req.ID)
	if r.Status != request.StatusCompleted || r.Progress[datamap.Message] != items {
		for _, e := range w.eng.Executions() {
			t.Logf("%s %s %s %s", e.Name, e.Status, e.Error, e.Cause)
		}
		t.Fatalf("status %s, progress %v", r.Status, r.Progress)
	}
	if got := vast.slices.Load(); got != items/perSlice {
		t.Fatalf("%d slices, want %d", got, items/perSlice)
	}
	execs := w.eng.Executions()
	maxEvents, children := 0, 0
	for _, e := range execs {
		if e.Status != "SUCCEEDED" {
			t.Errorf("%s: %s %s %s", e.Name, e.Status, e.Error, e.Cause)
		}
		maxEvents = max(maxEvents, e.HistoryEvents)
		if e.ParentARN != "" {
			children++
		}
	}
	t.Logf("%d slices over %d executions (%d children); largest history %d events", vast.slices.Load(), len(execs), children, maxEvents)
	// 5,000 slices in one execution would be about 35,000 events, past the limit; handed off in
	// chunks of 500, none comes near it.
	if children < items/perSlice/500-1 {
		t.Errorf("%d child executions: the work was not handed off", children)
	}
	if maxEvents > statemachine.HistoryLimit/5 {
		t.Errorf("an execution's history reached %d events (limit %d)", maxEvents, statemachine.HistoryLimit)
	}
}

// A slice that fails for good inside a child execution is recorded once: the child marks the request
// failed and alerts the privacy officer; the parent ends without a second record or alert.
func TestAFailureInAChildExecutionIsRecordedOnce(t *testing.T) {
	vast := &vastScope{items: 1_000_000, perSlice: 1_000, failAt: 700}
	w := newWorld(t, lateNovember2025, func(s *system.System) {
		vast.led = s.Ledger
		s.Tasks.Deleter = vast
	})
	req, _, err := w.sys.Requests.RequestDeletion(w.ctx, requests.Deletion{Kind: request.KindEndUserDeletion, Source: "dashboard",
		Scope: platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: "A-vast", BotID: "B", EndUserID: "U"}})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	r := w.request(req.ID)
	if r.Status != request.StatusFailed {
		t.Fatalf("status %s, want failed", r.Status)
	}
	failures := 0
	for _, h := range r.History {
		if h.Status == request.StatusFailed {
			failures++
			if !strings.Contains(h.Note, "Internal") {
				t.Errorf("failure note %q does not name the error", h.Note)
			}
		}
	}
	if failures != 1 {
		t.Errorf("%d failure entries in the history, want 1", failures)
	}
	if alerts := w.mailTo("privacy"); len(alerts) != 1 {
		t.Errorf("%d alerts to the privacy officer, want 1", len(alerts))
	}
	parent := w.execution(r.ExecutionARN)
	if parent.Status != "FAILED" || parent.Error != "DeletionFailed" {
		t.Errorf("parent %s %s", parent.Status, parent.Error)
	}
	if got := vast.slices.Load(); got != 699 {
		t.Errorf("%d slices ran, want 699 before the failure", got)
	}
}
