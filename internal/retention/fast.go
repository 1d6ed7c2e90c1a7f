package retention

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/lethe-dev/lethe/internal/bulkwrite"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/platform"
)

// A page's writes — expired items deleted, missing TTLs set — are plain conditional requests, one
// per item: what DynamoDB bills least (a DeleteItem is 1 WCU per started KB of the item; the same
// delete in a transaction is 2, issue 19 §3). Every write keeps its condition: the item still
// exists and holds the TTL the scan saw, so one changed since (a conversation that got a message)
// is left alone. The writer gathers the changes of however many pages into groups, and gives each
// group what a transaction used to, by the order of its steps (write):
//
//  1. Judged again by the holds of the current epoch (holds.go).
//  2. Evidence first: a pending record of the keys of the removed items' S3 objects with their
//     items' keys (files.go), then one journal part naming the subjects of the group's deletions
//     that the run has not journaled yet (evidence's Announce, packed). No deletion is made
//     before its journal entry is stored.
//  3. The deletions and repairs, deleteConcurrency requests at once.
//  4. The holds epoch read again, strongly consistent. If a hold was placed since step 1, every
//     item of the group it covers that went is put back from the image the scan read, without
//     TTL, as the TTL stream does for a removal DynamoDB made under a hold (stream.go): nothing a
//     hold covers stays destroyed by a write judged before it. (A deletion that completed before
//     that read and found the epoch unchanged was made before the hold.)
//  5. A withdrawal part (evidence's Withdraw) takes back the subjects none of whose deletions in
//     the group was made.
//  6. The files of the items that went are deleted, then the pending record. A run that stops in
//     between leaves the record; the next deletes those of its files whose item is gone.
//
// Steps 2 to 6 go on after the invocation's context ends. What remains open is a process dying
// between steps 2 and 5: its journal may then name a subject whose deletion was not made, and the
// next invocation, which scans the page again, makes the deletion (the item being still expired)
// unless the item changed meanwhile.
//
// A group is as many changes as arrive within groupLinger, up to groupMost changes or
// groupDeletions deletions, or until every segment being scanned waits for its writes (waitFor), so
// the journal part that goes with it is a small share of what the group deletes.

const (
	// groupMost bounds the changes of one group.
	groupMost = 250
	// groupDeletions is the most deletions a group holds, and how many make it go at once: the
	// journal part naming their subjects (about 18 bytes each, gzipped, beside some 250 bytes of
	// keys and times) then fills one 1 KB write unit without passing it; more deletions per part
	// would save little capacity and hold the writes back from overlapping the scan.
	groupDeletions = 36
	// groupLinger is how long a group waits for more changes before it is written.
	groupLinger = 250 * time.Millisecond
	// groupsInFlight bounds the groups being written at once (each with deleteConcurrency requests).
	groupsInFlight = 4
	// settleTimeout bounds what a group does from its journal part on (its writes, the holds
	// check, putting back, the withdrawal, the files) once the invocation's context has ended.
	settleTimeout = 20 * time.Second
)

// change is one conditional write of a page: an expired item deleted (decision remove), or its TTL
// set (decision repair).
type change struct {
	item map[string]types.AttributeValue
	d    decision
	// applied: the write took effect. False with a nil err: the item changed or went since the scan.
	applied bool
	err     error
	// page is the page the change is of.
	page *pageWrites
	// epoch is the holds epoch the change was judged at; held: a hold placed since covers the
	// item, so the change was dropped, or its deletion undone (holds.go).
	epoch int64
	held  bool
	// keys are a removed item's S3 objects, deleted once the item is; objects counts those
	// deleted, filesErr a failure to delete them (they are then pending, files.go).
	keys     []string
	objects  int64
	filesErr error
}

// condition is what every write of the sweep is conditional on: the item still exists and holds the
// TTL it was scanned with (none, when it had none).
func condition(d decision) (string, map[string]types.AttributeValue) {
	if d.stored != "" {
		return "attribute_exists(#pk) AND #exp = :old", map[string]types.AttributeValue{":old": &types.AttributeValueMemberN{Value: d.stored}}
	}
	return "attribute_exists(#pk) AND attribute_not_exists(#exp)", nil
}

