package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"maps"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/retention"
	"github.com/lethe-dev/lethe/internal/system"
	"github.com/lethe-dev/lethe/internal/workflow"
)

func readCSV(t *testing.T, r reply) [][]string {
	t.Helper()
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") ||
		!strings.Contains(r.header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("%d %v %s", r.status, r.header, r.body)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.body)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// The register's CSV holds the rows the same filters keep; a cell that a spreadsheet would run as a
// formula is neutralised with a leading '.
func TestOpsRegisterCSV(t *testing.T) {
	w := newWorld(t)
	a0, _ := registerFixture(w)
	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	rows := readCSV(t, w.call("GET", "/v1/ops/exports/requests.csv?account="+a0, tok, ""))
	if len(rows) != 4 || rows[0][0] != "request_id" {
		t.Fatalf("csv: %v", rows)
	}
	got := map[string][]string{}
	for _, r := range rows[1:] {
		got[r[0]] = r
	}
	if r := got["R-none"]; r == nil || r[3] != `'=HYPERLINK("http://x")` {
		t.Errorf("a formula source is exported as %q, want it neutralised", r)
	}
	if r := got["R-failed"]; r == nil || r[8] != "3" || !strings.Contains(r[12], "States.TaskFailed") {
		t.Errorf("failed row: %q", r)
	}
	if r := w.call("GET", "/v1/ops/exports/requests.csv?status=nope", tok, ""); r.status != 400 {
		t.Errorf("bad filter: %d", r.status)
	}
}

// The journal of destruction for a date range: one line per category an act destroyed, with the
// request, account and act, the subjects by kind and number only (no name), counts as the act has
// them; outside the range nothing; a bad range is a 400.
func TestOpsJournalCSV(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	eu := a.EndUsers[0]
	req, _, err := w.sys.Requests.RequestDeletion(w.ctx, requests.Deletion{Kind: request.KindEndUserDeletion, Source: "dashboard",
		Actor: "owner:x", Scope: platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: a.ID, BotID: eu.BotID, EndUserID: eu.ID}})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	r := w.request(req.ID)
	if r.Status != request.StatusCompleted || len(r.Evidence) != 1 {
		t.Fatalf("deletion: %s %v", r.Status, r.Evidence)
	}
	acts, err := w.sys.Deletion.Evidence(w.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	day := w.sys.Now().Format("2006-01-02")
	resp := w.call("GET", "/v1/ops/exports/journal.csv?from="+day+"&to="+day, tok, "")
	if strings.Contains(string(resp.body), eu.Name) {
		t.Errorf("the journal extract names the end user")
	}
	rows := readCSV(t, resp)
	if len(rows) != len(acts[0].Destroyed)+1 {
		t.Fatalf("%d lines, want one per destroyed category (%d): %v", len(rows)-1, len(acts[0].Destroyed), rows)
	}
	want := map[string]int64{}
	for _, d := range acts[0].Destroyed {
		want[d.Category] = d.Count
	}
	got := map[string]int64{}
	for _, l := range rows[1:] {
		n, _ := strconv.ParseInt(l[8], 10, 64)
		got[l[7]] = n
		if l[1] != evidence.SourceRequest || l[2] != r.ID || l[3] != a.ID || l[11] != r.Evidence[0] || l[10] != evidence.MethodLogicalErasure ||
			!strings.HasPrefix(l[4], evidence.SubjectEndUser+" ×") {
			t.Errorf("line %q", l)
		}
	}
	if !maps.Equal(got, want) {
		t.Errorf("counts %v, want the act's %v", got, want)
	}
	before := w.sys.Now().AddDate(0, 0, -3).Format("2006-01-02")
	if rows := readCSV(t, w.call("GET", "/v1/ops/exports/journal.csv?from="+before+"&to="+before, tok, "")); len(rows) != 1 {
		t.Errorf("a day without acts: %v", rows)
	}
	for q, field := range map[string]string{"from=2026-03-05&to=2026-03-01": "to", "from=x&to=2026-03-01": "from",
		"from=2026-03-01": "to", "from=2024-01-01&to=2026-03-01": "to"} {
		if r := w.call("GET", "/v1/ops/exports/journal.csv?"+q, tok, ""); r.status != 400 || !strings.Contains(string(r.body), `"`+field+`"`) {
			t.Errorf("%s: %d %s, want a 400 naming %s", q, r.status, r.body, field)
		}
	}
}

// The journal of destruction covers every destruction in the range, not only the requests' acts: a
// retention sweep's run with the counts its act states, and each item DynamoDB's TTL removed, at
// the time of the removal, by subject identifier, once even after the day's act is drawn up. What
// happened outside the range is not listed; nothing names a person.
func TestOpsJournalCSVListsTheRetentionSweepAndTTLRemovals(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	w.advance(14 * 30 * 24 * time.Hour) // the seed's personal data is past its 13 months
	now := w.sys.Now()
	removal := func(id string, at time.Time, cat, endUser string) {
		t.Helper()
		old := map[string]types.AttributeValue{
			platform.AttrPK: &types.AttributeValueMemberS{Value: "A#" + a.ID}, platform.AttrSK: &types.AttributeValueMemberS{Value: "TTL#" + id},
			platform.AttrCategory: &types.AttributeValueMemberS{Value: cat}, "accountId": &types.AttributeValueMemberS{Value: a.ID},
			"endUserId": &types.AttributeValueMemberS{Value: endUser}}
		if err := w.sys.RetentionSweep.Observe(w.ctx, retention.Removal{ID: id, At: at, Old: old}); err != nil {
			t.Fatal(err)
		}
	}
	removal("stream-rec-1", now.Add(-time.Minute), datamap.Message, "eu-ttl-today")
	removal("stream-rec-1", now.Add(-time.Minute), datamap.Message, "eu-ttl-today") // delivered twice
	removal("stream-rec-2", now.AddDate(0, 0, -3), datamap.InboxMessage, "eu-ttl-earlier")
	var runID string
	for range 20 {
		res, err := w.sys.RetentionSweep.Run(w.ctx, retention.Input{}) // also draws up the TTL days' acts
		if err != nil {
			t.Fatal(err)
		}
		runID = res.RunID
		if !res.Partial {
			break
		}
	}
	run := w.request(runID)
	if len(run.Evidence) != 1 {
		t.Fatalf("the sweep's run %s: evidence %v, progress %v", runID, run.Evidence, run.Progress)
	}
	acts, err := w.sys.Deletion.Evidence(w.ctx, runID)
	if err != nil || len(acts) != 1 {
		t.Fatalf("the run's act: %v %v", acts, err)
	}
	if ttl := w.request(retention.TTLRunID(now)); len(ttl.Evidence) != 1 {
		t.Fatalf("the day's TTL act is not drawn up: %v", ttl.Evidence)
	}

	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	extract := func(from, to time.Time) [][]string {
		t.Helper()
		resp := w.call("GET", "/v1/ops/exports/journal.csv?from="+from.In(mailer.Moscow).Format(time.DateOnly)+"&to="+to.In(mailer.Moscow).Format(time.DateOnly), tok, "")
		for _, acct := range w.manifest.Accounts {
			for _, eu := range acct.EndUsers {
				if strings.Contains(string(resp.body), eu.Name) {
					t.Errorf("the journal extract names end user %s", eu.ID)
				}
			}
		}
		rows := readCSV(t, resp)
		if h := rows[0]; h[1] != "source" || h[5] != "subject_kind" || h[6] != "subject_id" || h[9] != "files" {
			t.Fatalf("header %q", h)
		}
		return rows[1:]
	}
	bySource := func(rows [][]string, source string) [][]string {
		var out [][]string
		for _, l := range rows {
			if l[1] == source {
				out = append(out, l)
			}
		}
		return out
	}

	today := extract(now, now)
	want := map[string]int64{}
	for _, d := range acts[0].Destroyed {
		want[d.Category] = d.Count
	}
	got := map[string]int64{}
	for _, l := range bySource(today, evidence.SourceRetentionSweep) {
		n, _ := strconv.ParseInt(l[8], 10, 64)
		got[l[7]] += n
		if l[2] != runID || l[11] != runID || l[12] != string(retention.KindRetentionExpiry) || l[10] != evidence.MethodLogicalErasure {
			t.Errorf("sweep line %q", l)
		}
	}
	if len(want) == 0 || !maps.Equal(got, want) {
		t.Errorf("the sweep's lines count %v, want its act's %v", got, want)
	}
	ttl := bySource(today, evidence.SourceTTL)
	if len(ttl) != 1 {
		t.Fatalf("TTL lines today: %q, want the one removal once", ttl)
	}
	if l := ttl[0]; l[7] != datamap.Message || l[8] != "1" || l[5] != evidence.SubjectEndUser || l[6] != "eu-ttl-today" ||
		l[2] != retention.TTLRunID(now) || l[11] != retention.TTLRunID(now) {
		t.Errorf("TTL line %q", l)
	}
	if len(today) != len(want)+1 {
		t.Errorf("%d lines today, want the sweep's %d and one TTL removal: %q", len(today), len(want), today)
	}

	earlier := extract(now.AddDate(0, 0, -3), now.AddDate(0, 0, -3))
	if len(earlier) != 1 || earlier[0][1] != evidence.SourceTTL || earlier[0][6] != "eu-ttl-earlier" || earlier[0][7] != datamap.InboxMessage {
		t.Errorf("three days earlier: %q, want the earlier TTL removal only", earlier)
	}
	if later := extract(now.AddDate(0, 0, 1), now.AddDate(0, 0, 2)); len(later) != 0 {
		t.Errorf("after the range of every destruction: %q", later)
	}
}

// The monthly report counts, per month, the requests received and completed and the SLA breaches
// the sweep escalated, by deadline.
func TestOpsMonthlyReport(t *testing.T) {
	w := newWorld(t)
	a0 := w.manifest.Accounts[0].ID
	march := w.sys.Now()
	w.create(request.Request{ID: "M-1", AccountID: a0, Kind: request.KindEndUserDeletion, Status: request.StatusHardDeleting,
		History: []request.Event{{At: march, Status: request.StatusHardDeleting, Actor: "system"},
			{At: march, Status: request.StatusHardDeleting, Actor: "sweep:sla", Note: request.BreachNote(request.DeadlineCompleteBy, march)}}})
	w.advance(31 * 24 * time.Hour) // April
	w.create(request.Request{ID: "M-2", AccountID: a0, Kind: request.KindEndUserDeletion, Status: request.StatusHardDeleting})
	if _, err := w.sys.Ledger.Update(w.ctx, "M-2", func(r *request.Request) error { return r.Complete(w.sys.Now(), "system", "") }); err != nil {
		t.Fatal(err)
	}
	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	var rep struct {
		Months []struct {
			Month                         string
			Received, Completed, Breaches int
			BreachesByDeadline            map[string]int
		}
	}
	r := w.call("GET", "/v1/ops/reports/monthly?months=3", tok, "")
	r.json(t, &rep)
	if r.status != 200 || len(rep.Months) != 3 || rep.Months[0].Month != "2026-02" || rep.Months[2].Month != "2026-04" {
		t.Fatalf("%d %s", r.status, r.body)
	}
	mar, apr := rep.Months[1], rep.Months[2]
	if mar.Received != 1 || mar.Breaches != 1 || mar.BreachesByDeadline[request.DeadlineCompleteBy] != 1 || mar.Completed != 0 {
		t.Errorf("March: %+v", mar)
	}
	if apr.Received != 1 || apr.Completed != 1 || apr.Breaches != 0 {
		t.Errorf("April: %+v", apr)
	}
	for _, q := range []string{"?months=0", "?months=25", "?months=x"} {
		if r := w.call("GET", "/v1/ops/reports/monthly"+q, tok, ""); r.status != 400 {
			t.Errorf("%s: %d", q, r.status)
		}
	}
}

// The retention report is the tally the sweep keeps for the month; a month no run finished in is
// 404, a malformed one 400.
func TestOpsRetentionReport(t *testing.T) {
	w := newWorld(t)
	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	month := w.sys.Now().Format("2006-01")
	if r := w.call("GET", "/v1/ops/reports/retention?month="+month, tok, ""); r.status != 404 {
		t.Fatalf("before any run: %d %s", r.status, r.body)
	}
	if _, err := w.sys.RetentionSweep.Run(w.ctx, retention.Input{}); err != nil {
		t.Fatal(err)
	}
	var rep struct {
		Month, ReportID string
		Runs            int
	}
	r := w.call("GET", "/v1/ops/reports/retention?month="+month, tok, "")
	r.json(t, &rep)
	if r.status != 200 || rep.Month != month || rep.Runs != 1 || rep.ReportID != "retention-"+month {
		t.Fatalf("%d %s", r.status, r.body)
	}
	for _, q := range []string{"2026-13", "2026-3", "march"} {
		if r := w.call("GET", "/v1/ops/reports/retention?month="+q, tok, ""); r.status != 400 {
			t.Errorf("%s: %d", q, r.status)
		}
	}
}

// flaky is the deletion service with a fault injected: from the failAt-th slice on, every slice
// fails (the workflow's retries included) before it touches anything, until healed.
type flaky struct {
	workflow.Deleter
	failAt int64
	slices atomic.Int64
	healed atomic.Bool
}

func (f *flaky) Step(ctx context.Context, id string, cp erasure.Checkpoint, b erasure.Budget) (erasure.Checkpoint, error) {
	if f.slices.Add(1) >= f.failAt && !f.healed.Load() {
		return cp, errors.New("injected fault: the data store is unreachable")
	}
	return f.Deleter.Step(ctx, id, cp, b)
}

// A request that failed mid-erasure is retried from where it stopped: the act counts exactly what
// an uninterrupted run destroys (the dry run's counts), nothing outside the scope goes, the retry
// is recorded under the operator, and only a failed request can be retried.
func TestOpsRetryResumesAFailedDeletionFromItsCheckpoint(t *testing.T) {
	f := &flaky{failAt: 3}
	w := newWorld(t, func(s *system.System) {
		s.Tasks.SliceItems = 2 // many slices: the fault strikes mid-erasure
		f.Deleter = s.Tasks.Deleter
		s.Tasks.Deleter = f
	})
	a := w.manifest.Accounts[0]
	scope := platform.ScopeRef{Kind: datamap.ScopeBot, AccountID: a.ID, BotID: a.Bots[0].ID}
	otherScope := platform.ScopeRef{Kind: datamap.ScopeBot, AccountID: a.ID, BotID: a.Bots[1].ID}
	expected, err := w.sys.Engine.Count(w.ctx, scope)
	if err != nil {
		t.Fatal(err)
	}
	untouched, err := w.sys.Engine.Count(w.ctx, otherScope)
	if err != nil {
		t.Fatal(err)
	}
	req, _, err := w.sys.Requests.RequestDeletion(w.ctx, requests.Deletion{Kind: request.KindBotDeletion, Source: "dashboard",
		Actor: "owner:x", Scope: scope})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	r := w.request(req.ID)
	if r.Status != request.StatusFailed || len(r.Progress) == 0 || r.Checkpoint == "" {
		t.Fatalf("after the fault: %s, progress %v: want failed mid-erasure", r.Status, r.Progress)
	}
	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	if got := w.call("POST", "/v1/ops/requests/R-nosuch/retry", tok, ""); got.status != 404 {
		t.Errorf("unknown id: %d", got.status)
	}

	f.healed.Store(true)
	got := w.call("POST", "/v1/ops/requests/"+r.ID+"/retry", tok, "")
	var row row
	got.json(t, &row)
	if got.status != 202 || row.Status != string(request.StatusHardDeleting) {
		t.Fatalf("retry: %d %s", got.status, got.body)
	}
	w.settle()
	r = w.request(r.ID)
	if r.Status != request.StatusCompleted || len(r.Evidence) != 1 {
		t.Fatalf("after the retry: %s, evidence %v", r.Status, r.Evidence)
	}
	acts, err := w.sys.Deletion.Evidence(w.ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	destroyed := map[string]int64{}
	for _, d := range acts[0].Destroyed {
		destroyed[d.Category] = d.Count
	}
	for cat, n := range expected {
		if n > 0 && destroyed[cat] != n {
			t.Errorf("the act counts %d %s, the scope held %d (act %v, dry run %v)", destroyed[cat], cat, n, destroyed, expected)
		}
	}
	if left := w.remaining(scope); len(left) > 0 {
		t.Errorf("left in scope: %v", left)
	}
	if after, err := w.sys.Engine.Count(w.ctx, otherScope); err != nil || !maps.Equal(after, untouched) {
		t.Errorf("outside the scope: %v → %v (%v)", untouched, after, err)
	}
	var recorded bool
	for _, e := range r.History {
		recorded = recorded || e.Actor == "operator:officer-7 (Ирина Смирнова)" && e.Status == request.StatusHardDeleting
	}
	if !recorded {
		t.Errorf("the retry is not recorded under the operator: %+v", r.History)
	}
	v := r.Version
	if got := w.call("POST", "/v1/ops/requests/"+r.ID+"/retry", tok, ""); got.status != 409 {
		t.Errorf("retrying a completed request: %d, want 409", got.status)
	}
	if w.request(r.ID).Version != v {
		t.Errorf("a refused retry changed the request")
	}
}

// The machines that do not open straight into the erase pick a retried request up too: an approved
// end-customer request hands its recorded decision over at once, an account deletion passes its
// long-ended window; each resumes its erase and draws up one act with the scope's counts.
func TestOpsRetryResumesEveryKindOfMachine(t *testing.T) {
	for _, kind := range []request.Kind{request.KindEndCustomerRequest, request.KindAccountDeletion} {
		t.Run(string(kind), func(t *testing.T) {
			f := &flaky{failAt: 3}
			if kind == request.KindEndCustomerRequest {
				f.failAt = 1 // one end user is one slice
			}
			w := newWorld(t, func(s *system.System) {
				s.Tasks.SliceItems = 2
				f.Deleter = s.Tasks.Deleter
				s.Tasks.Deleter = f
			})
			a := w.manifest.Accounts[1]
			var id string
			var scope platform.ScopeRef
			switch kind {
			case request.KindEndCustomerRequest:
				eu := a.EndUsers[0]
				scope = platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: a.ID, BotID: eu.BotID, EndUserID: eu.ID}
				req, _, err := w.sys.Requests.SubmitEndCustomer(w.ctx, requests.EndCustomer{AccountID: a.ID, BotID: eu.BotID,
					EndUserID: eu.ID, Requester: w.env.Address("customer")})
				if err != nil {
					t.Fatal(err)
				}
				w.settle()
				if _, err := w.sys.Requests.Decide(w.ctx, a.ID, req.ID, "owner:x", true, ""); err != nil {
					t.Fatal(err)
				}
				id = req.ID
			case request.KindAccountDeletion:
				scope = platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID}
				req, _, err := w.sys.Requests.RequestAccountDeletion(w.ctx, requests.AccountDeletion{AccountID: a.ID, Source: "dashboard"})
				if err != nil {
					t.Fatal(err)
				}
				w.settle()
				id = req.ID
			}
			expected, err := w.sys.Engine.Count(w.ctx, scope)
			if err != nil {
				t.Fatal(err)
			}
			w.settle()
			if kind == request.KindAccountDeletion {
				w.advance(31 * 24 * time.Hour)
			}
			if r := w.request(id); r.Status != request.StatusFailed || r.Stage() != request.StatusHardDeleting {
				t.Fatalf("after the fault: %s (stage %s), want failed in hard_deleting", r.Status, r.Stage())
			}
			f.healed.Store(true)
			if got := w.call("POST", "/v1/ops/requests/"+id+"/retry", w.operatorToken("officer-7", "Ирина Смирнова"), ""); got.status != 202 {
				t.Fatalf("retry: %d %s", got.status, got.body)
			}
			w.settle()
			r := w.request(id)
			if r.Status != request.StatusCompleted && r.Status != request.StatusAwaitingBackupRotation || len(r.Evidence) != 1 {
				t.Fatalf("after the retry: %s, evidence %v; history %+v", r.Status, r.Evidence, r.History)
			}
			acts, err := w.sys.Deletion.Evidence(w.ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			destroyed := map[string]int64{}
			for _, d := range acts[0].Destroyed {
				destroyed[d.Category] = d.Count
			}
			for cat, n := range expected {
				if n > 0 && destroyed[cat] != n {
					t.Errorf("the act counts %d %s, the scope held %d", destroyed[cat], cat, n)
				}
			}
			if left := w.remaining(scope); len(left) > 0 {
				t.Errorf("left in scope: %v", left)
			}
		})
	}
}
