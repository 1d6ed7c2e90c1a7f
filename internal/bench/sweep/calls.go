package sweep

import (
	"context"
	"sort"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/retention"
)

// callStats is what one kind of call cost: how many, the items they carried, their summed latency.
type callStats struct {
	Calls, Items int64
	Time         time.Duration
}

// calls counts the calls made through a countingDB or countingS3, by operation.
type calls struct {
	mu  sync.Mutex
	ops map[string]callStats
}

func (c *calls) note(op string, items int, began time.Time) {
	d := time.Since(began)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.ops == nil {
		c.ops = map[string]callStats{}
	}
	s := c.ops[op]
	s.Calls++
	s.Items += int64(items)
	s.Time += d
	c.ops[op] = s
}

// snapshot returns the counts so far and starts again from zero.
func (c *calls) snapshot() map[string]callStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := c.ops
	c.ops = nil
	if out == nil {
		out = map[string]callStats{}
	}
	return out
}

// byTime lists the operations by summed latency, most first.
func byTime(ops map[string]callStats) []string {
	var out []string
	for op := range ops {
		out = append(out, op)
	}
	sort.Slice(out, func(i, j int) bool {
		if ops[out[i]].Time != ops[out[j]].Time {
			return ops[out[i]].Time > ops[out[j]].Time
		}
		return out[i] < out[j]
	})
	return out
}

// countingDB is the DynamoDB client with every call counted: the items a Scan returned are what
// the sweep read. The raw scan goes through it too, so both pay the same (negligible) bookkeeping.
type countingDB struct {
	db *dynamodb.Client
	c  *calls
}

var _ retention.DB = countingDB{}

func (d countingDB) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	began := time.Now()
	out, err := d.db.Scan(ctx, in, optFns...)
	n := 0
	if err == nil {
		n = len(out.Items)
	}
	d.c.note("dynamodb.Scan", n, began)
	return out, err
}

func (d countingDB) DescribeTable(ctx context.Context, in *dynamodb.DescribeTableInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DescribeTableOutput, error) {
	began := time.Now()
	out, err := d.db.DescribeTable(ctx, in, optFns...)
	d.c.note("dynamodb.DescribeTable", 0, began)
	return out, err
}

func (d countingDB) BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	began := time.Now()
	out, err := d.db.BatchWriteItem(ctx, in, optFns...)
	n := 0
	for _, reqs := range in.RequestItems {
		n += len(reqs)
	}
	d.c.note("dynamodb.BatchWriteItem", n, began)
	return out, err
}

func (d countingDB) UpdateItem(ctx context.Context, in *dynamodb.UpdateItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.UpdateItemOutput, error) {
	began := time.Now()
	out, err := d.db.UpdateItem(ctx, in, optFns...)
	d.c.note("dynamodb.UpdateItem", 1, began)
	return out, err
}

func (d countingDB) GetItem(ctx context.Context, in *dynamodb.GetItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error) {
	began := time.Now()
	out, err := d.db.GetItem(ctx, in, optFns...)
	d.c.note("dynamodb.GetItem", 1, began)
	return out, err
}

func (d countingDB) PutItem(ctx context.Context, in *dynamodb.PutItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error) {
	began := time.Now()
	out, err := d.db.PutItem(ctx, in, optFns...)
	d.c.note("dynamodb.PutItem", 1, began)
	return out, err
}

func (d countingDB) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	began := time.Now()
	out, err := d.db.DeleteItem(ctx, in, optFns...)
	d.c.note("dynamodb.DeleteItem", 1, began)
	return out, err
}

func (d countingDB) Query(ctx context.Context, in *dynamodb.QueryInput, optFns ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error) {
	began := time.Now()
	out, err := d.db.Query(ctx, in, optFns...)
	n := 0
	if err == nil {
		n = len(out.Items)
	}
	d.c.note("dynamodb.Query", n, began)
	return out, err
}

// TransactWriteItems is there so the sweep sends its writes in transactions, as it does with
// *dynamodb.Client.
func (d countingDB) TransactWriteItems(ctx context.Context, in *dynamodb.TransactWriteItemsInput, optFns ...func(*dynamodb.Options)) (*dynamodb.TransactWriteItemsOutput, error) {
	began := time.Now()
	out, err := d.db.TransactWriteItems(ctx, in, optFns...)
	d.c.note("dynamodb.TransactWriteItems", len(in.TransactItems), began)
	return out, err
}

// countingS3 is the S3 client with its DeleteObjects calls counted.
// countingS3 counts the sweep's DeleteObjects calls; its other S3 calls (a hold's tags) go straight
// through.
type countingS3 struct {
	*s3.Client
	c *calls
}

func (s countingS3) DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error) {
	began := time.Now()
	out, err := s.Client.DeleteObjects(ctx, in, optFns...)
	n := 0
	if in.Delete != nil {
		n = len(in.Delete.Objects)
	}
	s.c.note("s3.DeleteObjects", n, began)
	return out, err
}
