package api

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

func (a *API) actRoutes() {
	a.add(&route{method: http.MethodGet, path: "/v1/ops/acts", ops: true, h: a.listActs})
	a.add(&route{method: http.MethodGet, path: "/v1/ops/acts/{id}", ops: true, h: a.getAct})
}

// publicActRoutes serve the acts the final mail links to: signed, expiring links, no login (after a
// hard delete the owner has none).
func (a *API) publicActRoutes() {
	a.add(&route{method: http.MethodGet, path: "/v1/acts/{id}", public: true, h: a.publicAct})
}

// actRow is one act of destruction in a list (api/openapi.yaml ActRow).
type actRow struct {
	ID        string    `json:"id"`
	RequestID string    `json:"requestId"`
	AccountID string    `json:"accountId"`
	Round     int       `json:"round"`
	DrawnUpAt time.Time `json:"drawnUpAt"`
	Kind      string    `json:"kind"`
}

// actStatuses are the statuses a request with an act can be in: completed or waiting for its
// backups, held after a first round, resumed, or failed in a later round.
var actStatuses = []request.Status{request.StatusCompleted, request.StatusAwaitingBackupRotation, request.StatusHeld,
	request.StatusHardDeleting, request.StatusFailed}

// defaultActWindow is how far back the list looks when it is given no request, account or from.
const defaultActWindow = 31 * 24 * time.Hour

// listActs lists the acts of destruction of one request, of one account's requests, or drawn up
// between from and to (Moscow days, as the acts and the journal extract state them, both included),
// newest first.
func (a *API) listActs(ctx context.Context, c *Call) (Response, error) {
	q := c.Req.QueryStringParameters
	reqID, account := q["request"], q["account"]
	if reqID != "" && !idPattern.MatchString(reqID) {
		return Response{}, badRequest("request", "a request id")
	}
	if account != "" && !idPattern.MatchString(account) {
		return Response{}, badRequest("account", "an account id")
	}
	from, err := dateParam(q["from"], "from", false)
	if err != nil {
		return Response{}, err
	}
	to, err := dateParam(q["to"], "to", true)
	if err != nil {
		return Response{}, err
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return Response{}, badRequest("to", "must not be before from")
	}
	if reqID == "" && account == "" && from.IsZero() {
		from = a.s.Now().UTC().Add(-defaultActWindow)
	}
	limit, err := parseLimit(q["limit"])
	if err != nil {
		return Response{}, err
	}
	// The cursor is bound to the filters it was given out for (the default window's start too, so a
	// cursor taken under one default does not silently page another).
	sum := sha256.Sum256([]byte(strings.Join([]string{reqID, account, from.Format(time.RFC3339Nano), to.Format(time.RFC3339Nano)}, "\x00")))
	partition := "OPSACTS#" + hex.EncodeToString(sum[:12])
	cur, err := platform.DecodeCursor(q["cursor"], partition)
	if err != nil {
		return Response{}, err
	}
	var reqs []request.Request
	switch {
	case reqID != "":
		r, err := a.s.Ledger.Get(ctx, reqID)
		if err != nil && !errors.Is(err, ledger.ErrNotFound) {
			return Response{}, err
		}
		if err == nil && (account == "" || r.AccountID == account) {
			reqs = append(reqs, r)
		}
	case account != "":
		cursor := ""
		for {
			rs, next, err := a.s.Ledger.ByAccount(ctx, account, 100, cursor)
			if err != nil {
				return Response{}, err
			}
			reqs = append(reqs, rs...)
			if next == "" {
				break
			}
			cursor = next
		}
	default:
		// A request's last change is at or after its latest act: what changed since from holds
		// every act drawn up since.
		seen := map[string]bool{}
		for _, st := range actStatuses {
			rs, err := a.s.Ledger.ByStatusSince(ctx, st, from)
			if err != nil {
				return Response{}, err
			}
			for _, r := range rs {
				if !seen[r.ID] {
					seen[r.ID] = true
					reqs = append(reqs, r)
				}
			}
		}
	}
	var rows []actRow
	for _, r := range reqs {
		for i, id := range r.Evidence {
			rec, err := a.s.Deletion.Act(ctx, id)
			if err != nil {
				return Response{}, err
			}
			at := rec.CompletedAt.UTC()
			if !from.IsZero() && at.Before(from) || !to.IsZero() && !at.Before(to) {
				continue
			}
			rows = append(rows, actRow{ID: id, RequestID: r.ID, AccountID: r.AccountID, Round: i + 1,
				DrawnUpAt: at, Kind: string(r.Kind)})
		}
	}
	// Newest first; the order key sorts the same way ascending, so a page starts after the last row
	// shown even when acts were drawn up in between.
	slices.SortFunc(rows, func(x, y actRow) int { return strings.Compare(actOrder(x), actOrder(y)) })
	out := pageOf(rows, actOrder, cur, partition, limit)
	return Response{Status: http.StatusOK, Body: out}, nil
}

