package archtest

import (
	"encoding/json"
	"io"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

const testWorld = module + "/internal/testenv/world"

// worldUsers are the packages whose tests start in the shared test world rather than assembling
// their own from flowtest and seed.
var worldUsers = []string{"internal/api", "internal/webhooks", "internal/intake", "internal/slasweep",
	"internal/chsweep", "internal/retention"}

// The shared test world is test support: no Lambda links it and no production package imports it;
// the service tests set up through it, not through their own copy of flowtest.Start and seed.Write.
func TestSharedTestWorldStaysInTests(t *testing.T) {
	if !isLocal(testWorld) {
		t.Errorf("%s is not counted as test support", testWorld)
	}
	for _, f := range list(t, "./functions/...") {
		if slices.Contains(f.Deps, testWorld) {
			t.Errorf("%s links the test world", f.ImportPath)
		}
	}
	for _, p := range list(t, "./...") {
		if slices.Contains(p.Imports, testWorld) {
			t.Errorf("%s imports the test world outside its tests", p.ImportPath)
		}
	}

	var paths []string
	for _, u := range worldUsers {
		paths = append(paths, "./"+u)
	}
	cmd := exec.Command("go", append([]string{"list", "-json"}, paths...)...)
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	for {
		var p struct {
			ImportPath                string
			TestImports, XTestImports []string
		}
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		imports := append(p.TestImports, p.XTestImports...)
		if !slices.Contains(imports, testWorld) {
			t.Errorf("%s: its tests do not start in the shared test world", p.ImportPath)
		}
		if slices.Contains(imports, module+"/internal/local/localflow/flowtest") {
			t.Errorf("%s: its tests assemble their own world from flowtest", p.ImportPath)
		}
	}
}
