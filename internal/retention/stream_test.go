package retention_test

import (
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/retention"
)

// ttlAct is the act of the TTL removals of the day of at, by category.
func (r *rig) ttlAct(at time.Time) (evidence.Record, map[string]int64) {
	r.t.Helper()
	recs, err := r.stack.System.Deletion.Evidence(r.ctx, retention.TTLRunID(at))
	if err != nil {
		r.t.Fatalf("evidence of %s: %v", retention.TTLRunID(at), err)
	}
	if len(recs) != 1 {
		r.t.Fatalf("%d acts of the day's TTL removals, want 1", len(recs))
	}
	counts := map[string]int64{}
	for _, d := range recs[0].Destroyed {
		counts[d.Category] = d.Count
	}
	return recs[0], counts
}

// Issue 15 point 2: what DynamoDB's TTL removes by itself leaves no file behind and its evidence:
// 13 months and 8 days after the data was written, the TTL (emulated on DynamoDB Local, its
// removals read from the table's real stream and handed to the stream function through the
// template's filter) has removed every personal item; their files are gone, and the day's act
// counts every category destroyed.
func TestTTLRemovalsDeleteTheirFilesAndLeaveAnAct(t *testing.T) {
	r := newRig(t, true)
	before := r.stored()
	files := r.objects("accounts/")
	if len(files) == 0 {
		t.Fatal("the seed wrote no files")
	}
	r.advanceTo(t0.AddDate(0, 13, 8))
	removed, err := r.stack.RunStreams(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	after := r.stored()
	want := map[string]int64{}
	var total int64
	for c, items := range before {
		if cat, ok := datamap.Lookup(c); ok && cat.Personal {
			for k := range items {
				if _, still := after[c][k]; !still {
					want[c]++
					total++
				}
			}
		}
	}
	if removed == 0 || int64(removed) != total || want[datamap.Message] == 0 || want[datamap.EndUserFile] == 0 {
		t.Fatalf("the TTL removed %d items; personal items gone by category: %v", removed, want)
	}
	// Every file of a removed item is gone.
	left := map[string]bool{}
	for _, k := range r.objects("accounts/") {
		left[k] = true
	}
	for c, items := range before {
		for k, it := range items {
			if _, still := after[c][k]; still {
				continue
			}
			for _, key := range retention.ObjectKeys(it) {
				if left[key] {
					t.Errorf("a file of a removed %s is still in S3", c)
				}
			}
		}
	}
	// The day's act, once drawn up (every sweep invocation draws the acts that changed).
	if _, err := r.sweep.Run(r.ctx, retention.Input{ContinueOnly: true}); err != nil {
		t.Fatal(err)
	}
	act, got := r.ttlAct(r.now())
	for c, n := range want {
		if got[c] != n {
			t.Errorf("act counts %d %s, %d were removed", got[c], c, n)
		}
	}
	if act.Reason != evidence.ReasonRetentionExpired || act.SubjectCount == 0 || act.RequestKind != string(retention.KindRetentionExpiry) {
		t.Errorf("act: reason %s, kind %s, %d subjects", act.Reason, act.RequestKind, act.SubjectCount)
	}
	req, err := r.stack.System.Ledger.Get(r.ctx, retention.TTLRunID(r.now()))
	if err != nil {
		t.Fatal(err)
	}
	if req.Progress[datamap.Message] != want[datamap.Message] || req.Progress["s3_objects"] == 0 || len(req.Evidence) != 1 {
		t.Errorf("the day's request: progress %v, evidence %v", req.Progress, req.Evidence)
	}
}

// A stream record delivered twice (Lambda retries a batch) is journaled once.
func TestTTLRemovalDeliveredTwiceIsJournaledOnce(t *testing.T) {
	r := newRig(t, true)
	var msg map[string]types.AttributeValue
	for _, it := range r.stored()[datamap.Message] {
		msg = it
		break
	}
	r.advanceTo(t0.AddDate(0, 13, 8))
	rm := retention.Removal{ID: "event-1", At: r.now(), Old: msg}
	for range 2 {
		if err := r.sweep.Observe(r.ctx, rm); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.sweep.DrawTTLActs(r.ctx); err != nil {
		t.Fatal(err)
	}
	act, got := r.ttlAct(r.now())
	if got[datamap.Message] != 1 || act.SubjectCount != 1 {
		t.Errorf("one removal delivered twice: act counts %v, %d subjects", got, act.SubjectCount)
	}
	// A later removal draws the act again, with both.
	rm.ID = "event-2"
	if err := r.sweep.Observe(r.ctx, rm); err != nil {
		t.Fatal(err)
	}
	if err := r.sweep.DrawTTLActs(r.ctx); err != nil {
		t.Fatal(err)
	}
	if _, got := r.ttlAct(r.now()); got[datamap.Message] != 2 {
		t.Errorf("act counts %v after a second removal", got)
	}
	// An item a released legal hold kept: the act names the hold.
	rm.ID, rm.Old = "event-3", maps.Clone(msg)
	rm.Old[retention.AttrReleasedHold] = &types.AttributeValueMemberS{Value: "hold-released-1"}
	if err := r.sweep.Observe(r.ctx, rm); err != nil {
		t.Fatal(err)
	}
	if err := r.sweep.DrawTTLActs(r.ctx); err != nil {
		t.Fatal(err)
	}
	if act, got := r.ttlAct(r.now()); got[datamap.Message] != 3 || !strings.Contains(act.AuthorizedBy, "hold-released-1") {
		t.Errorf("act counts %v, authorized by %q", got, act.AuthorizedBy)
	}
}

// The sample of events/retention-stream is what the deployed function receives: it passes the
// template's filter (without its TTL identity it does not), the file it names is deleted and the
// removal journaled, once however often it is delivered.
func TestStreamSampleEvent(t *testing.T) {
	r := newRig(t, false)
	ev := r.sample()
	poller := r.stack.Streams["RetentionStreamFunction"].Poller
	rec := ev.Records[0]
	if !poller.Passes(rec) {
		t.Fatal("the sample TTL removal does not pass the template's filter")
	}
	user := rec
	user.UserIdentity = nil
	if poller.Passes(user) {
		t.Error("a removal without the TTL's identity (the platform's own deletion) passes the filter")
	}
	r.advanceTo(rec.Change.ApproximateCreationDateTime.Add(time.Hour))
	key := rec.Change.OldImage["s3Key"].String()
	r.putObject(key)
	for range 2 {
		resp, err := r.sweep.HandleStream(r.ctx, ev)
		if err != nil || len(resp.BatchItemFailures) > 0 {
			t.Fatalf("handle: %v, failures %v", err, resp.BatchItemFailures)
		}
	}
	if left := r.objects("accounts/"); len(left) != 0 {
		t.Errorf("files left: %v", left)
	}
	if err := r.sweep.DrawTTLActs(r.ctx); err != nil {
		t.Fatal(err)
	}
	at := rec.Change.ApproximateCreationDateTime.UTC()
	act, got := r.ttlAct(at)
	if got[datamap.EndUserFile] != 1 || act.SubjectCount != 1 || act.Subjects[0].ID != "eu-sample-1" {
		t.Errorf("act of the sample: %v, subjects %v", got, act.Subjects)
	}
}

func (r *rig) sample() events.DynamoDBEvent {
	r.t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(r.t), "events", "retention-stream", "ttl-removal.json"))
	if err != nil {
		r.t.Fatal(err)
	}
	var ev events.DynamoDBEvent
	if err := json.Unmarshal(b, &ev); err != nil {
		r.t.Fatal(err)
	}
	return ev
}

func (r *rig) putObject(key string) {
	r.t.Helper()
	_, err := r.env.S3.PutObject(r.ctx, &s3.PutObjectInput{Bucket: aws.String(r.env.Buckets[datamap.FilesBucket]), Key: aws.String(key),
		Body: strings.NewReader("file")})
	if err != nil {
		r.t.Fatal(err)
	}
}
