package faults

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/lethe-dev/lethe/internal/testenv"
)

// retryable is what a caller must retry: throttling and server errors.
func retryable(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "SlowDown":
			return true
		}
	}
	return statusCode(err) >= 500
}

// A writer that retries throttling, server errors and unprocessed items gets every item written.
func TestEndToEndBatchWrite(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	table := env.Tables["PlatformTable"]
	db, tr := dynamoDBClient(t, env, Plan{Seed: 2026, Throttle: 0.3, ServerError: 0.3, Unprocessed: 0.3})

	const n = 2000
	var want []string
	for start := 0; start < n; start += 25 {
		pending := map[string][]types.WriteRequest{}
		for i := start; i < start+25; i++ {
			it := key(fmt.Sprintf("user#%02d", i%40), fmt.Sprintf("item#%04d", i))
			pending[table] = append(pending[table], types.WriteRequest{PutRequest: &types.PutRequest{Item: it}})
			want = append(want, itemID(table, it))
		}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == 100 {
				t.Fatalf("batch at %d: no progress after %d attempts", start, attempt)
			}
			out, err := db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				if retryable(err) {
					continue
				}
				t.Fatal(err)
			}
			pending = out.UnprocessedItems
		}
	}
	slices.Sort(want)
	if got := scanIDs(t, env.DynamoDB, table); !slices.Equal(got, want) {
		t.Errorf("table holds %d items, want the %d written", len(got), len(want))
	}
	st := tr.Stats()
	t.Logf("%+v", st.Counts)
	if st.Throttled == 0 || st.ServerErrors == 0 || st.Unprocessed == 0 {
		t.Errorf("not every fault was met: %+v", st.Counts)
	}
	if got := st.Calls - st.Throttled - st.ServerErrors; got != st.Forwarded {
		t.Errorf("%d calls not answered by a fault, %d forwarded", got, st.Forwarded)
	}
}

// A deleter that retries failed calls and the keys S3 reports as errors deletes every object.
func TestEndToEndDeleteObjects(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	bucket := env.Buckets["FilesBucket"]
	var keys []string
	for i := range 300 {
		keys = append(keys, fmt.Sprintf("files/user-%d/%03d.bin", i%7, i))
	}
	putObjects(t, env, bucket, keys)
	client, tr := s3Client(t, env, Plan{Seed: 7, Throttle: 0.3, ServerError: 0.3, PartialDelete: 0.3})

	for start := 0; start < len(keys); start += 100 {
		pending := keys[start : start+100]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt == 100 {
				t.Fatalf("batch at %d: no progress after %d attempts", start, attempt)
			}
			out, err := client.DeleteObjects(ctx, &s3.DeleteObjectsInput{
				Bucket: &bucket, Delete: &s3types.Delete{Objects: objectIDs(pending), Quiet: aws.Bool(true)},
			})
			if err != nil {
				if retryable(err) {
					continue
				}
				t.Fatal(err)
			}
			pending = nil
			for _, e := range out.Errors {
				pending = append(pending, aws.ToString(e.Key))
			}
		}
	}
	out, err := env.S3.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: &bucket})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Contents) != 0 {
		t.Errorf("%d objects left", len(out.Contents))
	}
	st := tr.Stats()
	t.Logf("%+v", st.Counts)
	if st.Throttled == 0 || st.ServerErrors == 0 || st.PartialDeletes == 0 {
		t.Errorf("not every fault was met: %+v", st.Counts)
	}
}

// Concurrent writers all stop at the crash; what they heard was written is in the table, and the
// table holds nothing they did not send.
func TestConcurrentCrash(t *testing.T) {
	env := testenv.New(t)
	table := env.Tables["PlatformTable"]
	db, tr := dynamoDBClient(t, env, Plan{Seed: 1, Throttle: 0.2, Unprocessed: 0.3, CrashAfter: 20})
	var mu sync.Mutex
	acked := map[string]bool{}
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for b := 0; ; b++ {
				var reqs []types.WriteRequest
				for i := range 25 {
					reqs = append(reqs, types.WriteRequest{PutRequest: &types.PutRequest{Item: key(fmt.Sprint(w), fmt.Sprintf("%03d-%02d", b, i))}})
				}
				pending := map[string][]types.WriteRequest{table: reqs}
				for len(pending) > 0 {
					out, err := db.BatchWriteItem(context.Background(), &dynamodb.BatchWriteItemInput{RequestItems: pending})
					switch {
					case errors.Is(err, ErrCrashed):
						return
					case err != nil && retryable(err):
						continue
					case err != nil:
						t.Error(err)
						return
					}
					left := map[string]bool{}
					for _, r := range out.UnprocessedItems[table] {
						left[requestID(table, r)] = true
					}
					mu.Lock()
					for _, r := range pending[table] {
						if !left[requestID(table, r)] {
							acked[itemID(table, r.PutRequest.Item)] = true
						}
					}
					mu.Unlock()
					pending = out.UnprocessedItems
				}
			}
		})
	}
	wg.Wait()
	got := scanIDs(t, env.DynamoDB, table)
	for id := range acked {
		if !slices.Contains(got, id) {
			t.Errorf("%s acknowledged but not in the table", id)
		}
	}
	st := tr.Stats()
	if len(st.Log) != st.Calls || st.Crashed < 8 {
		t.Errorf("%d calls logged, counts %+v", len(st.Log), st.Counts)
	}
	if len(got) < len(acked) || len(got) > len(acked)+8*25 {
		t.Errorf("%d items in the table, %d acknowledged", len(got), len(acked))
	}
}
