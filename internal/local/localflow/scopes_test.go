package localflow_test

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

func TestEndUserDeletionByFiltersMailsTheAdminTheCounts(t *testing.T) {
	w := newWorld(t, lateNovember2025, nil)
	a := w.seedDemo(smallDemo())
	admin := a.Members[0]
	for _, m := range a.Members {
		if m.Role == platform.RoleAccountAdmin {
			admin = m
		}
	}
	bot := a.Bots[0]
	scope := platform.ScopeRef{Kind: datamap.ScopeEndUserFilter, AccountID: a.ID, BotID: bot.ID,
		From: lateNovember2025.AddDate(-2, 0, 0), To: lateNovember2025}
	req, created, err := w.sys.Requests.RequestDeletion(w.ctx, requests.Deletion{ID: "preview-1", Kind: request.KindEndUserFilter,
		Scope: scope, Source: "dashboard", Actor: "account_admin:" + admin.Sub, RequestedBy: admin.Sub, Locale: a.Locale})
	if err != nil || !created {
		t.Fatalf("request: %v %v", created, err)
	}
	// The same preview token twice: one request, one execution.
	if again, created, err := w.sys.Requests.RequestDeletion(w.ctx, requests.Deletion{ID: "preview-1", Kind: request.KindEndUserFilter,
		Scope: scope, Source: "dashboard", RequestedBy: admin.Sub}); err != nil || created || again.ExecutionARN != req.ExecutionARN {
		t.Fatalf("second request: created=%v arn %s vs %s, %v", created, again.ExecutionARN, req.ExecutionARN, err)
	}
	w.settle()
	r := w.request(req.ID)
	if r.Status != request.StatusCompleted {
		t.Fatalf("status %s: %+v", r.Status, r.History)
	}
	if left := w.remaining(scope); len(left) > 0 {
		t.Fatalf("left: %v", left)
	}
	if r.Progress[datamap.EndUserProfile] == 0 {
		t.Fatalf("progress %v", r.Progress)
	}
	mails := w.mailTo("member-" + strings.ToLower(admin.Sub))
	if len(mails) != 1 {
		t.Fatalf("%d mails to the admin, want 1", len(mails))
	}
	if !strings.Contains(mails[0].Text, strconv.FormatInt(r.Progress[datamap.EndUserProfile], 10)) {
		t.Errorf("the mail does not give the count of end users (%d):\n%s", r.Progress[datamap.EndUserProfile], mails[0].Text)
	}
	if e := w.execution(r.ExecutionARN); e.Status != "SUCCEEDED" {
		t.Fatalf("execution %s %s", e.Status, e.Cause)
	}
	// Started again after it finished (a redelivered intake): ExecutionAlreadyExists means "already
	// started"; the same execution, nothing new runs, nothing more is mailed.
	n := len(w.eng.Executions())
	arn, err := w.sys.Starter.Start(w.ctx, r)
	if err != nil || arn != r.ExecutionARN || len(w.eng.Executions()) != n {
		t.Fatalf("restart: %s (was %s), %d executions (was %d), %v", arn, r.ExecutionARN, len(w.eng.Executions()), n, err)
	}
	w.settle()
	if got := len(w.mailTo("member-" + strings.ToLower(admin.Sub))); got != 1 {
		t.Fatalf("%d mails after a second start", got)
	}
}

func TestConnectionWipeHasItsDeadlineAndTellsTheOwner(t *testing.T) {
	w := newWorld(t, lateNovember2025, nil)
	a := w.seedDemo(smallDemo())
	conn := a.Bots[0].Connections[0]
	scope := platform.ScopeRef{Kind: datamap.ScopeConnection, AccountID: a.ID, BotID: a.Bots[0].ID, ConnectionID: conn.ID, Channel: conn.Channel}
	req, _, err := w.sys.Requests.RequestDeletion(w.ctx, requests.Deletion{Kind: request.KindConnectionWipe, Scope: scope, Source: "webhook:" + conn.Channel})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	r := w.request(req.ID)
	if r.Status != request.StatusCompleted {
		t.Fatalf("status %s", r.Status)
	}
	// 30 calendar days from 29 November 2025, to the end of the day in Moscow.
	want := time.Date(2025, 12, 29, 23, 59, 59, 999999999, time.FixedZone("MSK", 3*3600))
	if !r.Deadlines[request.DeadlineCompleteBy].Equal(want) {
		t.Errorf("complete_by %v, want %v", r.Deadlines[request.DeadlineCompleteBy], want)
	}
	if left := w.remaining(scope); len(left) > 0 {
		t.Fatalf("left: %v", left)
	}
	if _, err := w.sys.Store.Connection(w.ctx, conn.ID); err == nil {
		t.Error("the connection record is still there")
	}
	if mails := w.mailTo("owner"); len(mails) != 1 || !strings.Contains(mails[0].Text, req.ID) {
		t.Fatalf("owner mails: %d", len(mails))
	}
}

// A wipe asked for without the channel gets it from the connection (the "done" mail names it, and
// by then the connection is gone); a connection of another account is refused and nothing is made.
func TestConnectionWipeTakesItsChannelFromTheConnection(t *testing.T) {
	w := newWorld(t, lateNovember2025, nil)
	a := w.seedDemo(smallDemo())
	conn := a.Bots[0].Connections[0]
	other := w.manifest.Accounts[1]
	if _, _, err := w.sys.Requests.RequestDeletion(w.ctx, requests.Deletion{ID: "wipe-other", Kind: request.KindConnectionWipe, Source: "email",
		Scope: platform.ScopeRef{Kind: datamap.ScopeConnection, AccountID: other.ID, ConnectionID: conn.ID}}); !errors.Is(err, requests.ErrInvalid) {
		t.Fatalf("another account's connection: %v, want ErrInvalid", err)
	}
	if _, err := w.sys.Ledger.Get(w.ctx, "wipe-other"); !errors.Is(err, ledger.ErrNotFound) {
		t.Fatal("a refused wipe was recorded")
	}
	in := requests.Deletion{ID: "wipe-1", Kind: request.KindConnectionWipe, Source: "email",
		Scope: platform.ScopeRef{Kind: datamap.ScopeConnection, AccountID: a.ID, BotID: a.Bots[0].ID, ConnectionID: conn.ID}}
	req, _, err := w.sys.Requests.RequestDeletion(w.ctx, in)
	if err != nil || req.Scope.Channel != conn.Channel {
		t.Fatalf("channel %q, want %q: %v", req.Scope.Channel, conn.Channel, err)
	}
	w.settle()
	if r := w.request(req.ID); r.Status != request.StatusCompleted {
		t.Fatalf("status %s", r.Status)
	}
	if mails := w.mailTo("owner"); len(mails) != 1 || !strings.Contains(mails[0].Subject+mails[0].Text, req.ID) {
		t.Fatalf("owner mails: %d", len(mails))
	}
	for _, e := range w.eng.Executions() {
		if e.Status != "SUCCEEDED" {
			t.Fatalf("execution %s %s", e.ARN, e.Status)
		}
	}
	// Asked again once the connection is gone: the same request, nothing new.
	again, created, err := w.sys.Requests.RequestDeletion(w.ctx, in)
	if err != nil || created || again.ID != req.ID {
		t.Fatalf("again: %s created=%v %v", again.ID, created, err)
	}
}
