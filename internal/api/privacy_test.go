package api_test

import (
	"errors"
	"maps"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/seed"
)

type privacyItem struct {
	ID, BotID, ConnectionID, Channel, DisplayName string
	FirstConversationAt                           time.Time
}

type privacyPage struct {
	Items      []privacyItem
	NextCursor string
}

type previewReply struct {
	EndUsers, Conversations, Messages int64
	PreviewToken                      string
	ExpiresAt                         time.Time
}

func rfc(t time.Time) string { return url.QueryEscape(t.UTC().Format(time.RFC3339Nano)) }

// inWindow is whether a first conversation falls in [from, to] as the keys compare them (to the
// millisecond, both ends inclusive).
func inWindow(at, from, to time.Time) bool {
	k := at.UTC().Format(platform.KeyTime)
	return k >= from.UTC().Format(platform.KeyTime) && k <= to.UTC().Format(platform.KeyTime)
}

// accountEndUsers are the demo end users of account i (the manifest lists every one of the small
// demo), by id.
func (w *world) accountEndUsers(i int) map[string]seed.ManifestEndUser {
	a := w.manifest.Accounts[i]
	bots := map[string]bool{}
	for _, b := range a.Bots {
		bots[b.ID] = true
	}
	out := map[string]seed.ManifestEndUser{}
	for _, eu := range a.EndUsers {
		if bots[eu.BotID] {
			out[eu.ID] = eu
		}
	}
	return out
}

// addEndUser stores an end user of account i's bot with one conversation of n messages.
func (w *world) addEndUser(i int, bot string, first time.Time, n int) platform.EndUser {
	w.t.Helper()
	a := w.manifest.Accounts[i]
	var conn, channel string
	for _, b := range a.Bots {
		if b.ID == bot {
			conn, channel = b.Connections[0].ID, b.Connections[0].Channel
		}
	}
	u := platform.EndUser{AccountID: a.ID, BotID: bot, ConnectionID: conn, ID: platform.NewID(first), Channel: channel,
		DisplayName: "Test Person", NormalizedName: platform.NormalizeName("Test Person"), FirstConversationAt: first, LastActiveAt: first.Add(time.Minute)}
	conv := platform.Conversation{AccountID: a.ID, BotID: bot, EndUserID: u.ID, ID: platform.NewID(first), Channel: channel,
		StartedAt: first, LastMessageAt: first.Add(time.Minute), MessageCount: n}
	recs := []platform.Record{u, conv}
	for k := range n {
		recs = append(recs, platform.Message{AccountID: a.ID, BotID: bot, EndUserID: u.ID, ConversationID: conv.ID,
			ID: platform.NewID(first.Add(time.Duration(k) * time.Second)), Direction: "in", Text: "hello", SentAt: first.Add(time.Duration(k) * time.Second)})
	}
	if err := w.sys.Store.PutAll(w.ctx, recs); err != nil {
		w.t.Fatal(err)
	}
	return u
}

func problemField(t *testing.T, r reply) string {
	t.Helper()
	var p struct{ Errors []struct{ Field string } }
	r.json(t, &p)
	if len(p.Errors) == 0 {
		return ""
	}
	return p.Errors[0].Field
}

// pageAll lists every page of path (which has a query already), checking no item comes twice.
func (w *world) pageAll(path, token string) ([]privacyItem, int) {
	w.t.Helper()
	var all []privacyItem
	seen := map[string]bool{}
	cursor, pages := "", 0
	for {
		p := path
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		r := w.call("GET", p, token, "")
		if r.status != 200 {
			w.t.Fatalf("%s: %d %s", p, r.status, r.body)
		}
		var pg privacyPage
		r.json(w.t, &pg)
		pages++
		for _, it := range pg.Items {
			if seen[it.ID] {
				w.t.Fatalf("page %d repeats %s", pages, it.ID)
			}
			seen[it.ID] = true
			all = append(all, it)
		}
		if pg.NextCursor == "" {
			return all, pages
		}
		if pages > 50 {
			w.t.Fatal("the pages do not end")
		}
		cursor = pg.NextCursor
	}
}

