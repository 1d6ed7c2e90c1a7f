package retention

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
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

// A page's writes — expired items deleted, missing TTLs set — go to DynamoDB in TransactWriteItems
// calls of up to 100 conditional writes rather than one request each, when the client can send them
// (*dynamodb.Client can; a DB wrapper without TransactWriteItems gets one request per write). Every
// write keeps its own condition, the same as a single request's: the item still exists and holds the
// TTL the scan saw. A transaction is all or nothing: when some conditions fail, DynamoDB cancels it
// and says which; those items changed since the scan and are left alone, and the rest go again in a
// new transaction.
//
// On DynamoDB Local a request costs far more than the item it carries, so this is what keeps the
// sweep near the speed of its scan (BENCHMARKS.md, "Retention sweep"). On DynamoDB a transactional
// write consumes twice the write capacity of a plain one; the sweep writes about one item in a
// hundred it reads, and needs a twelfth of the round trips.

// transactor is the optional part of the DB the transactions need; *dynamodb.Client has it.
type transactor interface {
	TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error)
}

const (
	// maxTransactItems is DynamoDB's limit of actions in one TransactWriteItems call.
	maxTransactItems = 100
	// transactAttempts bounds the transactions one group is sent in before its writes that are
	// left go one request each (cancellations for conflicts with other writers or throttling).
	transactAttempts = 5
	// codeConditionFailed is a cancellation reason's code for a condition that did not hold.
	codeConditionFailed = "ConditionalCheckFailed"
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
	// item, so the change was dropped (holds.go).
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

// transactItem is a change as one action of a transaction: the same write and condition as
// deleteItem's or repair's request.
func (s *Sweep) transactItem(c *change) types.TransactWriteItem {
	cond, vals := condition(c.d)
	table := aws.String(s.Tables[c.d.category.Location.Table])
	if c.d.action == repair {
		v := map[string]types.AttributeValue{":e": &types.AttributeValueMemberN{Value: strconv.FormatInt(c.d.expires.Unix(), 10)}}
		for k, x := range vals {
			v[k] = x
		}
		return types.TransactWriteItem{Update: &types.Update{TableName: table, Key: itemKey(c.item),
			UpdateExpression: aws.String("SET #exp = :e"), ConditionExpression: aws.String(cond),
			ExpressionAttributeNames: conditionNames(), ExpressionAttributeValues: v}}
	}
	return types.TransactWriteItem{Delete: &types.Delete{TableName: table, Key: itemKey(c.item),
		ConditionExpression: aws.String(cond), ExpressionAttributeNames: conditionNames(), ExpressionAttributeValues: vals}}
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

// writer makes the changes of every segment's pages: it gathers them, from however many pages, into
// transactions of up to 99 conditional writes and the journal part naming the subjects of the
// transaction's deletions (so no deletion is ever stored without its journal entry), with at most
// deleteConcurrency calls in flight. A DB without TransactWriteItems gets one conditional request per
// change, and the journal part after them.
type writer struct {
	s     *Sweep
	ctx   context.Context
	runID string
	// tx is the DB's TransactWriteItems; nil when it has none.
	tx    transactor
	holds *holdView
	// in carries a page's changes whole (cut only where a page holds more than a group may), so a
	// group never starts while half a page is still being handed over.
	in    chan []*change
	most  int // the changes a group may hold
	ended chan struct{}
}

// changeBuffer is how many changes may wait for the writer before a page's submit blocks.
const changeBuffer = 1024

func (s *Sweep) newWriter(ctx context.Context, runID string, holds *holdView) *writer {
	w := &writer{s: s, ctx: ctx, runID: runID, holds: holds, ended: make(chan struct{})}
	w.tx, _ = s.DB.(transactor)
	// A group takes what is waiting, up to a transaction's worth (leaving room for its journal
	// part, its pending files and the holds epoch's condition): full ones while the scan outruns
	// the writes, single pages' when it does not.
	w.most = maxTransactItems - 3
	if w.tx == nil {
		w.most = deleteConcurrency * 4
	}
	w.in = make(chan []*change, max(1, changeBuffer/w.most))
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
		n := min(len(rest), w.most)
		w.in <- rest[:n:n]
		rest = rest[n:]
	}
}

// close waits for every change submitted to be made.
func (w *writer) close() {
	close(w.in)
	<-w.ended
}

func (w *writer) loop() {
	defer close(w.ended)
	sem := make(chan struct{}, deleteConcurrency)
	var wg sync.WaitGroup
	var carry []*change // a page's changes that did not fit the group before
	for {
		group := carry
		carry = nil
		if group == nil {
			var ok bool
			if group, ok = <-w.in; !ok {
				break
			}
		}
	fill:
		for len(group) < w.most {
			select {
			case more, ok := <-w.in:
				if !ok {
					break fill
				}
				if len(group)+len(more) > w.most {
					carry = more
					break fill
				}
				group = append(group[:len(group):len(group)], more...)
			default:
				break fill
			}
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			w.write(group)
		}()
	}
	wg.Wait()
}

// write makes one group of changes and resolves them.
func (w *writer) write(group []*change) {
	defer func() {
		for _, c := range group {
			if c.page.left.Add(-1) == 0 {
				close(c.page.done)
			}
		}
	}()
	if w.tx != nil {
		w.transact(group)
		return
	}
	w.each(group)
}

// each makes the changes one conditional request each, then journals the deletions made. The
// changes are judged again by the holds of the current epoch first; a request cannot carry the
// epoch's condition, so this path (a DB without transactions, or a group the transactions gave up
// on) leaves the moment between that check and the request open.
func (w *writer) each(group []*change) {
	group, _, err := w.holds.recheck(w.ctx, group)
	if err != nil {
		for _, c := range group {
			c.err = err
		}
		return
	}
	var g errgroup.Group
	g.SetLimit(deleteConcurrency)
	for _, c := range group {
		g.Go(func() error { w.s.applyOne(w.ctx, c); return nil })
	}
	_ = g.Wait()
	var made []*change
	for _, c := range group {
		if c.applied && c.err == nil {
			made = append(made, c)
		}
	}
	subjects := subjectsOf(made)
	if err := w.s.journalSubjects(w.ctx, w.runID, subjects); err != nil {
		for _, c := range made {
			c.page.fail(err)
		}
	}
}

// subjectsOf is whose data the deletions among changes destroy.
func subjectsOf(changes []*change) map[evidence.Subject]bool {
	out := map[evidence.Subject]bool{}
	for _, c := range changes {
		if c.d.action == repair {
			continue
		}
		if sub, ok := subjectOf(c.item); ok {
			out[sub] = true
		}
	}
	return out
}

// applyOne makes one change with its own conditional request. A removed item's files go first, so
// an item is never removed while its files remain (a request cannot carry the pending record).
func (s *Sweep) applyOne(ctx context.Context, c *change) {
	if c.d.action == repair {
		c.applied, c.err = s.repair(ctx, c.item, c.d)
		return
	}
	if len(c.keys) > 0 {
		n, err := s.deleteObjects(ctx, c.d.category, c.keys)
		if err != nil {
			// The item stays, pointing at what is left of its files: the next run tries again.
			c.err = fmt.Errorf("delete its files: %w", err)
			return
		}
		c.objects = n
	}
	c.applied, c.err = s.deleteItem(ctx, c.item, c.d)
}

// transact makes a group of changes in one transaction with the journal part of its deletions. The
// changes whose condition failed are left alone; the others are sent again (a cancelled transaction
// wrote nothing). A transaction that fails otherwise, or is cancelled transactAttempts times, leaves
// what remains to one request per change.
func (w *writer) transact(group []*change) {
	s, ctx := w.s, w.ctx
	pending := group
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	for attempt := 0; len(pending) > 0 && attempt < transactAttempts; attempt++ {
		// Judged again by the holds of the current epoch, and made only if it is still current.
		var epoch int64
		var err error
		if pending, epoch, err = w.holds.recheck(ctx, pending); err != nil {
			for _, c := range pending {
				c.err = err
			}
			return
		}
		if len(pending) == 0 {
			return
		}
		items := make([]types.TransactWriteItem, 0, len(pending)+2)
		for _, c := range pending {
			items = append(items, s.transactItem(c))
		}
		journal, err := s.journalParts(w.runID, subjectsOf(pending))
		if err != nil || len(items)+len(journal)+1 > maxTransactItems {
			break // the rest go one request each, journaled after them
		}
		for _, it := range journal {
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.Tables[datamap.LedgerTable]), Item: it}})
		}
		// The files of the items deleted go after them; until they are, a pending record keeps
		// their keys, written with the deletions.
		files, err := s.pendingFiles(w.runID, pending)
		if err != nil {
			break
		}
		if files != nil {
			if len(items)+2 > maxTransactItems {
				break
			}
			items = append(items, types.TransactWriteItem{Put: &types.Put{TableName: aws.String(s.Tables[datamap.LedgerTable]), Item: files}})
		}
		items = append(items, s.Ledger.HoldsUnchanged(epoch))
		_, err = w.tx.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			for _, c := range pending {
				c.applied = true
			}
			s.deleteFiles(ctx, pending, files)
			return
		}
		var tc *types.TransactionCanceledException
		if !errors.As(err, &tc) || len(tc.CancellationReasons) != len(items) {
			break
		}
		var next []*change
		for i, c := range pending {
			if aws.ToString(tc.CancellationReasons[i].Code) != codeConditionFailed {
				next = append(next, c)
			}
		}
		if aws.ToString(tc.CancellationReasons[len(items)-1].Code) == codeConditionFailed {
			// A hold was placed: the next attempt judges them again by the new holds.
			attempt--
		} else if len(next) == len(pending) {
			// No condition failed: a conflict with another writer, or throttling. Wait a little.
			if bulkwrite.Sleep(ctx, bulkwrite.Backoff(rng, attempt, 20*time.Millisecond, time.Second)) != nil {
				break
			}
		}
		pending = next
	}
	w.each(pending)
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
