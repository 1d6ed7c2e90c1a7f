package api_test

import (
	"errors"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

var actLink = regexp.MustCompile(`https?://\S+/v1/acts/\S+`)

type holdReply struct {
	ID           string
	AccountID    string
	Scope        struct{ Kind, ID string }
	Authority    string
	AuthorityRef string
	Until        string
	PlacedBy     string
	ReleasedBy   string
	ReleaseNote  string
	ReleasedAt   *string
	Actions      []struct{ Actor, Action, Note string }
	TTL          struct {
		State string
		Items int64
	}
}

// stored counts the items and files of a scope, held or not.
func (w *world) stored(ref platform.ScopeRef) int {
	w.t.Helper()
	n := 0
	if err := w.sys.Store.Walk(w.ctx, ref, func(platform.Target) error { n++; return nil }); err != nil {
		w.t.Fatal(err)
	}
	return n
}

func historyHas(r request.Request, actor, note string) bool {
	for _, e := range r.History {
		if e.Actor == actor && strings.Contains(e.Note, note) {
			return true
		}
	}
	return false
}

// A hold placed through the ops API stops the deletion of what it covers: the account's deletion,
// open when the hold is placed, destroys the rest and stands held with nothing of the held end
// user destroyed. Releasing the hold hands the request back to its workflow, which destroys what
// the hold kept and draws up the act of that round. The operator is recorded on the hold and in
// the request's history for both actions.
func TestAHoldStopsADeletionAndItsReleaseFinishesIt(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	bot, eu := a.EndUsers[0].BotID, a.EndUsers[0].ID
	officer := w.operatorToken("officer-1", "Ирина Смирнова")
	actor := "operator:officer-1 (Ирина Смирнова)"

	acct, err := w.sys.Store.Account(w.ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	acct.Email = w.env.Address("held-owner")
	if err := w.sys.Store.Put(w.ctx, acct); err != nil {
		t.Fatal(err)
	}
	del := w.call("POST", "/v1/account/deletion", w.token(0, platform.RoleOwner), `{"password":"owner-password"}`)
	if del.status != 202 {
		t.Fatalf("account deletion: %d %s", del.status, del.body)
	}
	var dr struct{ ID string }
	del.json(t, &dr)
	w.settle()

	r := w.call("POST", "/v1/ops/holds", officer, `{"accountId":"`+a.ID+`","scope":{"kind":"end_user","id":"`+eu+`"},
		"reason":"уголовное дело","authority":"СК России","authorityRef":"№ 12/2026","until":"2099-01-31"}`)
	if r.status != 201 {
		t.Fatalf("place: %d %s", r.status, r.body)
	}
	var h holdReply
	r.json(t, &h)
	if h.PlacedBy != actor || h.Authority != "СК России" || h.AuthorityRef != "№ 12/2026" || h.Until != "2099-01-31" ||
		h.Scope.Kind != "end_user" || h.Scope.ID != eu || len(h.Actions) != 1 || h.Actions[0].Actor != actor {
		t.Fatalf("placed hold: %+v", h)
	}
	// The demo end user's items fit the call's time: their TTL is off before it answers.
	if h.TTL.State != "removed" || h.TTL.Items == 0 {
		t.Errorf("placed hold's TTL: %+v", h.TTL)
	}
	scope := platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: a.ID, BotID: bot, EndUserID: eu}
	before := w.stored(scope)
	if before == 0 {
		t.Fatal("the end user has no data to hold")
	}

	// The soft-delete window passes; the hard delete destroys all but what the hold keeps.
	if _, err := w.eng.Advance(w.ctx, 31*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	w.settle()
	held, err := w.sys.Ledger.Get(w.ctx, dr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if held.Status != request.StatusHeld {
		t.Fatalf("account deletion under hold: %s", held.Status)
	}
	if left := w.stored(scope); left != before {
		t.Fatalf("the hold kept %d of the end user's %d items and files", left, before)
	}

	// Listing: the hold is active; another account's list does not show it.
	var list struct{ Items []holdReply }
	w.call("GET", "/v1/ops/holds?account="+a.ID+"&active=true", officer, "").json(t, &list)
	if len(list.Items) != 1 || list.Items[0].ID != h.ID {
		t.Fatalf("active holds: %+v", list.Items)
	}
	w.call("GET", "/v1/ops/holds?account="+w.manifest.Accounts[1].ID, officer, "").json(t, &list)
	if len(list.Items) != 0 {
		t.Fatalf("another account's holds: %+v", list.Items)
	}

	rel := w.call("POST", "/v1/ops/holds/"+h.ID+"/release", officer, `{"note":"дело закрыто"}`)
	if rel.status != 200 {
		t.Fatalf("release: %d %s", rel.status, rel.body)
	}
	rel.json(t, &h)
	if h.ReleasedAt == nil || h.ReleasedBy != actor || h.ReleaseNote != "дело закрыто" || len(h.Actions) != 2 {
		t.Fatalf("released hold: %+v", h)
	}
	w.settle()
	done, err := w.sys.Ledger.Get(w.ctx, dr.ID)
	if err != nil {
		t.Fatal(err)
	}
	if done.Status != request.StatusAwaitingBackupRotation || len(done.Evidence) != len(held.Evidence)+1 {
		t.Fatalf("after the release: %s, evidence %v (held with %v)", done.Status, done.Evidence, held.Evidence)
	}
	if left := w.stored(scope); left != 0 {
		t.Errorf("%d items and files left after the release", left)
	}
	if _, err := w.sys.Deletion.Evidence(w.ctx, dr.ID); err != nil {
		t.Errorf("the acts of the request: %v", err)
	}
	if !historyHas(done, actor, "legal hold "+h.ID+" placed") || !historyHas(done, actor, "legal hold "+h.ID+" released") {
		t.Errorf("the request's history does not name the operator for both actions: %+v", done.History)
	}

	// Once the backups have rotated, the final mail links to the act of the last round, and the
	// link opens it without a login (the account is gone).
	if _, err := w.eng.Advance(w.ctx, 31*24*time.Hour); err != nil {
		t.Fatal(err)
	}
	w.settle()
	last := done.Evidence[len(done.Evidence)-1]
	link := ""
	for _, m := range w.env.SentMail(t) {
		if strings.Contains(m.Subject, dr.ID) && len(m.Attachments) > 0 {
			link = actLink.FindString(m.Text)
		}
	}
	if link == "" || !strings.Contains(link, "/v1/acts/"+last+"?") {
		t.Fatalf("the final mail's link to the act: %q", link)
	}
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	if r := w.call("GET", u.RequestURI(), "", ""); r.status != 200 || !strings.Contains(string(r.body), last) {
		t.Errorf("the final mail's link: %d %.200s", r.status, r.body)
	}

	// Released again: 409, and nothing changes; unknown: 404.
	if r := w.call("POST", "/v1/ops/holds/"+h.ID+"/release", officer, `{"note":"again"}`); r.status != 409 {
		t.Errorf("second release: %d %s", r.status, r.body)
	}
	if again, _ := w.sys.Ledger.Hold(w.ctx, h.ID); len(again.Actions) != 2 {
		t.Errorf("the refused release changed the hold: %+v", again.Actions)
	}
	if r := w.call("POST", "/v1/ops/holds/01JNOSUCHHOLD0000000000000/release", officer, `{"note":"x"}`); r.status != 404 {
		t.Errorf("unknown hold: %d %s", r.status, r.body)
	}
}

// Bad input is a 400 problem and places nothing.
func TestPlacingAHoldValidates(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	officer := w.operatorToken("officer-1", "Ирина")
	other := w.manifest.Accounts[1].Bots[0].ID
	cases := map[string]string{
		"no reason":          `{"accountId":"` + a.ID + `","scope":{"kind":"account","id":""},"reason":" ","authority":"court","authorityRef":"1"}`,
		"no authority":       `{"accountId":"` + a.ID + `","scope":{"kind":"account","id":""},"reason":"r","authority":"","authorityRef":"1"}`,
		"no reference":       `{"accountId":"` + a.ID + `","scope":{"kind":"account","id":""},"reason":"r","authority":"court","authorityRef":""}`,
		"unknown scope kind": `{"accountId":"` + a.ID + `","scope":{"kind":"planet","id":"x"},"reason":"r","authority":"court","authorityRef":"1"}`,
		"another's bot":      `{"accountId":"` + a.ID + `","scope":{"kind":"bot","id":"` + other + `"},"reason":"r","authority":"court","authorityRef":"1"}`,
		"no such end user":   `{"accountId":"` + a.ID + `","scope":{"kind":"end_user","id":"nobody"},"reason":"r","authority":"court","authorityRef":"1"}`,
		"until in the past":  `{"accountId":"` + a.ID + `","scope":{"kind":"account","id":""},"reason":"r","authority":"court","authorityRef":"1","until":"2020-01-01"}`,
		"until not a date":   `{"accountId":"` + a.ID + `","scope":{"kind":"account","id":""},"reason":"r","authority":"court","authorityRef":"1","until":"soon"}`,
		"unknown field":      `{"accountId":"` + a.ID + `","scope":{"kind":"account","id":""},"reason":"r","authority":"court","authorityRef":"1","x":1}`,
	}
	for what, body := range cases {
		r := w.call("POST", "/v1/ops/holds", officer, body)
		if r.status != 400 || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
			t.Errorf("%s: %d %s", what, r.status, r.body)
		}
	}
	if hs, err := w.sys.Ledger.Holds(w.ctx, a.ID); err != nil || len(hs) != 0 {
		t.Errorf("refused holds were placed: %d (%v)", len(hs), err)
	}
	for _, q := range []string{"account=a%20b", "active=maybe", "account=" + a.ID + "&cursor=x", "limit=0", "cursor=garbage"} {
		if r := w.call("GET", "/v1/ops/holds?"+q, officer, ""); r.status != 400 || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
			t.Errorf("list with %s: %d %s", q, r.status, r.body)
		}
	}
	if r := w.call("POST", "/v1/ops/holds", w.token(0, platform.RoleOwner), cases["no reason"]); r.status != 403 {
		t.Errorf("an account owner placing a hold: %d", r.status)
	}
}

// An approved end-customer request a hold stopped is finished by its own workflow after the
// release: its Open keeps the decided request as it is and the decision is handed over at once.
func TestAReleasedHoldFinishesAnEndCustomerRequest(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	eu := a.EndUsers[0]
	officer := w.operatorToken("officer-2", "Pavel Orlov")
	r := w.call("POST", "/v1/ops/holds", officer, `{"accountId":"`+a.ID+`","scope":{"kind":"bot","id":"`+eu.BotID+`"},
		"reason":"civil case","authority":"Arbitration court","authorityRef":"A40-7/2026"}`)
	if r.status != 201 {
		t.Fatalf("place: %d %s", r.status, r.body)
	}
	var h holdReply
	r.json(t, &h)
	req, _, err := w.sys.Requests.SubmitEndCustomer(w.ctx, requests.EndCustomer{AccountID: a.ID, BotID: eu.BotID, EndUserID: eu.ID,
		Requester: w.env.Address("customer"), Locale: "ru"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	if _, err := w.sys.Requests.Decide(w.ctx, a.ID, req.ID, "owner:test", true, ""); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if got, _ := w.sys.Ledger.Get(w.ctx, req.ID); got.Status != request.StatusHeld {
		t.Fatalf("approved under a hold: %s", got.Status)
	}
	if r := w.call("POST", "/v1/ops/holds/"+h.ID+"/release", officer, `{"note":"settled"}`); r.status != 200 {
		t.Fatalf("release: %d %s", r.status, r.body)
	}
	w.settle()
	done, err := w.sys.Ledger.Get(w.ctx, req.ID)
	if err != nil || done.Status != request.StatusCompleted || len(done.Evidence) != 1 {
		t.Fatalf("after the release: %s, evidence %v (%v)", done.Status, done.Evidence, err)
	}
	if _, err := w.sys.Store.EndUser(w.ctx, eu.ID); !errors.Is(err, platform.ErrNotFound) {
		t.Errorf("the end user is still there: %v", err)
	}
}

// Without an account the officer sees the holds of every account, newest first, page by page:
// the active ones by default, the released ones too with active=false. An account's own list is
// newest first as well.
func TestTheOfficerListsTheHoldsOfEveryAccount(t *testing.T) {
	w := newWorld(t)
	officer := w.operatorToken("officer-1", "Ирина Смирнова")
	var ids []string
	for _, a := range w.manifest.Accounts[:2] {
		for _, ref := range []string{"A-1", "A-2"} {
			var h holdReply
			r := w.call("POST", "/v1/ops/holds", officer, `{"accountId":"`+a.ID+`","scope":{"kind":"account","id":""},
				"reason":"preservation order","authority":"court","authorityRef":"`+ref+`"}`)
			if r.status != 201 {
				t.Fatalf("place: %d %s", r.status, r.body)
			}
			r.json(t, &h)
			ids = append(ids, h.ID)
		}
	}
	if r := w.call("POST", "/v1/ops/holds/"+ids[1]+"/release", officer, `{"note":"closed"}`); r.status != 200 {
		t.Fatalf("release: %d %s", r.status, r.body)
	}
	mine := map[string]bool{}
	for _, id := range ids {
		mine[id] = true
	}
	walk := func(query string) (got []string, accounts map[string]bool) {
		t.Helper()
		accounts = map[string]bool{}
		cursor := ""
		for pages := 0; pages < 20; pages++ {
			var list struct {
				Items      []holdReply
				NextCursor string
			}
			q := query
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			r := w.call("GET", "/v1/ops/holds?"+q, officer, "")
			if r.status != 200 {
				t.Fatalf("list %s: %d %s", q, r.status, r.body)
			}
			r.json(t, &list)
			if len(list.Items) > 1 {
				t.Fatalf("a page of limit 1 has %d holds", len(list.Items))
			}
			for _, h := range list.Items {
				if mine[h.ID] {
					got = append(got, h.ID)
					accounts[h.AccountID] = true
				}
			}
			if list.NextCursor == "" {
				return got, accounts
			}
			cursor = list.NextCursor
		}
		t.Fatal("the listing never ended")
		return nil, nil
	}
	got, accounts := walk("limit=1")
	if want := []string{ids[3], ids[2], ids[0]}; strings.Join(got, ",") != strings.Join(want, ",") || len(accounts) != 2 {
		t.Errorf("holds in force %v (accounts %v), want %v from both accounts", got, accounts, want)
	}
	got, _ = walk("limit=1&active=false")
	if want := []string{ids[3], ids[2], ids[1], ids[0]}; strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("every hold %v, want %v", got, want)
	}
	var one struct{ Items []holdReply }
	w.call("GET", "/v1/ops/holds?account="+w.manifest.Accounts[0].ID, officer, "").json(t, &one)
	if len(one.Items) != 2 || one.Items[0].ID != ids[1] || one.Items[1].ID != ids[0] {
		t.Errorf("the first account's holds: %+v, want %s then %s", one.Items, ids[1], ids[0])
	}
	if r := w.call("GET", "/v1/ops/holds", w.token(0, platform.RoleOwner), ""); r.status != 403 {
		t.Errorf("an account owner listing every hold: %d", r.status)
	}
}
