// Package deletion carries out a request's hard delete: it runs the erasure engine slice by slice
// for the request's scope, records progress and whose data went in the request ledger, and when the
// scope is done verifies it, draws up the Order 179 evidence and moves the request on. It is what the
// workflow's tasks and the operator's CLI call; it decides nothing about when deletion may start.
package deletion

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/capmeter"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/obs"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// Version names the engine in every act it draws up.
const Version = "1.0"

// InformationSystem is the system the acts say the data left.
const InformationSystem = "Платформа чат-ботов: хранилища DynamoDB и S3 (Lethe) / Chatbot platform data stores (DynamoDB, S3)"

// Errors the workflow names in its Retry and Catch.
var (
	// ErrNotDeleting: the request is not in hard_deleting (cancelled, already done …): stop.
	ErrNotDeleting = lerr.New(lerr.ENOTDELETING, "request is not being hard-deleted")
	// ErrNotVerified: the verification pass still found data in scope: run the deletion again.
	ErrNotVerified = erasure.ErrNotVerified
)

// Service is built once and shared.
type Service struct {
	Ledger   *ledger.Ledger
	Engine   *erasure.Engine
	Store    *platform.Store
	Operator evidence.Operator
	Now      func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC()
	}
	return time.Now().UTC()
}

// Step runs one slice of a request's deletion and returns the checkpoint for the next. It refuses
// unless the request is hard_deleting, so a cancelled request is never touched.
func (s *Service) Step(ctx context.Context, requestID string, cp erasure.Checkpoint, b erasure.Budget) (erasure.Checkpoint, error) {
	// The capacity DynamoDB reports for the slice's calls (a client with capmeter.Ask), as metrics
	// (CloudWatch: Lethe/ConsumedReadCapacity, Lethe/ConsumedWriteCapacity, Function=EraseSlice).
	ctx, cc := capmeter.WithCounter(ctx)
	defer func() {
		u, calls := cc.Units()
		if calls > 0 {
			obs.Emit(map[string]string{"Function": "EraseSlice"},
				obs.Metric{Name: "ConsumedReadCapacity", Unit: obs.Count, Value: u.Read},
				obs.Metric{Name: "ConsumedWriteCapacity", Unit: obs.Count, Value: u.Write})
		}
	}()
	req, err := s.Ledger.Get(ctx, requestID)
	if err != nil {
		return cp, err
	}
	if req.Status != request.StatusHardDeleting {
		return cp, fmt.Errorf("%w: %s is %s", ErrNotDeleting, requestID, req.Status)
	}
	planned, b, err := s.plan(ctx, req, cp, b)
	if err != nil {
		return cp, err
	}
	next, subjects, err := s.Engine.Slice(ctx, req.Scope, cp, b)
	if err != nil {
		return cp, err
	}
	if len(subjects) > 0 {
		subs := make([]evidence.Subject, len(subjects))
		for i, x := range subjects {
			subs[i] = evidence.Subject(x)
		}
		if err := s.journal().RecordSlice(ctx, req.ID, len(req.Evidence)+1, next.Slices, subs, s.now()); err != nil {
			return cp, fmt.Errorf("journal subjects: %w", err)
		}
	}
	stored, err := json.Marshal(next)
	if err != nil {
		return cp, err
	}
	_, err = s.Ledger.Update(ctx, requestID, func(r *request.Request) error {
		if r.Status != request.StatusHardDeleting {
			return fmt.Errorf("%w: %s is %s", ErrNotDeleting, requestID, r.Status)
		}
		r.Progress = progress(next)
		r.HeldBy = next.Held
		if planned != nil && r.Planned == nil {
			r.Planned = planned
		}
		r.Checkpoint = string(stored)
		return nil
	})
	if err != nil {
		return cp, err
	}
	return next, nil
}

// plan counts what the request's scope holds before its first slice (Request.Planned), so that its
// progress can be shown as done of total. The count gets half of the slice's time, and the slice
// the rest; a count that does not finish in it records nothing, and the request shows its done
// counts alone. A later slice, or a request counted already, counts nothing.
func (s *Service) plan(ctx context.Context, req request.Request, cp erasure.Checkpoint, b erasure.Budget) (map[string]int64, erasure.Budget, error) {
	if cp.Slices > 0 || cp.Done || req.Planned != nil {
		return nil, b, nil
	}
	// The count is bounded by time only: an item budget bounds what a slice destroys.
	half := max(b.Duration/2, time.Nanosecond)
	cb := erasure.Budget{}
	if b.Duration > 0 {
		cb.Duration = half
	}
	start := time.Now()
	counts, done, err := s.Engine.CountWithin(ctx, req.Scope, cb)
	if err != nil {
		return nil, b, fmt.Errorf("count the scope of %s: %w", req.ID, err)
	}
	if b.Duration > 0 {
		b.Duration = max(b.Duration-time.Since(start), half)
	}
	if !done {
		return nil, b, nil
	}
	planned := map[string]int64{}
	for k, v := range counts {
		if v > 0 {
			planned[k] = v
		}
	}
	return planned, b, nil
}

