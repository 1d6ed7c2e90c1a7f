// Package requests is where deletion requests begin and where people act on them: an owner asks for
// or cancels an account deletion, an admin deletes end users, a channel revokes a connection, an end
// customer asks and the bot owner decides. Each records a request in the ledger and starts (or
// stops, or answers) its workflow; the workflow does the rest on its timeline.
package requests

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/notify"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// Errors the HTTP edge maps to statuses.
var (
	// ErrNoRequest: nothing to act on (404).
	ErrNoRequest = lerr.Errorf(lerr.ENOTFOUND, "no such deletion request")
	// ErrTooLate: the request can no longer be cancelled or decided (409).
	ErrTooLate = lerr.Errorf(lerr.ECONFLICT, "the request can no longer be changed")
	// ErrInvalid: the request as asked cannot be made (400/422).
	ErrInvalid = lerr.New(lerr.EINVALID, "invalid deletion request")
)

// Starter runs the workflow of a recorded request (workflow.Starter on Step Functions).
type Starter interface {
	// Runs reports whether a workflow runs requests of kind k; the error says why not.
	Runs(k request.Kind) error
	// Start starts the request's workflow once and returns its execution.
	Start(ctx context.Context, req request.Request) (string, error)
	// Stop ends an execution; one that already ended is not an error.
	Stop(ctx context.Context, executionARN, cause string) error
	// Decide hands a decision to the task that waits for it; a token that just expired is not an
	// error (the next wait hands the recorded decision over).
	Decide(ctx context.Context, taskToken string, approved bool) error
	// Restart starts the request's workflow again under the execution name "<id>-<suffix>".
	Restart(ctx context.Context, req request.Request, suffix string) (string, error)
}

// Restorer puts a soft-deleted account back (internal/erasure).
type Restorer interface {
	Restore(ctx context.Context, accountID, requestID string) (erasure.Suspension, error)
}

// Service is built once and shared.
type Service struct {
	Ledger   *ledger.Ledger
	Store    *platform.Store
	Starter  Starter
	Accounts Restorer
	Mail     notify.Mailer
	// Calendar dates the start deadline of requests that wait for verification.
	Calendar request.Calendar
	Now      func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// AccountDeletion is an owner's request to delete their account.
type AccountDeletion struct {
	// ID, when set, names the request (an intake derives it from the mail, so a redelivery cannot
	// make a second one); a new id otherwise.
	ID          string
	AccountID   string
	Source      string // "dashboard" or "email"
	Actor       string // "owner:<sub>", "email"
	RequestedBy string // the owner's sub, when known
	// Verify: the request could not be trusted (a mail that failed authentication, or not from the
	// account's address). It waits in awaiting_verification, with its start deadline recorded,
	// until the link mailed to the account's address confirms it; nothing is switched off before.
	Verify bool
}

// RequestAccountDeletion records the request and starts its workflow. An account has at most one
// open deletion: asking again returns it (created=false) and starts nothing new.
func (s *Service) RequestAccountDeletion(ctx context.Context, in AccountDeletion) (req request.Request, created bool, err error) {
	if in.AccountID == "" || in.Source == "" {
		return request.Request{}, false, fmt.Errorf("%w: an account deletion needs an account and a source", ErrInvalid)
	}
	acct, err := s.Store.Account(ctx, in.AccountID)
	if errors.Is(err, platform.ErrNotFound) {
		return request.Request{}, false, ErrNoRequest
	}
	if err != nil {
		return request.Request{}, false, err
	}
	actor := in.Actor
	if actor == "" {
		actor = in.Source
	}
	id := in.ID
	if id == "" {
		id = platform.NewID(s.now())
	}
	now := s.now()
	r := request.Request{ID: id, AccountID: in.AccountID, Kind: request.KindAccountDeletion,
		Source: in.Source, Scope: platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: in.AccountID},
		Status: request.StatusScheduled, Locale: acct.Locale, RequestedBy: in.RequestedBy,
		History: []request.Event{{At: now, Status: request.StatusScheduled, Actor: actor, Note: "account deletion requested"}}}
	if in.Verify {
		r.Status = request.StatusAwaitingVerification
		r.History[0].Status, r.History[0].Note = r.Status, "account deletion requested; waits for confirmation by the link mailed to the account's address"
		s.setStartDeadline(&r, now)
	}
	for attempt := 0; ; attempt++ {
		req, created, err = s.Ledger.CreateUnique(ctx, r, ledger.AccountDeletionSlot(in.AccountID))
		if err != nil {
			return request.Request{}, false, err
		}
		if created || req.Status != request.StatusAwaitingVerification || attempt > 0 {
			break
		}
		// The open request is one that still waits for its confirmation link.
		if !in.Verify {
			// Now the owner asks themselves (the dashboard, or an authenticated mail): that is the
			// confirmation an unverified request waited for.
			req, err = s.confirm(ctx, req.ID, actor)
			return req, false, err
		}
		if now.Sub(req.CreatedAt) <= ConfirmLinkValidity {
			return req, false, nil // its link still works: one request, one verification mail
		}
		// Its link expired unconfirmed: close it, so this request can be verified afresh.
		if _, err := s.Ledger.Update(ctx, req.ID, func(r *request.Request) error {
			return r.Withdraw(s.Ledger.Now().UTC(), "system", "not confirmed within 72 hours; nothing was deleted")
		}); err != nil && !errors.Is(err, ledger.ErrConflict) {
			return request.Request{}, false, err
		}
	}
	if req.Status == request.StatusAwaitingVerification {
		return req, created, nil // waits for the emailed confirmation link
	}
	arn, err := s.Starter.Start(ctx, req)
	if err != nil {
		return req, created, err
	}
	req.ExecutionARN = arn
	return req, created, nil
}

