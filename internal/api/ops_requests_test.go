package api_test

import (
	"errors"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// row is a register row as a test reads it.
type row struct {
	ID        string `json:"id"`
	AccountID string `json:"accountId"`
	Kind      string `json:"kind"`
	Status    string `json:"status"`
	Deadlines []struct {
		Name             string    `json:"name"`
		At               time.Time `json:"at"`
		BusinessDaysLeft int       `json:"businessDaysLeft"`
		Overdue, Met     bool
	} `json:"deadlines"`
	NextDeadline *struct {
		Name             string `json:"name"`
		BusinessDaysLeft int    `json:"businessDaysLeft"`
		Overdue          bool   `json:"overdue"`
	} `json:"nextDeadline"`
	Escalated bool `json:"escalated"`
	Failure   *struct {
		Cause string `json:"cause"`
	} `json:"failure"`
	Decision *request.Decision `json:"decision"`
	History  []request.Event   `json:"history"`
}

type rowPage struct {
	Items      []row  `json:"items"`
	NextCursor string `json:"nextCursor"`
}

// create records a request as it stands at the world's clock, with its deadlines.
func (w *world) create(r request.Request) request.Request {
	w.t.Helper()
	if r.Source == "" {
		r.Source = "dashboard"
	}
	r.Scope = platform.ScopeRef{Kind: datamap.ScopeBot, AccountID: r.AccountID, BotID: "bot-" + r.ID}
	out, err := w.sys.Ledger.Create(w.ctx, r)
	if err != nil {
		w.t.Fatal(err)
	}
	return out
}

func ids(rows []row) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.ID)
	}
	return out
}

// registerFixture is five requests on 2 March 2026 (a Monday; 9 March is a holiday in lieu of
// 8 March): one overdue, three with deadlines ahead or none, one completed.
func registerFixture(w *world) (a0, a1 string) {
	now := w.sys.Now()
	a0, a1 = w.manifest.Accounts[0].ID, w.manifest.Accounts[1].ID
	w.create(request.Request{ID: "R-overdue", AccountID: a1, Kind: request.KindEndCustomerRequest, Status: request.StatusAwaitingVerification,
		Source: "email", Deadlines: map[string]time.Time{request.DeadlineEscalateAt: now.Add(-48 * time.Hour),
			request.DeadlineCompleteBy: now.Add(20 * 24 * time.Hour)}})
	w.create(request.Request{ID: "R-failed", AccountID: a0, Kind: request.KindConnectionWipe, Status: request.StatusFailed,
		History: []request.Event{{At: now.Add(-time.Hour), Status: request.StatusHardDeleting, Actor: "system"},
			{At: now.Add(-time.Minute), Status: request.StatusFailed, Actor: "workflow", Note: "execution R-failed failed: States.TaskFailed"}},
		Deadlines: map[string]time.Time{request.DeadlineCompleteBy: now.Add(3 * 24 * time.Hour)}})
	w.create(request.Request{ID: "R-ahead", AccountID: a0, Kind: request.KindEndUserDeletion, Status: request.StatusHardDeleting,
		Deadlines: map[string]time.Time{request.DeadlineCompleteBy: now.Add(10 * 24 * time.Hour)}})
	w.create(request.Request{ID: "R-none", AccountID: a0, Kind: request.KindEndUserDeletion, Status: request.StatusReceived,
		Source: "=HYPERLINK(\"http://x\")"})
	w.create(request.Request{ID: "R-done", AccountID: a1, Kind: request.KindBotDeletion, Status: request.StatusHardDeleting,
		Deadlines: map[string]time.Time{request.DeadlineCompleteBy: now.Add(5 * 24 * time.Hour)}})
	if _, err := w.sys.Ledger.Update(w.ctx, "R-done", func(r *request.Request) error { return r.Complete(now, "system", "done") }); err != nil {
		w.t.Fatal(err)
	}
	return a0, a1
}

