package retention_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/retention"
	"github.com/lethe-dev/lethe/internal/testenv"
)

// reports are the monthly reports the privacy officer received.
func (r *rig) reports() []testenv.Mail {
	var out []testenv.Mail
	for _, m := range r.env.SentMail(r.t) {
		for _, h := range m.Headers {
			if h.Name == "X-Lethe-Template" && h.Value == string(mailer.RetentionReport) {
				if len(m.To) != 1 || m.To[0] != r.env.Address("privacy") {
					r.t.Errorf("a retention report went to %v", m.To)
				}
				out = append(out, m)
			}
		}
	}
	return out
}

func (r *rig) tallyItem(month string) map[string]types.AttributeValue {
	r.t.Helper()
	out, err := r.env.DynamoDB.GetItem(r.ctx, &dynamodb.GetItemInput{TableName: aws.String(r.env.Tables[datamap.LedgerTable]),
		Key: platform.Key{PK: "SWEEP#retention", SK: "MONTH#" + month}.Attributes(), ConsistentRead: aws.Bool(true)})
	if err != nil {
		r.t.Fatal(err)
	}
	return out.Item
}

func sumDeleted(res ...retention.Result) int64 {
	var n int64
	for _, x := range res {
		for _, c := range x.Categories {
			n += c.Deleted
		}
	}
	return n
}

// The done-when of the report: the runs of a month are tallied (each run once), and the first run
// that finishes in the next month mails the privacy officer that month's counts and the oldest
// personal item per category, once, with no personal data.
func TestMonthlyReportGoesOnceAfterTheMonth(t *testing.T) {
	r := newRig(t, true)
	// 3 April 2027: 13 months and a day after the seed, so the first run deletes.
	r.advanceTo(t0.AddDate(0, 13, 0).Add(24 * time.Hour))
	first := r.runToEnd()
	if first.Reported != "" {
		t.Fatalf("the first run reported %s: there is no month before it", first.Reported)
	}
	if sumDeleted(first) == 0 {
		t.Fatal("the first run deleted nothing; the test needs expired data")
	}
	// A fresh personal item, so the report has an oldest item to state.
	fresh := r.now()
	if err := r.stack.System.Store.Put(r.ctx, platform.ActivityLog{AccountID: "acct-report", ID: "log-1", At: fresh, ActorName: "someone", Action: "login"}); err != nil {
		t.Fatal(err)
	}
	r.advanceTo(r.now().Add(24 * time.Hour))
	second := r.runToEnd()
	if len(r.reports()) != 0 {
		t.Fatal("a report was sent before its month ended")
	}
	month := "2027-04"
	item := r.tallyItem(month)
	if item == nil {
		t.Fatalf("no tally for %s", month)
	}
	runs := item["runs"].(*types.AttributeValueMemberL).Value
	if len(runs) != 2 {
		t.Fatalf("the tally counts %d runs, want 2", len(runs))
	}

	// The first day of May: the run reports April, once.
	r.advanceTo(time.Date(2027, 5, 1, 3, 0, 0, 0, time.UTC))
	third := r.runToEnd()
	if third.Reported != month {
		t.Fatalf("the first run of May reported %q, want %s", third.Reported, month)
	}
	reps := r.reports()
	if len(reps) != 1 {
		t.Fatalf("%d reports, want 1", len(reps))
	}
	rep := reps[0]
	if !strings.Contains(rep.Subject, "апрель 2027 г.") || !strings.Contains(rep.Subject, retention.ReportID(month)) {
		t.Errorf("subject %q", rep.Subject)
	}
	wantTotal := sumDeleted(first, second)
	if !strings.Contains(rep.Text, "Итого: удалено записей — "+strings.ReplaceAll(evidence.FormatCount(wantTotal, "ru"), " ", "\u00a0")) {
		t.Errorf("the report does not state %d deleted in total:\n%s", wantTotal, rep.Text)
	}
	if !strings.Contains(rep.Text, "завершено ежедневных проходов — 2") {
		t.Errorf("the report does not state 2 runs:\n%s", rep.Text)
	}
	// The activity log written on 3 April is the oldest of its category as the last April run saw
	// it; it must go by 3 May 2028.
	title, _ := evidence.CategoryTitle(datamap.ActivityLog, "ru")
	if !strings.Contains(rep.Text, title+"\n") || !strings.Contains(rep.Text, "старейшая хранимая запись: 3 апреля 2027 г.; должна быть удалена не позднее 3 мая 2028 г.") {
		t.Errorf("the report does not state the oldest activity log:\n%s", rep.Text)
	}
	if strings.Contains(rep.Text, "СРОК ХРАНЕНИЯ ИСТЁК") {
		t.Errorf("the report flags an overdue category:\n%s", rep.Text)
	}
	for _, personal := range []string{"someone", "acct-report", "ООО Тест"} {
		if strings.Contains(rep.Subject+rep.Text+rep.HTML, personal) {
			t.Errorf("the report carries %q", personal)
		}
	}
	if r.tallyItem(month)["reportedAt"] == nil {
		t.Error("the tally does not record the report as sent")
	}

	// The next day's run sends nothing more.
	r.advanceTo(r.now().Add(24 * time.Hour))
	if again := r.runToEnd(); again.Reported != "" || len(r.reports()) != 1 {
		t.Fatalf("a second report: %q, %d mails", again.Reported, len(r.reports()))
	}
	// May's tally counts May's runs only.
	if runs := r.tallyItem("2027-05")["runs"].(*types.AttributeValueMemberL).Value; len(runs) != 2 {
		t.Errorf("May's tally counts %d runs, want 2", len(runs))
	}
}

