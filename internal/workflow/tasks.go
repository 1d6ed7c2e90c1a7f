package workflow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/notify"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

const defaultSliceDuration = 10 * time.Minute

// Deleter carries out hard deletes (internal/deletion).
type Deleter interface {
	Step(ctx context.Context, requestID string, cp erasure.Checkpoint, b erasure.Budget) (erasure.Checkpoint, error)
	Complete(ctx context.Context, requestID string, cp erasure.Checkpoint) (request.Request, error)
	Evidence(ctx context.Context, requestID string) ([]evidence.Record, error)
	// Resume is the checkpoint the request's erase loop last reached (zero if none).
	Resume(ctx context.Context, requestID string) (erasure.Checkpoint, error)
}

// Suspender deactivates an account for the soft-delete window and puts it back (internal/erasure).
type Suspender interface {
	SoftDelete(ctx context.Context, accountID, requestID string) (erasure.Suspension, error)
	Restore(ctx context.Context, accountID, requestID string) (erasure.Suspension, error)
}

// errCancelled: the request was cancelled under the task.
var errCancelled = errors.New("request cancelled")

// Tasks are the handlers of the state machines' Task states. Build it once and share it.
type Tasks struct {
	Ledger   *ledger.Ledger
	Store    *platform.Store
	Deleter  Deleter
	Accounts Suspender
	Mail     notify.Mailer
	Calendar request.Calendar
	SFN      Client
	// PrivacyOfficer decides end-customer requests a bot owner left unanswered.
	PrivacyOfficer string
	// SliceDuration bounds one erase slice (it also stops short of the Lambda's own deadline);
	// SliceItems, when set, bounds it by items (tests use it to force many slices).
	SliceDuration time.Duration
	SliceItems    int64
	// ActLinks signs the link to the act the final mail gives, which opens without a login (the
	// owner of a deleted account has none); with no secret the mail carries the act alone.
	ActLinks evidence.ActLinks
	Now      func() time.Time
}

func (t *Tasks) now() time.Time { return now(t.Now).get() }

// State is the data every machine carries: the request, and the erase loop's checkpoint.
type State struct {
	RequestID string `json:"requestId"`
	Erase     *Erase `json:"erase,omitempty"`
}

// Erase is where the erase loop stands. Iterations counts the slices of this execution: the machine
// hands the rest to a child execution before its history could approach the 25,000-event limit.
type Erase struct {
	Checkpoint *erasure.Checkpoint `json:"checkpoint"`
	Done       bool                `json:"done"`
	Iterations int                 `json:"iterations"`
	// Rescans counts how often verification sent the scope back to be erased again.
	Rescans int `json:"rescans"`
}

// Opened is Open's result.
type Opened struct {
	// SoftDeleteEndsAt is when the account deletion's Wait ends (RFC 3339).
	SoftDeleteEndsAt string `json:"softDeleteEndsAt,omitempty"`
	// EscalateAfterSeconds and DecideWithinSeconds time the waits for a bot owner's and then the
	// privacy officer's decision on an end-customer request.
	EscalateAfterSeconds int64 `json:"escalateAfterSeconds,omitempty"`
	DecideWithinSeconds  int64 `json:"decideWithinSeconds,omitempty"`
}

// Began is BeginHardDelete's result: whether the request is still wanted.
type Began struct {
	Proceed bool `json:"proceed"`
}

// Completed is Complete's result.
type Completed struct {
	Status           request.Status `json:"status"`
	BackupsRotatedBy string         `json:"backupsRotatedBy,omitempty"`
}

// Await is the input of a task that waits for a decision.
type Await struct {
	RequestID string `json:"requestId"`
	TaskToken string `json:"taskToken"`
	Stage     string `json:"stage"` // StageOwner or StageOfficer
}

// Decision stages.
const (
	StageOwner   = "owner"
	StageOfficer = "officer"
)

