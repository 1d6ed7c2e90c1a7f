package retention_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/retention"
)

// downS3 is S3 refusing every deletion.
type downS3 struct{ retention.S3 }

func (downS3) DeleteObjects(context.Context, *s3.DeleteObjectsInput, ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	return nil, errors.New("S3 is unavailable")
}

// refreshFirstWithFiles is DynamoDB Local with a writer who, just before the sweep's first
// DeleteItem of an item with files, gives that item a far TTL: its conditional delete fails.
type refreshFirstWithFiles struct {
	*dynamodb.Client
	table     string
	mu        sync.Mutex
	refreshed string
}

func (d *refreshFirstWithFiles) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	d.mu.Lock()
	if d.refreshed == "" && aws.ToString(in.TableName) == d.table {
		got, err := d.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: in.TableName, Key: in.Key})
		if err == nil && len(retention.ObjectKeys(got.Item)) > 0 {
			if _, err := d.Client.UpdateItem(ctx, &dynamodb.UpdateItemInput{TableName: in.TableName, Key: in.Key,
				UpdateExpression:          aws.String("SET expiresAt = :e"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":e": &types.AttributeValueMemberN{Value: "4102444800"}}}); err != nil {
				d.mu.Unlock()
				return nil, err
			}
			d.refreshed = keyOf(got.Item)
		}
	}
	d.mu.Unlock()
	return d.Client.DeleteItem(ctx, in, opts...)
}

// The files of expired items are deleted after their items, from a pending record written before
// the deletions. When the files cannot be deleted, the record stays; the next run deletes the files
// whose item is gone, and keeps those of an item whose conditional delete did not happen (a writer
// changed it between the scan and its delete): a file is never taken from an item still stored.
func TestPendingFilesGoOnlyWithTheirItems(t *testing.T) {
	r := newRig(t, true)
	withFiles := map[string][]string{}
	for _, it := range r.scan(datamap.PlatformTable) {
		if keys := retention.ObjectKeys(it); len(keys) > 0 {
			withFiles[keyOf(it)] = keys
		}
	}
	r.advanceTo(t0.AddDate(0, 13, 1))
	db := &refreshFirstWithFiles{Client: r.env.DynamoDB, table: r.env.Tables[datamap.PlatformTable]}
	sw := *r.sweep
	sw.DB, sw.S3 = db, downS3{r.sweep.S3}
	res, err := sw.Run(r.ctx, retention.Input{})
	if err != nil {
		t.Fatal(err)
	}
	if db.refreshed == "" {
		t.Fatal("no expired item with files was deleted: the test proves nothing")
	}
	if res.Errors == 0 {
		t.Error("the run counts no error, though no file could be deleted")
	}
	pendingRecords := func() int {
		n := 0
		for _, it := range r.scan(datamap.LedgerTable) {
			if platform.AttrString(it[platform.AttrPK]) == "RETENTION#FILES" {
				n++
			}
		}
		return n
	}
	if pendingRecords() == 0 {
		t.Fatal("no pending files record was left by a run whose file deletions failed")
	}
	left := map[string]bool{}
	for _, k := range r.objects("accounts/") {
		left[k] = true
	}
	for _, keys := range withFiles {
		for _, k := range keys {
			if !left[k] {
				t.Fatalf("file %s went while S3 refused every deletion", k)
			}
		}
	}

	// The next invocation, with S3 back: an hourly one, which settles what earlier runs left and
	// finds no run to continue (so it deletes nothing but pending files).
	if res, err := r.sweep.Run(r.ctx, retention.Input{ContinueOnly: true}); err != nil || !res.Idle {
		t.Fatalf("hourly invocation: %+v, %v; want an idle one", res, err)
	}
	if n := pendingRecords(); n != 0 {
		t.Errorf("%d pending files records left after a run with S3 working", n)
	}
	stored := map[string]bool{}
	for _, it := range r.scan(datamap.PlatformTable) {
		stored[keyOf(it)] = true
	}
	left = map[string]bool{}
	for _, k := range r.objects("accounts/") {
		left[k] = true
	}
	went := 0
	for item, keys := range withFiles {
		for _, k := range keys {
			switch {
			case stored[item] && !left[k]:
				t.Errorf("file %s of a stored item was deleted", k)
			case !stored[item] && left[k]:
				t.Errorf("file %s of a deleted item is still there", k)
			case !stored[item]:
				went++
			}
		}
	}
	if !stored[db.refreshed] {
		t.Error("the refreshed item was deleted")
	}
	if went == 0 {
		t.Error("no file of a deleted item went: the test proves nothing")
	}
}