// A run whose recording is retried after the tally (the request write, say, failed after it) is
// counted once.
func TestTallyCountsARunOnce(t *testing.T) {
	r := newRig(t, false)
	cp := &retention.Checkpoint{RunID: "run-1", Categories: map[string]*retention.CategoryReport{datamap.Message: {Deleted: 7}}}
	for range 3 {
		if err := r.sweep.Tally(r.ctx, cp, r.now()); err != nil {
			t.Fatal(err)
		}
	}
	cp2 := &retention.Checkpoint{RunID: "run-2", Categories: map[string]*retention.CategoryReport{datamap.Message: {Deleted: 5}}}
	if err := r.sweep.Tally(r.ctx, cp2, r.now()); err != nil {
		t.Fatal(err)
	}
	item := r.tallyItem(r.now().In(mailer.Moscow).Format("2006-01"))
	var cats map[string]retention.CategoryReport
	if err := json.Unmarshal([]byte(item["state"].(*types.AttributeValueMemberS).Value), &cats); err != nil {
		t.Fatal(err)
	}
	if got := cats[datamap.Message].Deleted; got != 12 {
		t.Errorf("the tally counts %d messages deleted, want 7 + 5", got)
	}
	if c := item[platform.AttrCategory].(*types.AttributeValueMemberS).Value; c != datamap.RetentionTally {
		t.Errorf("category %s", c)
	}
	if _, ok := item[platform.AttrExpiresAt]; !ok {
		t.Error("the tally has no TTL")
	}
}

