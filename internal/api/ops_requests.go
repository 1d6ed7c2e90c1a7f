package api

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/calendar"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// The operator's request register (issue 17): every request across accounts with its deadlines in
// business days, the decision on an escalated end-customer request, and the retry of a failed one.

func (a *API) opsRequestRoutes() {
	a.add(&route{method: http.MethodGet, path: "/v1/ops/requests", ops: true, h: a.opsRegister})
	a.add(&route{method: http.MethodGet, path: "/v1/ops/requests/summary", ops: true, h: a.opsSummary})
	a.add(&route{method: http.MethodGet, path: "/v1/ops/requests/{id}", ops: true, h: a.opsRequest})
	a.add(&route{method: http.MethodPost, path: "/v1/ops/requests/{id}/decision", ops: true, idempotent: true, h: a.opsDecide})
	a.add(&route{method: http.MethodPost, path: "/v1/ops/requests/{id}/retry", ops: true, idempotent: true, h: a.opsRetry})
	a.add(&route{method: http.MethodPost, path: "/v1/ops/requests/{id}/verification", ops: true, idempotent: true, h: a.opsAskVerification})
	a.add(&route{method: http.MethodGet, path: "/v1/ops/exports/requests.csv", ops: true, h: a.opsRegisterCSV})
	a.add(&route{method: http.MethodGet, path: "/v1/ops/exports/journal.csv", ops: true, h: a.opsJournalCSV})
	a.add(&route{method: http.MethodGet, path: "/v1/ops/reports/monthly", ops: true, h: a.opsMonthly})
	a.add(&route{method: http.MethodGet, path: "/v1/ops/reports/retention", ops: true, h: a.opsRetention})
}

// deadlineView is one deadline of a request as the register shows it. BusinessDaysLeft counts the
// working days (Russian production calendar) from today to the deadline's date, negative once it is
// past; Met says the request is past the stage the deadline bounds.
type deadlineView struct {
	Name             string    `json:"name"`
	At               time.Time `json:"at"`
	BusinessDaysLeft int       `json:"businessDaysLeft"`
	Overdue          bool      `json:"overdue"`
	Met              bool      `json:"met"`
}

// nextDeadlineView is the nearest deadline still to be met.
type nextDeadlineView struct {
	Name             string    `json:"name"`
	At               time.Time `json:"at"`
	BusinessDaysLeft int       `json:"businessDaysLeft"`
	Overdue          bool      `json:"overdue"`
}

// failureView is why and when a request failed: the note its workflow recorded (an execution name
// and an error name, nothing personal).
type failureView struct {
	Cause string    `json:"cause"`
	At    time.Time `json:"at"`
}

// registerRow is a request as the register lists it (api/openapi.yaml RegisterRow).
type registerRow struct {
	ID           string            `json:"id"`
	AccountID    string            `json:"accountId"`
	Kind         request.Kind      `json:"kind"`
	Source       string            `json:"source"`
	Status       request.Status    `json:"status"`
	Scope        scopeView         `json:"scope"`
	Decision     *request.Decision `json:"decision,omitempty"`
	CreatedAt    time.Time         `json:"createdAt"`
	UpdatedAt    time.Time         `json:"updatedAt"`
	ClosedAt     *time.Time        `json:"closedAt,omitempty"`
	Deadlines    []deadlineView    `json:"deadlines"`
	NextDeadline *nextDeadlineView `json:"nextDeadline"`
	Escalated    bool              `json:"escalated"`
	Failure      *failureView      `json:"failure"`
}

// registerDetail is one request with its history, progress and acts (RegisterRequest).
type registerDetail struct {
	registerRow
	History  []request.Event  `json:"history"`
	Progress map[string]int64 `json:"progress"`
	Evidence []string         `json:"evidence"`
	// Candidates are the end users an end-customer request matched, when more than one did.
	Candidates []string `json:"candidates,omitempty"`
	// Verification is an end-customer request's proof that the requester controls the chat.
	Verification *verificationView `json:"verification,omitempty"`
}

// calendar is the production calendar the register counts business days on.
func (a *API) calendar() *calendar.Calendar {
	if a.s.Calendar != nil {
		return a.s.Calendar
	}
	c, _ := calendar.New(calendar.Adjustments{}) // the built-in table; no adjustments cannot fail
	return c
}

