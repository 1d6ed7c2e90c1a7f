package api_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/scopetest"
)

// An owner of one account aims every route that takes an id at the other account's ids: each
// answers 404 (or, for listings, shows nothing of it) and the other account's data, files and
// requests are exactly as they were.
func TestAnotherAccountsIdsAreNotFoundAndNothingChanges(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	bot := a.Bots[0].ID
	eu := endUserOf(a, bot)
	var inbox platform.InboxMessage
	for _, e := range a.EndUsers {
		if ms, err := w.sys.Store.InboxMessages(w.ctx, e.ID); err == nil && len(ms) > 0 {
			inbox = ms[0]
			break
		}
	}
	req, _, err := w.sys.Requests.SubmitEndCustomer(w.ctx, requests.EndCustomer{AccountID: a.ID, BotID: bot, EndUserID: eu.ID,
		Requester: w.env.Address("customer")})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	// The platform's data and files must not change at all; in the ledger, the first account's request.
	tables := []string{w.env.Tables[datamap.PlatformTable]}
	reqBefore, err := w.sys.Ledger.Get(w.ctx, req.ID)
	if err != nil {
		t.Fatal(err)
	}
	buckets := []string{w.env.Buckets[datamap.FilesBucket]}
	before, err := scopetest.Take(w.ctx, w.env.DynamoDB, tables, w.env.S3, buckets)
	if err != nil {
		t.Fatal(err)
	}
	intruder := w.token(1, "owner")
	logs, err := w.sys.Store.ActivityLogs(w.ctx, a.ID, start.AddDate(-5, 0, 0), start.AddDate(1, 0, 0), platform.QuerySpec{})
	if err != nil || len(logs.Items) == 0 {
		t.Fatalf("activity logs of the first account: %v", err)
	}
	notFound := []struct{ method, path, body string }{
		{"GET", "/v1/deletion-requests/" + req.ID, ""},
		{"GET", "/v1/deletion-requests/" + req.ID + "/evidence", ""},
		{"POST", "/v1/end-customer-requests/" + req.ID + "/approve", ""},
		{"POST", "/v1/end-customer-requests/" + req.ID + "/decline", `{"reason":"no"}`},
		{"DELETE", "/v1/bots/" + bot + "/end-users/" + eu.ID, ""},
		{"DELETE", "/v1/bots/" + inbox.BotID + "/inbox/messages/" + inbox.ID, ""},
		{"GET", "/v1/bots/" + bot + "/end-users?name=" + url.QueryEscape(strings.Fields(eu.Name)[0]), ""},
		{"GET", "/v1/privacy/end-users?botId=" + bot, ""},
		{"POST", "/v1/privacy/deletions/preview", `{"botId":"` + bot + `","from":"2020-01-01T00:00:00Z","to":"2030-01-01T00:00:00Z"}`},
	}
	for _, c := range notFound {
		if r := w.call(c.method, c.path, intruder, c.body); r.status != 404 {
			t.Errorf("%s %s from another account: %d, want 404", c.method, c.path, r.status)
		}
	}
	// Listings show only the caller's own account.
	var list struct{ Items []struct{ ID string } }
	w.call("GET", "/v1/deletion-requests", intruder, "").json(t, &list)
	w.call("GET", "/v1/end-customer-requests", intruder, "").json(t, &list)
	for _, it := range list.Items {
		if it.ID == req.ID {
			t.Error("another account's request is listed")
		}
	}
	if r := w.call("POST", "/v1/activity-logs/deletions", intruder, `{"ids":["`+logs.Items[0].ID+`"]}`); r.status != 404 {
		t.Errorf("activity-log deletion with another account's id: %d, want 404", r.status)
	}
	w.settle()
	after, err := scopetest.Take(w.ctx, w.env.DynamoDB, tables, w.env.S3, buckets)
	if err != nil {
		t.Fatal(err)
	}
	if d := scopetest.Diff(before, after, nil, nil, nil); len(d) > 0 {
		t.Fatalf("the platform's data changed: %d differences, first %v", len(d), d[:min(3, len(d))])
	}
	if reqAfter, err := w.sys.Ledger.Get(w.ctx, req.ID); err != nil || reqAfter.Version != reqBefore.Version {
		t.Fatalf("the first account's request changed: %v", err)
	}
}