// The register lists every account's open requests, nearest open deadline first and those with
// none last, each deadline in business days on the production calendar (the 9 March holiday does
// not count); the filters narrow it, and a bad filter is a 400 that names it.
func TestOpsRegisterOrdersByNearestDeadlineAcrossAccounts(t *testing.T) {
	w := newWorld(t)
	a0, a1 := registerFixture(w)
	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	get := func(query string) []row {
		t.Helper()
		r := w.call("GET", "/v1/ops/requests"+query, tok, "")
		var p rowPage
		r.json(t, &p)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", query, r.status, r.body)
		}
		return p.Items
	}
	all := get("")
	if got, want := ids(all), []string{"R-overdue", "R-failed", "R-ahead", "R-none"}; !slices.Equal(got, want) {
		t.Fatalf("register %v, want %v", got, want)
	}
	byID := map[string]row{}
	for _, r := range all {
		byID[r.ID] = r
	}
	if n := byID["R-overdue"].NextDeadline; n == nil || n.Name != request.DeadlineEscalateAt || !n.Overdue || n.BusinessDaysLeft != -1 {
		t.Errorf("overdue request's next deadline: %+v (28 Feb is one business day before 2 Mar)", n)
	}
	if n := byID["R-failed"].NextDeadline; n == nil || n.BusinessDaysLeft != 3 || n.Overdue {
		t.Errorf("failed request's next deadline: %+v, want 3 business days left", n)
	}
	if n := byID["R-ahead"].NextDeadline; n == nil || n.BusinessDaysLeft != 7 {
		t.Errorf("12 March from 2 March: %+v, want 7 business days (9 March is a holiday)", n)
	}
	if byID["R-none"].NextDeadline != nil || byID["R-none"].Failure != nil {
		t.Errorf("request without deadlines: %+v", byID["R-none"])
	}
	if f := byID["R-failed"].Failure; f == nil || !strings.Contains(f.Cause, "States.TaskFailed") {
		t.Errorf("failure: %+v", f)
	}
	if byID["R-overdue"].AccountID != a1 || byID["R-ahead"].AccountID != a0 {
		t.Errorf("account ids: %+v", byID)
	}

	for query, want := range map[string][]string{
		"?status=completed":                            {"R-done"},
		"?status=failed,hard_deleting":                 {"R-failed", "R-ahead"},
		"?kind=connection_wipe":                        {"R-failed"},
		"?account=" + a1:                               {"R-overdue"},
		"?overdue=true":                                {"R-overdue"},
		"?dueWithin=5":                                 {"R-failed"},
		"?dueWithin=7&account=" + a0:                   {"R-failed", "R-ahead"},
		"?source=email":                                {"R-overdue"},
		"?status=completed,received&kind=bot_deletion": {"R-done"},
	} {
		if got := ids(get(query)); !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", query, got, want)
		}
	}
	done := get("?status=completed")[0]
	if len(done.Deadlines) != 1 || !done.Deadlines[0].Met || done.Deadlines[0].Overdue || done.NextDeadline != nil {
		t.Errorf("a completed request's deadline is met: %+v", done.Deadlines)
	}

	for query, field := range map[string]string{"?status=bogus": "status", "?status=failed,": "status", "?kind=x": "kind",
		"?overdue=yes": "overdue", "?dueWithin=-1": "dueWithin", "?dueWithin=x": "dueWithin", "?limit=0": "limit",
		"?account=" + strings.Repeat("a", 201): "account", "?cursor=garbage": "cursor"} {
		r := w.call("GET", "/v1/ops/requests"+query, tok, "")
		if r.status != 400 || !strings.Contains(r.header.Get("Content-Type"), "problem+json") || !strings.Contains(string(r.body), `"`+field+`"`) {
			t.Errorf("%s: %d %s, want a 400 naming %s", query, r.status, r.body, field)
		}
	}
}

// The register pages with an opaque cursor bound to its filters: the pages together are the whole
// register in order, each once; a cursor used under other filters is refused.
func TestOpsRegisterPagesWithACursorBoundToItsFilters(t *testing.T) {
	w := newWorld(t)
	registerFixture(w)
	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	var seen []string
	cursor := ""
	for range 10 {
		path := "/v1/ops/requests?limit=1"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		r := w.call("GET", path, tok, "")
		var p rowPage
		r.json(t, &p)
		if r.status != 200 || len(p.Items) != 1 {
			t.Fatalf("%s: %d %s", path, r.status, r.body)
		}
		seen = append(seen, p.Items[0].ID)
		if p.NextCursor == "" {
			break
		}
		if cursor == "" {
			if r := w.call("GET", "/v1/ops/requests?limit=1&kind=end_user_deletion&cursor="+url.QueryEscape(p.NextCursor), tok, ""); r.status != 400 {
				t.Errorf("a cursor under other filters: %d %s, want 400", r.status, r.body)
			}
		}
		cursor = p.NextCursor
	}
	if want := []string{"R-overdue", "R-failed", "R-ahead", "R-none"}; !slices.Equal(seen, want) {
		t.Fatalf("pages %v, want %v", seen, want)
	}
}

