package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

func (a *API) requestRoutes() {
	admins := []string{platform.RoleOwner, platform.RoleAccountAdmin}
	a.add(&route{method: http.MethodGet, path: "/v1/deletion-requests", roles: admins, h: a.listRequests})
	a.add(&route{method: http.MethodGet, path: "/v1/deletion-requests/{id}", roles: admins, h: a.getRequest})
	a.add(&route{method: http.MethodGet, path: "/v1/deletion-requests/{id}/evidence", roles: admins, h: a.getEvidence})
}

var validStatus = map[request.Status]bool{}
var validKind = map[request.Kind]bool{}

func init() {
	for _, s := range []request.Status{request.StatusReceived, request.StatusAwaitingVerification, request.StatusScheduled,
		request.StatusSoftDeleted, request.StatusCancelled, request.StatusHardDeleting, request.StatusAwaitingBackupRotation,
		request.StatusCompleted, request.StatusHeld, request.StatusDeclined, request.StatusFailed} {
		validStatus[s] = true
	}
	for _, k := range []request.Kind{request.KindAccountDeletion, request.KindBotDeletion, request.KindConnectionWipe,
		request.KindEndUserFilter, request.KindEndUserDeletion, request.KindChannelIdentity, request.KindInboxMessage,
		request.KindActivityLogs, request.KindEndCustomerRequest} {
		validKind[k] = true
	}
}

// listRequests pages through the account's requests, newest first, filtered by status and kind.
func (a *API) listRequests(ctx context.Context, c *Call) (Response, error) {
	q := c.Req.QueryStringParameters
	status, kind := request.Status(q["status"]), request.Kind(q["kind"])
	if status != "" && !validStatus[status] {
		return Response{}, badRequest("status", "not a request status")
	}
	if kind != "" && !validKind[kind] {
		return Response{}, badRequest("kind", "not a request kind")
	}
	return a.list(ctx, c, func(r request.Request) bool {
		return (status == "" || r.Status == status) && (kind == "" || r.Kind == kind)
	})
}

// list pages through the account's requests, newest first, keeping those keep accepts; the
// cursor is the last request shown.
func (a *API) list(ctx context.Context, c *Call, keep func(request.Request) bool) (Response, error) {
	q := c.Req.QueryStringParameters
	limit, err := parseLimit(q["limit"])
	if err != nil {
		return Response{}, err
	}
	start := q["cursor"] // opaque, bound to the caller's account: ByAccount refuses another's
	out := page[requestView]{Items: []requestView{}}
	var last request.Request
	for {
		rs, next, err := a.s.Ledger.ByAccount(ctx, c.Acct, int32(limit+1), start)
		if err != nil {
			return Response{}, fmt.Errorf("list the requests of account %s: %w", c.Acct, err)
		}
		for _, r := range rs {
			if !keep(r) {
				continue
			}
			if len(out.Items) == limit {
				out.NextCursor = ledger.CursorAfter(last)
				return Response{Status: http.StatusOK, Body: out}, nil
			}
			out.Items = append(out.Items, viewOf(r))
			last = r
		}
		if next == "" {
			return Response{Status: http.StatusOK, Body: out}, nil
		}
		start = next
	}
}

// own reads a request of the caller's account; another account's id is 404, as if it did not exist.
func (a *API) own(ctx context.Context, c *Call) (request.Request, error) {
	id := c.Req.PathParameters["id"]
	r, err := a.s.Ledger.Get(ctx, id)
	if errors.Is(err, ledger.ErrNotFound) || err == nil && r.AccountID != c.Acct {
		return request.Request{}, notFound("no such deletion request")
	}
	if err != nil {
		return r, fmt.Errorf("read request %s: %w", id, err)
	}
	return r, nil
}

func (a *API) getRequest(ctx context.Context, c *Call) (Response, error) {
	r, err := a.own(ctx, c)
	if err != nil {
		return Response{}, err
	}
	v := viewOf(r)
	v.Verification = a.verificationOf(r.Kind, r.Verification)
	return Response{Status: http.StatusOK, Body: v}, nil
}

// getEvidence answers the acts of destruction: JSON, or the readable documents by Accept.
func (a *API) getEvidence(ctx context.Context, c *Call) (Response, error) {
	r, err := a.own(ctx, c)
	if err != nil {
		return Response{}, err
	}
	acts, err := a.s.Deletion.Evidence(ctx, r.ID)
	if err != nil {
		return Response{}, fmt.Errorf("read the evidence of request %s: %w", r.ID, err)
	}
	if len(acts) == 0 {
		return Response{}, notFound("nothing has been destroyed yet")
	}
	locale := r.Locale
	if locale == "" {
		locale = evidence.LocaleRU
	}
	accept := header(c.Req, "accept")
	switch {
	case strings.Contains(accept, "text/html"):
		var b strings.Builder
		for _, act := range acts {
			doc, err := evidence.RenderHTML(act, locale)
			if err != nil {
				return Response{}, fmt.Errorf("render the evidence of request %s as HTML: %w", r.ID, err)
			}
			b.WriteString(doc)
		}
		return Response{Status: http.StatusOK, Raw: []byte(b.String()), ContentType: "text/html; charset=utf-8",
			Headers: map[string]string{"content-security-policy": actCSP()}}, nil
	case strings.Contains(accept, "text/markdown"):
		var parts []string
		for _, act := range acts {
			doc, err := evidence.RenderMarkdown(act, locale)
			if err != nil {
				return Response{}, fmt.Errorf("render the evidence of request %s as Markdown: %w", r.ID, err)
			}
			parts = append(parts, doc)
		}
		return Response{Status: http.StatusOK, Raw: []byte(strings.Join(parts, "\n\n---\n\n")), ContentType: "text/markdown; charset=utf-8"}, nil
	}
	return Response{Status: http.StatusOK, Body: struct {
		RequestID string            `json:"requestId"`
		Acts      []evidence.Record `json:"acts"`
	}{r.ID, acts}}, nil
}