// rowOf is r as the register shows it at now.
func (a *API) rowOf(r request.Request, now time.Time) registerRow {
	v := viewOf(r)
	row := registerRow{ID: r.ID, AccountID: r.AccountID, Kind: r.Kind, Source: r.Source, Status: r.Status, Scope: v.Scope,
		Decision: r.Decision, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt, ClosedAt: r.ClosedAt,
		Deadlines: []deadlineView{}, Escalated: r.Escalated()}
	cal := a.calendar()
	names := slices.SortedFunc(maps.Keys(r.Deadlines), func(x, y string) int {
		return cmp.Or(r.Deadlines[x].Compare(r.Deadlines[y]), strings.Compare(x, y))
	})
	for _, name := range names {
		at := r.Deadlines[name]
		open := r.DeadlinePending(name)
		d := deadlineView{Name: name, At: at, BusinessDaysLeft: cal.BusinessDaysBetween(now, at),
			Overdue: open && now.After(at), Met: !open}
		row.Deadlines = append(row.Deadlines, d)
		if open && row.NextDeadline == nil {
			row.NextDeadline = &nextDeadlineView{Name: d.Name, At: d.At, BusinessDaysLeft: d.BusinessDaysLeft, Overdue: d.Overdue}
		}
	}
	if r.Status == request.StatusFailed {
		for i := len(r.History) - 1; i >= 0; i-- {
			if e := r.History[i]; e.Status == request.StatusFailed {
				row.Failure = &failureView{Cause: e.Note, At: e.At}
				break
			}
		}
	}
	return row
}

// registerFilter is the register's query: statuses (the open ones when none is named), kind,
// account, source, overdue only, due within N business days, and the days the closed requests it
// lists were closed in.
type registerFilter struct {
	statuses  []request.Status
	kind      request.Kind
	account   string
	source    string
	overdue   bool
	dueWithin int // -1: no limit
	// closedFrom and closedTo bound the closed statuses (completed, cancelled, declined), which
	// grow without end: the register lists those closed in [closedFrom, closedTo). closedRange is
	// the range as asked ("" parts for the defaults), which a cursor is bound to.
	closedFrom, closedTo time.Time
	closedRange          string
}

// openStatuses are the statuses the register lists when no status is asked for.
var openStatuses = []request.Status{request.StatusReceived, request.StatusAwaitingVerification, request.StatusScheduled,
	request.StatusSoftDeleted, request.StatusHardDeleting, request.StatusAwaitingBackupRotation, request.StatusHeld,
	request.StatusFailed}

// maxFilter bounds a filter's free text (an account id, a source).
const maxFilter = 200

// Closed requests are listed for the days they were closed in: by default the last
// defaultClosedDays days (Moscow time, today included), at most maxClosedDays days at a time.
const (
	defaultClosedDays = 90
	maxClosedDays     = 366
)

// parseClosedRange reads closedFrom and closedTo (YYYY-MM-DD, inclusive, Moscow days) as the
// half-open range [from, to); either defaults from the other or from today.
func parseClosedRange(q map[string]string, now time.Time) (from, to time.Time, err error) {
	today := now.In(mailer.Moscow)
	to = time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, mailer.Moscow).AddDate(0, 0, 1)
	if s := q["closedTo"]; s != "" {
		day, err := parseDay("closedTo", s)
		if err != nil {
			return from, to, err
		}
		to = day.AddDate(0, 0, 1)
	}
	from = to.AddDate(0, 0, -defaultClosedDays)
	if s := q["closedFrom"]; s != "" {
		if from, err = parseDay("closedFrom", s); err != nil {
			return from, to, err
		}
	}
	if !from.Before(to) || to.Sub(from) > maxClosedDays*24*time.Hour {
		return from, to, badRequest("closedTo", fmt.Sprintf("a date on or after closedFrom, at most %d days later", maxClosedDays-1))
	}
	return from, to, nil
}

func parseRegisterFilter(q map[string]string, now time.Time) (registerFilter, error) {
	f := registerFilter{kind: request.Kind(q["kind"]), account: q["account"], source: q["source"], dueWithin: -1}
	if s := q["status"]; s != "" {
		for _, part := range strings.Split(s, ",") {
			st := request.Status(strings.TrimSpace(part))
			if !validStatus[st] {
				return f, badRequest("status", "a comma-separated list of request statuses")
			}
			if !slices.Contains(f.statuses, st) {
				f.statuses = append(f.statuses, st)
			}
		}
	} else {
		f.statuses = openStatuses
	}
	if f.kind != "" && !validKind[f.kind] {
		return f, badRequest("kind", "not a request kind")
	}
	if len(f.account) > maxFilter {
		return f, badRequest("account", "an account id")
	}
	if len(f.source) > maxFilter {
		return f, badRequest("source", "a request source (dashboard, email, webhook:<channel>, …)")
	}
	switch q["overdue"] {
	case "", "false":
	case "true":
		f.overdue = true
	default:
		return f, badRequest("overdue", "true or false")
	}
	if s := q["dueWithin"]; s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 0 || n > 365 {
			return f, badRequest("dueWithin", "a number of business days from 0 to 365")
		}
		f.dueWithin = n
	}
	var err error
	if f.closedFrom, f.closedTo, err = parseClosedRange(q, now); err != nil {
		return f, err
	}
	f.closedRange = q["closedFrom"] + ".." + q["closedTo"]
	return f, nil
}

