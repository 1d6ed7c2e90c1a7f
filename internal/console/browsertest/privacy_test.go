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
	users, conversations, messages := count(preview.EndUsers, "bot user", "bot users"),
		count(preview.Conversations, "conversation", "conversations"), count(preview.Messages, "message", "messages")
	want := fmt.Sprintf("%s, %s, %s", users, conversations, messages)

	b.Fill("Bot", victim.BotID)
	b.Fill("Start date", day)
	b.Fill("End date", day)
	b.ClickButton("Show bot users")
	b.WaitText(want)
	b.WaitText(victim.Name)
	if rows := b.Count(`[data-testid="privacy-end-users"] tbody tr`); rows != preview.EndUsers {
		t.Errorf("%d rows listed, the preview counts %s", rows, users)
	}
	button := fmt.Sprintf("Delete %s and their conversations", users)
	if got := b.Text(`[data-testid="privacy-delete"]`); got != button {
		t.Errorf("the delete button says %q, want %q", got, button)
	}
	b.CheckLabels()
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
	if text := b.Text("#confirm-text"); !strings.Contains(text, fmt.Sprintf("%s, %s and %s", users, conversations, messages)) {
		t.Errorf("the confirmation says %q: it does not repeat the counts", text)
	}
	b.Shot("privacy-confirm")
	b.ClickTestID("confirm-ok")
	b.WaitVisible(`[data-testid="privacy-status"]`)
	b.Shot("privacy-progress")
	b.WaitTextFor("Done: every bot user of the preview is deleted", 3*time.Minute)
	b.Shot("privacy-done")
	// Listed again, the same filters match nobody.
	b.ClickTestID("privacy-again")
	b.WaitVisible(`[data-testid="privacy-none"]`)

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

// count writes n and the English noun in its number: "1 bot user", "2 bot users".
func count(n int, one, other string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, other)
}

// The Privacy screen counts one bot user in the singular, in both languages: the preview, the
// Delete button and the confirmation say "1 bot user" / "1 пользователь" (never "1 bot users"), and
// the shell's plural() picks the Russian one/few/many and the English one/other forms.
func TestPrivacyCountsOneBotUserInTheSingular(t *testing.T) {
	b := browsertest.New(t)
	demo := b.Demo()
	acct := demo.Accounts[1]
	admin := b.Member(1, platform.RoleAccountAdmin)
	// A bot user (not the one the deletion test deletes) alone on its bot on its first day.
	day := func(i int) string { return acct.EndUsers[i].FirstConversationAt.In(time.Local).Format("2006-01-02") }
	pick := -1
	for i := len(acct.EndUsers) - 1; i > 0 && pick < 0; i-- {
		alone := true
		for j := range acct.EndUsers {
			alone = alone && (j == i || acct.EndUsers[j].BotID != acct.EndUsers[i].BotID || day(j) != day(i))
		}
		if alone {
			pick = i
		}
	}
	if pick < 0 {
		t.Fatal("the demo has no bot user alone on its bot on its first day")
	}
	eu := acct.EndUsers[pick]
	from, _ := time.ParseInLocation("2006-01-02", day(pick), time.Local)
	filters := fmt.Sprintf(`{"botId":%q,"from":%q,"to":%q}`, eu.BotID, from.UTC().Format(time.RFC3339Nano),
		from.Add(24*time.Hour-time.Millisecond).UTC().Format(time.RFC3339Nano))
	status, body := b.API("POST", "/v1/privacy/deletions/preview", admin.Token, filters)
	var preview struct{ EndUsers, Conversations, Messages int }
	if status != 200 || json.Unmarshal(body, &preview) != nil || preview.EndUsers != 1 {
		t.Fatalf("API preview: %d %s, want one bot user", status, body)
	}

	for _, c := range []struct{ lang, bot, from, to, show, counts, button, confirm, title string }{
		{"en", "Bot", "Start date", "End date", "Show bot users", "1 bot user, ", "Delete 1 bot user and their conversations", "This deletes 1 bot user, ", "Delete this bot user for good?"},
		{"ru", "Бот", "Дата начала", "Дата окончания", "Показать пользователей", "1 пользователь, ", "Удалить 1 пользователя и его диалоги", "Будут удалены: 1 пользователь, ", "Удалить этого пользователя безвозвратно?"},
	} {
		b.SetLanguage(c.lang)
		b.SignIn(admin.Sub)
		b.Go("#/privacy")
		b.WaitVisible("#privacy-bot")
		b.Fill(c.bot, eu.BotID)
		b.Fill(c.from, day(pick))
		b.Fill(c.to, day(pick))
		b.ClickButton(c.show)
		b.WaitVisible(`[data-testid="privacy-counts"]`)
		if got := b.Text(`[data-testid="privacy-counts"]`); !strings.HasPrefix(got, c.counts) {
			t.Errorf("%s: the preview says %q, want it to start %q", c.lang, got, c.counts)
		}
		if got := b.Text(`[data-testid="privacy-delete"]`); got != c.button {
			t.Errorf("%s: the delete button says %q, want %q", c.lang, got, c.button)
		}
		b.ClickTestID("privacy-delete")
		b.WaitVisible(`[data-testid="confirm-dialog"]`)
		if text := b.Text("#confirm-text"); !strings.HasPrefix(text, c.confirm) {
			t.Errorf("%s: the confirmation says %q, want it to start %q", c.lang, text, c.confirm)
		}
		if b.HasText("1 bot users") || !b.HasText(c.title) {
			t.Errorf("%s: the confirmation's title is not %q or a count disagrees with its noun", c.lang, c.title)
		}
		b.Shot("privacy-confirm-one-" + c.lang)
		b.ClickTestID("confirm-cancel")
		b.WaitGone(`dialog[open]`)
	}

	// plural() itself, through the page: Russian one/few/many, English one/other.
	var forms []string
	b.Eval(`import("/console/requestlabels.js").then((m) => [1, 2, 3, 5, 11, 21, 22, 25, 111].map((n) =>
		m.count("ru", n, {one: "пользователь", few: "пользователя", many: "пользователей"})).concat(
		[0, 1, 2, 21].map((n) => m.count("en", n, {one: "bot user", other: "bot users"}))))`, &forms)
	want := []string{"1 пользователь", "2 пользователя", "3 пользователя", "5 пользователей", "11 пользователей", "21 пользователь",
		"22 пользователя", "25 пользователей", "111 пользователей", "0 bot users", "1 bot user", "2 bot users", "21 bot users"}
	if strings.Join(forms, "|") != strings.Join(want, "|") {
		t.Errorf("plural forms %q, want %q", forms, want)
	}
}
