package deletion_test

import (
	"context"
	"errors"
	"maps"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

var now = time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)

func clock() time.Time { return now }

type world struct {
	env      *testenv.Env
	svc      *deletion.Service
	manifest seed.Manifest
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := testenv.New(t)
	svc := service(env, env.DynamoDB)
	m, _, err := seed.Write(context.Background(), svc.Store, env.S3, env.Buckets, seed.Options{Seed: 21, Now: now, Size: seed.DemoSize()}, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &world{env: env, manifest: m, svc: svc}
}

func (w *world) request(t *testing.T, id string, kind request.Kind, ref platform.ScopeRef) {
	t.Helper()
	_, err := w.svc.Ledger.Create(context.Background(), request.Request{ID: id, AccountID: ref.AccountID, Kind: kind,
		Source: "dashboard", Scope: ref, Status: request.StatusHardDeleting, Locale: "ru",
		History: []request.Event{{At: now, Status: request.StatusHardDeleting, Actor: "owner:sub-1"}}})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAccountDeletionEndsWithEvidenceAndBackupRotation(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.manifest.Accounts[0]
	w.request(t, "req-acc", request.KindAccountDeletion, platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID})
	r, err := w.svc.Run(ctx, "req-acc", erasure.Budget{Items: 500})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != request.StatusAwaitingBackupRotation || !r.Deadlines["backups_rotated_by"].Equal(now.Add(30*24*time.Hour)) {
		t.Errorf("status %s, deadlines %v", r.Status, r.Deadlines)
	}
	if r.Progress[datamap.Message] == 0 || r.Progress["s3_objects"] == 0 {
		t.Errorf("progress %v", r.Progress)
	}
	recs, err := w.svc.Evidence(ctx, "req-acc")
	if err != nil || len(recs) != 1 {
		t.Fatalf("evidence: %d, %v", len(recs), err)
	}
	ev := recs[0]
	owner := false
	for _, s := range ev.Subjects {
		owner = owner || s.Kind == evidence.SubjectAccountOwner && s.Name == a.FullName
	}
	if !owner {
		t.Errorf("the act does not name the account owner %q: %+v", a.FullName, ev.Subjects[:min(3, len(ev.Subjects))])
	}
	var destroyed int64
	for _, c := range ev.Destroyed {
		destroyed += c.Count
	}
	if destroyed != r.Progress[datamap.Message]+sumExcept(r.Progress, datamap.Message, "s3_objects") {
		t.Errorf("act counts %d items, progress %v", destroyed, r.Progress)
	}
	kept := map[string]bool{}
	for _, k := range ev.Kept {
		kept[k.Reason] = true
	}
	if !kept[evidence.KeptLawAccounting5y] || !kept[evidence.KeptConsentWithdrawal5y] {
		t.Errorf("act keeps %+v; want payments and consents", ev.Kept)
	}
	for _, loc := range []string{"ru", "en"} {
		md, err := evidence.RenderMarkdown(ev, loc)
		name, _ := operator.In(loc)
		if err != nil || !strings.Contains(md, a.FullName) || !strings.Contains(md, name) {
			t.Errorf("%s act: %v\n%.300s", loc, err, md)
		}
	}
	// Evidence is kept 3 years from completion, no longer.
	out, err := w.env.DynamoDB.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String(w.env.Tables[datamap.LedgerTable]),
		Key: platform.Key{PK: "R#req-acc", SK: "EVIDENCE#" + evidence.PartRecord}.Attributes()})
	if err != nil || out.Item == nil {
		t.Fatalf("evidence record item: %v", err)
	}
	if exp := out.Item[platform.AttrExpiresAt].(*types.AttributeValueMemberN).Value; exp != strconv.FormatInt(now.AddDate(3, 0, 0).Unix(), 10) {
		t.Errorf("evidence expires at %s, want completion + 3 years", exp)
	}
}

func sumExcept(m map[string]int64, skip ...string) int64 {
	var n int64
outer:
	for k, v := range m {
		for _, s := range skip {
			if k == s {
				continue outer
			}
		}
		n += v
	}
	return n
}

func TestPrivacyFilterDeletionNamesItsEndUsers(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[1]
	w.request(t, "req-f", request.KindEndUserFilter, platform.ScopeRef{Kind: datamap.ScopeEndUserFilter, AccountID: a.ID, From: now.AddDate(-1, 0, 0), To: now})
	r, err := w.svc.Run(context.Background(), "req-f", erasure.Budget{Items: 300})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != request.StatusCompleted {
		t.Fatalf("status %s", r.Status)
	}
	recs, err := w.svc.Evidence(context.Background(), "req-f")
	if err != nil {
		t.Fatal(err)
	}
	if n := recs[0].SubjectCount; n != r.Progress[datamap.EndUserProfile] || n == 0 {
		t.Errorf("act names %d subjects, %d profiles destroyed", n, r.Progress[datamap.EndUserProfile])
	}
}

