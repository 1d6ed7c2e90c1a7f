package browsertest_test

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/console/browsertest"
	"github.com/lethe-dev/lethe/internal/platform"
)

// The Privacy screen as an account admin walks it: the last week and "All bots" by default; filter
// to one bot and the day of one bot user's first conversation; the list and the preview's counts
// (the same as the API's); Delete names what it destroys and asks once, repeating the counts
// (Cancel deletes nothing); then the progress runs to done and the "done" mail arrives.
func TestPrivacyDeletesTheFilteredBotUsers(t *testing.T) {
	b := browsertest.New(t)
	demo := b.Demo()
	acct := demo.Accounts[1]
	admin := b.Member(1, platform.RoleAccountAdmin)
	victim := acct.EndUsers[0]
	day := victim.FirstConversationAt.In(time.Local).Format("2006-01-02")

	b.SignIn(admin.Sub)
	b.Go("#/privacy")
	b.WaitVisible("#privacy-bot")
	var defaults struct{ Bot, BotText, From, To string }
	b.Eval(`({bot: document.querySelector("#privacy-bot").value, botText: document.querySelector("#privacy-bot").selectedOptions[0].textContent,
		from: document.querySelector("#privacy-from").value, to: document.querySelector("#privacy-to").value})`, &defaults)
	today := time.Now()
	if defaults.Bot != "" || defaults.BotText != "All bots" || defaults.To != today.Format("2006-01-02") ||
		defaults.From != today.AddDate(0, 0, -7).Format("2006-01-02") {
		t.Errorf("defaults %+v, want All bots and the last week", defaults)
	}
	b.Shot("privacy-default")

	// The same filters through the API count what the screen must show.
	from, _ := time.ParseInLocation("2006-01-02", day, time.Local)
	filters := fmt.Sprintf(`{"botId":%q,"from":%q,"to":%q}`, victim.BotID, from.UTC().Format(time.RFC3339Nano),
		from.Add(24*time.Hour-time.Millisecond).UTC().Format(time.RFC3339Nano))
	status, body := b.API("POST", "/v1/privacy/deletions/preview", admin.Token, filters)
	var preview struct{ EndUsers, Conversations, Messages int }
	if status != 200 || json.Unmarshal(body, &preview) != nil || preview.EndUsers == 0 {
		t.Fatalf("API preview: %d %s", status, body)
	}
	want := fmt.Sprintf("%d bot users, %d conversations, %d messages", preview.EndUsers, preview.Conversations, preview.Messages)

	b.Fill("Bot", victim.BotID)
	b.Fill("Start date", day)
	b.Fill("End date", day)
	b.ClickButton("Show bot users")
	b.WaitText(want)
	b.WaitText(victim.Name)
	if rows := b.Count(`[data-testid="privacy-end-users"] tbody tr`); rows != preview.EndUsers {
		t.Errorf("%d rows listed, the preview counts %d bot users", rows, preview.EndUsers)
	}
	button := fmt.Sprintf("Delete %d bot users and their conversations", preview.EndUsers)
	if got := b.Text(`[data-testid="privacy-delete"]`); got != button {
		t.Errorf("the delete button says %q, want %q", got, button)
	}
	b.Shot("privacy-preview")

	// Cancel in the confirmation deletes nothing.
	b.ClickTestID("privacy-delete")
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	b.ClickTestID("confirm-cancel")
	b.WaitGone(`dialog[open]`)
	if b.Count(`[data-testid="privacy-status"]`) != 0 {
		t.Fatal("cancelling the confirmation started a deletion")
	}

	b.ClickTestID("privacy-delete")
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	if text := b.Text("#confirm-text"); !strings.Contains(text, fmt.Sprintf("%d bot users, %d conversations and %d messages", preview.EndUsers, preview.Conversations, preview.Messages)) {
		t.Errorf("the confirmation says %q: it does not repeat the counts", text)
	}
	b.Shot("privacy-confirm")
	b.ClickTestID("confirm-ok")
	b.WaitVisible(`[data-testid="privacy-status"]`)
	b.Shot("privacy-progress")
	b.WaitTextFor("Done: every bot user of the preview is deleted", 3*time.Minute)
	b.Shot("privacy-done")

	mail := b.WaitMail(admin.Email, "Bot users' data deletion complete", 2*time.Minute)
	if !strings.Contains(mail.Text, fmt.Sprint(preview.EndUsers)) {
		t.Errorf("the done mail does not give the count %d:\n%s", preview.EndUsers, mail.Text)
	}
	q := url.Values{"botId": {victim.BotID}, "from": {from.UTC().Format(time.RFC3339)}, "to": {from.Add(24 * time.Hour).UTC().Format(time.RFC3339)}}
	status, body = b.API("GET", "/v1/privacy/end-users?"+q.Encode(), admin.Token, "")
	if status != 200 || strings.Contains(string(body), victim.ID) {
		t.Errorf("after the deletion the bot user is still listed: %d %s", status, body)
	}
}
