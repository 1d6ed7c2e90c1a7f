package slasweep_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/holds"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// heldAccountDeletion places a hold on the account's first end user under the authority's ref, then
// has the account deleted and lets its 30-day window pass: the hard delete stops at the hold.
func (w *world) heldAccountDeletion(ref string) (platform.LegalHold, request.Request) {
	w.t.Helper()
	sys := w.stack.System
	if len(w.account.EndUsers) == 0 {
		w.t.Fatal("no end user seeded")
	}
	h, err := sys.Ledger.PlaceHold(w.ctx, platform.LegalHold{AccountID: w.account.ID, ScopeKind: platform.HoldEndUser,
		ScopeID: w.account.EndUsers[0].ID, Reason: "court order", AuthorityRef: ref}, "operator:test")
	if err != nil {
		w.t.Fatal(err)
	}
	req, _, err := sys.Requests.RequestAccountDeletion(w.ctx, requests.AccountDeletion{AccountID: w.account.ID, Source: "dashboard"})
	if err != nil {
		w.t.Fatal(err)
	}
	w.settle()
	w.advance(30*24*time.Hour + time.Minute)
	if r := w.request(req.ID); r.Status != request.StatusHeld {
		w.t.Fatalf("status %s, want held", r.Status)
	}
	return h, req
}

// noStart is a workflow service that is down.
type noStart struct{}

func (noStart) Restart(context.Context, request.Request, string) (string, error) {
	return "", errors.New("step functions unavailable")
}

// A release whose restart failed leaves the account deletion resumed (hard_deleting) with its
// first execution ended at Held: the sweep starts its machine again, whose Open lets a
// hard_deleting account deletion carry on, and the deletion finishes its destruction.
func TestAResumedDeletionWithoutItsWorkflowIsRedriven(t *testing.T) {
	w := newWorld(t)
	sys := w.stack.System
	h, req := w.heldAccountDeletion("A40-2/2026")
	svc := &holds.Service{Ledger: sys.Ledger, Store: sys.Store, Workflows: noStart{}, Now: sys.Now}
	if _, resumed, err := svc.Release(w.ctx, h.ID, "operator:test", "case closed"); err == nil || len(resumed) != 1 {
		t.Fatalf("release with the workflows down: %d resumed, %v", len(resumed), err)
	}
	if r := w.request(req.ID); r.Status != request.StatusHardDeleting {
		t.Fatalf("status %s after the release, want hard_deleting", r.Status)
	}
	w.advance(20 * time.Minute)
	if rep := w.run(); rep.Redriven != 1 || rep.Stalled != 0 {
		t.Fatalf("sweep: %+v", rep)
	}
	w.settle()
	r := w.request(req.ID)
	if r.Status != request.StatusAwaitingBackupRotation || len(r.Evidence) != 2 {
		t.Fatalf("after the re-drive: %s, evidence %v", r.Status, r.Evidence)
	}
}

// A request still held after every hold on it was released (the release could not resume it) is
// resumed by the sweep and finished by its workflow; while a hold on it stands, it stays held.
func TestARequestHeldOnlyByReleasedHoldsIsResumed(t *testing.T) {
	w := newWorld(t)
	sys := w.stack.System
	h, req := w.heldAccountDeletion("A40-3/2026")
	if rep := w.run(); rep.Held != 1 || rep.Redriven != 0 {
		t.Fatalf("while the hold stands: %+v", rep)
	}
	// The hold is released in the ledger alone: nothing resumed the request.
	if _, err := sys.Ledger.ReleaseHold(w.ctx, h.ID, "operator:test", "case closed"); err != nil {
		t.Fatal(err)
	}
	if rep := w.run(); rep.Held != 0 || rep.Redriven != 1 {
		t.Fatalf("after the release: %+v", rep)
	}
	w.settle()
	r := w.request(req.ID)
	if r.Status != request.StatusAwaitingBackupRotation || len(r.Evidence) != 2 {
		t.Fatalf("after the sweep: %s, evidence %v", r.Status, r.Evidence)
	}
}
