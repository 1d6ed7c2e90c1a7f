package httpapi_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"testing"

	"github.com/lethe-dev/lethe/internal/httpapi"
	"github.com/lethe-dev/lethe/internal/lerr"
)

// Every code answers with one status, type and title; they are the ones api/openapi.yaml lists.
func TestEveryCodeHasItsProblem(t *testing.T) {
	want := map[lerr.Code]struct {
		status      int
		slug, title string
	}{
		lerr.EINVALID:      {400, "bad-request", "Bad Request"},
		lerr.EUNAUTHORIZED: {401, "unauthorized", "Unauthorized"},
		lerr.EFORBIDDEN:    {403, "forbidden", "Forbidden"},
		lerr.ENOTFOUND:     {404, "not-found", "Not Found"},
		lerr.ECONFLICT:     {409, "conflict", "Conflict"},
		lerr.EUNSUPPORTED:  {415, "unsupported-media-type", "Unsupported Media Type"},
		lerr.ELOCKED:       {429, "too-many-requests", "Too Many Requests"},
		lerr.EWINDOWOPEN:   {500, "internal", "Internal Server Error"},
		lerr.ENOTVERIFIED:  {500, "internal", "Internal Server Error"},
		lerr.ENOTDELETING:  {500, "internal", "Internal Server Error"},
		lerr.EINCOMPLETE:   {500, "internal", "Internal Server Error"},
		lerr.EINTERNAL:     {500, "internal", "Internal Server Error"},
	}
	if len(want) != len(lerr.Codes) {
		t.Fatalf("the table has %d codes, lerr has %d: add the new code here", len(want), len(lerr.Codes))
	}
	for _, code := range lerr.Codes {
		w, ok := want[code]
		if !ok {
			t.Errorf("code %s is not in the table", code)
			continue
		}
		if got := httpapi.Status(code); got != w.status {
			t.Errorf("Status(%s) = %d, want %d", code, got, w.status)
		}
		err := fmt.Errorf("update request r1: %w", lerr.Errorf(code, "safe words"))
		got := httpapi.ProblemOf(err)
		wantDetail := "safe words"
		if w.status == http.StatusInternalServerError {
			wantDetail = "" // a 500 says nothing about its cause
		}
		wantP := httpapi.Problem{Type: httpapi.ProblemBase + w.slug, Title: w.title, Status: w.status, Detail: wantDetail}
		if got.Type != wantP.Type || got.Title != wantP.Title || got.Status != wantP.Status || got.Detail != wantP.Detail || got.Errors != nil {
			t.Errorf("ProblemOf(%s) = %+v, want %+v", code, got, wantP)
		}
	}
}

func TestProblemOfAnUncodedErrorSaysNothing(t *testing.T) {
	got := httpapi.ProblemOf(errors.New("dial tcp 10.0.0.1: refused for ivan@example.com"))
	if got.Status != 500 || got.Type != "https://lethe.dev/problems/internal" || got.Detail != "" {
		t.Errorf("ProblemOf(plain) = %+v, want a bare 500", got)
	}
}

func TestNewProblemOfAStatusWithoutATypeIsA500(t *testing.T) {
	got := httpapi.NewProblem(http.StatusTeapot, "short and stout")
	if got.Status != 500 || got.Type != "https://lethe.dev/problems/internal" || got.Title != "Internal Server Error" {
		t.Errorf("NewProblem(418) = %+v, want a 500", got)
	}
}

// The body is RFC 9457's members, empty ones left out.
func TestProblemJSON(t *testing.T) {
	for _, tt := range []struct {
		p    httpapi.Problem
		want string
	}{
		{httpapi.NewProblem(401, ""), `{"type":"https://lethe.dev/problems/unauthorized","title":"Unauthorized","status":401}`},
		{httpapi.NewProblem(400, "the request is invalid", httpapi.FieldError{Field: "to", Message: "must be after from"}),
			`{"type":"https://lethe.dev/problems/bad-request","title":"Bad Request","status":400,"detail":"the request is invalid","errors":[{"field":"to","message":"must be after from"}]}`},
	} {
		if got := string(tt.p.JSON()); got != tt.want {
			t.Errorf("JSON = %s, want %s", got, tt.want)
		}
		if !json.Valid(tt.p.JSON()) {
			t.Errorf("not JSON: %s", tt.p.JSON())
		}
	}
}
