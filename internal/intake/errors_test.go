package intake

import (
	"context"
	"fmt"
	"testing"

	"github.com/lethe-dev/lethe/internal/ledger"
	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/obs"
	"github.com/lethe-dev/lethe/internal/requests"
	"github.com/lethe-dev/lethe/internal/workflow"
)

// A failed mail is journaled under a name given by its error's code, never the error's text.
func TestErrorNameMapsEveryCode(t *testing.T) {
	want := map[lerr.Code]string{lerr.EINVALID: "ErrInvalid", lerr.ECONFLICT: "ErrConflict"}
	for _, code := range lerr.Codes {
		err := fmt.Errorf("create request for mail m1: %w", lerr.Errorf(code, "ivan@example.com"))
		w, ok := want[code]
		if !ok {
			w = obs.ErrorType(err) // the type, which says nothing of the mail
		}
		if got := errorName(err); got != w {
			t.Errorf("errorName(%s) = %q, want %q", code, got, w)
		}
	}
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("%w: no account email", requests.ErrInvalid), "ErrInvalid"},
		{fmt.Errorf("%w: r1 is completed", ledger.ErrConflict), "ErrConflict"},
		{fmt.Errorf("send: %w", context.DeadlineExceeded), "DeadlineExceeded"},
		{&workflow.Error{Name: workflow.ErrNameBadInput, Err: requests.ErrInvalid}, workflow.ErrNameBadInput},
	} {
		if got := errorName(tt.err); got != tt.want {
			t.Errorf("errorName(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}
