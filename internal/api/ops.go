package api

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"strings"

	"github.com/aws/aws-lambda-go/events"

	"github.com/lethe-dev/lethe/internal/config"
)

// OpsAccess names the claim and the group that make a token an operator's (OPS_GROUP_CLAIM,
// OPS_GROUP): e.g. Cognito puts a user's groups in "cognito:groups".
type OpsAccess struct {
	Claim, Group string
}

func (o OpsAccess) claim() string { return cmp.Or(o.Claim, config.DefaultOpsGroupClaim) }
func (o OpsAccess) group() string { return cmp.Or(o.Group, config.DefaultOpsGroup) }

// Operator is the person behind an ops call, as their token names them.
type Operator struct {
	Sub  string `json:"sub"`
	Name string `json:"name"`
}

// Actor is how an operator is recorded in a request's history and on a hold: "operator:<sub>
// (<name>)", so the record says who acted even after the identity provider forgets them.
func (o Operator) Actor() string {
	if o.Name == "" || o.Name == o.Sub {
		return "operator:" + o.Sub
	}
	return "operator:" + o.Sub + " (" + o.Name + ")"
}

// inGroup reads a group claim as the JWT authorizer renders it: a list becomes "[a b]", a single
// value stays as it is (some providers send "a,b" or "a b" in one string).
func inGroup(claim, group string) bool {
	v := strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(claim), "["), "]")
	for _, g := range strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' }) {
		if g == group {
			return true
		}
	}
	return false
}

// maxName bounds the display name an operator's token carries, recorded with their actions.
const maxName = 200

// runOps admits an operator to an ops route: a token with a sub and the operator group, whatever
// account (if any) it also names. An account's token is refused with 403, like a member without the
// role a route needs.
func (a *API) runOps(ctx context.Context, r *route, req events.APIGatewayV2HTTPRequest) events.APIGatewayV2HTTPResponse {
	var claims map[string]string
	if az := req.RequestContext.Authorizer; az != nil && az.JWT != nil {
		claims = az.JWT.Claims
	}
	sub := claims["sub"]
	if sub == "" || len(sub) > maxSub {
		return render(problemFor(http.StatusUnauthorized, "the token carries no usable sub"))
	}
	if !inGroup(claims[a.s.Ops.claim()], a.s.Ops.group()) {
		return render(problemFor(http.StatusForbidden, "operator routes need the "+a.s.Ops.group()+" group"))
	}
	if resp, refused := checkEdge(r, req); refused {
		return render(resp)
	}
	name := strings.TrimSpace(cmp.Or(claims["name"], claims["email"], sub))
	if len(name) > maxName {
		name = strings.ToValidUTF8(name[:maxName], "")
	}
	c := &Call{Req: req, Sub: sub, Operator: Operator{Sub: sub, Name: name}}
	if r.idempotent {
		if key := header(req, "idempotency-key"); key != "" {
			resp, err := a.idem.do(ctx, operatorIdemScope(sub), key, req, func() events.APIGatewayV2HTTPResponse { return render(a.run(ctx, r, c)) })
			if err != nil {
				return render(problemOf(err))
			}
			return resp
		}
	}
	return render(a.run(ctx, r, c))
}

// operatorIdemScope is the scope an operator's Idempotency-Keys are kept in: their sub, hashed to
// a fixed alphabet ('!' is in no account id, so no account's keys share it).
func operatorIdemScope(sub string) string {
	sum := sha256.Sum256([]byte(sub))
	return "operator!" + hex.EncodeToString(sum[:16])
}

func (a *API) opsRoutes() {
	a.add(&route{method: http.MethodGet, path: "/v1/ops/me", ops: true, h: a.opsMe})
	a.opsRequestRoutes()
	a.holdRoutes()
	a.actRoutes()
}

// opsMe answers who the operator is, as their actions will record them.
func (a *API) opsMe(_ context.Context, c *Call) (Response, error) {
	return Response{Status: http.StatusOK, Body: struct {
		Operator
		Group string `json:"group"`
	}{c.Operator, a.s.Ops.group()}}, nil
}
