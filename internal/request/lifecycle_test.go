package request_test

import (
	"errors"
	"maps"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/request"
)

var at = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

var statuses = []request.Status{request.StatusReceived, request.StatusAwaitingVerification, request.StatusScheduled,
	request.StatusSoftDeleted, request.StatusCancelled, request.StatusHardDeleting, request.StatusAwaitingBackupRotation,
	request.StatusCompleted, request.StatusHeld, request.StatusDeclined, request.StatusFailed}

// fixture is a request in status s whose soft-delete window ends exactly now: the one moment a
// cancel and the start of the hard delete are both allowed.
func fixture(kind request.Kind, s request.Status) request.Request {
	return request.Request{ID: "r1", AccountID: "a1", Kind: kind, Status: s,
		History:   []request.Event{{At: at.Add(-time.Hour), Status: s, Actor: "test"}},
		Deadlines: map[string]time.Time{request.DeadlineSoftDeleteEnds: at}}
}

func clone(r request.Request) request.Request {
	r.History = slices.Clone(r.History)
	r.Deadlines = maps.Clone(r.Deadlines)
	return r
}

type transition struct {
	name  request.Transition
	kind  request.Kind
	actor string
	do    func(*request.Request) error
	// allowed maps each status the transition may start from to the status it leads to.
	allowed map[request.Status]request.Status
}

// transitions is SPEC §3's status diagram: received → awaiting_verification (an emailed request
// that waits for its confirmation, or an end-customer request that waits for the bot owner) →
// scheduled → soft_deleted → cancelled | hard_deleting → awaiting_backup_rotation → completed; also
// held (legal hold), declined, failed.
var transitions = []transition{
	{request.TransitionAwaitOwner, request.KindEndCustomerRequest, "system",
		func(r *request.Request) error { return r.AwaitOwner(at, "system", "") },
		map[request.Status]request.Status{request.StatusReceived: request.StatusAwaitingVerification, request.StatusScheduled: request.StatusAwaitingVerification}},
	{request.TransitionSchedule, request.KindAccountDeletion, "owner:u",
		func(r *request.Request) error { return r.Schedule(at, "owner:u", "") },
		map[request.Status]request.Status{request.StatusAwaitingVerification: request.StatusScheduled}},
	{request.TransitionWithdraw, request.KindAccountDeletion, "email",
		func(r *request.Request) error { return r.Withdraw(at, "email", "") },
		map[request.Status]request.Status{request.StatusAwaitingVerification: request.StatusCancelled}},
	{request.TransitionSoftDelete, request.KindAccountDeletion, "system",
		func(r *request.Request) error { return r.SoftDelete(at, "system", "") },
		map[request.Status]request.Status{request.StatusReceived: request.StatusSoftDeleted, request.StatusScheduled: request.StatusSoftDeleted}},
	{request.TransitionCancel, request.KindAccountDeletion, "owner:u",
		func(r *request.Request) error { return r.Cancel(at, "owner:u", "") },
		map[request.Status]request.Status{request.StatusReceived: request.StatusCancelled, request.StatusAwaitingVerification: request.StatusCancelled,
			request.StatusScheduled: request.StatusCancelled, request.StatusSoftDeleted: request.StatusCancelled}},
	{request.TransitionStartHardDelete, request.KindEndUserDeletion, "system",
		func(r *request.Request) error { return r.StartHardDelete(at, "system", "") },
		map[request.Status]request.Status{request.StatusReceived: request.StatusHardDeleting, request.StatusScheduled: request.StatusHardDeleting,
			request.StatusSoftDeleted: request.StatusHardDeleting}},
	{request.TransitionApprove, request.KindEndCustomerRequest, "owner:u",
		func(r *request.Request) error { return r.Approve(request.Decision{By: "owner:u", At: at}) },
		map[request.Status]request.Status{request.StatusAwaitingVerification: request.StatusHardDeleting}},
	{request.TransitionDecline, request.KindEndCustomerRequest, "owner:u",
		func(r *request.Request) error {
			return r.Decline(request.Decision{By: "owner:u", At: at, Reason: "not ours"})
		},
		map[request.Status]request.Status{request.StatusAwaitingVerification: request.StatusDeclined}},
	{request.TransitionEscalate, request.KindEndCustomerRequest, "system",
		func(r *request.Request) error { return r.Escalate(at) },
		map[request.Status]request.Status{request.StatusAwaitingVerification: request.StatusAwaitingVerification}},
	{request.TransitionHold, request.KindAccountDeletion, "system",
		func(r *request.Request) error { return r.Hold(at, "system", "") },
		map[request.Status]request.Status{request.StatusHardDeleting: request.StatusHeld}},
	{request.TransitionResume, request.KindAccountDeletion, "operator:o",
		func(r *request.Request) error { return r.Resume(at, "operator:o", "") },
		map[request.Status]request.Status{request.StatusHeld: request.StatusHardDeleting}},
	{request.TransitionComplete, request.KindAccountDeletion, "system",
		func(r *request.Request) error { return r.Complete(at, "system", "") },
		map[request.Status]request.Status{request.StatusHardDeleting: request.StatusAwaitingBackupRotation}},
	{request.TransitionFinish, request.KindAccountDeletion, "system",
		func(r *request.Request) error { return r.Finish(at, "system", "") },
		map[request.Status]request.Status{request.StatusAwaitingBackupRotation: request.StatusCompleted}},
	{request.TransitionFail, request.KindAccountDeletion, "workflow",
		func(r *request.Request) error { return r.Fail(at, "workflow", "") },
		map[request.Status]request.Status{request.StatusReceived: request.StatusFailed, request.StatusAwaitingVerification: request.StatusFailed,
			request.StatusScheduled: request.StatusFailed, request.StatusSoftDeleted: request.StatusFailed, request.StatusHardDeleting: request.StatusFailed,
			request.StatusAwaitingBackupRotation: request.StatusFailed, request.StatusHeld: request.StatusFailed}},
	// The fixture's failed request has no earlier status in its history: it goes back to received.
	{request.TransitionRetry, request.KindEndUserDeletion, "operator:o",
		func(r *request.Request) error { return r.Retry(at, "operator:o", "") },
		map[request.Status]request.Status{request.StatusFailed: request.StatusReceived}},
}

