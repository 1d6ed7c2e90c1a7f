package api_test

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

var replyToken = regexp.MustCompile(`\+([a-z0-9]+)@`)

// The cancel link of the confirmation mail: opening it asks, the button cancels, again is the same.
func TestTheCancelLinkOfTheConfirmationMail(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	req, _, err := w.sys.Requests.RequestAccountDeletion(w.ctx, requests.AccountDeletion{AccountID: a.ID, Source: "dashboard"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	token := ""
	for _, m := range w.env.AllSentMail(t) {
		if strings.Contains(m.Subject, req.ID) && len(m.ReplyTo) > 0 {
			if mm := replyToken.FindStringSubmatch(m.ReplyTo[0]); mm != nil {
				token = mm[1]
			}
		}
	}
	if token == "" {
		t.Fatal("no confirmation mail with a reply token")
	}
	link := "/v1/email-actions/" + token
	// Opening the link (as a mail scanner does, with or without the old ?do=1) only asks: the page
	// names the action, the account, the request and its dates, in the request's language.
	for _, open := range []string{link, link + "?do=1"} {
		ask := w.call("GET", open, "", "")
		page := string(ask.body)
		if ask.status != 200 || !strings.Contains(page, `<form method="post">`) || !strings.Contains(page, req.ID) ||
			!strings.Contains(page, "Отменить удаление учётной записи «") || !strings.Contains(page, "безвозвратно с ") {
			t.Fatalf("opening %s: %d %s", open, ask.status, page)
		}
		if got, _ := w.sys.Ledger.Get(w.ctx, req.ID); got.Status != request.StatusSoftDeleted {
			t.Fatalf("opening the link acted: %s", got.Status)
		}
	}
	if r := w.call("POST", link, "", ""); r.status != 200 || !strings.Contains(string(r.body), req.ID) ||
		!strings.Contains(string(r.body), "отменено") {
		t.Fatalf("the button: %d %s", r.status, r.body)
	}
	if got, _ := w.sys.Ledger.Get(w.ctx, req.ID); got.Status != request.StatusCancelled {
		t.Fatalf("after the button: %s", got.Status)
	}
	if acct, _ := w.sys.Store.Account(w.ctx, a.ID); acct.Status != platform.AccountActive {
		t.Fatalf("account %s after the cancel", acct.Status)
	}
	if r := w.call("POST", link, "", ""); r.status != 200 {
		t.Fatalf("the button again: %d", r.status)
	}
	if r := w.call("POST", "/v1/email-actions/not-a-token", "", ""); r.status != 404 {
		t.Fatalf("unknown token: %d", r.status)
	}
}

// A verification link works for 72 hours, then it is unknown; within them it starts the request.
func TestAConfirmLinkExpiresAfter72Hours(t *testing.T) {
	w := newWorld(t)
	make := func(i int, token string) request.Request {
		a := w.manifest.Accounts[i]
		r, _, err := w.sys.Ledger.CreateUnique(w.ctx, request.Request{ID: platform.NewID(start), AccountID: a.ID, Kind: request.KindAccountDeletion,
			Source: "email", Status: request.StatusAwaitingVerification, Scope: platform.ScopeRef{Kind: datamap.ScopeAccount, AccountID: a.ID}},
			ledger.AccountDeletionSlot(a.ID))
		if err != nil {
			t.Fatal(err)
		}
		if err := w.sys.Ledger.PutReference(w.ctx, ledger.RefToken, token, r.ID, "confirm"); err != nil {
			t.Fatal(err)
		}
		return r
	}
	stale := make(0, "stale0token")
	if _, err := w.eng.Advance(w.ctx, 73*time.Hour); err != nil {
		t.Fatal(err)
	}
	fresh := make(1, "fresh1token")
	if r := w.call("GET", "/v1/email-actions/stale0token", "", ""); r.status != 404 {
		t.Fatalf("the page of a 73-hour-old link: %d", r.status)
	}
	if r := w.call("POST", "/v1/email-actions/stale0token", "", ""); r.status != 404 {
		t.Fatalf("a 73-hour-old link: %d", r.status)
	}
	if got, _ := w.sys.Ledger.Get(w.ctx, stale.ID); got.Status != request.StatusAwaitingVerification {
		t.Fatalf("an expired link acted: %s", got.Status)
	}
	if r := w.call("GET", "/v1/email-actions/fresh1token", "", ""); r.status != 200 || !strings.Contains(string(r.body), fresh.ID) ||
		!strings.Contains(string(r.body), `<form method="post">`) {
		t.Fatalf("the page of a fresh link: %d %s", r.status, r.body)
	}
	if got, _ := w.sys.Ledger.Get(w.ctx, fresh.ID); got.Status != request.StatusAwaitingVerification {
		t.Fatalf("opening a fresh link acted: %s", got.Status)
	}
	if r := w.call("POST", "/v1/email-actions/fresh1token", "", ""); r.status != 200 {
		t.Fatalf("a fresh link: %d %s", r.status, r.body)
	}
	w.settle()
	if got, _ := w.sys.Ledger.Get(w.ctx, fresh.ID); got.Status != request.StatusSoftDeleted || got.ExecutionARN == "" {
		t.Fatalf("after confirming: %s, execution %q", got.Status, got.ExecutionARN)
	}
}
