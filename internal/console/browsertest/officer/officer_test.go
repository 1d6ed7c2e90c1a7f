// Package officer_test walks the privacy officer's screens in a real browser. It has its own test
// binary, so its own local system: the escalation test moves the virtual clock two weeks on, which
// the account screens' tests (dates "last week") must not see.
package officer_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/console/browsertest"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/local/localrun"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/workflow"
)

func TestMain(m *testing.M) { os.Exit(browsertest.Main(m)) }

// waitFor polls the request until ok accepts it.
func waitFor(t *testing.T, sys *localrun.System, id, what string, ok func(request.Request) bool) request.Request {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		r, err := sys.Workflows.System.Ledger.Get(context.Background(), id)
		if err == nil && ok(r) {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s never %s: %s %v", id, what, r.Status, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func officer(t *testing.T, b *browsertest.Browser) (sub, name string) {
	t.Helper()
	d := b.Demo()
	if len(d.Officers) == 0 {
		t.Fatal("the demo lists no privacy officer")
	}
	return d.Officers[0].Sub, d.Officers[0].Name
}

// flaky is the deletion service with a fault injected: while on, every slice after the first two
// fails before it touches anything.
type flaky struct {
	workflow.Deleter
	slices atomic.Int64
	on     atomic.Bool
}

func (f *flaky) Step(ctx context.Context, id string, cp erasure.Checkpoint, b erasure.Budget) (erasure.Checkpoint, error) {
	if f.slices.Add(1) > 2 && f.on.Load() {
		return cp, errors.New("injected fault: the data store is unreachable")
	}
	return f.Deleter.Step(ctx, id, cp, b)
}

// The officer retries a request that failed mid-erasure: the register shows it failed with its
// cause, the request's screen offers Retry, one confirmation, and the deletion finishes with one
// act; the history names the officer.
func TestOfficerRetriesAFailedRequest(t *testing.T) {
	b := browsertest.New(t)
	b.SetLanguage("en")
	sys := b.Sys
	tasks := sys.Workflows.System.Tasks
	f := &flaky{Deleter: tasks.Deleter}
	f.on.Store(true)
	// Set before any request of this binary exists: no execution reads them meanwhile.
	tasks.SliceItems, tasks.Deleter = 2, f
	demo := b.Demo()
	acct := demo.Accounts[1]
	req, _, err := sys.Workflows.System.Requests.RequestDeletion(context.Background(), requests.Deletion{Kind: request.KindBotDeletion,
		Source: "dashboard", Actor: "owner:browsertest", Scope: platform.ScopeRef{Kind: datamap.ScopeBot, AccountID: acct.ID, BotID: acct.Bots[0].ID}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, sys, req.ID, "failed", func(r request.Request) bool { return r.Status == request.StatusFailed })
	f.on.Store(false)

	sub, name := officer(t, b)
	b.SignIn(sub)
	b.Go("#/ops/register?status=failed")
	b.WaitVisible(`[data-testid="register-row-` + req.ID + `"]`)
	b.Shot("ops-register-failed")
	b.Go("#/ops/requests/" + req.ID)
	b.WaitVisible(`[data-testid="retry"]`)
	if text := b.Text(`[data-testid="failure"]`); !strings.Contains(text, "failed") {
		t.Errorf("the failure says %q", text)
	}
	b.Shot("ops-request-failed")
	b.ClickTestID("retry")
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	b.ClickTestID("confirm-ok")
	b.WaitVisible(`[data-testid="retried"]`)
	r := waitFor(t, sys, req.ID, "completed", func(r request.Request) bool { return r.Status == request.StatusCompleted })
	if len(r.Evidence) != 1 {
		t.Errorf("acts %v, want one", r.Evidence)
	}
	var named bool
	for _, e := range r.History {
		named = named || strings.HasPrefix(e.Actor, "operator:"+sub) && strings.Contains(e.Actor, name)
	}
	if !named {
		t.Errorf("the history does not name the officer: %+v", r.History)
	}
	b.Go("#/ops/requests/" + req.ID + "?done")
	b.WaitText("completed")
	b.Shot("ops-request-retried")

	// The register lists a completed request for the days it was closed in: by default the last
	// 90 days; not under dates before it, again under dates that hold its day.
	b.Go("#/ops/register?status=completed")
	b.WaitVisible(`[data-testid="register-row-` + req.ID + `"]`)
	day := r.ClosedAt.In(mailer.Moscow)
	b.Fill("Closed from", day.AddDate(0, 0, -10).Format(time.DateOnly))
	b.Fill("Closed to", day.AddDate(0, 0, -1).Format(time.DateOnly))
	b.ClickButton("Apply")
	b.WaitVisible(`[data-testid="register-none"]`)
	b.Fill("Closed to", day.Format(time.DateOnly))
	b.ClickButton("Apply")
	b.WaitVisible(`[data-testid="register-row-` + req.ID + `"]`)
	b.CheckLabels()
	b.Shot("ops-register-closed")
}

// The officer decides an end-customer request the bot owner left unanswered: after the virtual clock
// passes 10 business days the escalation mail links to the request's screen, the register counts and
// flags it, and the officer approves it with one confirmation; the deletion runs and the requester is
// told. The monthly report then shows the month's requests.
func TestOfficerDecidesAnEscalatedEndCustomerRequest(t *testing.T) {
	b := browsertest.New(t)
	b.SetLanguage("en")
	sys := b.Sys
	demo := b.Demo()
	acct := demo.Accounts[0]
	eu := acct.EndUsers[0]
	requester := "customer-17@example.com"
	req, _, err := sys.Workflows.System.Requests.SubmitEndCustomer(context.Background(), requests.EndCustomer{AccountID: acct.ID,
		BotID: eu.BotID, EndUserID: eu.ID, Requester: requester, Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	r := waitFor(t, sys, req.ID, "awaiting the owner", func(r request.Request) bool {
		return r.Status == request.StatusAwaitingVerification && r.TaskToken != ""
	})
	escalate := r.Deadlines[request.DeadlineEscalateAt]
	b.AdvanceClock(escalate.Sub(sys.Workflows.Engine.Clock().Now()) + time.Hour)
	waitFor(t, sys, req.ID, "escalated", func(r request.Request) bool { return r.Escalated() })
	mail := b.WaitMail(sys.Config.PrivacyOfficerAddress, "/console/#/ops/requests/"+req.ID, time.Minute)
	if strings.Contains(mail.Text, requester) {
		t.Errorf("the escalation mail names the requester's address")
	}

	sub, name := officer(t, b)
	b.SignIn(sub)
	b.Go("#/ops/register")
	b.WaitVisible(`[data-testid="register-row-` + req.ID + `"]`)
	if got := b.Text(`[data-testid="ops-summary-escalated"] .big`); got != "1" {
		t.Errorf("escalated count %q, want 1", got)
	}
	b.Shot("ops-register")
	// The link of the mail opens the request's screen.
	link := mail.Text[strings.Index(mail.Text, "/console/#/ops/requests/"):]
	link = strings.Fields(link)[0]
	b.Go(link[strings.Index(link, "#"):])
	b.WaitVisible(`[data-testid="decision-panel"]`)
	b.Shot("ops-request-escalated")
	b.ClickTestID("approve")
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	if text := b.Text("#confirm-text"); !strings.Contains(text, eu.ID) || !strings.Contains(text, "for good") {
		t.Errorf("the confirmation says %q", text)
	}
	b.ClickTestID("confirm-ok")
	b.WaitVisible(`[data-testid="decision"]`)
	if got := b.Text(`[data-testid="decision"]`); !strings.Contains(got, "Approved by privacy officer "+name) {
		t.Errorf("the decision says %q", got)
	}
	b.Shot("ops-request-decided")
	waitFor(t, sys, req.ID, "completed", func(r request.Request) bool { return r.Status == request.StatusCompleted })
	b.WaitMail(requester, req.ID, time.Minute)

	b.Go("#/ops/reports")
	b.WaitVisible(`[data-testid="monthly-chart"]`)
	b.Shot("ops-reports")
	b.Fill("Language", "ru") // the switch in the bar
	b.WaitText("Нарушения по срокам")
	b.Shot("ops-reports-ru")
}

// An escalated end-customer request whose identifier matched two end users: the officer picks the
// second in the decision panel, the confirmation names the pick, and only that end user's data goes.
func TestOfficerPicksAmongCandidates(t *testing.T) {
	b := browsertest.New(t)
	b.SetLanguage("en")
	sys := b.Sys
	ctx := context.Background()
	acct := sys.Manifest.Accounts[0]
	bot := acct.Bots[0]
	if len(bot.Connections) == 0 {
		t.Fatal("the demo bot has no connection")
	}
	now := sys.Workflows.Engine.Clock().Now()
	var ids []string
	for i := range 2 {
		at := now.Add(-time.Duration(30+i) * time.Hour)
		u := platform.EndUser{AccountID: acct.ID, BotID: bot.ID, ConnectionID: bot.Connections[0].ID, ID: platform.NewID(at), Channel: bot.Connections[0].Channel,
			DisplayName: "Twin", NormalizedName: "twin", FirstConversationAt: at, LastActiveAt: at.Add(time.Hour)}
		if err := sys.Store.Put(ctx, u); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	req, _, err := sys.Workflows.System.Requests.SubmitEndCustomer(ctx, requests.EndCustomer{AccountID: acct.ID, BotID: bot.ID,
		EndUserID: ids[0], Candidates: ids, Requester: "twin@example.com", Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	r := waitFor(t, sys, req.ID, "awaiting the owner", func(r request.Request) bool {
		return r.Status == request.StatusAwaitingVerification && r.TaskToken != ""
	})
	b.AdvanceClock(r.Deadlines[request.DeadlineEscalateAt].Sub(sys.Workflows.Engine.Clock().Now()) + time.Hour)
	waitFor(t, sys, req.ID, "escalated", func(r request.Request) bool { return r.Escalated() })

	sub, _ := officer(t, b)
	b.SignIn(sub)
	b.Go("#/ops/requests/" + req.ID)
	b.WaitVisible(`[data-testid="decision-panel"] [data-testid="candidate"]`)
	if n := b.Count(`[data-testid="candidate"] option`); n != 2 {
		t.Fatalf("%d candidates offered, want 2", n)
	}
	b.Eval(fmt.Sprintf(`(() => { const s = document.querySelector('[data-testid="candidate"]'); s.value = %q; s.dispatchEvent(new Event("change", {bubbles: true})); return true })()`, ids[1]), nil)
	b.ClickTestID("approve")
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	if text := b.Text("#confirm-text"); !strings.Contains(text, ids[1]) {
		t.Errorf("the confirmation says %q, want the pick %s", text, ids[1])
	}
	b.ClickTestID("confirm-ok")
	b.WaitVisible(`[data-testid="decision"]`)
	done := waitFor(t, sys, req.ID, "completed", func(r request.Request) bool { return r.Status == request.StatusCompleted })
	if done.Scope.EndUserID != ids[1] {
		t.Fatalf("the request deleted %s, want the pick %s", done.Scope.EndUserID, ids[1])
	}
	if _, err := sys.Store.EndUser(ctx, ids[1]); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("the picked end user is still there: %v", err)
	}
	if _, err := sys.Store.EndUser(ctx, ids[0]); err != nil {
		t.Errorf("the other candidate was touched: %v", err)
	}
}
