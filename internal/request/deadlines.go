package request

import (
	"strings"
	"time"
)

// rank orders the statuses along the deletion's path (SPEC §3).
func rank(s Status) int {
	switch s {
	case StatusReceived, StatusAwaitingVerification, StatusScheduled:
		return 0
	case StatusSoftDeleted:
		return 1
	case StatusHardDeleting:
		return 2
	case StatusAwaitingBackupRotation:
		return 3
	default: // completed, cancelled, declined
		return 4
	}
}

// Stage is where a request stands on its path; a failed request stands where it failed (the last
// status of its history that was neither failed nor held).
func (r Request) Stage() Status {
	if r.Status != StatusFailed {
		return r.Status
	}
	for i := len(r.History) - 1; i >= 0; i-- {
		if st := r.History[i].Status; st != StatusFailed && st != StatusHeld {
			return st
		}
	}
	return StatusReceived
}

// Escalated reports whether an end-customer request was handed to the privacy officer because the
// bot owner did not answer in time.
func (r Request) Escalated() bool {
	_, ok := r.EscalatedAt()
	return ok
}

// EscalatedAt is when an end-customer request was handed to the privacy officer, if it was.
func (r Request) EscalatedAt() (time.Time, bool) {
	for _, e := range r.History {
		if strings.Contains(e.Note, "escalated to the privacy officer") {
			return e.At, true
		}
	}
	return time.Time{}, false
}

// DeadlinePending reports whether deadline name of r is still to be met: a deadline is met once the
// request is past the stage it bounds.
func (r Request) DeadlinePending(name string) bool {
	st := r.Stage()
	switch name {
	case DeadlineStartBy:
		return rank(st) < 1
	case DeadlineSoftDeleteEnds:
		return rank(st) < 2
	case DeadlineHardDeleteBy:
		return rank(st) < 3
	case DeadlineEscalateAt:
		// The end-customer workflow itself hands an undecided request to the privacy officer at
		// this date; it is missed only if that did not happen.
		return st == StatusAwaitingVerification && r.Decision == nil && !r.Escalated()
	case DeadlineFinalMailBy:
		return true // removed once the mail is sent
	default: // backups_rotated_by, complete_by, decide_by, and any other: until the request is closed
		return !r.Status.Closed()
	}
}

// breachPrefix starts the history note of a missed deadline the SLA sweep escalated.
const breachPrefix = "SLA deadline missed, privacy officer alerted: "

// BreachNote is the history note the SLA sweep records when deadline name, due at, was missed and
// the privacy officer alerted: once per request, deadline and due date.
func BreachNote(name string, at time.Time) string {
	return breachPrefix + name + " was due " + at.UTC().Format(time.RFC3339)
}

// Breach reads a history event as a BreachNote: the deadline's name, and whether it is one.
func Breach(e Event) (string, bool) {
	rest, ok := strings.CutPrefix(e.Note, breachPrefix)
	if !ok {
		return "", false
	}
	name, _, _ := strings.Cut(rest, " was due ")
	return name, true
}