// DecisionOutput is what SendTaskSuccess hands the waiting machine.
type DecisionOutput struct {
	Approved bool `json:"approved"`
}

// Done is the result of tasks that only report the request's status.
type Done struct {
	Status request.Status `json:"status"`
}

func badInput(format string, a ...any) error {
	return &Error{Name: ErrNameBadInput, Err: fmt.Errorf(format, a...)}
}

func (t *Tasks) request(ctx context.Context, id string) (request.Request, error) {
	if id == "" {
		return request.Request{}, badInput("no requestId in the task input")
	}
	return t.Ledger.Get(ctx, id)
}

// Open starts a request's workflow: it sets the deadlines, and
//   - account deletion: soft-deletes the account (deactivated, restorable) and sends the
//     confirmation with every date and how to cancel;
//   - end-customer request: waits for the bot owner, telling the requester it was received;
//   - any other kind: moves straight to hard_deleting (nothing to cancel).
//
// It is safe to run twice: what is done is not done again.
func (t *Tasks) Open(ctx context.Context, in State) (Opened, error) {
	req, err := t.request(ctx, in.RequestID)
	if err != nil {
		return Opened{}, err
	}
	switch req.Kind {
	case request.KindAccountDeletion:
		return t.openAccountDeletion(ctx, req)
	case request.KindEndCustomerRequest:
		return t.openEndCustomer(ctx, req)
	}
	now := t.now()
	_, err = t.Ledger.Update(ctx, req.ID, func(r *request.Request) error {
		if r.Status == request.StatusHardDeleting {
			return nil
		}
		if err := r.StartHardDelete(now, "system", "deletion started"); err != nil {
			return err
		}
		r.SetDeadline(request.DeadlineCompleteBy, t.Calendar.AddCalendarDays(r.CreatedAt, request.CompletionDays))
		return nil
	})
	return Opened{}, err
}

func (t *Tasks) openAccountDeletion(ctx context.Context, req request.Request) (Opened, error) {
	now := t.now()
	if req.Status == request.StatusHardDeleting {
		// Resumed after a legal hold's release (or started again while its hard delete ran): the
		// window is long over, so the Wait passes at once and BeginHardDelete carries on the erase.
		return Opened{SoftDeleteEndsAt: now.Format(time.RFC3339Nano)}, nil
	}
	if req.Status == request.StatusCancelled {
		// Cancelled before the workflow got here: the Wait passes at once and BeginHardDelete ends it.
		return Opened{SoftDeleteEndsAt: now.Format(time.RFC3339Nano)}, nil
	}
	if req.Status == request.StatusHardDeleting {
		// Retried after a failure in the hard delete: the window is long over, BeginHardDelete
		// proceeds, and the erase loop resumes from its stored checkpoint.
		return Opened{SoftDeleteEndsAt: req.Deadlines[request.DeadlineSoftDeleteEnds].Format(time.RFC3339Nano)}, nil
	}
	acct, err := t.Store.Account(ctx, req.AccountID)
	if err != nil && req.Status != request.StatusSoftDeleted {
		return Opened{}, fmt.Errorf("account of %s: %w", req.ID, err)
	}
	req, err = t.Ledger.Update(ctx, req.ID, func(r *request.Request) error {
		switch r.Status {
		case request.StatusSoftDeleted:
			return nil
		case request.StatusCancelled:
			return errCancelled
		}
		ends := now.Add(request.SoftDeleteWindow)
		if err := r.SoftDelete(now, "system", "account deactivated: sign-in, team members, API tokens and webhooks blocked, bots stopped; restorable until "+ends.Format(time.RFC3339)); err != nil {
			return err
		}
		hardBy := t.Calendar.AddBusinessDays(ends, request.HardDeleteDays)
		if r.Source == "email" {
			r.SetStartDeadline(t.Calendar, r.CreatedAt)
		}
		r.SetDeadline(request.DeadlineSoftDeleteEnds, ends)
		r.SetDeadline(request.DeadlineHardDeleteBy, hardBy)
		r.SetDeadline(request.DeadlineBackupsRotatedBy, t.Calendar.AddCalendarDays(hardBy, request.BackupRotationDays))
		// The address the mails of the whole timeline go to, kept only until the final mail: the
		// account profile itself is destroyed by the hard delete.
		r.Requester, r.Locale = acct.Email, acct.Locale
		return nil
	})
	if errors.Is(err, errCancelled) {
		return Opened{SoftDeleteEndsAt: now.Format(time.RFC3339Nano)}, nil
	}
	if err != nil {
		return Opened{}, err
	}
	if _, err := t.Accounts.SoftDelete(ctx, req.AccountID, req.ID); err != nil {
		return Opened{}, fmt.Errorf("soft delete %s: %w", req.ID, err)
	}
	// A cancel that won while the account was being switched off may have restored it before the
	// switch-off finished: look again, and restore what this task switched off.
	if cur, err := t.Ledger.Get(ctx, req.ID); err != nil {
		return Opened{}, err
	} else if cur.Status == request.StatusCancelled {
		if _, err := t.Accounts.Restore(ctx, req.AccountID, req.ID); err != nil {
			return Opened{}, fmt.Errorf("restore %s after a cancel: %w", req.ID, err)
		}
		return Opened{SoftDeleteEndsAt: now.Format(time.RFC3339Nano)}, nil
	}
	kept, err := t.kept(ctx, req)
	if err != nil {
		return Opened{}, err
	}
	err = t.sendOnce(ctx, req, mailer.Mail{Template: mailer.AccountDeletionConfirmation, To: []string{req.Requester},
		Data: mailer.Data{AccountEmail: req.Requester, Deleted: accountCategories(), Kept: kept}}, "cancel")
	if err != nil {
		return Opened{}, err
	}
	return Opened{SoftDeleteEndsAt: req.Deadlines[request.DeadlineSoftDeleteEnds].Format(time.RFC3339Nano)}, nil
}