// actOrder sorts acts newest first as an ascending string: the time drawn up, inverted, then the id.
func actOrder(r actRow) string {
	return fmt.Sprintf("%020d#%s", math.MaxInt64-r.DrawnUpAt.UnixNano(), r.ID)
}

// dateParam reads an optional YYYY-MM-DD query parameter as parseDay does (the start of that day in
// Moscow time, the day the acts state), or, end, as the start of the next (an exclusive bound that
// includes the day).
func dateParam(v, name string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	d, err := parseDay(name, v)
	if err != nil || !end {
		return d, err
	}
	return d.AddDate(0, 0, 1), nil
}

// getAct answers one act of destruction as JSON (the record), a printable HTML page or a PDF, in
// the act's language unless locale asks for the other.
func (a *API) getAct(ctx context.Context, c *Call) (Response, error) {
	return a.act(ctx, c.Req.PathParameters["id"], c.Req.QueryStringParameters, "json")
}

// publicAct answers the act a signed link from the final mail names, until the link expires: a
// wrong signature is a 403, an expired link a 410, and neither says whether the act exists.
func (a *API) publicAct(ctx context.Context, c *Call) (Response, error) {
	id, q := c.Req.PathParameters["id"], c.Req.QueryStringParameters
	if id == "" || !idPattern.MatchString(id) {
		return problemFor(http.StatusForbidden, "this link to an act is not valid"), nil
	}
	switch a.s.ActLinks.Check(id, q["exp"], q["sig"], a.s.Now()) {
	case nil:
	case evidence.ErrLinkExpired:
		return problemFor(http.StatusGone, "this link to the act has expired; ask the privacy officer for the act"), nil
	default:
		return problemFor(http.StatusForbidden, "this link to an act is not valid"), nil
	}
	if f := q["format"]; f == "json" {
		return Response{}, badRequest("format", "html or pdf")
	}
	return a.act(ctx, id, q, "html")
}

func (a *API) act(ctx context.Context, id string, q map[string]string, def string) (Response, error) {
	format := q["format"]
	if format == "" {
		format = def
	}
	if format != "json" && format != "html" && format != "pdf" {
		return Response{}, badRequest("format", "json, html or pdf")
	}
	locale := q["locale"]
	if locale != "" && locale != evidence.LocaleRU && locale != evidence.LocaleEN {
		return Response{}, badRequest("locale", "ru or en")
	}
	rec, err := a.s.Deletion.Act(ctx, id)
	if err != nil {
		return Response{}, err
	}
	headers := map[string]string{"cache-control": "no-store", "referrer-policy": "no-referrer"}
	switch format {
	case "html":
		doc, err := evidence.RenderHTML(rec, locale)
		if err != nil {
			return Response{}, err
		}
		headers["content-security-policy"] = actCSP()
		return Response{Status: http.StatusOK, Raw: []byte(doc), ContentType: "text/html; charset=utf-8", Headers: headers}, nil
	case "pdf":
		doc, err := evidence.RenderPDF(rec, locale)
		if err != nil {
			return Response{}, err
		}
		headers["content-disposition"] = `attachment; filename="act-` + id + `.pdf"`
		return Response{Status: http.StatusOK, Raw: doc, Binary: true, ContentType: "application/pdf", Headers: headers}, nil
	}
	doc, err := evidence.RenderJSON(rec)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusOK, Raw: doc, ContentType: "application/json", Headers: headers}, nil
}

// actCSP is the policy an act's HTML is answered with: nothing but its own stylesheet, admitted by
// its hash, and no framing by another origin.
func actCSP() string {
	return "default-src 'none'; style-src " + evidence.StyleSrc() + "; frame-ancestors 'self'; base-uri 'none'; form-action 'none'"
}
