package api_test

import (
	"bytes"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

// putLogs stores one activity-log entry of account i at each time, and returns their ids in order.
func (w *world) putActivityLogs(i int, at ...time.Time) []string {
	w.t.Helper()
	a := w.manifest.Accounts[i]
	var recs []platform.Record
	var out []string
	for _, t := range at {
		l := platform.ActivityLog{AccountID: a.ID, ID: platform.NewID(t), At: t, ActorSub: w.member(i, platform.RoleOwner),
			ActorName: "Test Owner", Action: "bot.update", Target: "bot:" + a.Bots[0].ID, IP: "192.0.2.7"}
		recs = append(recs, l)
		out = append(out, l.ID)
	}
	if err := w.sys.Store.PutAll(w.ctx, recs); err != nil {
		w.t.Fatal(err)
	}
	return out
}

// storedLogIDs lists the ids of account i's activity logs in [from, to], straight from the store.
// requestCount is the number of requests the ledger holds for account i.
func (w *world) requestCount(i int) int {
	w.t.Helper()
	n := 0
	start := ""
	for {
		rs, next, err := w.sys.Ledger.ByAccount(w.ctx, w.manifest.Accounts[i].ID, 100, start)
		if err != nil {
			w.t.Fatal(err)
		}
		n += len(rs)
		if next == "" {
			return n
		}
		start = next
	}
}

func (w *world) storedLogIDs(i int, from, to time.Time) map[string]bool {
	w.t.Helper()
	out := map[string]bool{}
	q := platform.QuerySpec{}
	for {
		p, err := w.sys.Store.ActivityLogs(w.ctx, w.manifest.Accounts[i].ID, from, to, q)
		if err != nil {
			w.t.Fatal(err)
		}
		for _, l := range p.Items {
			out[l.ID] = true
		}
		if p.Next == nil {
			return out
		}
		q.Start = p.Next
	}
}

type activityLogPage struct {
	Items []struct {
		ID       string
		At       time.Time
		ActorSub string
		Action   string
	}
	NextCursor string
}

type logDeletionReply struct {
	ID, Kind, Status string
	Evidence         []string
	Scope            struct {
		Kind     string
		LogIDs   []string `json:"logIds"`
		From, To *time.Time
	}
}

func sortedLogIDs(s ...string) []string {
	slices.Sort(s)
	return s
}

func hoursAgo(h ...int) []time.Time {
	var out []time.Time
	for _, n := range h {
		out = append(out, start.Add(-time.Duration(n)*time.Hour))
	}
	return out
}

func logTimeQ(t time.Time) string { return url.QueryEscape(t.UTC().Format(time.RFC3339)) }

func TestListActivityLogsNewestFirstAndPaginated(t *testing.T) {
	w := newWorld(t)
	mine := w.putActivityLogs(0, hoursAgo(1, 2, 3, 5, 8, 13, 21)...)
	w.putActivityLogs(1, hoursAgo(1, 2)...)
	from, to := start.Add(-30*24*time.Hour), start
	want := w.storedLogIDs(0, from, to)
	for _, id := range mine {
		if !want[id] {
			t.Fatalf("setup: %s not in the store's range", id)
		}
	}
	admin := w.token(0, platform.RoleAccountAdmin)
	seen, cursor, pages := map[string]int{}, "", 0
	var prev string
	for {
		path := "/v1/activity-logs?limit=3&from=" + logTimeQ(from) + "&to=" + logTimeQ(to)
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		r := w.call("GET", path, admin, "")
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", pages, r.status, r.body)
		}
		var p activityLogPage
		r.json(t, &p)
		pages++
		if len(p.Items) > 3 {
			t.Fatalf("page %d: %d items", pages, len(p.Items))
		}
		for _, it := range p.Items {
			seen[it.ID]++
			if prev != "" && it.ID >= prev {
				t.Errorf("not newest first: %s after %s", it.ID, prev)
			}
			prev = it.ID
			if it.ActorSub == "" || it.Action == "" || it.At.IsZero() {
				t.Errorf("entry %+v", it)
			}
		}
		if p.NextCursor == "" || pages > 20 {
			break
		}
		cursor = p.NextCursor
	}
	if len(seen) != len(want) {
		t.Errorf("listed %d entries, want %d", len(seen), len(want))
	}
	for id, n := range seen {
		if n != 1 || !want[id] {
			t.Errorf("%s listed %d times (in range: %v)", id, n, want[id])
		}
	}

	// The default range is the last 7 days up to now.
	var def activityLogPage
	w.call("GET", "/v1/activity-logs?limit=100", w.token(0, platform.RoleOwner), "").json(t, &def)
	wantDef := w.storedLogIDs(0, w.sys.Now().Add(-7*24*time.Hour), w.sys.Now())
	if len(def.Items) != len(wantDef) || len(def.Items) < len(mine) {
		t.Errorf("default range: %d entries, want %d", len(def.Items), len(wantDef))
	}
	for _, it := range def.Items {
		if !wantDef[it.ID] {
			t.Errorf("default range lists %s", it.ID)
		}
	}

	for _, role := range []string{platform.RoleBotAdmin, platform.RoleMember} {
		if r := w.call("GET", "/v1/activity-logs", w.token(0, role), ""); r.status != 403 {
			t.Errorf("%s lists: %d", role, r.status)
		}
	}
	for _, q := range []string{"from=yesterday", "to=2026-13-01T00:00:00Z", "from=" + logTimeQ(to) + "&to=" + logTimeQ(from), "cursor=garbage!", "limit=101"} {
		if r := w.call("GET", "/v1/activity-logs?"+q, admin, ""); r.status != 400 {
			t.Errorf("%s: %d", q, r.status)
		}
	}
}