// conditionNames are the names condition and the repair's update use.
func conditionNames() map[string]string {
	return map[string]string{"#pk": platform.AttrPK, "#exp": platform.AttrExpiresAt}
}

func itemKey(item map[string]types.AttributeValue) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{platform.AttrPK: item[platform.AttrPK], platform.AttrSK: item[platform.AttrSK]}
}

// pageWrites is one page's changes on their way through the writer.
type pageWrites struct {
	changes []*change
	// counts are the page's counts known when it was judged (undatable items, S3 objects).
	counts map[string]*CategoryReport
	// lek is the page's LastEvaluatedKey: the segment's position once the page is settled.
	lek map[string]types.AttributeValue
	// left counts the changes not resolved yet; done is closed when none is left.
	left atomic.Int64
	done chan struct{}
	// err is a failure to journal the page's deletions (set before done is closed).
	mu  sync.Mutex
	err error
}

func (p *pageWrites) finished() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *pageWrites) fail(err error) {
	p.mu.Lock()
	p.err = errors.Join(p.err, err)
	p.mu.Unlock()
}

// writer makes the changes of every segment's pages in groups (see above), at most groupsInFlight
// groups at once.
type writer struct {
	s     *Sweep
	ctx   context.Context
	runID string
	holds *holdView
	// in carries a page's changes whole (cut only where a page holds more than a group may), so a
	// group never starts while half a page is still being handed over.
	in    chan []*change
	ended chan struct{}
	// hurry tells the group being gathered to go now: every segment scanning waits for its writes.
	hurry chan struct{}
	// scanning counts the segments being scanned, waiting those of them waiting for a page's writes.
	segMu             sync.Mutex
	scanning, waiting int
	// journaled are the subjects whose deletions this invocation has journaled and made: a later
	// group's deletions of theirs need no journal entry.
	mu        sync.Mutex
	journaled map[evidence.Subject]bool
}

// changeBuffer is how many changes may wait for the writer before a page's submit blocks.
const changeBuffer = 1024

func (s *Sweep) newWriter(ctx context.Context, runID string, holds *holdView) *writer {
	w := &writer{s: s, ctx: ctx, runID: runID, holds: holds, ended: make(chan struct{}), hurry: make(chan struct{}, 1), journaled: map[evidence.Subject]bool{}}
	w.in = make(chan []*change, changeBuffer/groupMost)
	go w.loop()
	return w
}

// submit hands a page's changes to the writer; a page without any is done at once.
func (w *writer) submit(p *pageWrites) {
	p.left.Store(int64(len(p.changes)))
	if len(p.changes) == 0 {
		close(p.done)
		return
	}
	for _, c := range p.changes {
		c.page = p
	}
	for rest := p.changes; len(rest) > 0; {
		n := min(len(rest), groupMost)
		w.in <- rest[:n:n]
		rest = rest[n:]
	}
}

// rush sends the group being gathered on its way.
func (w *writer) rush() {
	select {
	case w.hurry <- struct{}{}:
	default:
	}
}

// segmentStarted and segmentEnded count a segment being scanned.
func (w *writer) segmentStarted() {
	w.segMu.Lock()
	w.scanning++
	w.segMu.Unlock()
}

func (w *writer) segmentEnded() {
	w.segMu.Lock()
	w.scanning--
	idle := w.scanning > 0 && w.waiting >= w.scanning
	w.segMu.Unlock()
	if idle {
		w.rush()
	}
}

// waitFor waits until a page's writes are done. When every segment being scanned waits so (each
// has as many pages in flight as it may, or its scan ended), no more changes are coming for a
// while: the group being gathered goes at once rather than after groupLinger.
func (w *writer) waitFor(p *pageWrites) {
	if p.finished() {
		return
	}
	w.segMu.Lock()
	w.waiting++
	idle := w.waiting >= w.scanning
	w.segMu.Unlock()
	if idle {
		w.rush()
	}
	<-p.done
	w.segMu.Lock()
	w.waiting--
	w.segMu.Unlock()
}

// close waits for every change submitted to be made.
func (w *writer) close() {
	close(w.in)
	<-w.ended
}