// accountCategories are the data-map categories an account deletion destroys.
func accountCategories() []string {
	var out []string
	for _, c := range datamap.Categories {
		if (c.Owner == datamap.OwnerAccount || c.Owner == datamap.OwnerEndUser) && c.Reaches(datamap.ScopeAccount) {
			out = append(out, c.Name)
		}
	}
	return out
}

// kept lists what an account deletion keeps, and why. A failed read of the holds fails the task
// (Step Functions retries it) rather than mailing a list without them.
func (t *Tasks) kept(ctx context.Context, req request.Request) ([]mailer.Kept, error) {
	out := []mailer.Kept{
		{Category: datamap.Payment, Reason: evidence.KeptLawAccounting5y},
		{Category: datamap.Consent, Reason: evidence.KeptConsentWithdrawal5y},
	}
	holds, err := t.Ledger.ActiveHolds(ctx, req.AccountID)
	if err != nil {
		return nil, fmt.Errorf("legal holds of %s: %w", req.ID, err)
	}
	if len(holds) > 0 {
		out = append(out, mailer.Kept{Category: datamap.LegalHold, Reason: evidence.KeptLegalHold})
	}
	return append(out, mailer.Kept{Category: datamap.AnalyticsCounter, Reason: evidence.KeptAnalyticsAnonymous}), nil
}

// botName is the name a mail gives the request's bot: none for all bots or once the bot is deleted;
// a failed read fails the task rather than mailing without it.
func (t *Tasks) botName(ctx context.Context, req request.Request) (string, error) {
	if req.Scope.BotID == "" {
		return "", nil // every bot of the account (a Privacy-module filter over all bots)
	}
	bot, err := t.Store.Bot(ctx, req.AccountID, req.Scope.BotID)
	if errors.Is(err, platform.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("bot of %s: %w", req.ID, err)
	}
	return bot.Name, nil
}

