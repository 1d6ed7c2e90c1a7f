package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var t0 = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func newLedger(t *testing.T) *ledger.Ledger {
	env := testenv.New(t)
	now := t0
	var mu sync.Mutex
	return ledger.New(env.DynamoDB, env.Tables[datamap.LedgerTable], datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}, func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		now = now.Add(time.Second)
		return now
	})
}

func req(id, account string) request.Request {
	return request.Request{ID: id, AccountID: account, Kind: request.KindAccountDeletion, Source: "dashboard",
		Scope: platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: account}, Status: request.StatusSoftDeleted}
}

func TestCreateIsIdempotentByID(t *testing.T) {
	l := newLedger(t)
	ctx := context.Background()
	if _, err := l.Create(ctx, req("r1", "a1")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Create(ctx, req("r1", "a1")); !errors.Is(err, ledger.ErrExists) {
		t.Fatalf("second create: %v, want ErrExists", err)
	}
	got, err := l.Get(ctx, "r1")
	if err != nil || got.Status != request.StatusSoftDeleted || len(got.History) != 1 || got.Scope.AccountID != "a1" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	if _, err := l.Get(ctx, "nope"); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("missing request: %v", err)
	}
}

// A cancel and the start of the hard delete race on one request at the end of its soft-delete
// window, where each alone is allowed: through Update, exactly one wins, every time.
func TestTransitionsHaveExactlyOneWinner(t *testing.T) {
	l := newLedger(t)
	ctx := context.Background()
	for i := range 20 {
		id := fmt.Sprintf("race-%d", i)
		r := req(id, "a1")
		r.Deadlines = map[string]time.Time{request.DeadlineSoftDeleteEnds: t0}
		if _, err := l.Create(ctx, r); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		results := make([]error, 2)
		for j, move := range []func(*request.Request) error{
			func(r *request.Request) error { return r.Cancel(t0, "test", "") },
			func(r *request.Request) error { return r.StartHardDelete(t0, "test", "") },
		} {
			wg.Go(func() {
				_, results[j] = l.Update(ctx, id, move)
			})
		}
		wg.Wait()
		wins := 0
		for _, err := range results {
			switch {
			case err == nil:
				wins++
			case !errors.Is(err, ledger.ErrConflict):
				t.Fatalf("unexpected error %v", err)
			}
		}
		got, _ := l.Get(ctx, id)
		if wins != 1 || len(got.History) != 2 {
			t.Fatalf("race %d: %d winners, history %+v", i, wins, got.History)
		}
	}
}

func TestUpdateRetriesOnAConcurrentWrite(t *testing.T) {
	l := newLedger(t)
	ctx := context.Background()
	if _, err := l.Create(ctx, req("r2", "a1")); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			if _, err := l.Note(ctx, "r2", "test", fmt.Sprintf("note %d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	got, _ := l.Get(ctx, "r2")
	if len(got.History) != 9 || got.Version != 9 {
		t.Errorf("history %d entries, version %d; want every concurrent note kept", len(got.History), got.Version)
	}
}

// An open request never expires; closing it anchors its retention at the closing time, and the
// stored item carries the TTL that retention gives.
func TestClosedRequestsGetTheirRetention(t *testing.T) {
	env := testenv.New(t)
	policy := datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}
	now := t0
	l := ledger.New(env.DynamoDB, env.Tables[datamap.LedgerTable], policy, func() time.Time { now = now.Add(time.Second); return now })
	ctx := context.Background()
	stored := func() map[string]types.AttributeValue {
		t.Helper()
		out, err := env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(env.Tables[datamap.LedgerTable]),
			Key: map[string]types.AttributeValue{platform.AttrPK: &types.AttributeValueMemberS{Value: "R#r3"},
				platform.AttrSK: &types.AttributeValueMemberS{Value: "REQUEST"}}})
		if err != nil || out.Item == nil {
			t.Fatalf("read the stored request: %v", err)
		}
		return out.Item
	}
	open, err := l.Create(ctx, req("r3", "a1"))
	if err != nil {
		t.Fatal(err)
	}
	if got := open.RetentionAnchor(); !got.IsZero() {
		t.Errorf("open request's retention anchor %v, want none", got)
	}
	if exp, ok := stored()[platform.AttrExpiresAt]; ok {
		t.Errorf("open request stored with %s %v, want none", platform.AttrExpiresAt, exp)
	}
	r, err := l.Update(ctx, "r3", func(r *request.Request) error { return r.Cancel(l.Now(), "owner", "changed my mind") })
	if err != nil || r.ClosedAt == nil {
		t.Fatalf("closed request: %+v %v", r, err)
	}
	if got := r.RetentionAnchor(); !got.Equal(*r.ClosedAt) {
		t.Errorf("retention anchor %v, want the closing time %v", got, *r.ClosedAt)
	}
	c, _ := datamap.Lookup(datamap.DeletionRequest)
	want, ok := policy.ExpiresAt(c, *r.ClosedAt)
	if !ok {
		t.Fatalf("the data map gives a closed deletion request no expiry")
	}
	if got, ok := stored()[platform.AttrExpiresAt].(*types.AttributeValueMemberN); !ok || got.Value != strconv.FormatInt(want.Unix(), 10) {
		t.Errorf("closed request stored with %s %v, want %d", platform.AttrExpiresAt, got, want.Unix())
	}
	cancelled, err := l.ByStatus(ctx, request.StatusCancelled)
	if err != nil || len(cancelled) != 1 || cancelled[0].ID != "r3" {
		t.Errorf("ByStatus = %+v, %v", cancelled, err)
	}
}