// The summary counts the open requests per status and those the officer must look at.
func TestOpsRegisterSummary(t *testing.T) {
	w := newWorld(t)
	registerFixture(w)
	r := w.call("GET", "/v1/ops/requests/summary", w.operatorToken("officer-7", "Ирина Смирнова"), "")
	var s struct {
		ByStatus                               map[string]int
		Overdue, Escalated, Failed, DueWithin5 int
	}
	r.json(t, &s)
	want := map[string]int{"awaiting_verification": 1, "failed": 1, "hard_deleting": 1, "received": 1}
	for st, n := range want {
		if s.ByStatus[st] != n {
			t.Errorf("byStatus[%s] = %d, want %d (%+v)", st, s.ByStatus[st], n, s.ByStatus)
		}
	}
	if s.ByStatus["completed"] != 0 || s.Overdue != 1 || s.Failed != 1 || s.DueWithin5 != 1 || s.Escalated != 0 {
		t.Errorf("summary %+v", s)
	}
}

// One request of any account: its history and failure; an unknown id is 404.
func TestOpsRequestDetail(t *testing.T) {
	w := newWorld(t)
	registerFixture(w)
	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	r := w.call("GET", "/v1/ops/requests/R-failed", tok, "")
	var d row
	r.json(t, &d)
	if r.status != 200 || d.ID != "R-failed" || len(d.History) != 2 || d.Failure == nil {
		t.Fatalf("detail: %d %s", r.status, r.body)
	}
	if r := w.call("GET", "/v1/ops/requests/R-nosuch", tok, ""); r.status != 404 {
		t.Errorf("unknown id: %d", r.status)
	}
}

// submitEndCustomer files an end customer's request on account 0's first bot and lets its workflow
// ask the owner.
func (w *world) submitEndCustomer() request.Request {
	w.t.Helper()
	a := w.manifest.Accounts[0]
	eu := a.EndUsers[0]
	req, _, err := w.sys.Requests.SubmitEndCustomer(w.ctx, requests.EndCustomer{AccountID: a.ID, BotID: eu.BotID, EndUserID: eu.ID,
		Requester: w.env.Address("customer"), Locale: "en"})
	if err != nil {
		w.t.Fatal(err)
	}
	w.settle()
	return w.request(req.ID)
}

