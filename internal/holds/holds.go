// Package holds is where operators place, release and list legal holds (SPEC §2): the one service
// behind the ops API's hold routes and the `lethe hold` command. Placing a hold checks what it
// names, records it with the operator who acted, and takes the TTL off what it covers for as long
// as the caller's time allows (the retention sweep continues the rest); releasing it resumes every
// request it held and hands each to its workflow, which finishes the deletion.
package holds

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// Errors of the hold actions (the ledger's own: not found, already released, invalid).
var (
	ErrNotFound = ledger.ErrHoldNotFound
	ErrReleased = ledger.ErrHoldReleased
	ErrInvalid  = ledger.ErrInvalidHold
)

// Settler takes the TTL off (or gives it back to) one batch of a hold's scope (retention.Sweep).
type Settler interface {
	SettleHold(ctx context.Context, holdID string, limit int) (done bool, err error)
}

// Restarter hands a resumed request to its workflow under a fresh execution name
// (workflow.Starter): the request's first execution ended when the hold stopped it.
type Restarter interface {
	Restart(ctx context.Context, req request.Request, suffix string) (string, error)
}

// DefaultBudget is how long placing a hold settles its TTL before it answers: well inside the
// API's 29 seconds. What is left is the retention sweep's (it continues every pending hold).
const DefaultBudget = 10 * time.Second

// batch is how many targets of a hold's scope one settle call passes.
const batch = 200

