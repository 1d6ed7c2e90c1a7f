package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/erasure"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
	"github.com/lethe-dev/lethe/internal/requests"
)

// activityLogRoutes registers the account's activity logs: listed and deleted by Account Admins
// and the owner only (SPEC §4).
func (a *API) activityLogRoutes() {
	admins := []string{platform.RoleOwner, platform.RoleAccountAdmin}
	a.add(&route{method: http.MethodGet, path: "/v1/activity-logs", roles: admins, h: a.listActivityLogs})
	a.add(&route{method: http.MethodPost, path: "/v1/activity-logs/deletions", roles: admins, idempotent: true, h: a.deleteActivityLogs})
}

const (
	// activityLogDefaultSpan is how far back a listing reaches when it names no start.
	activityLogDefaultSpan = 7 * 24 * time.Hour
	// activityLogSyncMax is the largest selection deleted before the answer; a larger range is
	// deleted by the workflow.
	activityLogSyncMax = 1000
	// activityLogIDsMax is the document's maxItems of ids.
	activityLogIDsMax = 1000
)

// activityLogView is one entry as the API shows it (api/openapi.yaml ActivityLogEntry).
type activityLogView struct {
	ID        string    `json:"id"`
	At        time.Time `json:"at"`
	ActorSub  string    `json:"actorSub"`
	ActorName string    `json:"actorName,omitempty"`
	Action    string    `json:"action"`
	Target    string    `json:"target,omitempty"`
	IP        string    `json:"ip,omitempty"`
}

// activityLogPK is the partition of the account's activity logs; always built from the token's
// account, never from what the caller sends.
func activityLogPK(accountID string) (string, error) {
	return datamap.Fill(datamap.MustLookup(datamap.ActivityLog).Location.PK, map[string]string{"account": accountID})
}

// activityLogEpoch is the earliest time a log id can carry (ULIDs count from the Unix epoch).
var activityLogEpoch = time.Unix(0, 0).UTC()

func clampLogTime(t time.Time) time.Time {
	if t.Before(activityLogEpoch) {
		return activityLogEpoch
	}
	return t.UTC()
}

func parseLogTime(field, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return time.Time{}, badRequest(field, "an RFC 3339 date-time")
	}
	return t, nil
}

// listActivityLogs pages through the account's activity logs in [from, to], newest first. Log ids
// are time-ordered, so the range is a key range and the cursor (the last id shown) its new upper end.
func (a *API) listActivityLogs(ctx context.Context, c *Call) (Response, error) {
	q := c.Req.QueryStringParameters
	to := a.s.Now().UTC()
	if s := q["to"]; s != "" {
		t, err := parseLogTime("to", s)
		if err != nil {
			return Response{}, err
		}
		to = t
	}
	from := to.Add(-activityLogDefaultSpan)
	if s := q["from"]; s != "" {
		t, err := parseLogTime("from", s)
		if err != nil {
			return Response{}, err
		}
		from = t
	}
	if to.Before(from) {
		return Response{}, badRequest("to", "must not be before from")
	}
	limit, err := parseLimit(q["limit"])
	if err != nil {
		return Response{}, err
	}
	pk, err := activityLogPK(c.Acct)
	if err != nil {
		return Response{}, err
	}
	cur, err := platform.DecodeCursor(q["cursor"], pk) // bound to the caller's log partition
	if err != nil {
		return Response{}, err
	}
	out := page[activityLogView]{Items: []activityLogView{}}
	lower, upper := platform.IDLowerBound(clampLogTime(from)), platform.IDUpperBound(clampLogTime(to))
	if cur.After != "" && cur.After < upper {
		upper = cur.After // inclusive: the entry itself is skipped below
	}
	if upper < lower {
		return Response{Status: http.StatusOK, Body: out}, nil
	}
	spec := platform.QuerySpec{Logical: datamap.PlatformTable, PK: pk, SKFrom: lower, SKTo: upper,
		Descending: true, Limit: int32(limit + 1)}
	for {
		items, next, err := a.s.Store.QueryItems(ctx, spec)
		if err != nil {
			return Response{}, err
		}
		for _, it := range items {
			if platform.AttrString(it[platform.AttrCategory]) != datamap.ActivityLog {
				continue
			}
			l, err := platform.Decode[platform.ActivityLog](it)
			if err != nil {
				return Response{}, err
			}
			if l.ID == cur.After {
				continue
			}
			if len(out.Items) == limit {
				last := out.Items[len(out.Items)-1].ID
				out.NextCursor = platform.Cursor{Partition: pk, After: last}.Encode()
				return Response{Status: http.StatusOK, Body: out}, nil
			}
			out.Items = append(out.Items, activityLogView{ID: l.ID, At: l.At.UTC(), ActorSub: l.ActorSub,
				ActorName: l.ActorName, Action: l.Action, Target: l.Target, IP: l.IP})
		}
		if next == nil {
			return Response{Status: http.StatusOK, Body: out}, nil
		}
		spec.Start = next
	}
}

