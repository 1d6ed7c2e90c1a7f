package browsertest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/smtp"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/console/browsertest"
	"github.com/lethe-dev/lethe/internal/platform"
)

// The account screens of these walks use the demo's first account; its owner's password is the
// demo's.
const acct = 0

// english switches the console to English (the demo's first account speaks Russian).
func english(b *browsertest.Browser) {
	var lang string
	b.Eval(`document.documentElement.lang`, &lang)
	if lang != "en" {
		b.Fill("Язык", "en")
		b.WaitVisible(`html[lang="en"]`)
	}
}

// demoPassword is the password /_local/demo gives the accounts' owners.
func demoPassword(t *testing.T, b *browsertest.Browser) string {
	t.Helper()
	status, body := b.API("GET", "/_local/demo", "", "")
	var d struct{ Accounts []struct{ Password string } }
	if status != 200 || json.Unmarshal(body, &d) != nil || d.Accounts[acct].Password == "" {
		t.Fatalf("/_local/demo: %d", status)
	}
	return d.Accounts[acct].Password
}

// apiJSON calls the API outside the browser and decodes its answer into out.
func apiJSON(t *testing.T, b *browsertest.Browser, method, path, token, body string, out any) int {
	t.Helper()
	status, raw := b.API(method, path, token, body)
	if out != nil && status < 300 {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, status, raw, err)
		}
	}
	return status
}

// spare lists the account's end users that the other walks leave alone: none that a listed inbox
// message names (the Inbox walk takes one of those), nor the last of the first bot (the
// Conversations walk's). The first bot's come first (only its channels know usernames).
func spare(t *testing.T, b *browsertest.Browser) []string {
	t.Helper()
	a := b.Demo().Accounts[acct]
	inbox := map[string]bool{}
	for _, m := range a.Inbox {
		inbox[m.EndUserID] = true
	}
	var first, other []string
	for _, eu := range a.EndUsers {
		switch {
		case inbox[eu.ID]:
		case eu.BotID == a.Bots[0].ID:
			first = append(first, eu.ID)
		default:
			other = append(other, eu.ID)
		}
	}
	if len(first) > 0 {
		first = first[:len(first)-1]
	}
	if len(other) < 1 || len(first) < 2 {
		t.Fatalf("the demo account lists %d+%d end users no other walk uses; these walks need 1+2", len(other), len(first))
	}
	return append(first, other...)
}

