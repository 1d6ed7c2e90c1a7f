package slasweep_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/local/localflow"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/slasweep"
	"github.com/lethe-dev/lethe/internal/testenv"
	testworld "github.com/lethe-dev/lethe/internal/testenv/world"
	"github.com/lethe-dev/lethe/internal/workflow"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// 2 March 2026, a Monday with no holidays near.
var start = time.Date(2026, 3, 2, 7, 0, 0, 0, time.UTC)

type world struct {
	t       *testing.T
	ctx     context.Context
	env     *testenv.Env
	stack   *localflow.Stack
	metrics *bytes.Buffer
	sweep   *slasweep.Sweep
	account seed.ManifestAccount
}

func newWorld(t *testing.T) *world {
	t.Helper()
	wd := testworld.New(t, testworld.Options{Start: start, Seed: 5,
		Size: seed.Size{Accounts: 1, BotsPerAccount: 1, EndUsersPerBot: 3, ConversationsPerEndUser: 1, MessagesPerConversation: 3,
			InboxPerEndUser: 1, FilesPerEndUser: 1, ActivityLogsPerAccount: 3, PaymentsPerAccount: 1}})
	w := &world{t: t, ctx: wd.Ctx, env: wd.Env, stack: wd.Stack, metrics: &bytes.Buffer{}, account: wd.Manifest.Accounts[0]}
	sw := *wd.Sys.SLASweep
	sw.Metrics = w.metrics
	sw.Log = slog.New(slog.NewTextHandler(testLog{t}, nil))
	w.sweep = &sw
	wd.OwnerMail(w.account.ID, "owner")
	return w
}

