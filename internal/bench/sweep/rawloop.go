package sweep

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"golang.org/x/sync/errgroup"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/retention"
)

// rawWriters is how many conditional writes the raw loop keeps in flight: the sweep's writer keeps
// as many calls in flight.
const rawWriters = 8

// rawAction is what the raw loop does to one item it scans: it is handed the answer (the benchmark
// knows which items it made past retention or TTL-less), so it judges nothing.
type rawAction struct {
	repair  bool
	expires string // a repair's new expiresAt, Unix seconds (the data map's rule, as the sweep sets it)
	// bucket and objects are an expired item's S3 objects, deleted before it, as the sweep does.
	bucket  string
	objects []string
}

// rawActions is the raw loop's answers for a data set: its special items by key.
func rawActions(d *dataset, p datamap.Policy, buckets map[string]string) (map[[2]string]rawAction, error) {
	out := make(map[[2]string]rawAction, len(d.specials))
	for _, s := range d.specials {
		k := [2]string{platform.AttrString(s.item[platform.AttrPK]), platform.AttrString(s.item[platform.AttrSK])}
		c := datamap.MustLookup(s.category)
		switch s.kind {
		case expired:
			a := rawAction{objects: retention.ObjectKeys(s.item)}
			if len(a.objects) > 0 {
				if a.bucket = buckets[c.Location.Bucket]; a.bucket == "" {
					return nil, fmt.Errorf("no bucket for %s", c.Name)
				}
			}
			out[k] = a
		case noTTL:
			anchor, err := time.Parse(time.RFC3339Nano, platform.AttrString(s.item[c.Retention.Anchor]))
			if err != nil {
				return nil, fmt.Errorf("%s item without an anchor: %w", c.Name, err)
			}
			exp, ok := p.ExpiresAt(c, anchor)
			if !ok {
				return nil, fmt.Errorf("%s item: no expiry from its anchor", c.Name)
			}
			out[k] = rawAction{repair: true, expires: strconv.FormatInt(exp.Unix(), 10)}
		}
	}
	return out, nil
}

// rawTally is what one raw loop did.
type rawTally struct {
	scanned, deleted, repaired, objects int64
}

// objectDeleter is the part of the S3 client the raw loop needs.
type objectDeleter interface {
	DeleteObjects(ctx context.Context, in *s3.DeleteObjectsInput, optFns ...func(*s3.Options)) (*s3.DeleteObjectsOutput, error)
}

// rawScanWrite is the sweep's work done plainly: the raw parallel Scan of rawScan (the same
// segments, as many at once, the same pages, eventually consistent) and, for each item it is
// told to, the same conditional write the sweep makes — a DeleteItem on the condition that the
// item still exists and holds the TTL the scan saw (its S3 objects deleted first), or an UpdateItem
// setting the TTL on the condition that it still has none — one request per write, rawWriters of
// them in flight while the scan goes on. No judging, no journal, no checkpoints, no act.
func rawScanWrite(ctx context.Context, db retention.DB, s3c objectDeleter, tables []string, segments []int, workers int,
	pageSize int32, actions map[[2]string]rawAction) (rawTally, error) {
	var deleted, repaired, objects atomic.Int64
	writes, wctx := errgroup.WithContext(ctx) // not the scans' context: it ends when the scans do, before their writes
	writes.SetLimit(rawWriters)
	names := map[string]string{"#pk": platform.AttrPK, "#exp": platform.AttrExpiresAt}
	write := func(table string, item map[string]types.AttributeValue, a rawAction) error {
		key := map[string]types.AttributeValue{platform.AttrPK: item[platform.AttrPK], platform.AttrSK: item[platform.AttrSK]}
		cond, vals := "attribute_exists(#pk) AND attribute_not_exists(#exp)", map[string]types.AttributeValue{}
		if old, ok := item[platform.AttrExpiresAt]; ok {
			cond, vals[":old"] = "attribute_exists(#pk) AND #exp = :old", old
		}
		if a.repair {
			vals[":e"] = &types.AttributeValueMemberN{Value: a.expires}
			_, err := db.UpdateItem(wctx, &dynamodb.UpdateItemInput{TableName: aws.String(table), Key: key,
				UpdateExpression: aws.String("SET #exp = :e"), ConditionExpression: aws.String(cond),
				ExpressionAttributeNames: names, ExpressionAttributeValues: vals})
			if err == nil {
				repaired.Add(1)
			}
			return err
		}
		if len(a.objects) > 0 {
			ids := make([]s3types.ObjectIdentifier, len(a.objects))
			for i, k := range a.objects {
				ids[i] = s3types.ObjectIdentifier{Key: aws.String(k)}
			}
			out, err := s3c.DeleteObjects(wctx, &s3.DeleteObjectsInput{Bucket: aws.String(a.bucket),
				Delete: &s3types.Delete{Objects: ids, Quiet: aws.Bool(true)}})
			if err != nil {
				return err
			}
			if len(out.Errors) > 0 {
				return fmt.Errorf("%d of %d objects not deleted", len(out.Errors), len(ids))
			}
			objects.Add(int64(len(ids)))
		}
		if len(vals) == 0 {
			vals = nil
		}
		_, err := db.DeleteItem(wctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: key,
			ConditionExpression: aws.String(cond), ExpressionAttributeNames: names, ExpressionAttributeValues: vals})
		if err == nil {
			deleted.Add(1)
		}
		return err
	}
	n, err := scanPages(ctx, db, tables, segments, workers, pageSize, func(table string, items []map[string]types.AttributeValue) {
		for _, it := range items {
			if a, ok := actions[[2]string{platform.AttrString(it[platform.AttrPK]), platform.AttrString(it[platform.AttrSK])}]; ok {
				writes.Go(func() error { return write(table, it, a) })
			}
		}
	})
	err = errors.Join(err, writes.Wait())
	return rawTally{scanned: n, deleted: deleted.Load(), repaired: repaired.Load(), objects: objects.Load()}, err
}
