package browsertest_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/console/browsertest"
	"github.com/lethe-dev/lethe/internal/platform"
)

// waitStatus polls a deletion request as the account's owner sees it until it reaches status.
func waitStatus(t *testing.T, b *browsertest.Browser, token, id, status string, d time.Duration) map[string]any {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		code, body := b.API("GET", "/v1/deletion-requests/"+id, token, "")
		var r map[string]any
		if code == 200 && json.Unmarshal(body, &r) == nil && r["status"] == status {
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("request %s is not %s after %s: %d %s", id, status, d, code, body)
		}
		time.Sleep(250 * time.Millisecond)
	}
}

// A privacy officer places a legal hold on a bot user from the console (the confirmation says what
// it keeps); the owner's deletion of that bot user stops, held, with nothing destroyed; the officer
// releases the hold with a note (the confirmation says the deletions will finish) and the deletion
// completes. The act it drew up is then found on the acts screen and downloaded as HTML and PDF.
func TestOfficerHoldsADeletionReleasesItAndDownloadsTheAct(t *testing.T) {
	b := browsertest.New(t)
	demo := b.Demo()
	acct := demo.Accounts[0]
	if len(acct.EndUsers) < 2 || len(demo.Officers) == 0 {
		t.Fatal("the demo lacks a second bot user or an officer")
	}
	eu := acct.EndUsers[1]
	officer := demo.Officers[0]
	owner := b.Member(0, platform.RoleOwner)

	b.SignIn(officer.Sub)
	b.Go("#/ops/holds?account=" + acct.ID)
	b.WaitVisible("#hold-kind")
	b.Fill("What to hold", "end_user")
	b.Fill("Bot or bot user id", eu.ID)
	b.Fill("Reason", "Criminal case")
	b.Fill("Authority", "Investigative Committee")
	b.Fill("Authority's reference", "No. 12/2026")
	b.ClickTestID("hold-place")
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	if text := b.Text("#confirm-text"); !strings.Contains(text, "bot user "+eu.ID) || !strings.Contains(text, "No. 12/2026") {
		t.Errorf("the place confirmation says %q", text)
	}
	b.Shot("ops-holds-place-confirm")
	b.ClickTestID("confirm-ok")
	b.WaitText("placed.")
	code, body := b.API("GET", "/v1/ops/holds?active=true&account="+acct.ID, officer.Token, "")
	var holds struct {
		Items []struct{ ID, PlacedBy string }
	}
	if code != 200 || json.Unmarshal(body, &holds) != nil || len(holds.Items) != 1 || !strings.Contains(holds.Items[0].PlacedBy, officer.Sub) {
		t.Fatalf("holds after placing: %d %s", code, body)
	}
	hold := holds.Items[0].ID
	b.WaitVisible(`[data-testid="hold-release-` + hold + `"]`)
	b.Shot("ops-holds-placed")

	// Without an account the screen lists every hold in force, this one with its account.
	b.Go("#/ops/holds")
	b.WaitVisible(`tr[data-hold="` + hold + `"]`)
	if row := b.Text(`tr[data-hold="` + hold + `"]`); !strings.Contains(row, acct.ID) || !strings.Contains(row, "No. 12/2026") {
		t.Errorf("the hold's row in every account's list says %q", row)
	}
	if text := b.Text("#holds-list-h"); !strings.Contains(text, "In force in every account") {
		t.Errorf("every account's list is titled %q", text)
	}
	b.Shot("ops-holds-all")
	b.Go("#/ops/holds?account=" + acct.ID)
	b.WaitVisible(`[data-testid="hold-release-` + hold + `"]`)

	// The owner deletes the bot user: the hold stops the deletion.
	code, body = b.API("DELETE", "/v1/bots/"+eu.BotID+"/end-users/"+eu.ID, owner.Token, "")
	var req struct{ ID string }
	if code != 202 || json.Unmarshal(body, &req) != nil {
		t.Fatalf("delete the bot user: %d %s", code, body)
	}
	waitStatus(t, b, owner.Token, req.ID, "held", time.Minute)
	if code, _ := b.API("GET", "/v1/bots/"+eu.BotID+"/end-users/"+eu.ID+"/messages", owner.Token, ""); code != 200 {
		t.Errorf("the held bot user's messages: %d, want them kept", code)
	}

	// The officer releases it, saying why; the deletion finishes.
	b.Fill("Why it is released", "Case closed")
	b.ClickTestID("hold-release-" + hold)
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	if text := b.Text("#confirm-text"); !strings.Contains(text, "will finish") || !strings.Contains(text, hold) {
		t.Errorf("the release confirmation says %q", text)
	}
	b.Shot("ops-holds-release-confirm")
	b.ClickTestID("confirm-ok")
	b.WaitText("released; the deletions it stopped are finishing")
	b.WaitText("Case closed")
	done := waitStatus(t, b, owner.Token, req.ID, "completed", 2*time.Minute)
	b.Shot("ops-holds-released")
	acts, _ := done["evidence"].([]any)
	if len(acts) != 1 {
		t.Fatalf("acts of the completed deletion: %v", done["evidence"])
	}
	act := acts[0].(string)

	b.Go("#/ops/acts?request=" + req.ID)
	b.WaitVisible(`[data-testid="act-pdf-` + act + `"]`)
	b.Shot("ops-acts")
	b.ClickTestID("act-view-" + act)
	b.WaitVisible(`[data-testid="act-view"] [data-testid="act-frame"]`)
	actStyled(t, b, `[data-testid="act-view"] [data-testid="act-frame"]`)
	b.Shot("ops-acts-read")
	b.ClickTestID("act-html-" + act)
	b.WaitText("Downloaded act-" + act + ".html: text/html")
	b.ClickTestID("act-pdf-" + act)
	b.WaitText("Downloaded act-" + act + ".pdf: application/pdf")
	b.Shot("ops-acts-downloaded")
	if code, body := b.API("GET", "/v1/ops/acts/"+act+"?format=pdf", officer.Token, ""); code != 200 || !bytes.HasPrefix(body, []byte("%PDF-")) {
		t.Errorf("the act's PDF: %d %q", code, body[:min(len(body), 16)])
	}
}

// actStyled checks that the act shown in the frame sel has its stylesheet applied (the console's
// CSP, which the frame inherits, refuses inline styles; the harness fails on any refusal).
func actStyled(t *testing.T, b *browsertest.Browser, sel string) {
	t.Helper()
	var got struct {
		Font, Collapse, Align string
		Inline                int
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		b.Eval(fmt.Sprintf(`(() => { const d = document.querySelector(%q).contentDocument;
			if (!d || !d.querySelector("table") || !d.querySelector("h1")) return {};
			const w = d.defaultView;
			return { font: w.getComputedStyle(d.body).fontFamily, collapse: w.getComputedStyle(d.querySelector("table")).borderCollapse,
				align: w.getComputedStyle(d.querySelector("h1")).textAlign, inline: d.querySelectorAll("style").length } })()`, sel), &got)
		if strings.Contains(got.Font, "Times New Roman") && got.Collapse == "collapse" && got.Align == "center" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the act in the frame is not styled: %+v", got)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if got.Inline != 0 {
		t.Errorf("the framed act carries %d inline style blocks, which the console's CSP refuses", got.Inline)
	}
}