func TestByAccountNewestFirst(t *testing.T) {
	l := newLedger(t)
	ctx := context.Background()
	for _, id := range []string{"x1", "x2", "x3"} {
		if _, err := l.Create(ctx, req(id, "acc")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Create(ctx, req("other", "acc2")); err != nil {
		t.Fatal(err)
	}
	page, next, err := l.ByAccount(ctx, "acc", 2, "")
	if err != nil || len(page) != 2 || page[0].ID != "x3" || page[1].ID != "x2" || next == "" {
		t.Fatalf("page 1: %v %v", ids(page), err)
	}
	page, next, err = l.ByAccount(ctx, "acc", 2, next)
	if err != nil || len(page) != 1 || page[0].ID != "x1" {
		t.Fatalf("page 2: %v %v %v", ids(page), next, err)
	}
	// A cursor is bound to its account: another account's, or a tampered one, is refused.
	_, first, err := l.ByAccount(ctx, "acc", 1, "")
	if err != nil || first == "" {
		t.Fatalf("page of one: %q %v", first, err)
	}
	if cur := ledger.CursorAfter(page[0]); cur == "" {
		t.Fatal("no cursor after a request")
	} else if rs, _, err := l.ByAccount(ctx, "acc", 2, cur); err != nil || len(rs) != 0 {
		t.Fatalf("after the oldest: %v %v", ids(rs), err)
	}
	if rs, _, err := l.ByAccount(ctx, "acc2", 2, first); !errors.Is(err, platform.ErrBadCursor) || len(rs) != 0 {
		t.Fatalf("another account's cursor: %v %v", ids(rs), err)
	}
	forged := platform.Cursor{Partition: "ACCTREQ#acc2", After: "x"}.Encode()
	for _, bad := range []string{"garbage!", first[:len(first)-3], forged} {
		if _, _, err := l.ByAccount(ctx, "acc", 2, bad); !errors.Is(err, platform.ErrBadCursor) {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
}

func ids(rs []request.Request) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.ID)
	}
	return out
}

func TestHolds(t *testing.T) {
	l := newLedger(t)
	ctx := context.Background()
	if _, err := l.Create(ctx, req("open", "acc")); err != nil {
		t.Fatal(err)
	}
	_, err := l.PlaceHold(ctx, platform.LegalHold{AccountID: "acc", ScopeKind: "galaxy"}, "")
	if !errors.Is(err, ledger.ErrInvalidHold) {
		t.Fatalf("invalid hold: %v", err)
	}
	for _, want := range []string{"scope kind", "reason", "authority reference", "operator"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %s", err, want)
		}
	}
	h, err := l.PlaceHold(ctx, platform.LegalHold{AccountID: "acc", ScopeKind: platform.HoldBot, ScopeID: "bot1",
		Reason: "investigation", AuthorityRef: "СК 1/2026"}, "operator:petrova")
	if err != nil {
		t.Fatal(err)
	}
	active, err := l.ActiveHolds(ctx, "acc")
	if err != nil || len(active) != 1 || !active[0].Covers("acc", "bot1", "") || active[0].Covers("acc", "bot2", "") {
		t.Fatalf("active holds %+v, %v", active, err)
	}
	released, err := l.ReleaseHold(ctx, h.ID, "operator:petrova", "closed")
	if err != nil || released.ReleasedAt == nil || len(released.Actions) != 2 {
		t.Fatalf("release: %+v %v", released, err)
	}
	if _, err := l.ReleaseHold(ctx, h.ID, "operator:petrova", "again"); !errors.Is(err, ledger.ErrHoldReleased) {
		t.Errorf("second release: %v", err)
	}
	if active, _ := l.ActiveHolds(ctx, "acc"); len(active) != 0 {
		t.Errorf("released hold still active")
	}
	// Both actions are in the open request's history.
	r, _ := l.Get(ctx, "open")
	var notes []string
	for _, e := range r.History {
		notes = append(notes, e.Note)
	}
	if j := strings.Join(notes, "|"); !strings.Contains(j, h.ID+" placed") || !strings.Contains(j, h.ID+" released") {
		t.Errorf("open request history: %s", j)
	}
	if _, err := l.Hold(ctx, "missing"); !errors.Is(err, ledger.ErrHoldNotFound) {
		t.Errorf("missing hold: %v", err)
	}
}