// The owner deletes the account from Profile → Delete account: a wrong password is refused and
// records nothing; the right one, confirmed once in a dialog that names the account, shows the
// timeline with its three clocks and the confirmation mail arrives; Cancel restores the account, the
// page says so, the request is cancelled and the cancellation mail arrives.
func TestOwnerRequestsAndCancelsTheAccountDeletion(t *testing.T) {
	b := browsertest.New(t)
	demo := b.Demo()
	a := demo.Accounts[acct]
	owner := b.Member(acct, platform.RoleOwner)
	t.Cleanup(func() { b.API("POST", "/v1/account/deletion/cancel", owner.Token, "") }) // never leave the account deactivated

	b.SignIn(owner.Sub)
	if a.Locale == "ru" {
		// In the account's own language first.
		b.Go("#/profile/delete-account")
		if got, want := b.Text(`[data-testid="delete-account"]`), fmt.Sprintf("Удалить аккаунт «%s»", a.FullName); got != want {
			t.Errorf("the Russian button says %q, want %q", got, want)
		}
		b.Shot("account-deletion-form-ru")
	}
	english(b)
	b.Go("#/profile/delete-account")
	b.WaitVisible(`[data-testid="delete-account"]`)
	if got, want := b.Text(`[data-testid="delete-account"]`), fmt.Sprintf("Delete account “%s”", a.FullName); got != want {
		t.Errorf("the destructive button says %q, want %q", got, want)
	}
	b.Shot("account-deletion-form")

	// A wrong password: refused in the page, and nothing is recorded.
	b.Fill("Your current password", "not-the-password")
	b.ClickTestID("delete-account")
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	if text := b.Text("#confirm-text"); !strings.Contains(text, a.FullName) || !strings.Contains(text, "30 days") {
		t.Errorf("the confirmation says %q: it does not name the account and its window", text)
	}
	b.ClickTestID("confirm-ok")
	b.WaitText("The password is not right")
	if status := apiJSON(t, b, "GET", "/v1/account/deletion", owner.Token, "", nil); status != 404 {
		t.Fatalf("after a wrong password the account has a deletion: %d", status)
	}

	b.Fill("Your current password", demoPassword(t, b))
	b.ClickTestID("delete-account")
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	b.ClickTestID("confirm-ok")
	b.WaitVisible(`[data-testid="clocks"]`)
	var clocks []struct{ Name, Left string }
	b.Eval(`[...document.querySelectorAll("[data-testid=clocks] li")].map(li => ({name: li.dataset.clock, left: li.querySelector("[data-testid=days-left]").textContent}))`, &clocks)
	want := []string{"soft_delete_ends", "hard_delete_by", "backups_rotated_by"}
	if len(clocks) != len(want) {
		t.Fatalf("clocks %+v, want %v", clocks, want)
	}
	for i, c := range clocks {
		if c.Name != want[i] || !strings.HasPrefix(c.Left, "(in ") {
			t.Errorf("clock %d: %+v, want %s with the days left", i, c, want[i])
		}
	}
	if clocks[0].Left != "(in 30 days)" {
		t.Errorf("the window ends %s, want in 30 days", clocks[0].Left)
	}
	if got := b.Text(`[data-testid="deletion-status"]`); got != "deactivated (restorable)" {
		t.Errorf("status %q", got)
	}
	var req struct{ ID, Status string }
	if apiJSON(t, b, "GET", "/v1/account/deletion", owner.Token, "", &req); req.Status != "soft_deleted" {
		t.Fatalf("the account deletion is %q, want soft_deleted", req.Status)
	}
	subject := map[string][2]string{"ru": {"Заявка на удаление учётной записи принята", "Удаление учётной записи отменено"},
		"en": {"Account deletion request received", "Account deletion cancelled"}}[a.Locale]
	b.WaitMail(a.Email, subject[0], time.Minute)
	// The account is deactivated: the shell lists only this screen, under its banner.
	b.WaitVisible(`[data-testid="deactivated"]`)
	if got := navRoutes(b); strings.Join(got, " ") != "#/profile/delete-account" {
		t.Errorf("after the request the navigation lists %v, want only the account deletion", got)
	}
	b.Shot("account-deletion-timeline")

	b.ClickTestID("cancel-deletion")
	b.WaitText("The deletion was cancelled: the account is restored")
	if b.Count(`[data-testid="cancel-deletion"]`) != 0 || b.Count(`[data-testid="clocks"]`) != 0 {
		t.Error("after the cancel the page still offers a cancel or shows the clocks")
	}
	b.WaitGone(`[data-testid="deactivated"]:not([hidden])`)
	var after struct{ ID, Status string }
	if apiJSON(t, b, "GET", "/v1/account/deletion", owner.Token, "", &after); after.ID != req.ID || after.Status != "cancelled" {
		t.Fatalf("after the cancel: %+v, want %s cancelled", after, req.ID)
	}
	b.WaitMail(a.Email, subject[1], time.Minute)
	b.Shot("account-deletion-cancelled")
}

