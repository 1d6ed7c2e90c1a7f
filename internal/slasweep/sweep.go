// Package slasweep is the hourly SLA sweep (issue 8, item 2): it finds open deletion requests past
// or near a deadline of SPEC §3, escalates each missed deadline once to the privacy officer (a mail
// without personal data, and a CloudWatch embedded-metric-format metric), and reconciles requests
// with their workflows: a request that needs a running execution and has none (never started, or
// ended while the request is still open) is started again.
package slasweep

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	"github.com/aws/aws-sdk-go-v2/service/sfn/types"

	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/obs"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/workflow"
)

// Actor is the history actor of what the sweep records on a request.
const Actor = "sweep:sla"

// Defaults of the Sweep's tunables.
const (
	DefaultNear = 24 * time.Hour
	// DefaultGrace: a deadline counts as missed only this long after it passed. The workflows reach
	// several milestones exactly at their deadline (the soft-delete window's Wait ends at
	// soft_delete_ends, the backup-rotation Wait at backups_rotated_by); a run landing in the
	// seconds between must not alert.
	DefaultGrace = time.Hour
	// DefaultMinAge: a request written this recently is not reconciled; its execution may be
	// starting (intake writes the request, then starts it) or its synchronous deletion running.
	DefaultMinAge = 15 * time.Minute
	// DefaultMaxRedrives bounds how often the sweep starts one request again; after that it is left
	// to the privacy officer (its deadlines still escalate).
	DefaultMaxRedrives = 3
)

// History notes the sweep writes (and reads back to do nothing twice).
const (
	redrivenPrefix = "re-driven by the SLA sweep: "
)

// OpenStatuses are the statuses of requests that are not closed: the ones the sweep examines.
var OpenStatuses = []request.Status{
	request.StatusReceived, request.StatusAwaitingVerification, request.StatusScheduled, request.StatusSoftDeleted,
	request.StatusHardDeleting, request.StatusAwaitingBackupRotation, request.StatusHeld, request.StatusFailed,
}

// Mailer sends mail (internal/mailer).
type Mailer interface {
	Send(ctx context.Context, m mailer.Mail) (string, error)
}

// FinalMailer sends again the outcome mail of a done request that could not be sent
// (workflow.Tasks.SendFinalMail): a no-op for a request without request.DeadlineFinalMailBy.
type FinalMailer interface {
	SendFinalMail(ctx context.Context, id string) error
}

// FinalMailWindow is how far back the sweep looks among closed requests for an outcome mail still to
// send: every attempt notes the request, which keeps it inside.
const FinalMailWindow = 7 * 24 * time.Hour

// Finisher ends an account deletion once backups have rotated (workflow.Tasks.Finish): the final mail
// with the act, and completed.
type Finisher interface {
	Finish(ctx context.Context, in workflow.State) (workflow.Done, error)
}

// Sweep is the SLA sweep.
type Sweep struct {
	Ledger  *ledger.Ledger
	Starter *workflow.Starter
	// SFN describes executions and starts the re-drives under a fresh name (a closed execution's
	// name cannot be used again, so Starter.Start cannot re-drive one that ended).
	SFN            workflow.Client
	Mail           Mailer
	PrivacyOfficer string
	// Finisher, if set, finishes an account deletion left in awaiting_backup_rotation with no
	// execution (a held request whose hold was released) once its backups_rotated_by has passed;
	// re-driving the account-deletion machine would not: its Open refuses that status and the
	// request would be marked failed.
	Finisher Finisher
	// FinalMail, if set, sends again the outcome mail of a done request that could not be sent;
	// its final_mail_by deadline escalates like any other.
	FinalMail FinalMailer
	// Now is the clock (the virtual clock locally); time.Now when nil.
	Now func() time.Time
	// Log receives one line per breach, near deadline, re-drive or error, naming requests by id
	// only; slog.Default when nil.
	Log *slog.Logger
	// Metrics receives the EMF lines; os.Stdout (CloudWatch Logs, in Lambda) when nil.
	Metrics io.Writer
	// Near is how close a deadline counts as near (DefaultNear when 0); Grace, MinAge and
	// MaxRedrives default to DefaultGrace, DefaultMinAge and DefaultMaxRedrives when 0.
	Near, Grace, MinAge time.Duration
	MaxRedrives         int
}