// Resume is the checkpoint the request's erase loop last reached in this round: the zero
// checkpoint (start from the beginning) if none is stored. An execution that starts the erase loop
// again after a failure begins here, so nothing destroyed before is missing from the act.
func (s *Service) Resume(ctx context.Context, requestID string) (erasure.Checkpoint, error) {
	req, err := s.Ledger.Get(ctx, requestID)
	if err != nil {
		return erasure.Checkpoint{}, err
	}
	var cp erasure.Checkpoint
	if req.Checkpoint == "" {
		return cp, nil
	}
	if err := json.Unmarshal([]byte(req.Checkpoint), &cp); err != nil {
		return erasure.Checkpoint{}, fmt.Errorf("stored checkpoint of %s: %w", requestID, err)
	}
	return cp, nil
}

// journal is where the evidence of the request's destruction is kept.
func (s *Service) journal() evidence.Journal { return evidence.Journal{Store: s.Store} }

func progress(cp erasure.Checkpoint) map[string]int64 {
	p := map[string]int64{}
	for k, v := range cp.Deleted {
		p[k] = v
	}
	if cp.Objects > 0 {
		p["s3_objects"] = cp.Objects
	}
	return p
}

// Complete ends a request's deletion once the engine reports the scope done: it verifies that
// nothing in scope is left outside holds (else ErrNotVerified), stores the evidence of what was
// destroyed, and moves the request to held (a hold keeps part), awaiting_backup_rotation (account
// deletion) or completed.
func (s *Service) Complete(ctx context.Context, requestID string, cp erasure.Checkpoint) (request.Request, error) {
	req, err := s.Ledger.Get(ctx, requestID)
	if err != nil {
		return request.Request{}, err
	}
	if req.Status != request.StatusHardDeleting {
		return req, fmt.Errorf("%w: %s is %s", ErrNotDeleting, requestID, req.Status)
	}
	if !cp.Done {
		return req, errors.New("the deletion has not finished: run more slices")
	}
	left, err := s.Engine.Verify(ctx, req.Scope)
	if err != nil {
		return req, err
	}
	if !left.Empty() {
		return req, fmt.Errorf("%w: %v", ErrNotVerified, left)
	}
	round := len(req.Evidence) + 1
	evidenceID := evidence.ActID(req.ID, round)
	stored, locale := false, ""
	if cp.Total() > 0 {
		if locale, err = s.drawUpAct(ctx, req, evidenceID, round, cp); err != nil {
			return req, err
		}
		stored = true
	}
	now := s.now()
	done, err := s.Ledger.Update(ctx, requestID, func(r *request.Request) error {
		if r.Status != request.StatusHardDeleting {
			return fmt.Errorf("%w: %s is %s", ErrNotDeleting, requestID, r.Status)
		}
		if stored {
			r.Evidence = append(r.Evidence, evidenceID)
		}
		if r.Locale == "" {
			r.Locale = locale // the act's: the later mails of the request are written in it too
		}
		r.Progress = progress(cp)
		r.HeldBy = cp.Held
		r.Checkpoint = "" // the round is done: a later round starts from the beginning
		note := fmt.Sprintf("destroyed %d items and %d files; verified", cp.Total()-cp.Objects, cp.Objects)
		if len(cp.Held) > 0 {
			note += fmt.Sprintf("; %d end users and their data kept under legal hold %s", cp.HeldSubjects, strings.Join(cp.Held, ", "))
			return r.Hold(now, "system", note)
		}
		return r.Complete(now, "system", note) // an account deletion waits for its backups to rotate
	})
	if err != nil {
		return done, err
	}
	// What this round destroyed, per data-map category (CloudWatch: Lethe/ItemsDeleted).
	for category, n := range progress(cp) {
		obs.Counter("ItemsDeleted", n, map[string]string{"Category": category, "Kind": string(done.Kind)})
	}
	return done, nil
}