func (w *world) request(id string) request.Request {
	w.t.Helper()
	r, err := w.sys.Ledger.Get(w.ctx, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

func (w *world) advance(d time.Duration) {
	w.t.Helper()
	if _, err := w.eng.Advance(w.ctx, d); err != nil {
		w.t.Fatal(err)
	}
}

// The privacy officer decides an end-customer request once the bot owner has left it for 10
// business days: not before (409, nothing changes), with bad input refused (400, nothing changes),
// with one winner among concurrent decisions, recorded under the operator's name; the requester is
// told as when the owner decides, and the escalation mail links to the console's screen.
func TestOpsDecidesAnEscalatedEndCustomerRequest(t *testing.T) {
	w := newWorld(t)
	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	r := w.submitEndCustomer()
	path := "/v1/ops/requests/" + r.ID + "/decision"

	if got := w.call("POST", path, tok, `{"approve":true}`); got.status != 409 {
		t.Fatalf("a decision before the escalation: %d %s, want 409", got.status, got.body)
	}
	if after := w.request(r.ID); after.Version != r.Version || after.Decision != nil {
		t.Fatalf("a refused decision changed the request: version %d → %d", r.Version, after.Version)
	}

	w.advance(r.Deadlines[request.DeadlineEscalateAt].Sub(w.sys.Now()) + time.Minute)
	r = w.request(r.ID)
	if !r.Escalated() {
		t.Fatalf("not escalated after 10 business days: %+v", r.History)
	}
	var link bool
	for _, m := range w.env.SentMail(t) {
		if strings.Contains(m.Text, "/console/#/ops/requests/"+r.ID) && slices.Contains(m.To, w.env.Address("privacy")) {
			link = true
		}
	}
	if !link {
		t.Errorf("no escalation mail to the privacy officer links to the console's screen of %s", r.ID)
	}
	var p rowPage
	w.call("GET", "/v1/ops/requests?kind=end_customer_request", tok, "").json(t, &p)
	if len(p.Items) != 1 || !p.Items[0].Escalated {
		t.Fatalf("register: %+v, want the escalated request", p.Items)
	}

	for body, field := range map[string]string{`{"approve":false}`: "reason", `{"approve":false,"reason":"  "}`: "reason",
		`{"reason":"x"}`: "approve", `{"approve":true,"extra":1}`: "body", `not json`: "body"} {
		got := w.call("POST", path, tok, body)
		if got.status != 400 || !strings.Contains(string(got.body), `"`+field+`"`) {
			t.Errorf("%s: %d %s, want a 400 naming %s", body, got.status, got.body, field)
		}
	}
	if got := w.call("POST", "/v1/ops/requests/R-nosuch/decision", tok, `{"approve":true}`); got.status != 404 {
		t.Errorf("unknown id: %d", got.status)
	}
	if after := w.request(r.ID); after.Version != r.Version {
		t.Fatalf("bad input changed the request")
	}

	// Two officers decide at once: one wins, the other is told it is decided.
	var wg sync.WaitGroup
	statuses := make([]int, 2)
	bodies := []string{`{"approve":true}`, `{"approve":false,"reason":"the customer's contract requires keeping the data"}`}
	toks := []string{tok, w.operatorToken("officer-8", "Пётр Иванов")}
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			statuses[i] = w.call("POST", path, toks[i], bodies[i]).status
		}()
	}
	wg.Wait()
	slices.Sort(statuses)
	if statuses[0] != 200 || statuses[1] != 409 {
		t.Fatalf("concurrent decisions: %v, want one 200 and one 409", statuses)
	}
	if got := w.call("POST", path, tok, `{"approve":true}`); got.status != 409 {
		t.Errorf("deciding again: %d, want 409", got.status)
	}
	w.settle()
	r = w.request(r.ID)
	if r.Decision == nil || !strings.HasPrefix(r.Decision.By, "operator:officer-") {
		t.Fatalf("decision %+v", r.Decision)
	}
	var recorded bool
	for _, e := range r.History {
		recorded = recorded || e.Actor == "operator:officer-7 (Ирина Смирнова)" || e.Actor == "operator:officer-8 (Пётр Иванов)"
	}
	if !recorded {
		t.Errorf("the history does not record the operator: %+v", r.History)
	}
	want := request.StatusCompleted
	if !r.Decision.Approved {
		want = request.StatusDeclined
	}
	if r.Status != want {
		t.Fatalf("after the officer's decision: %s, want %s", r.Status, want)
	}
	told := 0
	for _, m := range w.env.SentMail(t) {
		if slices.Contains(m.To, w.env.Address("customer")) {
			told++
		}
	}
	if told != 2 {
		t.Errorf("%d mails to the requester, want the acknowledgement and the outcome", told)
	}
}

// Only an end-customer request is decided: any other is 404 on the decision route.
func TestOpsDecisionIsOnlyForEndCustomerRequests(t *testing.T) {
	w := newWorld(t)
	registerFixture(w)
	got := w.call("POST", "/v1/ops/requests/R-ahead/decision", w.operatorToken("o", "O"), `{"approve":true}`)
	if got.status != 404 {
		t.Fatalf("%d %s", got.status, got.body)
	}
}

