package api_test

import (
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// TestAccountDeletionShowsItsThreeClocks: the account deletion answers its timeline as the
// Delete-account screen shows it: the window's end, the hard delete's deadline and the backups'
// rotation, in that order, with the calendar days left; a cancelled deletion keeps them.
func TestAccountDeletionShowsItsThreeClocks(t *testing.T) {
	w := newWorld(t)
	owner := w.token(0, platform.RoleOwner)
	if r := w.call("POST", "/v1/account/deletion", owner, `{"password":"owner-password"}`); r.status != 202 {
		t.Fatalf("request: %d %s", r.status, r.body)
	}
	w.settle()
	type clock struct {
		Name     string
		At       time.Time
		DaysLeft int
		Passed   bool
	}
	var cur struct {
		Status    string
		Deadlines map[string]time.Time
		Clocks    []clock
	}
	w.call("GET", "/v1/account/deletion", owner, "").json(t, &cur)
	want := []string{request.DeadlineSoftDeleteEnds, request.DeadlineHardDeleteBy, request.DeadlineBackupsRotatedBy}
	if len(cur.Clocks) != len(want) {
		t.Fatalf("clocks %+v, want %v", cur.Clocks, want)
	}
	for i, c := range cur.Clocks {
		if c.Name != want[i] || !c.At.Equal(cur.Deadlines[c.Name]) || c.Passed {
			t.Errorf("clock %d: %+v, deadline %v", i, c, cur.Deadlines[c.Name])
		}
		if i > 0 && !c.At.After(cur.Clocks[i-1].At) {
			t.Errorf("clock %s falls before %s", c.Name, cur.Clocks[i-1].Name)
		}
	}
	if d := cur.Clocks[0].DaysLeft; d != 30 {
		t.Errorf("the window ends in %d days, want 30", d)
	}
	// 15 business days are 15 to 30 calendar days; the backups rotate 30 calendar days later.
	if d := cur.Clocks[1].DaysLeft - cur.Clocks[0].DaysLeft; d < 15 || d > 30 {
		t.Errorf("the hard delete is due %d days after the window", d)
	}
	if d := cur.Clocks[2].DaysLeft - cur.Clocks[1].DaysLeft; d != 30 {
		t.Errorf("the backups rotate %d days after the hard delete, want 30", d)
	}
	var cancelled struct {
		Status string
		Clocks []clock
	}
	w.call("POST", "/v1/account/deletion/cancel", owner, "").json(t, &cancelled)
	if cancelled.Status != string(request.StatusCancelled) || len(cancelled.Clocks) != 3 {
		t.Fatalf("after the cancel: %+v", cancelled)
	}
}

// TestRequestProgressHasPlannedTotals: a finished deletion answers what its scope held when it
// started next to what it destroyed, so that each category's bar reads done of total.
func TestRequestProgressHasPlannedTotals(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	eu := endUserOf(a, a.Bots[0].ID)
	owner := w.token(0, platform.RoleOwner)
	r := w.call("DELETE", "/v1/bots/"+a.Bots[0].ID+"/end-users/"+eu.ID, owner, "")
	if r.status != 202 {
		t.Fatalf("delete: %d %s", r.status, r.body)
	}
	var req struct{ ID string }
	r.json(t, &req)
	w.settle()
	var got struct {
		Status            string
		Progress, Planned map[string]int64
	}
	w.call("GET", "/v1/deletion-requests/"+req.ID, owner, "").json(t, &got)
	if got.Status != string(request.StatusCompleted) || len(got.Planned) == 0 {
		t.Fatalf("finished request: %+v", got)
	}
	for cat, n := range got.Planned {
		if got.Progress[cat] != n {
			t.Errorf("%s: %d destroyed of %d planned", cat, got.Progress[cat], n)
		}
	}
}

// TestEndCustomerQueueNamesTheBotAndTheEndUser: the queue shows whom a request names, so that the
// owner decides without looking them up; once the approved request has deleted the end user, the
// queue says they are gone.
func TestEndCustomerQueueNamesTheBotAndTheEndUser(t *testing.T) {
	w := newWorld(t)
	a := w.manifest.Accounts[0]
	bot := a.Bots[0]
	eu := endUserOf(a, bot.ID)
	req, _, err := w.sys.Requests.SubmitEndCustomer(w.ctx, requests.EndCustomer{AccountID: a.ID, BotID: bot.ID, EndUserID: eu.ID,
		Requester: w.env.Address("customer"), Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	owner := w.token(0, platform.RoleOwner)
	type item struct {
		ID, Status, BotName string
		EndUser             *struct {
			ID, DisplayName, Channel string
			FirstConversationAt      time.Time
		}
	}
	var q struct{ Items []item }
	w.call("GET", "/v1/end-customer-requests", owner, "").json(t, &q)
	if len(q.Items) != 1 || q.Items[0].ID != req.ID || q.Items[0].BotName != bot.Name || q.Items[0].EndUser == nil {
		t.Fatalf("queue: %+v", q)
	}
	if u := q.Items[0].EndUser; u.ID != eu.ID || u.DisplayName != eu.Name || u.Channel != eu.Channel || !u.FirstConversationAt.Equal(eu.FirstConversationAt) {
		t.Errorf("end user %+v, want %+v", *u, eu)
	}
	if r := w.call("POST", "/v1/end-customer-requests/"+req.ID+"/approve", owner, ""); r.status != 200 {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	w.settle()
	w.call("GET", "/v1/end-customer-requests", owner, "").json(t, &q)
	if len(q.Items) != 1 || q.Items[0].Status != string(request.StatusCompleted) || q.Items[0].EndUser != nil || q.Items[0].BotName != bot.Name {
		t.Fatalf("queue after the deletion: %+v", q)
	}
}