func (t *Tasks) openEndCustomer(ctx context.Context, req request.Request) (Opened, error) {
	now := t.now()
	if req.Status == request.StatusHardDeleting && req.Decision != nil && req.Decision.Approved {
		// Retried after a failure in the deletion it approved: the wait hands the recorded decision
		// over at once, and the erase loop resumes from its stored checkpoint.
		return Opened{EscalateAfterSeconds: 3600, DecideWithinSeconds: 3600}, nil
	}
	req, err := t.Ledger.Update(ctx, req.ID, func(r *request.Request) error {
		// A request already decided and being erased (resumed after a legal hold's release) keeps
		// its status: the wait that follows finds the decision on it and hands it over at once.
		if r.Status == request.StatusAwaitingVerification || r.Status == request.StatusHardDeleting && r.Decision != nil {
			return nil
		}
		if err := r.AwaitOwner(now, "system", "waiting for the bot owner's decision"); err != nil {
			return err
		}
		r.SetDeadline(request.DeadlineEscalateAt, t.Calendar.AddBusinessDays(r.CreatedAt, request.EscalationDays))
		r.SetDeadline(request.DeadlineCompleteBy, t.Calendar.AddCalendarDays(r.CreatedAt, request.CompletionDays))
		return nil
	})
	if err != nil {
		return Opened{}, err
	}
	if req.Requester != "" {
		bot, err := t.botName(ctx, req)
		if err != nil {
			return Opened{}, err
		}
		data := mailer.Data{BotName: bot}
		if req.Mail[string(mailer.EndCustomerReceived)] == "" {
			// The mail links to the public status page by a secret code only its hash is kept of:
			// the requester has no login to follow the request with.
			code, err := notify.NewToken()
			if err != nil {
				return Opened{}, err
			}
			if err := t.Ledger.PutReference(ctx, ledger.RefStatus, code, req.ID, ledger.ActionEndCustomerStatus); err != nil {
				return Opened{}, err
			}
			data.StatusURL = "/deletion-status/" + code
		}
		err = t.sendOnce(ctx, req, mailer.Mail{Template: mailer.EndCustomerReceived, To: []string{req.Requester},
			Data: data}, "")
		if err != nil {
			return Opened{}, err
		}
	}
	escalate, complete := req.Deadlines[request.DeadlineEscalateAt], req.Deadlines[request.DeadlineCompleteBy]
	return Opened{
		EscalateAfterSeconds: max(1, int64(escalate.Sub(now)/time.Second)),
		DecideWithinSeconds:  max(1, int64(complete.Sub(escalate)/time.Second)),
	}, nil
}

// BeginHardDelete ends the soft-delete window: soft_deleted → hard_deleting as one conditional
// write, so that it and a cancel racing it have exactly one winner. A cancelled request answers
// proceed=false and is never touched.
func (t *Tasks) BeginHardDelete(ctx context.Context, in State) (Began, error) {
	req, err := t.request(ctx, in.RequestID)
	if err != nil {
		return Began{}, err
	}
	switch req.Status {
	case request.StatusCancelled:
		return Began{Proceed: false}, nil
	case request.StatusHardDeleting:
		return Began{Proceed: true}, nil // a retry after the transition
	case request.StatusSoftDeleted:
	default:
		return Began{}, fmt.Errorf("%w: %s is %s", ledger.ErrConflict, req.ID, req.Status)
	}
	if ends := req.Deadlines[request.DeadlineSoftDeleteEnds]; ends.IsZero() || t.now().Before(ends) {
		return Began{}, fmt.Errorf("%w: %s until %s", ErrWindowOpen, req.ID, ends.Format(time.RFC3339))
	}
	_, err = t.Ledger.Update(ctx, req.ID, func(r *request.Request) error {
		return r.StartHardDelete(t.Ledger.Now().UTC(), "system", "soft-delete window ended: hard delete started")
	})
	if errors.Is(err, ledger.ErrConflict) {
		if cur, gerr := t.Ledger.Get(ctx, req.ID); gerr == nil && cur.Status == request.StatusCancelled {
			return Began{Proceed: false}, nil // the cancel won
		}
	}
	if err != nil {
		return Began{}, err
	}
	return Began{Proceed: true}, nil
}