// The officer's window is from the escalation to the legal deadline: before it the bot owner
// decides, after it nobody does; either refusal is a 409 that changes nothing.
func TestOpsDecisionWindow(t *testing.T) {
	w := newWorld(t)
	now := w.sys.Now()
	a0 := w.manifest.Accounts[0].ID
	w.create(request.Request{ID: "E-early", AccountID: a0, Kind: request.KindEndCustomerRequest, Status: request.StatusAwaitingVerification,
		Deadlines: map[string]time.Time{request.DeadlineEscalateAt: now.Add(time.Hour), request.DeadlineCompleteBy: now.Add(20 * 24 * time.Hour)}})
	w.create(request.Request{ID: "E-late", AccountID: a0, Kind: request.KindEndCustomerRequest, Status: request.StatusAwaitingVerification,
		Deadlines: map[string]time.Time{request.DeadlineEscalateAt: now.Add(-20 * 24 * time.Hour), request.DeadlineCompleteBy: now.Add(-time.Hour)}})
	w.create(request.Request{ID: "E-due", AccountID: a0, Kind: request.KindEndCustomerRequest, Status: request.StatusAwaitingVerification,
		Deadlines: map[string]time.Time{request.DeadlineEscalateAt: now.Add(-time.Hour), request.DeadlineCompleteBy: now.Add(20 * 24 * time.Hour)}})
	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	for id, want := range map[string]string{"E-early": "not escalated", "E-late": "legal deadline"} {
		before := w.request(id)
		got := w.call("POST", "/v1/ops/requests/"+id+"/decision", tok, `{"approve":true}`)
		if got.status != 409 || !strings.Contains(string(got.body), want) {
			t.Errorf("%s: %d %s, want 409 saying %q", id, got.status, got.body, want)
		}
		if after := w.request(id); after.Version != before.Version {
			t.Errorf("%s: a refused decision changed the request", id)
		}
	}
	// Past the escalation date the officer decides even if the workflow has not escalated yet.
	got := w.call("POST", "/v1/ops/requests/E-due/decision", tok, `{"approve":false,"reason":"the contract requires keeping it"}`)
	if got.status != 200 {
		t.Fatalf("E-due: %d %s", got.status, got.body)
	}
	if r := w.request("E-due"); r.Status != request.StatusDeclined || r.Decision == nil || r.Decision.By != "operator:officer-7 (Ирина Смирнова)" {
		t.Errorf("E-due: %s %+v", r.Status, r.Decision)
	}
}

// Closed requests are listed by the days they were closed in: by default the last 90 days, an old
// one only inside an explicit range; open requests are listed whatever the range. The cursor pages
// through a range each request once and is refused under another range; a bad range is a 400 that
// names it.
func TestOpsRegisterBoundsClosedRequestsByTheDaysTheyClosed(t *testing.T) {
	w := newWorld(t)
	registerFixture(w) // R-done closes today
	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	a0 := w.manifest.Accounts[0].ID
	then := w.sys.Now()
	w.create(request.Request{ID: "R-cancelled", AccountID: a0, Kind: request.KindAccountDeletion, Status: request.StatusScheduled})
	if _, err := w.sys.Ledger.Update(w.ctx, "R-cancelled", func(r *request.Request) error { return r.Cancel(then, "owner:x", "changed my mind") }); err != nil {
		t.Fatal(err)
	}
	w.advance(200 * 24 * time.Hour)
	w.create(request.Request{ID: "R-recent", AccountID: a0, Kind: request.KindBotDeletion, Status: request.StatusHardDeleting})
	if _, err := w.sys.Ledger.Update(w.ctx, "R-recent", func(r *request.Request) error {
		return r.Complete(w.sys.Now(), "system", "done")
	}); err != nil {
		t.Fatal(err)
	}
	get := func(query string) rowPage {
		t.Helper()
		r := w.call("GET", "/v1/ops/requests"+query, tok, "")
		var p rowPage
		r.json(t, &p)
		if r.status != 200 {
			t.Fatalf("%s: %d %s", query, r.status, r.body)
		}
		return p
	}
	day := then.Format("2006-01-02")
	for query, want := range map[string][]string{
		"?status=completed,cancelled":                                        {"R-recent"},
		"?status=completed,cancelled&closedFrom=" + day + "&closedTo=" + day: {"R-cancelled", "R-done"},
		"?status=completed&closedTo=" + day:                                  {"R-done"},
		"?status=completed,received&closedFrom=" + day + "&closedTo=" + day:  {"R-none", "R-done"},
	} {
		got := ids(get(query).Items)
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("%s: %v, want %v", query, got, want)
		}
	}
	if got := ids(get("?closedFrom=" + day + "&closedTo=" + day).Items); !slices.Contains(got, "R-ahead") || slices.Contains(got, "R-done") {
		t.Errorf("the open register under a closed range: %v, want the open requests only", got)
	}

	// Every closed request of the range, one page at a time, each once.
	rng := "status=completed,cancelled&closedFrom=" + then.AddDate(0, 0, -1).Format("2006-01-02") + "&closedTo=" + w.sys.Now().Format("2006-01-02")
	var seen []string
	cursor := ""
	for range 10 {
		q := "?limit=1&" + rng
		if cursor != "" {
			q += "&cursor=" + url.QueryEscape(cursor)
		}
		p := get(q)
		if len(p.Items) != 1 {
			t.Fatalf("%s: %+v", q, p)
		}
		seen = append(seen, p.Items[0].ID)
		if p.NextCursor == "" {
			break
		}
		if cursor == "" {
			other := "/v1/ops/requests?limit=1&status=completed,cancelled&closedFrom=" + day + "&closedTo=" + day + "&cursor=" + url.QueryEscape(p.NextCursor)
			if r := w.call("GET", other, tok, ""); r.status != 400 {
				t.Errorf("a cursor under another closed range: %d %s, want 400", r.status, r.body)
			}
		}
		cursor = p.NextCursor
	}
	slices.Sort(seen)
	if want := []string{"R-cancelled", "R-done", "R-recent"}; !slices.Equal(seen, want) {
		t.Fatalf("pages %v, want %v", seen, want)
	}

	for query, field := range map[string]string{"?closedFrom=x": "closedFrom", "?closedTo=2026-02-30": "closedTo",
		"?closedFrom=2026-03-05&closedTo=2026-03-01": "closedTo", "?closedFrom=2024-01-01&closedTo=2026-03-01": "closedTo"} {
		r := w.call("GET", "/v1/ops/requests"+query, tok, "")
		if r.status != 400 || !strings.Contains(string(r.body), `"`+field+`"`) {
			t.Errorf("%s: %d %s, want a 400 naming %s", query, r.status, r.body, field)
		}
	}
	rows := readCSV(t, w.call("GET", "/v1/ops/exports/requests.csv?status=completed,cancelled&closedFrom="+day+"&closedTo="+day, tok, ""))
	if len(rows) != 3 {
		t.Errorf("the register's CSV under a closed range: %v, want R-cancelled and R-done", rows)
	}
}