func TestDeleteActivityLogs(t *testing.T) {
	w := newWorld(t)
	mine := w.putActivityLogs(0, hoursAgo(1, 2, 3, 50, 51, 52, 100, 200)...)
	theirs := w.putActivityLogs(1, hoursAgo(1, 2)...)
	all := func(i int) map[string]bool { return w.storedLogIDs(i, start.Add(-400*24*time.Hour), start) }
	before0, before1 := all(0), all(1)
	admin := w.token(0, platform.RoleAccountAdmin)
	post := func(body string, headers ...string) reply {
		t.Helper()
		return w.call("POST", "/v1/activity-logs/deletions", admin, body, headers...)
	}

	// Refused: roles, and bodies that name nothing or something malformed. Nothing goes.
	for _, role := range []string{platform.RoleBotAdmin, platform.RoleMember} {
		if r := w.call("POST", "/v1/activity-logs/deletions", w.token(0, role), fmt.Sprintf(`{"ids":[%q]}`, mine[0])); r.status != 403 {
			t.Errorf("%s deletes: %d", role, r.status)
		}
	}
	for _, body := range []string{"", "{}", `{"ids":[]}`, `{"ids":null}`, `{"ids":["a#b"]}`, fmt.Sprintf(`{"ids":[%q,%q]}`, mine[0], mine[0]),
		`{"from":"yesterday"}`, `{"from":"2026-03-02T00:00:00Z","to":"2026-03-01T00:00:00Z"}`, `{"logIds":["x"]}`, `[]`} {
		if r := post(body); r.status != 400 {
			t.Errorf("body %s: %d %s", body, r.status, r.body)
		}
	}
	if got := all(0); len(got) != len(before0) {
		t.Fatalf("refused calls deleted %d entries", len(before0)-len(got))
	}

	// An id of another account, alone or among the caller's own, or an id of nothing: 404, and
	// nothing goes — not even the caller's entries named with it — and no request is recorded.
	requestsBefore := w.requestCount(0)
	for _, body := range []string{fmt.Sprintf(`{"ids":[%q,%q,%q]}`, mine[0], mine[1], theirs[0]), fmt.Sprintf(`{"ids":[%q]}`, theirs[1]),
		fmt.Sprintf(`{"ids":[%q,%q]}`, mine[0], "01JNOSUCHLOG00000000000000"),
		fmt.Sprintf(`{"ids":[%q,%q],"from":"2020-01-01T00:00:00Z"}`, theirs[0], mine[0])} {
		if r := post(body); r.status != 404 {
			t.Errorf("body %s: %d %s, want 404", body, r.status, r.body)
		}
	}
	if got0, got1 := all(0), all(1); len(got0) != len(before0) || len(got1) != len(before1) {
		t.Fatalf("refused calls deleted %d of the caller's and %d of another account's entries", len(before0)-len(got0), len(before1)-len(got1))
	}
	if n := w.requestCount(0); n != requestsBefore {
		t.Fatalf("refused calls recorded %d requests", n-requestsBefore)
	}

	// By ids: the account's own named entries go.
	body := fmt.Sprintf(`{"ids":[%q,%q]}`, mine[0], mine[1])
	r := post(body, "Idempotency-Key", "logs-1")
	if r.status != 200 {
		t.Fatalf("by ids: %d %s", r.status, r.body)
	}
	var req logDeletionReply
	r.json(t, &req)
	if req.Kind != string(request.KindActivityLogs) || req.Status != string(request.StatusCompleted) || len(req.Evidence) != 1 ||
		req.Scope.Kind != string(datamap.ScopeActivityLogs) || !slices.Equal(req.Scope.LogIDs, sortedLogIDs(mine[0], mine[1])) {
		t.Fatalf("by ids: %+v", req)
	}
	got0 := all(0)
	if got0[mine[0]] || got0[mine[1]] || len(got0) != len(before0)-2 {
		t.Errorf("by ids: %d of %d entries left, named ones still there: %v %v", len(got0), len(before0), got0[mine[0]], got0[mine[1]])
	}
	if got1 := all(1); len(got1) != len(before1) || !got1[theirs[0]] {
		t.Errorf("another account's entries: %d of %d left", len(got1), len(before1))
	}
	if ev := w.call("GET", "/v1/deletion-requests/"+req.ID+"/evidence", admin, ""); ev.status != 200 {
		t.Errorf("evidence: %d", ev.status)
	}
	// A retry with the key answers the same and makes no other request.
	again := post(body, "Idempotency-Key", "logs-1")
	if again.status != 200 || !bytes.Equal(again.body, r.body) || again.header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("retry: %d replayed=%q", again.status, again.header.Get("Idempotent-Replayed"))
	}
	if c := post(fmt.Sprintf(`{"ids":[%q]}`, mine[2]), "Idempotency-Key", "logs-1"); c.status != 409 {
		t.Errorf("key reused with another body: %d", c.status)
	}

	// By range (small: at once): the entries 50–52 hours ago, nothing around them.
	from, to := start.Add(-52*time.Hour-time.Minute), start.Add(-50*time.Hour+time.Minute)
	inRange := w.storedLogIDs(0, from, to)
	r = post(fmt.Sprintf(`{"from":%q,"to":%q}`, from.Format(time.RFC3339), to.Format(time.RFC3339)))
	if r.status != 200 {
		t.Fatalf("by range: %d %s", r.status, r.body)
	}
	req = logDeletionReply{}
	r.json(t, &req)
	if req.Status != string(request.StatusCompleted) || len(req.Evidence) != 1 || req.Scope.From == nil || !req.Scope.From.Equal(from) {
		t.Errorf("by range: %+v", req)
	}
	left := all(0)
	for id := range inRange {
		if left[id] {
			t.Errorf("%s in the range is still there", id)
		}
	}
	if len(left) != len(got0)-len(inRange) || !left[mine[2]] || !left[mine[6]] {
		t.Errorf("by range: %d left, want %d", len(left), len(got0)-len(inRange))
	}

	// Ids and a range together: the named entries inside the range only.
	from, to = start.Add(-150*time.Hour), start
	r = post(fmt.Sprintf(`{"ids":[%q,%q],"from":%q,"to":%q}`, mine[6], mine[7], from.Format(time.RFC3339), to.Format(time.RFC3339)))
	req = logDeletionReply{}
	r.json(t, &req)
	if r.status != 200 || !slices.Equal(req.Scope.LogIDs, []string{mine[6]}) {
		t.Fatalf("ids in a range: %d %s", r.status, r.body)
	}
	left = all(0)
	if left[mine[6]] || !left[mine[7]] {
		t.Errorf("ids in a range: inside gone %v, outside kept %v", !left[mine[6]], left[mine[7]])
	}
	if _, err := w.sys.Ledger.Get(w.ctx, req.ID); err != nil {
		t.Errorf("the request is not in the ledger: %v", err)
	}
}

