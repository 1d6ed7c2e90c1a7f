package apispec

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
)

func validator(t *testing.T) *Validator {
	t.Helper()
	v, err := NewValidator(document(t))
	if err != nil {
		t.Fatalf("NewValidator: %v", err)
	}
	return v
}

const validRequest = `{
  "id": "01JD5Q8Y6T3N4V2K7M9P0R1S2T",
  "kind": "account_deletion",
  "source": "dashboard",
  "scope": {"kind": "account"},
  "status": "soft_deleted",
  "history": [
    {"at": "2025-03-01T10:00:00Z", "status": "scheduled", "actor": "owner:u-1", "note": "account deletion requested"},
    {"at": "2025-03-01T10:00:05Z", "status": "soft_deleted", "actor": "system"}
  ],
  "deadlines": {
    "soft_delete_ends": "2025-03-31T10:00:00Z",
    "hard_delete_by": "2025-04-21T10:00:00Z",
    "backups_rotated_by": "2025-05-21T10:00:00Z"
  },
  "progress": {},
  "evidence": [],
  "createdAt": "2025-03-01T10:00:00Z",
  "updatedAt": "2025-03-01T10:00:05Z"
}`

// validAccountDeletion is validRequest as the account deletion routes answer it, with its clocks.
var validAccountDeletion = strings.TrimSuffix(validRequest, "}") + `,
  "clocks": [
    {"name": "soft_delete_ends", "at": "2025-03-31T10:00:00Z", "daysLeft": 30, "passed": false},
    {"name": "hard_delete_by", "at": "2025-04-21T10:00:00Z", "daysLeft": 51, "passed": false},
    {"name": "backups_rotated_by", "at": "2025-05-21T10:00:00Z", "daysLeft": 81, "passed": false}
  ]
}`