// Service places, releases and lists legal holds.
type Service struct {
	Ledger    *ledger.Ledger
	Store     *platform.Store
	TTL       Settler
	Workflows Restarter
	// Budget bounds the TTL settling of a place or release (DefaultBudget when 0).
	Budget time.Duration
	Now    func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Place checks and records a hold placed by actor: its scope names the account itself, or a bot or
// an end user that exists in it; a reason, an authority and its reference are given; an end date,
// if stated, is not past. It then takes the TTL off what the hold covers within the budget.
func (s *Service) Place(ctx context.Context, h platform.LegalHold, actor string) (platform.LegalHold, error) {
	h.Reason, h.Authority, h.AuthorityRef = strings.TrimSpace(h.Reason), strings.TrimSpace(h.Authority), strings.TrimSpace(h.AuthorityRef)
	var bad []string
	if h.AccountID == "" {
		bad = append(bad, "accountId is missing")
	}
	if h.Reason == "" {
		bad = append(bad, "reason is missing")
	}
	if h.Authority == "" {
		bad = append(bad, "authority is missing")
	}
	if h.AuthorityRef == "" {
		bad = append(bad, "authorityRef is missing")
	}
	if strings.TrimSpace(actor) == "" {
		bad = append(bad, "no operator")
	}
	if h.Until != nil {
		today := s.now().Truncate(24 * time.Hour)
		if h.Until.Before(today) {
			bad = append(bad, "until is in the past")
		}
	}
	switch h.ScopeKind {
	case platform.HoldAccount:
		if h.ScopeID != "" && h.ScopeID != h.AccountID {
			bad = append(bad, "scope.id of an account hold must be the account or empty")
		}
	case platform.HoldBot, platform.HoldEndUser:
		if h.ScopeID == "" {
			bad = append(bad, "scope.id is missing")
		}
	default:
		bad = append(bad, "scope.kind must be account, bot or end_user")
	}
	if len(bad) > 0 {
		return platform.LegalHold{}, fmt.Errorf("%w: %s", ErrInvalid, strings.Join(bad, "; "))
	}
	if err := s.exists(ctx, h); err != nil {
		return platform.LegalHold{}, err
	}
	placed, err := s.Ledger.PlaceHold(ctx, h, actor)
	if err != nil {
		return platform.LegalHold{}, err
	}
	return s.settle(ctx, placed.ID)
}

// exists checks that the account, and the bot or end user a hold names, exist: a hold on nothing
// would keep nothing and mislead whoever reads it.
func (s *Service) exists(ctx context.Context, h platform.LegalHold) error {
	var err error
	switch h.ScopeKind {
	case platform.HoldAccount:
		_, err = s.Store.Account(ctx, h.AccountID)
	case platform.HoldBot:
		_, err = s.Store.Bot(ctx, h.AccountID, h.ScopeID)
	case platform.HoldEndUser:
		var u platform.EndUser
		if u, err = s.Store.EndUser(ctx, h.ScopeID); err == nil && u.AccountID != h.AccountID {
			err = platform.ErrNotFound
		}
	}
	if errors.Is(err, platform.ErrNotFound) {
		return fmt.Errorf("%w: no %s %s in account %s", ErrInvalid, h.ScopeKind, h.ScopeID, h.AccountID)
	}
	return err
}

// settle runs the hold's TTL batches until they are done or the budget is spent, and returns the
// hold with its progress. A hold whose batches are not done stays pending for the retention sweep.
func (s *Service) settle(ctx context.Context, id string) (platform.LegalHold, error) {
	if s.TTL != nil {
		budget := s.Budget
		if budget <= 0 {
			budget = DefaultBudget
		}
		until := time.Now().Add(budget)
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < 2*budget {
			until = time.Now().Add(time.Until(dl) / 2)
		}
		for time.Now().Before(until) {
			done, err := s.TTL.SettleHold(ctx, id, batch)
			if err != nil {
				return platform.LegalHold{}, err
			}
			if done {
				break
			}
		}
	}
	return s.Ledger.Hold(ctx, id)
}

// Release releases a hold as actor, with a note, and resumes every request it held: each goes back
// to hard_deleting (the Resume transition) and its workflow is started again to finish it. It
// returns the released hold and the requests resumed. A released hold is ErrReleased; an unknown
// one ErrNotFound.
func (s *Service) Release(ctx context.Context, id, actor, note string) (platform.LegalHold, []request.Request, error) {
	if strings.TrimSpace(actor) == "" {
		return platform.LegalHold{}, nil, fmt.Errorf("%w: no operator", ErrInvalid)
	}
	h, err := s.Ledger.ReleaseHold(ctx, id, actor, strings.TrimSpace(note))
	if err != nil {
		return platform.LegalHold{}, nil, err
	}
	held, err := s.Ledger.ByStatus(ctx, request.StatusHeld)
	if err != nil {
		return h, nil, err
	}
	var resumed []request.Request
	var errs []error
	for _, r := range held {
		if r.AccountID != h.AccountID && r.Kind != request.KindChannelIdentity || !slices.Contains(r.HeldBy, h.ID) {
			continue
		}
		out, err := s.Ledger.Update(ctx, r.ID, func(r *request.Request) error {
			if r.Status != request.StatusHeld || !slices.Contains(r.HeldBy, h.ID) {
				return errNotHeld
			}
			return r.Resume(s.Ledger.Now().UTC(), actor, "legal hold "+h.ID+" released: the deletion is finished by its workflow")
		})
		if errors.Is(err, errNotHeld) {
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// A start that fails leaves the request in hard_deleting without an execution: the SLA
		// sweep's reconciliation starts it again.
		if _, err := s.Workflows.Restart(ctx, out, "h"+h.ID); err != nil {
			errs = append(errs, fmt.Errorf("restart %s: %w", out.ID, err))
		}
		resumed = append(resumed, out)
	}
	if len(errs) > 0 {
		return h, resumed, fmt.Errorf("%w: hold %s: %w", ErrResumePending, h.ID, errors.Join(errs...))
	}
	if h, err = s.settle(ctx, h.ID); err != nil {
		return h, resumed, err
	}
	return h, resumed, nil
}

var errNotHeld = errors.New("no longer held by this hold")

// ErrResumePending: the hold is released, but some request it held could not be resumed or handed
// to its workflow now. The SLA sweep (internal/slasweep) finishes each: it resumes a request still
// held only by released holds, and starts again one left in hard_deleting without a workflow.
var ErrResumePending = lerr.New(lerr.EINTERNAL, "legal hold released; resuming its requests is left to the SLA sweep")

// List lists an account's holds, newest first, only the active ones if activeOnly.
func (s *Service) List(ctx context.Context, accountID string, activeOnly bool) ([]platform.LegalHold, error) {
	list := s.Ledger.Holds
	if activeOnly {
		list = s.Ledger.ActiveHolds
	}
	hs, err := list(ctx, accountID)
	slices.Reverse(hs) // the index sorts them by id, which is the time each was placed
	return hs, err
}

// ListAll lists the holds of every account, newest first, one page at a time (ledger.AllHolds):
// the privacy officer's view of every hold in force, or of every hold with activeOnly false.
func (s *Service) ListAll(ctx context.Context, activeOnly bool, limit int, cursor string) ([]platform.LegalHold, string, error) {
	return s.Ledger.AllHolds(ctx, activeOnly, limit, cursor)
}
