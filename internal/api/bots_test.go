package api_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/seed"
)

// botAdmin makes the first bot admin of account i the admin of its first bot only, and returns
// them, that bot, and the account's second bot.
func (w *world) botAdmin(i int) (sub, theirs, other string) {
	w.t.Helper()
	a := w.manifest.Accounts[i]
	if len(a.Bots) < 2 {
		w.t.Fatal("the test needs two bots")
	}
	w.setBotAdmin(i, w.member(i, platform.RoleBotAdmin), a.Bots[0].ID)
	return w.member(i, platform.RoleBotAdmin), a.Bots[0].ID, a.Bots[1].ID
}

// setBotAdmin makes sub of account i a bot admin of exactly bot.
func (w *world) setBotAdmin(i int, sub, bot string) {
	w.t.Helper()
	m, err := w.sys.Store.TeamMember(w.ctx, w.manifest.Accounts[i].ID, sub)
	if err != nil {
		w.t.Fatal(err)
	}
	m.Role, m.BotIDs = platform.RoleBotAdmin, []string{bot}
	if err := w.sys.Store.Put(w.ctx, m); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) tokenFor(i int, sub string) string {
	tok, err := w.iss.Mint(sub, w.manifest.Accounts[i].ID, 3600e9)
	if err != nil {
		w.t.Fatal(err)
	}
	return tok
}

func endUserOf(a seed.ManifestAccount, bot string) seed.ManifestEndUser {
	for _, eu := range a.EndUsers {
		if eu.BotID == bot {
			return eu
		}
	}
	return seed.ManifestEndUser{}
}

// An end-customer request that matched several end users lists them in the queue; the bot's admin
// approves it only by naming one of them, and only that one's data goes.
func TestEndCustomerCandidatesOverHTTP(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	sub, theirs, _ := w.botAdmin(0)
	var both []string
	for _, eu := range a.EndUsers {
		if eu.BotID == theirs && len(both) < 2 {
			both = append(both, eu.ID)
		}
	}
	if len(both) != 2 {
		t.Fatal("the bot has fewer than two seeded end users")
	}
	req, _, err := w.sys.Requests.SubmitEndCustomer(w.ctx, requests.EndCustomer{AccountID: a.ID, BotID: theirs, EndUserID: both[0],
		Candidates: both, Requester: w.env.Address("customer"), Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	tok := w.tokenFor(0, sub)
	var q struct {
		Items []struct {
			ID         string
			Candidates []struct{ ID, DisplayName, Channel string }
		}
	}
	w.call("GET", "/v1/end-customer-requests", tok, "").json(t, &q)
	if len(q.Items) != 1 || len(q.Items[0].Candidates) != 2 || q.Items[0].Candidates[0].ID != both[0] ||
		q.Items[0].Candidates[1].ID != both[1] || q.Items[0].Candidates[1].DisplayName == "" {
		t.Fatalf("queue: %+v", q)
	}
	for name, body := range map[string]string{"no body": "", "no pick": "{}", "not a candidate": `{"endUserId":"01KNOTACANDIDATE000000000"}`,
		"unknown field": `{"endUser":"` + both[1] + `"}`} {
		if r := w.call("POST", "/v1/end-customer-requests/"+req.ID+"/approve", tok, body); r.status != 400 || !strings.Contains(r.header.Get("Content-Type"), "problem+json") {
			t.Fatalf("approve with %s: %d %s", name, r.status, r.body)
		}
	}
	if got, _ := w.sys.Ledger.Get(w.ctx, req.ID); got.Decision != nil || got.Scope.EndUserID != both[0] {
		t.Fatalf("a refused approval changed the request: %+v", got.Decision)
	}
	r := w.call("POST", "/v1/end-customer-requests/"+req.ID+"/approve", tok, `{"endUserId":"`+both[1]+`"}`)
	if r.status != 200 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	w.settle()
	got, _ := w.sys.Ledger.Get(w.ctx, req.ID)
	if got.Status != request.StatusCompleted || got.Scope.EndUserID != both[1] {
		t.Fatalf("status %s on %s", got.Status, got.Scope.EndUserID)
	}
	if _, err := w.sys.Store.EndUser(w.ctx, both[1]); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("the picked end user is still there: %v", err)
	}
	if _, err := w.sys.Store.EndUser(w.ctx, both[0]); err != nil {
		t.Fatalf("the other candidate was touched: %v", err)
	}
}

func TestDeleteOneEndUserByRole(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	sub, theirs, other := w.botAdmin(0)
	admin := w.tokenFor(0, sub)
	eu, euOther := endUserOf(a, theirs), endUserOf(a, other)
	if r := w.call("DELETE", "/v1/bots/"+other+"/end-users/"+euOther.ID, admin, ""); r.status != 403 {
		t.Fatalf("bot admin on another bot: %d", r.status)
	}
	if r := w.call("DELETE", "/v1/bots/"+theirs+"/end-users/"+eu.ID, w.token(0, platform.RoleMember), ""); r.status != 403 {
		t.Fatalf("member: %d", r.status)
	}
	// Another account: its owner cannot reach this account's bot or end user.
	before := w.remaining(platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: a.ID, BotID: theirs, EndUserID: eu.ID})
	if r := w.call("DELETE", "/v1/bots/"+theirs+"/end-users/"+eu.ID, w.token(1, platform.RoleOwner), ""); r.status != 404 {
		t.Fatalf("another account: %d", r.status)
	}
	// The end user under the wrong bot of the right account.
	if r := w.call("DELETE", "/v1/bots/"+theirs+"/end-users/"+euOther.ID, admin, ""); r.status != 404 {
		t.Fatalf("end user of another bot: %d", r.status)
	}
	w.settle()
	if after := w.remaining(platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: a.ID, BotID: theirs, EndUserID: eu.ID}); len(after) != len(before) {
		t.Fatal("a refused call deleted data")
	}
	r := w.call("DELETE", "/v1/bots/"+theirs+"/end-users/"+eu.ID, admin, "")
	if r.status != 202 {
		t.Fatalf("bot admin: %d %s", r.status, r.body)
	}
	var req struct{ ID string }
	r.json(t, &req)
	again := w.call("DELETE", "/v1/bots/"+theirs+"/end-users/"+eu.ID, admin, "")
	var req2 struct{ ID string }
	again.json(t, &req2)
	if again.status != 202 || req2.ID != req.ID {
		t.Fatalf("deleting again: %d, request %s (first %s)", again.status, req2.ID, req.ID)
	}
	w.settle()
	got, err := w.sys.Ledger.Get(w.ctx, req.ID)
	if err != nil || got.Status != request.StatusCompleted {
		t.Fatalf("request %s: %v", got.Status, err)
	}
	if left := w.remaining(platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: a.ID, BotID: theirs, EndUserID: eu.ID}); len(left) > 0 {
		t.Fatalf("left: %v", left)
	}
	if _, err := w.sys.Store.EndUser(w.ctx, euOther.ID); err != nil {
		t.Fatalf("another end user went too: %v", err)
	}
}

