package erasure_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/scopetest"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var now = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

var policy = datamap.Policy{SafetyMargin: datamap.DefaultSafetyMargin}

// world is the demo data written to fresh tables and buckets, with the oracle that knows it.
type world struct {
	env      *testenv.Env
	store    *platform.Store
	ledger   *ledger.Ledger
	engine   *erasure.Engine
	oracle   *scopetest.Oracle
	records  []platform.Record
	objects  []string
	manifest seed.Manifest
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := testenv.New(t)
	w := &world{env: env}
	w.store = platform.NewStore(env.DynamoDB, platform.Tables(env.Tables), policy, clock)
	w.ledger = ledger.New(env.DynamoDB, env.Tables[datamap.LedgerTable], policy, clock)
	w.engine = erasure.New(w.store, env.DynamoDB, env.S3, env.Buckets, w.ledger, erasure.Options{Subjects: 4, PageSize: 7, Now: clock})
	opts := seed.Options{Seed: 11, Now: now, Size: seed.DemoSize()}
	m, err := seed.Generate(opts, func(r platform.Record) error { w.records = append(w.records, r); return nil },
		func(o seed.Object) error { w.objects = append(w.objects, o.Key); return nil })
	if err != nil {
		t.Fatal(err)
	}
	w.manifest = m
	if _, _, err := seed.Write(context.Background(), w.store, env.S3, env.Buckets, opts, nil); err != nil {
		t.Fatal(err)
	}
	w.oracle = scopetest.New(w.store, w.records)
	return w
}