func TestValidateResponse(t *testing.T) {
	v := validator(t)
	ctx := context.Background()
	jsonCT := http.Header{"Content-Type": {"application/json"}}
	problemCT := http.Header{"Content-Type": {"application/problem+json"}}
	tests := []struct {
		name         string
		method, path string
		status       int
		header       http.Header
		body         string
		ok           bool
	}{
		{"request", "GET", "/v1/deletion-requests/01JD5Q8Y6T3N4V2K7M9P0R1S2T", 200, jsonCT, validRequest, true},
		{"request with charset", "GET", "/v1/deletion-requests/01JD5Q8Y6T3N4V2K7M9P0R1S2T", 200,
			http.Header{"Content-Type": {"application/json; charset=utf-8"}}, validRequest, true},
		{"request with an unknown status", "GET", "/v1/deletion-requests/01JD5Q8Y6T3N4V2K7M9P0R1S2T", 200, jsonCT,
			`{"id":"r","kind":"account_deletion","source":"dashboard","scope":{"kind":"account"},"status":"done",
			  "history":[],"deadlines":{},"progress":{},"evidence":[],"createdAt":"2025-03-01T10:00:00Z","updatedAt":"2025-03-01T10:00:00Z"}`, false},
		{"request without history", "GET", "/v1/deletion-requests/01JD5Q8Y6T3N4V2K7M9P0R1S2T", 200, jsonCT,
			`{"id":"r","kind":"account_deletion","source":"dashboard","scope":{"kind":"account"},"status":"scheduled",
			  "deadlines":{},"progress":{},"evidence":[],"createdAt":"2025-03-01T10:00:00Z","updatedAt":"2025-03-01T10:00:00Z"}`, false},
		{"request with a bad deadline", "GET", "/v1/deletion-requests/01JD5Q8Y6T3N4V2K7M9P0R1S2T", 200, jsonCT,
			`{"id":"r","kind":"account_deletion","source":"dashboard","scope":{"kind":"account"},"status":"scheduled","history":[],
			  "deadlines":{"hard_delete_by":"soon"},"progress":{},"evidence":[],"createdAt":"2025-03-01T10:00:00Z","updatedAt":"2025-03-01T10:00:00Z"}`, false},
		{"not found", "GET", "/v1/deletion-requests/other", 404, problemCT,
			`{"type":"https://lethe.dev/problems/not-found","title":"Not found","status":404}`, true},
		{"an undocumented status", "GET", "/v1/deletion-requests/r", 418, problemCT,
			`{"type":"https://lethe.dev/problems/internal","title":"Teapot","status":418}`, false},

		{"cancelled", "POST", "/v1/account/deletion/cancel", 200, jsonCT, validAccountDeletion, true},
		{"cancelled without its clocks", "POST", "/v1/account/deletion/cancel", 200, jsonCT, validRequest, false},
		{"too late", "POST", "/v1/account/deletion/cancel", 409, problemCT,
			`{"type":"https://lethe.dev/problems/conflict","title":"Conflict","status":409,
			  "detail":"the soft-delete window ended","instance":"/v1/account/deletion/cancel"}`, true},
		{"too late as plain JSON", "POST", "/v1/account/deletion/cancel", 409, jsonCT,
			`{"type":"https://lethe.dev/problems/conflict","title":"Conflict","status":409}`, false},
		{"too late with the wrong problem type", "POST", "/v1/account/deletion/cancel", 409, problemCT,
			`{"type":"https://lethe.dev/problems/not-found","title":"Conflict","status":409}`, false},
		{"too late without a title", "POST", "/v1/account/deletion/cancel", 409, problemCT,
			`{"type":"https://lethe.dev/problems/conflict","status":409}`, false},

		{"validation errors", "POST", "/v1/end-customer-requests/r1/decline", 400, problemCT,
			`{"type":"https://lethe.dev/problems/bad-request","title":"Bad request","status":400,
			  "errors":[{"field":"reason","message":"required"}]}`, true},
		{"validation error without a message", "POST", "/v1/end-customer-requests/r1/decline", 400, problemCT,
			`{"type":"https://lethe.dev/problems/bad-request","title":"Bad request","status":400,"errors":[{"field":"reason"}]}`, false},
		{"inbox message deleted", "DELETE", "/v1/bots/b1/inbox/messages/m1", 204, nil, "", true},
		{"lockout", "POST", "/v1/account/deletion", 429, http.Header{"Content-Type": {"application/problem+json"}, "Retry-After": {"900"}},
			`{"type":"https://lethe.dev/problems/too-many-requests","title":"Too Many Requests","status":429}`, true},
		{"evidence as HTML", "GET", "/v1/deletion-requests/r1/evidence", 200, http.Header{"Content-Type": {"text/html; charset=utf-8"}},
			"<!doctype html><title>Акт</title>", true},
		{"evidence as Markdown", "GET", "/v1/deletion-requests/r1/evidence", 200, http.Header{"Content-Type": {"text/markdown"}},
			"# Act of destruction", true},
		{"evidence as PDF", "GET", "/v1/deletion-requests/r1/evidence", 200, http.Header{"Content-Type": {"application/pdf"}},
			"%PDF", false},
		{"meta answer", "POST", "/webhooks/meta/data-deletion", 200, jsonCT,
			`{"url":"https://lethe.example/deletion-status/abc","confirmation_code":"abc"}`, true},
		{"meta answer without a code", "POST", "/webhooks/meta/data-deletion", 200, jsonCT,
			`{"url":"https://lethe.example/deletion-status/abc"}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := v.ValidateResponse(ctx, tc.method, tc.path, tc.status, tc.header, []byte(tc.body))
			if got := err == nil; got != tc.ok {
				t.Errorf("valid = %v, want %v (%v)", got, tc.ok, err)
			}
		})
	}
}

func TestValidateResponseUnknownRoute(t *testing.T) {
	v := validator(t)
	err := v.ValidateResponse(context.Background(), "GET", "/v1/nothing-here", 200, nil, nil)
	if !errors.Is(err, ErrNoRoute) {
		t.Errorf("err = %v, want ErrNoRoute", err)
	}
	err = v.ValidateResponse(context.Background(), "PUT", "/v1/account/deletion", 200, nil, nil)
	if !errors.Is(err, ErrNoRoute) {
		t.Errorf("wrong method: err = %v, want ErrNoRoute", err)
	}
}
