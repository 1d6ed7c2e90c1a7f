package officer_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/chanapi"
	"github.com/lethe-dev/lethe/internal/console/browsertest"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// codeBook is the channels' client as the one-time codes see it: it records what it is asked to send
// (the real clients are contract-tested in internal/chanapi).
type codeBook struct {
	mu   sync.Mutex
	sent []string
	to   []string
}

func (c *codeBook) Check(context.Context, platform.ChannelConnection) (chanapi.Result, error) {
	return chanapi.Result{}, chanapi.ErrUnsupported
}

func (c *codeBook) SendCode(_ context.Context, _ platform.ChannelConnection, to, code, _ string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sent, c.to = append(c.sent, code), append(c.to, to)
	return nil
}

func (c *codeBook) last(t *testing.T) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.sent) == 0 {
		t.Fatal("no code was sent")
	}
	return c.sent[len(c.sent)-1]
}

var statusPath = regexp.MustCompile(`/deletion-status/[a-z0-9]+`)

// The owner asks for proof from the queue, the requester opens the status page from their mail
// and enters the code the bot sent into the chat, and both the owner's queue (in English and
// Russian) and the officer's request page then mark the request verified.
func TestOwnerAsksForProofAndTheRequesterEntersTheCode(t *testing.T) {
	b := browsertest.New(t)
	b.SetLanguage("en")
	sys := b.Sys
	rec := &codeBook{}
	v := sys.Workflows.System.Verification
	prev := v.Channels
	v.Channels = rec
	t.Cleanup(func() { v.Channels = prev })

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
	code := rec.last(t)

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