func (w *world) snapshot(t *testing.T) scopetest.Snapshot {
	t.Helper()
	var tables, buckets []string
	for _, n := range w.env.Tables {
		tables = append(tables, n)
	}
	for _, n := range w.env.Buckets {
		buckets = append(buckets, n)
	}
	s, err := scopetest.Take(context.Background(), w.env.DynamoDB, tables, w.env.S3, buckets)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// run deletes a scope to the end in slices of the given budget, checking each slice's checkpoint.
func (w *world) run(t *testing.T, e *erasure.Engine, ref platform.ScopeRef, b erasure.Budget) erasure.Checkpoint {
	t.Helper()
	var cp erasure.Checkpoint
	for i := 0; !cp.Done; i++ {
		if i > 10_000 {
			t.Fatal("deletion does not finish")
		}
		next, err := e.Delete(context.Background(), ref, cp, b)
		if err != nil {
			t.Fatalf("slice %d: %v", i, err)
		}
		cp = next
	}
	return cp
}

// expectGone is what the oracle says the scope destroys.
func (w *world) expectGone(t *testing.T, ref platform.ScopeRef, held scopetest.Holds) (map[string]string, map[string]bool) {
	t.Helper()
	items, err := w.oracle.Items(ref, held)
	if err != nil {
		t.Fatal(err)
	}
	return items, w.oracle.Objects(ref, w.objects, held)
}

// consentWithdrawn accepts the one change account deletion makes outside destruction: a consent's
// withdrawal recorded, with its TTL 5 years later.
func consentWithdrawn(key string, was, now map[string]types.AttributeValue) error {
	if !strings.Contains(key, " K#") {
		return fmt.Errorf("only consents may change")
	}
	w, ok := now["withdrawnAt"].(*types.AttributeValueMemberS)
	if !ok {
		return fmt.Errorf("consent changed without a withdrawal")
	}
	at, err := time.Parse(time.RFC3339Nano, w.Value)
	if err != nil {
		return err
	}
	exp, _ := now[platform.AttrExpiresAt].(*types.AttributeValueMemberN)
	if exp == nil || exp.Value != strconv.FormatInt(at.AddDate(5, 0, 0).Unix(), 10) {
		return fmt.Errorf("withdrawn consent expires at %v, want 5 years after %v", exp, at)
	}
	for k, v := range was {
		if k != "withdrawnAt" && k != platform.AttrExpiresAt && !scopetest.Equal(map[string]types.AttributeValue{k: v}, map[string]types.AttributeValue{k: now[k]}) {
			return fmt.Errorf("consent attribute %s changed", k)
		}
	}
	return nil
}

func (w *world) firstInbox(account string) string {
	for _, r := range w.records {
		if m, ok := r.(platform.InboxMessage); ok && m.AccountID == account && len(m.AttachmentKeys) > 0 {
			return m.ID
		}
	}
	return ""
}

func (w *world) logIDs(account string, n int) []string {
	var ids []string
	for _, r := range w.records {
		if l, ok := r.(platform.ActivityLog); ok && l.AccountID == account && len(ids) < n {
			ids = append(ids, l.ID)
		}
	}
	return ids
}

// Every scope destroys exactly what the oracle says, in small slices, and verifies clean; nothing
// else in any table or bucket changes (but the consents account deletion withdraws).
func TestEveryScopeDeletesExactly(t *testing.T) {
	scopes := map[string]func(w *world) platform.ScopeRef{
		"account": func(w *world) platform.ScopeRef {
			return platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: w.manifest.Accounts[0].ID}
		},
		"bot": func(w *world) platform.ScopeRef {
			a := w.manifest.Accounts[1]
			return platform.ScopeRef{Kind: datamap.ScopeBot, AccountID: a.ID, BotID: a.Bots[1].ID}
		},
		"connection": func(w *world) platform.ScopeRef {
			a := w.manifest.Accounts[0]
			return platform.ScopeRef{Kind: datamap.ScopeConnection, AccountID: a.ID, ConnectionID: a.Bots[0].Connections[0].ID}
		},
		"instagram connection": func(w *world) platform.ScopeRef {
			a := w.manifest.Accounts[1]
			for _, b := range a.Bots {
				for _, c := range b.Connections {
					if c.Channel == platform.ChannelInstagram {
						return platform.ScopeRef{Kind: datamap.ScopeConnection, AccountID: a.ID, ConnectionID: c.ID}
					}
				}
			}
			return platform.ScopeRef{Kind: datamap.ScopeConnection, AccountID: a.ID}
		},
		"privacy filter, all bots, last 7 days": func(w *world) platform.ScopeRef {
			return platform.ScopeRef{Kind: datamap.ScopeEndUserFilter, AccountID: w.manifest.Accounts[0].ID, From: now.AddDate(0, 0, -7), To: now}
		},
		"privacy filter, one bot, a year": func(w *world) platform.ScopeRef {
			a := w.manifest.Accounts[1]
			return platform.ScopeRef{Kind: datamap.ScopeEndUserFilter, AccountID: a.ID, BotID: a.Bots[0].ID, From: now.AddDate(-1, 0, 0), To: now.AddDate(0, -1, 0)}
		},
		"one end user": func(w *world) platform.ScopeRef {
			u := w.manifest.Accounts[0].EndUsers[2]
			return platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: w.manifest.Accounts[0].ID, BotID: u.BotID, EndUserID: u.ID}
		},
		"meta identity across accounts": func(w *world) platform.ScopeRef {
			return platform.ScopeRef{Kind: datamap.ScopeChannelIdentity, Channel: platform.IdentityMetaASID, ExternalID: w.manifest.MetaASIDShared}
		},
		"inbox message": func(w *world) platform.ScopeRef {
			a := w.manifest.Accounts[0].ID
			return platform.ScopeRef{Kind: datamap.ScopeInboxMessage, AccountID: a, MessageID: w.firstInbox(a)}
		},
		"activity logs by id": func(w *world) platform.ScopeRef {
			a := w.manifest.Accounts[1].ID
			return platform.ScopeRef{Kind: datamap.ScopeActivityLogs, AccountID: a, LogIDs: w.logIDs(a, 5)}
		},
		"activity logs by date": func(w *world) platform.ScopeRef {
			return platform.ScopeRef{Kind: datamap.ScopeActivityLogs, AccountID: w.manifest.Accounts[0].ID, From: now.AddDate(0, -3, 0), To: now}
		},
		"another account's end user": func(w *world) platform.ScopeRef {
			u := w.manifest.Accounts[1].EndUsers[0]
			return platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: w.manifest.Accounts[0].ID, EndUserID: u.ID}
		},
		"another account's bot": func(w *world) platform.ScopeRef {
			return platform.ScopeRef{Kind: datamap.ScopeBot, AccountID: w.manifest.Accounts[0].ID, BotID: w.manifest.Accounts[1].Bots[0].ID}
		},
	}
	for name, mk := range scopes {
		t.Run(name, func(t *testing.T) {
			w := newWorld(t)
			ref := mk(w)
			before := w.snapshot(t)
			goneItems, goneObjects := w.expectGone(t, ref, nil)
			if len(goneItems) == 0 && !strings.HasPrefix(name, "another") {
				t.Fatal("the oracle expects nothing: the scope is not exercised")
			}
			if name == "account" || name == "bot" || name == "instagram connection" {
				// A connection's key items go with it: the scope must reach some for the diff to show it.
				keys := 0
				for _, cat := range goneItems {
					if cat == datamap.ConnectionKey {
						keys++
					}
				}
				if keys == 0 {
					t.Fatal("the oracle expects no connection key item: their deletion is not exercised")
				}
			}
			cp := w.run(t, w.engine, ref, erasure.Budget{Items: 40})
			after := w.snapshot(t)
			var allow func(string, map[string]types.AttributeValue, map[string]types.AttributeValue) error
			if ref.Kind == datamap.ScopeAccount {
				allow = consentWithdrawn
			}
			for _, d := range scopetest.Diff(before, after, goneItems, goneObjects, allow) {
				t.Error(d)
			}
			var total int64
			for _, n := range cp.Deleted {
				total += n
			}
			if total != int64(len(goneItems)) || cp.Objects != int64(len(goneObjects)) {
				t.Errorf("checkpoint counts %d items and %d objects; the oracle %d and %d", total, cp.Objects, len(goneItems), len(goneObjects))
			}
			left, err := w.engine.Verify(context.Background(), ref)
			if err != nil || !left.Empty() {
				t.Errorf("verification found %v (%v)", left, err)
			}
		})
	}
}

