package localaws

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"

	"github.com/lethe-dev/lethe/internal/samtemplate"
)

// CreateTables creates the tables (in parallel), waits until they and their indexes are ACTIVE and
// enables TTL where the spec names an attribute. A table that already exists with the same keys and
// indexes is fine (`make run` restarts over on-disk data); one with another shape is an error.
func CreateTables(ctx context.Context, client *dynamodb.Client, specs []samtemplate.TableSpec) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, spec := range specs {
		g.Go(func() error { return createTable(ctx, client, spec) })
	}
	return g.Wait()
}

func createTable(ctx context.Context, client *dynamodb.Client, spec samtemplate.TableSpec) error {
	name := aws.ToString(spec.Input.TableName)
	_, err := client.CreateTable(ctx, spec.Input)
	var inUse *ddbtypes.ResourceInUseException
	switch {
	case errors.As(err, &inUse):
		if err := sameShape(ctx, client, spec.Input); err != nil {
			return err
		}
	case err != nil:
		return fmt.Errorf("create table %s: %w", name, err)
	}
	if err := waitActive(ctx, client, name); err != nil {
		return err
	}
	if err := enableStream(ctx, client, spec.Input); err != nil {
		return err
	}
	if spec.TTLAttribute == "" {
		return nil
	}
	ttl, err := client.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: &name})
	if err != nil {
		return fmt.Errorf("describe ttl of %s: %w", name, err)
	}
	if d := ttl.TimeToLiveDescription; d != nil && d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled &&
		aws.ToString(d.AttributeName) == spec.TTLAttribute {
		return nil
	}
	_, err = client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: &name,
		TimeToLiveSpecification: &ddbtypes.TimeToLiveSpecification{
			AttributeName: aws.String(spec.TTLAttribute),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil {
		return fmt.Errorf("enable ttl on %s: %w", name, err)
	}
	return nil
}

// enableStream turns on the stream the template declares on a table made before it declared one
// (`make run` keeps its tables on disk).
func enableStream(ctx context.Context, client *dynamodb.Client, want *dynamodb.CreateTableInput) error {
	if want.StreamSpecification == nil {
		return nil
	}
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: want.TableName})
	if err != nil {
		return fmt.Errorf("describe table %s: %w", aws.ToString(want.TableName), err)
	}
	if s := out.Table.StreamSpecification; s != nil && aws.ToBool(s.StreamEnabled) {
		if s.StreamViewType != want.StreamSpecification.StreamViewType {
			return fmt.Errorf("table %s has a %s stream, template.yaml declares %s (stale local data? delete it to start over)",
				aws.ToString(want.TableName), s.StreamViewType, want.StreamSpecification.StreamViewType)
		}
		return nil
	}
	_, err = client.UpdateTable(ctx, &dynamodb.UpdateTableInput{TableName: want.TableName, StreamSpecification: want.StreamSpecification})
	if err != nil {
		return fmt.Errorf("enable the stream of %s: %w", aws.ToString(want.TableName), err)
	}
	return waitActive(ctx, client, aws.ToString(want.TableName))
}

// sameShape checks that an existing table has the key schema and global indexes the template asks for.
func sameShape(ctx context.Context, client *dynamodb.Client, want *dynamodb.CreateTableInput) error {
	name := aws.ToString(want.TableName)
	out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
	if err != nil {
		return fmt.Errorf("describe existing table %s: %w", name, err)
	}
	got := out.Table
	keys := func(ks []ddbtypes.KeySchemaElement) []string {
		var s []string
		for _, k := range ks {
			s = append(s, aws.ToString(k.AttributeName)+"/"+string(k.KeyType))
		}
		return s
	}
	gotIdx, wantIdx := map[string][]string{}, map[string][]string{}
	for _, i := range got.GlobalSecondaryIndexes {
		gotIdx[aws.ToString(i.IndexName)] = keys(i.KeySchema)
	}
	for _, i := range want.GlobalSecondaryIndexes {
		wantIdx[aws.ToString(i.IndexName)] = keys(i.KeySchema)
	}
	same := slices.Equal(keys(got.KeySchema), keys(want.KeySchema)) && len(gotIdx) == len(wantIdx)
	for n, k := range wantIdx {
		same = same && slices.Equal(gotIdx[n], k)
	}
	if !same {
		return fmt.Errorf("table %s exists with other keys or indexes than template.yaml declares "+
			"(stale local data? delete it to start over)", name)
	}
	return nil
}