// key names the filter, so that a cursor given out for one filter is refused under another.
func (f registerFilter) key() string {
	parts := []string{string(f.kind), f.account, f.source, strconv.FormatBool(f.overdue), strconv.Itoa(f.dueWithin), f.closedRange}
	for _, s := range f.statuses {
		parts = append(parts, string(s))
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return "OPSREGISTER#" + hex.EncodeToString(sum[:12])
}

func (f registerFilter) keep(row registerRow) bool {
	switch {
	case row.Status.Closed() && !f.closedIn(row),
		f.kind != "" && row.Kind != f.kind,
		f.account != "" && row.AccountID != f.account,
		f.source != "" && row.Source != f.source,
		f.overdue && (row.NextDeadline == nil || !row.NextDeadline.Overdue):
		return false
	case f.dueWithin >= 0:
		return row.NextDeadline != nil && !row.NextDeadline.Overdue && row.NextDeadline.BusinessDaysLeft <= f.dueWithin
	}
	return true
}

// closedIn reports whether a closed request was closed in the filter's range (a request recorded
// closed without its closing time counts as closed at its last change).
func (f registerFilter) closedIn(row registerRow) bool {
	at := row.UpdatedAt
	if row.ClosedAt != nil {
		at = *row.ClosedAt
	}
	return !at.Before(f.closedFrom) && at.Before(f.closedTo)
}

// orderKey sorts the register: nearest open deadline first, requests with none last, then by id.
func orderKey(row registerRow) string {
	if row.NextDeadline == nil {
		return "~#" + row.ID
	}
	return row.NextDeadline.At.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + row.ID
}

// requestsIn reads the requests in statuses from the status index, each once (a request that
// changed status while they were read is listed as it was read last).
func (a *API) requestsIn(ctx context.Context, statuses []request.Status, since time.Time) ([]request.Request, error) {
	return a.requestsSince(ctx, statuses, func(request.Status) time.Time { return since })
}

// requestsSince is requestsIn reading each status from its own time on (zero: the whole status).
func (a *API) requestsSince(ctx context.Context, statuses []request.Status, since func(request.Status) time.Time) ([]request.Request, error) {
	byID := map[string]request.Request{}
	for _, st := range statuses {
		rs, err := a.s.Ledger.ByStatusSince(ctx, st, since(st))
		if err != nil {
			return nil, fmt.Errorf("list the %s requests: %w", st, err)
		}
		for _, r := range rs {
			if cur, ok := byID[r.ID]; !ok || r.Version > cur.Version {
				byID[r.ID] = r
			}
		}
	}
	return slices.Collect(maps.Values(byID)), nil
}

// register is every request the filter keeps, in the register's order. The open statuses are read
// whole (the SLA bounds them); a closed status only from closedFrom on: a request closed since then
// last changed since then, and the index sorts a status by the time of the last change.
func (a *API) register(ctx context.Context, f registerFilter) ([]registerRow, error) {
	rs, err := a.requestsSince(ctx, f.statuses, func(st request.Status) time.Time {
		if st.Closed() {
			return f.closedFrom
		}
		return time.Time{}
	})
	if err != nil {
		return nil, err
	}
	now := a.s.Now().UTC()
	var rows []registerRow
	for _, r := range rs {
		if !slices.Contains(f.statuses, r.Status) {
			continue
		}
		if row := a.rowOf(r, now); f.keep(row) {
			rows = append(rows, row)
		}
	}
	slices.SortFunc(rows, func(x, y registerRow) int { return strings.Compare(orderKey(x), orderKey(y)) })
	return rows, nil
}

// opsRegister pages through the register. The cursor is opaque and bound to the filter; it names
// the last row shown, so a page starts after it even when requests changed in between.
func (a *API) opsRegister(ctx context.Context, c *Call) (Response, error) {
	q := c.Req.QueryStringParameters
	f, err := parseRegisterFilter(q, a.s.Now())
	if err != nil {
		return Response{}, err
	}
	limit, err := parseLimit(q["limit"])
	if err != nil {
		return Response{}, err
	}
	cur, err := platform.DecodeCursor(q["cursor"], f.key())
	if err != nil {
		return Response{}, err
	}
	rows, err := a.register(ctx, f)
	if err != nil {
		return Response{}, err
	}
	out := pageOf(rows, orderKey, cur, f.key(), limit)
	return Response{Status: http.StatusOK, Body: out}, nil
}

// summaryView counts the open requests for the officer's dashboard.
type summaryView struct {
	ByStatus   map[request.Status]int `json:"byStatus"`
	Overdue    int                    `json:"overdue"`
	Escalated  int                    `json:"escalated"`
	Failed     int                    `json:"failed"`
	DueWithin5 int                    `json:"dueWithin5"`
}

// opsSummary counts the open requests per status, and those overdue, escalated and awaiting a
// decision, failed, and due within 5 business days.
func (a *API) opsSummary(ctx context.Context, _ *Call) (Response, error) {
	rows, err := a.register(ctx, registerFilter{statuses: openStatuses, dueWithin: -1}) // no closed status
	if err != nil {
		return Response{}, err
	}
	out := summaryView{ByStatus: map[request.Status]int{}}
	for _, st := range openStatuses {
		out.ByStatus[st] = 0
	}
	for _, row := range rows {
		out.ByStatus[row.Status]++
		n := row.NextDeadline
		switch {
		case n != nil && n.Overdue:
			out.Overdue++
		case n != nil && n.BusinessDaysLeft <= 5:
			out.DueWithin5++
		}
		if row.Escalated && row.Decision == nil && row.Status == request.StatusAwaitingVerification {
			out.Escalated++
		}
		if row.Status == request.StatusFailed {
			out.Failed++
		}
	}
	return Response{Status: http.StatusOK, Body: out}, nil
}

// anyRequest reads a request of any account; an unknown id is 404.
func (a *API) anyRequest(ctx context.Context, c *Call) (request.Request, error) {
	id := c.Req.PathParameters["id"]
	r, err := a.s.Ledger.Get(ctx, id)
	if errors.Is(err, ledger.ErrNotFound) {
		return r, notFound("no such deletion request")
	}
	if err != nil {
		return r, fmt.Errorf("read request %s: %w", id, err)
	}
	return r, nil
}

func (a *API) detailOf(r request.Request) registerDetail {
	v := viewOf(r)
	return registerDetail{registerRow: a.rowOf(r, a.s.Now().UTC()), History: v.History, Progress: v.Progress, Evidence: v.Evidence,
		Candidates: r.Candidates, Verification: a.verificationOf(r.Kind, r.Verification)}
}

func (a *API) opsRequest(ctx context.Context, c *Call) (Response, error) {
	r, err := a.anyRequest(ctx, c)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusOK, Body: a.detailOf(r)}, nil
}