// A finished scope deleted again changes nothing and finishes at once.
func TestDeletingTwiceIsHarmless(t *testing.T) {
	w := newWorld(t)
	u := w.manifest.Accounts[0].EndUsers[0]
	ref := platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: w.manifest.Accounts[0].ID, EndUserID: u.ID}
	done := w.run(t, w.engine, ref, erasure.Budget{})
	before := w.snapshot(t)
	again, err := w.engine.Delete(context.Background(), ref, done, erasure.Budget{})
	if err != nil || !again.Done {
		t.Fatalf("finished checkpoint: %+v %v", again, err)
	}
	fresh := w.run(t, w.engine, ref, erasure.Budget{})
	if fresh.Total() != 0 {
		t.Errorf("second deletion destroyed %d more", fresh.Total())
	}
	for _, d := range scopetest.Diff(before, w.snapshot(t), nil, nil, nil) {
		t.Error(d)
	}
}

// Slices stay within their budget (plus at most one page of end users in flight) and return a
// checkpoint from which the next goes on.
func TestSlicesAreBounded(t *testing.T) {
	w := newWorld(t)
	ref := platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: w.manifest.Accounts[1].ID}
	var cp erasure.Checkpoint
	slices := 0
	for !cp.Done {
		prev := cp.Total()
		next, err := w.engine.Delete(context.Background(), ref, cp, erasure.Budget{Items: 100})
		if err != nil {
			t.Fatal(err)
		}
		// One page of 7 end users of at most a few hundred items each may finish past the budget.
		if got := next.Total() - prev; got > 100+7*400 {
			t.Errorf("slice %d destroyed %d items for a budget of 100", slices, got)
		}
		cp = next
		slices++
	}
	if slices < 5 {
		t.Errorf("the account went in %d slices; the budget did not bound them", slices)
	}
}

// Payments are never deleted and keep their 5-year TTL; analytics are never touched; consents are
// kept with the withdrawal recorded.
func TestAccountDeletionKeepsWhatTheLawKeeps(t *testing.T) {
	w := newWorld(t)
	acc := w.manifest.Accounts[0].ID
	cp := w.run(t, w.engine, platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: acc}, erasure.Budget{})
	ctx := context.Background()
	pays, err := w.store.Payments(ctx, acc)
	if err != nil || len(pays) == 0 {
		t.Fatalf("payments after account deletion: %d, %v", len(pays), err)
	}
	cons, err := w.store.Consents(ctx, acc)
	if err != nil || len(cons) == 0 {
		t.Fatalf("consents after account deletion: %d, %v", len(cons), err)
	}
	for _, c := range cons {
		if c.WithdrawnAt == nil || !c.WithdrawnAt.Equal(now) {
			t.Errorf("consent %s: withdrawal not recorded (%v)", c.ID, c.WithdrawnAt)
		}
	}
	if cp.Withdrawn != int64(len(cons)) {
		t.Errorf("checkpoint says %d consents withdrawn, %d are", cp.Withdrawn, len(cons))
	}
	if _, err := w.store.Account(ctx, acc); err != platform.ErrNotFound {
		t.Errorf("account profile still readable: %v", err)
	}
}