func TestPrivacyEndUsersDefaultWindowAndPages(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	owner := w.token(0, platform.RoleOwner)
	recent := w.addEndUser(0, a.Bots[1].ID, start.Add(-30*time.Minute), 2)
	old := w.addEndUser(0, a.Bots[0].ID, start.Add(-8*24*time.Hour), 1)
	w.addEndUser(1, w.manifest.Accounts[1].Bots[0].ID, start.Add(-time.Hour), 1) // another account's

	// Default: the last 7 days up to the service clock's now.
	want := map[string]bool{recent.ID: true}
	for id, eu := range w.accountEndUsers(0) {
		if inWindow(eu.FirstConversationAt, start.Add(-7*24*time.Hour), start) {
			want[id] = true
		}
	}
	got, _ := w.pageAll("/v1/privacy/end-users?limit=100", owner)
	t.Logf("default window: %d end users listed, %d expected", len(got), len(want))
	ids := map[string]bool{}
	for _, it := range got {
		ids[it.ID] = true
		if it.ID == recent.ID && (it.BotID != a.Bots[1].ID || it.DisplayName != "Test Person" || !it.FirstConversationAt.Equal(recent.FirstConversationAt.Truncate(time.Millisecond))) {
			t.Errorf("the recent end user as listed: %+v", it)
		}
	}
	if len(ids) != len(want) || ids[old.ID] {
		t.Fatalf("default window lists %v, want %v", ids, want)
	}
	for id := range want {
		if !ids[id] {
			t.Fatalf("default window misses %s", id)
		}
	}

	// Every end user since 2020, two per page, across both bots: none skipped, none repeated.
	all := w.accountEndUsers(0)
	all[recent.ID], all[old.ID] = seed.ManifestEndUser{BotID: recent.BotID}, seed.ManifestEndUser{BotID: old.BotID}
	from := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	items, pages := w.pageAll("/v1/privacy/end-users?limit=2&from="+rfc(from)+"&to="+rfc(start), owner)
	t.Logf("since 2020: %d end users in %d pages", len(items), pages)
	if len(items) != len(all) || pages < len(all)/2 {
		t.Fatalf("listed %d end users in %d pages, want %d", len(items), pages, len(all))
	}
	bots := []string{a.Bots[0].ID, a.Bots[1].ID}
	slices.Sort(bots)
	lastBot, lastAt := -1, time.Time{}
	for _, it := range items {
		eu, ok := all[it.ID]
		if !ok || eu.BotID != it.BotID {
			t.Fatalf("listed %s of bot %s: not this account's", it.ID, it.BotID)
		}
		b := slices.Index(bots, it.BotID)
		if b < lastBot || b == lastBot && it.FirstConversationAt.Before(lastAt) {
			t.Fatalf("out of order at %s", it.ID)
		}
		lastBot, lastAt = b, it.FirstConversationAt
	}
	// Pages that end exactly where a bot's end users end, and pages of one.
	for _, limit := range []string{"1", "5"} {
		if more, _ := w.pageAll("/v1/privacy/end-users?limit="+limit+"&from="+rfc(from)+"&to="+rfc(start), owner); len(more) != len(all) {
			t.Fatalf("limit %s: listed %d end users, want %d", limit, len(more), len(all))
		}
	}
	// One bot's pages.
	one, _ := w.pageAll("/v1/privacy/end-users?limit=1&botId="+a.Bots[1].ID+"&from="+rfc(from)+"&to="+rfc(start), owner)
	for _, it := range one {
		if it.BotID != a.Bots[1].ID {
			t.Fatalf("botId filter lists %s of bot %s", it.ID, it.BotID)
		}
	}
	if len(one) == 0 || len(one) >= len(items) {
		t.Fatalf("bot filter: %d of %d", len(one), len(items))
	}

	// A cursor holds its filters and cannot be forged into another bot.
	r := w.call("GET", "/v1/privacy/end-users?limit=1&from="+rfc(from)+"&to="+rfc(start), owner, "")
	var pg privacyPage
	r.json(t, &pg)
	if pg.NextCursor == "" {
		t.Fatal("no next cursor")
	}
	if r := w.call("GET", "/v1/privacy/end-users?limit=1&from="+rfc(from.Add(time.Hour))+"&to="+rfc(start)+"&cursor="+pg.NextCursor, owner, ""); r.status != 400 || problemField(t, r) != "cursor" {
		t.Errorf("cursor with other filters: %d %s", r.status, r.body)
	}
	if r := w.call("GET", "/v1/privacy/end-users?cursor=bm9wZQ", owner, ""); r.status != 400 || problemField(t, r) != "cursor" {
		t.Errorf("forged cursor: %d %s", r.status, r.body)
	}
	// The other account sees none of these.
	theirs, _ := w.pageAll("/v1/privacy/end-users?limit=100&from="+rfc(from)+"&to="+rfc(start), w.token(1, platform.RoleOwner))
	for _, it := range theirs {
		if _, mine := all[it.ID]; mine {
			t.Fatalf("account 1 lists account 0's end user %s", it.ID)
		}
	}
}

