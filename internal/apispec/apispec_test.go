package apispec

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

var (
	loadOnce sync.Once
	loaded   *openapi3.T
	loadErr  error
)

// document loads the repository's document once for the package's tests.
func document(t *testing.T) *openapi3.T {
	t.Helper()
	loadOnce.Do(func() { loaded, loadErr = Load("") })
	if loadErr != nil {
		t.Fatalf("Load: %v", loadErr)
	}
	return loaded
}

// specRoutes is SPEC §8's route table, written out by hand from the spec: Auth marks the dashboard
// API (JWT bearer); the rest are the public endpoints, each verifying its own signature.
var specRoutes = []Route{
	// Dashboard API.
	{"POST", "/v1/account/deletion", true},
	{"GET", "/v1/account/deletion", true},
	{"POST", "/v1/account/deletion/cancel", true},
	{"GET", "/v1/privacy/end-users", true},
	{"POST", "/v1/privacy/deletions/preview", true},
	{"POST", "/v1/privacy/deletions", true},
	{"GET", "/v1/bots/{botId}/end-users", true},
	{"DELETE", "/v1/bots/{botId}/end-users/{endUserId}", true},
	{"DELETE", "/v1/bots/{botId}/inbox/messages/{messageId}", true},
	{"GET", "/v1/activity-logs", true},
	{"POST", "/v1/activity-logs/deletions", true},
	{"GET", "/v1/deletion-requests", true},
	{"GET", "/v1/deletion-requests/{id}", true},
	// The "evidence" of the deletion-requests row, served as its own resource so that the act can be
	// negotiated as JSON, HTML or Markdown.
	{"GET", "/v1/deletion-requests/{id}/evidence", true},
	{"GET", "/v1/end-customer-requests", true},
	{"POST", "/v1/end-customer-requests/{id}/approve", true},
	{"POST", "/v1/end-customer-requests/{id}/decline", true},
	// Public endpoints.
	{"POST", "/webhooks/meta/data-deletion", false},
	{"POST", "/webhooks/meta/deauthorize", false},
	{"GET", "/webhooks/whatsapp", false},
	{"POST", "/webhooks/whatsapp", false},
	{"POST", "/webhooks/slack/events", false},
	{"POST", "/webhooks/telegram/{connectionId}", false},
	{"POST", "/webhooks/vk/{connectionId}", false},
	{"POST", "/webhooks/viber/{connectionId}", false},
	{"GET", "/deletion-status/{confirmationCode}", false},
	{"GET", "/v1/email-actions/{token}", false},
	// Issue 17: the web console's files, and what its account screens read.
	{"GET", "/console", false},
	{"GET", "/console/{proxy+}", false},
	{"GET", "/v1/me", true},
	{"GET", "/v1/bots/{botId}/end-users/{endUserId}/messages", true},
	// Issue 17: the operator API (SPEC §8, "Operator API"), the signed link to an act that the final
	// mail gives, and the button of a mailed link's page.
	{"GET", "/v1/ops/me", true},
	{"GET", "/v1/ops/requests", true},
	{"GET", "/v1/ops/requests/summary", true},
	{"GET", "/v1/ops/requests/{id}", true},
	{"POST", "/v1/ops/requests/{id}/decision", true},
	{"POST", "/v1/ops/requests/{id}/retry", true},
	{"GET", "/v1/ops/exports/requests.csv", true},
	{"GET", "/v1/ops/exports/journal.csv", true},
	{"GET", "/v1/ops/reports/monthly", true},
	{"GET", "/v1/ops/reports/retention", true},
	{"GET", "/v1/ops/holds", true},
	{"POST", "/v1/ops/holds", true},
	{"POST", "/v1/ops/holds/{id}/release", true},
	{"GET", "/v1/ops/acts", true},
	{"GET", "/v1/ops/acts/{id}", true},
	{"GET", "/v1/acts/{id}", false},
	{"POST", "/v1/email-actions/{token}", false},
	// Issue 18 §1: proof that an end customer controls the chat, by a one-time code the bot sends
	// (asked for by the owner, or the officer once escalated) and entered on the status page.
	{"POST", "/v1/end-customer-requests/{id}/verification", true},
	{"POST", "/v1/ops/requests/{id}/verification", true},
	{"POST", "/deletion-status/{confirmationCode}/verification", false},
}

