package browsertest_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/console/browsertest"
	"github.com/lethe-dev/lethe/internal/platform"
)

// The Inbox screen: the owner finds a bot user, lists their inbox messages (the same as the
// API's), deletes one after a confirmation, and only that message is gone.
func TestInboxDeletesOneMessage(t *testing.T) {
	b := browsertest.New(t)
	b.SetLanguage("en")
	demo := b.Demo()
	acct := demo.Accounts[0]
	owner := b.Member(0, platform.RoleOwner)
	// A message of the end user with the most listed, so that one stays when one goes.
	per := map[string]int{}
	for _, m := range acct.Inbox {
		per[m.EndUserID]++
	}
	msg := acct.Inbox[0]
	for _, m := range acct.Inbox {
		if per[m.EndUserID] > per[msg.EndUserID] {
			msg = m
		}
	}
	var who string
	for _, eu := range acct.EndUsers {
		if eu.ID == msg.EndUserID {
			who = eu.Name
		}
	}
	if who == "" {
		t.Fatalf("the demo's inbox message %s names an end user it does not list", msg.ID)
	}
	list := func() []string {
		status, body := b.API("GET", "/v1/bots/"+msg.BotID+"/end-users/"+msg.EndUserID+"/messages", owner.Token, "")
		var page struct{ Items []struct{ ID string } }
		if status != 200 || json.Unmarshal(body, &page) != nil {
			t.Fatalf("inbox list: %d %s", status, body)
		}
		var ids []string
		for _, m := range page.Items {
			ids = append(ids, m.ID)
		}
		return ids
	}
	before := list()

	b.SignIn(owner.Sub)
	b.Go("#/inbox")
	b.WaitVisible("#inbox-name")
	b.Fill("Bot", msg.BotID)
	b.Type("Name", strings.Fields(who)[0])
	b.ClickButton("Find")
	b.ClickTestID("inbox-open-" + msg.EndUserID)
	b.WaitVisible(`[data-testid="inbox-row-` + msg.ID + `"]`)
	if rows := b.Count(`[data-testid="inbox-messages"] tbody tr`); rows != len(before) {
		t.Errorf("the screen lists %d messages, the API %d", rows, len(before))
	}
	if got := b.Text(`[data-testid="inbox-delete-` + msg.ID + `"]`); !strings.HasPrefix(got, "Delete message") {
		t.Errorf("the delete button says %q", got)
	}
	b.CheckLabels()
	b.Shot("inbox-list")
	b.ClickTestID("inbox-delete-" + msg.ID)
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	if text := b.Text("#confirm-text"); !strings.Contains(text, who) {
		t.Errorf("the confirmation %q does not name whose message it is", text)
	}
	b.ClickTestID("confirm-ok")
	b.WaitVisible(`[data-testid="inbox-deleted"]`)
	b.Shot("inbox-deleted")
	after := list()
	if len(after) != len(before)-1 || strings.Contains(strings.Join(after, " "), msg.ID) {
		t.Errorf("after deleting %s the inbox holds %v (before %v)", msg.ID, after, before)
	}
}
