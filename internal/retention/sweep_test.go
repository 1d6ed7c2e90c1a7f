package retention_test

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/local/localflow"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/retention"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/testenv"
	"github.com/lethe-dev/lethe/internal/testenv/world"
)

// The TTL removals reach the stream function through the platform table's stream.
func TestMain(m *testing.M) {
	testenv.Streams = true
	os.Exit(testenv.Main(m))
}

// Monday 2 March 2026, 09:00 UTC.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

type rig struct {
	t     *testing.T
	ctx   context.Context
	env   *testenv.Env
	stack *localflow.Stack
	sweep *retention.Sweep
}

func newRig(t *testing.T, seeded bool) *rig {
	t.Helper()
	o := world.Options{Start: t0}
	if seeded {
		o.Seed, o.Size = 11, seed.Size{Accounts: 2, BotsPerAccount: 2, EndUsersPerBot: 3, ConversationsPerEndUser: 1, MessagesPerConversation: 3,
			InboxPerEndUser: 1, FilesPerEndUser: 1, ActivityLogsPerAccount: 3, PaymentsPerAccount: 3}
	}
	wd := world.New(t, o)
	return &rig{t: t, ctx: wd.Ctx, env: wd.Env, stack: wd.Stack, sweep: wd.Sys.RetentionSweep}
}

func (r *rig) advanceTo(at time.Time) {
	r.t.Helper()
	if _, err := r.stack.Engine.Advance(r.ctx, at.Sub(r.stack.Engine.Clock().Now())); err != nil {
		r.t.Fatal(err)
	}
}

func (r *rig) now() time.Time { return r.stack.Engine.Clock().Now() }

// runToEnd runs the sweep until its run is finished, and returns the last result.
func (r *rig) runToEnd() retention.Result {
	r.t.Helper()
	for i := 0; ; i++ {
		res, err := r.sweep.Run(r.ctx, retention.Input{})
		if err != nil {
			r.t.Fatal(err)
		}
		if !res.Partial {
			return res
		}
		if i > 10000 {
			r.t.Fatal("the sweep never finishes")
		}
	}
}

