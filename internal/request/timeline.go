package request

import (
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
)

// Timeline of SPEC §3: how long each step of a request may take. Business days follow the Russian
// production calendar (internal/calendar).
const (
	// SoftDeleteWindow is how long a soft-deleted account stays restorable (cancellable).
	SoftDeleteWindow = 30 * 24 * time.Hour
	// HardDeleteDays: business days after the soft-delete window by which the hard delete is done.
	HardDeleteDays = 15
	// BackupRotation is how long destroyed data may still exist in backups: point-in-time recovery
	// keeps 30 days and the files bucket's noncurrent versions expire after 30 days.
	BackupRotation = 30 * 24 * time.Hour
	// BackupRotationDays is BackupRotation in calendar days: one constant.
	BackupRotationDays = int(BackupRotation / (24 * time.Hour))
	// EmailStartDays: business days to start processing an emailed request.
	EmailStartDays = 5
	// EscalationDays: business days a bot owner has to answer an end-customer request before the
	// privacy officer is asked.
	EscalationDays = 10
	// CompletionDays: calendar days for connection wipes and end-customer requests.
	CompletionDays = 30
	// RetentionMonths: no personal item is readable or stored past 13 months; the data map's
	// Personal13Months rule applies it.
	RetentionMonths = datamap.PersonalMonths
	// FinalMailRetry is how long the SLA sweep retries an outcome mail before the privacy officer is
	// alerted (it keeps retrying after that).
	FinalMailRetry = 6 * time.Hour
)

// Deadline names stored on requests (Request.Deadlines) and shown in mail.
const (
	DeadlineStartBy          = "start_by"
	DeadlineSoftDeleteEnds   = "soft_delete_ends"
	DeadlineHardDeleteBy     = "hard_delete_by"
	DeadlineBackupsRotatedBy = "backups_rotated_by"
	DeadlineCompleteBy       = "complete_by"
	DeadlineEscalateAt       = "escalate_at"
	DeadlineDecideBy         = "decide_by"
	// DeadlineFinalMailBy is set when a deletion is done but the mail telling its outcome could not
	// be sent: the SLA sweep sends it again and, once the deadline has passed, alerts the privacy
	// officer. It is removed when the mail is sent.
	DeadlineFinalMailBy = "final_mail_by"
)

// Calendar computes deadlines (internal/calendar on the Russian production calendar).
type Calendar interface {
	AddBusinessDays(from time.Time, n int) time.Time
	AddCalendarDays(from time.Time, n int) time.Time
}

// SetDeadline records deadline name at at, unless it is already set: a retried step keeps the
// dates it first set.
func (r *Request) SetDeadline(name string, at time.Time) {
	if r.Deadlines == nil {
		r.Deadlines = map[string]time.Time{}
	}
	if _, ok := r.Deadlines[name]; !ok {
		r.Deadlines[name] = at.UTC()
	}
}

// SetStartDeadline records when processing of an emailed request must start: EmailStartDays
// business days after it was received.
func (r *Request) SetStartDeadline(cal Calendar, received time.Time) {
	r.SetDeadline(DeadlineStartBy, cal.AddBusinessDays(received, EmailStartDays))
}
