package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/lethe-dev/lethe/internal/request"
)

func (a *API) endCustomerRoutes() {
	a.add(&route{method: http.MethodGet, path: "/v1/end-customer-requests", roles: botRoles, h: a.listEndCustomer})
	a.add(&route{method: http.MethodPost, path: "/v1/end-customer-requests/{id}/approve", roles: botRoles, idempotent: true, h: a.approve})
	a.add(&route{method: http.MethodPost, path: "/v1/end-customer-requests/{id}/decline", roles: botRoles, idempotent: true, h: a.decline})
}

// listEndCustomer is the caller's queue: end-customer requests on the bots they administer.
func (a *API) listEndCustomer(ctx context.Context, c *Call) (Response, error) {
	return a.list(ctx, c, func(r request.Request) bool {
		return r.Kind == request.KindEndCustomerRequest && canAdminBot(c.Member, r.Scope.BotID)
	})
}

// endCustomerRequest is a request of the queue; another account's, or one on a bot the caller
// does not administer, is 404.
func (a *API) endCustomerRequest(ctx context.Context, c *Call) (request.Request, error) {
	r, err := a.own(ctx, c)
	if err != nil {
		return r, err
	}
	if r.Kind != request.KindEndCustomerRequest || !canAdminBot(c.Member, r.Scope.BotID) {
		return r, notFound("no such end-customer request")
	}
	return r, nil
}

func (a *API) approve(ctx context.Context, c *Call) (Response, error) {
	r, err := a.endCustomerRequest(ctx, c)
	if err != nil {
		return Response{}, err
	}
	out, err := a.s.Requests.Decide(ctx, c.Acct, r.ID, c.Member.Role+":"+c.Sub, true, "")
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusOK, Body: viewOf(out)}, nil
}

func (a *API) decline(ctx context.Context, c *Call) (Response, error) {
	var in struct {
		Reason string `json:"reason"`
	}
	if err := decode(c.Req, &in); err != nil {
		return Response{}, err
	}
	if strings.TrimSpace(in.Reason) == "" || len(in.Reason) > 2000 {
		return Response{}, badRequest("reason", "why it is declined (told to the requester), up to 2000 characters")
	}
	r, err := a.endCustomerRequest(ctx, c)
	if err != nil {
		return Response{}, err
	}
	out, err := a.s.Requests.Decide(ctx, c.Acct, r.ID, c.Member.Role+":"+c.Sub, false, in.Reason)
	if err != nil {
		return Response{}, err
	}
	return Response{Status: http.StatusOK, Body: viewOf(out)}, nil
}