func TestDeleteOneInboxMessage(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	var msg platform.InboxMessage
	for _, eu := range a.EndUsers {
		ms, err := w.sys.Store.InboxMessages(w.ctx, eu.ID)
		if err == nil && len(ms) > 0 {
			msg = ms[0]
			break
		}
	}
	if msg.ID == "" {
		t.Fatal("no inbox message in the demo data")
	}
	path := "/v1/bots/" + msg.BotID + "/inbox/messages/" + msg.ID
	if r := w.call("DELETE", path, w.token(1, platform.RoleOwner), ""); r.status != 404 {
		t.Fatalf("another account: %d", r.status)
	}
	if r := w.call("DELETE", path, w.token(0, platform.RoleOwner), ""); r.status != 204 {
		t.Fatalf("owner: %d %s", r.status, r.body)
	}
	if _, err := w.sys.Store.InboxMessage(w.ctx, msg.ID); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("the message is still there: %v", err)
	}
	if r := w.call("DELETE", path, w.token(0, platform.RoleOwner), ""); r.status != 404 {
		t.Fatalf("again: %d", r.status)
	}
	req, err := w.sys.Ledger.Get(w.ctx, "inbox-"+msg.ID)
	if err != nil || req.Status != request.StatusCompleted || len(req.Evidence) != 1 {
		t.Fatalf("the deletion's request: %+v %v", req.Status, err)
	}
}

func TestEndCustomerQueueOverHTTP(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	sub, theirs, other := w.botAdmin(0)
	eu := endUserOf(a, theirs)
	req, _, err := w.sys.Requests.SubmitEndCustomer(w.ctx, requests.EndCustomer{AccountID: a.ID, BotID: theirs, EndUserID: eu.ID,
		Requester: w.env.Address("customer"), Locale: "ru"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	var q struct{ Items []struct{ ID, Status string } }
	w.call("GET", "/v1/end-customer-requests", w.tokenFor(0, sub), "").json(t, &q)
	if len(q.Items) != 1 || q.Items[0].ID != req.ID || q.Items[0].Status != "awaiting_verification" {
		t.Fatalf("queue of the bot's admin: %+v", q)
	}
	// An admin of another bot only: an empty queue, and the request is not theirs to decide.
	otherAdmin := w.member(0, platform.RoleMember)
	w.setBotAdmin(0, otherAdmin, other)
	tok := w.tokenFor(0, otherAdmin)
	w.call("GET", "/v1/end-customer-requests", tok, "").json(t, &q)
	if len(q.Items) != 0 {
		t.Errorf("admin of another bot sees %d requests", len(q.Items))
	}
	if r := w.call("POST", "/v1/end-customer-requests/"+req.ID+"/approve", tok, ""); r.status != 404 {
		t.Errorf("admin of another bot approves: %d", r.status)
	}
	if r := w.call("POST", "/v1/end-customer-requests/"+req.ID+"/decline", w.tokenFor(0, sub), `{"reason":""}`); r.status != 400 {
		t.Fatalf("decline without a reason: %d", r.status)
	}
	if r := w.call("POST", "/v1/end-customer-requests/"+req.ID+"/approve", w.token(1, platform.RoleOwner), ""); r.status != 404 {
		t.Fatalf("another account approves: %d", r.status)
	}
	r := w.call("POST", "/v1/end-customer-requests/"+req.ID+"/approve", w.tokenFor(0, sub), "", "Idempotency-Key", "a-1")
	if r.status != 200 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	if r := w.call("POST", "/v1/end-customer-requests/"+req.ID+"/decline", w.tokenFor(0, sub), `{"reason":"changed"}`); r.status != 409 {
		t.Fatalf("decline after the approval: %d", r.status)
	}
	w.settle()
	got, _ := w.sys.Ledger.Get(w.ctx, req.ID)
	if got.Status != request.StatusCompleted {
		t.Fatalf("status %s", got.Status)
	}
}
