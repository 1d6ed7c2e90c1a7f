package browsertest_test

import (
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/console/browsertest"
	"github.com/lethe-dev/lethe/internal/platform"
)

// The Conversations screen: an account admin finds a bot user by name and deletes them after one
// confirmation that names them, and the deletion runs to done; a bot admin is offered only their
// bots; a member sees no search and no delete button, and the same calls made directly with the
// member's token are refused (403).
func TestConversationsDeletesOneBotUserAndOnlyAdminsMay(t *testing.T) {
	b := browsertest.New(t)
	b.SetLanguage("en")
	demo := b.Demo()
	acct := demo.Accounts[0]
	admin := b.Member(0, platform.RoleAccountAdmin)
	// The last listed end user of the first bot: the inbox test takes the first ones.
	var victimID, victimName, bot string
	for _, eu := range acct.EndUsers {
		if eu.BotID == acct.Bots[0].ID {
			victimID, victimName, bot = eu.ID, eu.Name, eu.BotID
		}
	}
	first := strings.Fields(victimName)[0]

	b.SignIn(admin.Sub)
	b.Go("#/conversations?bot=" + url.QueryEscape(bot))
	b.WaitVisible("#conv-name")
	b.Fill("Bot", bot)
	b.Type("Name", first)
	b.ClickButton("Search")
	b.WaitVisible(`[data-testid="conv-row-` + victimID + `"]`)
	del := `[data-testid="conv-delete-` + victimID + `"]`
	if got := b.Text(del); got != "Delete "+victimName {
		t.Errorf("the delete button says %q, want it to name %q", got, victimName)
	}
	b.Shot("conversations-search")
	b.ClickTestID("conv-delete-" + victimID)
	b.WaitVisible(`[data-testid="confirm-dialog"]`)
	if text := b.Text("#confirm-text"); !strings.Contains(text, victimName) || !strings.Contains(text, "cannot be undone") {
		t.Errorf("the confirmation says %q", text)
	}
	b.Shot("conversations-confirm")
	b.ClickTestID("confirm-ok")
	b.WaitTextFor("Deleted", 3*time.Minute)
	b.Shot("conversations-deleted")
	status, body := b.API("GET", "/v1/bots/"+bot+"/end-users?name="+url.QueryEscape(victimName), admin.Token, "")
	if status != 200 || strings.Contains(string(body), victimID) {
		t.Errorf("after the deletion the search still finds them: %d %s", status, body)
	}

	// A bot admin is offered the bots of their record only.
	botAdmin := b.Member(0, platform.RoleBotAdmin)
	b.SignIn(botAdmin.Sub)
	b.Go("#/conversations")
	b.WaitVisible("#conv-bot")
	var offered []string
	b.Eval(`[...document.querySelectorAll("#conv-bot option")].map(o => o.value)`, &offered)
	slices.Sort(offered)
	mine := slices.Sorted(slices.Values(botAdmin.BotIDs))
	if !slices.Equal(offered, mine) {
		t.Errorf("a bot admin of %v is offered %v", mine, offered)
	}

	// A member: no search, no delete button; and the forged calls are refused.
	member := b.Member(0, platform.RoleMember)
	b.SignIn(member.Sub)
	b.Go("#/conversations")
	b.WaitVisible(`[data-testid="conversations-admins-only"]`)
	if n := b.Count(`main button.danger, main [data-testid^="conv-delete-"], #conv-name`); n != 0 {
		t.Errorf("a member sees %d search fields or delete buttons", n)
	}
	b.Shot("conversations-member")
	other := ""
	for _, eu := range acct.EndUsers {
		if eu.BotID == bot && eu.ID != victimID {
			other = eu.ID
		}
	}
	if status, body := b.API("DELETE", fmt.Sprintf("/v1/bots/%s/end-users/%s", bot, other), member.Token, ""); status != 403 {
		t.Errorf("a member's forged DELETE: %d %s, want 403", status, body)
	}
	if status, _ := b.API("GET", "/v1/bots/"+bot+"/end-users?name=a", member.Token, ""); status != 403 {
		t.Errorf("a member's forged search: %d, want 403", status)
	}
	if status, body := b.API("GET", "/v1/deletion-requests/end-user-"+other, admin.Token, ""); status != 404 {
		t.Errorf("the refused DELETE made a request: %d %s", status, body)
	}
}