// Every (status, transition) pair: an allowed one moves the request to the diagram's next status
// with its history event; every other is refused with ErrConflict and changes nothing.
func TestEveryTransitionFromEveryStatus(t *testing.T) {
	for _, tr := range transitions {
		for _, from := range statuses {
			r := fixture(tr.kind, from)
			before := clone(r)
			err := tr.do(&r)
			to, allowed := tr.allowed[from]
			if !allowed {
				var refused *request.TransitionError
				if !errors.Is(err, request.ErrConflict) || !errors.As(err, &refused) || refused.Transition != tr.name || refused.From != from {
					t.Errorf("%s from %s: %v, want a refusal naming ErrConflict", tr.name, from, err)
				}
				if !reflect.DeepEqual(r, before) {
					t.Errorf("%s from %s was refused but changed the request:\n got %+v\nwant %+v", tr.name, from, r, before)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s from %s: %v, want %s", tr.name, from, err, to)
				continue
			}
			if r.Status != to {
				t.Errorf("%s from %s: status %s, want %s", tr.name, from, r.Status, to)
			}
			if len(r.History) != len(before.History)+1 {
				t.Errorf("%s from %s: %d history events, want %d", tr.name, from, len(r.History), len(before.History)+1)
				continue
			}
			if got, want := r.History[len(r.History)-1], (request.Event{At: at, Status: to, Actor: tr.actor}); got.At != want.At || got.Status != want.Status || got.Actor != want.Actor {
				t.Errorf("%s from %s: event %+v, want %+v", tr.name, from, got, want)
			}
		}
	}
}

// The refusals that are not a plain status conflict: the soft-delete window, an account deletion
// skipping it, a decision made twice. Each changes nothing.
func TestRefusalsNameWhy(t *testing.T) {
	decided := fixture(request.KindEndCustomerRequest, request.StatusAwaitingVerification)
	decided.Decision = &request.Decision{Approved: true, By: "owner:u", At: at}
	early := fixture(request.KindAccountDeletion, request.StatusSoftDeleted)
	early.Deadlines[request.DeadlineSoftDeleteEnds] = at.Add(time.Second)
	late := fixture(request.KindAccountDeletion, request.StatusSoftDeleted)
	late.Deadlines[request.DeadlineSoftDeleteEnds] = at.Add(-time.Second)
	noWindow := fixture(request.KindAccountDeletion, request.StatusSoftDeleted)
	noWindow.Deadlines = nil
	for _, c := range []struct {
		name string
		r    request.Request
		do   func(*request.Request) error
		want error
	}{
		{"hard delete inside the window", early, func(r *request.Request) error { return r.StartHardDelete(at, "system", "") }, request.ErrWindowOpen},
		{"hard delete without a window", noWindow, func(r *request.Request) error { return r.StartHardDelete(at, "system", "") }, request.ErrWindowOpen},
		{"cancel after the window", late, func(r *request.Request) error { return r.Cancel(at, "owner:u", "") }, request.ErrWindowClosed},
		{"account hard delete skipping the window", fixture(request.KindAccountDeletion, request.StatusScheduled),
			func(r *request.Request) error { return r.StartHardDelete(at, "system", "") }, request.ErrConflict},
		{"approve twice", decided, func(r *request.Request) error { return r.Approve(request.Decision{By: "owner:u", At: at}) }, request.ErrDecided},
		{"decline after approval", decided, func(r *request.Request) error {
			return r.Decline(request.Decision{By: "officer:o", At: at, Reason: "no"})
		}, request.ErrDecided},
		{"escalate after the decision", decided, func(r *request.Request) error { return r.Escalate(at) }, request.ErrDecided},
	} {
		before := clone(c.r)
		r := clone(c.r)
		if err := c.do(&r); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
		if !reflect.DeepEqual(r, before) {
			t.Errorf("%s changed the request: %+v", c.name, r)
		}
	}
}

// What the transitions record besides the status: the backups deadline of an account deletion, the
// decision, one escalation event however often it is asked.
func TestTransitionsRecordTheirFacts(t *testing.T) {
	acct := fixture(request.KindAccountDeletion, request.StatusHardDeleting)
	if err := acct.Complete(at, "system", ""); err != nil || !acct.Deadlines[request.DeadlineBackupsRotatedBy].Equal(at.Add(request.BackupRotation)) {
		t.Errorf("account deletion completed: %v, backups deadline %v", err, acct.Deadlines[request.DeadlineBackupsRotatedBy])
	}
	other := fixture(request.KindEndUserDeletion, request.StatusHardDeleting)
	if err := other.Complete(at, "system", ""); err != nil || other.Status != request.StatusCompleted {
		t.Errorf("end-user deletion completed: %v, status %s", err, other.Status)
	}
	ec := fixture(request.KindEndCustomerRequest, request.StatusAwaitingVerification)
	if err := ec.Decline(request.Decision{By: "owner:u", At: at, Reason: "not ours"}); err != nil || ec.Decision == nil || ec.Decision.Approved || ec.Decision.Reason != "not ours" {
		t.Errorf("declined: %v, decision %+v", err, ec.Decision)
	}
	esc := fixture(request.KindEndCustomerRequest, request.StatusAwaitingVerification)
	for range 2 {
		if err := esc.Escalate(at); err != nil {
			t.Fatal(err)
		}
	}
	if len(esc.History) != 2 {
		t.Errorf("escalated twice: %d events, want one escalation", len(esc.History)-1)
	}
}

// A retried request goes back to the status it failed in, not to the start: a deletion that failed
// mid-erasure resumes hard_deleting, an end-customer request that failed while waiting for its
// decision waits again; a hold on the way does not count as where it stood.
func TestRetryReturnsToWhereTheRequestFailed(t *testing.T) {
	for from, history := range map[request.Status][]request.Status{
		request.StatusHardDeleting:         {request.StatusReceived, request.StatusHardDeleting, request.StatusHeld, request.StatusFailed},
		request.StatusAwaitingVerification: {request.StatusReceived, request.StatusAwaitingVerification, request.StatusFailed},
		request.StatusSoftDeleted:          {request.StatusReceived, request.StatusSoftDeleted, request.StatusFailed},
	} {
		r := request.Request{ID: "r1", Status: request.StatusFailed}
		for i, st := range history {
			r.History = append(r.History, request.Event{At: at.Add(time.Duration(i-10) * time.Minute), Status: st, Actor: "system"})
		}
		if got := r.Stage(); got != from {
			t.Errorf("stage of %v: %s, want %s", history, got, from)
		}
		if err := r.Retry(at, "operator:o (Olga)", "retried"); err != nil {
			t.Fatalf("retry of a request failed in %s: %v", from, err)
		}
		last := r.History[len(r.History)-1]
		if r.Status != from || last.Status != from || last.Actor != "operator:o (Olga)" || last.Note != "retried" {
			t.Errorf("retry of a request failed in %s: status %s, event %+v", from, r.Status, last)
		}
		if err := r.Retry(at, "operator:o", ""); !errors.Is(err, request.ErrConflict) {
			t.Errorf("a second retry of %s: %v, want ErrConflict", from, err)
		}
	}
}
