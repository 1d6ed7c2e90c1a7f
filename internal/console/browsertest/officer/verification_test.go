package officer_test

import (
	"context"
	"encoding/json"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/console/browsertest"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// sentCode reads the last one-time code the bot sent through a connection, where a person running
// `make run` reads it: the local stand-in of the channel's API, reached by the real channel client.
func sentCode(t *testing.T, b *browsertest.Browser, connectionID, to string) string {
	t.Helper()
	resp, err := http.Get(b.Sys.APIURL + "/_local/channels/" + connectionID + "/messages")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var chat struct {
		Messages []struct {
			To   string `json:"to"`
			Text string `json:"text"`
		} `json:"messages"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&chat); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("the chat of connection %s: HTTP %d, %v", connectionID, resp.StatusCode, err)
	}
	if len(chat.Messages) == 0 {
		t.Fatal("no code was sent into the chat")
	}
	last := chat.Messages[len(chat.Messages)-1]
	if last.To != to {
		t.Errorf("the code went to %q, not the end user's chat %q", last.To, to)
	}
	code := sixDigits.FindString(last.Text)
	if code == "" {
		t.Fatalf("no code in the message %q", last.Text)
	}
	return code
}

var sixDigits = regexp.MustCompile(`\b\d{6}\b`)

var statusPath = regexp.MustCompile(`/deletion-status/[a-z0-9]+`)

// The owner asks for proof from the queue, the requester opens the status page from their mail
// and enters the code the bot sent into the chat, and both the owner's queue (in English and
// Russian) and the officer's request page then mark the request verified.
func TestOwnerAsksForProofAndTheRequesterEntersTheCode(t *testing.T) {
	b := browsertest.New(t)
	b.SetLanguage("en")
	sys := b.Sys

	// An end user of account 0 no other test of this binary deletes: not the first (an officer's
	// approval deletes it), nor on the first bot (candidates are added and deleted there).
	demo := b.Demo()
	acct := demo.Accounts[0]
	eu := acct.EndUsers[1]
	for _, u := range acct.EndUsers[1:] {
		if u.BotID != acct.Bots[0].ID {
			eu = u
			break
		}
	}
	requester := "proof-17@example.com"
	req, _, err := sys.Workflows.System.Requests.SubmitEndCustomer(context.Background(), requests.EndCustomer{AccountID: acct.ID,
		BotID: eu.BotID, EndUserID: eu.ID, Requester: requester, Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, sys, req.ID, "awaiting the owner", func(r request.Request) bool { return r.Status == request.StatusAwaitingVerification })
	mail := b.WaitMail(requester, "/deletion-status/", time.Minute)
	page := statusPath.FindString(mail.Text)
	if page == "" {
		t.Fatalf("the received mail links to no status page:\n%s", mail.Text)
	}

	owner := b.Member(0, platform.RoleOwner)
	b.SignIn(owner.Sub)
	b.SetLanguage("en")
	b.Go("#/end-customer-requests?id=" + req.ID)
	box := `[data-testid="verification-` + req.ID + `"]`
	b.WaitVisible(box + `[data-status="none"]`)
	b.ClickTestID("ask-proof-" + req.ID)
	b.WaitVisible(box + `[data-status="pending"]`)
	if got := b.Text(box + ` [data-testid="verification-text"]`); !strings.Contains(got, "A code went to the") {
		t.Errorf("after the ask the card says %q", got)
	}
	b.Shot("end-customer-proof-asked")
	code := sentCode(t, b, eu.ConnectionID, eu.Identities[eu.Channel])

	// The requester, on the page their mail links to.
	// The navigation and the submit run after Eval returns, so the page they leave answers it.
	b.Eval(`setTimeout(() => { location.href = `+jsString(page)+` }, 0)`, nil)
	b.WaitVisible(`[data-verification="pending"] form`)
	if text := b.Text("body"); strings.Contains(text, eu.Name) || strings.Contains(text, eu.ID) {
		t.Errorf("the status page names the end user:\n%s", text)
	}
	b.Shot("status-page-code-form")
	b.Eval(`document.querySelector("input[name=code]").value = `+jsString(code)+`; setTimeout(() => document.querySelector("[data-verification] form").submit(), 0)`, nil)
	b.WaitVisible(`[data-verification="verified"]`)
	b.Shot("status-page-verified")

	b.Open("#/end-customer-requests?id=" + req.ID)
	b.WaitVisible(box + `[data-status="verified"] [data-testid="verified-mark"]`)
	if got := b.Text(box + ` [data-testid="verified-mark"]`); !strings.Contains(got, "Verified") {
		t.Errorf("the mark says %q", got)
	}
	if b.Count(`[data-testid="ask-proof-`+req.ID+`"]`) != 0 {
		t.Errorf("a verified request still offers Ask for proof")
	}
	b.Shot("end-customer-verified")
	b.Fill("Language", "ru")
	b.WaitText("Подтверждён")

	sub, _ := officer(t, b)
	b.SignIn(sub)
	b.SetLanguage("en")
	b.Go("#/ops/requests/" + req.ID)
	b.WaitVisible(box + `[data-status="verified"] [data-testid="verified-mark"]`)
	// The owner's switch to Russian is remembered in this browser.
	b.Fill("Язык", "en")
	b.WaitVisible(`html[lang="en"]`)
	b.WaitText("The requester entered the one-time code sent to the end user's")
	b.Shot("ops-request-verified")
}

func jsString(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}