// drawUpAct draws up the act and journal extract of one round of destruction, in the request's
// language (else the account's), and returns that language. Every read it makes either succeeds or
// fails the step: an act is never drawn up without a fact a failed read would have added.
func (s *Service) drawUpAct(ctx context.Context, req request.Request, evidenceID string, round int, cp erasure.Checkpoint) (string, error) {
	subjects, err := s.journal().Round(ctx, req.ID, round)
	if err != nil {
		return "", err
	}
	if len(subjects) == 0 {
		subjects = []evidence.Subject{scopeSubject(req)}
	}
	owner, err := s.owner(ctx, req)
	if err != nil {
		return "", err
	}
	for i, sub := range subjects {
		// A connection or a scope names the owner by id only: the act names them, as their
		// profile does while it exists (an account deletion's journal took the name from it).
		if sub.Kind == evidence.SubjectAccountOwner && sub.Name == "" && sub.ID == owner.ID {
			subjects[i].Name = owner.FullName
		}
	}
	locale := evidence.LocaleOf(req.Locale, owner.Locale)
	why, err := reason(req)
	if err != nil {
		return "", err
	}
	var destroyed []evidence.CategoryCount
	for _, cat := range slices.Sorted(maps.Keys(cp.Deleted)) {
		if cp.Deleted[cat] > 0 {
			destroyed = append(destroyed, evidence.CategoryCount{Category: cat, Count: cp.Deleted[cat]})
		}
	}
	if len(destroyed) == 0 && cp.Objects > 0 {
		// Only files went (their records were destroyed by another request first): the act still
		// records them, under the category whose files they are.
		destroyed = append(destroyed, evidence.CategoryCount{Category: filesCategory(req.Scope.Kind), Count: cp.Objects})
	}
	var kept []evidence.Kept
	if req.Kind == request.KindAccountDeletion {
		pays, err := s.Store.Payments(ctx, req.AccountID)
		if err != nil {
			return "", fmt.Errorf("payments kept by %s: %w", req.ID, err)
		}
		if len(pays) > 0 {
			kept = append(kept, evidence.Kept{Category: datamap.Payment, Reason: evidence.KeptLawAccounting5y, Count: int64(len(pays))})
		}
		cons, err := s.Store.Consents(ctx, req.AccountID)
		if err != nil {
			return "", fmt.Errorf("consents kept by %s: %w", req.ID, err)
		}
		if len(cons) > 0 {
			kept = append(kept, evidence.Kept{Category: datamap.Consent, Reason: evidence.KeptConsentWithdrawal5y, Count: int64(len(cons))})
		}
	}
	if cp.HeldSubjects > 0 {
		kept = append(kept, evidence.Kept{Category: datamap.EndUserProfile, Reason: evidence.KeptLegalHold, Count: cp.HeldSubjects})
	}
	performed := "Lethe erasure engine " + Version + ", request " + req.ID
	if req.ExecutionARN != "" {
		performed += ", execution " + req.ExecutionARN
	}
	rec := evidence.Record{
		RequestID: evidenceID, RequestKind: string(req.Kind), Locale: locale, Reason: why,
		Operator: s.Operator, InformationSystem: InformationSystem,
		Destroyed: destroyed, Kept: kept,
		Method: evidence.MethodLogicalErasure, AuthorizedBy: authorizedBy(req), PerformedBy: performed,
		StartedAt: cp.StartedAt, CompletedAt: s.now(),
	}
	if err := s.journal().DrawUp(ctx, rec, subjects); err != nil {
		return "", fmt.Errorf("evidence of %s: %w", req.ID, err)
	}
	return locale, nil
}

// owner is the account whose request it is, as its profile stands: none once the profile is
// destroyed (an account deletion) or for a platform-wide request (a Meta identity).
func (s *Service) owner(ctx context.Context, req request.Request) (platform.Account, error) {
	if req.AccountID == "" || req.AccountID == "-" {
		return platform.Account{}, nil
	}
	acct, err := s.Store.Account(ctx, req.AccountID)
	if errors.Is(err, platform.ErrNotFound) {
		return platform.Account{}, nil
	}
	if err != nil {
		return platform.Account{}, fmt.Errorf("owner of %s: %w", req.ID, err)
	}
	return acct, nil
}

// filesCategory is the data-map category of the S3 files a scope reaches.
func filesCategory(k datamap.Scope) string {
	switch k {
	case datamap.ScopeInboxMessage:
		return datamap.InboxMessage
	case datamap.ScopeAccount:
		return datamap.AccountFile
	}
	return datamap.EndUserFile
}

// scopeSubject identifies the person a scope concerns when no profile of theirs was destroyed (one
// inbox message, activity logs, a connection): by identifier, never more.
func scopeSubject(r request.Request) evidence.Subject {
	switch {
	case r.Scope.EndUserID != "":
		return evidence.Subject{Kind: evidence.SubjectEndUser, ID: r.Scope.EndUserID}
	default:
		return evidence.Subject{Kind: evidence.SubjectAccountOwner, ID: r.AccountID}
	}
}