// The owner's Requests screen lists a finished deletion with its deadline, a full progress bar per
// category it counted, and its act, which opens in the page.
func TestRequestsShowProgressAndOpenTheAct(t *testing.T) {
	b := browsertest.New(t)
	demo := b.Demo()
	a := demo.Accounts[acct]
	owner := b.Member(acct, platform.RoleOwner)
	ids := spare(t, b)
	var eu struct{ ID, BotID string }
	for _, e := range a.EndUsers {
		if e.ID == ids[len(ids)-1] {
			eu.ID, eu.BotID = e.ID, e.BotID
		}
	}
	var req struct{ ID string }
	if status := apiJSON(t, b, "DELETE", "/v1/bots/"+eu.BotID+"/end-users/"+eu.ID, owner.Token, "", &req); status != 202 {
		t.Fatalf("delete an end user: %d", status)
	}
	var done struct {
		Status            string
		Progress, Planned map[string]int64
	}
	for deadline := time.Now().Add(2 * time.Minute); done.Status != "completed"; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the deletion is %q after 2 minutes", done.Status)
		}
		apiJSON(t, b, "GET", "/v1/deletion-requests/"+req.ID, owner.Token, "", &done)
	}
	if len(done.Planned) == 0 {
		t.Fatalf("the finished deletion has no planned totals: %+v", done)
	}

	b.SignIn(owner.Sub)
	english(b)
	b.Go("#/requests")
	card := `[data-testid="request"][data-id="` + req.ID + `"]`
	b.WaitVisible(card)
	if got := b.Text(card + ` [data-testid="request-status"]`); got != "completed" {
		t.Errorf("status %q", got)
	}
	if got := b.Text(card + ` [data-deadline="complete_by"]`); !strings.HasSuffix(got, "(met)") {
		t.Errorf("the deadline says %q, want met", got)
	}
	var bars []struct {
		Cat        string
		Value, Max float64
	}
	b.Eval(`[...document.querySelectorAll(`+fmt.Sprintf("%q", card+" [data-testid=progress] li")+`)].filter(li => li.querySelector("progress")).map(li => ({cat: li.dataset.category, value: li.querySelector("progress").value, max: li.querySelector("progress").max}))`, &bars)
	if len(bars) != len(done.Planned) {
		t.Errorf("%d bars, want one per planned category %v", len(bars), done.Planned)
	}
	for _, bar := range bars {
		if n := done.Planned[bar.Cat]; bar.Max != float64(n) || bar.Value != bar.Max {
			t.Errorf("bar %s: %v of %v, want %d of %d", bar.Cat, bar.Value, bar.Max, n, n)
		}
	}
	if text := b.Text(card + ` [data-category="message"]`); !strings.Contains(text, fmt.Sprintf("messages: %d of %d", done.Progress["message"], done.Planned["message"])) {
		t.Errorf("the messages' bar says %q", text)
	}
	b.Eval(fmt.Sprintf(`document.querySelector(%q).click()`, card+` [data-testid="open-act"]`), nil)
	b.WaitVisible(card + ` [data-testid="act-frame"]`)
	var act string
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(act, req.ID); time.Sleep(200 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the act in the page does not name request %s:\n%.400s", req.ID, act)
		}
		b.Eval(`(() => { const f = document.querySelector(`+fmt.Sprintf("%q", card+" [data-testid=act-frame]")+`); return f.contentDocument && f.contentDocument.body ? f.contentDocument.body.innerText : "" })()`, &act)
	}
	if !strings.Contains(act, "Акт об уничтожении персональных данных") && !strings.Contains(act, "Act of Destruction") {
		t.Errorf("the frame holds no act:\n%.400s", act)
	}
	actStyled(t, b, card+` [data-testid="act-frame"]`)
	b.Shot("requests-act")

	// At a phone's width the screen, the bars and the act stay inside the window.
	b.Phone()
	b.Go("#/requests")
	b.WaitVisible(card)
	var wide []string
	b.Eval(`[...document.querySelectorAll("main *")].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).map(e => e.tagName + "." + e.className).slice(0, 5)`, &wide)
	if len(wide) > 0 {
		t.Errorf("wider than a phone: %v", wide)
	}
	b.Shot("requests-phone")
}