// Report counts what one run found and did. It holds request counts only, no personal data.
type Report struct {
	// Checked is the number of open requests examined.
	Checked int `json:"checked"`
	// Near counts deadlines not yet met that fall within Near.
	Near int `json:"near"`
	// Breached counts deadlines not met and past (the ones already escalated by an earlier run
	// included); Breaches has them by deadline name.
	Breached int            `json:"breached"`
	Breaches map[string]int `json:"breaches,omitempty"`
	// Escalated is the number of mails this run sent to the privacy officer.
	Escalated int `json:"escalated"`
	// Redriven counts executions this run started for requests whose workflow was missing or had
	// ended; Finished, account deletions it finished after backup rotation (the hold-release gap).
	Redriven int `json:"redriven"`
	Finished int `json:"finished"`
	// FinalMails counts outcome mails this run sent again; FinalMailsPending, those still failing.
	FinalMails        int `json:"finalMails"`
	FinalMailsPending int `json:"finalMailsPending"`
	// Stalled counts requests with no running workflow the sweep does not start again (not safe for
	// their status, or re-driven MaxRedrives times already): their deadlines escalate.
	Stalled int `json:"stalled"`
	// Held counts requests under legal hold: a hold lawfully pauses the deletion, so their deadlines
	// are not escalated and nothing is re-driven. A request every hold of which is released is not
	// held any more: the run resumes it and starts its machine again (counted in Redriven).
	Held int `json:"held"`
	// Errors counts requests the run could not handle; the next run tries again.
	Errors int `json:"errors"`
}

// Handle is the Lambda handler: EventBridge Scheduler invokes it hourly with the schedule's input,
// which it ignores.
func (s *Sweep) Handle(ctx context.Context, _ json.RawMessage) (Report, error) {
	return s.Run(ctx)
}

// Run sweeps once. Per-request failures are counted and logged, not returned; the error is for a
// run that could not do its job (not configured, a listing failed, the context ended).
func (s *Sweep) Run(ctx context.Context) (Report, error) {
	rep := Report{Breaches: map[string]int{}}
	if s.Ledger == nil || s.Starter == nil || s.SFN == nil || s.Mail == nil || s.PrivacyOfficer == "" {
		return rep, errors.New("sla sweep: not configured")
	}
	now := s.now()
	seen := map[string]bool{}
	for _, st := range append(slices.Clone(OpenStatuses), closedStatuses...) {
		var rs []request.Request
		var err error
		if st.Closed() {
			// A closed request matters only while its outcome mail is still to send.
			rs, err = s.Ledger.ByStatusSince(ctx, st, now.Add(-FinalMailWindow))
		} else {
			rs, err = s.Ledger.ByStatus(ctx, st)
		}
		if err != nil {
			return rep, err
		}
		for _, r := range rs {
			if err := ctx.Err(); err != nil {
				return rep, err
			}
			if seen[r.ID] { // moved between statuses while the run listed them
				continue
			}
			seen[r.ID] = true
			if err := s.one(ctx, r.ID, now, &rep); err != nil {
				rep.Errors++
				s.log().Error("sla sweep: request not handled", "request", r.ID, "err", err)
			}
		}
	}
	if err := s.emit(now, rep); err != nil {
		s.log().Error("sla sweep: metrics not written", "err", err)
	}
	s.log().Info("sla sweep done", "checked", rep.Checked, "near", rep.Near, "breached", rep.Breached,
		"escalated", rep.Escalated, "redriven", rep.Redriven, "finished", rep.Finished, "finalMails", rep.FinalMails,
		"finalMailsPending", rep.FinalMailsPending, "stalled", rep.Stalled,
		"held", rep.Held, "errors", rep.Errors)
	return rep, nil
}

// emit writes one EMF line per deadline with breaches: SLABreaches is the number of requests past
// that deadline at this run, so an alarm on it stays in alarm until every one is resolved.
func (s *Sweep) emit(now time.Time, rep Report) error {
	w := s.Metrics
	if w == nil {
		w = os.Stdout
	}
	total := 0
	for _, name := range slices.Sorted(maps.Keys(rep.Breaches)) {
		total += rep.Breaches[name]
		if err := obs.Write(w, now, map[string]string{"Deadline": name},
			obs.Metric{Name: "SLABreaches", Unit: obs.Count, Value: float64(rep.Breaches[name])}); err != nil {
			return err
		}
	}
	// The total, without a dimension, on every run (0 included): what template.yaml's SLABreachAlarm
	// watches (an alarm sees only the exact dimension set it names).
	return obs.Write(w, now, nil, obs.Metric{Name: "SLABreaches", Unit: obs.Count, Value: float64(total)})
}

