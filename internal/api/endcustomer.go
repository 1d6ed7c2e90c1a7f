package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/request"
)

func (a *API) endCustomerRoutes() {
	a.add(&route{method: http.MethodGet, path: "/v1/end-customer-requests", roles: botRoles, h: a.listEndCustomer})
	a.add(&route{method: http.MethodPost, path: "/v1/end-customer-requests/{id}/approve", roles: botRoles, idempotent: true, h: a.approve})
	a.add(&route{method: http.MethodPost, path: "/v1/end-customer-requests/{id}/decline", roles: botRoles, idempotent: true, h: a.decline})
	a.add(&route{method: http.MethodPost, path: "/v1/end-customer-requests/{id}/verification", roles: botRoles, idempotent: true, h: a.askVerification})
}

// listEndCustomer is the caller's queue: end-customer requests on the bots they administer, each
// with whom it names, so that the owner can decide without looking the end user up.
func (a *API) listEndCustomer(ctx context.Context, c *Call) (Response, error) {
	res, err := a.list(ctx, c, func(r request.Request) bool {
		return r.Kind == request.KindEndCustomerRequest && canAdminBot(c.Member, r.Scope.BotID)
	})
	if err != nil {
		return res, err
	}
	p := res.Body.(page[requestView])
	out := page[endCustomerView]{Items: make([]endCustomerView, 0, len(p.Items)), NextCursor: p.NextCursor}
	bots := map[string]string{}
	for _, v := range p.Items {
		item, err := a.endCustomerView(ctx, c.Acct, v, bots)
		if err != nil {
			return Response{}, err
		}
		out.Items = append(out.Items, item)
	}
	res.Body = out
	return res, nil
}

// endCustomerView is an end-customer request of the queue (api/openapi.yaml EndCustomerRequest):
// the request, the bot's name and the end user the request was matched to, as long as that end
// user still exists (after an approved request's deletion, or the end user's own, it is null).
type endCustomerView struct {
	requestView
	BotName string           `json:"botName"`
	EndUser *endCustomerUser `json:"endUser"`
	// Candidates are the end users the identifier matched when more than one did (the owner picks).
	Candidates []endCustomerUser `json:"candidates,omitempty"`
}

type endCustomerUser struct {
	ID                  string    `json:"id"`
	DisplayName         string    `json:"displayName"`
	Username            string    `json:"username,omitempty"`
	Channel             string    `json:"channel"`
	FirstConversationAt time.Time `json:"firstConversationAt"`
	LastActiveAt        time.Time `json:"lastActiveAt"`
}

func (a *API) endCustomerView(ctx context.Context, acct string, v requestView, bots map[string]string) (endCustomerView, error) {
	v.Verification = a.verificationOf(v.Kind, v.verification)
	out := endCustomerView{requestView: v}
	name, ok := bots[v.Scope.BotID]
	if !ok {
		bot, err := a.s.Store.Bot(ctx, acct, v.Scope.BotID)
		if err != nil && !errors.Is(err, platform.ErrNotFound) {
			return out, fmt.Errorf("read bot %s: %w", v.Scope.BotID, err)
		}
		name, bots[v.Scope.BotID] = bot.Name, bot.Name
	}
	out.BotName = name
	u, err := a.botEndUser(ctx, acct, v.Scope.BotID, v.Scope.EndUserID)
	if err != nil {
		return out, err
	}
	out.EndUser = u
	for _, id := range v.candidates {
		c, err := a.botEndUser(ctx, acct, v.Scope.BotID, id)
		if err != nil {
			return out, err
		}
		if c != nil {
			out.Candidates = append(out.Candidates, *c)
		}
	}
	return out, nil
}

// botEndUser is an end user of the account's bot as the queue shows them; nil once they are gone.
func (a *API) botEndUser(ctx context.Context, acct, botID, endUserID string) (*endCustomerUser, error) {
	u, err := a.s.Store.EndUser(ctx, endUserID)
	if errors.Is(err, platform.ErrNotFound) || err == nil && (u.AccountID != acct || u.BotID != botID) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read end user %s: %w", endUserID, err)
	}
	return &endCustomerUser{ID: u.ID, DisplayName: u.DisplayName, Username: u.Username, Channel: u.Channel,
		FirstConversationAt: u.FirstConversationAt, LastActiveAt: u.LastActiveAt}, nil
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
	var in struct {
		EndUserID string `json:"endUserId"`
	}
	if strings.TrimSpace(c.Req.Body) != "" {
		if err := decode(c.Req, &in); err != nil {
			return Response{}, err
		}
	}
	r, err := a.endCustomerRequest(ctx, c)
	if err != nil {
		return Response{}, err
	}
	if len(r.Candidates) > 1 && !slices.Contains(r.Candidates, in.EndUserID) {
		return Response{}, badRequest("endUserId", "the request matched several end users: name the one to delete among its candidates")
	}
	out, err := a.s.Requests.ApproveCandidate(ctx, c.Acct, r.ID, c.Member.Role+":"+c.Sub, true, "", in.EndUserID)
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