// setStartDeadline records when processing of an emailed request must start: 5 business days
// after it was received (SPEC §3).
func (s *Service) setStartDeadline(r *request.Request, received time.Time) {
	if s.Calendar != nil {
		r.SetStartDeadline(s.Calendar, received)
	}
}

// CurrentAccountDeletion is the account's open deletion request, or its last one.
func (s *Service) CurrentAccountDeletion(ctx context.Context, accountID string) (request.Request, error) {
	r, err := s.Ledger.InSlot(ctx, ledger.AccountDeletionSlot(accountID))
	if errors.Is(err, ledger.ErrNotFound) || err == nil && r.AccountID != accountID {
		return request.Request{}, ErrNoRequest
	}
	return r, err
}

// CancelAccountDeletion cancels the account's deletion inside the soft-delete window: one
// conditional write decides it against the start of the hard delete. The winner restores the
// account at once, mails the owner and stops the workflow; a cancel that loses gets ErrTooLate and
// restores nothing.
func (s *Service) CancelAccountDeletion(ctx context.Context, accountID, actor string) (request.Request, error) {
	cur, err := s.CurrentAccountDeletion(ctx, accountID)
	if err != nil {
		return request.Request{}, err
	}
	return s.cancel(ctx, cur.ID, actor)
}

// Cancel cancels one account deletion by its id (a reply to its mails names it), under the same
// rules as CancelAccountDeletion.
func (s *Service) Cancel(ctx context.Context, requestID, actor string) (request.Request, error) {
	return s.cancel(ctx, requestID, actor)
}

