package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/holds"
	"github.com/lethe-dev/lethe/internal/platform"
)

func (a *API) holdRoutes() {
	a.add(&route{method: http.MethodGet, path: "/v1/ops/holds", ops: true, h: a.listHolds})
	a.add(&route{method: http.MethodPost, path: "/v1/ops/holds", ops: true, idempotent: true, h: a.placeHold})
	a.add(&route{method: http.MethodPost, path: "/v1/ops/holds/{id}/release", ops: true, idempotent: true, h: a.releaseHold})
}

// holdView is a legal hold as the ops API shows it (api/openapi.yaml Hold).
type holdView struct {
	ID           string       `json:"id"`
	AccountID    string       `json:"accountId"`
	Scope        holdScope    `json:"scope"`
	Reason       string       `json:"reason"`
	Authority    string       `json:"authority"`
	AuthorityRef string       `json:"authorityRef"`
	Until        *string      `json:"until,omitempty"`
	PlacedBy     string       `json:"placedBy"`
	PlacedAt     time.Time    `json:"placedAt"`
	ReleasedAt   *time.Time   `json:"releasedAt,omitempty"`
	ReleasedBy   string       `json:"releasedBy,omitempty"`
	ReleaseNote  string       `json:"releaseNote,omitempty"`
	Actions      []holdAction `json:"actions"`
	TTL          holdTTL      `json:"ttl"`
}

type holdScope struct {
	Kind string `json:"kind"`
	ID   string `json:"id"`
}

type holdAction struct {
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`
	Action string    `json:"action"`
	Note   string    `json:"note"`
}

// holdTTL is how far the TTL of what the hold covers has been taken off (removing, removed) or,
// once released, given back (restoring, restored), and how many items were changed.
type holdTTL struct {
	State string `json:"state"`
	Items int64  `json:"items"`
}

func holdViewOf(h platform.LegalHold) holdView {
	v := holdView{ID: h.ID, AccountID: h.AccountID, Scope: holdScope{Kind: h.ScopeKind, ID: h.ScopeID},
		Reason: h.Reason, Authority: h.Authority, AuthorityRef: h.AuthorityRef, PlacedBy: h.PlacedBy,
		PlacedAt: h.PlacedAt, ReleasedAt: h.ReleasedAt, Actions: []holdAction{},
		TTL: holdTTL{State: h.TTLState, Items: h.TTLItems}}
	if h.Until != nil {
		u := h.Until.UTC().Format(time.DateOnly)
		v.Until = &u
	}
	for _, x := range h.Actions {
		v.Actions = append(v.Actions, holdAction{At: x.At, Actor: x.Actor, Action: x.Action, Note: x.Note})
		if x.Action == "released" {
			v.ReleasedBy, v.ReleaseNote = x.Actor, x.Note
		}
	}
	switch {
	case h.ReleasedAt == nil && h.TTLState != platform.HoldTTLRemoved:
		v.TTL.State = "removing"
	case h.ReleasedAt != nil && h.TTLState != platform.HoldTTLRestored:
		v.TTL.State = "restoring"
	}
	return v
}

// listHolds lists legal holds, newest first: an account's (all of them, one page) with account,
// else every account's, a page at a time. Only the active ones with active=true, the default
// without account; with account the default stays every hold of it.
func (a *API) listHolds(ctx context.Context, c *Call) (Response, error) {
	q := c.Req.QueryStringParameters
	account := q["account"]
	if account != "" && !idPattern.MatchString(account) {
		return Response{}, badRequest("account", "the id of the account whose holds to list")
	}
	active := account == ""
	switch q["active"] {
	case "":
	case "false":
		active = false
	case "true":
		active = true
	default:
		return Response{}, badRequest("active", "true or false")
	}
	out := page[holdView]{Items: []holdView{}}
	var hs []platform.LegalHold
	var err error
	if account != "" {
		if q["cursor"] != "" || q["limit"] != "" {
			return Response{}, badRequest("cursor", "an account's holds are one page: no cursor or limit with account")
		}
		hs, err = a.s.Holds.List(ctx, account, active)
	} else {
		limit, lerr := parseLimit(q["limit"])
		if lerr != nil {
			return Response{}, lerr
		}
		hs, out.NextCursor, err = a.s.Holds.ListAll(ctx, active, limit, q["cursor"])
	}
	if err != nil {
		return Response{}, err
	}
	for _, h := range hs {
		out.Items = append(out.Items, holdViewOf(h))
	}
	return Response{Status: http.StatusOK, Body: out}, nil
}

// placeHoldBody is what an operator states to place a hold.
type placeHoldBody struct {
	AccountID    string    `json:"accountId"`
	Scope        holdScope `json:"scope"`
	Reason       string    `json:"reason"`
	Authority    string    `json:"authority"`
	AuthorityRef string    `json:"authorityRef"`
	Until        string    `json:"until"`
}

// Bounds of a hold's texts: a reason and an authority's reference, not a document.
const (
	maxHoldText = 2000
	maxHoldRef  = 500
)

// placeHold places a legal hold as the calling operator.
func (a *API) placeHold(ctx context.Context, c *Call) (Response, error) {
	var b placeHoldBody
	if err := decode(c.Req, &b); err != nil {
		return Response{}, err
	}
	if !idPattern.MatchString(b.AccountID) {
		return Response{}, badRequest("accountId", "an account id")
	}
	if b.Scope.ID != "" && !idPattern.MatchString(b.Scope.ID) {
		return Response{}, badRequest("scope.id", "a bot or end user id")
	}
	if len(b.Reason) > maxHoldText || len(b.Authority) > maxHoldRef || len(b.AuthorityRef) > maxHoldRef {
		return Response{}, badRequest("body", "reason at most 2000 bytes, authority and authorityRef at most 500")
	}
	h := platform.LegalHold{AccountID: b.AccountID, ScopeKind: b.Scope.Kind, ScopeID: b.Scope.ID, Reason: b.Reason,
		Authority: b.Authority, AuthorityRef: b.AuthorityRef}
	if b.Until != "" {
		u, err := time.Parse(time.DateOnly, b.Until)
		if err != nil {
			return Response{}, badRequest("until", "a date, YYYY-MM-DD")
		}
		h.Until = &u
	}
	placed, err := a.s.Holds.Place(ctx, h, c.Operator.Actor())
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusCreated, Body: holdViewOf(placed)}, nil
}

type releaseHoldBody struct {
	Note string `json:"note"`
}

// releaseHold releases a hold as the calling operator; the requests it held are resumed and their
// workflows finish them.
func (a *API) releaseHold(ctx context.Context, c *Call) (Response, error) {
	var b releaseHoldBody
	if c.Req.Body != "" {
		if err := decode(c.Req, &b); err != nil {
			return Response{}, err
		}
	}
	if strings.TrimSpace(b.Note) == "" || len(b.Note) > maxHoldText {
		return Response{}, badRequest("note", "why the hold is released, at most 2000 bytes")
	}
	h, _, err := a.s.Holds.Release(ctx, c.Req.PathParameters["id"], c.Operator.Actor(), b.Note)
	if errors.Is(err, holds.ErrResumePending) {
		// Released and recorded: what could not be handed to its workflow now, the SLA sweep
		// starts again. The error names ids only.
		slog.Warn("api: hold released; some held requests are left to the SLA sweep", "hold", h.ID, "err", err)
		err = nil
	}
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusOK, Body: holdViewOf(h)}, nil
}