func (w *writer) loop() {
	defer close(w.ended)
	sem := make(chan struct{}, groupsInFlight)
	var wg sync.WaitGroup
	var carry []*change // a page's changes that did not fit the group before
	open := true
	for open || carry != nil {
		group := carry
		carry = nil
		if group == nil {
			var ok bool
			if group, ok = <-w.in; !ok {
				break
			}
		}
		linger := time.NewTimer(groupLinger)
		deletions := countRemovals(group)
	fill:
		for open && len(group) < groupMost && deletions < groupDeletions {
			select {
			case more, ok := <-w.in:
				if !ok {
					open = false
					break fill
				}
				if len(group)+len(more) > groupMost {
					carry = more
					break fill
				}
				// A group takes deletions up to groupDeletions, the rest of the page's changes
				// going in the next (the page is all handed over: its changes are in more).
				take := len(more)
				for i, n := 0, deletions; i < len(more); i++ {
					if more[i].d.action == remove {
						if n == groupDeletions {
							take = i
							break
						}
						n++
					}
				}
				group = append(group[:len(group):len(group)], more[:take]...)
				deletions += countRemovals(more[:take])
				if take < len(more) {
					carry = more[take:]
					break fill
				}
			case <-linger.C:
				break fill
			case <-w.hurry:
				break fill
			case <-w.ctx.Done():
				break fill
			}
		}
		linger.Stop()
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			w.write(group)
		}()
	}
	wg.Wait()
}

// countRemovals counts the deletions among changes.
func countRemovals(changes []*change) int {
	n := 0
	for _, c := range changes {
		if c.d.action == remove {
			n++
		}
	}
	return n
}