// An empty id fills no key of the data map's patterns: every read answers as for a record that
// does not exist, never with a request for a key with a hole in it.
func TestEmptyIDsNameNoRecord(t *testing.T) {
	l := newLedger(t)
	ctx := context.Background()
	if _, err := l.Get(ctx, ""); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("Get(\"\"): %v, want ErrNotFound", err)
	}
	if _, err := l.Hold(ctx, ""); !errors.Is(err, ledger.ErrHoldNotFound) {
		t.Errorf("Hold(\"\"): %v, want ErrHoldNotFound", err)
	}
	if hs, err := l.Holds(ctx, ""); err != nil || len(hs) != 0 {
		t.Errorf("Holds(\"\"): %v, %v; want none", hs, err)
	}
	if rs, err := l.ByStatus(ctx, ""); err != nil || len(rs) != 0 {
		t.Errorf("ByStatus(\"\"): %v, %v; want none", rs, err)
	}
	if _, err := l.Inbound(ctx, ""); err == nil {
		t.Error("Inbound(\"\") found a mail")
	}
}

// AllHolds lists the holds of every account newest first, page by page: the active ones, or all
// with the released ones. A cursor of one listing is refused by the other.
func TestAllHoldsListsEveryAccountsHoldsNewestFirst(t *testing.T) {
	l := newLedger(t)
	ctx := context.Background()
	var ids []string
	for _, acc := range []string{"all-a", "all-b", "all-c", "all-d"} {
		h, err := l.PlaceHold(ctx, platform.LegalHold{AccountID: acc, ScopeKind: platform.HoldAccount,
			Reason: "preservation order", AuthorityRef: "A-" + acc}, "operator:petrova")
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, h.ID)
	}
	if _, err := l.ReleaseHold(ctx, ids[1], "operator:petrova", "closed"); err != nil {
		t.Fatal(err)
	}
	walk := func(active bool) []string {
		var got []string
		cursor := ""
		for pages := 0; ; pages++ {
			hs, next, err := l.AllHolds(ctx, active, 2, cursor)
			if err != nil {
				t.Fatal(err)
			}
			if len(hs) > 2 || pages > 10 {
				t.Fatalf("page of %d holds, page %d", len(hs), pages)
			}
			for _, h := range hs {
				if strings.HasPrefix(h.AccountID, "all-") {
					got = append(got, h.ID)
				}
			}
			if next == "" {
				return got
			}
			cursor = next
		}
	}
	want := []string{ids[3], ids[2], ids[0]}
	if got := walk(true); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("active holds %v, want %v", got, want)
	}
	want = []string{ids[3], ids[2], ids[1], ids[0]}
	if got := walk(false); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("all holds %v, want %v", got, want)
	}
	_, next, err := l.AllHolds(ctx, true, 1, "")
	if err != nil || next == "" {
		t.Fatalf("first page of one: next %q, %v", next, err)
	}
	if _, _, err := l.AllHolds(ctx, false, 1, next); !errors.Is(err, platform.ErrBadCursor) {
		t.Errorf("the active listing's cursor for all holds: %v, want ErrBadCursor", err)
	}
	if _, _, err := l.AllHolds(ctx, true, 1, "garbage"); !errors.Is(err, platform.ErrBadCursor) {
		t.Errorf("a garbled cursor: %v, want ErrBadCursor", err)
	}
}