func (s *Service) cancel(ctx context.Context, requestID, actor string) (request.Request, error) {
	now := s.now()
	req, err := s.Ledger.Update(ctx, requestID, func(r *request.Request) error {
		if r.Kind != request.KindAccountDeletion {
			return ErrNoRequest
		}
		if r.Status == request.StatusCancelled {
			return errAlreadyCancelled
		}
		return tooLate(r.Cancel(now, actor, "cancelled inside the soft-delete window; account restored"))
	})
	if errors.Is(err, errAlreadyCancelled) {
		return s.Ledger.Get(ctx, requestID) // a second click: same answer, nothing more done
	}
	if err != nil {
		return request.Request{}, err
	}
	if _, err := s.Accounts.Restore(ctx, req.AccountID, req.ID); err != nil {
		return req, fmt.Errorf("restore the account of %s: %w", req.ID, err)
	}
	if req.Requester != "" {
		if err := notify.SendOnce(ctx, s.Ledger, s.Mail, req, mailer.Mail{Template: mailer.AccountDeletionCancelled,
			To: []string{req.Requester}, Data: mailer.Data{AccountEmail: req.Requester}}, ""); err != nil {
			return req, err
		}
		if err := notify.ForgetRequester(ctx, s.Ledger, req.ID); err != nil {
			return req, err
		}
	}
	if err := s.Starter.Stop(ctx, req.ExecutionARN, "account deletion cancelled by "+actor); err != nil {
		return req, fmt.Errorf("stop the workflow of %s: %w", req.ID, err)
	}
	return s.Ledger.Get(ctx, req.ID)
}

var errAlreadyCancelled = errors.New("already cancelled")

// tooLate is a transition the request refused, as the edge sees it: ErrTooLate.
func tooLate(err error) error {
	var refused *request.TransitionError
	if errors.As(err, &refused) {
		return fmt.Errorf("%w: %v", ErrTooLate, err) // ErrTooLate alone, as before: not a ledger conflict
	}
	return err
}

// ConfirmLinkValidity is how long a verification link works (SPEC §4).
const ConfirmLinkValidity = 72 * time.Hour

// EmailAction carries out the action of a link or a reply token from a mail: "cancel" cancels the
// account deletion it was sent for; "confirm" confirms a request that waited for verification.
func (s *Service) EmailAction(ctx context.Context, token, actor string) (request.Request, string, error) {
	ref, err := s.Ledger.ReferenceInfo(ctx, ledger.RefToken, strings.ToLower(strings.TrimSpace(token)))
	if errors.Is(err, ledger.ErrUnknownReference) {
		return request.Request{}, "", ErrNoRequest
	}
	if err != nil {
		return request.Request{}, "", err
	}
	id, action := ref.RequestID, ref.Action
	if action == "confirm" && s.now().Sub(ref.CreatedAt) > ConfirmLinkValidity {
		return request.Request{}, action, fmt.Errorf("%w: the confirmation link expired", ErrNoRequest)
	}
	switch action {
	case "cancel":
		r, err := s.cancel(ctx, id, actor)
		return r, action, err
	case "confirm":
		r, err := s.confirm(ctx, id, actor)
		return r, action, err
	}
	return request.Request{}, action, fmt.Errorf("%w: unknown action %q", ErrInvalid, action)
}

// confirm starts a request that waited for its emailed confirmation.
func (s *Service) confirm(ctx context.Context, id, actor string) (request.Request, error) {
	req, err := s.Ledger.Update(ctx, id, func(r *request.Request) error {
		return r.Schedule(s.Ledger.Now().UTC(), actor, "confirmed by the link mailed to the account's address")
	})
	if errors.Is(err, ledger.ErrConflict) {
		cur, gerr := s.Ledger.Get(ctx, id)
		if gerr == nil && cur.Status != request.StatusAwaitingVerification && cur.ExecutionARN != "" {
			return cur, nil // confirmed twice
		}
		return request.Request{}, fmt.Errorf("%w: %v", ErrTooLate, err)
	}
	if err != nil {
		return request.Request{}, err
	}
	if _, err := s.Starter.Start(ctx, req); err != nil {
		return req, err
	}
	return s.Ledger.Get(ctx, id)
}

// Deletion is a request to delete a scope that cannot be cancelled: end users (by filter, one, or a
// Meta identity), a channel connection.
type Deletion struct {
	// ID, when set, makes the request idempotent: a webhook delivery id, a preview token.
	ID          string
	Kind        request.Kind
	Scope       platform.ScopeRef
	Source      string // "dashboard", "webhook:<channel>", "email"
	Actor       string
	RequestedBy string
	Locale      string
	// Verify: recorded in awaiting_verification and not started until the link mailed to the
	// account's address confirms it (an emailed request that could not be trusted).
	Verify bool
}