// EraseSlice runs one slice of the hard delete and returns the next checkpoint.
func (t *Tasks) EraseSlice(ctx context.Context, in State) (Erase, error) {
	var cur Erase
	if in.Erase != nil {
		cur = *in.Erase
	}
	var cp erasure.Checkpoint
	switch {
	case in.Erase == nil:
		// The first slice of an execution: the erase loop may have run before, in an execution that
		// failed (an operator's retry, a sweep's re-drive). Resume where it stopped, so the act
		// counts everything destroyed. A rescan passes an erase state with no checkpoint: it
		// starts over on purpose.
		var err error
		if cp, err = t.Deleter.Resume(ctx, in.RequestID); err != nil {
			return cur, err
		}
	case cur.Checkpoint != nil:
		cp = *cur.Checkpoint
	}
	budget := erasure.Budget{Duration: t.SliceDuration, Items: t.SliceItems}
	if budget.Duration == 0 {
		budget.Duration = defaultSliceDuration
	}
	if dl, ok := ctx.Deadline(); ok {
		// Stop taking new work well before the function's own timeout.
		budget.Duration = min(budget.Duration, max(time.Second, time.Until(dl)*2/3))
	}
	next, err := t.Deleter.Step(ctx, in.RequestID, cp, budget)
	if err != nil {
		return cur, err
	}
	return Erase{Checkpoint: &next, Done: next.Done, Iterations: cur.Iterations + 1, Rescans: cur.Rescans}, nil
}

// Complete verifies the scope, stores the evidence and tells whoever asked.
func (t *Tasks) Complete(ctx context.Context, in State) (Completed, error) {
	if in.Erase == nil || in.Erase.Checkpoint == nil || !in.Erase.Done {
		return Completed{}, badInput("complete %s: the erase loop has not finished", in.RequestID)
	}
	req, err := t.Deleter.Complete(ctx, in.RequestID, *in.Erase.Checkpoint)
	if errors.Is(err, deletion.ErrNotDeleting) {
		// A retry after the completion was written: carry on from the stored status.
		cur, gerr := t.Ledger.Get(ctx, in.RequestID)
		if gerr != nil || !afterCompletion(cur.Status) {
			return Completed{}, err
		}
		req, err = cur, nil
	}
	if err != nil {
		return Completed{}, err
	}
	if err := t.announce(ctx, req); err != nil {
		if !errors.Is(err, notify.ErrMailNotSent) {
			return Completed{}, err // a failed read: the task fails and is retried, no mail goes without its facts
		}
		// The deletion is done and recorded: a mail that failed does not undo it, it is sent again.
		if err := t.finalMailPending(ctx, req.ID, err); err != nil {
			return Completed{}, err
		}
	}
	out := Completed{Status: req.Status}
	if at, ok := req.Deadlines[request.DeadlineBackupsRotatedBy]; ok && req.Status == request.StatusAwaitingBackupRotation {
		out.BackupsRotatedBy = at.Format(time.RFC3339Nano)
	}
	return out, nil
}

func afterCompletion(s request.Status) bool {
	return s == request.StatusAwaitingBackupRotation || s == request.StatusCompleted || s == request.StatusHeld
}