// An active hold keeps what it covers; the request reports it; releasing the hold and running the
// deletion again destroys the rest.
func TestLegalHoldKeepsItsScopeUntilReleased(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.manifest.Accounts[0]
	heldBot := a.Bots[1].ID
	h, err := w.ledger.PlaceHold(ctx, platform.LegalHold{AccountID: a.ID, ScopeKind: platform.HoldBot, ScopeID: heldBot,
		Reason: "criminal investigation", AuthorityRef: "№ 12/345-26"}, "operator:test")
	if err != nil {
		t.Fatal(err)
	}
	heldFn := func(acc, bot, _ string) bool { return acc == a.ID && bot == heldBot }
	ref := platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID}
	before := w.snapshot(t)
	goneItems, goneObjects := w.expectGone(t, ref, heldFn)
	cp := w.run(t, w.engine, ref, erasure.Budget{Items: 200})
	if len(cp.Held) != 1 || cp.Held[0] != h.ID || cp.HeldSubjects == 0 {
		t.Errorf("checkpoint holds %v, %d subjects; want hold %s and the bot's end users", cp.Held, cp.HeldSubjects, h.ID)
	}
	for _, d := range scopetest.Diff(before, w.snapshot(t), goneItems, goneObjects, consentWithdrawn) {
		t.Error(d)
	}
	if left, err := w.engine.Verify(ctx, ref); err != nil || !left.Empty() {
		t.Errorf("verification outside the hold found %v (%v)", left, err)
	}

	if _, err := w.ledger.ReleaseHold(ctx, h.ID, "operator:test", "case closed"); err != nil {
		t.Fatal(err)
	}
	if left, err := w.engine.Verify(ctx, ref); err != nil || left.Empty() {
		t.Fatalf("after release the held data must count as left: %v (%v)", left, err)
	}
	again := w.run(t, w.engine, ref, erasure.Budget{Items: 200})
	if len(again.Held) != 0 || again.Total() == 0 {
		t.Errorf("after release: held %v, destroyed %d", again.Held, again.Total())
	}
	allGone, allObjects := w.expectGone(t, ref, nil)
	holdReleased := func(key string, was, now map[string]types.AttributeValue) error {
		if strings.Contains(key, " H#"+h.ID+" ") {
			if _, ok := now["releasedAt"]; !ok {
				return fmt.Errorf("hold changed but not released")
			}
			return nil
		}
		return consentWithdrawn(key, was, now)
	}
	for _, d := range scopetest.Diff(before, w.snapshot(t), allGone, allObjects, holdReleased) {
		t.Error(d)
	}
}

// A hold on one end user keeps that person's data and the bot record and connection that lead to
// it, and nothing else, item by item.
func TestEndUserHoldKeepsThePersonAndThePathToThem(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.manifest.Accounts[1]
	// A held person with files, so a deletion of their bot's whole prefix would show.
	var heldUser seed.ManifestEndUser
	for _, u := range a.EndUsers {
		for _, k := range w.objects {
			if strings.Contains(k, "/users/"+u.ID+"/") {
				heldUser = u
			}
		}
	}
	if heldUser.ID == "" {
		t.Fatal("no end user with files in the demo data")
	}
	if _, err := w.ledger.PlaceHold(ctx, platform.LegalHold{AccountID: a.ID, ScopeKind: platform.HoldEndUser, ScopeID: heldUser.ID,
		Reason: "police request", AuthorityRef: "МВД 55/2026"}, "operator:test"); err != nil {
		t.Fatal(err)
	}
	heldFn := func(acc, _, eu string) bool { return acc == a.ID && eu == heldUser.ID }
	for _, ref := range []platform.ScopeRef{
		{Kind: datamap.ScopeBot, AccountID: a.ID, BotID: heldUser.BotID}, // the held person's own bot first
		{Kind: datamap.ScopeAccount, AccountID: a.ID},
	} {
		before := w.snapshot(t)
		goneItems, goneObjects := w.expectGone(t, ref, heldFn)
		cp := w.run(t, w.engine, ref, erasure.Budget{Items: 150})
		if cp.HeldSubjects != 1 {
			t.Errorf("%d end users held, want 1", cp.HeldSubjects)
		}
		for _, d := range scopetest.Diff(before, w.snapshot(t), goneItems, goneObjects, consentWithdrawn) {
			t.Error(d)
		}
		if left, err := w.engine.Verify(ctx, ref); err != nil || !left.Empty() {
			t.Errorf("verification outside the hold found %v (%v)", left, err)
		}
	}
}

