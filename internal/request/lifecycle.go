package request

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/lerr"
)

// Errors a refused transition names. A refusal leaves the request unchanged.
var (
	// ErrConflict: the request is not in a status the change may start from (someone else won).
	ErrConflict = lerr.New(lerr.ECONFLICT, "request status changed").Tell("the request can no longer be changed")
	// ErrWindowOpen: a hard delete may not start before the soft-delete window has ended.
	ErrWindowOpen = lerr.New(lerr.EWINDOWOPEN, "the soft-delete window has not ended")
	// ErrWindowClosed: a soft-deleted account can no longer be restored, its window has ended.
	ErrWindowClosed = lerr.New(lerr.ECONFLICT, "the soft-delete window has ended")
	// ErrDecided: an end-customer request was already approved or declined.
	ErrDecided = lerr.New(lerr.ECONFLICT, "the request is already decided")
)

// TransitionError is a transition the request refused: Err says why (ErrConflict, ErrWindowOpen,
// ErrWindowClosed, ErrDecided).
type TransitionError struct {
	ID         string
	Transition Transition
	From       Status
	Err        error
}

func (e *TransitionError) Error() string {
	return fmt.Sprintf("%v: %s cannot %s: it is %s", e.Err, e.ID, e.Transition, e.From)
}

func (e *TransitionError) Unwrap() error { return e.Err }

// Transition names a change of status, for errors and tests.
type Transition string

// The transitions of SPEC §3's status diagram: received → awaiting_verification → scheduled →
// soft_deleted → cancelled | hard_deleting → awaiting_backup_rotation → completed; also held,
// declined, failed.
const (
	TransitionAwaitOwner      Transition = "await the owner's decision"
	TransitionSchedule        Transition = "be scheduled"
	TransitionWithdraw        Transition = "be withdrawn"
	TransitionSoftDelete      Transition = "be soft-deleted"
	TransitionCancel          Transition = "be cancelled"
	TransitionStartHardDelete Transition = "start the hard delete"
	TransitionApprove         Transition = "be approved"
	TransitionDecline         Transition = "be declined"
	TransitionEscalate        Transition = "be escalated"
	TransitionHold            Transition = "be held"
	TransitionResume          Transition = "resume after a hold"
	TransitionComplete        Transition = "complete"
	TransitionFinish          Transition = "finish"
	TransitionFail            Transition = "fail"
	TransitionRetry           Transition = "be retried"
)

// Failable are the statuses a request may fail from: any but a closed one or failed itself. The
// state machines' RecordFailure step writes failed under the same condition (the ASL tests compare).
func (s Status) Failable() bool { return !s.Closed() && s != StatusFailed }

func (r *Request) refuse(t Transition, why error) error {
	return &TransitionError{ID: r.ID, Transition: t, From: r.Status, Err: why}
}

// move checks that the request is in one of from, then moves it to status to with its event.
func (r *Request) move(t Transition, from []Status, to Status, at time.Time, actor, note string) error {
	if !slices.Contains(from, r.Status) {
		return r.refuse(t, ErrConflict)
	}
	r.to(to, at, actor, note)
	return nil
}

// to moves the request to status s and records the event.
func (r *Request) to(s Status, at time.Time, actor, note string) {
	r.Status = s
	r.History = append(r.History, Event{At: at, Status: s, Actor: actor, Note: note})
}

// AwaitOwner: an end-customer request waits for the bot owner's decision (awaiting_verification).
func (r *Request) AwaitOwner(at time.Time, actor, note string) error {
	return r.move(TransitionAwaitOwner, []Status{StatusReceived, StatusScheduled}, StatusAwaitingVerification, at, actor, note)
}

// Schedule: a request that waited for its emailed confirmation is confirmed.
func (r *Request) Schedule(at time.Time, actor, note string) error {
	return r.move(TransitionSchedule, []Status{StatusAwaitingVerification}, StatusScheduled, at, actor, note)
}

// Withdraw cancels a request that still waits for its confirmation: nothing was deleted.
func (r *Request) Withdraw(at time.Time, actor, note string) error {
	return r.move(TransitionWithdraw, []Status{StatusAwaitingVerification}, StatusCancelled, at, actor, note)
}

// SoftDelete: the account is deactivated for the soft-delete window (the caller sets its deadlines).
func (r *Request) SoftDelete(at time.Time, actor, note string) error {
	return r.move(TransitionSoftDelete, []Status{StatusReceived, StatusScheduled}, StatusSoftDeleted, at, actor, note)
}

// Cancel cancels a request before anything is deleted: before it starts, or inside its soft-delete
// window (ErrWindowClosed after it).
func (r *Request) Cancel(at time.Time, actor, note string) error {
	if r.Status == StatusSoftDeleted {
		if ends, set := r.Deadlines[DeadlineSoftDeleteEnds]; set && at.After(ends) {
			return r.refuse(TransitionCancel, ErrWindowClosed)
		}
	}
	return r.move(TransitionCancel, []Status{StatusReceived, StatusAwaitingVerification, StatusScheduled, StatusSoftDeleted},
		StatusCancelled, at, actor, note)
}