// activityLogDeletionInput is api/openapi.yaml ActivityLogDeletionInput.
type activityLogDeletionInput struct {
	IDs  []string   `json:"ids"`
	From *time.Time `json:"from"`
	To   *time.Time `json:"to"`
}

// deleteActivityLogs deletes the entries named by ids, or every entry in [from, to], or the named
// entries inside the range when both are given. Only the caller's account's partition is ever
// read or touched: an id of another account (or of nothing) answers 404 and nothing is deleted. A selection of at most
// activityLogSyncMax entries is deleted before the answer (200, the completed request, evidence
// kept); a larger range is handed to the workflow (202).
func (a *API) deleteActivityLogs(ctx context.Context, c *Call) (Response, error) {
	var in activityLogDeletionInput
	if err := decode(c.Req, &in); err != nil {
		return Response{}, err
	}
	if in.IDs == nil && in.From == nil && in.To == nil {
		return Response{}, badRequest("body", "name the entries (ids) or a range (from, to)")
	}
	if in.IDs != nil {
		switch {
		case len(in.IDs) == 0:
			return Response{}, badRequest("ids", "at least one id")
		case len(in.IDs) > activityLogIDsMax:
			return Response{}, badRequest("ids", "at most 1000 ids")
		}
		seen := make(map[string]bool, len(in.IDs))
		for _, id := range in.IDs {
			if !idPattern.MatchString(id) {
				return Response{}, badRequest("ids", "not an activity-log id")
			}
			if seen[id] {
				return Response{}, badRequest("ids", "an id is repeated")
			}
			seen[id] = true
		}
	}
	now := a.s.Now().UTC()
	ranged := in.From != nil || in.To != nil
	from, to := activityLogEpoch, now
	if in.From != nil {
		from = clampLogTime(*in.From)
	}
	if in.To != nil {
		to = clampLogTime(*in.To)
	}
	if ranged && to.Before(from) {
		return Response{}, badRequest("to", "must not be before from")
	}
	pk, err := activityLogPK(c.Acct)
	if err != nil {
		return Response{}, err
	}
	lower, upper := platform.IDLowerBound(from), platform.IDUpperBound(to)
	scope := platform.ScopeRef{Kind: datamap.ScopeActivityLogs, AccountID: c.Acct}
	if ranged {
		scope.From, scope.To = from, to
	}

	if in.IDs != nil {
		// Every id must name an entry of this account (SPEC §4): one that does not — another
		// account's, or nothing — refuses the whole call, so none of the caller's goes either and
		// nothing is recorded. Of the caller's entries, only those in the range go.
		ids, err := a.existingActivityLogs(ctx, pk, in.IDs)
		if err != nil {
			return Response{}, fmt.Errorf("read the named activity logs of account %s: %w", c.Acct, err)
		}
		if len(ids) != len(in.IDs) {
			return Response{}, notFound("no such activity-log entry")
		}
		scope.LogIDs = slices.DeleteFunc(ids, func(id string) bool { return ranged && (id < lower || id > upper) })
		if len(scope.LogIDs) == 0 {
			return a.nothingToDelete(ctx, c, scope, now)
		}
		return a.deleteActivityLogsNow(ctx, c, scope, now)
	}

	n, err := a.countActivityLogs(ctx, pk, lower, upper, activityLogSyncMax+1)
	if err != nil {
		return Response{}, fmt.Errorf("count the activity logs of account %s: %w", c.Acct, err)
	}
	if n <= activityLogSyncMax {
		return a.deleteActivityLogsNow(ctx, c, scope, now)
	}
	req, _, err := a.s.Requests.RequestDeletion(ctx, requests.Deletion{Kind: request.KindActivityLogs, Scope: scope,
		Source: "dashboard", Actor: c.Member.Role + ":" + c.Sub, RequestedBy: c.Sub})
	if err != nil {
		return Response{}, err
	}
	return accepted(req), nil
}

