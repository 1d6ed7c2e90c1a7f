package api_test

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/platform"
)

type meReply struct {
	Sub, Name, Email, Role string
	Account                struct{ ID, Name, Language, Status string }
	Bots                   []struct {
		ID, Name, Channel string
		CanDelete         bool
	}
}

// GET /v1/me names the caller, their role and account, and which bots' end users they may delete:
// owner and account admins every bot, a bot admin theirs only, a member none.
func TestMeSaysWhichBotsTheCallerMayDeleteOn(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	botAdmin := w.member(0, platform.RoleBotAdmin)
	w.setBotAdmin(0, botAdmin, a.Bots[1].ID)
	cases := map[string]struct {
		token     string
		role      string
		canDelete []string
	}{
		"owner":         {w.token(0, platform.RoleOwner), platform.RoleOwner, []string{a.Bots[0].ID, a.Bots[1].ID}},
		"account admin": {w.token(0, platform.RoleAccountAdmin), platform.RoleAccountAdmin, []string{a.Bots[0].ID, a.Bots[1].ID}},
		"bot admin":     {w.tokenFor(0, botAdmin), platform.RoleBotAdmin, []string{a.Bots[1].ID}},
		"member":        {w.token(0, platform.RoleMember), platform.RoleMember, nil},
	}
	for what, c := range cases {
		r := w.call("GET", "/v1/me", c.token, "")
		var me meReply
		r.json(t, &me)
		if r.status != 200 || me.Role != c.role || me.Account.ID != a.ID || me.Account.Language != a.Locale || me.Sub == "" {
			t.Errorf("%s: %d %+v", what, r.status, me)
			continue
		}
		var deletable []string
		for _, b := range me.Bots {
			if b.Name == "" || b.Channel == "" {
				t.Errorf("%s: bot %+v lacks its name or channel", what, b)
			}
			if b.CanDelete {
				deletable = append(deletable, b.ID)
			}
		}
		slices.Sort(deletable)
		want := slices.Sorted(slices.Values(c.canDelete))
		if len(me.Bots) != len(a.Bots) || !slices.Equal(deletable, want) {
			t.Errorf("%s: may delete on %v of %d bots, want %v of %d", what, deletable, len(me.Bots), want, len(a.Bots))
		}
	}
	if r := w.call("GET", "/v1/me", w.operatorToken("officer-1", "Officer"), ""); r.status != 401 {
		t.Errorf("operator token: %d, want 401 (it names no account)", r.status)
	}
}

// The Inbox screen's list: one end user's inbox messages for an admin of the bot; a member is
// refused, an end user of another bot or account is not found.
func TestEndUserMessagesListTheInbox(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	var eu, bot string
	var want []string
	for _, e := range a.EndUsers {
		msgs, err := w.sys.Store.InboxMessages(w.ctx, e.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) > 0 {
			eu, bot = e.ID, e.BotID
			for _, m := range msgs {
				want = append(want, m.ID)
			}
			break
		}
	}
	if eu == "" {
		t.Fatal("the seed gave no end user an inbox message")
	}
	path := "/v1/bots/" + bot + "/end-users/" + eu + "/messages"
	r := w.call("GET", path, w.token(0, platform.RoleAccountAdmin), "")
	var got struct {
		Items []struct {
			ID, Direction, Text string
			Attachments         int
		}
	}
	r.json(t, &got)
	var ids []string
	for _, m := range got.Items {
		ids = append(ids, m.ID)
	}
	slices.Sort(ids)
	slices.Sort(want)
	if r.status != 200 || !slices.Equal(ids, want) {
		t.Errorf("account admin: %d %v, want %v", r.status, ids, want)
	}
	// One message a page: every message once, newest first, then no cursor.
	var paged []string
	cursor := ""
	for range len(want) + 1 {
		r := w.call("GET", path+"?limit=1&cursor="+cursor, w.token(0, platform.RoleOwner), "")
		var pg struct {
			Items      []struct{ ID, SentAt string }
			NextCursor string
		}
		r.json(t, &pg)
		for _, m := range pg.Items {
			paged = append(paged, m.ID)
		}
		if cursor = pg.NextCursor; cursor == "" {
			break
		}
	}
	if len(paged) != len(want) || !slices.Equal(slices.Sorted(slices.Values(paged)), want) {
		t.Errorf("paged one at a time: %v, want %v", paged, want)
	}
	if r := w.call("GET", path+"?cursor=garbage", w.token(0, platform.RoleOwner), ""); r.status != 400 {
		t.Errorf("a garbled cursor: %d, want 400", r.status)
	}
	if r := w.call("GET", path, w.token(0, platform.RoleMember), ""); r.status != 403 {
		t.Errorf("member: %d, want 403", r.status)
	}
	if r := w.call("GET", path, w.token(1, platform.RoleOwner), ""); r.status != 404 {
		t.Errorf("another account's owner: %d, want 404", r.status)
	}
	var other string
	for _, b := range a.Bots {
		if b.ID != bot {
			other = b.ID
		}
	}
	if r := w.call("GET", strings.Replace(path, bot, other, 1), w.token(0, platform.RoleOwner), ""); r.status != 404 {
		t.Errorf("the end user under another bot: %d, want 404", r.status)
	}
}

// The console is served from the API's origin: /console sends the browser to its first page, the
// files come with their types, and an unknown file is a problem+json 404.
func TestTheConsoleIsServedByTheAPI(t *testing.T) {
	w := newWorld(t)
	client := *w.srv.Client()
	client.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := client.Get(w.srv.URL + "/console")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 301 || resp.Header.Get("Location") != "/console/index.html" {
		t.Errorf("GET /console: %d to %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	r := w.call("GET", "/console/index.html", "", "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") ||
		!strings.Contains(r.header.Get("Content-Security-Policy"), "default-src 'none'") || !strings.Contains(string(r.body), "console.js") {
		t.Errorf("index.html: %d %v", r.status, r.header)
	}
	r = w.call("GET", "/console/console.js", "", "")
	if r.status != 200 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/javascript") {
		t.Errorf("console.js: %d %v", r.status, r.header)
	}
	// The document's validator routes no greedy variable, so a file below a folder is fetched as is.
	get := func(path string) *http.Response {
		resp, err := client.Get(w.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get("/console/pages/signin.js"); resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("pages/signin.js: %d %v", resp.StatusCode, resp.Header)
	}
	r = w.call("GET", "/console/config.json", "", "")
	if r.status != 200 || strings.Contains(string(r.body), "demo") {
		t.Errorf("config.json outside the local run: %d %s, want no demo sign-in", r.status, r.body)
	}
	for _, p := range []string{"/console/nope.js", "/console/console.go"} {
		if r := w.call("GET", p, "", ""); r.status != 404 || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
			t.Errorf("%s: %d %s, want a 404 problem", p, r.status, r.header.Get("Content-Type"))
		}
	}
	for _, p := range []string{"/console/pages/../console.go", "/console/pages/nope.js", "/console/pages/%2e%2e/console.go"} {
		if resp := get(p); resp.StatusCode != 404 || !strings.Contains(resp.Header.Get("Content-Type"), "problem+json") {
			t.Errorf("%s: %d %s, want a 404 problem", p, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
	}
}
