// Package api is the dashboard API of SPEC §8: one Lambda behind an API Gateway HTTP API (payload
// format 2.0). It takes the caller's identity from the JWT authorizer's claims, their role from the
// account's team-member records, scopes every query by the token's account, and translates each
// route into a call on the domain (internal/requests, the ledger, the store) and the result back
// into JSON or application/problem+json.
package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/calendar"
	"github.com/lethe-dev/lethe/internal/console"
	"github.com/lethe-dev/lethe/internal/deletion"
	"github.com/lethe-dev/lethe/internal/evidence"
	"github.com/lethe-dev/lethe/internal/holds"
	"github.com/lethe-dev/lethe/internal/httpapi"
	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/platform"
	"github.com/lethe-dev/lethe/internal/reauth"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/verification"
)

// Services are what the routes call; build them once (internal/system).
type Services struct {
	Store    *platform.Store
	Ledger   *ledger.Ledger
	Requests *requests.Service
	Deletion *deletion.Service
	Holds    *holds.Service
	Reauth   *reauth.Guard
	Now      func() time.Time
	// ActLinks checks the signed links to an act that the final mail carries (GET /v1/acts/{id}).
	ActLinks evidence.ActLinks
	// Ops says which tokens are operators' (the /v1/ops/… routes); the zero value uses the
	// defaults of OPS_GROUP_CLAIM and OPS_GROUP.
	Ops OpsAccess
	// Calendar counts the register's business days (the built-in production calendar when nil).
	Calendar *calendar.Calendar
	// Verification sends the one-time codes that prove an end customer controls a chat.
	Verification *verification.Service
	// Console says how the web console signs people in (CONSOLE_OIDC_*, CONSOLE_DEMO_SIGN_IN).
	Console console.Config
}

// API dispatches API Gateway events to the routes.
type API struct {
	s      Services
	idem   *idempotency
	routes map[string]*route // by route key: "POST /v1/account/deletion"
	order  []*route
}

// Call is one request as a route sees it: the event, who calls, and their team-member record.
type Call struct {
	Req    events.APIGatewayV2HTTPRequest
	Sub    string
	Acct   string
	Member platform.TeamMember
	// Operator is who calls an ops route (set only there): the token's sub and name, recorded on
	// every action they take.
	Operator Operator
}

// Response is what a route answers: a JSON body, or raw bytes with their content type.
type Response struct {
	Status      int
	Body        any
	Raw         []byte
	Binary      bool // Raw is not text: sent base64-encoded, as API Gateway wants binary bodies
	ContentType string
	Headers     map[string]string
}

type route struct {
	method, path string
	roles        []string // who may call it; empty: any member
	// whileSuspended: the route answers while the account is soft-deleted (the owner must be able to
	// see and cancel the deletion); every other route is blocked then.
	whileSuspended bool
	idempotent     bool // POST that honours Idempotency-Key
	// public: no JWT; the route checks what it is given itself (an email action token).
	public bool
	// ops: an operator route (/v1/ops/…): only tokens in the operator group, whatever their account.
	ops bool
	h   func(ctx context.Context, c *Call) (Response, error)
}

// New builds the API with every route.
func New(s Services) *API {
	if s.Now == nil {
		s.Now = time.Now
	}
	a := &API{s: s, routes: map[string]*route{}, idem: &idempotency{ledger: s.Ledger, store: s.Store, now: s.Now}}
	a.accountRoutes()
	a.requestRoutes()
	a.conversationRoutes()
	a.endCustomerRoutes()
	a.privacyRoutes()
	a.searchRoutes()
	a.activityLogRoutes()
	a.emailActionRoutes()
	a.publicActRoutes()
	a.opsRoutes()
	a.meRoutes()
	a.consoleRoutes()
	return a
}

func (a *API) add(r *route) {
	a.routes[r.method+" "+r.path] = r
	a.order = append(a.order, r)
}

// Routes are the API's routes for the local gateway; each calls Handle, as API Gateway would.
func (a *API) Routes() []httpapi.Route {
	out := make([]httpapi.Route, 0, len(a.order))
	for _, r := range a.order {
		out = append(out, httpapi.Route{Method: r.method, Path: r.path, Auth: !r.public, Handler: a.Handle})
	}
	return out
}

// RouteKeys lists the route keys ("GET /v1/…") the API serves.
func (a *API) RouteKeys() []string {
	out := make([]string, 0, len(a.order))
	for _, r := range a.order {
		out = append(out, r.method+" "+r.path)
	}
	return out
}

// maxSub bounds the sub claim, which keys the caller's team-member record.
const maxSub = 255

// Handle serves one API Gateway event. Errors never escape as Lambda errors: every failure is a
// problem+json answer, and an unexpected one a 500 that says nothing about its cause.
func (a *API) Handle(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	r, ok := a.routes[req.RouteKey]
	if !ok {
		return render(problemFor(http.StatusNotFound, "no such route")), nil
	}
	if r.public {
		return render(a.run(ctx, r, &Call{Req: req})), nil
	}
	claims := req.RequestContext.Authorizer
	var sub, acct string
	if claims != nil && claims.JWT != nil {
		sub, acct = claims.JWT.Claims["sub"], claims.JWT.Claims["account_id"]
	}
	if r.ops {
		return a.runOps(ctx, r, req), nil
	}
	if sub == "" || acct == "" {
		return render(problemFor(http.StatusUnauthorized, "the token carries no sub and account_id")), nil
	}
	// The claims name keys: an account id of the wrong shape, or a sub longer than any identity
	// provider's (they differ in their characters: "auth0|…"), is refused before any read.
	if !idPattern.MatchString(acct) || len(sub) > maxSub {
		return render(problemFor(http.StatusUnauthorized, "the token's sub or account_id is not an id")), nil
	}
	if resp, refused := checkEdge(r, req); refused {
		return render(resp), nil
	}
	c := &Call{Req: req, Sub: sub, Acct: acct}
	if resp, denied := a.admit(ctx, r, c); denied {
		return render(resp), nil
	}
	if r.idempotent {
		if key := header(req, "idempotency-key"); key != "" {
			return a.idem.do(ctx, acct, key, req, func() events.APIGatewayV2HTTPResponse { return render(a.run(ctx, r, c)) })
		}
	}
	return render(a.run(ctx, r, c)), nil
}

