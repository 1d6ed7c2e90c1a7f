package retention_test

import (
	"context"
	"maps"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/retention"
)

// heldItems are the platform items of an account, by key, and the files they point at.
func (r *rig) accountItems(account string) (map[string]map[string]types.AttributeValue, []string) {
	items := map[string]map[string]types.AttributeValue{}
	var files []string
	for _, it := range r.scan(datamap.PlatformTable) {
		if platform.AttrString(it["accountId"]) == account {
			items[keyOf(it)] = it
			files = append(files, retention.ObjectKeys(it)...)
		}
	}
	return items, files
}

// Issue 15 point 1: a legal hold stops every automatic destruction of what it covers. An account is
// held; 13 months and a day later neither the sweep nor DynamoDB's TTL (emulated, with its stream
// consumer) has destroyed any of its items or files, while another account's data expired; once
// the hold is released, the next sweep expires them, with an act that names the hold.
func TestLegalHoldStopsEveryExpiryUntilReleased(t *testing.T) {
	r := newRig(t, true)
	var held, other string
	for _, it := range r.stored()[datamap.AccountProfile] {
		if held == "" {
			held = platform.AttrString(it["accountId"])
		} else {
			other = platform.AttrString(it["accountId"])
		}
	}
	before, files := r.accountItems(held)
	cats := map[string]int{}
	for _, it := range before {
		cats[cat(it)]++
	}
	if cats[datamap.Message] == 0 || cats[datamap.EndUserFile] == 0 || cats[datamap.EndUserProfile] == 0 || len(files) == 0 {
		t.Fatalf("the held account has %v and %d files", cats, len(files))
	}
	led := r.stack.System.Ledger
	h, err := led.PlaceHold(r.ctx, platform.LegalHold{AccountID: held, ScopeKind: platform.HoldAccount,
		Reason: "criminal investigation", AuthorityRef: "СК-2026/17"}, "operator:test")
	if err != nil {
		t.Fatal(err)
	}
	// The hold's batches: small ones, so that several resume from the stored cursor.
	for i := 0; ; i++ {
		done, err := r.sweep.SettleHold(r.ctx, h.ID, 7)
		if err != nil {
			t.Fatal(err)
		}
		if done {
			break
		}
		if i > 1000 {
			t.Fatal("the hold's batches never end")
		}
	}
	got, err := led.Hold(r.ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.TTLState != platform.HoldTTLRemoved || got.TTLItems == 0 {
		t.Errorf("hold progress: state %q, %d items", got.TTLState, got.TTLItems)
	}
	if pending, _ := led.PendingHolds(r.ctx); len(pending) != 0 {
		t.Errorf("holds still pending: %v", pending)
	}
	for _, it := range r.scanAccount(held) {
		if _, ok := it[platform.AttrExpiresAt]; ok && isPersonal13(it) {
			t.Errorf("a held %s keeps its TTL", cat(it))
		}
	}

	// Its end users' files are tagged held: the S3 lifecycle rule never matches them.
	r.checkLifecycleTags(before, datamap.LifecycleHeld)

	r.advanceTo(t0.AddDate(0, 13, 1))
	r.runToEnd()
	if _, err := r.stack.RunStreams(r.ctx); err != nil {
		t.Fatal(err)
	}
	r.runToEnd()
	after, _ := r.accountItems(held)
	for k, it := range before {
		if _, ok := after[k]; !ok {
			t.Errorf("a held %s was destroyed", cat(it))
		}
	}
	left := map[string]bool{}
	for _, k := range r.objects("accounts/") {
		left[k] = true
	}
	for _, f := range files {
		if !left[f] {
			t.Error("a held file was destroyed")
		}
	}
	if others, _ := r.accountItems(other); len(others) >= len(before) {
		// Sanity: the other account's messages expired meanwhile.
		for _, it := range others {
			if cat(it) == datamap.Message {
				t.Fatal("the other account's messages did not expire: the test proves nothing")
			}
		}
	}

	// Released: the next sweep gives the TTL back and expires what is past it, naming the hold.
	if _, err := led.ReleaseHold(r.ctx, h.ID, "operator:test", "investigation closed"); err != nil {
		t.Fatal(err)
	}
	for done := false; !done; {
		if done, err = r.sweep.SettleHold(r.ctx, h.ID, 7); err != nil {
			t.Fatal(err)
		}
	}
	r.checkLifecycleTags(before, datamap.LifecycleExpires)
	res := r.runToEnd()
	after, _ = r.accountItems(held)
	for _, it := range after {
		if isPersonal13(it) {
			t.Errorf("a %s of the released account is still stored", cat(it))
		}
	}
	left = map[string]bool{}
	for _, k := range r.objects("accounts/") {
		left[k] = true
	}
	for _, it := range before {
		for _, f := range retention.ObjectKeys(it) {
			if isPersonal13(it) && left[f] {
				t.Errorf("a file of a released %s is still in S3", cat(it))
			}
		}
	}
	recs, err := r.stack.System.Deletion.Evidence(r.ctx, res.RunID)
	if err != nil || len(recs) != 1 {
		t.Fatalf("the run's acts: %d, %v", len(recs), err)
	}
	if !strings.Contains(recs[0].AuthorizedBy, h.ID) {
		t.Errorf("the act does not name the released hold: %q", recs[0].AuthorizedBy)
	}
}

func (r *rig) scanAccount(account string) []map[string]types.AttributeValue {
	var out []map[string]types.AttributeValue
	for _, it := range r.scan(datamap.PlatformTable) {
		if platform.AttrString(it["accountId"]) == account {
			out = append(out, it)
		}
	}
	return out
}

func isPersonal13(it map[string]types.AttributeValue) bool {
	c, ok := datamap.Lookup(cat(it))
	return ok && c.Personal && c.Retention.Kind == datamap.Personal13Months
}

// holdOnWrite is DynamoDB Local with an operator in between: just before (or just after, when
// after is set) the sweep's first DeleteItem of a platform item, a hold is placed on that item's
// account — the worst moments, between the writer's look at the holds and its write.
type holdOnWrite struct {
	*dynamodb.Client
	r      *rig
	table  string
	after  bool
	mu     sync.Mutex
	placed string // the held account
}

func (d *holdOnWrite) DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error) {
	if aws.ToString(in.TableName) != d.table {
		return d.Client.DeleteItem(ctx, in, opts...)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.placed != "" {
		return d.Client.DeleteItem(ctx, in, opts...)
	}
	got, err := d.Client.GetItem(ctx, &dynamodb.GetItemInput{TableName: in.TableName, Key: in.Key})
	if err != nil || got.Item == nil {
		return d.Client.DeleteItem(ctx, in, opts...)
	}
	var out *dynamodb.DeleteItemOutput
	if d.after {
		if out, err = d.Client.DeleteItem(ctx, in, opts...); err != nil {
			return out, err
		}
	}
	account := platform.AttrString(got.Item["accountId"])
	if _, err := d.r.stack.System.Ledger.PlaceHold(ctx, platform.LegalHold{AccountID: account, ScopeKind: platform.HoldAccount,
		Reason: "preservation order", AuthorityRef: "A-1"}, "operator:test"); err != nil {
		return nil, err
	}
	d.placed = account
	if d.after {
		return out, nil
	}
	return d.Client.DeleteItem(ctx, in, opts...)
}

// A hold placed while a sweep runs wins: the writes the sweep judged before it, already on their
// way, destroy nothing it covers, neither items nor files, whether the hold lands just before such
// a write or just after it (the item is then put back, without TTL); the run's journal names none
// of the held account's end users.
func TestLegalHoldPlacedDuringASweepWins(t *testing.T) {
	for _, after := range []bool{false, true} {
		name := "before its first delete"
		if after {
			name = "after its first delete"
		}
		t.Run(name, func(t *testing.T) { holdDuringASweep(t, after) })
	}
}

func holdDuringASweep(t *testing.T, after bool) {
	r := newRig(t, true)
	before := map[string]map[string]types.AttributeValue{}
	for _, it := range r.scan(datamap.PlatformTable) {
		before[keyOf(it)] = it
	}
	files := map[string]bool{}
	for _, k := range r.objects("accounts/") {
		files[k] = true
	}
	r.advanceTo(t0.AddDate(0, 13, 1))
	db := &holdOnWrite{Client: r.env.DynamoDB, r: r, table: r.env.Tables[datamap.PlatformTable], after: after}
	sw := *r.sweep
	sw.DB = db
	res, err := sw.Run(r.ctx, retention.Input{})
	if err != nil {
		t.Fatal(err)
	}
	if db.placed == "" {
		t.Fatal("the sweep deleted nothing: the test proves nothing")
	}
	after_ := map[string]map[string]types.AttributeValue{}
	for _, it := range r.scan(datamap.PlatformTable) {
		after_[keyOf(it)] = it
	}
	left := map[string]bool{}
	for _, k := range r.objects("accounts/") {
		left[k] = true
	}
	gone := 0
	heldUsers := map[string]bool{}
	for k, it := range before {
		if platform.AttrString(it["accountId"]) != db.placed {
			if after_[k] == nil {
				gone++
			}
			continue
		}
		if u := platform.AttrString(it["endUserId"]); u != "" {
			heldUsers[u] = true
		}
		now := after_[k]
		if now == nil {
			t.Errorf("a %s of the account held during the run was destroyed", cat(it))
			continue
		}
		// As it was, or put back as it was without its TTL.
		want := it
		if _, ok := now[platform.AttrExpiresAt]; !ok {
			want = maps.Clone(it)
			delete(want, platform.AttrExpiresAt)
		}
		if !reflect.DeepEqual(now, want) {
			t.Errorf("a %s of the held account changed: %v, was %v", cat(it), now, it)
		}
		for _, f := range retention.ObjectKeys(it) {
			if files[f] && !left[f] {
				t.Errorf("a file of a %s of the held account was destroyed", cat(it))
			}
		}
	}
	if gone == 0 {
		t.Error("nothing of the other account expired: the test proves nothing")
	}
	var held int64
	for _, c := range res.Categories {
		held += c.Held
	}
	if held == 0 {
		t.Error("the run counts nothing held")
	}
	subjects, err := evidence.Journal{Store: r.stack.System.Store}.Subjects(r.ctx, res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(subjects) == 0 {
		t.Error("the run's journal names nobody")
	}
	for _, s := range subjects {
		if heldUsers[s.ID] {
			t.Errorf("the run's journal names %s %s, whose data the hold kept", s.Kind, s.ID)
		}
	}
}

// checkLifecycleTags checks the lifecycle tag of the files of the items' end-user categories.
func (r *rig) checkLifecycleTags(items map[string]map[string]types.AttributeValue, want string) {
	r.t.Helper()
	n := 0
	for _, it := range items {
		if c, ok := datamap.Lookup(cat(it)); !ok || !c.ExpiresByLifecycle() {
			continue
		}
		for _, k := range retention.ObjectKeys(it) {
			out, err := r.env.S3.GetObjectTagging(r.ctx, &s3.GetObjectTaggingInput{Bucket: aws.String(r.env.Buckets[datamap.FilesBucket]), Key: aws.String(k)})
			if err != nil {
				r.t.Fatal(err)
			}
			got := ""
			for _, tg := range out.TagSet {
				if aws.ToString(tg.Key) == datamap.LifecycleTagKey {
					got = aws.ToString(tg.Value)
				}
			}
			if got != want {
				r.t.Errorf("a %s file is tagged %q, want %q", cat(it), got, want)
			}
			n++
		}
	}
	if n == 0 {
		r.t.Error("no end-user file to check the tags of")
	}
}