func TestPrivacyAccessAndValidation(t *testing.T) {
	w := newWorld(t)
	b := w.manifest.Accounts[1]
	sub, theirs, other := w.botAdmin(0)
	admin := w.tokenFor(0, sub)
	from := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	win := "&from=" + rfc(from) + "&to=" + rfc(start)
	body := func(bot string) string {
		if bot == "" {
			return `{"from":"2020-01-01T00:00:00Z","to":"` + start.Format(time.RFC3339) + `"}`
		}
		return `{"botId":"` + bot + `","from":"2020-01-01T00:00:00Z","to":"` + start.Format(time.RFC3339) + `"}`
	}

	// A bot admin: their bot only.
	if r := w.call("GET", "/v1/privacy/end-users?botId="+other+win, admin, ""); r.status != 403 {
		t.Errorf("bot admin lists another bot: %d", r.status)
	}
	if r := w.call("GET", "/v1/privacy/end-users?botId="+b.Bots[0].ID+win, admin, ""); r.status != 404 {
		t.Errorf("bot admin lists another account's bot: %d", r.status)
	}
	if r := w.call("GET", "/v1/privacy/end-users?botId="+b.Bots[0].ID+win, w.token(0, platform.RoleOwner), ""); r.status != 404 {
		t.Errorf("owner lists another account's bot: %d", r.status)
	}
	items, _ := w.pageAll("/v1/privacy/end-users?limit=100"+win, admin)
	var onTheirs int64
	for _, eu := range w.accountEndUsers(0) {
		if eu.BotID == theirs {
			onTheirs++
		}
	}
	for _, it := range items {
		if it.BotID != theirs {
			t.Fatalf("bot admin sees %s of bot %s", it.ID, it.BotID)
		}
	}
	if int64(len(items)) != onTheirs {
		t.Fatalf("bot admin sees %d end users of their bot, want %d", len(items), onTheirs)
	}
	if r := w.call("POST", "/v1/privacy/deletions/preview", admin, body(other)); r.status != 403 {
		t.Errorf("bot admin previews another bot: %d", r.status)
	}
	if r := w.call("POST", "/v1/privacy/deletions/preview", admin, body(b.Bots[0].ID)); r.status != 404 {
		t.Errorf("bot admin previews another account's bot: %d", r.status)
	}
	// Without botId, a bot admin previews the bots they administer: here their one bot.
	r := w.call("POST", "/v1/privacy/deletions/preview", admin, body(""))
	var p previewReply
	r.json(t, &p)
	if r.status != 200 || p.EndUsers != onTheirs {
		t.Fatalf("bot admin preview of every bot they administer: %d %s, want %d end users", r.status, r.body, onTheirs)
	}
	// Their rights on the bot go: the token no longer starts anything.
	w.setBotAdmin(0, sub, other)
	if r := w.call("POST", "/v1/privacy/deletions", admin, `{"previewToken":"`+p.PreviewToken+`"}`); r.status != 403 {
		t.Errorf("starting a preview of a bot no longer administered: %d %s", r.status, r.body)
	}

	// A member: nothing.
	member := w.token(0, platform.RoleMember)
	if r := w.call("GET", "/v1/privacy/end-users", member, ""); r.status != 403 {
		t.Errorf("member lists: %d", r.status)
	}
	if r := w.call("POST", "/v1/privacy/deletions/preview", member, body("")); r.status != 403 {
		t.Errorf("member previews: %d", r.status)
	}
	if r := w.call("POST", "/v1/privacy/deletions", member, `{"previewToken":"x"}`); r.status != 403 {
		t.Errorf("member starts: %d", r.status)
	}

	// Bad input names its field.
	owner := w.token(0, platform.RoleOwner)
	for _, c := range []struct{ query, field string }{
		{"from=yesterday", "from"},
		{"to=2026-13-01T00:00:00Z", "to"},
		{"from=2026-03-01", "from"},
		{"from=" + rfc(start) + "&to=" + rfc(start.Add(-time.Hour)), "to"},
		{"from=" + rfc(start) + "&to=" + rfc(start), "to"},
		{"limit=0", "limit"},
		{"botId=" + url.QueryEscape("no such/bot"), "botId"},
	} {
		if r := w.call("GET", "/v1/privacy/end-users?"+c.query, owner, ""); r.status != 400 || problemField(t, r) != c.field {
			t.Errorf("%s: %d %s, want a 400 naming %s", c.query, r.status, r.body, c.field)
		}
	}
	for _, c := range []struct{ body, field string }{
		{`{"to":"2026-03-01T00:00:00Z"}`, "from"},
		{`{"from":"2026-03-01T00:00:00Z"}`, "to"},
		{`{"from":"March","to":"2026-03-01T00:00:00Z"}`, "from"},
		{`{"from":"2026-03-02T00:00:00Z","to":"2026-03-01T00:00:00Z"}`, "to"},
		{`{"from":"2026-03-01T00:00:00Z","to":"2026-03-02T00:00:00Z","extra":1}`, "body"},
	} {
		if r := w.call("POST", "/v1/privacy/deletions/preview", owner, c.body); r.status != 400 || problemField(t, r) != c.field {
			t.Errorf("%s: %d %s, want a 400 naming %s", c.body, r.status, r.body, c.field)
		}
	}
	if r := w.call("POST", "/v1/privacy/deletions", owner, `{"previewToken":""}`); r.status != 400 || problemField(t, r) != "previewToken" {
		t.Errorf("empty token: %d %s", r.status, r.body)
	}
	if r := w.call("POST", "/v1/privacy/deletions", owner, `{"previewToken":"never-issued"}`); r.status != 409 {
		t.Errorf("unknown token: %d %s", r.status, r.body)
	}
}