// The bot owner's end-customer queue: two end customers mail info@ about their data on the owner's
// bot; the queue names each end user with their dates; a decline needs a reason (without one
// nothing changes), the declined requester is told it; the other is approved after one
// confirmation that names the end user and the bot, and its deletion runs to completion.
func TestOwnerDeclinesOneEndCustomerRequestAndApprovesAnother(t *testing.T) {
	b := browsertest.New(t)
	demo := b.Demo()
	a := demo.Accounts[acct]
	owner := b.Member(acct, platform.RoleOwner)
	botNames := map[string]string{}
	for _, bot := range a.Bots {
		botNames[bot.ID] = bot.Name
	}
	type customer struct {
		endUserID, name, bot, from string
		requestID                  string
	}
	// Two spare end users with a username (an end customer names theirs), but not the last one,
	// which the Requests walk deletes.
	var cs []customer
	ids := spare(t, b)
	for i, id := range ids[:len(ids)-1] {
		if len(cs) == 2 {
			break
		}
		u, err := b.Sys.Store.EndUser(context.Background(), id)
		if err != nil {
			continue // deleted by an earlier walk
		}
		if u.Username == "" {
			continue
		}
		botName := botNames[u.BotID]
		from := fmt.Sprintf("customer-%d-%d@example.org", i, time.Now().UnixNano())
		msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: Data deletion — end customer\r\nMessage-ID: <bt-%d-%d@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBot: %s\r\nUsername: @%s\r\nDate of last message: %s\r\n",
			from, b.Sys.Config.InfoAddress, i, time.Now().UnixNano(), botName, u.Username, u.LastActiveAt.UTC().Format("2006-01-02"))
		if err := smtp.SendMail(b.Sys.SMTPAddr, nil, from, []string{b.Sys.Config.InfoAddress}, []byte(msg)); err != nil {
			t.Fatal(err)
		}
		cs = append(cs, customer{endUserID: u.ID, name: u.DisplayName, bot: botName, from: from})
	}
	if len(cs) < 2 {
		t.Fatalf("the demo account has %d end users with a username; the walk needs 2", len(cs))
	}
	// The intake matches each mail to its end user and asks the owner.
	for deadline := time.Now().Add(time.Minute); cs[0].requestID == "" || cs[1].requestID == ""; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the queue has no pending request for each mail: %+v", cs)
		}
		var q struct {
			Items []struct {
				ID, Status string
				EndUser    *struct{ ID string }
			}
		}
		apiJSON(t, b, "GET", "/v1/end-customer-requests", owner.Token, "", &q)
		for _, it := range q.Items {
			for i := range cs {
				if it.Status == "awaiting_verification" && it.EndUser != nil && it.EndUser.ID == cs[i].endUserID {
					cs[i].requestID = it.ID
				}
			}
		}
	}

	// The owner's notice mail links to the queue, opened at the request.
	notice := map[string]string{"ru": "Запрос клиента на удаление данных", "en": "deletion request awaits your decision"}[a.Locale]
	var link string
	for deadline := time.Now().Add(time.Minute); link == ""; time.Sleep(250 * time.Millisecond) {
		for _, m := range b.Mails() {
			if i := strings.Index(m.Text, "/console/#/end-customer-requests?id="+cs[0].requestID); i >= 0 && strings.Contains(m.Subject, notice) {
				link = m.Text[strings.LastIndex(m.Text[:i], "http"):]
				link = strings.Fields(link)[0]
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no owner notice links to request %s in the console", cs[0].requestID)
		}
	}
	u, err := url.Parse(link)
	if err != nil || u.Path != "/console/" {
		t.Fatalf("the notice links to %q, want the console", link)
	}

	b.SignIn(owner.Sub)
	english(b)
	b.Go("#" + u.Fragment)
	b.WaitVisible(`[data-testid="pending-request"][data-id="` + cs[0].requestID + `"][data-focused="true"]`)
	for _, c := range cs {
		card := `[data-testid="pending-request"][data-id="` + c.requestID + `"]`
		if text := b.Text(card); !strings.Contains(text, c.name) || !strings.Contains(text, c.bot) || !strings.Contains(text, "First conversation") ||
			!strings.Contains(text, "Goes to the privacy officer on") {
			t.Errorf("the queue's card for %s:\n%s", c.requestID, text)
		}
	}
	b.Shot("end-customer-queue")

	// Decline without a reason: refused in the page, nothing changes.
	decline, approve := cs[0], cs[1]
	b.ClickTestID("decline-" + decline.requestID)
	b.WaitText("Write why it is declined")
	var r struct {
		Status   string
		Decision *struct {
			Approved bool
			Reason   string
		}
	}
	if apiJSON(t, b, "GET", "/v1/deletion-requests/"+decline.requestID, owner.Token, "", &r); r.Status != "awaiting_verification" || r.Decision != nil {
		t.Fatalf("a decline without a reason changed the request: %+v", r)
	}
	reason := "Orders of the last 12 months must be kept for the tax office."
	b.Eval(fmt.Sprintf(`(() => { const e = document.querySelector('[data-testid="reason-%s"]'); e.focus(); e.value = %q; e.dispatchEvent(new Event("input", {bubbles: true})); return true })()`,
		decline.requestID, reason), nil)
	b.ClickTestID("decline-" + decline.requestID)
	b.WaitText("Declined: the requester is told the reason.")
	if apiJSON(t, b, "GET", "/v1/deletion-requests/"+decline.requestID, owner.Token, "", &r); r.Status != "declined" || r.Decision == nil || r.Decision.Reason != reason {
		t.Fatalf("after the decline: %+v", r)
	}
	if m := b.WaitMail(decline.from, reason, time.Minute); m.Subject == "" {
		t.Error("the declined requester's mail has no subject")
	}

	b.ClickTestID("approve-" + approve.requestID)
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	if text := b.Text("#confirm-title") + " " + b.Text("#confirm-text"); !strings.Contains(text, approve.name) || !strings.Contains(text, approve.bot) {
		t.Errorf("the confirmation %q does not name the end user and the bot", text)
	}
	b.ClickTestID("confirm-ok")
	b.WaitText("Approved: " + approve.name)
	b.Shot("end-customer-decided")
	for deadline := time.Now().Add(2 * time.Minute); r.Status != "completed"; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the approved request is %q after 2 minutes", r.Status)
		}
		apiJSON(t, b, "GET", "/v1/deletion-requests/"+approve.requestID, owner.Token, "", &r)
	}
	if _, err := b.Sys.Store.EndUser(context.Background(), approve.endUserID); err == nil {
		t.Error("the approved request's end user still exists")
	}
}

