package localflow_test

import (
	"errors"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/workflow"
)

// A cancel racing the start of the hard delete, at the very instant the window ends (when both are
// allowed), has exactly one winner: either the cancel wins — the account is restored and nothing is
// ever deleted — or it gets ErrTooLate and nothing is restored, and the hard delete runs to the end.
// 200 interleavings, each on its own account, with random delays on both sides.
func TestCancelRacingHardDeleteStartHasExactlyOneWinner(t *testing.T) {
	const rounds = 200
	w := newWorld(t, lateNovember2025, nil)
	m, _, err := seed.Write(w.ctx, w.sys.Store, w.env.S3, w.env.Buckets, seed.Options{Seed: 5, Now: lateNovember2025.Add(-time.Hour),
		Size: seed.Size{Accounts: rounds, BotsPerAccount: 1, EndUsersPerBot: 1, ConversationsPerEndUser: 1, MessagesPerConversation: 2,
			ActivityLogsPerAccount: 1, PaymentsPerAccount: 1}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := w.ctx
	ids := make([]string, rounds)
	before := make([]map[string]int64, rounds)
	for i, a := range m.Accounts {
		r, _, err := w.sys.Ledger.CreateUnique(ctx, request.Request{ID: platform.NewID(lateNovember2025), AccountID: a.ID,
			Kind: request.KindAccountDeletion, Source: "dashboard", Status: request.StatusScheduled,
			Scope: platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID}}, ledger.AccountDeletionSlot(a.ID))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.sys.Tasks.Open(ctx, workflow.State{RequestID: r.ID}); err != nil {
			t.Fatal(err)
		}
		ids[i] = r.ID
		before[i] = w.remaining(platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID})
	}
	// The clock stands exactly at the end of every window.
	w.advance(30 * 24 * time.Hour)

	rng := rand.New(rand.NewPCG(1, 2))
	cancels, deletes := 0, 0
	for i, a := range m.Accounts {
		scope := platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID}
		dCancel, dBegin := time.Duration(rng.IntN(3000))*time.Microsecond, time.Duration(rng.IntN(3000))*time.Microsecond
		var wg sync.WaitGroup
		var cancelErr, beginErr error
		var began workflow.Began
		wg.Add(2)
		go func() {
			defer wg.Done()
			time.Sleep(dCancel)
			_, cancelErr = w.sys.Requests.CancelAccountDeletion(ctx, a.ID, "owner:race")
		}()
		go func() {
			defer wg.Done()
			time.Sleep(dBegin)
			began, beginErr = w.sys.Tasks.BeginHardDelete(ctx, workflow.State{RequestID: ids[i]})
		}()
		wg.Wait()
		if beginErr != nil {
			t.Fatalf("round %d: begin: %v", i, beginErr)
		}
		r := w.request(ids[i])
		acct, acctErr := w.sys.Store.Account(ctx, a.ID)
		switch {
		case cancelErr == nil && !began.Proceed:
			cancels++
			if r.Status != request.StatusCancelled || acctErr != nil || acct.Status != platform.AccountActive {
				t.Fatalf("round %d: the cancel won but status %s, account %q %v", i, r.Status, acct.Status, acctErr)
			}
			// Nothing is ever deleted: a slice refuses, and the scope is whole.
			if _, err := w.sys.Deletion.Step(ctx, ids[i], erasure.Checkpoint{}, erasure.Budget{}); !errors.Is(err, deletion.ErrNotDeleting) {
				t.Fatalf("round %d: a slice of a cancelled request: %v", i, err)
			}
			if got := w.remaining(scope); !sameCounts(got, before[i]) {
				t.Fatalf("round %d: cancelled, yet the scope changed: %v → %v", i, before[i], got)
			}
		case errors.Is(cancelErr, requests.ErrTooLate) && began.Proceed:
			deletes++
			if r.Status != request.StatusHardDeleting || acctErr != nil || acct.Status != platform.AccountSoftDeleted {
				t.Fatalf("round %d: the hard delete won but status %s, account %q (restored?) %v", i, r.Status, acct.Status, acctErr)
			}
			if _, err := w.sys.Deletion.Run(ctx, ids[i], erasure.Budget{}); err != nil {
				t.Fatalf("round %d: hard delete: %v", i, err)
			}
			if left := w.remaining(scope); len(left) > 0 {
				t.Fatalf("round %d: left %v", i, left)
			}
		default:
			t.Fatalf("round %d: not exactly one winner: cancel err %v, begin proceed %v (status %s)", i, cancelErr, began.Proceed, r.Status)
		}
	}
	t.Logf("%d rounds: the cancel won %d, the hard delete %d", rounds, cancels, deletes)
	if cancels == 0 || deletes == 0 {
		t.Errorf("the interleavings never let one side win (cancel %d, delete %d): the race was not exercised", cancels, deletes)
	}
}

func sameCounts(a, b map[string]int64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
