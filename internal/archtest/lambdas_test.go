package archtest

import (
	"strings"
	"testing"
)

// edgePackages serve one edge each; a workflow task's Lambda needs none of them.
var edgePackages = []string{"internal/system", "internal/api", "internal/webhooks", "internal/intake", "internal/inmail",
	"internal/chsweep", "internal/slasweep", "internal/retention"}

// taskFunctions are the Lambdas the state machines invoke (internal/system/wiring/tasks.go).
var taskFunctions = []string{"open-request", "begin-hard-delete", "erase-slice", "complete-deletion", "finish-request",
	"await-decision", "notify-declined"}

// Each Lambda links only what its handler uses: a workflow task is built from the shared services
// (internal/system/wiring) alone and links no edge's package.
func TestTaskLambdasLinkNoEdge(t *testing.T) {
	var patterns []string
	for _, f := range taskFunctions {
		patterns = append(patterns, "./functions/"+f)
	}
	fns := list(t, patterns...)
	if len(fns) != len(taskFunctions) {
		t.Fatalf("found %d task functions, want %d", len(fns), len(taskFunctions))
	}
	for _, f := range fns {
		for _, d := range f.Deps {
			for _, e := range edgePackages {
				if d == module+"/"+e {
					t.Errorf("%s links %s", strings.TrimPrefix(f.ImportPath, module+"/"), e)
				}
			}
		}
	}
}