// waitActive polls briefly: DynamoDB Local makes tables ACTIVE at once, and the SDK waiter's
// 20-second minimum delay would dominate test setup.
func waitActive(ctx context.Context, client *dynamodb.Client, name string) error {
	for {
		out, err := client.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: &name})
		if err != nil {
			return fmt.Errorf("describe table %s: %w", name, err)
		}
		active := out.Table.TableStatus == ddbtypes.TableStatusActive
		for _, i := range out.Table.GlobalSecondaryIndexes {
			active = active && i.IndexStatus == ddbtypes.IndexStatusActive
		}
		if active {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("wait for table %s: %w", name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// DeleteTables deletes the named tables in parallel; missing ones are fine.
func DeleteTables(ctx context.Context, client *dynamodb.Client, names []string) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, name := range names {
		g.Go(func() error {
			_, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: &name})
			var nf *ddbtypes.ResourceNotFoundException
			if err != nil && !errors.As(err, &nf) {
				return fmt.Errorf("delete table %s: %w", name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// CreateBuckets creates the buckets (in parallel) and turns versioning on where the spec asks for it.
// A bucket that already exists is fine. Lifecycle rules are not applied: nothing local expires objects.
func CreateBuckets(ctx context.Context, client *s3.Client, specs []samtemplate.BucketSpec) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, spec := range specs {
		g.Go(func() error {
			_, err := client.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &spec.Name})
			var exists *s3types.BucketAlreadyExists
			var owned *s3types.BucketAlreadyOwnedByYou
			if err != nil && !errors.As(err, &exists) && !errors.As(err, &owned) {
				return fmt.Errorf("create bucket %s: %w", spec.Name, err)
			}
			if !spec.Versioned {
				return nil
			}
			_, err = client.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
				Bucket: &spec.Name,
				VersioningConfiguration: &s3types.VersioningConfiguration{
					Status: s3types.BucketVersioningStatusEnabled,
				},
			})
			// gofakes3's on-disk backend (make run) has no versioning; versions only matter for
			// deployed backups, and the in-memory backend the tests use does implement them.
			var ae smithy.APIError
			if err != nil && !(errors.As(err, &ae) && ae.ErrorCode() == "NotImplemented") {
				return fmt.Errorf("enable versioning on %s: %w", spec.Name, err)
			}
			return nil
		})
	}
	return g.Wait()
}

// DeleteBuckets deletes every object version and delete marker of the named buckets, then the buckets,
// in parallel; missing buckets are fine.
func DeleteBuckets(ctx context.Context, client *s3.Client, names []string) error {
	g, ctx := errgroup.WithContext(ctx)
	for _, name := range names {
		g.Go(func() error { return deleteBucket(ctx, client, name) })
	}
	return g.Wait()
}

func deleteBucket(ctx context.Context, client *s3.Client, name string) error {
	for {
		out, err := client.ListObjectVersions(ctx, &s3.ListObjectVersionsInput{Bucket: &name})
		if isNoSuchBucket(err) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("list versions in %s: %w", name, err)
		}
		var ids []s3types.ObjectIdentifier
		for _, v := range out.Versions {
			ids = append(ids, s3types.ObjectIdentifier{Key: v.Key, VersionId: v.VersionId})
		}
		for _, m := range out.DeleteMarkers {
			ids = append(ids, s3types.ObjectIdentifier{Key: m.Key, VersionId: m.VersionId})
		}
		if len(ids) == 0 {
			break
		}
		// Listing again from the start after each round avoids trusting markers into a set being
		// deleted; DeleteObjects takes at most 1000 keys.
		for batch := range slices.Chunk(ids, 1000) {
			del, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
				Bucket: &name,
				Delete: &s3types.Delete{Objects: batch, Quiet: aws.Bool(true)},
			})
			if err != nil {
				return fmt.Errorf("delete objects in %s: %w", name, err)
			}
			if len(del.Errors) > 0 {
				e := del.Errors[0]
				return fmt.Errorf("delete %s in %s: %s", aws.ToString(e.Key), name, aws.ToString(e.Message))
			}
		}
	}
	_, err := client.DeleteBucket(ctx, &s3.DeleteBucketInput{Bucket: &name})
	if err != nil && !isNoSuchBucket(err) {
		return fmt.Errorf("delete bucket %s: %w", name, err)
	}
	return nil
}

// isNoSuchBucket matches by error code: the SDK models NoSuchBucket for only some operations.
func isNoSuchBucket(err error) bool {
	var api smithy.APIError
	return errors.As(err, &api) && api.ErrorCode() == "NoSuchBucket"
}