// operation is one operation of the document with its route.
type operation struct {
	Route
	op *openapi3.Operation
}

func operations(t *testing.T) []operation {
	doc := document(t)
	var ops []operation
	for _, r := range Routes(doc) {
		ops = append(ops, operation{r, doc.Paths.Value(r.Path).GetOperation(r.Method)})
	}
	return ops
}

func TestDocumentLoads(t *testing.T) {
	doc := document(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3 (API Gateway HTTP API imports 3.0)", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "{PublicBaseUrl}" || doc.Servers[0].Variables["PublicBaseUrl"] == nil {
		t.Errorf("servers: want one server {PublicBaseUrl} with its variable")
	}
	s := doc.Components.SecuritySchemes[SecurityScheme]
	if s == nil || s.Value.Type != "http" || s.Value.Scheme != "bearer" || s.Value.BearerFormat != "JWT" {
		t.Fatalf("securitySchemes.%s: want http bearer JWT", SecurityScheme)
	}
	for _, claim := range []string{"sub", "account_id"} {
		if !strings.Contains(s.Value.Description, "`"+claim+"`") {
			t.Errorf("securitySchemes.%s does not name the claim %s", SecurityScheme, claim)
		}
	}
}

func TestLoadMissingDocument(t *testing.T) {
	if _, err := Load(t.TempDir()); err == nil {
		t.Error("Load of a directory without api/openapi.yaml succeeded")
	}
}

func TestRoutesMatchSpec(t *testing.T) {
	got := Routes(document(t))
	key := func(r Route) string { return r.String() }
	want := map[string]Route{}
	for _, r := range specRoutes {
		if _, dup := want[key(r)]; dup {
			t.Fatalf("specRoutes lists %s twice", r)
		}
		want[key(r)] = r
	}
	have := map[string]Route{}
	for _, r := range got {
		have[key(r)] = r
		w, ok := want[key(r)]
		switch {
		case !ok:
			t.Errorf("the document has %s, which SPEC §8 does not", r)
		case w.Auth != r.Auth:
			t.Errorf("%s: requires JWT = %v, want %v", r, r.Auth, w.Auth)
		}
	}
	for _, r := range specRoutes {
		if _, ok := have[key(r)]; !ok {
			t.Errorf("SPEC §8 has %s, which the document does not", r)
		}
	}
}

func TestOperationIDsUnique(t *testing.T) {
	seen := map[string]string{}
	for _, o := range operations(t) {
		id := o.op.OperationID
		if id == "" {
			t.Errorf("%s has no operationId", o.Route)
			continue
		}
		if prev, dup := seen[id]; dup {
			t.Errorf("operationId %s used by %s and %s", id, prev, o.Route)
		}
		seen[id] = o.Route.String()
	}
}

func TestSecurity(t *testing.T) {
	doc := document(t)
	for _, o := range operations(t) {
		if o.Auth {
			// Dashboard operations inherit the document's requirement or name the scheme themselves.
			if !RequiresJWT(doc, o.op) {
				t.Errorf("%s: dashboard operation without the %s scheme", o.Route, SecurityScheme)
			}
			continue
		}
		if o.op.Security == nil || len(*o.op.Security) != 0 {
			t.Errorf("%s: public operation must declare security: []", o.Route)
		}
	}
}

func parameter(o operation, in, name string) *openapi3.Parameter {
	for _, p := range o.op.Parameters {
		if p.Value != nil && p.Value.In == in && strings.EqualFold(p.Value.Name, name) {
			return p.Value
		}
	}
	return nil
}

