package archtest

import (
	"slices"
	"strings"
	"testing"
)

// domain are the packages of the deletion domain: what a request is and how it changes, and the
// services that act on it. The Step Functions adapter (internal/workflow) calls them, never the
// other way round.
var domain = []string{"internal/request", "internal/requests", "internal/notify", "internal/ledger",
	"internal/deletion", "internal/holds", "internal/erasure", "internal/evidence", "internal/retention", "internal/mailer",
	"internal/platform", "internal/datamap", "internal/calendar", "internal/verification"}

// No domain package depends on the workflow adapter, directly or through another package: the
// request lifecycle and its timeline live in the domain, and requests starts workflows through the
// small Starter it declares.
func TestNoDomainPackageDependsOnTheWorkflow(t *testing.T) {
	var patterns []string
	for _, d := range domain {
		patterns = append(patterns, "./"+d)
	}
	for _, p := range list(t, patterns...) {
		if slices.Contains(p.Deps, module+"/internal/workflow") {
			t.Errorf("%s depends on internal/workflow", strings.TrimPrefix(p.ImportPath, module+"/"))
		}
	}
}

// The request's lifecycle is plain Go: internal/request imports no AWS package itself, so its
// transitions are tested without any.
func TestTheRequestImportsNoAWS(t *testing.T) {
	pkgs := list(t, "./internal/request")
	if len(pkgs) != 1 {
		t.Fatalf("go list found %d packages", len(pkgs))
	}
	for _, imp := range pkgs[0].Imports {
		if strings.HasPrefix(imp, "github.com/aws/") {
			t.Errorf("internal/request imports %s", imp)
		}
	}
}
