package officer_test

import (
	"context"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/console/browsertest"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// codes lists the snake_case words (raw statuses, kinds, deadline names, categories) in the visible
// text of the screen, its drop-downs' options included.
const codes = `(() => { const m = document.querySelector("#main");
	const text = m.innerText + "\n" + [...m.querySelectorAll("option")].map((o) => o.textContent).join("\n");
	return text.match(/[a-z]+_[a-z]+/g) || []; })()`

// What the officer reads on the register, a request's screen and the reports is words in both
// languages: no status, kind, source, deadline name, category or actor shows as its code, and the
// scope reads as a sentence ("Bot user … of bot …").
func TestOfficerScreensShowWordsNotCodes(t *testing.T) {
	b := browsertest.New(t)
	sys := b.Sys
	demo := b.Demo()
	acct := demo.Accounts[1]
	eu := acct.EndUsers[len(acct.EndUsers)-1]
	ecr, _, err := sys.Workflows.System.Requests.SubmitEndCustomer(context.Background(), requests.EndCustomer{AccountID: acct.ID,
		BotID: eu.BotID, EndUserID: eu.ID, Requester: "customer-words@example.com", Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, sys, ecr.ID, "awaiting the owner", func(r request.Request) bool { return r.Status == request.StatusAwaitingVerification })
	bot, _, err := sys.Workflows.System.Requests.RequestDeletion(context.Background(), requests.Deletion{Kind: request.KindBotDeletion,
		Source: "dashboard", Actor: "owner:browsertest", Scope: platform.ScopeRef{Kind: datamap.ScopeBot, AccountID: acct.ID, BotID: acct.Bots[len(acct.Bots)-1].ID}})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, sys, bot.ID, "completed", func(r request.Request) bool { return r.Status == request.StatusCompleted })
	sub, _ := officer(t, b)

	for _, c := range []struct{ lang, kind, scope, status string }{
		{"en", "End-customer request", "Bot user " + eu.ID + " of bot " + eu.BotID, "awaiting a decision"},
		{"ru", "Запрос конечного клиента", "Пользователь " + eu.ID + " бота " + eu.BotID, "ждёт решения"},
	} {
		b.SetLanguage(c.lang)
		b.SignIn(sub)
		scan := func(screen string) {
			t.Helper()
			var found []string
			b.Eval(codes, &found)
			if len(found) > 0 {
				t.Errorf("%s, %s: raw codes on the screen: %q", c.lang, screen, found)
			}
		}
		b.Go("#/ops/register")
		b.WaitVisible(`[data-testid="register-row-` + ecr.ID + `"]`)
		scan("register")
		b.Shot("ops-register-words-" + c.lang)
		b.Go("#/ops/register?status=completed")
		b.WaitVisible(`[data-testid="register-row-` + bot.ID + `"]`)
		scan("register of completed requests")

		b.Go("#/ops/requests/" + ecr.ID)
		b.WaitVisible(`[data-testid="decision-panel"]`)
		scan("end-customer request")
		if got := b.Text(`[data-testid="fact-kind"]`); got != c.kind {
			t.Errorf("%s: the kind reads %q, want %q", c.lang, got, c.kind)
		}
		if got := b.Text(`[data-testid="fact-status"]`); got != c.status {
			t.Errorf("%s: the status reads %q, want %q", c.lang, got, c.status)
		}
		if got := b.Text(`[data-testid="fact-scope"]`); got != c.scope {
			t.Errorf("%s: the scope reads %q, want %q", c.lang, got, c.scope)
		}
		b.Shot("ops-request-words-" + c.lang)

		b.Go("#/ops/requests/" + bot.ID)
		b.WaitVisible(`[data-testid="history"]`)
		scan("completed bot deletion")
		if got := b.Text(`[data-testid="fact-scope"]`); !strings.HasSuffix(got, acct.Bots[len(acct.Bots)-1].ID) {
			t.Errorf("%s: the bot deletion's scope reads %q", c.lang, got)
		}

		b.Go("#/ops/reports")
		b.WaitVisible(`[data-testid="monthly-table"]`)
		scan("reports")
	}

	// A connection the health sweep wiped reads as that sweep's, by its channel; the deadline
	// sweep's own actions as the deadline sweep's.
	var words struct{ Source, Actor, SLA, SourceRU string }
	b.Eval(`import("/console/requestlabels.js").then((m) => ({source: m.sourceText("en", "sweep:vk"),
		actor: m.actorText("en", "sweep:vk"), sla: m.actorText("en", "sweep:sla"), sourceRU: m.sourceText("ru", "sweep:vk")}))`, &words)
	if words.Source != "connection check (VK)" || words.Actor != "Lethe (connection check: VK refused the credential twice)" ||
		words.SLA != "Lethe (deadline sweep)" || words.SourceRU != "проверка подключения (ВКонтакте)" {
		t.Errorf("the sweeps read %+v", words)
	}
}