// reason is why a request's kind destroys data: each kind its own, and retention expiry whatever
// the kind. A kind with no reason stops the act rather than stating another kind's.
func reason(r request.Request) (string, error) {
	revoked := strings.HasPrefix(r.Source, "webhook") || strings.HasPrefix(r.Source, "sweep:")
	switch {
	case r.Source == "retention":
		return evidence.ReasonRetentionExpired, nil
	case r.Kind == request.KindAccountDeletion:
		return evidence.ReasonAccountOwnerRequest, nil
	case r.Kind == request.KindEndCustomerRequest:
		return evidence.ReasonEndCustomerRequest, nil
	case r.Kind == request.KindChannelIdentity:
		return evidence.ReasonSubjectRequest, nil
	case r.Kind == request.KindConnectionWipe && revoked:
		// The channel revoked access: a webhook said so, or the connection-health sweep found the
		// credential refused twice.
		return evidence.ReasonChannelRevoked, nil
	case r.Kind == request.KindEndUserDeletion && strings.HasPrefix(r.Source, "webhook"):
		// The end user blocked the bot, and the account deletes the data of those who do.
		return evidence.ReasonChannelRevoked, nil
	case slices.Contains([]request.Kind{request.KindConnectionWipe, request.KindEndUserDeletion, request.KindEndUserFilter,
		request.KindBotDeletion, request.KindInboxMessage, request.KindActivityLogs}, r.Kind):
		// The account chose what goes: a connection it named, end users, a bot, a message, log entries.
		return evidence.ReasonAccountInstruction, nil
	}
	return "", fmt.Errorf("no reason of destruction for a request of kind %q", r.Kind)
}

func authorizedBy(r request.Request) string {
	who := r.Source
	if len(r.History) > 0 && r.History[0].Actor != "" {
		who = r.History[0].Actor
	}
	return fmt.Sprintf("%s (request %s, %s)", who, r.ID, r.CreatedAt.UTC().Format("2006-01-02"))
}

// Run takes a hard_deleting request through every slice and completion (the CLI and the tests; in
// production each slice is its own workflow task).
func (s *Service) Run(ctx context.Context, requestID string, b erasure.Budget) (request.Request, error) {
	var cp erasure.Checkpoint
	for !cp.Done {
		next, err := s.Step(ctx, requestID, cp, b)
		if err != nil {
			return request.Request{}, err
		}
		cp = next
	}
	return s.Complete(ctx, requestID, cp)
}

// Evidence reads back the evidence of every round of a request's destruction.
func (s *Service) Evidence(ctx context.Context, requestID string) ([]evidence.Record, error) {
	req, err := s.Ledger.Get(ctx, requestID)
	if err != nil {
		return nil, err
	}
	var out []evidence.Record
	for _, id := range req.Evidence {
		rec, err := s.journal().Act(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// Act reads one act of destruction by its number (evidence.ActID); evidence.ErrNoAct if none.
func (s *Service) Act(ctx context.Context, actID string) (evidence.Record, error) {
	return s.journal().Act(ctx, actID)
}

// ReleaseHold releases a legal hold and finishes every request it held in this process: each goes
// back to hard_deleting and runs to completion, now destroying what the hold kept. Operators release
// through internal/holds, which hands the requests to their workflows instead; this in-process
// path is what the package's own tests drive.
func (s *Service) ReleaseHold(ctx context.Context, holdID, actor, note string, b erasure.Budget) ([]request.Request, error) {
	h, err := s.Ledger.ReleaseHold(ctx, holdID, actor, note)
	if err != nil {
		return nil, err
	}
	held, err := s.Ledger.ByStatus(ctx, request.StatusHeld)
	if err != nil {
		return nil, err
	}
	var done []request.Request
	for _, r := range held {
		if r.AccountID != h.AccountID && r.Kind != request.KindChannelIdentity {
			continue
		}
		covered := false
		for _, id := range r.HeldBy {
			covered = covered || id == h.ID
		}
		if !covered {
			continue
		}
		if _, err := s.Ledger.Update(ctx, r.ID, func(r *request.Request) error {
			return r.Resume(s.Ledger.Now().UTC(), actor, "legal hold "+h.ID+" released: finishing the deletion")
		}); err != nil {
			return done, err
		}
		out, err := s.Run(ctx, r.ID, b)
		if err != nil {
			return done, err
		}
		done = append(done, out)
	}
	return done, nil
}