func TestIdempotencyKey(t *testing.T) {
	n := 0
	for _, o := range operations(t) {
		if !o.Auth || o.Method != http.MethodPost {
			continue
		}
		n++
		p := parameter(o, openapi3.ParameterInHeader, "Idempotency-Key")
		if p == nil {
			t.Errorf("%s: no Idempotency-Key header parameter", o.Route)
			continue
		}
		if p.Required {
			t.Errorf("%s: Idempotency-Key must be optional", o.Route)
		}
	}
	if n == 0 {
		t.Fatal("no dashboard POST found")
	}
}

func TestPagination(t *testing.T) {
	for _, o := range operations(t) {
		if !o.Auth || o.Method != http.MethodGet {
			continue
		}
		ok := o.op.Responses.Status(http.StatusOK)
		if ok == nil || ok.Value.Content.Get("application/json") == nil {
			continue
		}
		schema := ok.Value.Content.Get("application/json").Schema.Value
		if schema.Properties["items"] == nil {
			continue // not a list
		}
		if schema.Properties["nextCursor"] == nil {
			t.Errorf("%s: a page without nextCursor", o.Route)
		}
		for _, name := range []string{"cursor", "limit"} {
			if parameter(o, openapi3.ParameterInQuery, name) == nil {
				t.Errorf("%s: a list without the %s query parameter", o.Route, name)
			}
		}
	}
}

// problemSlugs are the stable problem types by status.
var problemSlugs = map[int]string{
	400: "bad-request", 401: "unauthorized", 403: "forbidden", 404: "not-found",
	409: "conflict", 410: "gone", 415: "unsupported-media-type", 422: "unprocessable", 429: "too-many-requests", 500: "internal",
	503: "unavailable",
}

// enumOf collects the enum a schema places on a property, through allOf.
func enumOf(s *openapi3.Schema, prop string) []any {
	var out []any
	if p := s.Properties[prop]; p != nil && p.Value != nil {
		out = append(out, p.Value.Enum...)
	}
	for _, sub := range s.AllOf {
		out = append(out, enumOf(sub.Value, prop)...)
	}
	return out
}

// isProblem reports whether s is the Problem schema or builds on it.
func isProblem(ref *openapi3.SchemaRef) bool {
	if ref.Ref == "#/components/schemas/Problem" {
		return true
	}
	for _, sub := range ref.Value.AllOf {
		if isProblem(sub) {
			return true
		}
	}
	return false
}

func TestDashboardErrorsAreProblems(t *testing.T) {
	for _, o := range operations(t) {
		if !o.Auth {
			continue
		}
		for code, resp := range o.op.Responses.Map() {
			status, err := strconv.Atoi(code)
			if code != "default" && (err != nil || status < 400) {
				continue
			}
			content := resp.Value.Content
			if len(content) != 1 || content["application/problem+json"] == nil {
				t.Errorf("%s %s: content %v, want only application/problem+json", o.Route, code, slices.Sorted(maps.Keys(content)))
				continue
			}
			schema := content["application/problem+json"].Schema
			if !isProblem(schema) {
				t.Errorf("%s %s: the schema is not a Problem", o.Route, code)
				continue
			}
			slug, known := problemSlugs[status]
			if !known {
				t.Errorf("%s %s: no stable problem type for this status", o.Route, code)
				continue
			}
			types := enumOf(schema.Value, "type")
			want := "https://lethe.dev/problems/" + slug
			if !slices.Contains(types, any(want)) {
				t.Errorf("%s %s: problem type not pinned to %s", o.Route, code, want)
			}
		}
		for _, status := range []int{401, 429, 500} {
			if o.op.Responses.Status(status) == nil {
				t.Errorf("%s: no %d response", o.Route, status)
			}
		}
		// A POST takes JSON only: any other body type is refused (internal/api edge.go).
		if o.Route.Method == "POST" && o.op.Responses.Status(415) == nil {
			t.Errorf("%s: no 415 response", o.Route)
		}
	}
}

