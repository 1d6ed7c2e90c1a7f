package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/calendar"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/mailer"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/retention"
)

// The operator's exports (CSV) and reports: the register, the journal of destruction for a date
// range, requests and SLA breaches per month, and the retention sweep's monthly report.

// csvCell guards a cell against formula injection: a spreadsheet runs a cell that starts with
// = + - @ (or a tab or carriage return before one), so such a cell gets a leading '.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// csvAnswer writes rows (the header first) as a CSV attachment named name.
func csvAnswer(name string, rows [][]string) (Response, error) {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	for _, row := range rows {
		safe := make([]string, len(row))
		for i, cell := range row {
			safe[i] = csvCell(cell)
		}
		if err := w.Write(safe); err != nil {
			return Response{}, err
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusOK, Raw: b.Bytes(), ContentType: "text/csv; charset=utf-8",
		Headers: map[string]string{"Content-Disposition": `attachment; filename="` + name + `"`}}, nil
}

func csvTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

// opsRegisterCSV is the register under the same filters, every row.
func (a *API) opsRegisterCSV(ctx context.Context, c *Call) (Response, error) {
	f, err := parseRegisterFilter(c.Req.QueryStringParameters, a.s.Now())
	if err != nil {
		return Response{}, err
	}
	rows, err := a.register(ctx, f)
	if err != nil {
		return Response{}, err
	}
	out := [][]string{{"request_id", "account_id", "kind", "source", "status", "created_at", "next_deadline",
		"next_deadline_at", "business_days_left", "overdue", "escalated", "decision", "failure"}}
	for _, r := range rows {
		line := []string{r.ID, r.AccountID, string(r.Kind), r.Source, string(r.Status), csvTime(r.CreatedAt), "", "", "", "false",
			strconv.FormatBool(r.Escalated), "", ""}
		if n := r.NextDeadline; n != nil {
			line[6], line[7], line[8], line[9] = n.Name, csvTime(n.At), strconv.Itoa(n.BusinessDaysLeft), strconv.FormatBool(n.Overdue)
		}
		if d := r.Decision; d != nil {
			line[11] = map[bool]string{true: "approved", false: "declined"}[d.Approved] + " by " + d.By
		}
		if r.Failure != nil {
			line[12] = r.Failure.Cause
		}
		out = append(out, line)
	}
	return csvAnswer("requests.csv", out)
}

// parseDay reads a YYYY-MM-DD query parameter as the start of that day in Moscow time, the time the
// acts and mails state.
func parseDay(field, s string) (time.Time, error) {
	d, err := calendar.ParseDate(s)
	if err != nil {
		return time.Time{}, badRequest(field, "a date, YYYY-MM-DD")
	}
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, mailer.Moscow), nil
}

// maxJournalDays bounds the range of one journal extract.
const maxJournalDays = 366

// opsJournalCSV is the journal of destruction for the days from..to (inclusive, Moscow time), as an
// inspector asks for it under Order 179: one line per category of data each act of a request or of
// a retention sweep's run destroyed, and one line per item DynamoDB's TTL removed. It names
// subjects by kind and number (a TTL removal's by identifier), never by name or contact.
func (a *API) opsJournalCSV(ctx context.Context, c *Call) (Response, error) {
	q := c.Req.QueryStringParameters
	from, err := parseDay("from", q["from"])
	if err != nil {
		return Response{}, err
	}
	to, err := parseDay("to", q["to"])
	if err != nil {
		return Response{}, err
	}
	end := to.AddDate(0, 0, 1)
	if !from.Before(end) || end.Sub(from) > maxJournalDays*24*time.Hour {
		return Response{}, badRequest("to", fmt.Sprintf("a date on or after from, at most %d days later", maxJournalDays-1))
	}
	// An act is drawn up before its request's last change, so every request with an act in the
	// range changed since from.
	rs, err := a.requestsIn(ctx, validStatuses(), from)
	if err != nil {
		return Response{}, err
	}
	var ids []string
	accountOf := map[string]string{}
	requestOf := map[string]string{}
	for _, r := range rs {
		for _, id := range r.Evidence {
			ids = append(ids, id)
			accountOf[id], requestOf[id] = r.AccountID, r.ID
		}
	}
	lines, err := evidence.Journal{Store: a.s.Store}.Extract(ctx, ids, from, end)
	if err != nil {
		return Response{}, fmt.Errorf("read the journal of destruction: %w", err)
	}
	out := [][]string{{"date", "source", "request_id", "account_id", "subject", "subject_kind", "subject_id", "category", "count",
		"files", "method", "act_id", "request_kind"}}
	for _, l := range lines {
		req, acct := requestOf[l.ActID], accountOf[l.ActID]
		if req == "" { // a TTL removal: recorded under the request of its day, platform-wide
			req, acct = l.ActID, "-"
		}
		out = append(out, []string{l.Date.In(mailer.Moscow).Format(time.RFC3339), l.Source, req, acct, l.Subjects, l.SubjectKind,
			l.SubjectID, l.Category, strconv.FormatInt(l.Count, 10), strconv.FormatInt(l.Objects, 10), l.Method, l.ActID, l.RequestKind})
	}
	return csvAnswer(fmt.Sprintf("journal-%s-%s.csv", q["from"], q["to"]), out)
}