// An end customer names themselves by a display name two end users of the owner's bot share: the
// queue's one card lists both; approving before picking one is refused in the page; once the
// owner picks, the confirmation names the pick, and only that end user's data goes.
func TestOwnerPicksAmongEndCustomerCandidates(t *testing.T) {
	b := browsertest.New(t)
	demo := b.Demo()
	a := demo.Accounts[acct]
	owner := b.Member(acct, platform.RoleOwner)
	bot := a.Bots[0]
	ctx := context.Background()
	var conn string
	for _, ma := range b.Sys.Manifest.Accounts {
		for _, mb := range ma.Bots {
			if mb.ID == bot.ID && len(mb.Connections) > 0 {
				conn = mb.Connections[0].ID
			}
		}
	}
	if conn == "" {
		t.Fatal("the demo bot has no connection")
	}
	last := time.Now().UTC().Add(-26 * time.Hour)
	name := fmt.Sprintf("Ксения Двойникова %d", time.Now().UnixNano()%100000)
	var ids []string
	for i, ch := range []string{platform.ChannelViber, platform.ChannelMessenger} {
		at := last.Add(time.Duration(i) * time.Hour)
		u := platform.EndUser{AccountID: a.ID, BotID: bot.ID, ConnectionID: conn, ID: platform.NewID(at.Add(-time.Hour)), Channel: ch,
			DisplayName: name, NormalizedName: platform.NormalizeName(name), FirstConversationAt: at.Add(-time.Hour), LastActiveAt: at}
		if err := b.Sys.Store.Put(ctx, u); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, u.ID)
	}
	from := fmt.Sprintf("twin-%d@example.org", time.Now().UnixNano())
	msg := fmt.Sprintf("From: %s\r\nTo: %s\r\nSubject: Data deletion — end customer\r\nMessage-ID: <bt-twin-%d@example.org>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nBot: %s\r\nUsername: %s\r\nDate of last message: %s\r\n",
		from, b.Sys.Config.InfoAddress, time.Now().UnixNano(), bot.Name, name, last.Format("2006-01-02"))
	if err := smtp.SendMail(b.Sys.SMTPAddr, nil, from, []string{b.Sys.Config.InfoAddress}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	var requestID string
	for deadline := time.Now().Add(time.Minute); requestID == ""; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the queue has no request listing both candidates")
		}
		var q struct {
			Items []struct {
				ID, Status string
				Candidates []struct{ ID string }
			}
		}
		apiJSON(t, b, "GET", "/v1/end-customer-requests", owner.Token, "", &q)
		for _, it := range q.Items {
			if it.Status == "awaiting_verification" && len(it.Candidates) == 2 && it.Candidates[0].ID == ids[0] && it.Candidates[1].ID == ids[1] {
				requestID = it.ID
			}
		}
	}

	b.SignIn(owner.Sub)
	english(b)
	b.Go("#/end-customer-requests?id=" + requestID)
	card := `[data-testid="pending-request"][data-id="` + requestID + `"]`
	b.WaitVisible(card + ` [data-testid="candidates-` + requestID + `"]`)
	if n := b.Count(card + ` input[type="radio"]`); n != 2 {
		t.Fatalf("the card lists %d candidates, want 2", n)
	}
	b.ClickTestID("approve-" + requestID)
	b.WaitText("Pick the end user whose data is deleted.")
	var r struct {
		Status   string
		Decision *struct{ Approved bool }
		Scope    struct{ EndUserID string }
	}
	if apiJSON(t, b, "GET", "/v1/deletion-requests/"+requestID, owner.Token, "", &r); r.Decision != nil {
		t.Fatalf("approving without a pick changed the request: %+v", r)
	}
	b.ClickTestID("pick-" + requestID + "-" + ids[1])
	b.ClickTestID("approve-" + requestID)
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	if text := b.Text("#confirm-title"); !strings.Contains(text, name) || !strings.Contains(text, bot.Name) {
		t.Errorf("the confirmation %q does not name the pick and the bot", text)
	}
	b.ClickTestID("confirm-ok")
	b.WaitText("Approved: " + name)
	for deadline := time.Now().Add(2 * time.Minute); r.Status != "completed"; time.Sleep(250 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the approved request is %q after 2 minutes", r.Status)
		}
		apiJSON(t, b, "GET", "/v1/deletion-requests/"+requestID, owner.Token, "", &r)
	}
	if r.Scope.EndUserID != ids[1] {
		t.Fatalf("the request deleted %s, want the pick %s", r.Scope.EndUserID, ids[1])
	}
	if _, err := b.Sys.Store.EndUser(ctx, ids[1]); err == nil {
		t.Error("the picked end user still exists")
	}
	if _, err := b.Sys.Store.EndUser(ctx, ids[0]); err != nil {
		t.Errorf("the other candidate was touched: %v", err)
	}
}