// An account hold stops the whole account deletion; nothing is destroyed.
func TestAccountHoldDestroysNothing(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.manifest.Accounts[1]
	if _, err := w.ledger.PlaceHold(ctx, platform.LegalHold{AccountID: a.ID, ScopeKind: platform.HoldAccount, Reason: "tax audit", AuthorityRef: "ФНС 7/2026"}, "operator:test"); err != nil {
		t.Fatal(err)
	}
	before := w.snapshot(t)
	for _, ref := range []platform.ScopeRef{
		{Kind: datamap.ScopeAccount, AccountID: a.ID},
		{Kind: datamap.ScopeEndUser, AccountID: a.ID, EndUserID: a.EndUsers[0].ID},
		{Kind: datamap.ScopeActivityLogs, AccountID: a.ID, LogIDs: w.logIDs(a.ID, 3)},
	} {
		cp := w.run(t, w.engine, ref, erasure.Budget{})
		if cp.Total() != 0 || len(cp.Held) == 0 && cp.HeldSubjects == 0 {
			t.Errorf("%s under an account hold: destroyed %d, held %v/%d", ref.Kind, cp.Total(), cp.Held, cp.HeldSubjects)
		}
	}
	for _, d := range scopetest.Diff(before, w.snapshot(t), nil, nil, nil) {
		t.Error(d)
	}
}

func TestUnknownScopeIsRefused(t *testing.T) {
	w := newWorld(t)
	_, err := w.engine.Delete(context.Background(), platform.ScopeRef{Kind: "everything", AccountID: "x"}, erasure.Checkpoint{}, erasure.Budget{})
	if err == nil || !strings.Contains(err.Error(), "unknown deletion scope") {
		t.Fatalf("want ErrUnknownScope, got %v", err)
	}
}

// Items whose TTL has passed but that DynamoDB still stores are still personal data: a deletion
// destroys them and verification sees them, though no reader returns them.
func TestExpiredButStoredDataIsDestroyed(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.manifest.Accounts[0]
	bot := a.Bots[0]
	old := now.AddDate(0, -14, 0)
	ghost := platform.EndUser{AccountID: a.ID, BotID: bot.ID, ConnectionID: bot.Connections[0].ID, ID: platform.NewID(old),
		Channel: bot.Connections[0].Channel, DisplayName: "Призрак", NormalizedName: "призрак", FirstConversationAt: old, LastActiveAt: old}
	conv := platform.Conversation{AccountID: a.ID, BotID: bot.ID, EndUserID: ghost.ID, ID: platform.NewID(old), StartedAt: old, LastMessageAt: old}
	live := a.EndUsers[0]
	convs, err := w.store.Conversations(ctx, live.ID)
	if err != nil || len(convs) == 0 {
		t.Fatalf("live end user's conversations: %v", err)
	}
	recs := []platform.Record{ghost, conv,
		platform.Message{AccountID: a.ID, BotID: bot.ID, EndUserID: ghost.ID, ConversationID: conv.ID, ID: platform.NewID(old), SentAt: old},
		platform.Message{AccountID: a.ID, BotID: live.BotID, EndUserID: live.ID, ConversationID: convs[0].ID, ID: platform.NewID(old), SentAt: old},
	}
	if err := w.store.PutAll(ctx, recs); err != nil {
		t.Fatal(err)
	}
	if _, err := w.store.EndUser(ctx, ghost.ID); err != platform.ErrNotFound {
		t.Fatalf("the expired end user must be invisible to readers: %v", err)
	}
	ref := platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID}
	left, err := w.engine.Verify(ctx, ref)
	if err != nil || left[datamap.EndUserProfile] == 0 {
		t.Fatalf("verification before deletion must count stored expired data: %v (%v)", left, err)
	}
	w.run(t, w.engine, ref, erasure.Budget{})
	for _, r := range recs {
		k, _ := w.store.KeyOf(r)
		out, err := w.env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(k.Table), Key: k.Attributes()})
		if err != nil || out.Item != nil {
			t.Errorf("%s still stored after the account deletion (%v)", r.Category(), err)
		}
	}
}