// StartHardDelete starts destroying: a soft-deleted account once its window has ended
// (ErrWindowOpen before), or at once a request that cannot be cancelled. An account deletion never
// skips its soft-delete window: a hard delete never starts while a cancel could still win.
func (r *Request) StartHardDelete(at time.Time, actor, note string) error {
	switch r.Status {
	case StatusSoftDeleted:
		if ends := r.Deadlines[DeadlineSoftDeleteEnds]; ends.IsZero() || at.Before(ends) {
			return r.refuse(TransitionStartHardDelete, ErrWindowOpen)
		}
	case StatusReceived, StatusScheduled:
		if r.Kind == KindAccountDeletion {
			return r.refuse(TransitionStartHardDelete, ErrConflict)
		}
	}
	return r.move(TransitionStartHardDelete, []Status{StatusSoftDeleted, StatusReceived, StatusScheduled}, StatusHardDeleting, at, actor, note)
}

// decide records the answer to an end-customer request that waits for it.
func (r *Request) decide(t Transition, d Decision, to Status, note string) error {
	if r.Status != StatusAwaitingVerification {
		return r.refuse(t, ErrConflict)
	}
	if r.Decision != nil {
		return r.refuse(t, ErrDecided)
	}
	r.Decision = &d
	r.to(to, d.At, d.By, note)
	return nil
}

// Approve: the bot owner (or the privacy officer) approves an end-customer request; its deletion
// starts.
func (r *Request) Approve(d Decision) error {
	d.Approved = true
	return r.decide(TransitionApprove, d, StatusHardDeleting, "approved by "+d.By)
}

// Decline: the bot owner (or the privacy officer) declines an end-customer request, with a reason.
func (r *Request) Decline(d Decision) error {
	if strings.TrimSpace(d.Reason) == "" {
		return errors.New("a decline needs a reason")
	}
	d.Approved = false
	return r.decide(TransitionDecline, d, StatusDeclined, "declined by "+d.By)
}

// escalatedNote is the event of an escalation.
const escalatedNote = "the bot owner did not answer within 10 business days: escalated to the privacy officer"

// Escalate records that the bot owner left an end-customer request unanswered for EscalationDays
// and the privacy officer is asked; the status stays. Escalating twice records it once.
func (r *Request) Escalate(at time.Time) error {
	if r.Status != StatusAwaitingVerification {
		return r.refuse(TransitionEscalate, ErrConflict)
	}
	if r.Decision != nil {
		return r.refuse(TransitionEscalate, ErrDecided)
	}
	if n := len(r.History); n > 0 && strings.Contains(r.History[n-1].Note, "privacy officer") {
		return nil
	}
	r.to(r.Status, at, "system", escalatedNote)
	return nil
}

// Hold: a round of destruction ended with part of the scope under legal hold.
func (r *Request) Hold(at time.Time, actor, note string) error {
	return r.move(TransitionHold, []Status{StatusHardDeleting}, StatusHeld, at, actor, note)
}

// Resume: the hold was released, the deletion is finished.
func (r *Request) Resume(at time.Time, actor, note string) error {
	return r.move(TransitionResume, []Status{StatusHeld}, StatusHardDeleting, at, actor, note)
}

// Complete: the scope is destroyed and verified. An account deletion then waits for its backups to
// rotate (its deadline is set BackupRotation ahead); any other request is completed.
func (r *Request) Complete(at time.Time, actor, note string) error {
	if r.Status != StatusHardDeleting {
		return r.refuse(TransitionComplete, ErrConflict)
	}
	if r.Kind != KindAccountDeletion {
		r.to(StatusCompleted, at, actor, note)
		return nil
	}
	if r.Deadlines == nil {
		r.Deadlines = map[string]time.Time{}
	}
	r.Deadlines[DeadlineBackupsRotatedBy] = at.Add(BackupRotation)
	r.to(StatusAwaitingBackupRotation, at, actor, note)
	return nil
}

// Finish: the backups of an account deletion have rotated; it is completed.
func (r *Request) Finish(at time.Time, actor, note string) error {
	return r.move(TransitionFinish, []Status{StatusAwaitingBackupRotation}, StatusCompleted, at, actor, note)
}

// Fail: the request's workflow failed after its retries; it is escalated to the privacy officer.
func (r *Request) Fail(at time.Time, actor, note string) error {
	if !r.Status.Failable() {
		return r.refuse(TransitionFail, ErrConflict)
	}
	r.to(StatusFailed, at, actor, note)
	return nil
}

// Retry: an operator re-drives a failed request from where it stopped; it goes back to the status
// it failed in (Stage). A request that failed while awaiting a decision goes back to waiting for
// it, and one that failed before its workflow opened it goes back to received.
func (r *Request) Retry(at time.Time, actor, note string) error {
	if r.Status != StatusFailed {
		return r.refuse(TransitionRetry, ErrConflict)
	}
	r.to(r.Stage(), at, actor, note)
	return nil
}