// opsDecide records the privacy officer's decision on an escalated end-customer request, exactly as
// the owner's (the requester is told by the workflow), with the operator as its author.
func (a *API) opsDecide(ctx context.Context, c *Call) (Response, error) {
	var in struct {
		Approve   *bool  `json:"approve"`
		Reason    string `json:"reason"`
		EndUserID string `json:"endUserId"`
	}
	if err := decode(c.Req, &in); err != nil {
		return Response{}, err
	}
	if in.Approve == nil {
		return Response{}, badRequest("approve", "true to approve, false to decline")
	}
	if len(in.Reason) > 2000 || !*in.Approve && strings.TrimSpace(in.Reason) == "" {
		return Response{}, badRequest("reason", "why it is declined (told to the requester), up to 2000 characters")
	}
	r, err := a.anyRequest(ctx, c)
	if err != nil {
		return Response{}, err
	}
	if r.Kind != request.KindEndCustomerRequest {
		return Response{}, notFound("no such end-customer request")
	}
	out, err := a.s.Requests.DecideAsOfficer(ctx, r.ID, c.Operator.Actor(), *in.Approve, in.Reason, in.EndUserID)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusOK, Body: a.rowOf(out, a.s.Now().UTC())}, nil
}

// opsRetry re-drives a failed request from where it stopped.
func (a *API) opsRetry(ctx context.Context, c *Call) (Response, error) {
	r, err := a.anyRequest(ctx, c)
	if err != nil {
		return Response{}, err
	}
	out, err := a.s.Requests.Retry(ctx, r.ID, c.Operator.Actor())
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusAccepted, Body: a.rowOf(out, a.s.Now().UTC())}, nil
}
