package retention_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/retention"
)

// txDB is the DynamoDB client with a hook run after the first Scan page with items — a writer
// acting between the sweep's scan and its writes — and its transactions and single writes counted.
type txDB struct {
	*dynamodb.Client
	once         sync.Once
	hook         func()
	transactions atomic.Int64
	// single counts DeleteItem and UpdateItem calls on the platform table (the ledger's are the
	// sweep's lease and records).
	single   atomic.Int64
	platform string
}

func (d *txDB) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	out, err := d.Client.Scan(ctx, in, optFns...)
	if err == nil && len(out.Items) > 0 {
		d.once.Do(d.hook)
	}
	return out, err
}

func (d *txDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	d.transactions.Add(1)
	return d.Client.TransactWriteItems(ctx, in, optFns...)
}

func (d *txDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	if aws.ToString(in.TableName) == d.platform {
		d.single.Add(1)
	}
	return d.Client.DeleteItem(ctx, in, optFns...)
}

func (d *txDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	if aws.ToString(in.TableName) == d.platform {
		d.single.Add(1)
	}
	return d.Client.UpdateItem(ctx, in, optFns...)
}

// Every write is conditional on the TTL the scan saw: of one page's expired conversations, the one a
// writer refreshed in between survives and the others go; the note whose TTL a writer set in
// between keeps that TTL; the one without is repaired. The writes are plain requests, one each (a
// transactional write costs twice the capacity), and the run's journal names the subject.
func TestSweepWritesSpareItemsChangedSinceTheScan(t *testing.T) {
	r := newRig(t, false)
	store := r.stack.System.Store
	var convs []platform.Conversation
	for _, id := range []string{"c1", "c2", "c3", "c4"} {
		convs = append(convs, platform.Conversation{AccountID: "a1", BotID: "b1", EndUserID: "u1", ID: id, LastMessageAt: t0.AddDate(-2, 0, 0)})
	}
	notes := []platform.Note{
		{AccountID: "a1", BotID: "b1", EndUserID: "u1", ID: "n1", AuthorSub: "s", Text: "x", UpdatedAt: t0.AddDate(0, -2, 0)},
		{AccountID: "a1", BotID: "b1", EndUserID: "u1", ID: "n2", AuthorSub: "s", Text: "x", UpdatedAt: t0.AddDate(0, -2, 0)},
	}
	// u2's only expired conversation is refreshed too: none of u2's deletions is made, so the
	// journal, which announced u2 before the writes, takes u2 back.
	other := platform.Conversation{AccountID: "a1", BotID: "b1", EndUserID: "u2", ID: "c5", LastMessageAt: t0.AddDate(-2, 0, 0)}
	for _, c := range append(convs, other) {
		if err := store.Put(r.ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	for _, n := range notes {
		if err := store.Put(r.ctx, n); err != nil {
			t.Fatal(err)
		}
		key, err := store.KeyOf(n)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.env.DynamoDB.UpdateItem(r.ctx, &dynamodb.UpdateItemInput{TableName: aws.String(key.Table), Key: key.Attributes(),
			UpdateExpression: aws.String("REMOVE expiresAt")}); err != nil {
			t.Fatal(err)
		}
	}
	const writerTTL = "4102444800" // 2100-01-01, what the writer sets on n2
	db := &txDB{Client: r.env.DynamoDB, platform: r.env.Tables[datamap.PlatformTable]}
	db.hook = func() {
		for _, c := range []platform.Conversation{convs[1], other} {
			c.LastMessageAt = t0
			if err := store.Put(r.ctx, c); err != nil {
				t.Error(err)
			}
		}
		key, _ := store.KeyOf(notes[1])
		if _, err := r.env.DynamoDB.UpdateItem(r.ctx, &dynamodb.UpdateItemInput{TableName: aws.String(key.Table), Key: key.Attributes(),
			UpdateExpression:          aws.String("SET expiresAt = :e"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":e": &types.AttributeValueMemberN{Value: writerTTL}}}); err != nil {
			t.Error(err)
		}
	}
	s := *r.sweep
	s.Segments, s.DB = 1, db
	res, err := s.Run(r.ctx, retention.Input{})
	if err != nil {
		t.Fatal(err)
	}
	if res.Errors != 0 {
		t.Errorf("%d errors", res.Errors)
	}
	got, err := store.Conversations(r.ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "c2" {
		t.Errorf("conversations left: %+v, want the refreshed c2 alone", got)
	}
	if c := res.Categories[datamap.Conversation]; c == nil || c.Deleted != 3 {
		t.Errorf("conversation counts: %+v, want 3 deleted", c)
	}
	if c := res.Categories[datamap.Note]; c == nil || c.Repaired != 1 {
		t.Errorf("note counts: %+v, want 1 repaired", c)
	}
	ttl := func(n platform.Note) string {
		t.Helper()
		key, _ := store.KeyOf(n)
		out, err := r.env.DynamoDB.GetItem(r.ctx, &dynamodb.GetItemInput{TableName: aws.String(key.Table), Key: key.Attributes(), ConsistentRead: aws.Bool(true)})
		if err != nil || out.Item == nil {
			t.Fatalf("note %s: %v (item %v)", n.ID, err, out.Item)
		}
		v, _ := out.Item[platform.AttrExpiresAt].(*types.AttributeValueMemberN)
		if v == nil {
			return ""
		}
		return v.Value
	}
	exp, _ := r.sweep.Policy.ExpiresAt(datamap.MustLookup(datamap.Note), notes[0].UpdatedAt)
	if got := ttl(notes[0]); got != itoa(exp.Unix()) {
		t.Errorf("n1 expiresAt = %q, want %d", got, exp.Unix())
	}
	if got := ttl(notes[1]); got != writerTTL {
		t.Errorf("n2 expiresAt = %q, want the writer's %s", got, writerTTL)
	}
	if got, err := store.Conversations(r.ctx, "u2"); err != nil || len(got) != 1 {
		t.Errorf("u2's conversations left: %+v (%v), want the refreshed c5", got, err)
	}
	// Seven conditional requests, three of which found their item changed; no transaction.
	if n := db.transactions.Load(); n != 0 {
		t.Errorf("%d transactions, want none", n)
	}
	if n := db.single.Load(); n != 7 {
		t.Errorf("%d single DeleteItem/UpdateItem calls on the platform table, want 7", n)
	}
	subjects, err := evidence.Journal{Store: store}.Subjects(r.ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(subjects) != 1 || subjects[0].ID != "u1" {
		t.Errorf("the run's journal names %+v, want end user u1 alone", subjects)
	}
}

// cancelAtFirstDelete is DynamoDB Local with the invocation ending (its context cancelled) at the
// sweep's first DeleteItem of a platform item, which is then not made.
type cancelAtFirstDelete struct {
	*dynamodb.Client
	table  string
	cancel context.CancelFunc
	once   sync.Once
	hit    atomic.Bool
}

func (d *cancelAtFirstDelete) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	if aws.ToString(in.TableName) == d.table {
		first := false
		d.once.Do(func() { first = true })
		if first {
			d.hit.Store(true)
			d.cancel()
			return nil, context.Canceled
		}
	}
	return d.Client.DeleteItem(ctx, in, optFns...)
}

// An invocation that ends in the middle of a group's writes still takes back, from the journal part
// it stored before them, the subjects whose deletions it did not make: the journal names no one
// whose data is all still there.
func TestAnInvocationEndingMidGroupLeavesNoDeletionJournaledThatWasNotMade(t *testing.T) {
	r := newRig(t, true)
	byUser := map[string][]string{}
	for _, it := range r.scan(datamap.PlatformTable) {
		if u := platform.AttrString(it["endUserId"]); u != "" {
			byUser[u] = append(byUser[u], keyOf(it))
		}
	}
	r.advanceTo(t0.AddDate(0, 13, 1))
	ctx, cancel := context.WithCancel(r.ctx)
	defer cancel()
	db := &cancelAtFirstDelete{Client: r.env.DynamoDB, table: r.env.Tables[datamap.PlatformTable], cancel: cancel}
	sw := *r.sweep
	sw.DB = db
	res, _ := sw.Run(ctx, retention.Input{})
	if !db.hit.Load() {
		t.Fatal("the sweep deleted nothing: the test proves nothing")
	}
	if res.RunID == "" {
		t.Fatal("no run id")
	}
	stored := map[string]bool{}
	for _, it := range r.scan(datamap.PlatformTable) {
		stored[keyOf(it)] = true
	}
	subjects, err := evidence.Journal{Store: r.stack.System.Store}.Subjects(r.ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range subjects {
		keys := byUser[s.ID]
		if len(keys) == 0 {
			continue // an account owner, or a subject this test does not track
		}
		gone := false
		for _, k := range keys {
			gone = gone || !stored[k]
		}
		if !gone {
			t.Errorf("the journal names %s %s, none of whose items was deleted", s.Kind, s.ID)
		}
	}
}