// announce sends the "done" mail of a completed deletion to whoever should hear of it.
func (t *Tasks) announce(ctx context.Context, req request.Request) error {
	counts := map[string]int64{}
	for k, v := range req.Progress {
		counts[k] = v
	}
	switch req.Kind {
	case request.KindAccountDeletion:
		if req.Status != request.StatusAwaitingBackupRotation {
			return nil
		}
		return t.sendOnce(ctx, req, mailer.Mail{Template: mailer.AccountDeleted, To: []string{req.Requester},
			Data: mailer.Data{AccountEmail: req.Requester, Counts: counts}}, "")
	case request.KindEndUserFilter, request.KindEndUserDeletion:
		if req.RequestedBy == "" {
			return nil // a deletion no dashboard user asked for (a Meta callback) has its status page
		}
		to, err := t.memberAddress(ctx, req)
		if err != nil {
			return err
		}
		bot, err := t.botName(ctx, req)
		if err != nil {
			return err
		}
		return t.sendOnce(ctx, req, mailer.Mail{Template: mailer.EndUserDeletionDone, To: []string{to},
			Data: mailer.Data{Counts: counts, BotName: bot}}, "")
	case request.KindConnectionWipe:
		acct, err := t.Store.Account(ctx, req.AccountID)
		if err != nil {
			return fmt.Errorf("owner of %s: %w", req.ID, err)
		}
		return t.sendOnce(ctx, withLocale(req, acct.Locale), mailer.Mail{Template: mailer.ConnectionWiped, To: []string{acct.Email},
			Data: mailer.Data{Counts: counts, Channel: req.Scope.Channel}}, "")
	case request.KindEndCustomerRequest:
		if req.Requester == "" {
			return nil
		}
		bot, err := t.botName(ctx, req)
		if err != nil {
			return err
		}
		if err := t.sendOnce(ctx, req, mailer.Mail{Template: mailer.EndCustomerApproved, To: []string{req.Requester},
			Data: mailer.Data{Counts: counts, BotName: bot}}, ""); err != nil {
			return err
		}
		return notify.ForgetRequester(ctx, t.Ledger, req.ID)
	}
	return nil
}

// memberAddress is the address of the dashboard user who asked, or the account owner's.
func (t *Tasks) memberAddress(ctx context.Context, req request.Request) (string, error) {
	m, err := t.Store.TeamMember(ctx, req.AccountID, req.RequestedBy)
	if err != nil && !errors.Is(err, platform.ErrNotFound) {
		return "", fmt.Errorf("who asked for %s: %w", req.ID, err)
	}
	if err == nil && m.Email != "" && !m.Disabled {
		return m.Email, nil
	}
	acct, err := t.Store.Account(ctx, req.AccountID)
	if err != nil {
		return "", fmt.Errorf("who to tell of %s: %w", req.ID, err)
	}
	return acct.Email, nil
}

// Finish ends an account deletion once backups have rotated: the final mail carries the act of
// destruction, and the one address the ledger kept is forgotten.
func (t *Tasks) Finish(ctx context.Context, in State) (Done, error) {
	req, err := t.request(ctx, in.RequestID)
	if err != nil {
		return Done{}, err
	}
	if req.Status == request.StatusCompleted {
		return Done{Status: req.Status}, nil
	}
	if req.Status != request.StatusAwaitingBackupRotation {
		return Done{}, fmt.Errorf("%w: %s is %s", ledger.ErrConflict, req.ID, req.Status)
	}
	mailErr := t.mailAct(ctx, req)
	if mailErr != nil && !errors.Is(mailErr, notify.ErrMailNotSent) {
		return Done{}, mailErr // no act to send, or a failed read: a failure, not a mail to retry
	}
	now := t.now()
	req, err = t.Ledger.Update(ctx, req.ID, func(r *request.Request) error {
		note := "backups rotated; final mail with the act sent"
		if mailErr != nil {
			// The address stays until the mail is sent (SendFinalMail forgets it then).
			note = "backups rotated; the final mail with the act is not sent yet"
		}
		if err := r.Finish(now, "system", note); err != nil {
			return err
		}
		if mailErr == nil {
			r.Requester = ""
		}
		return nil
	})
	if err != nil || mailErr == nil {
		return Done{Status: req.Status}, err
	}
	return Done{Status: req.Status}, t.finalMailPending(ctx, req.ID, mailErr)
}

