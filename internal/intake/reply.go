package intake

import (
	"context"
	"errors"

	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/notify"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// KindReply is the journal's kind of a message that answers one of Lethe's mails.
const KindReply = "reply"

// reply handles a message that answers a mail Lethe sent. It is matched by the action token of the
// info+<token>@ address the mail's Reply-To carried, or else by In-Reply-To/References against the
// SES message ids of what Lethe sent. ok is false when the message answers nothing of Lethe's.
//
// A reply means "stop": it cancels an account deletion inside its soft-delete window (after it, the
// owner is told it is too late), and withdraws a request that still waits for verification —
// never confirms one, since "I did not ask for this" is a reply too. A token is proof enough (it
// went only to the account's address and cancelling deletes nothing); a match by message id alone
// counts only when the sender authenticated as the address the request's mails went to.
func (s *Service) reply(ctx context.Context, in *mailIn) (Result, bool, error) {
	res := Result{Kind: KindReply}
	for _, tok := range in.class.Tokens {
		ref, err := s.Ledger.ReferenceInfo(ctx, ledger.RefToken, tok)
		if errors.Is(err, ledger.ErrUnknownReference) {
			continue
		}
		if err != nil {
			return res, true, err
		}
		res, err := s.stop(ctx, ref.RequestID, "email:reply")
		return res, true, err
	}
	for _, id := range in.class.Referenced {
		ref, err := s.Ledger.ReferenceInfo(ctx, ledger.RefMessage, id)
		if errors.Is(err, ledger.ErrUnknownReference) {
			continue
		}
		if err != nil {
			return res, true, err
		}
		req, err := s.Ledger.Get(ctx, ref.RequestID)
		if errors.Is(err, ledger.ErrNotFound) {
			res.Outcome, res.Requests = OutcomeReplyIgnored, []string{ref.RequestID}
			return res, true, nil
		}
		if err != nil {
			return res, true, err
		}
		ok, err := s.fromRequestOwner(ctx, in, req)
		if err != nil {
			return res, true, err
		}
		if !ok {
			res.Outcome, res.Requests = OutcomeIgnoredUntrusted, []string{ref.RequestID}
			return res, true, nil
		}
		res, err := s.stopRequest(ctx, req, "email:reply")
		return res, true, err
	}
	return res, false, nil
}

// fromRequestOwner: the sender authenticated as the address a request's mails go to (its requester,
// or the account's own email).
func (s *Service) fromRequestOwner(ctx context.Context, in *mailIn, req request.Request) (bool, error) {
	if !in.auth || in.msg.From.Email == "" {
		return false, nil
	}
	if platform.NormalizeEmail(req.Requester) == in.msg.From.Email {
		return true, nil
	}
	acct, err := s.Store.Account(ctx, req.AccountID)
	if errors.Is(err, platform.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return platform.NormalizeEmail(acct.Email) == in.msg.From.Email, nil
}

// stop acts on a reply about one request.
func (s *Service) stop(ctx context.Context, requestID, actor string) (Result, error) {
	req, err := s.Ledger.Get(ctx, requestID)
	if errors.Is(err, ledger.ErrNotFound) {
		return Result{Kind: KindReply, Requests: []string{requestID}, Outcome: OutcomeReplyIgnored}, nil
	}
	if err != nil {
		return Result{Kind: KindReply, Requests: []string{requestID}}, err
	}
	return s.stopRequest(ctx, req, actor)
}

// stopRequest is stop for a request already read.
func (s *Service) stopRequest(ctx context.Context, req request.Request, actor string) (Result, error) {
	res := Result{Kind: KindReply, Requests: []string{req.ID}}
	if req.Kind != request.KindAccountDeletion {
		if req.Status != request.StatusAwaitingVerification {
			// Nothing a reply can change: it is read by a person, not acted on.
			res.Outcome = OutcomeReplyIgnored
			return res, nil
		}
		_, err := s.Ledger.Update(ctx, req.ID, func(r *request.Request) error {
			return r.Withdraw(s.Ledger.Now().UTC(), actor, "withdrawn by a reply to the verification mail; nothing was deleted")
		})
		if errors.Is(err, ledger.ErrConflict) {
			res.Outcome = OutcomeReplyIgnored // confirmed meanwhile by its link
			return res, nil
		}
		res.Outcome = OutcomeWithdrawn
		return res, err
	}
	wasWaiting := req.Status == request.StatusAwaitingVerification
	_, err := s.Requests.Cancel(ctx, req.ID, actor)
	switch {
	case err == nil:
		res.Outcome = OutcomeCancelled
		if wasWaiting {
			res.Outcome = OutcomeWithdrawn
		}
		return res, nil
	case errors.Is(err, requests.ErrTooLate):
		res.Outcome = OutcomeCancelTooLate
		cur, gerr := s.Ledger.Get(ctx, req.ID)
		if gerr != nil {
			return res, gerr
		}
		if cur.Requester == "" {
			return res, nil // the final mail went out: nobody left to tell
		}
		// Once per request: a second late reply is not answered again.
		return res, notify.SendOnce(ctx, s.Ledger, s.Mail, cur, mailer.Mail{Template: mailer.CancelTooLate,
			To: []string{cur.Requester}, Data: mailer.Data{AccountEmail: cur.Requester}}, "")
	case errors.Is(err, requests.ErrNoRequest):
		res.Outcome = OutcomeReplyIgnored
		return res, nil
	}
	return res, err
}