// scan reads every item of a table, expired or not: what is stored, not what is readable.
func (r *rig) scan(logical string) []map[string]types.AttributeValue {
	r.t.Helper()
	var all []map[string]types.AttributeValue
	in := &dynamodb.ScanInput{TableName: aws.String(r.env.Tables[logical]), ConsistentRead: aws.Bool(true)}
	for {
		out, err := r.env.DynamoDB.Scan(r.ctx, in)
		if err != nil {
			r.t.Fatal(err)
		}
		all = append(all, out.Items...)
		if len(out.LastEvaluatedKey) == 0 {
			return all
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

func cat(it map[string]types.AttributeValue) string {
	if v, ok := it[platform.AttrCategory].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func keyOf(it map[string]types.AttributeValue) string {
	return it[platform.AttrPK].(*types.AttributeValueMemberS).Value + "|" + it[platform.AttrSK].(*types.AttributeValueMemberS).Value
}

// stored lists, per category, the keys of the items stored in the platform and ledger tables.
func (r *rig) stored() map[string]map[string]map[string]types.AttributeValue {
	out := map[string]map[string]map[string]types.AttributeValue{}
	for _, tb := range []string{datamap.PlatformTable, datamap.LedgerTable} {
		for _, it := range r.scan(tb) {
			c := cat(it)
			if out[c] == nil {
				out[c] = map[string]map[string]types.AttributeValue{}
			}
			out[c][keyOf(it)] = it
		}
	}
	return out
}

func (r *rig) objects(prefix string) []string {
	r.t.Helper()
	var keys []string
	in := &s3.ListObjectsV2Input{Bucket: aws.String(r.env.Buckets[datamap.FilesBucket]), Prefix: aws.String(prefix)}
	for {
		out, err := r.env.S3.ListObjectsV2(r.ctx, in)
		if err != nil {
			r.t.Fatal(err)
		}
		for _, o := range out.Contents {
			keys = append(keys, *o.Key)
		}
		if out.NextContinuationToken == nil {
			return keys
		}
		in.ContinuationToken = out.NextContinuationToken
	}
}

func anchorOf(t *testing.T, it map[string]types.AttributeValue, attr string) time.Time {
	t.Helper()
	v, ok := it[attr].(*types.AttributeValueMemberS)
	if !ok {
		t.Fatalf("%s item without %s", cat(it), attr)
	}
	at, err := time.Parse(time.RFC3339Nano, v.Value)
	if err != nil {
		t.Fatal(err)
	}
	return at
}

// The "Done when": data written, 13 months and a day later no personal item of a 13-month
// category is stored (so none is readable) and their files are gone, while payments, consents and
// evidence survive to their own expiry, then go; account data and analytics are never touched.
func TestSweepExpiresEveryRuleAtItsOwnTime(t *testing.T) {
	r := newRig(t, true)
	store := r.stack.System.Store
	// Retained data dated exactly t0, so their limits are known to the day.
	withdrawn := t0
	pay := platform.Payment{AccountID: "acct-retained", ID: "pay-t0", PaidAt: t0, AmountMinor: 100, Currency: "RUB", Payer: "ООО Тест", Document: "Д-1"}
	cons := platform.Consent{AccountID: "acct-retained", ID: "cons-t0", SubjectEmail: "someone@example.org", Document: "v1", GivenAt: t0.AddDate(-1, 0, 0), WithdrawnAt: &withdrawn}
	standing := platform.Consent{AccountID: "acct-retained", ID: "cons-standing", SubjectEmail: "other@example.org", Document: "v1", GivenAt: t0.AddDate(-1, 0, 0)}
	ev := evidence.Item{RequestID: "req-t0", Part: evidence.PartRecord, Body: "{}", CompletedAt: t0}
	for _, rec := range []platform.Record{pay, cons, standing, ev} {
		if err := store.Put(r.ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	before := r.stored()
	analyticsBefore := len(r.scan(datamap.AnalyticsTable))
	if len(before[datamap.Message]) == 0 || len(before[datamap.EndUserFile]) == 0 || len(before[datamap.InboxMessage]) == 0 {
		t.Fatalf("the seed wrote no messages, files or inbox messages: %v", len(before))
	}
	if len(r.objects("accounts/")) == 0 {
		t.Fatal("the seed wrote no files")
	}

	// 13 months and a day later.
	r.advanceTo(t0.AddDate(0, 13, 1))
	res := r.runToEnd()
	after := r.stored()
	for name, items := range after {
		c, ok := datamap.Lookup(name)
		if !ok {
			continue
		}
		if c.Retention.Kind == datamap.Personal13Months && len(items) > 0 {
			t.Errorf("%s: %d items still stored 13 months and a day later", name, len(items))
		}
	}
	for name := range before {
		c, _ := datamap.Lookup(name)
		if c.Retention.Kind == datamap.Personal13Months && (res.Categories[name] == nil || res.Categories[name].Deleted == 0) {
			// Not necessarily an error (DynamoDB Local does not run TTL, so nothing else deletes): report.
			t.Errorf("%s: the result counts no deletion", name)
		}
	}
	for _, k := range r.objects("accounts/") {
		if strings.Contains(k, "/users/") {
			t.Errorf("an end user's file is still stored: %s", k)
		}
	}
	// Account-lifetime data and analytics untouched.
	for name, items := range before {
		c, _ := datamap.Lookup(name)
		if c.Retention.Kind != datamap.AccountLifetime {
			continue
		}
		if len(after[name]) != len(items) {
			t.Errorf("%s: %d items before, %d after", name, len(items), len(after[name]))
		}
	}
	if n := len(r.objects("accounts/")); n == 0 {
		t.Error("the account files went too")
	}
	if n := len(r.scan(datamap.AnalyticsTable)); n != analyticsBefore {
		t.Errorf("analytics: %d items before, %d after", analyticsBefore, n)
	}
	// Payments survive to 5 years after payment, exactly.
	checkPayments := func() {
		t.Helper()
		now := r.now()
		cur := r.stored()
		for k, it := range before[datamap.Payment] {
			_, kept := cur[datamap.Payment][k]
			want := anchorOf(t, it, "paidAt").AddDate(5, 0, 0).After(now)
			if kept != want {
				t.Errorf("at %s: payment of %s stored=%v, want %v", now.Format(time.DateOnly), anchorOf(t, it, "paidAt").Format(time.DateOnly), kept, want)
			}
		}
	}
	has := func(rec platform.Record) bool {
		t.Helper()
		key, err := store.KeyOf(rec)
		if err != nil {
			t.Fatal(err)
		}
		cur := r.stored()
		_, ok := cur[rec.Category()][key.PK+"|"+key.SK]
		return ok
	}
	checkPayments()
	if !has(pay) || !has(cons) || !has(standing) || !has(ev) {
		t.Fatalf("retained data went at 13 months: payment %v, withdrawn consent %v, standing consent %v, evidence %v", has(pay), has(cons), has(standing), has(ev))
	}

	// The run is recorded in the ledger, with its counts.
	req, err := r.stack.System.Ledger.Get(r.ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if req.Source != retention.Source || req.Status != request.StatusCompleted || req.Progress[datamap.Message] != res.Categories[datamap.Message].Deleted || len(req.History) < 2 {
		t.Errorf("run request: source %q status %s progress %v history %d", req.Source, req.Status, req.Progress, len(req.History))
	}
	if req.Progress["s3_objects"] == 0 {
		t.Errorf("run request counts no files: %v", req.Progress)
	}
	// Its act of destruction, which internal/deletion reads back like any other.
	recs, err := r.stack.System.Deletion.Evidence(r.ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 1 {
		t.Fatalf("%d evidence records, want 1", len(recs))
	}
	act := recs[0]
	if act.Reason != evidence.ReasonRetentionExpired || act.RequestKind != string(retention.KindRetentionExpiry) || act.SubjectCount == 0 {
		t.Errorf("act: reason %s kind %s subjects %d", act.Reason, act.RequestKind, act.SubjectCount)
	}
	destroyed := map[string]int64{}
	for _, d := range act.Destroyed {
		destroyed[d.Category] = d.Count
	}
	if destroyed[datamap.Message] != res.Categories[datamap.Message].Deleted || destroyed[datamap.EndUserProfile] == 0 {
		t.Errorf("act destroyed %v, result %+v", destroyed, res.Categories[datamap.Message])
	}
	if o := res.Categories[datamap.Payment]; o == nil || o.Oldest == nil {
		t.Error("no oldest payment reported")
	}
	b, _ := json.Marshal(res)
	for _, it := range before[datamap.EndUserProfile] {
		if name, ok := it["name"].(*types.AttributeValueMemberS); ok && name.Value != "" && strings.Contains(string(b), name.Value) {
			t.Errorf("the result names an end user")
		}
	}

	// Evidence: kept just before 3 years, gone just after.
	r.advanceTo(t0.AddDate(3, 0, 0).Add(-time.Hour))
	r.runToEnd()
	if !has(ev) {
		t.Error("evidence went before 3 years")
	}
	r.advanceTo(t0.AddDate(3, 0, 0).Add(time.Hour))
	r.runToEnd()
	if has(ev) {
		t.Error("evidence still stored after 3 years")
	}
	checkPayments()

	// Payments and the withdrawn consent: kept just before 5 years, gone just after; a consent that
	// stands is kept.
	r.advanceTo(t0.AddDate(5, 0, 0).Add(-time.Hour))
	r.runToEnd()
	if !has(pay) || !has(cons) {
		t.Errorf("just before 5 years: payment stored %v, consent stored %v", has(pay), has(cons))
	}
	checkPayments()
	r.advanceTo(t0.AddDate(5, 0, 0).Add(time.Hour))
	r.runToEnd()
	if has(pay) || has(cons) {
		t.Errorf("just after 5 years: payment stored %v, consent stored %v", has(pay), has(cons))
	}
	if !has(standing) {
		t.Error("a consent that stands went")
	}
	checkPayments()
	final := r.stored()
	for name, items := range before {
		c, _ := datamap.Lookup(name)
		if c.Retention.Kind == datamap.AccountLifetime && len(final[name]) != len(items) {
			t.Errorf("%s: %d items before, %d after 5 years", name, len(items), len(final[name]))
		}
	}
	if n := len(r.scan(datamap.AnalyticsTable)); n != analyticsBefore {
		t.Errorf("analytics: %d items before, %d after 5 years", analyticsBefore, n)
	}
}

// A run with a tiny budget stops with a checkpoint; the runs after it resume there and finish,
// missing nothing and deleting nothing twice.
func TestSweepResumesFromItsCheckpoint(t *testing.T) {
	r := newRig(t, true)
	r.advanceTo(t0.AddDate(0, 13, 1))
	var want int64
	for name, items := range r.stored() {
		if c, ok := datamap.Lookup(name); ok && c.Retention.Kind == datamap.Personal13Months {
			want += int64(len(items))
		}
	}
	s := *r.sweep
	s.Budget, s.PageSize, s.Segments = time.Nanosecond, 5, 3
	r.sweep = &s

	first, err := s.Run(r.ctx, retention.Input{})
	if err != nil {
		t.Fatal(err)
	}
	if !first.Partial || first.Checkpoint == nil {
		t.Fatalf("a run with a tiny budget finished at once: %+v", first)
	}
	// The checkpoint the result carries resumes the run too.
	second, err := s.Run(r.ctx, retention.Input{Checkpoint: first.Checkpoint})
	if err != nil {
		t.Fatal(err)
	}
	if second.RunID != first.RunID {
		t.Fatalf("a resumed run got a new id")
	}
	last := r.runToEnd()
	if last.RunID != first.RunID {
		t.Fatal("the stored checkpoint was not resumed")
	}
	var got int64
	for name, c := range last.Categories {
		if cc, ok := datamap.Lookup(name); ok && cc.Retention.Kind == datamap.Personal13Months {
			got += c.Deleted
		}
	}
	t.Logf("%d items past retention deleted over %d invocations", got, last.Invocations)
	if last.Invocations < 3 {
		t.Errorf("the run took %d invocations; the budget did not stop it", last.Invocations)
	}
	if got != want {
		t.Errorf("deleted %d items over the invocations, %d were past retention", got, want)
	}
	for name, items := range r.stored() {
		if c, ok := datamap.Lookup(name); ok && c.Retention.Kind == datamap.Personal13Months && len(items) > 0 {
			t.Errorf("%s: %d items left", name, len(items))
		}
		if name == datamap.SweepCheckpoint {
			t.Error("the checkpoint of a finished run is still stored")
		}
	}
	req, err := r.stack.System.Ledger.Get(r.ctx, last.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if req.Status != request.StatusCompleted {
		t.Errorf("run request is %s", req.Status)
	}
	// The next run is a new one.
	next, err := s.Run(r.ctx, retention.Input{})
	if err != nil {
		t.Fatal(err)
	}
	if next.RunID == last.RunID {
		t.Error("a finished run was resumed")
	}
}

// Items without a TTL get the one their rule gives; an item that cannot be dated is left alone and
// counted; a retained item with a TTL earlier than the law allows is corrected, not deleted.
func TestSweepRepairsMissingTTLs(t *testing.T) {
	r := newRig(t, false)
	store := r.stack.System.Store
	note := platform.Note{AccountID: "a1", BotID: "b1", EndUserID: "u1", ID: "n1", AuthorSub: "s", Text: "x", UpdatedAt: t0.AddDate(0, -2, 0)}
	msg := platform.Message{AccountID: "a1", BotID: "b1", EndUserID: "u1", ConversationID: "c1", ID: "m1", Direction: "in", Text: "x", SentAt: t0.AddDate(0, -1, 0)}
	pay := platform.Payment{AccountID: "a1", ID: "p1", PaidAt: t0.AddDate(-1, 0, 0), Currency: "RUB"}
	for _, rec := range []platform.Record{note, msg, pay} {
		if err := store.Put(r.ctx, rec); err != nil {
			t.Fatal(err)
		}
	}
	update := func(rec platform.Record, expr string, vals map[string]types.AttributeValue, names map[string]string) {
		t.Helper()
		key, err := store.KeyOf(rec)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.env.DynamoDB.UpdateItem(r.ctx, &dynamodb.UpdateItemInput{TableName: aws.String(key.Table), Key: key.Attributes(),
			UpdateExpression: aws.String(expr), ExpressionAttributeValues: vals, ExpressionAttributeNames: names}); err != nil {
			t.Fatal(err)
		}
	}
	update(note, "REMOVE expiresAt", nil, nil)
	update(msg, "REMOVE expiresAt, sentAt", nil, nil)
	// A payment whose TTL says today: DynamoDB would destroy it 4 years early.
	update(pay, "SET expiresAt = :e", map[string]types.AttributeValue{":e": &types.AttributeValueMemberN{Value: "1"}}, nil)

	raw, err := os.ReadFile(filepath.Join(repoRoot(t), "events", "retention-sweep", "scheduled.json"))
	if err != nil {
		t.Fatal(err)
	}
	res, err := r.sweep.Handle(r.ctx, raw)
	if err != nil {
		t.Fatal(err)
	}
	if res.Partial {
		t.Fatal("partial")
	}
	get := func(rec platform.Record) map[string]types.AttributeValue {
		t.Helper()
		key, _ := store.KeyOf(rec)
		out, err := r.env.DynamoDB.GetItem(r.ctx, &dynamodb.GetItemInput{TableName: aws.String(key.Table), Key: key.Attributes(), ConsistentRead: aws.Bool(true)})
		if err != nil {
			t.Fatal(err)
		}
		return out.Item
	}
	policy := r.sweep.Policy
	wantTTL := func(c string, anchor time.Time) string {
		exp, _ := policy.ExpiresAt(datamap.MustLookup(c), anchor)
		return itoa(exp.Unix())
	}
	if it := get(note); it == nil {
		t.Fatal("the note went")
	} else if v, _ := it[platform.AttrExpiresAt].(*types.AttributeValueMemberN); v == nil || v.Value != wantTTL(datamap.Note, note.UpdatedAt) {
		t.Errorf("note expiresAt = %v, want %s", it[platform.AttrExpiresAt], wantTTL(datamap.Note, note.UpdatedAt))
	}
	if it := get(msg); it == nil {
		t.Error("an undatable message was deleted")
	} else if _, ok := it[platform.AttrExpiresAt]; ok {
		t.Error("an undatable message got a TTL")
	}
	if it := get(pay); it == nil {
		t.Error("a payment with a wrong TTL was deleted")
	} else if v, _ := it[platform.AttrExpiresAt].(*types.AttributeValueMemberN); v == nil || v.Value != wantTTL(datamap.Payment, pay.PaidAt) {
		t.Errorf("payment expiresAt = %v, want %s", it[platform.AttrExpiresAt], wantTTL(datamap.Payment, pay.PaidAt))
	}
	if c := res.Categories[datamap.Note]; c == nil || c.Repaired != 1 {
		t.Errorf("note counts: %+v", c)
	}
	if c := res.Categories[datamap.Payment]; c == nil || c.Repaired != 1 || c.Deleted != 0 {
		t.Errorf("payment counts: %+v", c)
	}
	if c := res.Categories[datamap.Message]; c == nil || c.Unrepairable != 1 || c.Deleted != 0 {
		t.Errorf("message counts: %+v", c)
	}
}

func itoa(n int64) string { b, _ := json.Marshal(n); return string(b) }

func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// racingDB runs hook after the first Scan page it returns: a writer acting between the sweep's scan
// and its delete.
type racingDB struct {
	retention.DB
	once sync.Once
	hook func()
}

func (d *racingDB) Scan(ctx context.Context, in *dynamodb.ScanInput, optFns ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error) {
	out, err := d.DB.Scan(ctx, in, optFns...)
	if err == nil && len(out.Items) > 0 {
		d.once.Do(d.hook)
	}
	return out, err
}

// An expired item a writer refreshes between the scan and the delete is not deleted: the delete is
// conditional on the TTL the scan saw.
func TestSweepSparesAnItemRefreshedSinceTheScan(t *testing.T) {
	r := newRig(t, false)
	store := r.stack.System.Store
	conv := platform.Conversation{AccountID: "a1", BotID: "b1", EndUserID: "u1", ID: "c1", LastMessageAt: t0.AddDate(-2, 0, 0)}
	if err := store.Put(r.ctx, conv); err != nil {
		t.Fatal(err)
	}
	s := *r.sweep
	s.Segments = 1
	s.DB = &racingDB{DB: s.DB, hook: func() {
		fresh := conv
		fresh.LastMessageAt = t0
		if err := store.Put(r.ctx, fresh); err != nil {
			t.Error(err)
		}
	}}
	res, err := s.Run(r.ctx, retention.Input{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := store.Conversations(r.ctx, "u1")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 {
		t.Fatalf("the refreshed conversation went (%d left)", len(got))
	}
	if c := res.Categories[datamap.Conversation]; c != nil && c.Deleted != 0 {
		t.Errorf("counted %d deletions", c.Deleted)
	}
}