// mailAct sends an account deletion's final mail, which carries its latest act of destruction.
func (t *Tasks) mailAct(ctx context.Context, req request.Request) error {
	acts, err := t.Deleter.Evidence(ctx, req.ID)
	if err != nil {
		return err
	}
	if len(acts) == 0 {
		return badInput("finish %s: no act of destruction", req.ID)
	}
	act := acts[len(acts)-1]
	data := mailer.Data{AccountEmail: req.Requester, Act: &act}
	if len(t.ActLinks.Secret) > 0 {
		data.ActURLExpires = t.now().Add(evidence.ActLinkTTL)
		data.ActURL = t.ActLinks.Path(act.RequestID, data.ActURLExpires)
	}
	return t.sendOnce(ctx, req, mailer.Mail{Template: mailer.AccountDeletionCompleted, To: []string{req.Requester}, Data: data}, "")
}

// AwaitDecision is the task an end-customer request waits in: it keeps the task token on the request
// and asks the bot owner (or, after 10 business days, the privacy officer) to decide. A decision made
// before the token was stored is handed over at once.
func (t *Tasks) AwaitDecision(ctx context.Context, in Await) (Done, error) {
	if in.TaskToken == "" || (in.Stage != StageOwner && in.Stage != StageOfficer) {
		return Done{}, badInput("await decision: need a task token and a stage (owner or officer)")
	}
	now := t.now()
	req, err := t.Ledger.Update(ctx, in.RequestID, func(r *request.Request) error {
		r.TaskToken = in.TaskToken
		if in.Stage == StageOfficer && r.Decision == nil && r.Status == request.StatusAwaitingVerification {
			return r.Escalate(now)
		}
		return nil
	})
	if err != nil {
		return Done{}, err
	}
	if req.Decision != nil {
		return Done{Status: req.Status}, HandOver(ctx, t.SFN, in.TaskToken, req.Decision.Approved)
	}
	bot, err := t.botName(ctx, req)
	if err != nil {
		return Done{}, err
	}
	data := mailer.Data{BotName: bot, EndUserRef: req.Scope.EndUserID, DecisionURL: "/v1/end-customer-requests/" + req.ID}
	if in.Stage == StageOwner {
		// The owner decides in the console's queue, which opens at this request.
		data.DecisionURL = "/console/#/end-customer-requests?id=" + url.QueryEscape(req.ID)
		acct, err := t.Store.Account(ctx, req.AccountID)
		if err != nil {
			return Done{}, fmt.Errorf("owner of %s: %w", req.ID, err)
		}
		return Done{Status: req.Status}, t.sendOnce(ctx, withLocale(req, acct.Locale), mailer.Mail{
			Template: mailer.EndCustomerOwnerNotice, To: []string{acct.Email}, Data: data}, "")
	}
	if t.PrivacyOfficer == "" {
		return Done{}, badInput("no privacy officer address configured")
	}
	// The privacy officer decides in the console, with an operator's sign-in.
	data.DecisionURL = mailer.OfficerRequestPath(req.ID)
	return Done{Status: req.Status}, t.sendOnce(ctx, req, mailer.Mail{
		Template: mailer.EndCustomerEscalation, To: []string{t.PrivacyOfficer}, Data: data}, "")
}

// HandOver answers a waiting task with a decision.
func HandOver(ctx context.Context, c Client, token string, approved bool) error {
	out, _ := json.Marshal(DecisionOutput{Approved: approved})
	_, err := c.SendTaskSuccess(ctx, &sfn.SendTaskSuccessInput{TaskToken: aws.String(token), Output: aws.String(string(out))})
	return err
}

