package erasure_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/faults"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/scopetest"
)

// engineOver builds an engine whose every DynamoDB and S3 call goes through a fault-injecting
// transport in front of the real emulators. With a nil retryer the SDK's own retries are off, so the
// engine's are tested; with faults.SDKRetryer the clients retry as production's do.
func (w *world) engineOver(tr *faults.Transport, retryer aws.Retryer) *erasure.Engine {
	var dbOpts []func(*dynamodb.Options)
	var s3Opts []func(*s3.Options)
	if retryer != nil {
		dbOpts = append(dbOpts, func(o *dynamodb.Options) { o.Retryer = retryer })
		s3Opts = append(s3Opts, func(o *s3.Options) { o.Retryer = retryer })
	}
	db := faults.DynamoDB(w.env.AWSConfig(), w.env.DynamoDBEndpoint, tr, dbOpts...)
	s3c := faults.S3(w.env.AWSConfig(), w.env.S3Endpoint, tr, s3Opts...)
	store := platform.NewStore(db, platform.Tables(w.env.Tables), policy, clock)
	return erasure.New(store, db, s3c, w.env.Buckets, w.ledger, erasure.Options{Subjects: 4, PageSize: 7, Now: clock,
		RetryBase: 1e6, RetryMaxGap: 2e7}) // 1 ms … 20 ms: keep the test fast
}

// Throttling, server errors, UnprocessedItems and partly failed DeleteObjects are retried to
// completion, and the end state is exact.
func TestFaultsAreRetriedToAnExactEnd(t *testing.T) {
	w := newWorld(t)
	acc := w.manifest.Accounts[0].ID
	// A Privacy-filter deletion (files deleted end user by end user), then the whole account.
	refs := []platform.ScopeRef{
		{Kind: datamap.ScopeEndUserFilter, AccountID: acc, From: now.AddDate(-1, 0, 0), To: now.AddDate(0, -2, 0)},
		{Kind: datamap.ScopeAccount, AccountID: acc},
	}
	tr := faults.NewTransport(nil, faults.Plan{Seed: 42, Throttle: 0.15, ServerError: 0.1, Unprocessed: 0.3, PartialDelete: 0.3,
		Operations: []string{"BatchWriteItem", "DeleteObjects"}})
	e := w.engineOver(tr, nil)
	before := w.snapshot(t)
	goneItems, goneObjects := w.expectGone(t, refs[1], nil) // the account scope covers the filter's too
	for _, ref := range refs {
		w.run(t, e, ref, erasure.Budget{Items: 300})
	}
	st := tr.Stats()
	if st.Throttled == 0 || st.ServerErrors == 0 || st.Unprocessed == 0 || st.PartialDeletes == 0 {
		t.Fatalf("not every fault was injected: %+v", st.Counts)
	}
	for _, d := range scopetest.Diff(before, w.snapshot(t), goneItems, goneObjects, consentWithdrawn) {
		t.Error(d)
	}
}

// A slice that dies at any point (the process crashes mid-write: its last call lands but nobody
// hears of it) resumes from the last checkpoint a slice returned and finishes exactly.
func TestCrashAnywhereThenResume(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 9))
	scopes := []func(w *world) platform.ScopeRef{
		func(w *world) platform.ScopeRef {
			return platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: w.manifest.Accounts[0].ID}
		},
		func(w *world) platform.ScopeRef {
			a := w.manifest.Accounts[1]
			return platform.ScopeRef{Kind: datamap.ScopeBot, AccountID: a.ID, BotID: a.Bots[0].ID}
		},
		func(w *world) platform.ScopeRef {
			return platform.ScopeRef{Kind: datamap.ScopeEndUserFilter, AccountID: w.manifest.Accounts[1].ID, From: now.AddDate(-1, 0, 0), To: now}
		},
	}
	for round := range 6 {
		w := newWorld(t)
		ref := scopes[round%len(scopes)](w)
		before := w.snapshot(t)
		goneItems, goneObjects := w.expectGone(t, ref, nil)
		var cp erasure.Checkpoint
		crashes := 0
		for attempt := 0; !cp.Done; attempt++ {
			if attempt > 200 {
				t.Fatal("never finished")
			}
			// Every other attempt crashes after a random number of writes.
			plan := faults.Plan{Seed: rng.Uint64(), Operations: []string{"BatchWriteItem", "DeleteObjects"}}
			if attempt%2 == 0 {
				plan.CrashAfter = 1 + rng.IntN(10)
			}
			tr := faults.NewTransport(nil, plan)
			// The SDK retries as in production: a connection the emulator's load drops is no crash.
			e := w.engineOver(tr, faults.SDKRetryer())
			next, err := e.Delete(context.Background(), ref, cp, erasure.Budget{Items: 120})
			if err != nil {
				// Only the crash may fail an attempt, and the engine names it, whichever of its calls
				// in flight (a write, a read cut short) heard of it first.
				if !errors.Is(err, faults.ErrCrashed) {
					t.Fatalf("round %d: want the crash, got %v", round, err)
				}
				crashes++
				continue // the next attempt starts from the last good checkpoint
			}
			cp = next
		}
		if crashes == 0 {
			t.Fatalf("round %d: no crash happened: the test proves nothing", round)
		}
		for _, d := range scopetest.Diff(before, w.snapshot(t), goneItems, goneObjects, consentWithdrawn) {
			t.Errorf("round %d (%s, %d crashes): %s", round, ref.Kind, crashes, d)
		}
		if left, err := w.engine.Verify(context.Background(), ref); err != nil || !left.Empty() {
			t.Errorf("round %d: verification found %v (%v)", round, left, err)
		}
	}
}