// RequestDeletion records the request and starts its workflow; the same ID twice makes one request.
func (s *Service) RequestDeletion(ctx context.Context, in Deletion) (request.Request, bool, error) {
	if in.Kind == "" || in.Source == "" || in.Scope.Kind == "" {
		return request.Request{}, false, fmt.Errorf("%w: a deletion needs a kind, a scope and a source", ErrInvalid)
	}
	if err := s.Starter.Runs(in.Kind); err != nil {
		return request.Request{}, false, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	if in.Kind == request.KindConnectionWipe && in.Scope.Channel == "" {
		// The mail that says the wipe is done names the channel, and by then the connection is
		// gone: the request keeps it from the start, whoever asked.
		conn, err := s.Store.Connection(ctx, in.Scope.ConnectionID)
		if errors.Is(err, platform.ErrNotFound) || err == nil && conn.AccountID != in.Scope.AccountID {
			if in.ID != "" { // asked again after the wipe removed it: the request made the first time
				if req, gerr := s.Ledger.Get(ctx, in.ID); gerr == nil {
					return req, false, nil
				}
			}
			return request.Request{}, false, fmt.Errorf("%w: no such connection in the account", ErrInvalid)
		}
		if err != nil {
			return request.Request{}, false, err
		}
		in.Scope.Channel = conn.Channel
	}
	id := in.ID
	if id == "" {
		id = platform.NewID(s.now())
	}
	actor := in.Actor
	if actor == "" {
		actor = in.Source
	}
	r := request.Request{ID: id, AccountID: in.Scope.AccountID, Kind: in.Kind, Source: in.Source, Scope: in.Scope,
		Status: request.StatusScheduled, RequestedBy: in.RequestedBy, Locale: in.Locale,
		History: []request.Event{{At: s.now(), Status: request.StatusScheduled, Actor: actor}}}
	if in.Verify {
		r.Status = request.StatusAwaitingVerification
		r.History[0].Status, r.History[0].Note = r.Status, "waits for confirmation by the link mailed to the account's address"
		s.setStartDeadline(&r, s.now())
		req, err := s.Ledger.Create(ctx, r)
		if errors.Is(err, ledger.ErrExists) {
			req, err = s.Ledger.Get(ctx, r.ID)
			return req, false, err
		}
		return req, err == nil, err
	}
	return s.createAndStart(ctx, r)
}

func (s *Service) createAndStart(ctx context.Context, r request.Request) (request.Request, bool, error) {
	req, err := s.Ledger.Create(ctx, r)
	created := err == nil
	if errors.Is(err, ledger.ErrExists) {
		req, err = s.Ledger.Get(ctx, r.ID)
	}
	if err != nil {
		return request.Request{}, false, err
	}
	arn, err := s.Starter.Start(ctx, req)
	if err != nil {
		return req, created, err
	}
	req.ExecutionARN = arn
	return req, created, nil
}

// EndCustomer is an end customer's request to delete their data on one bot.
type EndCustomer struct {
	ID        string // optional: the intake's dedupe key (a message id)
	AccountID string
	BotID     string
	EndUserID string
	// Candidates lists every end user the end customer's identifier matched, when more than one
	// did; EndUserID is one of them. The bot owner picks one when approving.
	Candidates []string
	Requester  string // where to tell them each outcome
	Locale     string
}

// SubmitEndCustomer records an end customer's request and starts its workflow: the bot owner is
// asked at once.
func (s *Service) SubmitEndCustomer(ctx context.Context, in EndCustomer) (request.Request, bool, error) {
	if in.AccountID == "" || in.BotID == "" || in.EndUserID == "" || in.Requester == "" {
		return request.Request{}, false, fmt.Errorf("%w: an end-customer request needs the account, bot, end user and the requester's address", ErrInvalid)
	}
	if len(in.Candidates) > 0 && !slices.Contains(in.Candidates, in.EndUserID) {
		return request.Request{}, false, fmt.Errorf("%w: the end user must be one of the candidates", ErrInvalid)
	}
	id := in.ID
	if id == "" {
		id = platform.NewID(s.now())
	}
	r := request.Request{ID: id, AccountID: in.AccountID, Kind: request.KindEndCustomerRequest, Source: "email",
		Scope:  platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: in.AccountID, BotID: in.BotID, EndUserID: in.EndUserID},
		Status: request.StatusReceived, Requester: in.Requester, Locale: in.Locale}
	if len(in.Candidates) > 1 {
		r.Candidates = slices.Clone(in.Candidates)
	}
	return s.createAndStart(ctx, r)
}

