// Package httpapi holds what the HTTP API's Lambda handlers and whatever serves them (API Gateway in
// production, the local gateway in a local run) share: the route table and the handler shape of
// payload format 2.0.
package httpapi

import (
	"context"

	"github.com/aws/aws-lambda-go/events"
)

// Handler is a Lambda handler for payload format 2.0, exactly as `lambda.Start` would run it.
type Handler func(ctx context.Context, req events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// Route is one route of the API: "GET /v1/bots/{botId}/end-users", a greedy "{proxy+}" allowed as the
// last segment, Method "ANY" for every method the path does not name otherwise.
type Route struct {
	Method  string
	Path    string
	Auth    bool     // the route has the JWT authorizer
	Scopes  []string // authorizationScopes: the token must carry one of them (only with Auth)
	Handler Handler
}