// An escalated request whose identifier matched several end users: the register lists the
// candidates, and the privacy officer approves it only by naming one of them (400 otherwise,
// nothing changes); only that one's data goes.
func TestOpsApprovesAnEscalatedRequestByPickingACandidate(t *testing.T) {
	w := newWorld(t)
	tok := w.operatorToken("officer-7", "Ирина Смирнова")
	a := w.manifest.Accounts[0]
	var both []string
	for _, eu := range a.EndUsers {
		if eu.BotID == a.EndUsers[0].BotID && len(both) < 2 {
			both = append(both, eu.ID)
		}
	}
	req, _, err := w.sys.Requests.SubmitEndCustomer(w.ctx, requests.EndCustomer{AccountID: a.ID, BotID: a.EndUsers[0].BotID, EndUserID: both[0],
		Candidates: both, Requester: w.env.Address("customer"), Locale: "en"})
	if err != nil {
		t.Fatal(err)
	}
	w.settle()
	r := w.request(req.ID)
	w.advance(r.Deadlines[request.DeadlineEscalateAt].Sub(w.sys.Now()) + time.Minute)
	r = w.request(r.ID)
	var d struct{ Candidates []string }
	w.call("GET", "/v1/ops/requests/"+r.ID, tok, "").json(t, &d)
	if !slices.Equal(d.Candidates, both) {
		t.Fatalf("candidates %v, want %v", d.Candidates, both)
	}
	path := "/v1/ops/requests/" + r.ID + "/decision"
	for _, body := range []string{`{"approve":true}`, `{"approve":true,"endUserId":"01KNOTACANDIDATE000000000"}`} {
		if got := w.call("POST", path, tok, body); got.status != 400 {
			t.Fatalf("%s: %d %s, want 400", body, got.status, got.body)
		}
	}
	if after := w.request(r.ID); after.Version != r.Version || after.Decision != nil {
		t.Fatal("a refused approval changed the request")
	}
	if got := w.call("POST", path, tok, `{"approve":true,"endUserId":"`+both[1]+`"}`); got.status != 200 {
		t.Fatalf("approve the pick: %d %s", got.status, got.body)
	}
	w.settle()
	r = w.request(r.ID)
	if r.Status != request.StatusCompleted || r.Scope.EndUserID != both[1] {
		t.Fatalf("status %s on %s, want completed on %s", r.Status, r.Scope.EndUserID, both[1])
	}
	if _, err := w.sys.Store.EndUser(w.ctx, both[1]); !errors.Is(err, platform.ErrNotFound) {
		t.Fatalf("the picked end user is still there: %v", err)
	}
	if _, err := w.sys.Store.EndUser(w.ctx, both[0]); err != nil {
		t.Fatalf("the other candidate was touched: %v", err)
	}
}
