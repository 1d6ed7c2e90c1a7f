package api_test

import (
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/platform"
)

// putEndUser stores an end user of bot (account i) with the name tokens the platform writes for them.
func (w *world) putNamedEndUser(i int, bot, name string) platform.EndUser {
	w.t.Helper()
	a := w.manifest.Accounts[i]
	var conn struct{ id, channel string }
	for _, b := range a.Bots {
		if b.ID == bot && len(b.Connections) > 0 {
			conn.id, conn.channel = b.Connections[0].ID, b.Connections[0].Channel
		}
	}
	if conn.id == "" {
		w.t.Fatalf("bot %s of account %d has no connection", bot, i)
	}
	eu := platform.EndUser{AccountID: a.ID, BotID: bot, ConnectionID: conn.id, ID: platform.NewID(start), Channel: conn.channel,
		DisplayName: name, NormalizedName: platform.NormalizeName(name),
		FirstConversationAt: start.Add(-48 * time.Hour), LastActiveAt: start.Add(-time.Hour)}
	recs := []platform.Record{eu}
	for _, tok := range platform.NameTokens(name) {
		recs = append(recs, platform.NameToken{AccountID: a.ID, BotID: bot, EndUserID: eu.ID, Token: tok, LastActiveAt: eu.LastActiveAt})
	}
	for _, r := range recs {
		if err := w.sys.Store.Put(w.ctx, r); err != nil {
			w.t.Fatal(err)
		}
	}
	return eu
}

type foundPage struct {
	Items []struct {
		ID, BotID, ConnectionID, Channel, DisplayName string
	}
	NextCursor string
}

func (w *world) searchNames(bot, token, name string, extra ...string) (reply, foundPage) {
	w.t.Helper()
	path := "/v1/bots/" + bot + "/end-users?name=" + url.QueryEscape(name)
	for i := 0; i+1 < len(extra); i += 2 {
		path += "&" + extra[i] + "=" + url.QueryEscape(extra[i+1])
	}
	r := w.call("GET", path, token, "")
	var p foundPage
	if r.status == 200 {
		r.json(w.t, &p)
	}
	return r, p
}

func foundIDs(p foundPage) []string {
	var out []string
	for _, it := range p.Items {
		out = append(out, it.ID)
	}
	slices.Sort(out)
	return out
}

