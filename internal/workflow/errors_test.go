package workflow_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/lethe-dev/lethe/internal/lerr"
	"github.com/lethe-dev/lethe/internal/workflow"
)

// Every code has one Step Functions name, and it is one Classify may give (the ASL check in
// asl_test.go holds those names against the state machines').
func TestClassifyMapsEveryCode(t *testing.T) {
	want := map[lerr.Code]string{
		lerr.EWINDOWOPEN:   workflow.ErrNameWindowOpen,
		lerr.ENOTVERIFIED:  workflow.ErrNameNotVerified,
		lerr.ENOTDELETING:  workflow.ErrNameNotDeleting,
		lerr.ENOTFOUND:     workflow.ErrNameNotFound,
		lerr.ECONFLICT:     workflow.ErrNameConflict,
		lerr.EINCOMPLETE:   workflow.ErrNameBadInput,
		lerr.EINVALID:      workflow.ErrNameInternal,
		lerr.EUNAUTHORIZED: workflow.ErrNameInternal,
		lerr.EFORBIDDEN:    workflow.ErrNameInternal,
		lerr.EUNSUPPORTED:  workflow.ErrNameInternal,
		lerr.ELOCKED:       workflow.ErrNameInternal,
		lerr.EINTERNAL:     workflow.ErrNameInternal,
	}
	if len(want) != len(lerr.Codes) {
		t.Fatalf("the table has %d codes, lerr has %d: add the new code here", len(want), len(lerr.Codes))
	}
	for _, code := range lerr.Codes {
		got := workflow.Classify(fmt.Errorf("erase slice of r1: %w", lerr.Errorf(code, "x")))
		if got != want[code] {
			t.Errorf("Classify(%s) = %s, want %s", code, got, want[code])
		}
		if !slices.Contains(workflow.OwnErrorNames, got) {
			t.Errorf("Classify(%s) = %s, not one of OwnErrorNames", code, got)
		}
	}
}