func (w *world) run() slasweep.Report {
	w.t.Helper()
	w.metrics.Reset()
	rep, err := w.sweep.Run(w.ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	if rep.Errors != 0 {
		w.t.Fatalf("sweep errors: %+v", rep)
	}
	return rep
}

func (w *world) settle() {
	w.t.Helper()
	if err := w.stack.Engine.Settle(w.ctx); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) advance(d time.Duration) {
	w.t.Helper()
	if _, err := w.stack.Engine.Advance(w.ctx, d); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) request(id string) request.Request {
	w.t.Helper()
	r, err := w.stack.System.Ledger.Get(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *world) mailTo(local string) []testenv.Mail {
	var out []testenv.Mail
	for _, m := range w.env.SentMail(w.t) {
		for _, to := range m.To {
			if strings.Contains(strings.ToLower(to), strings.ToLower(w.env.Address(local))) {
				out = append(out, m)
			}
		}
	}
	return out
}

// emf parses the EMF lines of the last run: SLABreaches by deadline.
func (w *world) emf() map[string]float64 {
	w.t.Helper()
	out := map[string]float64{}
	totals, total := 0, 0.0
	sc := bufio.NewScanner(bytes.NewReader(w.metrics.Bytes()))
	for sc.Scan() {
		var rec struct {
			AWS struct {
				Timestamp         int64 `json:"Timestamp"`
				CloudWatchMetrics []struct {
					Namespace  string     `json:"Namespace"`
					Dimensions [][]string `json:"Dimensions"`
					Metrics    []struct{ Name, Unit string }
				} `json:"CloudWatchMetrics"`
			} `json:"_aws"`
			Deadline    string  `json:"Deadline"`
			SLABreaches float64 `json:"SLABreaches"`
		}
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			w.t.Fatalf("EMF line %s: %v", sc.Text(), err)
		}
		cw := rec.AWS.CloudWatchMetrics
		if rec.AWS.Timestamp != w.stack.Engine.Clock().Now().UnixMilli() || len(cw) != 1 || cw[0].Namespace != "Lethe" ||
			len(cw[0].Dimensions) != 1 || len(cw[0].Metrics) != 1 || cw[0].Metrics[0].Name != "SLABreaches" || cw[0].Metrics[0].Unit != "Count" {
			w.t.Fatalf("not the EMF record of an SLA breach: %s", sc.Text())
		}
		switch dims := cw[0].Dimensions[0]; {
		case len(dims) == 0 && rec.Deadline == "":
			// The run's total, without a dimension: what the template's alarm watches.
			totals++
			total = rec.SLABreaches
		case len(dims) == 1 && dims[0] == "Deadline" && rec.Deadline != "":
			out[rec.Deadline] += rec.SLABreaches
		default:
			w.t.Fatalf("not the EMF record of an SLA breach: %s", sc.Text())
		}
	}
	sum := 0.0
	for _, n := range out {
		sum += n
	}
	if totals != 1 || total != sum {
		w.t.Fatalf("%d total lines (want 1), total %v, per deadline %v", totals, total, out)
	}
	return out
}

func (w *world) executionsOf(id string) []string {
	var out []string
	for _, e := range w.stack.Engine.Executions() {
		if strings.HasSuffix(e.ARN, ":"+id) || strings.Contains(e.ARN, ":"+id+"-r") {
			out = append(out, e.Name+"="+e.Status)
		}
	}
	return out
}

// An account deletion whose execution was aborted inside the window stalls: nothing would ever
// hard-delete the account. Past soft_delete_ends the sweep alerts the privacy officer (once, across
// runs), emits the metric, and starts the workflow again, which then runs the deletion to the end.
func TestStalledAccountDeletionIsEscalatedOnceAndRedriven(t *testing.T) {
	w := newWorld(t)
	req, _, err := w.stack.System.Requests.RequestAccountDeletion(w.ctx, requests.AccountDeletion{AccountID: w.account.ID, Source: "dashboard"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	r := w.request(req.ID)
	if r.Status != request.StatusSoftDeleted || r.ExecutionARN == "" {
		t.Fatalf("status %s execution %q, want soft_deleted with an execution", r.Status, r.ExecutionARN)
	}
	// Healthy and far from every deadline: nothing to report.
	if rep := w.run(); rep.Checked != 1 || rep.Breached != 0 || rep.Near != 0 || rep.Redriven != 0 || rep.Escalated != 0 {
		t.Fatalf("healthy request: %+v", rep)
	}
	if err := workflow.Stop(w.ctx, w.stack.Engine, r.ExecutionARN, "lost"); err != nil {
		t.Fatal(err)
	}
	w.settle()
	w.advance(31 * 24 * time.Hour) // a day past the window: nothing happened
	if r := w.request(req.ID); r.Status != request.StatusSoftDeleted {
		t.Fatalf("status %s with the execution aborted", r.Status)
	}

	rep := w.run()
	if rep.Breached != 1 || rep.Breaches[request.DeadlineSoftDeleteEnds] != 1 || rep.Escalated != 1 || rep.Redriven != 1 {
		t.Fatalf("first run: %+v", rep)
	}
	if got := w.emf(); len(got) != 1 || got[request.DeadlineSoftDeleteEnds] != 1 {
		t.Fatalf("EMF %v, want one soft_delete_ends breach:\n%s", got, w.metrics)
	}
	alerts := w.mailTo("privacy")
	if len(alerts) != 1 {
		t.Fatalf("%d mails to the privacy officer, want 1", len(alerts))
	}
	a := alerts[0]
	if !strings.Contains(a.Subject, req.ID) || !strings.Contains(a.Subject, "просрочена") ||
		!strings.Contains(a.Text, "Пропущенный срок: Окончание срока, в течение которого учётную запись можно восстановить") ||
		!strings.Contains(a.Text, "Текущее состояние: "+string(request.StatusSoftDeleted)) {
		t.Errorf("alert does not name the request, the deadline and the state: %s\n%s", a.Subject, a.Text)
	}
	if !hasHeader(a, "X-Lethe-Template", string(mailer.DeadlineMissed)) {
		t.Errorf("alert headers %v, want the deadline_missed template", a.Headers)
	}
	for _, personal := range []string{w.env.Address("owner"), w.account.FullName, w.account.ID} {
		if personal != "" && (strings.Contains(a.Text, personal) || strings.Contains(a.HTML, personal) || strings.Contains(a.Subject, personal)) {
			t.Errorf("the alert carries %q", personal)
		}
	}

	// The re-driven workflow picks up where the request stood: the window is over, so the hard
	// delete runs at once.
	w.settle()
	r = w.request(req.ID)
	if r.Status != request.StatusAwaitingBackupRotation {
		t.Fatalf("status %s after the re-drive, want awaiting_backup_rotation; executions %v; history %+v", r.Status, w.executionsOf(req.ID), r.History)
	}
	if !strings.HasSuffix(r.ExecutionARN, ":"+req.ID+"-r1") {
		t.Errorf("execution %s, want the re-drive's", r.ExecutionARN)
	}
	noted := 0
	for _, e := range r.History {
		if e.Actor == slasweep.Actor && strings.Contains(e.Note, "re-driven") {
			noted++
		}
	}
	if noted != 1 {
		t.Errorf("%d re-drive notes in the history, want 1: %+v", noted, r.History)
	}

	// The next hour: the deadline is met now and the workflow runs; no second mail.
	w.advance(time.Hour)
	if rep := w.run(); rep.Escalated != 0 || rep.Redriven != 0 || rep.Breached != 0 {
		t.Fatalf("second run: %+v", rep)
	}
	if n := len(w.mailTo("privacy")); n != 1 {
		t.Fatalf("%d mails to the privacy officer after two runs, want 1", n)
	}
	w.advance(30 * 24 * time.Hour)
	if r := w.request(req.ID); r.Status != request.StatusCompleted {
		t.Fatalf("status %s after backup rotation, want completed", r.Status)
	}
	if n := len(w.mailTo("owner")); n != 3 {
		t.Errorf("%d mails to the owner, want confirmation, deleted and the final one", n)
	}
}

// A breach the sweep cannot resolve persists across runs: it is mailed once and counted in the
// metric every run. A request awaiting verification waits for a person and is never started.
func TestAwaitingVerificationIsEscalatedOnceAndNotStarted(t *testing.T) {
	w := newWorld(t)
	led := w.stack.System.Ledger
	id := platform.NewID(start)
	_, err := led.Create(w.ctx, request.Request{ID: id, AccountID: w.account.ID, Kind: request.KindAccountDeletion, Source: "email",
		Scope:     platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: w.account.ID},
		Status:    request.StatusAwaitingVerification,
		Deadlines: map[string]time.Time{request.DeadlineStartBy: start.Add(5 * 24 * time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	w.advance(4*24*time.Hour + 12*time.Hour)
	if rep := w.run(); rep.Near != 1 || rep.Breached != 0 || rep.Escalated != 0 {
		t.Fatalf("near the deadline: %+v", rep)
	}
	w.advance(2 * 24 * time.Hour)
	for run := 1; run <= 2; run++ {
		rep := w.run()
		if rep.Breached != 1 || rep.Redriven != 0 || rep.Stalled != 0 || rep.Escalated != map[int]int{1: 1, 2: 0}[run] {
			t.Fatalf("run %d: %+v", run, rep)
		}
		if got := w.emf(); got[request.DeadlineStartBy] != 1 {
			t.Fatalf("run %d: EMF %v", run, got)
		}
		w.advance(time.Hour)
	}
	w.settle()
	if n := len(w.mailTo("privacy")); n != 1 {
		t.Fatalf("%d mails to the privacy officer, want 1", n)
	}
	if ex := w.executionsOf(id); len(ex) != 0 {
		t.Fatalf("executions started for a request awaiting verification: %v", ex)
	}
	if r := w.request(id); r.Status != request.StatusAwaitingVerification || r.ExecutionARN != "" {
		t.Fatalf("status %s execution %q", r.Status, r.ExecutionARN)
	}
}

// A healthy request near its deadline is reported near, not escalated.
func TestHealthyRequestNearItsDeadlineIsNotEscalated(t *testing.T) {
	w := newWorld(t)
	req, _, err := w.stack.System.Requests.RequestAccountDeletion(w.ctx, requests.AccountDeletion{AccountID: w.account.ID, Source: "dashboard"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	w.advance(30*24*time.Hour - 12*time.Hour)
	rep := w.run()
	if rep.Near != 1 || rep.Breached != 0 || rep.Escalated != 0 || rep.Redriven != 0 || rep.Stalled != 0 {
		t.Fatalf("report %+v", rep)
	}
	if got := w.emf(); len(got) != 0 {
		t.Errorf("breaches counted without a breach: %v\n%s", got, w.metrics)
	}
	if n := len(w.mailTo("privacy")); n != 0 {
		t.Fatalf("%d mails to the privacy officer", n)
	}
	if r := w.request(req.ID); r.Status != request.StatusSoftDeleted || len(w.executionsOf(req.ID)) != 1 {
		t.Fatalf("status %s, executions %v", r.Status, w.executionsOf(req.ID))
	}
}

// A request recorded but never started (the start failed after the write) is started under its own
// name, and runs to the end.
func TestRequestWithNoExecutionIsStarted(t *testing.T) {
	w := newWorld(t)
	led := w.stack.System.Ledger
	var eu seed.ManifestEndUser
	if len(w.account.EndUsers) == 0 {
		t.Fatal("no end user seeded")
	}
	eu = w.account.EndUsers[0]
	id := platform.NewID(start)
	_, err := led.Create(w.ctx, request.Request{ID: id, AccountID: w.account.ID, Kind: request.KindEndUserDeletion, Source: "dashboard",
		Scope:  platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: w.account.ID, BotID: eu.BotID, EndUserID: eu.ID},
		Status: request.StatusReceived})
	if err != nil {
		t.Fatal(err)
	}
	// Just written: its start may be under way.
	if rep := w.run(); rep.Redriven != 0 || rep.Checked != 1 {
		t.Fatalf("a fresh request was re-driven: %+v", rep)
	}
	w.advance(time.Hour)
	if rep := w.run(); rep.Redriven != 1 || rep.Escalated != 0 {
		t.Fatalf("report %+v", rep)
	}
	w.settle()
	r := w.request(id)
	if r.Status != request.StatusCompleted || !strings.HasSuffix(r.ExecutionARN, ":"+id) {
		t.Fatalf("status %s execution %s; history %+v", r.Status, r.ExecutionARN, r.History)
	}
	if rep := w.run(); rep.Checked != 0 || rep.Redriven != 0 {
		t.Fatalf("after completion: %+v", rep)
	}
}

// The hold-release gap: an account deletion a legal hold paused ends its execution at Held; the
// release finishes the destruction outside the workflow and leaves the request in
// awaiting_backup_rotation with no execution to send the final mail. Re-driving the machine would
// fail at Open (it refuses that status) and mark the request failed, so the sweep never re-drives it:
// once the backups have rotated it calls the machine's Finish task itself (the final mail with the
// act, then completed), at most DefaultMaxRedrives times, and a deadline missed is escalated.
func TestReleasedHoldIsNotRedrivenButFinished(t *testing.T) {
	w := newWorld(t)
	sys := w.stack.System
	h, req := w.heldAccountDeletion("A40-1/2026")
	if rep := w.run(); rep.Held != 1 || rep.Redriven != 0 || rep.Escalated != 0 {
		t.Fatalf("held: %+v", rep)
	}
	w.advance(10 * 24 * time.Hour)
	if _, err := sys.Deletion.ReleaseHold(w.ctx, h.ID, "operator:test", "case closed", erasure.Budget{}); err != nil {
		t.Fatal(err)
	}
	if r := w.request(req.ID); r.Status != request.StatusAwaitingBackupRotation {
		t.Fatalf("status %s after the release", r.Status)
	}
	w.advance(time.Hour)
	if rep := w.run(); rep.Finished != 0 || rep.Redriven != 0 || rep.Stalled != 0 || rep.Escalated != 0 {
		t.Fatalf("while backups rotate: %+v", rep)
	}
	w.settle()
	if r := w.request(req.ID); r.Status != request.StatusAwaitingBackupRotation {
		t.Fatalf("status %s while backups rotate (re-driven?)", r.Status)
	}
	if ex := w.executionsOf(req.ID); len(ex) != 1 {
		t.Fatalf("executions %v, want only the first", ex)
	}

	w.advance(30*24*time.Hour - 30*time.Minute) // the first hourly run after backups_rotated_by
	rep, err := w.sweep.Run(w.ctx)
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	r := w.request(req.ID)
	if r.Status != request.StatusCompleted || rep.Finished != 1 || rep.Escalated != 0 || rep.Redriven != 0 || r.Requester != "" {
		t.Fatalf("after rotation: status %s, %+v, requester %q", r.Status, rep, r.Requester)
	}
	owner := w.mailTo("owner")
	if len(owner) == 0 || len(owner[len(owner)-1].Attachments) != 1 || !strings.Contains(owner[len(owner)-1].Text, req.ID) {
		t.Fatalf("no final mail with the act to the owner (%d mails)", len(owner))
	}
	if n := len(w.mailTo("privacy")); n != 0 {
		t.Errorf("%d mails to the privacy officer", n)
	}
}

// testLog hands the sweep's log lines to the test's log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func hasHeader(m testenv.Mail, name, value string) bool {
	for _, h := range m.Headers {
		if h.Name == name && h.Value == value {
			return true
		}
	}
	return false
}
