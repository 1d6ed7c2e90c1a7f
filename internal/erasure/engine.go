// Package erasure is the code that destroys data, and must never destroy the wrong data. Given a
// deletion scope it enumerates what the data map says the scope reaches (GetItem and Query only),
// skips what the law keeps and what a legal hold covers, and deletes the rest with parallel
// BatchWriteItem and S3 DeleteObjects calls, in bounded slices that return a checkpoint. A slice can
// die at any point and the next resumes from the last checkpoint: children are always deleted before
// the items that lead to them, so whatever remains is still reachable from what is still stored.
package erasure

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/bulkwrite"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/platform"
)

// DB is the part of the DynamoDB client the engine uses; *dynamodb.Client satisfies it. Like the
// store's, it has no Scan.
type DB interface {
	platform.DB
	UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error)
}

// S3 is the part of the S3 client the engine uses; *s3.Client satisfies it.
type S3 interface {
	ListObjectsV2(ctx context.Context, in *s3.ListObjectsV2Input, optFns ...func(*s3.Options)) (*s3.ListObjectsV2Output, error)
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

// Holds gives the active legal holds of an account; *ledger.Ledger satisfies it.
type Holds interface {
	ActiveHolds(ctx context.Context, accountID string) ([]platform.LegalHold, error)
}

// Engine deletes scopes. Build it once and share it.
type Engine struct {
	store   *platform.Store
	db      DB
	s3      S3
	buckets map[string]string // logical → physical
	holds   Holds
	opts    Options
}

// Options tune the engine; zero values take the defaults.
type Options struct {
	Workers     int // parallel BatchWriteItem calls (default 8)
	Subjects    int // end users deleted at once (default 16)
	PageSize    int32
	S3Retries   int // attempts for S3 keys that DeleteObjects reports as failed (default 10)
	Now         func() time.Time
	RetryBase   time.Duration // backoff base for S3 retries and the batch writer (default 20 ms)
	RetryMaxGap time.Duration // backoff cap (default 2 s)
}

// New builds an engine.
func New(store *platform.Store, db DB, s3c S3, buckets map[string]string, holds Holds, o Options) *Engine {
	if o.Workers <= 0 {
		o.Workers = 8
	}
	if o.Subjects <= 0 {
		o.Subjects = 16
	}
	if o.PageSize <= 0 {
		o.PageSize = 100
	}
	if o.S3Retries <= 0 {
		o.S3Retries = 10
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RetryBase <= 0 {
		o.RetryBase = 20 * time.Millisecond
	}
	if o.RetryMaxGap <= 0 {
		o.RetryMaxGap = 2 * time.Second
	}
	return &Engine{store: store, db: db, s3: s3c, buckets: buckets, holds: holds, opts: o}
}

// Budget bounds one slice: it stops taking new work once either limit is reached (zero: no limit),
// finishes what it started, and returns a checkpoint.
type Budget struct {
	Items    int64
	Duration time.Duration
}

// Checkpoint is where a deletion stands between slices; it is plain JSON so a Step Functions state
// can carry it.
type Checkpoint struct {
	Stage  int               `json:"stage"`
	Source int               `json:"source"`
	Cursor map[string]string `json:"cursor,omitempty"`
	// Sources fixes, at the first slice, what the end-user stage walks (the account's bots …).
	Sources []string `json:"sources,omitempty"`
	// Deleted counts destroyed items per data-map category, and Objects the S3 objects.
	Deleted map[string]int64 `json:"deleted"`
	Objects int64            `json:"objects"`
	// Held lists the holds that kept part of the scope, HeldSubjects how many end users they kept.
	Held         []string  `json:"held,omitempty"`
	HeldSubjects int64     `json:"heldSubjects"`
	Withdrawn    int64     `json:"consentsWithdrawn"`
	StartedAt    time.Time `json:"startedAt"`
	Slices       int       `json:"slices"`
	Done         bool      `json:"done"`
}

func (c Checkpoint) clone() Checkpoint {
	out := c
	out.Deleted = make(map[string]int64, len(c.Deleted))
	for k, v := range c.Deleted {
		out.Deleted[k] = v
	}
	if c.Cursor != nil {
		out.Cursor = make(map[string]string, len(c.Cursor))
		for k, v := range c.Cursor {
			out.Cursor[k] = v
		}
	}
	out.Sources = append([]string(nil), c.Sources...)
	if c.Sources != nil && out.Sources == nil {
		out.Sources = []string{}
	}
	out.Held = append([]string(nil), c.Held...)
	return out
}

// Total is the number of items and objects destroyed so far.
func (c Checkpoint) Total() int64 {
	n := c.Objects
	for _, v := range c.Deleted {
		n += v
	}
	return n
}

// ErrUnknownScope is returned for a scope kind the engine does not know.
var ErrUnknownScope = lerr.New(lerr.EINTERNAL, "unknown deletion scope")

// Subject is a person whose data a slice destroyed: the account owner, a team member, an end user.
type Subject struct {
	Kind    string `json:"kind"` // account_owner, team_member, end_user
	ID      string `json:"id"`
	Name    string `json:"name,omitempty"`
	Channel string `json:"channel,omitempty"`
}

// Delete runs one slice of the deletion of ref from cp (the zero Checkpoint starts it) and returns
// the checkpoint to pass to the next slice; Done is set when nothing in scope remains but what the
// law or a hold keeps. Deleting twice is harmless: a finished scope finishes again at once.
func (e *Engine) Delete(ctx context.Context, ref platform.ScopeRef, cp Checkpoint, b Budget) (Checkpoint, error) {
	cp, _, err := e.Slice(ctx, ref, cp, b)
	return cp, err
}

// Slice is Delete that also returns the subjects whose data the slice destroyed (their profile, or
// the account's, is gone), for the journal the evidence is drawn from.
func (e *Engine) Slice(ctx context.Context, ref platform.ScopeRef, cp Checkpoint, b Budget) (Checkpoint, []Subject, error) {
	return e.slice(ctx, ref, cp, b, false)
}

// Count runs a scope's plan without destroying anything and returns, per category, the items its
// deletion would destroy now: the same stages, listings, account checks and legal-hold skips as
// Delete, items past their TTL included (still stored, so still destroyed). It only reads, and it
// does not count S3 objects. What a preview shows is taken from it, so that the preview and the
// deletion cannot drift apart.
func (e *Engine) Count(ctx context.Context, ref platform.ScopeRef) (map[string]int64, error) {
	cp, _, err := e.slice(ctx, ref, Checkpoint{}, Budget{}, true)
	if err != nil {
		return nil, err
	}
	if !cp.Done {
		return nil, fmt.Errorf("count %s scope: the plan did not finish", ref.Kind)
	}
	return cp.Deleted, nil
}

// CountWithin is Count bounded by a budget: done is false, and the counts are nil, when the plan
// did not finish within it. A deletion counts its scope this way before its first slice, so that a
// scope too large to count quickly costs no more than the share of the slice it was given.
func (e *Engine) CountWithin(ctx context.Context, ref platform.ScopeRef, b Budget) (counts map[string]int64, done bool, err error) {
	cp, _, err := e.slice(ctx, ref, Checkpoint{}, b, true)
	if err != nil || !cp.Done {
		return nil, false, err
	}
	return cp.Deleted, true, nil
}

func (e *Engine) slice(ctx context.Context, ref platform.ScopeRef, cp Checkpoint, b Budget, dry bool) (Checkpoint, []Subject, error) {
	if cp.Done {
		return cp, nil, nil
	}
	// A failed slice hands back the checkpoint it was given: the work it did is either confirmed gone
	// or still reachable, and the next attempt resumes from here.
	orig := cp.clone()
	cp = cp.clone()
	plan, err := e.plan(ref)
	if err != nil {
		return cp, nil, err
	}
	if cp.Deleted == nil {
		cp.Deleted = map[string]int64{}
	}
	if cp.StartedAt.IsZero() {
		cp.StartedAt = e.opts.Now().UTC()
	}
	cp.Slices++
	s := &slice{e: e, ref: ref, cp: &cp, budget: b, start: time.Now(), holds: map[string][]platform.LegalHold{}, dry: dry}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	s.cancel = cancel
	reqs := make(chan bulkwrite.Request, 4*bulkwrite.MaxBatch)
	writeErr := make(chan error, 1)
	go func() {
		w := bulkwrite.Writer{DB: e.db, Workers: e.opts.Workers, BaseDelay: e.opts.RetryBase, MaxDelay: e.opts.RetryMaxGap,
			Fail: cancel} // stop the slice at once: it may be waiting for deletions that will not come
		_, err := w.Run(ctx, reqs)
		if err != nil {
			cancel(err)
		}
		writeErr <- err
	}()
	s.reqs = reqs
	runErr := s.run(ctx, plan)
	close(reqs)
	werr := <-writeErr
	s.flushCounts()
	if runErr == nil {
		runErr = werr
	}
	if runErr != nil {
		if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
			runErr = cause
		}
		return orig, nil, fmt.Errorf("delete %s scope: %w", ref.Kind, runErr)
	}
	return cp, s.subjects, nil
}

// slice is the state of one Delete call.
type slice struct {
	e      *Engine
	ref    platform.ScopeRef
	cp     *Checkpoint
	budget Budget
	start  time.Time
	reqs   chan<- bulkwrite.Request
	cancel context.CancelCauseFunc
	// dry counts what would be deleted and deletes nothing (Engine.Count).
	dry bool

	mu        sync.Mutex
	holds     map[string][]platform.LegalHold // by account
	heldPaths map[string]heldPath             // by account
	counts    sync.Map                        // category → *int64, confirmed deletions of this slice
	subjects  []Subject                       // whose data this slice destroyed
	objects   atomic.Int64
	items     atomic.Int64
}

func (s *slice) exhausted() bool {
	if s.budget.Items > 0 && s.items.Load()+s.objects.Load() >= s.budget.Items {
		return true
	}
	return s.budget.Duration > 0 && time.Since(s.start) >= s.budget.Duration
}

func (s *slice) count(category string, n int64) {
	v, _ := s.counts.LoadOrStore(category, new(int64))
	atomic.AddInt64(v.(*int64), n)
	s.items.Add(n)
}

func (s *slice) flushCounts() {
	s.counts.Range(func(k, v any) bool {
		s.cp.Deleted[k.(string)] += atomic.LoadInt64(v.(*int64))
		return true
	})
	s.cp.Objects += s.objects.Load()
}

// activeHolds returns (and caches for the slice) an account's active holds.
func (s *slice) activeHolds(ctx context.Context, accountID string) ([]platform.LegalHold, error) {
	s.mu.Lock()
	hs, ok := s.holds[accountID]
	s.mu.Unlock()
	if ok {
		return hs, nil
	}
	if s.e.holds == nil {
		return nil, nil
	}
	hs, err := s.e.holds.ActiveHolds(ctx, accountID)
	if err != nil {
		return nil, fmt.Errorf("read legal holds: %w", err)
	}
	s.mu.Lock()
	s.holds[accountID] = hs
	s.mu.Unlock()
	return hs, nil
}

// held reports the first active hold covering the account, bot or end user, recording it.
func (s *slice) held(ctx context.Context, accountID, botID, endUserID string) (bool, error) {
	hs, err := s.activeHolds(ctx, accountID)
	if err != nil {
		return false, err
	}
	for _, h := range hs {
		if h.Covers(accountID, botID, endUserID) {
			s.mu.Lock()
			found := false
			for _, id := range s.cp.Held {
				found = found || id == h.ID
			}
			if !found {
				s.cp.Held = append(s.cp.Held, h.ID)
			}
			s.mu.Unlock()
			return true, nil
		}
	}
	return false, nil
}

// subjectOf is the person whose data an item's deletion destroys, for the items that name one: an
// account profile or connection (the account owner), a team member or their logged action, an
// end-user profile or inbox message.
func subjectOf(category string, it map[string]types.AttributeValue) *Subject {
	switch category {
	case datamap.AccountProfile:
		return &Subject{Kind: "account_owner", ID: platform.AttrString(it["accountId"]), Name: platform.AttrString(it["fullName"])}
	case datamap.TeamMember:
		return &Subject{Kind: "team_member", ID: platform.AttrString(it["sub"]), Name: platform.AttrString(it["fullName"])}
	case datamap.EndUserProfile:
		return &Subject{Kind: "end_user", ID: platform.AttrString(it["endUserId"]), Name: platform.AttrString(it["displayName"]), Channel: platform.AttrString(it["channel"])}
	case datamap.InboxMessage:
		return &Subject{Kind: "end_user", ID: platform.AttrString(it["endUserId"])}
	case datamap.ActivityLog:
		return &Subject{Kind: "team_member", ID: platform.AttrString(it["actorSub"]), Name: platform.AttrString(it["actorName"])}
	case datamap.ChannelConnection:
		return &Subject{Kind: "account_owner", ID: platform.AttrString(it["accountId"])}
	}
	return nil
}

// heldPath is what leads to held data: the bots and connections that data hangs from. They are kept
// while the hold stands, or the deletion that finishes after its release could not find the data.
type heldPath struct{ bots, conns map[string]bool }

func (s *slice) pathsToHeld(ctx context.Context, accountID string) (heldPath, error) {
	s.mu.Lock()
	p, ok := s.heldPaths[accountID]
	s.mu.Unlock()
	if ok {
		return p, nil
	}
	hs, err := s.activeHolds(ctx, accountID)
	if err != nil {
		return heldPath{}, err
	}
	p = heldPath{bots: map[string]bool{}, conns: map[string]bool{}}
	for _, h := range hs {
		switch h.ScopeKind {
		case platform.HoldBot:
			p.bots[h.ScopeID] = true
		case platform.HoldEndUser:
			u, err := s.e.store.EndUser(ctx, h.ScopeID)
			if errors.Is(err, platform.ErrNotFound) {
				continue
			}
			if err != nil {
				return heldPath{}, err
			}
			p.bots[u.BotID], p.conns[u.ConnectionID] = true, true
		}
	}
	s.mu.Lock()
	if s.heldPaths == nil {
		s.heldPaths = map[string]heldPath{}
	}
	s.heldPaths[accountID] = p
	s.mu.Unlock()
	return p, nil
}

// send queues the deletion of one item and counts it (and the person it stands for, given the item)
// once it is confirmed gone; wg, if set, is released then.
func (s *slice) send(ctx context.Context, category string, k platform.Key, wg *sync.WaitGroup, item ...map[string]types.AttributeValue) error {
	if s.dry {
		s.count(category, 1)
		return nil
	}
	if wg != nil {
		wg.Add(1)
	}
	var who *Subject
	if len(item) > 0 {
		who = subjectOf(category, item[0])
	}
	r := bulkwrite.Request{Table: k.Table, Write: types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k.Attributes()}},
		Done: func() {
			s.count(category, 1)
			if who != nil {
				s.mu.Lock()
				s.subjects = append(s.subjects, *who)
				s.mu.Unlock()
			}
			if wg != nil {
				wg.Done()
			}
		}}
	select {
	case s.reqs <- r:
		return nil
	case <-ctx.Done():
		if wg != nil {
			wg.Done()
		}
		return context.Cause(ctx)
	}
}

// wait blocks until every deletion sent with wg is confirmed, or the slice fails.
func wait(ctx context.Context, wg *sync.WaitGroup) error {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// keyOfItem is the key of a stored item of a logical table.
func (s *slice) keyOfItem(logical string, it map[string]types.AttributeValue) platform.Key {
	return platform.Key{Table: s.e.store.Table(logical), PK: platform.AttrString(it[platform.AttrPK]), SK: platform.AttrString(it[platform.AttrSK])}
}

// assertDeletable is the last guard before anything is destroyed: a kept category never is.
func assertDeletable(category string) error {
	c, ok := datamap.Lookup(category)
	if !ok {
		return fmt.Errorf("refusing to delete an item of unknown category %q", category)
	}
	if c.Kept() {
		return fmt.Errorf("refusing to delete %s: kept by law or by design", category)
	}
	return nil
}
