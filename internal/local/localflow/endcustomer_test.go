package localflow_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// 30 April 2026: the ten business days to escalation run over the May holidays (1–3 and 9–11 May).
var lastOfApril2026 = time.Date(2026, 4, 30, 9, 0, 0, 0, time.UTC)

func submitEndCustomer(t *testing.T, w *world) (request.Request, platform.ScopeRef) {
	t.Helper()
	return submitEndCustomerIn(t, w, "ru")
}

// submitEndCustomerIn submits an end customer's request written in locale and waits for the owner.
func submitEndCustomerIn(t *testing.T, w *world, locale string) (request.Request, platform.ScopeRef) {
	t.Helper()
	a := w.manifest.Accounts[0]
	eu := a.EndUsers[0]
	scope := platform.ScopeRef{Kind: datamap.ScopeEndUser, AccountID: a.ID, BotID: eu.BotID, EndUserID: eu.ID}
	req, _, err := w.sys.Requests.SubmitEndCustomer(w.ctx, requests.EndCustomer{ID: "msg-1", AccountID: a.ID, BotID: eu.BotID,
		EndUserID: eu.ID, Requester: w.env.Address("customer"), Locale: locale})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	r := w.request(req.ID)
	if r.Status != request.StatusAwaitingVerification || r.TaskToken == "" {
		t.Fatalf("status %s, token %q: want awaiting the owner", r.Status, r.TaskToken)
	}
	if n := len(w.mailTo("owner")); n != 1 {
		t.Fatalf("%d mails to the bot owner, want 1", n)
	}
	if n := len(w.mailTo("customer")); n != 1 {
		t.Fatalf("%d mails to the requester, want the acknowledgement", n)
	}
	return r, scope
}

func TestEndCustomerRequestApprovedByTheOwner(t *testing.T) {
	w := newWorld(t, lastOfApril2026, nil)
	w.seedDemo(smallDemo())
	r, scope := submitEndCustomer(t, w)
	// Escalation after 10 business days: 4–8, 12–15 and 18 May.
	want := time.Date(2026, 5, 18, 23, 59, 59, 999999999, time.FixedZone("MSK", 3*3600))
	if !r.Deadlines[request.DeadlineEscalateAt].Equal(want) {
		t.Errorf("escalate_at %v, want %v", r.Deadlines[request.DeadlineEscalateAt], want)
	}
	// Another account cannot decide it.
	if _, err := w.sys.Requests.Decide(w.ctx, w.manifest.Accounts[1].ID, r.ID, "owner:intruder", true, ""); err != requests.ErrNoRequest {
		t.Fatalf("cross-account decision: %v, want ErrNoRequest", err)
	}
	w.advance(3 * 24 * time.Hour)
	if _, err := w.sys.Requests.Decide(w.ctx, r.AccountID, r.ID, "owner:sub", true, ""); err != nil {
		t.Fatal(err)
	}
	w.settle()
	r = w.request(r.ID)
	if r.Status != request.StatusCompleted || r.Decision == nil || !r.Decision.Approved || r.Requester != "" {
		t.Fatalf("status %s decision %+v", r.Status, r.Decision)
	}
	if left := w.remaining(scope); len(left) > 0 {
		t.Fatalf("left: %v", left)
	}
	mails := w.mailTo("customer")
	if len(mails) != 2 || !strings.Contains(mails[1].Subject, r.ID) {
		t.Fatalf("%d mails to the requester, want received and approved", len(mails))
	}
	// Deciding again is too late.
	if _, err := w.sys.Requests.Decide(w.ctx, r.AccountID, r.ID, "owner:sub", false, "changed my mind"); err == nil {
		t.Fatal("a second decision was accepted")
	}
}