// A preview counts exactly what its deletion destroys; its token starts one request however often
// it is sent; another account's token and an expired one start nothing.
func TestPrivacyPreviewThenDelete(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	owner := w.token(0, platform.RoleOwner)
	bot := a.Bots[0].ID
	var firsts []time.Time
	for _, eu := range w.accountEndUsers(0) {
		if eu.BotID == bot {
			firsts = append(firsts, eu.FirstConversationAt)
		}
	}
	slices.SortFunc(firsts, func(x, y time.Time) int { return x.Compare(y) })
	if len(firsts) < 3 {
		t.Fatalf("bot %s has %d end users", bot, len(firsts))
	}
	from := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	to := firsts[1] // inclusive: the two oldest end users of the bot
	scope := platform.ScopeRef{Kind: datamap.ScopeEndUserFilter, AccountID: a.ID, BotID: bot, From: from, To: to.Truncate(time.Millisecond)}
	before := w.remaining(scope)
	whole := platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID}
	wholeBefore := w.remaining(whole)

	// Another account's token starts nothing, and says nothing about the token.
	r := w.call("POST", "/v1/privacy/deletions/preview", owner, `{"from":"2020-01-01T00:00:00Z","to":"`+start.Format(time.RFC3339)+`"}`)
	var all previewReply
	r.json(t, &all)
	if r.status != 200 || all.EndUsers != int64(len(w.accountEndUsers(0))) || all.PreviewToken == "" {
		t.Fatalf("preview of every bot: %d %s", r.status, r.body)
	}
	if r := w.call("POST", "/v1/privacy/deletions", w.token(1, platform.RoleOwner), `{"previewToken":"`+all.PreviewToken+`"}`); r.status != 409 {
		t.Fatalf("another account's token: %d %s", r.status, r.body)
	}
	w.settle()
	if after := w.remaining(whole); !maps.Equal(after, wholeBefore) {
		t.Fatalf("another account's token deleted data: %v → %v", wholeBefore, after)
	}

	r = w.call("POST", "/v1/privacy/deletions/preview", owner, `{"botId":"`+bot+`","from":"2020-01-01T00:00:00Z","to":"`+to.Format(time.RFC3339Nano)+`"}`)
	var p previewReply
	r.json(t, &p)
	if r.status != 200 {
		t.Fatalf("preview: %d %s", r.status, r.body)
	}
	t.Logf("preview %+v; the scope holds %v", p, before)
	if p.EndUsers != 2 || p.EndUsers != before[datamap.EndUserProfile] || p.Conversations != before[datamap.Conversation] ||
		p.Messages != before[datamap.Message] || p.Messages == 0 {
		t.Fatalf("preview %+v, the scope holds %v", p, before)
	}
	if !p.ExpiresAt.Equal(start.Add(15 * time.Minute)) {
		t.Errorf("expires at %s, want %s", p.ExpiresAt, start.Add(15*time.Minute))
	}
	if len(p.PreviewToken) != 43 {
		t.Errorf("token of %d characters, want 32 bytes in base64url", len(p.PreviewToken))
	}

	r = w.call("POST", "/v1/privacy/deletions", owner, `{"previewToken":"`+p.PreviewToken+`"}`)
	if r.status != 202 {
		t.Fatalf("start: %d %s", r.status, r.body)
	}
	var req struct {
		ID    string
		Kind  string
		Scope struct{ Kind, BotID string }
	}
	r.json(t, &req)
	if r.header.Get("Location") != "/v1/deletion-requests/"+req.ID || req.Kind != string(request.KindEndUserFilter) || req.Scope.BotID != bot {
		t.Fatalf("request %+v at %q", req, r.header.Get("Location"))
	}
	again := w.call("POST", "/v1/privacy/deletions", owner, `{"previewToken":"`+p.PreviewToken+`"}`)
	var req2 struct{ ID string }
	again.json(t, &req2)
	if again.status != 202 || req2.ID != req.ID {
		t.Fatalf("the same token again: %d %s (first %s)", again.status, req2.ID, req.ID)
	}
	w.settle()
	got, err := w.sys.Ledger.Get(w.ctx, req.ID)
	if err != nil || got.Status != request.StatusCompleted {
		t.Fatalf("request %s: %v", got.Status, err)
	}
	if got.RequestedBy != w.member(0, platform.RoleOwner) {
		t.Errorf("requested by %q", got.RequestedBy)
	}
	if got.Progress[datamap.EndUserProfile] != p.EndUsers || got.Progress[datamap.Conversation] != p.Conversations ||
		got.Progress[datamap.Message] != p.Messages {
		t.Fatalf("destroyed %v, the preview said %+v", got.Progress, p)
	}
	if left := w.remaining(scope); len(left) > 0 {
		t.Fatalf("left in scope: %v", left)
	}
	// Outside the range, on the other bot, in the other account: all still there.
	for _, eu := range w.accountEndUsers(0) {
		_, err := w.sys.Store.EndUser(w.ctx, eu.ID)
		gone := eu.BotID == bot && inWindow(eu.FirstConversationAt, from, to)
		if gone != errors.Is(err, platform.ErrNotFound) {
			t.Errorf("end user %s of bot %s (first %s): gone=%v, err=%v", eu.ID, eu.BotID, eu.FirstConversationAt, gone, err)
		}
	}
	for id := range w.accountEndUsers(1) {
		if _, err := w.sys.Store.EndUser(w.ctx, id); err != nil {
			t.Errorf("account 1's end user %s: %v", id, err)
		}
	}

	// A token past its 15 minutes starts nothing; a token that started its request still answers it.
	r = w.call("POST", "/v1/privacy/deletions/preview", owner, `{"botId":"`+a.Bots[1].ID+`","from":"2020-01-01T00:00:00Z","to":"`+start.Format(time.RFC3339)+`"}`)
	var late previewReply
	r.json(t, &late)
	if late.EndUsers == 0 {
		t.Fatalf("preview of the other bot: %s", r.body)
	}
	if _, err := w.eng.Advance(w.ctx, 16*time.Minute); err != nil {
		t.Fatal(err)
	}
	if r := w.call("POST", "/v1/privacy/deletions", owner, `{"previewToken":"`+late.PreviewToken+`"}`); r.status != 409 || problemType(t, r) != "https://lethe.dev/problems/conflict" {
		t.Fatalf("expired token: %d %s", r.status, r.body)
	}
	if r := w.call("POST", "/v1/privacy/deletions", owner, `{"previewToken":"`+p.PreviewToken+`"}`); r.status != 202 {
		t.Fatalf("the used token after its 15 minutes: %d %s", r.status, r.body)
	}
	w.settle()
	for _, eu := range w.accountEndUsers(0) {
		if eu.BotID == a.Bots[1].ID {
			if _, err := w.sys.Store.EndUser(w.ctx, eu.ID); err != nil {
				t.Fatalf("an expired token deleted %s: %v", eu.ID, err)
			}
		}
	}
}