// Errors of the privacy officer's decision (409).
var (
	// ErrNotEscalated: the bot owner may still decide; the privacy officer decides only after
	// escalation.
	ErrNotEscalated = lerr.Errorf(lerr.ECONFLICT, "the request is not escalated: the bot owner may still decide")
	// ErrPastDeadline: the request's legal deadline has passed; nobody can decide it any more.
	ErrPastDeadline = lerr.Errorf(lerr.ECONFLICT, "the request's legal deadline has passed")
)

// Decide records the bot owner's answer to an end-customer request and hands it to the waiting
// workflow. A request of another account is ErrNoRequest. A request with several candidates is
// approved only with ApproveCandidate, which says whose data goes.
func (s *Service) Decide(ctx context.Context, accountID, requestID, actor string, approve bool, reason string) (request.Request, error) {
	return s.ApproveCandidate(ctx, accountID, requestID, actor, approve, reason, "")
}

// ErrPickCandidate: the request matched several end users; approving it needs the one the owner
// picks among them (400).
var ErrPickCandidate = lerr.Errorf(lerr.EINVALID, "the request matched several end users: approve it naming one of its candidates")

// ApproveCandidate is Decide with the end user the bot owner picked among the request's candidates
// (endUserID, empty for a request with one end user): approving makes that end user the scope.
func (s *Service) ApproveCandidate(ctx context.Context, accountID, requestID, actor string, approve bool, reason, endUserID string) (request.Request, error) {
	return s.decide(ctx, requestID, actor, approve, reason, func(r *request.Request) error {
		if r.AccountID != accountID {
			return ErrNoRequest
		}
		return pick(r, approve, endUserID)
	})
}

// pick makes endUserID, one of the request's candidates, its scope's end user when it is approved.
func pick(r *request.Request, approve bool, endUserID string) error {
	if !approve || r.Decision != nil {
		return nil // a decline names nobody; a second answer is refused by the transition
	}
	if len(r.Candidates) == 0 {
		if endUserID != "" && endUserID != r.Scope.EndUserID {
			return ErrPickCandidate
		}
		return nil
	}
	if !slices.Contains(r.Candidates, endUserID) {
		return ErrPickCandidate
	}
	r.Scope.EndUserID = endUserID
	return nil
}

// DecideAsOfficer records the privacy officer's answer to an end-customer request of any account,
// exactly as the owner's (the workflow tells the requester), once the bot owner has left it past
// its escalation date (ErrNotEscalated before) and until its legal deadline (ErrPastDeadline after).
// Approving a request with several candidates names the one whose data goes (endUserID), as the
// owner would.
func (s *Service) DecideAsOfficer(ctx context.Context, requestID, actor string, approve bool, reason, endUserID string) (request.Request, error) {
	now := s.now()
	return s.decide(ctx, requestID, actor, approve, reason, func(r *request.Request) error {
		if r.Decision != nil || r.Status != request.StatusAwaitingVerification {
			return nil // the transition refuses it, naming why
		}
		if by, ok := r.Deadlines[request.DeadlineCompleteBy]; ok && now.After(by) {
			return ErrPastDeadline
		}
		if at, ok := r.Deadlines[request.DeadlineEscalateAt]; !r.Escalated() && (!ok || now.Before(at)) {
			return ErrNotEscalated
		}
		return pick(r, approve, endUserID)
	})
}

