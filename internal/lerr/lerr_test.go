package lerr_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/lethe-dev/lethe/internal/lerr"
)

var errSentinel = lerr.New(lerr.ENOTFOUND, "widget not found").Tell("no such widget")

func TestErrorCodeAndMessage(t *testing.T) {
	internal := lerr.New(lerr.EINTERNAL, "store broke")
	tests := []struct {
		name     string
		err      error
		wantCode lerr.Code
		wantMsg  string
	}{
		{"nil", nil, "", ""},
		{"plain", errors.New("boom"), lerr.EINTERNAL, ""},
		{"sentinel", errSentinel, lerr.ENOTFOUND, "no such widget"},
		{"wrapped", fmt.Errorf("read widget w1: %w", errSentinel), lerr.ENOTFOUND, "no such widget"},
		{"wrapped twice", fmt.Errorf("a: %w", fmt.Errorf("b: %w", errSentinel)), lerr.ENOTFOUND, "no such widget"},
		{"joined", errors.Join(errors.New("x"), errSentinel), lerr.ENOTFOUND, "no such widget"},
		{"first code wins", fmt.Errorf("%w: %w", lerr.Errorf(lerr.ECONFLICT, "taken"), errSentinel), lerr.ECONFLICT, "taken"},
		{"internal hides nothing deeper", fmt.Errorf("%w: %w", internal, errSentinel), lerr.ENOTFOUND, "no such widget"},
		{"internal alone", internal, lerr.EINTERNAL, ""},
		{"errorf", lerr.Errorf(lerr.EFORBIDDEN, "only %s may", "the owner"), lerr.EFORBIDDEN, "only the owner may"},
		{"no code", &lerr.Error{Message: "x"}, lerr.EINTERNAL, ""},
	}
	for _, tt := range tests {
		if got := lerr.ErrorCode(tt.err); got != tt.wantCode {
			t.Errorf("%s: ErrorCode = %q, want %q", tt.name, got, tt.wantCode)
		}
		if got := lerr.ErrorMessage(tt.err); got != tt.wantMsg {
			t.Errorf("%s: ErrorMessage = %q, want %q", tt.name, got, tt.wantMsg)
		}
	}
}

// A sentinel keeps its text and its identity: errors.Is works as it did with errors.New.
func TestSentinelKeepsTextAndIdentity(t *testing.T) {
	if got := errSentinel.Error(); got != "widget not found" {
		t.Errorf("Error() = %q, want the sentinel's text", got)
	}
	wrapped := fmt.Errorf("read widget w1: %w", errSentinel)
	if !errors.Is(wrapped, errSentinel) {
		t.Error("errors.Is does not see the sentinel through a wrap")
	}
	if errors.Is(wrapped, lerr.New(lerr.ENOTFOUND, "widget not found")) {
		t.Error("two sentinels of the same code and text are the same error")
	}
	if got := lerr.New(lerr.EINVALID, "bad").Tell("").Error(); got != "bad" {
		t.Errorf("Tell changed the text: %q", got)
	}
}
