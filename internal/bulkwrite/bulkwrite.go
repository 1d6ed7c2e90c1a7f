// Package bulkwrite sends DynamoDB writes in BatchWriteItem calls of 25 from a bounded pool of
// workers, retrying unprocessed items and throttling with exponential backoff and full jitter until
// every request is done. The seeder writes through it and the erasure engine deletes through it.
package bulkwrite

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
)

// MaxBatch is DynamoDB's limit of requests in one BatchWriteItem call.
const MaxBatch = 25

// DB is the part of the DynamoDB client the writer needs; *dynamodb.Client satisfies it.
type DB interface {
	BatchWriteItem(ctx context.Context, in *dynamodb.BatchWriteItemInput, optFns ...func(*dynamodb.Options)) (*dynamodb.BatchWriteItemOutput, error)
}

// Request is one put or delete for one table.
type Request struct {
	Table string
	Write types.WriteRequest
	// Done, if set, is called once the request is written: callers that must delete children before
	// their parents wait on it.
	Done func()
}

// Writer is configured once and may Run many times.
type Writer struct {
	DB      DB
	Workers int // parallel BatchWriteItem calls; default 8
	// BaseDelay and MaxDelay bound the backoff between retries; defaults 20 ms and 2 s.
	BaseDelay, MaxDelay time.Duration
	// MaxAttempts is how many times one batch is retried on throttling or server errors before Run
	// fails; unprocessed items are retried without limit while they make progress. Default 30.
	MaxAttempts int
	// Done, if set, is called after each successful call with the number of requests it completed.
	Done func(n int)
	// Fail, if set, is called at once with the first unrecoverable error, while Run still drains its
	// input: a producer waiting for its requests to be confirmed must stop waiting then.
	Fail func(error)
}

// Stats describes one Run.
type Stats struct {
	Written int64 // requests completed
	Calls   int64 // BatchWriteItem calls made
	Retries int64 // calls that were retries (unprocessed items or retryable errors)
}

// Linger is how long a partly filled batch waits for more requests before it is sent: long enough
// that a producer enumerating keys fills batches of 25, short enough not to matter to latency.
const Linger = 2 * time.Millisecond

// Run sends every request read from in until in is closed, and returns when all are written or the
// first unrecoverable error (after which it drains in so the producer never blocks).
func (w *Writer) Run(ctx context.Context, in <-chan Request) (Stats, error) {
	batches := make(chan []Request)
	go func() {
		defer close(batches)
		batch := make([]Request, 0, MaxBatch)
		timer := time.NewTimer(Linger)
		timer.Stop()
		flush := func() {
			if len(batch) > 0 {
				batches <- batch
				batch = make([]Request, 0, MaxBatch)
			}
		}
		for {
			var timeout <-chan time.Time
			if len(batch) > 0 {
				timeout = timer.C
			}
			select {
			case r, ok := <-in:
				if !ok {
					flush()
					return
				}
				if len(batch) == 0 {
					timer.Reset(Linger)
				}
				batch = append(batch, r)
				if len(batch) == MaxBatch {
					timer.Stop()
					flush()
				}
			case <-timeout:
				flush()
			}
		}
	}()
	return w.RunBatches(ctx, batches)
}

// WriteAll writes a slice of requests, cut into batches of 25.
func (w *Writer) WriteAll(ctx context.Context, reqs []Request) (Stats, error) {
	batches := make(chan []Request)
	go func() {
		defer close(batches)
		for len(reqs) > 0 {
			n := min(MaxBatch, len(reqs))
			batches <- reqs[:n]
			reqs = reqs[n:]
		}
	}()
	return w.RunBatches(ctx, batches)
}

// RunBatches sends batches of at most 25 requests (a caller that already groups its keys uses it
// directly) from the worker pool until batches is closed; after the first unrecoverable error it
// drains the channel so the producer never blocks.
func (w *Writer) RunBatches(ctx context.Context, batches <-chan []Request) (Stats, error) {
	workers := w.Workers
	if workers <= 0 {
		workers = 8
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	var st Stats
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
			for batch := range batches {
				if ctx.Err() != nil {
					continue // drain after failure
				}
				if len(batch) > MaxBatch {
					cancel(fmt.Errorf("batch of %d requests; at most %d", len(batch), MaxBatch))
					continue
				}
				if err := w.send(ctx, rng, batch, &st); err != nil {
					cancel(err)
					if w.Fail != nil {
						// The first failure is the cause: a worker whose call it cut short reports
						// it too, not its own cancellation, whichever of them gets here first.
						w.Fail(context.Cause(ctx))
					}
				}
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil && !errors.Is(err, context.Canceled) {
		return st, err
	}
	return st, ctx.Err()
}

func (w *Writer) send(ctx context.Context, rng *rand.Rand, batch []Request, st *Stats) error {
	items := make(map[string][]types.WriteRequest, 1)
	for _, r := range batch {
		items[r.Table] = append(items[r.Table], r.Write)
	}
	maxAttempts := w.MaxAttempts
	if maxAttempts <= 0 {
		maxAttempts = 30
	}
	failures := 0
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			atomic.AddInt64(&st.Retries, 1)
			if err := Sleep(ctx, w.backoff(rng, attempt)); err != nil {
				return err
			}
		}
		atomic.AddInt64(&st.Calls, 1)
		out, err := w.DB.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: items})
		if err != nil {
			if !Retryable(err) {
				return fmt.Errorf("batch write: %w", err)
			}
			failures++
			if failures >= maxAttempts {
				return fmt.Errorf("batch write: giving up after %d attempts: %w", failures, err)
			}
			continue
		}
		sent, left := count(items), count(out.UnprocessedItems)
		if done := sent - left; done > 0 {
			atomic.AddInt64(&st.Written, int64(done))
			if w.Done != nil {
				w.Done(done)
			}
		}
		if left == 0 {
			for _, r := range batch {
				if r.Done != nil {
					r.Done()
				}
			}
			return nil
		}
		items = out.UnprocessedItems
	}
}

func (w *Writer) backoff(rng *rand.Rand, attempt int) time.Duration {
	return Backoff(rng, attempt, w.BaseDelay, w.MaxDelay)
}

// Backoff is exponential backoff with full jitter: a random wait up to base·2^attempt, capped at
// maxd (defaults 20 ms and 2 s).
func Backoff(rng *rand.Rand, attempt int, base, maxd time.Duration) time.Duration {
	if base <= 0 {
		base = 20 * time.Millisecond
	}
	if maxd <= 0 {
		maxd = 2 * time.Second
	}
	d := base << min(attempt, 16)
	if d <= 0 || d > maxd {
		d = maxd
	}
	return time.Duration(rng.Int64N(int64(d)) + 1)
}

func count(m map[string][]types.WriteRequest) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}

// Sleep waits d, or less if ctx ends first (then it returns the context's cause).
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Retryable reports whether a DynamoDB error is worth retrying: throttling, capacity, and server-side
// faults. Validation errors and the like are not.
func Retryable(err error) bool {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded",
			"InternalServerError", "InternalFailure", "ServiceUnavailable", "LimitExceededException":
			return true
		}
		return ae.ErrorFault() == smithy.FaultServer
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) && re.HTTPStatusCode() >= 500 {
		return true
	}
	return false
}