// A range larger than what is deleted at once is handed to the workflow: 202, then done.
func TestDeleteManyActivityLogsAsynchronously(t *testing.T) {
	w := newWorld(t)
	var at []time.Time
	for i := range 1001 {
		at = append(at, start.Add(-10*24*time.Hour+time.Duration(i)*time.Second))
	}
	w.putActivityLogs(0, at...)
	keep := w.putActivityLogs(0, hoursAgo(1)...)
	from, to := at[0], at[len(at)-1]
	r := w.call("POST", "/v1/activity-logs/deletions", w.token(0, platform.RoleOwner),
		fmt.Sprintf(`{"from":%q,"to":%q}`, from.Format(time.RFC3339), to.Format(time.RFC3339)))
	if r.status != 202 {
		t.Fatalf("large range: %d %s", r.status, r.body)
	}
	var req logDeletionReply
	r.json(t, &req)
	if r.header.Get("Location") != "/v1/deletion-requests/"+req.ID || req.Kind != string(request.KindActivityLogs) {
		t.Errorf("accepted: %s %+v", r.header.Get("Location"), req)
	}
	w.settle()
	got, err := w.sys.Ledger.Get(w.ctx, req.ID)
	if err != nil || got.Status != request.StatusCompleted {
		t.Fatalf("after the workflow: %s %v", got.Status, err)
	}
	if left := w.storedLogIDs(0, from, to); len(left) != 0 {
		t.Errorf("%d entries left in the range", len(left))
	}
	if !w.storedLogIDs(0, start.Add(-2*time.Hour), start)[keep[0]] {
		t.Error("an entry outside the range went")
	}
	if _, err := w.sys.Store.Account(w.ctx, w.manifest.Accounts[0].ID); errors.Is(err, platform.ErrNotFound) {
		t.Error("the account went")
	}
}
