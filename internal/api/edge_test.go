package api_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/scopetest"
)

var pathParam = regexp.MustCompile(`\{[A-Za-z]+\}`)

// edgeWorld is a world with an end-customer request, so every path id of the routes has a real
// value of the caller's account, and a snapshot of everything a refused call must leave as it was.
func edgeWorld(t *testing.T) (*world, *strings.Replacer, func() scopetest.Snapshot) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	bot := a.Bots[0].ID
	eu := endUserOf(a, bot)
	req, _, err := w.sys.Requests.SubmitEndCustomer(w.ctx, requests.EndCustomer{AccountID: a.ID, BotID: bot, EndUserID: eu.ID,
		Requester: w.env.Address("customer")})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	msg := ""
	for _, e := range a.EndUsers {
		if ms, err := w.sys.Store.InboxMessages(w.ctx, e.ID); err == nil && len(ms) > 0 && ms[0].BotID == bot {
			msg = ms[0].ID
			break
		}
	}
	if msg == "" {
		t.Fatal("no inbox message on the bot")
	}
	ids := strings.NewReplacer("{botId}", bot, "{endUserId}", eu.ID, "{messageId}", msg, "{id}", req.ID)
	snap := func() scopetest.Snapshot {
		t.Helper()
		w.settle()
		s, err := scopetest.Take(w.ctx, w.env.DynamoDB, []string{w.env.Tables[datamap.PlatformTable], w.env.Tables[datamap.LedgerTable]},
			w.env.S3, []string{w.env.Buckets[datamap.FilesBucket]})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	return w, ids, snap
}

// callerOf is who may call a route: an operator the ops routes, the account's owner the others.
func callerOf(path, owner, operator string) string {
	if strings.HasPrefix(path, "/v1/ops/") {
		return operator
	}
	return owner
}

// Every id in a dashboard route's path is checked for its shape before anything is read: an id
// past DynamoDB's key limits, or of other characters, answers 404 problem+json (not a 500 from
// DynamoDB), and nothing changes. The routes are the API's own list, so a new route is checked too.
func TestEveryPathIDOfAWrongShapeIsNotFound(t *testing.T) {
	w, ids, snap := edgeWorld(t)
	owner, officer := w.token(0, platform.RoleOwner), w.operatorToken("officer-7", "Ирина Смирнова")
	before := snap()
	bad := []string{strings.Repeat("A", 1200), strings.Repeat("0", 129), "a%23b", "%D0%B8d"}
	checked := 0
	for _, r := range w.sys.API().Routes() {
		if !r.Auth {
			continue // the public email-action route answers its own HTML 404 (emailactions_test)
		}
		params := pathParam.FindAllString(r.Path, -1)
		for _, p := range params {
			for _, id := range bad {
				path := ids.Replace(strings.Replace(r.Path, p, id, 1))
				body := ""
				if r.Method == "POST" {
					body = `{"reason":"no"}`
				}
				got := w.call(r.Method, path, callerOf(r.Path, owner, officer), body)
				if got.status != 404 || got.header.Get("Content-Type") != "application/problem+json" {
					t.Errorf("%s %s with a %d-byte %s: %d %s, want 404 problem+json", r.Method, r.Path, len(id), p, got.status, got.body)
				}
				checked++
			}
		}
	}
	if checked == 0 {
		t.Fatal("no route has a path id")
	}
	if d := scopetest.Diff(before, snap(), nil, nil, nil); len(d) > 0 {
		t.Fatalf("refused calls changed %d items, first %v", len(d), d[:min(3, len(d))])
	}
}

// Every POST route takes JSON only: a body sent as text/plain, a form, or with no type answers 415
// problem+json before anything is read, and nothing changes — above all, no account deletion is
// scheduled by a text/plain body a foreign page could send without a preflight. A JSON type with a
// charset, or an application/*+json type, is taken.
func TestJSONRoutesRefuseOtherContentTypes(t *testing.T) {
	w, ids, snap := edgeWorld(t)
	owner, officer := w.token(0, platform.RoleOwner), w.operatorToken("officer-7", "Ирина Смирнова")
	before := snap()
	bodies := map[string]string{
		"/v1/account/deletion":                   `{"password":"owner-password"}`,
		"/v1/end-customer-requests/{id}/decline": `{"reason":"no"}`,
		"/v1/privacy/deletions/preview":          `{"from":"2020-01-01T00:00:00Z","to":"2030-01-01T00:00:00Z"}`,
		"/v1/activity-logs/deletions":            `{"from":"2020-01-01T00:00:00Z","to":"2030-01-01T00:00:00Z"}`,
	}
	types := []string{"text/plain", "text/plain;charset=UTF-8", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
		"application/jsonx", "", "json"}
	checked := 0
	for _, r := range w.sys.API().Routes() {
		// A public POST (the button of a mailed link's page) is a form: the token in its path is
		// the credential, which a foreign page cannot know.
		if r.Method != "POST" || !r.Auth {
			continue
		}
		body, ok := bodies[r.Path]
		if !ok {
			body = "{}"
		}
		for _, ct := range types {
			got := w.call(r.Method, ids.Replace(r.Path), callerOf(r.Path, owner, officer), body, "Content-Type", ct)
			if got.status != 415 || got.header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s as %q: %d %s, want 415 problem+json", r.Method, r.Path, ct, got.status, got.body)
			}
			checked++
		}
	}
	if checked == 0 {
		t.Fatal("no POST route")
	}
	if d := scopetest.Diff(before, snap(), nil, nil, nil); len(d) > 0 {
		t.Fatalf("refused calls changed %d items, first %v", len(d), d[:min(3, len(d))])
	}
	if _, err := w.sys.Requests.CurrentAccountDeletion(w.ctx, w.manifest.Accounts[0].ID); err == nil {
		t.Fatal("a refused call scheduled the account's deletion")
	}
	for _, ct := range []string{"application/json; charset=utf-8", "application/problem+json"} {
		if got := w.call("POST", "/v1/privacy/deletions/preview", owner, bodies["/v1/privacy/deletions/preview"], "Content-Type", ct); got.status != 200 {
			t.Errorf("preview as %q: %d %s", ct, got.status, got.body)
		}
	}
	if got := w.call("POST", "/v1/account/deletion", owner, bodies["/v1/account/deletion"], "Content-Type", "Application/JSON;charset=UTF-8"); got.status != 202 {
		t.Errorf("account deletion as JSON: %d %s", got.status, got.body)
	}
}

// The token's claims name keys too: an account_id of the wrong shape or a sub past any identity
// provider's length is refused with 401 before anything is read, not a 500 from DynamoDB.
func TestClaimsOfAWrongShapeAreRefused(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	for _, c := range []struct{ sub, acct string }{
		{w.member(0, platform.RoleOwner), strings.Repeat("A", 1200)},
		{strings.Repeat("s", 1200), a.ID},
		{w.member(0, platform.RoleOwner), "acct#1"},
	} {
		tok, err := w.iss.Mint(c.sub, c.acct, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if r := w.call("GET", "/v1/deletion-requests", tok, ""); r.status != 401 {
			t.Errorf("sub %d bytes, account_id %d bytes: %d %s, want 401", len(c.sub), len(c.acct), r.status, r.body)
		}
	}
}