// Holds recorded before the all-holds index existed (their item without it, the epoch counted as
// the old PlaceHold counted it) are listed all the same: the first listing indexes them, and a
// hold recorded that way after a backfill is found by the next one.
func TestAllHoldsFindsHoldsRecordedWithoutTheIndex(t *testing.T) {
	env := testenv.New(t)
	ctx := context.Background()
	table := env.Tables[datamap.LedgerTable]
	l := ledger.New(env.DynamoDB, table, datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}, func() time.Time { return t0 })
	legacy := func(acc string) string {
		t.Helper()
		h := platform.LegalHold{ID: platform.NewID(t0), AccountID: acc, ScopeKind: platform.HoldAccount, ScopeID: acc,
			Reason: "court order", AuthorityRef: "A40-" + acc, PlacedBy: "operator:old", PlacedAt: t0}
		item, err := platform.Encode(h, datamap.Policy{})
		if err != nil {
			t.Fatal(err)
		}
		delete(item, "gsi2pk")
		delete(item, "gsi2sk")
		if _, err := env.DynamoDB.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: []types.TransactWriteItem{
			{Put: &types.Put{TableName: &table, Item: item}},
			{Update: &types.Update{TableName: &table, Key: map[string]types.AttributeValue{
				platform.AttrPK: &types.AttributeValueMemberS{Value: "HOLDS"}, platform.AttrSK: &types.AttributeValueMemberS{Value: "EPOCH"}},
				UpdateExpression:          aws.String("ADD epoch :one"),
				ExpressionAttributeValues: map[string]types.AttributeValue{":one": &types.AttributeValueMemberN{Value: "1"}}}},
		}}); err != nil {
			t.Fatal(err)
		}
		return h.ID
	}
	listed := func() map[string]bool {
		t.Helper()
		seen := map[string]bool{}
		cursor := ""
		for {
			hs, next, err := l.AllHolds(ctx, true, 50, cursor)
			if err != nil {
				t.Fatal(err)
			}
			for _, h := range hs {
				seen[h.ID] = true
			}
			if next == "" {
				return seen
			}
			cursor = next
		}
	}
	old := legacy("legacy-a")
	placed, err := l.PlaceHold(ctx, platform.LegalHold{AccountID: "legacy-b", ScopeKind: platform.HoldAccount,
		Reason: "preservation order", AuthorityRef: "B-1"}, "operator:petrova")
	if err != nil {
		t.Fatal(err)
	}
	if seen := listed(); !seen[old] || !seen[placed.ID] {
		t.Fatalf("listed %v; want the old hold %s and the new %s", seen, old, placed.ID)
	}
	later := legacy("legacy-c")
	if seen := listed(); !seen[later] || !seen[old] {
		t.Fatalf("listed %v; want the hold recorded without the index after the backfill, %s", seen, later)
	}
	// The epoch is what destructions are conditional on: the backfill does not move it.
	if e, err := l.HoldsEpoch(ctx); err != nil || e < 3 {
		t.Errorf("holds epoch %d, %v", e, err)
	}
}