// write makes one group of changes and resolves them, in the steps described above.
func (w *writer) write(group []*change) {
	defer func() {
		for _, c := range group {
			if c.page.left.Add(-1) == 0 {
				close(c.page.done)
			}
		}
	}()
	s, ctx := w.s, w.ctx
	fail := func(cs []*change, err error) {
		for _, c := range cs {
			c.err = err
		}
	}
	// 1. Judged by the holds of the current epoch.
	todo, epoch, err := w.holds.recheck(ctx, group)
	if err != nil {
		fail(group, err)
		return
	}
	if len(todo) == 0 {
		return
	}
	// 2. The pending record of the deletions' files and their journal part, first. (The record
	// first: a record whose deletions are never made is harmless, its files' items being still
	// stored; a journal part naming them would not be.)
	files, err := s.pendingFiles(w.runID, todo)
	if err == nil && files != nil {
		err = s.putPending(ctx, files)
	}
	if err != nil {
		fail(todo, fmt.Errorf("retention sweep: record the files of the deletions: %w", err))
		return
	}
	// From the journal part on, the group's steps go on if the invocation's context ends (its
	// deadline, a failing segment): a part whose write was cut off may have been stored, and the
	// writes that follow it must be settled, so that no held item stays deleted and the journal
	// names no deletion that was not made.
	if err := ctx.Err(); err != nil {
		fail(todo, err)
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	announced := w.announced(todo)
	var part string
	if len(announced) > 0 {
		if part, err = s.journal().Announce(ctx, w.runID, announced, s.now()); err != nil {
			if werr := s.journal().Withdraw(ctx, w.runID, part, announced, s.now()); werr != nil {
				s.log().Error("retention sweep: a journal part whose write failed could not be withdrawn", "run", w.runID, "err", werr)
			}
			fail(todo, fmt.Errorf("retention sweep: journal the deletions: %w", err))
			return
		}
	}
	// 3. The writes.
	var g errgroup.Group
	g.SetLimit(deleteConcurrency)
	for _, c := range todo {
		g.Go(func() error {
			if c.d.action == repair {
				c.applied, c.err = s.repair(ctx, c.item, c.d)
			} else {
				c.applied, c.err = s.deleteItem(ctx, c.item, c.d)
			}
			return nil
		})
	}
	_ = g.Wait()
	// 4. A hold placed since step 1 gets back what it covers.
	if err := w.undoHeld(ctx, todo, epoch); err != nil {
		for _, c := range todo {
			c.page.fail(err)
		}
	}
	// 5. The subjects of deletions not made are taken back.
	made := map[evidence.Subject]bool{}
	for _, c := range todo {
		if c.applied && c.err == nil && c.d.action == remove {
			if sub, ok := subjectOf(c.item); ok {
				made[sub] = true
			}
		}
	}
	var withdrawn []evidence.Subject
	for _, sub := range announced {
		if !made[sub] {
			withdrawn = append(withdrawn, sub)
		}
	}
	if len(withdrawn) > 0 {
		if err := s.journal().Withdraw(ctx, w.runID, part, withdrawn, s.now()); err != nil {
			// The page is not passed, and the run not finished: no act is drawn up from the journal
			// until a later invocation makes the page's deletions again and its journal is whole.
			err = fmt.Errorf("retention sweep: withdraw journal entries of deletions not made: %w", err)
			for _, c := range todo {
				c.page.fail(err)
			}
		}
	}
	w.mu.Lock()
	for sub := range made {
		w.journaled[sub] = true
	}
	w.mu.Unlock()
	// 6. The files of the items that went.
	s.deleteFiles(ctx, todo, files)
}

// announced are the subjects of the group's deletions that this invocation has not journaled and
// made yet: those its journal part announces.
func (w *writer) announced(group []*change) []evidence.Subject {
	w.mu.Lock()
	defer w.mu.Unlock()
	seen := map[evidence.Subject]bool{}
	var subs []evidence.Subject
	for _, c := range group {
		if c.d.action != remove {
			continue
		}
		if sub, ok := subjectOf(c.item); ok && !w.journaled[sub] && !seen[sub] {
			seen[sub] = true
			subs = append(subs, sub)
		}
	}
	return subs
}

// undoHeld reads the holds epoch again after a group's writes: if a hold was placed since the
// group was judged at epoch, each item it covers that the group deleted is put back as the scan
// read it, without TTL, and counted as held.
func (w *writer) undoHeld(ctx context.Context, group []*change, epoch int64) error {
	deleted := false
	for _, c := range group {
		deleted = deleted || (c.applied && c.d.action == remove)
	}
	if !deleted {
		return nil
	}
	now, err := w.holds.refresh(ctx)
	if err != nil {
		return fmt.Errorf("retention sweep: read the holds epoch after a group's deletions: %w", err)
	}
	if now == epoch {
		return nil
	}
	var failed error
	for _, c := range group {
		if !c.applied || c.d.action != remove {
			continue
		}
		held, err := w.holds.covers(ctx, now, c.d.category, c.item)
		if err != nil {
			failed = errors.Join(failed, err)
			continue
		}
		if !held {
			continue
		}
		if err := w.s.putBack(ctx, c.d.category, c.item); err != nil {
			failed = errors.Join(failed, err)
			continue
		}
		c.applied, c.held = false, true
	}
	return failed
}

// putBack stores an item the sweep deleted again, as restore does for the TTL stream, retrying a
// while: a held item must not stay deleted.
func (s *Sweep) putBack(ctx context.Context, c datamap.Category, item map[string]types.AttributeValue) error {
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	var err error
	for attempt := range putBackAttempts {
		if err = s.restore(ctx, item); err == nil {
			return nil
		}
		if bulkwrite.Sleep(ctx, bulkwrite.Backoff(rng, attempt, 20*time.Millisecond, time.Second)) != nil {
			break
		}
	}
	s.log().Error("retention sweep: an item a legal hold placed during the run covers was deleted and could not be put back", "category", c.Name, "err", err)
	return fmt.Errorf("retention sweep: %s: %w", c.Name, err)
}

// putBackAttempts bounds the attempts to put back one held item.
const putBackAttempts = 8

// putPending stores a pending files record in the ledger table.
func (s *Sweep) putPending(ctx context.Context, record map[string]types.AttributeValue) error {
	_, err := s.DB.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(s.Tables[datamap.LedgerTable]), Item: record})
	return err
}

// pending is a Scan page being read.
type pending struct {
	done chan struct{}
	page *dynamodb.ScanOutput
	err  error
}

// prefetch starts reading a page; wait returns it. A page never waited for is read all the same and
// dropped (the segment stopped at its deadline or failed).
func prefetch(ctx context.Context, db DB, in *dynamodb.ScanInput) *pending {
	p := &pending{done: make(chan struct{})}
	go func() {
		defer close(p.done)
		p.page, p.err = db.Scan(ctx, in)
	}()
	return p
}

func (p *pending) wait() (*dynamodb.ScanOutput, error) {
	<-p.done
	return p.page, p.err
}
