package api

import (
	"mime"
	"net/http"
	"regexp"
	"strings"

	"github.com/aws/aws-lambda-go/events"
)

// idPattern is the shape of every id the API takes (api/openapi.yaml Id): ULIDs, the ledger's
// named ids ("end-user-…", "inbox-…") and the platform's other ids fit; 128 bytes keep every key
// built from one far below DynamoDB's key limits, so a longer id is refused before any read.
var idPattern = regexp.MustCompile(`^[A-Za-z0-9_.:-]{1,128}$`)

// checkEdge refuses, before any read, what no route may be given: a path id of the wrong shape
// answers 404, as an id that names nothing would; a body that is not JSON answers 415 (a foreign
// page can POST text/plain or a form without a preflight, so only a JSON type is taken).
func checkEdge(r *route, req events.APIGatewayV2HTTPRequest) (Response, bool) {
	for name, v := range req.PathParameters {
		if !idPattern.MatchString(v) {
			return problemFor(http.StatusNotFound, "no such "+name), true
		}
	}
	if r.method == http.MethodPost {
		ct := header(req, "content-type")
		if (ct != "" || req.Body != "") && !isJSON(ct) {
			return problemFor(http.StatusUnsupportedMediaType, "the body must be JSON: Content-Type application/json"), true
		}
	}
	return Response{}, false
}

// isJSON: application/json or an application/*+json type, with any parameters (charset).
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}