func TestProblemTypes(t *testing.T) {
	got := document(t).Components.Schemas["ProblemType"].Value.Enum
	var want []any
	for _, slug := range problemSlugs {
		want = append(want, "https://lethe.dev/problems/"+slug)
	}
	sortAny := func(xs []any) []string {
		var s []string
		for _, x := range xs {
			s = append(s, x.(string))
		}
		slices.Sort(s)
		return s
	}
	if g, w := sortAny(got), sortAny(want); !slices.Equal(g, w) {
		t.Errorf("ProblemType = %v, want %v", g, w)
	}
}

// TestRequestBodies checks the required fields and formats of the request bodies with sample
// bodies that must pass or fail.
func TestRequestBodies(t *testing.T) {
	doc := document(t)
	body := func(method, path string) *openapi3.Schema {
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil || item.GetOperation(method).RequestBody == nil {
			t.Fatalf("%s %s: no operation with a request body", method, path)
		}
		rb := item.GetOperation(method).RequestBody.Value
		if !rb.Required {
			t.Errorf("%s %s: request body not required", method, path)
		}
		for _, ct := range []string{"application/json", "application/x-www-form-urlencoded"} {
			if mt := rb.Content.Get(ct); mt != nil {
				return mt.Schema.Value
			}
		}
		t.Fatalf("%s %s: no body schema", method, path)
		return nil
	}
	tests := []struct {
		method, path string
		body         map[string]any
		ok           bool
	}{
		{"POST", "/v1/account/deletion", map[string]any{"password": "correct horse"}, true},
		{"POST", "/v1/account/deletion", map[string]any{}, false},
		{"POST", "/v1/privacy/deletions/preview", map[string]any{"from": "2025-01-01T00:00:00Z", "to": "2025-01-08T00:00:00Z"}, true},
		{"POST", "/v1/privacy/deletions/preview", map[string]any{"botId": "bot-1", "from": "2025-01-01T00:00:00Z", "to": "2025-01-08T00:00:00Z"}, true},
		{"POST", "/v1/privacy/deletions/preview", map[string]any{"botId": "bot-1", "from": "2025-01-01T00:00:00Z"}, false},
		{"POST", "/v1/privacy/deletions/preview", map[string]any{"from": "yesterday", "to": "2025-01-08T00:00:00Z"}, false},
		{"POST", "/v1/privacy/deletions", map[string]any{"previewToken": "pt_1"}, true},
		{"POST", "/v1/privacy/deletions", map[string]any{}, false},
		{"POST", "/v1/activity-logs/deletions", map[string]any{"ids": []any{"01J0"}}, true},
		{"POST", "/v1/activity-logs/deletions", map[string]any{"from": "2025-01-01T00:00:00Z", "to": "2025-02-01T00:00:00Z"}, true},
		{"POST", "/v1/activity-logs/deletions", map[string]any{"to": "2025-02-01T00:00:00Z"}, true},
		{"POST", "/v1/activity-logs/deletions", map[string]any{}, false},
		{"POST", "/v1/activity-logs/deletions", map[string]any{"ids": []any{}}, false},
		{"POST", "/v1/end-customer-requests/{id}/decline", map[string]any{"reason": "not our customer"}, true},
		{"POST", "/v1/end-customer-requests/{id}/decline", map[string]any{}, false},
		{"POST", "/v1/end-customer-requests/{id}/decline", map[string]any{"reason": ""}, false},
		{"POST", "/webhooks/meta/data-deletion", map[string]any{"signed_request": "c2ln.eyJ1c2VyX2lkIjoiMSJ9"}, true},
		{"POST", "/webhooks/meta/data-deletion", map[string]any{"signed_request": "no-dot"}, false},
		{"POST", "/deletion-status/{confirmationCode}/verification", map[string]any{"code": "042917"}, true},
		{"POST", "/deletion-status/{confirmationCode}/verification", map[string]any{}, false},
	}
	for _, tc := range tests {
		err := body(tc.method, tc.path).VisitJSON(tc.body)
		if got := err == nil; got != tc.ok {
			t.Errorf("%s %s %v: valid = %v, want %v (%v)", tc.method, tc.path, tc.body, got, tc.ok, err)
		}
	}
}