// one examines one request: reconciliation first (a re-drive or finish changes what is pending),
// then its deadlines.
func (s *Sweep) one(ctx context.Context, id string, now time.Time, rep *Report) error {
	r, err := s.Ledger.Get(ctx, id) // the index is eventually consistent: act on the request itself
	if errors.Is(err, ledger.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	_, mailDue := r.Deadlines[request.DeadlineFinalMailBy]
	if r.Status.Closed() && !mailDue {
		return nil
	}
	rep.Checked++
	if r.Status == request.StatusHeld {
		resumed, err := s.resumeReleased(ctx, r, rep)
		if !resumed {
			rep.Held++
		}
		return err
	}
	if r, err = s.reconcile(ctx, r, now, rep); err != nil {
		return err
	}
	if r, err = s.finalMail(ctx, r, rep); err != nil {
		return err
	}
	var errs []error
	for _, name := range slices.Sorted(maps.Keys(r.Deadlines)) {
		at := r.Deadlines[name]
		if !r.DeadlinePending(name) {
			continue
		}
		switch {
		case now.After(at.Add(s.grace())):
			rep.Breached++
			rep.Breaches[name]++
			sent, err := s.escalate(ctx, r, name, at, now)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if sent {
				rep.Escalated++
				s.log().Warn("sla breach escalated", "request", r.ID, "kind", r.Kind, "status", r.Status, "deadline", name, "due", at)
			}
		case at.Sub(now) <= s.near():
			rep.Near++
			s.log().Info("sla deadline near", "request", r.ID, "kind", r.Kind, "status", r.Status, "deadline", name, "due", at)
		}
	}
	return errors.Join(errs...)
}

func escalationNote(name string, at time.Time) string { return request.BreachNote(name, at) }

func hasNote(r *request.Request, note string) bool {
	return slices.ContainsFunc(r.History, func(e request.Event) bool { return e.Note == note })
}

var errAlready = errors.New("already escalated")

// escalate mails the privacy officer about a missed deadline once per request, deadline and due
// date (a deadline set again, as backups_rotated_by is by a second round, escalates again). The
// note on the request is written first, conditionally, so two runs cannot both mail; a mail that
// fails takes its note back, so the next run tries again.
func (s *Sweep) escalate(ctx context.Context, r request.Request, name string, at, now time.Time) (bool, error) {
	note := escalationNote(name, at)
	if hasNote(&r, note) {
		return false, nil
	}
	_, err := s.Ledger.Update(ctx, r.ID, func(x *request.Request) error {
		if hasNote(x, note) {
			return errAlready
		}
		x.History = append(x.History, request.Event{At: now.UTC(), Status: x.Status, Actor: Actor, Note: note})
		return nil
	})
	if errors.Is(err, errAlready) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	_, err = s.Mail.Send(ctx, mailer.Mail{Template: mailer.DeadlineMissed, Locale: "ru", To: []string{s.PrivacyOfficer},
		Data: mailer.Data{RequestID: r.ID, RequestKind: string(r.Kind), State: string(r.Status),
			Deadline: name, Timeline: []mailer.Milestone{{Name: name, At: at}}}})
	if err == nil {
		return true, nil
	}
	_, uerr := s.Ledger.Update(ctx, r.ID, func(x *request.Request) error {
		x.History = slices.DeleteFunc(x.History, func(e request.Event) bool { return e.Note == note && e.Actor == Actor })
		return nil
	})
	return false, errors.Join(fmt.Errorf("escalate %s of %s: %w", name, r.ID, err), uerr)
}

// needsWorkflow reports whether r should have a running execution.
func needsWorkflow(r request.Request) bool {
	switch r.Status {
	case request.StatusReceived, request.StatusScheduled, request.StatusSoftDeleted, request.StatusHardDeleting,
		request.StatusAwaitingBackupRotation:
		return true
	}
	// awaiting_verification waits for a person; held for a hold's release; failed for an operator
	// (the workflow retried and alerted already).
	return false
}

// redrivable reports whether starting r's machine again is safe: each machine starts with Open,
// which accepts received and scheduled for every kind, soft_deleted for an account deletion (the
// switch-off is conditional and the confirmation is sent once, so only the window's Wait is
// re-armed), and hard_deleting for every kind (the erase resumes; what is gone stays gone): an
// account deletion passes its window at once, a decided end-customer request has its decision
// handed over at once. An account deletion in awaiting_backup_rotation is finished, not re-driven.
func redrivable(r request.Request) bool {
	switch r.Status {
	case request.StatusReceived, request.StatusScheduled:
		return true
	case request.StatusSoftDeleted:
		return r.Kind == request.KindAccountDeletion
	case request.StatusHardDeleting:
		return r.Kind != request.KindEndCustomerRequest || r.Decision != nil
	}
	return false
}

// execution says what became of an execution: "" if it runs, else why it does not.
func (s *Sweep) execution(ctx context.Context, arn string) (string, error) {
	if arn == "" {
		return "no execution", nil
	}
	out, err := s.SFN.DescribeExecution(ctx, &sfn.DescribeExecutionInput{ExecutionArn: aws.String(arn)})
	var missing *types.ExecutionDoesNotExist
	if errors.As(err, &missing) {
		return "execution does not exist", nil
	}
	if err != nil {
		return "", fmt.Errorf("describe %s: %w", arn, err)
	}
	switch out.Status {
	case types.ExecutionStatusRunning, types.ExecutionStatusPendingRedrive:
		return "", nil
	}
	return "execution " + strings.ToLower(string(out.Status)), nil
}

func redrives(r request.Request) int {
	n := 0
	for _, e := range r.History {
		if strings.HasPrefix(e.Note, redrivenPrefix) {
			n++
		}
	}
	return n
}

// reconcile starts r's workflow again when it should run and does not, and returns r as it now is.
func (s *Sweep) reconcile(ctx context.Context, r request.Request, now time.Time, rep *Report) (request.Request, error) {
	if !needsWorkflow(r) || now.Sub(r.UpdatedAt) < s.minAge() {
		return r, nil
	}
	why, err := s.execution(ctx, r.ExecutionARN)
	if err != nil || why == "" {
		return r, err
	}
	if r.Kind == request.KindAccountDeletion && r.Status == request.StatusAwaitingBackupRotation {
		return s.finish(ctx, r, why, now, rep)
	}
	n := redrives(r) + 1
	if !redrivable(r) || n > s.maxRedrives() {
		rep.Stalled++
		s.log().Warn("sla sweep: request has no running workflow and is not re-driven", "request", r.ID, "kind", r.Kind,
			"status", r.Status, "why", why, "redrives", n-1)
		return r, nil
	}
	name, err := s.start(ctx, r, n)
	if err != nil {
		return r, err
	}
	rep.Redriven++
	s.log().Warn("sla sweep: workflow re-driven", "request", r.ID, "kind", r.Kind, "status", r.Status, "why", why, "execution", name)
	return s.Ledger.Note(ctx, r.ID, Actor, fmt.Sprintf("%s%s; started execution %s", redrivenPrefix, why, name))
}

// resumeReleased finishes a request every hold of which is released but which is still held (the
// release could not resume it): the Resume transition, then its machine started again. It reports
// whether it resumed r.
func (s *Sweep) resumeReleased(ctx context.Context, r request.Request, rep *Report) (bool, error) {
	if len(r.HeldBy) == 0 {
		return false, nil
	}
	for _, id := range r.HeldBy {
		h, err := s.Ledger.Hold(ctx, id)
		if errors.Is(err, ledger.ErrHoldNotFound) {
			continue // no such hold keeps anything
		}
		if err != nil {
			return false, err
		}
		if h.ReleasedAt == nil {
			return false, nil
		}
	}
	held := slices.Clone(r.HeldBy)
	r, err := s.Ledger.Update(ctx, r.ID, func(x *request.Request) error {
		if x.Status != request.StatusHeld || !slices.Equal(x.HeldBy, held) {
			return errAlready
		}
		return x.Resume(s.now(), Actor, "its legal holds ("+strings.Join(held, ", ")+") are released: finishing the deletion")
	})
	if errors.Is(err, errAlready) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	name, err := s.start(ctx, r, redrives(r)+1)
	if err != nil {
		return true, err // resumed; the next run re-drives it as any hard_deleting request without a workflow
	}
	rep.Redriven++
	s.log().Warn("sla sweep: held request resumed after its holds' release", "request", r.ID, "kind", r.Kind, "execution", name)
	_, err = s.Ledger.Note(ctx, r.ID, Actor, fmt.Sprintf("%sits legal holds are released; started execution %s", redrivenPrefix, name))
	return true, err
}

// closedStatuses are the closed statuses a done request's outcome mail may be pending in.
var closedStatuses = []request.Status{request.StatusCompleted, request.StatusDeclined}

// finalMail sends again the outcome mail of a done request that could not be sent, and returns r as
// it now is. A mail that fails again stays pending (its deadline escalates); only the error's name is
// logged, its text may hold an address.
func (s *Sweep) finalMail(ctx context.Context, r request.Request, rep *Report) (request.Request, error) {
	if _, due := r.Deadlines[request.DeadlineFinalMailBy]; !due || s.FinalMail == nil {
		return r, nil
	}
	if err := s.FinalMail.SendFinalMail(ctx, r.ID); err != nil {
		rep.FinalMailsPending++
		s.log().Warn("sla sweep: outcome mail still not sent", "request", r.ID, "kind", r.Kind, "err", workflow.Classify(err))
		return r, nil
	}
	rep.FinalMails++
	s.log().Info("sla sweep: outcome mail sent again", "request", r.ID, "kind", r.Kind)
	return s.Ledger.Get(ctx, r.ID)
}

// finish closes the hold-release gap: an account deletion whose last round of destruction ended
// outside the workflow (a released hold) waits in awaiting_backup_rotation with no execution to send
// the final mail. Once backups_rotated_by has passed, the sweep does what the machine's Finish
// state would: nothing destructive, only the final mail with the act and completed.
func (s *Sweep) finish(ctx context.Context, r request.Request, why string, now time.Time, rep *Report) (request.Request, error) {
	at, ok := r.Deadlines[request.DeadlineBackupsRotatedBy]
	if !ok || now.Before(at) {
		return r, nil // still rotating: nothing is due
	}
	if s.Finisher == nil || redrives(r) >= s.maxRedrives() {
		rep.Stalled++
		s.log().Warn("sla sweep: account deletion awaits its final mail and is not finished here", "request", r.ID, "why", why,
			"finisher", s.Finisher != nil, "attempts", redrives(r))
		return r, nil
	}
	if _, err := s.Ledger.Note(ctx, r.ID, Actor, redrivenPrefix+why+"; backups rotated: finishing (final mail with the act)"); err != nil {
		return r, err
	}
	if _, err := s.Finisher.Finish(ctx, workflow.State{RequestID: r.ID}); err != nil {
		return r, fmt.Errorf("finish %s: %w", r.ID, err)
	}
	rep.Finished++
	s.log().Warn("sla sweep: account deletion finished after backup rotation", "request", r.ID, "why", why)
	return s.Ledger.Get(ctx, r.ID)
}

// start starts r's machine: under the request's own name if it never had an execution (Starter.Start,
// a no-op if one is running), else under a fresh name, since Step Functions refuses the name of a
// closed execution. It records the execution on the request and returns the name started.
func (s *Sweep) start(ctx context.Context, r request.Request, n int) (string, error) {
	if r.ExecutionARN == "" {
		arn, err := s.Starter.Start(ctx, r)
		if err != nil {
			return "", err
		}
		why, err := s.execution(ctx, arn)
		if err != nil {
			return "", err
		}
		if why == "" {
			return workflow.ExecutionName(r.ID), nil
		}
		// The request's own name belongs to a closed execution that was never recorded: a fresh name.
	}
	machine, err := s.Starter.Machines.For(r.Kind)
	if err != nil {
		return "", err
	}
	name := redriveName(r.ID, n)
	input, err := json.Marshal(workflow.Input{RequestID: r.ID})
	if err != nil {
		return "", err
	}
	arn := workflow.ExecutionARN(machine, name)
	out, err := s.SFN.StartExecution(ctx, &sfn.StartExecutionInput{StateMachineArn: aws.String(machine),
		Name: aws.String(name), Input: aws.String(string(input))})
	var exists *types.ExecutionAlreadyExists
	switch {
	case errors.As(err, &exists):
		// Started by an earlier run that could not record it: fine while it runs.
		if why, derr := s.execution(ctx, arn); derr != nil || why != "" {
			return "", errors.Join(fmt.Errorf("re-drive %s: %s already used (%s)", r.ID, name, why), derr)
		}
	case err != nil:
		return "", fmt.Errorf("re-drive %s: %w", r.ID, err)
	default:
		arn = aws.ToString(out.ExecutionArn)
	}
	_, err = s.Ledger.Update(ctx, r.ID, func(x *request.Request) error {
		x.ExecutionARN = arn
		return nil
	})
	return name, err
}

// redriveName is the n-th re-drive's execution name: the request id and -r<n>, within the 80
// characters Step Functions allows.
func redriveName(id string, n int) string {
	suffix := fmt.Sprintf("-r%d", n)
	if len(id)+len(suffix) > 80 {
		id = id[:80-len(suffix)]
	}
	return id + suffix
}

func (s *Sweep) now() time.Time {
	if s.Now == nil {
		return time.Now().UTC()
	}
	return s.Now().UTC()
}

func (s *Sweep) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func (s *Sweep) near() time.Duration   { return orDefault(s.Near, DefaultNear) }
func (s *Sweep) grace() time.Duration  { return orDefault(s.Grace, DefaultGrace) }
func (s *Sweep) minAge() time.Duration { return orDefault(s.MinAge, DefaultMinAge) }

func (s *Sweep) maxRedrives() int {
	if s.MaxRedrives <= 0 {
		return DefaultMaxRedrives
	}
	return s.MaxRedrives
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}
