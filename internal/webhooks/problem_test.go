package webhooks

import (
	"fmt"
	"testing"

	"github.com/lethe-dev/lethe/internal/channels"
	"github.com/lethe-dev/lethe/internal/httpapi"
	"github.com/lethe-dev/lethe/internal/lerr"
)

// The webhooks answer an error with the dashboard API's writer: same status, type, title and body
// for every code.
func TestErrAnswerIsTheSharedWriter(t *testing.T) {
	for _, code := range lerr.Codes {
		err := fmt.Errorf("verify delivery d1: %w", lerr.Errorf(code, "safe words"))
		got, want := errAnswer(err), httpapi.ProblemOf(err)
		if got.status != want.Status || got.contentType != httpapi.ProblemContentType || string(got.body) != string(want.JSON()) {
			t.Errorf("%s: %d %q %s, want %d %q %s", code, got.status, got.contentType, got.body, want.Status, httpapi.ProblemContentType, want.JSON())
		}
	}
}

// The channel errors answer as they always did: forged or expired 401 saying nothing, malformed 400.
func TestErrAnswerOfTheChannelErrors(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{channels.ErrForged, `{"type":"https://lethe.dev/problems/unauthorized","title":"Unauthorized","status":401}`},
		{fmt.Errorf("%w: slack timestamp", channels.ErrExpired), `{"type":"https://lethe.dev/problems/unauthorized","title":"Unauthorized","status":401}`},
		{fmt.Errorf("%w: form body", channels.ErrMalformed), `{"type":"https://lethe.dev/problems/bad-request","title":"Bad Request","status":400,"detail":"the payload is not what the channel sends"}`},
		{fmt.Errorf("claim: %w", fmt.Errorf("throttled")), `{"type":"https://lethe.dev/problems/internal","title":"Internal Server Error","status":500}`},
	}
	for _, tt := range tests {
		if got := errAnswer(tt.err); string(got.body) != tt.want || got.contentType != "application/problem+json" {
			t.Errorf("errAnswer(%v) = %q %s, want %s", tt.err, got.contentType, got.body, tt.want)
		}
	}
	if got := problem(500, "the same delivery is being handled; try again"); got.status != 500 ||
		string(got.body) != `{"type":"https://lethe.dev/problems/internal","title":"Internal Server Error","status":500,"detail":"the same delivery is being handled; try again"}` {
		t.Errorf("a busy delivery answers %d %s", got.status, got.body)
	}
}
