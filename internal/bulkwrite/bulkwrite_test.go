package bulkwrite

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"

	"github.com/lethe-dev/lethe/internal/faults"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

func put(table string, pk string, i int) Request {
	return Request{Table: table, Write: types.WriteRequest{PutRequest: &types.PutRequest{Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: pk},
		"sk": &types.AttributeValueMemberS{Value: fmt.Sprintf("%06d", i)},
	}}}}
}

func requests(table string, n int) []Request {
	reqs := make([]Request, n)
	for i := range reqs {
		reqs[i] = put(table, fmt.Sprintf("P#%d", i%10), i)
	}
	return reqs
}

// flaky is a unit-test double of BatchWriteItem that throttles some calls and leaves part of others
// unprocessed, the two faults DynamoDB really produces under load.
type flaky struct {
	mu       sync.Mutex
	calls    int
	written  map[string]int
	maxBatch int
}

func (f *flaky) BatchWriteItem(_ context.Context, in *dynamodb.BatchWriteItemInput, _ ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	n := 0
	for _, reqs := range in.RequestItems {
		n += len(reqs)
	}
	f.maxBatch = max(f.maxBatch, n)
	if f.calls%4 == 0 {
		return nil, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "slow down"}
	}
	out := &dynamodb.BatchWriteItemOutput{UnprocessedItems: map[string][]types.WriteRequest{}}
	for table, reqs := range in.RequestItems {
		for i, r := range reqs {
			if f.calls%3 == 0 && i%2 == 1 { // leave every other item of this call unprocessed
				out.UnprocessedItems[table] = append(out.UnprocessedItems[table], r)
				continue
			}
			it := r.PutRequest.Item
			f.written[table+" "+it["pk"].(*types.AttributeValueMemberS).Value+" "+it["sk"].(*types.AttributeValueMemberS).Value]++
		}
	}
	return out, nil
}

func TestRetriesThrottlingAndUnprocessedItemsUntilDone(t *testing.T) {
	f := &flaky{written: map[string]int{}}
	w := Writer{DB: f, Workers: 4, BaseDelay: time.Microsecond, MaxDelay: time.Millisecond}
	st, err := w.WriteAll(context.Background(), requests("t", 1000))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.written) != 1000 || st.Written != 1000 {
		t.Fatalf("written %d distinct items, stats %d; want 1000", len(f.written), st.Written)
	}
	for k, n := range f.written {
		if n != 1 {
			t.Errorf("%s written %d times", k, n)
		}
	}
	if st.Retries == 0 || f.maxBatch != MaxBatch {
		t.Errorf("retries %d, largest batch %d; want retries and batches of %d", st.Retries, f.maxBatch, MaxBatch)
	}
}

// A stream fed one request at a time still goes out in full batches.
func TestRunFillsBatchesFromASlowProducer(t *testing.T) {
	f := &flaky{written: map[string]int{}}
	w := Writer{DB: f, Workers: 2, BaseDelay: time.Microsecond, MaxDelay: time.Millisecond}
	in := make(chan Request)
	go func() {
		defer close(in)
		for _, r := range requests("t", 500) {
			in <- r
		}
	}()
	st, err := w.Run(context.Background(), in)
	if err != nil || st.Written != 500 {
		t.Fatalf("Run: %+v, %v", st, err)
	}
	// 20 full batches plus retries of throttled and partly processed calls.
	if first := st.Calls - st.Retries; first > 30 {
		t.Errorf("%d first attempts for 500 requests: batches are not being filled", first)
	}
}

type failing struct{}

func (failing) BatchWriteItem(context.Context, *dynamodb.BatchWriteItemInput, ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error) {
	return nil, &smithy.GenericAPIError{Code: "ValidationException", Message: "bad key"}
}

func TestStopsOnUnretryableErrorsWithoutBlockingTheProducer(t *testing.T) {
	w := Writer{DB: failing{}}
	_, err := w.WriteAll(context.Background(), requests("t", 300))
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "ValidationException" {
		t.Fatalf("want the validation error, got %v", err)
	}
}

func TestRetryable(t *testing.T) {
	for code, want := range map[string]bool{
		"ProvisionedThroughputExceededException": true, "ThrottlingException": true, "RequestLimitExceeded": true,
		"InternalServerError": true, "ValidationException": false, "ResourceNotFoundException": false,
	} {
		if got := Retryable(&smithy.GenericAPIError{Code: code}); got != want {
			t.Errorf("Retryable(%s) = %v", code, got)
		}
	}
	if !Retryable(&smithy.GenericAPIError{Code: "Whatever", Fault: smithy.FaultServer}) {
		t.Error("server faults must be retried")
	}
}

// The same contract against DynamoDB Local: every request lands exactly, in batches of 25.
func TestWritesEverythingToDynamoDBLocal(t *testing.T) {
	env := testenv.New(t)
	table := env.Tables["LedgerTable"]
	w := Writer{DB: env.DynamoDB, Workers: 8}
	st, err := w.WriteAll(context.Background(), requests(table, 1000))
	if err != nil {
		t.Fatal(err)
	}
	if st.Written != 1000 || st.Calls-st.Retries != 40 {
		t.Errorf("stats %+v: want 1000 written in 40 calls", st)
	}
	total := 0
	for p := range 10 {
		out, err := env.DynamoDB.Query(context.Background(), &dynamodb.QueryInput{
			TableName:                 aws.String(table),
			KeyConditionExpression:    aws.String("pk = :p"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":p": &types.AttributeValueMemberS{Value: fmt.Sprintf("P#%d", p)}},
			Select:                    types.SelectCount,
		})
		if err != nil {
			t.Fatal(err)
		}
		total += int(out.Count)
	}
	if total != 1000 {
		t.Errorf("DynamoDB Local holds %d items, want 1000", total)
	}
}

// roundTripper adapts a function to http.RoundTripper.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// A worker whose call the first failure cut short reports that first failure to Fail, not its own
// cancellation: the erasure slice stops with the real cause (a crash), whichever worker tells it
// first. Two batches go out at once; the first to reach DynamoDB Local is the crash, the second is
// still in flight and is cut short by it.
func TestFailReportsTheFirstCause(t *testing.T) {
	env := testenv.New(t)
	base := awshttp.NewBuildableClient().GetTransport()
	var calls atomic.Int32
	second := make(chan struct{})
	gate := roundTripper(func(r *http.Request) (*http.Response, error) {
		switch calls.Add(1) {
		case 1:
			<-second // both calls are in flight before the first is answered
		case 2:
			close(second)
			<-r.Context().Done()
			return nil, r.Context().Err()
		}
		return base.RoundTrip(r)
	})
	tr := faults.NewTransport(gate, faults.Plan{CrashAfter: 1, Operations: []string{"BatchWriteItem"}})
	var mu sync.Mutex
	var failed []error
	w := Writer{DB: faults.DynamoDB(env.AWSConfig(), env.DynamoDBEndpoint, tr), Workers: 2,
		Fail: func(err error) { mu.Lock(); failed = append(failed, err); mu.Unlock() }}
	_, err := w.WriteAll(context.Background(), requests(env.Tables["LedgerTable"], 2*MaxBatch))
	if !errors.Is(err, faults.ErrCrashed) {
		t.Fatalf("WriteAll: %v, want the crash", err)
	}
	if len(failed) != 2 {
		t.Fatalf("Fail called %d times, want once per failed worker: %v", len(failed), failed)
	}
	for _, err := range failed {
		if !errors.Is(err, faults.ErrCrashed) {
			t.Errorf("Fail(%v), want the crash that stopped the writer", err)
		}
	}
}