// deleteActivityLogsNow records the request as hard_deleting and runs its destruction to the end
// before answering, evidence included, as the workflow would.
func (a *API) deleteActivityLogsNow(ctx context.Context, c *Call, scope platform.ScopeRef, now time.Time) (Response, error) {
	req, err := a.s.Ledger.Create(ctx, request.Request{ID: platform.NewID(now), AccountID: c.Acct, Kind: request.KindActivityLogs,
		Source: "dashboard", Status: request.StatusHardDeleting, RequestedBy: c.Sub, Scope: scope,
		History: []request.Event{{At: now, Status: request.StatusHardDeleting, Actor: c.Member.Role + ":" + c.Sub, Note: "activity-log deletion"}}})
	if err != nil {
		return Response{}, fmt.Errorf("record an activity-log deletion of account %s: %w", c.Acct, err)
	}
	done, err := a.s.Deletion.Run(ctx, req.ID, erasure.Budget{})
	if err != nil {
		return Response{}, fmt.Errorf("run activity-log deletion %s: %w", req.ID, err)
	}
	return Response{Status: http.StatusOK, Body: viewOf(done), Headers: map[string]string{"location": "/v1/deletion-requests/" + done.ID}}, nil
}

// nothingToDelete records a request whose named entries all lie outside its range: completed at
// once, with nothing destroyed and so no evidence.
func (a *API) nothingToDelete(ctx context.Context, c *Call, scope platform.ScopeRef, now time.Time) (Response, error) {
	closed := now
	req, err := a.s.Ledger.Create(ctx, request.Request{ID: platform.NewID(now), AccountID: c.Acct, Kind: request.KindActivityLogs,
		Source: "dashboard", Status: request.StatusCompleted, RequestedBy: c.Sub, Scope: scope, ClosedAt: &closed,
		History: []request.Event{{At: now, Status: request.StatusCompleted, Actor: c.Member.Role + ":" + c.Sub,
			Note: "activity-log deletion: none of the named entries lies in the range; nothing destroyed"}}})
	if err != nil {
		return Response{}, fmt.Errorf("record an empty activity-log deletion of account %s: %w", c.Acct, err)
	}
	return Response{Status: http.StatusOK, Body: viewOf(req), Headers: map[string]string{"location": "/v1/deletion-requests/" + req.ID}}, nil
}

// existingActivityLogs keeps the ids that name an entry in the partition pk, sorted. Expired
// entries DynamoDB still stores count: deleting them is what the caller asked.
func (a *API) existingActivityLogs(ctx context.Context, pk string, ids []string) ([]string, error) {
	found := make([]bool, len(ids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(16)
	for i, id := range ids {
		g.Go(func() error {
			items, _, err := a.s.Store.QueryItems(gctx, platform.QuerySpec{Logical: datamap.PlatformTable, PK: pk,
				SKFrom: id, SKTo: id, IncludeExpired: true, Projection: []string{"logId"}})
			if err != nil {
				return err
			}
			for _, it := range items {
				if platform.AttrString(it[platform.AttrCategory]) == datamap.ActivityLog {
					found[i] = true
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	var out []string
	for i, id := range ids {
		if found[i] {
			out = append(out, id)
		}
	}
	slices.Sort(out)
	return out, nil
}

// countActivityLogs counts the entries with ids in [lower, upper], stopping at stop.
func (a *API) countActivityLogs(ctx context.Context, pk, lower, upper string, stop int) (int, error) {
	spec := platform.QuerySpec{Logical: datamap.PlatformTable, PK: pk, SKFrom: lower, SKTo: upper,
		IncludeExpired: true, Projection: []string{"logId"}, Limit: int32(stop)}
	n := 0
	for {
		items, next, err := a.s.Store.QueryItems(ctx, spec)
		if err != nil {
			return 0, err
		}
		n += len(items)
		if n >= stop || next == nil {
			return n, nil
		}
		spec.Start = next
	}
}