// Nothing is deleted for a request that is not hard_deleting (a cancelled one above all).
func TestCancelledRequestIsNeverTouched(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.manifest.Accounts[0]
	w.request(t, "req-c", request.KindAccountDeletion, platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID})
	if _, err := w.svc.Ledger.Update(ctx, "req-c", func(r *request.Request) error {
		r.Status = request.StatusCancelled // an operator's fix under a running deletion, outside the status diagram
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	_, err := w.svc.Step(ctx, "req-c", erasure.Checkpoint{}, erasure.Budget{})
	if !errors.Is(err, deletion.ErrNotDeleting) {
		t.Fatalf("want ErrNotDeleting, got %v", err)
	}
	if _, err := w.svc.Store.Account(ctx, a.ID); err != nil {
		t.Errorf("account touched: %v", err)
	}
}

func TestHeldRequestFinishesWhenTheHoldIsReleased(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.manifest.Accounts[0]
	h, err := w.svc.Ledger.PlaceHold(ctx, platform.LegalHold{AccountID: a.ID, ScopeKind: platform.HoldEndUser, ScopeID: a.EndUsers[0].ID,
		Reason: "court order", AuthorityRef: "A40-1/2026"}, "operator:ivanov")
	if err != nil {
		t.Fatal(err)
	}
	w.request(t, "req-h", request.KindAccountDeletion, platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID})
	r, err := w.svc.Run(ctx, "req-h", erasure.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != request.StatusHeld || len(r.HeldBy) != 1 || r.HeldBy[0] != h.ID {
		t.Fatalf("status %s held by %v", r.Status, r.HeldBy)
	}
	if _, err := w.svc.Store.EndUser(ctx, a.EndUsers[0].ID); err != nil {
		t.Errorf("held end user destroyed: %v", err)
	}
	done, err := w.svc.ReleaseHold(ctx, h.ID, "operator:ivanov", "proceedings closed", erasure.Budget{})
	if err != nil {
		t.Fatal(err)
	}
	if len(done) != 1 || done[0].Status != request.StatusAwaitingBackupRotation || len(done[0].Evidence) != 2 {
		t.Fatalf("after release: %+v", done)
	}
	if _, err := w.svc.Store.EndUser(ctx, a.EndUsers[0].ID); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("released end user still there: %v", err)
	}
	recs, err := w.svc.Evidence(ctx, "req-h")
	if err != nil || len(recs) != 2 {
		t.Fatalf("two rounds of evidence: %d, %v", len(recs), err)
	}
	// Every hold action is in the request's history.
	var notes []string
	for _, e := range done[0].History {
		notes = append(notes, e.Note)
	}
	joined := strings.Join(notes, " | ")
	for _, want := range []string{"legal hold " + h.ID + " released", "kept under legal hold " + h.ID} {
		if !strings.Contains(joined, want) {
			t.Errorf("history lacks %q: %s", want, joined)
		}
	}
}

func TestOneInboxMessageNamesItsEndUser(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.manifest.Accounts[0]
	var msg platform.InboxMessage
	for _, u := range a.EndUsers {
		ms, err := w.svc.Store.InboxMessages(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) > 0 {
			msg = ms[0]
			break
		}
	}
	if msg.ID == "" {
		t.Fatal("no inbox message in the demo data")
	}
	w.request(t, "req-i", request.KindInboxMessage, platform.ScopeRef{Kind: datamap.ScopeInboxMessage, AccountID: a.ID, MessageID: msg.ID})
	if _, err := w.svc.Run(ctx, "req-i", erasure.Budget{}); err != nil {
		t.Fatal(err)
	}
	recs, err := w.svc.Evidence(ctx, "req-i")
	if err != nil || len(recs) != 1 {
		t.Fatalf("evidence: %v", err)
	}
	if s := recs[0].Subjects; len(s) != 1 || s[0].ID != msg.EndUserID {
		t.Errorf("subjects %+v, want end user %s", s, msg.EndUserID)
	}
}