func TestPlatformNameFoldingForSearch(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Фёдор Ёлкин", "федор елкин"},
		{"ФЕДОР", "федор"},
		{"José ÁLVAREZ-Núñez", "jose alvarez nunez"},
		{"Йошкар Ола", "йошкар ола"},
	} {
		if got := platform.NormalizeName(c.in); got != c.want {
			t.Errorf("NormalizeName(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSearchEndUsersByName(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	bot, otherBot := a.Bots[0].ID, a.Bots[1].ID
	fedor := w.putNamedEndUser(0, bot, "Зёфирина Ёжевикова")
	jose := w.putNamedEndUser(0, bot, "Jéromirko Ñandúbay")
	anna := w.putNamedEndUser(0, bot, "Ыннуш Ыннушкина") // two words start with "ынн": listed once
	twin := w.putNamedEndUser(0, otherBot, "Зёфирина Ёжевикова")
	w.putNamedEndUser(1, w.manifest.Accounts[1].Bots[0].ID, "Зёфирина Ёжевикова")
	owner := w.token(0, platform.RoleOwner)

	for _, c := range []struct {
		name string
		want []string
	}{
		{"ЗЕФ", []string{fedor.ID}},                  // part of a word, another case, е for ё
		{"зёфирина", []string{fedor.ID}},             // ё for ё
		{"ежевик", []string{fedor.ID}},               // е for ё, second word
		{"ЁЖЕВ зе", []string{fedor.ID}},              // every word, any order
		{"Зёфирина  Ёжевикова!", []string{fedor.ID}}, // punctuation and spaces
		{"jeromir", []string{jose.ID}},               // without the accent
		{"ÑANDÚ", []string{jose.ID}},                 // with it, in another case
		{"jérôm nandu", []string{jose.ID}},
		{"ынн", []string{anna.ID}},
		{"ыннушкина ыннуш", []string{anna.ID}},
		{"зефирина nandubay", nil}, // every word must match the same end user
		{"зефирина ежевиковаа", nil},
		{"zzzqqq", nil},
	} {
		r, p := w.searchNames(bot, owner, c.name)
		if r.status != 200 {
			t.Fatalf("%q: %d %s", c.name, r.status, r.body)
		}
		if got := foundIDs(p); !slices.Equal(got, c.want) || p.NextCursor != "" {
			t.Errorf("%q: got %v (next %q), want %v", c.name, got, p.NextCursor, c.want)
		}
		for _, it := range p.Items {
			if it.BotID != bot || it.ConnectionID == "" || it.Channel == "" || it.DisplayName == "" {
				t.Errorf("%q: item %+v", c.name, it)
			}
		}
	}
	// The other bot's namesake only on the other bot.
	if _, p := w.searchNames(otherBot, owner, "зефирина ежевикова"); !slices.Equal(foundIDs(p), []string{twin.ID}) {
		t.Errorf("other bot: %v, want only %s", foundIDs(p), twin.ID)
	}

	// Who may search: a bot admin of this bot, not of another; not a member; not another account.
	sub, theirs, other := w.botAdmin(0)
	admin := w.tokenFor(0, sub)
	if r, p := w.searchNames(theirs, admin, "зеф"); r.status != 200 || len(p.Items) != 1 {
		t.Errorf("bot admin of the bot: %d %v", r.status, foundIDs(p))
	}
	if r, _ := w.searchNames(other, admin, "зеф"); r.status != 403 {
		t.Errorf("bot admin of another bot: %d", r.status)
	}
	if r, _ := w.searchNames(bot, w.token(0, platform.RoleMember), "зеф"); r.status != 403 {
		t.Errorf("member: %d", r.status)
	}
	if r, _ := w.searchNames(bot, w.token(1, platform.RoleOwner), "зеф"); r.status != 404 {
		t.Errorf("another account's bot: %d", r.status)
	}
	if r, _ := w.searchNames("01JNOSUCHBOT00000000000000", owner, "зеф"); r.status != 404 {
		t.Errorf("no such bot: %d", r.status)
	}

	// Bad names and cursors are 400s naming the field.
	for _, bad := range []string{"", "   ", "!!!", strings.Repeat("я", 201)} {
		r, _ := w.searchNames(bot, owner, bad)
		if r.status != 400 || !strings.Contains(string(r.body), `"field":"name"`) {
			t.Errorf("name %.20q: %d %s", bad, r.status, r.body)
		}
	}
	if r := w.call("GET", "/v1/bots/"+bot+"/end-users", owner, ""); r.status != 400 {
		t.Errorf("no name: %d", r.status)
	}
	if r, _ := w.searchNames(bot, owner, strings.Repeat("я", 200)); r.status != 200 {
		t.Errorf("200 characters: %d", r.status)
	}
	if r, _ := w.searchNames(bot, owner, "зеф", "cursor", "garbage!"); r.status != 400 {
		t.Errorf("bad cursor: %d", r.status)
	}
	if r, _ := w.searchNames(bot, owner, "зеф", "limit", "0"); r.status != 400 {
		t.Errorf("bad limit: %d", r.status)
	}
}

// Pages of a search neither skip nor repeat, also when an end user has several words that match,
// and a cursor of one search is refused by another.
func TestSearchEndUsersPaginates(t *testing.T) {
	w := newWorld(t)
	bot := w.manifest.Accounts[0].Bots[0].ID
	want := map[string]bool{}
	for _, name := range []string{"Кварц Кварцев", "Кварца Кварценко-Кварцева", "Кварц", "Кварцевич Ыван", "Ыван Кварцухин", "Ёж Квар"} {
		want[w.putNamedEndUser(0, bot, name).ID] = true
	}
	w.putNamedEndUser(0, bot, "Квазимодо Ыванов")
	owner := w.token(0, platform.RoleOwner)
	seen, cursor, pages := map[string]int{}, "", 0
	for {
		extra := []string{"limit", "2"}
		if cursor != "" {
			extra = append(extra, "cursor", cursor)
		}
		r, p := w.searchNames(bot, owner, "КВАР", extra...)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", pages, r.status, r.body)
		}
		pages++
		if len(p.Items) > 2 {
			t.Fatalf("page %d has %d items", pages, len(p.Items))
		}
		for _, it := range p.Items {
			seen[it.ID]++
		}
		if p.NextCursor == "" || pages > 10 {
			if pages == 1 {
				t.Fatal("one page of 2 for 6 matches")
			}
			break
		}
		cursor = p.NextCursor
	}
	for id := range want {
		if seen[id] != 1 {
			t.Errorf("%s listed %d times", id, seen[id])
		}
	}
	if len(seen) != len(want) {
		t.Errorf("listed %d end users, want %d", len(seen), len(want))
	}
	_, p := w.searchNames(bot, owner, "квар", "limit", "1")
	if r, _ := w.searchNames(bot, owner, "ыван", "cursor", p.NextCursor); r.status != 400 {
		t.Errorf("a cursor of another search: %d", r.status)
	}
}