// NotifyDeclined tells the end customer their request was declined, and why.
func (t *Tasks) NotifyDeclined(ctx context.Context, in State) (Done, error) {
	req, err := t.request(ctx, in.RequestID)
	if err != nil {
		return Done{}, err
	}
	if req.Status != request.StatusDeclined || req.Decision == nil {
		return Done{}, fmt.Errorf("%w: %s is %s, not declined", ledger.ErrConflict, req.ID, req.Status)
	}
	if err := t.mailDeclined(ctx, req); err != nil {
		if !errors.Is(err, notify.ErrMailNotSent) {
			return Done{}, err
		}
		return Done{Status: req.Status}, t.finalMailPending(ctx, req.ID, err)
	}
	return Done{Status: req.Status}, nil
}

// mailDeclined tells the end customer their request was declined, and why, then forgets them.
func (t *Tasks) mailDeclined(ctx context.Context, req request.Request) error {
	if req.Requester == "" {
		return nil
	}
	bot, err := t.botName(ctx, req)
	if err != nil {
		return err
	}
	if err := t.sendOnce(ctx, req, mailer.Mail{Template: mailer.EndCustomerDeclined, To: []string{req.Requester},
		Data: mailer.Data{BotName: bot, Reason: req.Decision.Reason}}, ""); err != nil {
		return err
	}
	return notify.ForgetRequester(ctx, t.Ledger, req.ID)
}

// finalMailPending records that the mail telling a done request's outcome failed (named, without
// the error's text, which may hold an address): the SLA sweep sends it again, and alerts the
// privacy officer when request.FinalMailRetry has passed.
func (t *Tasks) finalMailPending(ctx context.Context, id string, cause error) error {
	now := t.now()
	_, err := t.Ledger.Update(ctx, id, func(r *request.Request) error {
		if _, ok := r.Deadlines[request.DeadlineFinalMailBy]; ok {
			return nil
		}
		if r.Deadlines == nil {
			r.Deadlines = map[string]time.Time{}
		}
		r.Deadlines[request.DeadlineFinalMailBy] = now.Add(request.FinalMailRetry).UTC()
		r.History = append(r.History, request.Event{At: now, Status: r.Status, Actor: "system",
			Note: "the outcome mail was not sent (" + Classify(cause) + "); the SLA sweep sends it again"})
		return nil
	})
	if err != nil {
		return errors.Join(cause, err)
	}
	return nil
}

// SendFinalMail sends again the outcome mail of a request marked with request.DeadlineFinalMailBy, and
// removes the mark once it is sent. A request without the mark is left alone.
func (t *Tasks) SendFinalMail(ctx context.Context, id string) error {
	req, err := t.request(ctx, id)
	if err != nil {
		return err
	}
	if _, ok := req.Deadlines[request.DeadlineFinalMailBy]; !ok {
		return nil
	}
	switch {
	case req.Status == request.StatusDeclined && req.Decision != nil:
		err = t.mailDeclined(ctx, req)
	case req.Kind == request.KindAccountDeletion && req.Status == request.StatusCompleted:
		if err = t.mailAct(ctx, req); err == nil {
			err = notify.ForgetRequester(ctx, t.Ledger, req.ID)
		}
	default:
		err = t.announce(ctx, req)
	}
	if err != nil {
		return err
	}
	now := t.now()
	_, err = t.Ledger.Update(ctx, id, func(r *request.Request) error {
		if _, ok := r.Deadlines[request.DeadlineFinalMailBy]; !ok {
			return nil
		}
		delete(r.Deadlines, request.DeadlineFinalMailBy)
		r.History = append(r.History, request.Event{At: now, Status: r.Status, Actor: "system", Note: "the outcome mail was sent"})
		return nil
	})
	return err
}

// sendOnce sends a mail of a request once (notify.SendOnce): a retried task mails once.
func (t *Tasks) sendOnce(ctx context.Context, req request.Request, m mailer.Mail, action string) error {
	return notify.SendOnce(ctx, t.Ledger, t.Mail, req, m, action)
}

// withLocale is req with the locale its mail is written in (the account's, for mail to the owner).
func withLocale(req request.Request, locale string) request.Request {
	if locale != "" {
		req.Locale = locale
	}
	return req
}