// A deletion that finds only files left (another request destroyed their records first) still
// completes, and its act records the files.
func TestOnlyFilesLeftStillMakeAnAct(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.manifest.Accounts[0]
	var msg platform.InboxMessage
	for _, eu := range a.EndUsers {
		ms, err := w.svc.Store.InboxMessages(ctx, eu.ID)
		if err == nil {
			for _, m := range ms {
				if len(m.AttachmentKeys) > 0 {
					msg = m
				}
			}
		}
		if msg.ID != "" {
			break
		}
	}
	if msg.ID == "" {
		t.Skip("no inbox message with attachments in the demo data")
	}
	ref := platform.ScopeRef{Kind: datamap.ScopeInboxMessage, AccountID: a.ID, BotID: msg.BotID, EndUserID: msg.EndUserID, MessageID: msg.ID}
	// The record goes first, as another request would take it.
	k, err := w.svc.Store.KeyOf(msg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.env.DynamoDB.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(k.Table), Key: map[string]types.AttributeValue{
		platform.AttrPK: &types.AttributeValueMemberS{Value: k.PK}, platform.AttrSK: &types.AttributeValueMemberS{Value: k.SK}}}); err != nil {
		t.Fatal(err)
	}
	// Its attachments were deleted by this request's slice before the record vanished.
	for _, key := range msg.AttachmentKeys {
		if _, err := w.env.S3.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String(w.env.Buckets[datamap.FilesBucket]), Key: aws.String(key)}); err != nil {
			t.Fatal(err)
		}
	}
	w.request(t, "req-files", request.KindInboxMessage, ref)
	cp := erasure.Checkpoint{Done: true, Deleted: map[string]int64{}, Objects: int64(len(msg.AttachmentKeys)), StartedAt: now}
	r, err := w.svc.Complete(ctx, "req-files", cp)
	if err != nil {
		t.Fatalf("complete: %v", err)
	}
	if r.Status != request.StatusCompleted || len(r.Evidence) != 1 {
		t.Fatalf("status %s, evidence %v", r.Status, r.Evidence)
	}
	recs, err := w.svc.Evidence(ctx, "req-files")
	if err != nil || len(recs) != 1 || len(recs[0].Destroyed) != 1 || recs[0].Destroyed[0].Category != datamap.InboxMessage {
		t.Fatalf("evidence %+v, %v", recs, err)
	}
}

// TestProgressIsCountedAgainstThePlannedTotals: the first slice records what the scope holds, so
// that each category's progress reads as done of total; at the end every planned item is done.
func TestProgressIsCountedAgainstThePlannedTotals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.manifest.Accounts[0]
	w.request(t, "req-plan", request.KindAccountDeletion, platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID})
	cp, err := w.svc.Step(ctx, "req-plan", erasure.Checkpoint{}, erasure.Budget{Items: 200})
	if err != nil {
		t.Fatal(err)
	}
	mid, err := w.svc.Ledger.Get(ctx, "req-plan")
	if err != nil {
		t.Fatal(err)
	}
	if mid.Planned[datamap.Message] == 0 || mid.Progress[datamap.Message] >= mid.Planned[datamap.Message] {
		t.Fatalf("after one slice of 200 items: planned %v, progress %v", mid.Planned, mid.Progress)
	}
	for !cp.Done {
		if cp, err = w.svc.Step(ctx, "req-plan", cp, erasure.Budget{Items: 200}); err != nil {
			t.Fatal(err)
		}
	}
	r, err := w.svc.Complete(ctx, "req-plan", cp)
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(r.Planned, mid.Planned) {
		t.Errorf("planned totals changed after the first slice: %v, then %v", mid.Planned, r.Planned)
	}
	for cat, n := range r.Planned {
		if r.Progress[cat] != n {
			t.Errorf("%s: %d of %d planned destroyed", cat, r.Progress[cat], n)
		}
	}
}

// TestACountThatDoesNotFinishRecordsNoTotals: a scope the first slice cannot count in its share of
// the time gets no planned totals (never partial ones), and its deletion goes on.
func TestACountThatDoesNotFinishRecordsNoTotals(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	a := w.manifest.Accounts[0]
	w.request(t, "req-noplan", request.KindAccountDeletion, platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID})
	if _, err := w.svc.Step(ctx, "req-noplan", erasure.Checkpoint{}, erasure.Budget{Duration: time.Nanosecond}); err != nil {
		t.Fatal(err)
	}
	r, err := w.svc.Ledger.Get(ctx, "req-noplan")
	if err != nil {
		t.Fatal(err)
	}
	if r.Planned != nil {
		t.Errorf("planned %v from a count that had no time", r.Planned)
	}
}
