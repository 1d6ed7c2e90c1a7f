package retention

import (
	"context"
	"errors"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"golang.org/x/sync/errgroup"

	"github.com/lethe-dev/lethe/internal/bulkwrite"
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

// applyChanges makes every change — in transactions of up to 100 when the DB takes them, else one
// conditional request each — with at most deleteConcurrency calls in flight, and sets each change's
// outcome.
func (s *Sweep) applyChanges(ctx context.Context, changes []*change) {
	var g errgroup.Group
	g.SetLimit(deleteConcurrency)
	tx, ok := s.DB.(transactor)
	if !ok || len(changes) == 1 {
		for _, c := range changes {
			g.Go(func() error { s.applyOne(ctx, c); return nil })
		}
		_ = g.Wait()
		return
	}
	for len(changes) > 0 {
		group := changes[:min(maxTransactItems, len(changes))]
		changes = changes[len(group):]
		g.Go(func() error { s.transact(ctx, tx, group); return nil })
	}
	_ = g.Wait()
}

// applyOne makes one change with its own conditional request.
func (s *Sweep) applyOne(ctx context.Context, c *change) {
	if c.d.action == repair {
		c.applied, c.err = s.repair(ctx, c.item, c.d)
		return
	}
	c.applied, c.err = s.deleteItem(ctx, c.item, c.d)
}

// transact makes a group of changes in one transaction. The changes whose condition failed are left
// alone; the others are sent again (a cancelled transaction wrote nothing). A transaction that fails
// otherwise, or is cancelled transactAttempts times, leaves what remains to one request per change.
func (s *Sweep) transact(ctx context.Context, tx transactor, group []*change) {
	pending := group
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 0))
	for attempt := 0; len(pending) > 0 && attempt < transactAttempts; attempt++ {
		items := make([]types.TransactWriteItem, len(pending))
		for i, c := range pending {
			items[i] = s.transactItem(c)
		}
		_, err := tx.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
		if err == nil {
			for _, c := range pending {
				c.applied = true
			}
			return
		}
		var tc *types.TransactionCanceledException
		if !errors.As(err, &tc) || len(tc.CancellationReasons) != len(pending) {
			break
		}
		var next []*change
		for i, reason := range tc.CancellationReasons {
			if aws.ToString(reason.Code) != codeConditionFailed {
				next = append(next, pending[i])
			}
		}
		if len(next) == len(pending) {
			// No condition failed: a conflict with another writer, or throttling. Wait a little.
			if bulkwrite.Sleep(ctx, bulkwrite.Backoff(rng, attempt, 20*time.Millisecond, time.Second)) != nil {
				break
			}
		}
		pending = next
	}
	for _, c := range pending {
		s.applyOne(ctx, c)
	}
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