func validStatuses() []request.Status {
	out := make([]request.Status, 0, len(validStatus))
	for st := range validStatus {
		out = append(out, st)
	}
	return out
}

// monthView is one month of the monthly report.
type monthView struct {
	Month              string         `json:"month"`
	Received           int            `json:"received"`
	Completed          int            `json:"completed"`
	Breaches           int            `json:"breaches"`
	BreachesByDeadline map[string]int `json:"breachesByDeadline"`
}

// opsMonthly counts, for the current month and the months=N-1 before it (Moscow time), the requests
// received, the requests completed and the SLA breaches the sweep escalated, by deadline.
func (a *API) opsMonthly(ctx context.Context, c *Call) (Response, error) {
	n := 6
	if s := c.Req.QueryStringParameters["months"]; s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 || n > 24 {
			return Response{}, badRequest("months", "a number of months from 1 to 24")
		}
	}
	now := a.s.Now().In(mailer.Moscow)
	first := time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, mailer.Moscow).AddDate(0, -(n - 1), 0)
	months := make([]monthView, n)
	index := map[string]int{}
	for i := range months {
		m := first.AddDate(0, i, 0).Format("2006-01")
		months[i] = monthView{Month: m, BreachesByDeadline: map[string]int{}}
		index[m] = i
	}
	at := func(t time.Time) (*monthView, bool) {
		i, ok := index[t.In(mailer.Moscow).Format("2006-01")]
		if !ok {
			return nil, false
		}
		return &months[i], true
	}
	// Whatever happened in the window changed its request inside it.
	rs, err := a.requestsIn(ctx, validStatuses(), first)
	if err != nil {
		return Response{}, err
	}
	for _, r := range rs {
		if m, ok := at(r.CreatedAt); ok {
			m.Received++
		}
		for _, e := range r.History {
			if name, ok := request.Breach(e); ok {
				if m, ok := at(e.At); ok {
					m.Breaches++
					m.BreachesByDeadline[name]++
				}
			}
		}
		if r.Status == request.StatusCompleted && r.ClosedAt != nil {
			if m, ok := at(*r.ClosedAt); ok {
				m.Completed++
			}
		}
	}
	return Response{Status: http.StatusOK, Body: struct {
		Months []monthView `json:"months"`
	}{months}}, nil
}

// retentionCounts is one category's line of the retention report.
type retentionCounts struct {
	Deleted      int64      `json:"deleted"`
	Objects      int64      `json:"objects"`
	Repaired     int64      `json:"repaired"`
	Unrepairable int64      `json:"unrepairable"`
	Oldest       *time.Time `json:"oldest,omitempty"`
}

// opsRetention is the retention sweep's report of a month (the one the privacy officer is mailed):
// the previous month when none is named. A month no run finished in is 404.
func (a *API) opsRetention(ctx context.Context, c *Call) (Response, error) {
	month := c.Req.QueryStringParameters["month"]
	if month == "" {
		now := a.s.Now().In(mailer.Moscow)
		month = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, mailer.Moscow).AddDate(0, -1, 0).Format("2006-01")
	}
	if t, err := time.Parse("2006-01", month); err != nil || t.Format("2006-01") != month {
		return Response{}, badRequest("month", "a month, YYYY-MM")
	}
	sum, err := retention.MonthlyReport(ctx, a.s.Store, month)
	if err != nil {
		return Response{}, err
	}
	if sum == nil {
		return Response{}, notFound("no retention sweep finished in " + month)
	}
	out := struct {
		Month      string                     `json:"month"`
		ReportID   string                     `json:"reportId"`
		Runs       int                        `json:"runs"`
		AsOf       time.Time                  `json:"asOf"`
		Categories map[string]retentionCounts `json:"categories"`
	}{month, retention.ReportID(month), sum.Runs, sum.AsOf, map[string]retentionCounts{}}
	for name, cnt := range sum.Categories {
		out.Categories[name] = retentionCounts{Deleted: cnt.Deleted, Objects: cnt.Objects, Repaired: cnt.Repaired,
			Unrepairable: cnt.Unrepairable, Oldest: cnt.Oldest}
	}
	return Response{Status: http.StatusOK, Body: out}, nil
}