// The hourly continuation resumes an unfinished run and otherwise does nothing: no run, no
// request, no lease left behind.
func TestContinueOnlyResumesAndOtherwiseDoesNothing(t *testing.T) {
	r := newRig(t, true)
	r.advanceTo(t0.AddDate(0, 13, 1))
	idle, err := r.sweep.Run(r.ctx, retention.Input{ContinueOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if !idle.Idle || idle.RunID != "" {
		t.Fatalf("a continuation without a run did something: %+v", idle)
	}
	if n := len(r.stored()[datamap.SweepCheckpoint]); n != 0 {
		t.Fatalf("the continuation left %d checkpoint items", n)
	}
	if reqs := r.runRequests(); len(reqs) != 0 {
		t.Fatalf("the continuation recorded %d runs", len(reqs))
	}

	s := *r.sweep
	s.Budget, s.PageSize, s.Segments = time.Nanosecond, 5, 2
	started, err := s.Run(r.ctx, retention.Input{})
	if err != nil || !started.Partial {
		t.Fatalf("a run with a tiny budget: %+v, %v", started, err)
	}
	var last retention.Result
	for i := 0; ; i++ {
		last, err = s.Run(r.ctx, retention.Input{ContinueOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		if last.Idle || last.RunID != started.RunID {
			t.Fatalf("continuation %d did not resume the run: %+v", i, last)
		}
		if !last.Partial {
			break
		}
	}
	if n := len(r.stored()[datamap.SweepCheckpoint]); n != 0 {
		t.Fatalf("%d checkpoint items after the run finished", n)
	}
	if reqs := r.runRequests(); len(reqs) != 1 || reqs[0].ID != started.RunID {
		t.Fatalf("runs recorded: %+v", reqs)
	}
	// Finished: the next continuation is idle again.
	if again, err := s.Run(r.ctx, retention.Input{ContinueOnly: true}); err != nil || !again.Idle {
		t.Fatalf("after the run: %+v, %v", again, err)
	}
}

// While an invocation holds the lease (the daily start and the hourly continuation fired
// together), another does nothing; a lease whose holder died lapses and the run is resumed.
func TestOneInvocationAtATime(t *testing.T) {
	r := newRig(t, true)
	r.advanceTo(t0.AddDate(0, 13, 1))
	before := r.stored()
	if _, err := r.sweep.Acquire(r.ctx); err != nil {
		t.Fatal(err)
	}
	for _, in := range []retention.Input{{}, {ContinueOnly: true}} {
		res, err := r.sweep.Run(r.ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Busy || !res.Idle || res.RunID != "" {
			t.Fatalf("a second invocation ran: %+v", res)
		}
	}
	if after := r.stored(); len(after[datamap.Message]) != len(before[datamap.Message]) {
		t.Fatal("a refused invocation deleted messages")
	}
	// The holder died: its lease ends LeaseFor after it was taken (wall clock). Set it in the past.
	_, err := r.env.DynamoDB.UpdateItem(r.ctx, &dynamodb.UpdateItemInput{TableName: aws.String(r.env.Tables[datamap.LedgerTable]),
		Key:                       platform.Key{PK: "SWEEP#retention", SK: "CHECKPOINT"}.Attributes(),
		UpdateExpression:          aws.String("SET leaseUntil = :past"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":past": &types.AttributeValueMemberN{Value: strconv.FormatInt(time.Now().Add(-time.Second).Unix(), 10)}}})
	if err != nil {
		t.Fatal(err)
	}
	res := r.runToEnd()
	if res.Busy || sumDeleted(res) == 0 {
		t.Fatalf("after the lease lapsed: %+v", res)
	}
	if retention.LeaseFor < 15*time.Minute {
		t.Errorf("a lease of %v can lapse while a Lambda invocation (up to 15 minutes) still runs", retention.LeaseFor)
	}
}

// runRequests are the ledger requests recording sweep runs.
func (r *rig) runRequests() []request.Request {
	r.t.Helper()
	var out []request.Request
	for _, it := range r.scan(datamap.LedgerTable) {
		if cat(it) != datamap.DeletionRequest {
			continue
		}
		req, err := platform.Decode[request.Request](it)
		if err != nil {
			r.t.Fatal(err)
		}
		if req.Kind == retention.KindRetentionExpiry {
			out = append(out, req)
		}
	}
	return out
}

// The committed sample events are what the schedules send: the daily one starts a run, the hourly
// continuation with no run unfinished does nothing.
func TestSampleEvents(t *testing.T) {
	r := newRig(t, false)
	read := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(repoRoot(t), "events", "retention-sweep", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	idle, err := r.sweep.Handle(r.ctx, read("continue.json"))
	if err != nil || !idle.Idle || idle.RunID != "" {
		t.Fatalf("continue.json: %+v, %v", idle, err)
	}
	ran, err := r.sweep.Handle(r.ctx, read("scheduled.json"))
	if err != nil || ran.Idle || ran.RunID == "" || ran.Partial {
		t.Fatalf("scheduled.json: %+v, %v", ran, err)
	}
	if _, err := r.sweep.Handle(r.ctx, []byte(`{"continueOnly": "yes"}`)); err == nil {
		t.Error("a malformed input was accepted")
	}
}