func TestEndCustomerRequestDeclinedByTheOwner(t *testing.T) {
	w := newWorld(t, lastOfApril2026, nil)
	w.seedDemo(smallDemo())
	r, scope := submitEndCustomer(t, w)
	before := w.remaining(scope)
	if _, err := w.sys.Requests.Decide(w.ctx, r.AccountID, r.ID, "owner:sub", false, ""); err == nil {
		t.Fatal("a decline without a reason was accepted")
	}
	if _, err := w.sys.Requests.Decide(w.ctx, r.AccountID, r.ID, "owner:sub", false, "the account holds a contract with this customer"); err != nil {
		t.Fatal(err)
	}
	w.settle()
	r = w.request(r.ID)
	if r.Status != request.StatusDeclined {
		t.Fatalf("status %s", r.Status)
	}
	if w.settle(); w.request(r.ID).Requester != "" {
		t.Fatalf("the requester's address is kept after the last mail")
	}
	if after := w.remaining(scope); len(after) != len(before) {
		t.Fatalf("a declined request deleted data: %v → %v", before, after)
	}
	mails := w.mailTo("customer")
	if len(mails) != 2 || !strings.Contains(mails[1].Text, "contract with this customer") {
		t.Fatalf("%d mails to the requester; the decline must give the reason", len(mails))
	}
	if e := w.execution(r.ExecutionARN); e.Status != "SUCCEEDED" {
		t.Fatalf("execution %s", e.Status)
	}
}

func TestEndCustomerRequestEscalatesToThePrivacyOfficer(t *testing.T) {
	w := newWorld(t, lastOfApril2026, nil)
	w.seedDemo(smallDemo())
	r, scope := submitEndCustomer(t, w)
	// The owner says nothing until the escalation date (18 May, end of day in Moscow).
	w.advance(r.Deadlines[request.DeadlineEscalateAt].Sub(lastOfApril2026) - time.Minute)
	if n := len(w.mailTo("privacy")); n != 0 {
		t.Fatalf("escalated early: %d mails to the officer", n)
	}
	w.advance(2 * time.Minute)
	if n := len(w.mailTo("privacy")); n != 1 {
		t.Fatalf("%d mails to the privacy officer after 10 business days, want 1", n)
	}
	if e := w.execution(r.ExecutionARN); e.CurrentState != "AwaitPrivacyOfficer" {
		t.Fatalf("execution in %s", e.CurrentState)
	}
	// The officer approves.
	if _, err := w.sys.Requests.Decide(w.ctx, r.AccountID, r.ID, "privacy_officer:po", true, ""); err != nil {
		t.Fatal(err)
	}
	w.settle()
	if got := w.request(r.ID); got.Status != request.StatusCompleted {
		t.Fatalf("status %s", got.Status)
	}
	if left := w.remaining(scope); len(left) > 0 {
		t.Fatalf("left: %v", left)
	}
}

// Nobody decides within 30 days: the machine's failure path marks the request failed straight in the
// ledger (DynamoDB integration) and alerts the privacy officer (SES v2 integration), then fails.
func TestUndecidedEndCustomerRequestFailsAndAlerts(t *testing.T) {
	w := newWorld(t, lastOfApril2026, nil)
	w.seedDemo(smallDemo())
	r, scope := submitEndCustomer(t, w)
	before := w.remaining(scope)
	w.advance(31 * 24 * time.Hour)
	got := w.request(r.ID)
	if got.Status != request.StatusFailed {
		for _, h := range mustHistory(t, w, got.ExecutionARN) {
			t.Logf("%s %s %s %s %s", h.Type, h.StateName, h.Error, h.Cause, h.Output)
		}
		t.Fatalf("status %s, want failed", got.Status)
	}
	last := got.History[len(got.History)-1]
	if last.Status != request.StatusFailed || !strings.Contains(last.Note, "States.Timeout") || got.Version <= r.Version {
		t.Fatalf("last history entry %+v, version %d", last, got.Version)
	}
	failed, err := w.sys.Ledger.ByStatus(w.ctx, request.StatusFailed)
	if err != nil || len(failed) != 1 || failed[0].ID != r.ID {
		t.Fatalf("failed index: %d requests, %v", len(failed), err)
	}
	alerts := w.mailTo("privacy")
	if len(alerts) != 2 || !strings.Contains(alerts[1].Subject, r.ID) || strings.Contains(alerts[1].Text, w.env.Address("customer")) {
		t.Fatalf("%d mails to the officer; the alert names the request and no person", len(alerts))
	}
	if e := w.execution(got.ExecutionARN); e.Status != "FAILED" || e.Error != "DeletionFailed" {
		t.Fatalf("execution %s %s", e.Status, e.Error)
	}
	if after := w.remaining(scope); len(after) != len(before) {
		t.Fatalf("an undecided request deleted data")
	}
}