// decide records a decision on an end-customer request that may accept, and hands it to the
// workflow that waits for it.
func (s *Service) decide(ctx context.Context, requestID, actor string, approve bool, reason string, may func(*request.Request) error) (request.Request, error) {
	if !approve && strings.TrimSpace(reason) == "" {
		return request.Request{}, fmt.Errorf("%w: a decline needs a reason", ErrInvalid)
	}
	now := s.now()
	req, err := s.Ledger.Update(ctx, requestID, func(r *request.Request) error {
		if r.Kind != request.KindEndCustomerRequest {
			return ErrNoRequest
		}
		if err := may(r); err != nil {
			return err
		}
		d := request.Decision{By: actor, At: now, Reason: strings.TrimSpace(reason)}
		if approve {
			return tooLate(r.Approve(d))
		}
		return tooLate(r.Decline(d))
	})
	if errors.Is(err, ledger.ErrNotFound) {
		return request.Request{}, ErrNoRequest
	}
	if err != nil {
		return request.Request{}, err
	}
	if req.TaskToken != "" {
		if err := s.Starter.Decide(ctx, req.TaskToken, approve); err != nil {
			return req, fmt.Errorf("hand the decision on %s to its workflow: %w", req.ID, err)
		}
	}
	return req, nil
}

// ErrNotRetryable: the request is not failed, or failed where a new execution cannot pick it up (409).
var ErrNotRetryable = lerr.Errorf(lerr.ECONFLICT, "only a failed request can be retried, and only one that failed before its outcome")

// retryNote starts the history note of an operator's retry; retries counts them for the name of
// the next execution.
const retryNote = "retried by the privacy officer: execution "

// retryable are the statuses a failed request may go back to and have its workflow pick it up:
// each machine's Open accepts them, and the erase loop resumes from its stored checkpoint.
var retryable = map[request.Status]bool{request.StatusReceived: true, request.StatusScheduled: true,
	request.StatusAwaitingVerification: true, request.StatusSoftDeleted: true, request.StatusHardDeleting: true}

// Retry re-drives a failed request from where it stopped: it goes back to the status it failed in
// (request.Retry, recorded with actor) and its workflow is started again under a new execution,
// whose erase loop resumes from the checkpoint the failed one reached. A start that fails puts the
// request back to failed.
func (s *Service) Retry(ctx context.Context, requestID, actor string) (request.Request, error) {
	now := s.now()
	var name, suffix string
	req, err := s.Ledger.Update(ctx, requestID, func(r *request.Request) error {
		if r.Status != request.StatusFailed || !retryable[r.Stage()] {
			return ErrNotRetryable
		}
		n := 1
		for _, e := range r.History {
			if strings.HasPrefix(e.Note, retryNote) {
				n++
			}
		}
		suffix = fmt.Sprintf("o%d", n)
		name = retryName(r.ID, n)
		return r.Retry(now, actor, retryNote+name)
	})
	if errors.Is(err, ledger.ErrNotFound) {
		return request.Request{}, ErrNoRequest
	}
	if err != nil {
		return request.Request{}, err
	}
	if _, err := s.Starter.Restart(ctx, req, suffix); err != nil {
		_, ferr := s.Ledger.Update(ctx, req.ID, func(r *request.Request) error {
			return r.Fail(s.now(), actor, "the retry could not start its workflow")
		})
		return req, errors.Join(err, ferr)
	}
	return s.Ledger.Get(ctx, req.ID)
}

// retryName is the n-th retry's execution name, as Restart names it from the suffix o<n>: the
// request id and -o<n>, within the 80 characters Step Functions allows.
func retryName(id string, n int) string {
	suffix := fmt.Sprintf("-o%d", n)
	if len(id)+len(suffix) > 80 {
		id = id[:80-len(suffix)]
	}
	return id + suffix
}
