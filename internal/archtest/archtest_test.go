// Package archtest checks the layering of the tree: what each kind of package may depend on.
package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/lethe-dev/lethe"

// pkg is what `go list -json` says of a package.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func list(t *testing.T, patterns ...string) []pkg {
	t.Helper()
	cmd := exec.Command("go", append([]string{"list", "-json"}, patterns...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list %v: %v", patterns, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	var pkgs []pkg
	for {
		var p pkg
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs = append(pkgs, p)
	}
	return pkgs
}

// testSupport are the packages that exist for tests, benchmarks and the local run; like the local
// stand-ins, no Lambda links them.
var testSupport = []string{"internal/testenv", "internal/faults", "internal/scopetest", "internal/seed",
	"internal/bench", "internal/apispec", "internal/archtest", "internal/console/browsertest", "internal/rietest"}

// testTools are the modules go.mod pins only to run in tests (its tool directives): AWS's Lambda
// Runtime Interface Emulator runs the built functions in internal/rietest and is never part of one.
var testTools = []string{"github.com/aws/aws-lambda-runtime-interface-emulator"}

func isLocal(path string) bool {
	for _, m := range testTools {
		if path == m || strings.HasPrefix(path, m+"/") {
			return true
		}
	}
	rel, ok := strings.CutPrefix(path, module+"/")
	if !ok {
		return false
	}
	if rel == "internal/local" || strings.HasPrefix(rel, "internal/local/") {
		return true
	}
	for _, p := range testSupport {
		if rel == p || strings.HasPrefix(rel, p+"/") {
			return true
		}
	}
	return false
}

// No Lambda binary links a local stand-in or a test-support package: what runs on AWS is the
// production code alone.
func TestNoLocalPackageInALambda(t *testing.T) {
	fns := list(t, "./functions/...")
	if len(fns) < 10 {
		t.Fatalf("found %d functions; the tree has more", len(fns))
	}
	for _, f := range fns {
		for _, d := range f.Deps {
			if isLocal(d) {
				t.Errorf("%s links %s", strings.TrimPrefix(f.ImportPath, module+"/"), strings.TrimPrefix(d, module+"/"))
			}
		}
	}
}

// Production packages import no local stand-in, so none can reach a Lambda through them.
func TestProductionImportsNoLocalPackage(t *testing.T) {
	for _, p := range list(t, "./internal/...") {
		if isLocal(p.ImportPath) {
			continue
		}
		for _, imp := range p.Imports {
			if isLocal(imp) {
				t.Errorf("%s imports %s", strings.TrimPrefix(p.ImportPath, module+"/"), strings.TrimPrefix(imp, module+"/"))
			}
		}
	}
}