func (a *API) run(ctx context.Context, r *route, c *Call) Response {
	resp, err := r.h(ctx, c)
	if err != nil {
		resp = problemOf(err)
		if resp.Status >= 500 {
			// For operators: the route and the error, which names ids and never a person's data; the
			// caller gets no detail.
			slog.Error("api: request failed", "route", r.method+" "+r.path, "account", c.Acct, "err", err)
		}
	}
	return resp
}

// admit checks that the caller is an enabled member of the token's account with a role the route
// allows, and that the account is not suspended, unless the route is the deletion's own: while an
// account is soft-deleted its members are switched off, but its owner must still see and cancel.
func (a *API) admit(ctx context.Context, r *route, c *Call) (Response, bool) {
	acct, err := a.s.Store.Account(ctx, c.Acct)
	if errors.Is(err, platform.ErrNotFound) {
		return a.accountGone(ctx, r, c), true
	}
	if err != nil {
		return problemOf(err), true
	}
	if acct.Status == platform.AccountSoftDeleted && !r.whileSuspended {
		return problemFor(http.StatusForbidden, "the account is deactivated while its deletion is pending"), true
	}
	m, err := a.s.Store.TeamMember(ctx, c.Acct, c.Sub)
	// A member the account's soft delete switched off keeps the deletion's own routes, whether or not
	// the account's own flag has flipped yet (the soft delete switches members first).
	suspendedMember := m.Disabled && m.SuspendedBy != ""
	if errors.Is(err, platform.ErrNotFound) || err == nil && m.Disabled && !(suspendedMember && r.whileSuspended) {
		return problemFor(http.StatusForbidden, "not a member of this account"), true
	}
	if err != nil {
		return problemOf(err), true
	}
	c.Member = m
	if len(r.roles) > 0 && !hasRole(m.Role, r.roles) {
		return problemFor(http.StatusForbidden, "the "+m.Role+" role may not do this"), true
	}
	return Response{}, false
}

// accountGone answers for an account whose record no longer exists. Once its hard delete has
// removed it, the ledger still holds the account's deletion: a change to it (cancel, ask again)
// is a 409 that names where the request stands, not a 403 as if the account had never been.
func (a *API) accountGone(ctx context.Context, r *route, c *Call) Response {
	if r.whileSuspended && r.method == http.MethodPost {
		req, err := a.s.Requests.CurrentAccountDeletion(ctx, c.Acct)
		if err == nil {
			return problemFor(http.StatusConflict, "the account's deletion request "+req.ID+" is "+string(req.Status)+": it can no longer be changed")
		}
		if !errors.Is(err, requests.ErrNoRequest) {
			return problemOf(err)
		}
	}
	return problemFor(http.StatusForbidden, "no such account")
}

func hasRole(role string, allowed []string) bool {
	for _, r := range allowed {
		if r == role {
			return true
		}
	}
	return false
}

func header(req events.APIGatewayV2HTTPRequest, name string) string {
	for k, v := range req.Headers {
		if strings.EqualFold(k, name) {
			return v
		}
	}
	return ""
}

// decode reads a JSON body strictly into v: unknown fields and trailing data are 400s.
func decode(req events.APIGatewayV2HTTPRequest, v any) error {
	body := req.Body
	if req.IsBase64Encoded {
		// API Gateway may base64-encode a body; checkEdge has already required a JSON type.
		b, err := base64.StdEncoding.DecodeString(body)
		if err != nil {
			return badRequest("body", "not base64 as API Gateway sends it")
		}
		body = string(b)
	}
	dec := json.NewDecoder(strings.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return badRequest("body", "not the expected JSON object: "+err.Error())
	}
	if dec.More() {
		return badRequest("body", "trailing data after the JSON object")
	}
	return nil
}

func render(r Response) events.APIGatewayV2HTTPResponse {
	out := events.APIGatewayV2HTTPResponse{StatusCode: r.Status, Headers: map[string]string{}}
	for k, v := range r.Headers {
		out.Headers[k] = v
	}
	switch {
	case r.Raw != nil:
		out.Headers["content-type"] = r.ContentType
		out.Body = string(r.Raw)
		if r.Binary {
			out.Body, out.IsBase64Encoded = base64.StdEncoding.EncodeToString(r.Raw), true
		}
	case r.Body != nil:
		b, err := json.Marshal(r.Body)
		if err != nil {
			return render(problemFor(http.StatusInternalServerError, ""))
		}
		ct := r.ContentType
		if ct == "" {
			ct = "application/json"
		}
		out.Headers["content-type"] = ct
		out.Body = string(b)
	}
	return out
}
