package archtest

import (
	"go/ast"
	"go/token"
	"sort"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/datamap"
)

// storagePackages may speak DynamoDB: the two stores (ledger, platform), the batch writer, the
// capacity meter (middleware on the clients: it reads calls' inputs and outputs, makes none), and the
// two engines that by design act on raw items page by page (erasure executes the data map's scope
// plans, retention sweeps tables and consumes the TTL stream). The list is the one in the
// platform package comment.
var storagePackages = []string{"internal/ledger", "internal/platform", "internal/bulkwrite",
	"internal/capmeter", "internal/erasure", "internal/retention"}

// keyOwners are the packages that may spell a key: the data map that declares the patterns and the
// two stores that fill them.
var keyOwners = []string{"internal/datamap", "internal/ledger", "internal/platform"}

// wiring may hold a raw client without being storage: the composition root that builds the clients
// for the Lambdas, the operator CLI, and the template reader that provisions local tables.
var wiring = []string{"internal/system", "cmd/lethe", "internal/samtemplate"}

func under(rel string, dirs []string) bool {
	for _, d := range dirs {
		if rel == d || strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

// exemptFromSealing says whether a package (by path relative to the module) is outside the rule:
// storage itself, wiring, local stand-ins and test support.
func exemptFromSealing(rel string, owners []string) bool {
	return under(rel, owners) || under(rel, wiring) || isLocal(module+"/"+rel)
}

// Storage is sealed: outside the storage packages no production package imports the DynamoDB
// client or its attribute types, so every read and write goes through ledger or platform.
func TestNoRawDynamoDBOutsideStorage(t *testing.T) {
	for _, p := range list(t, "./...") {
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		if exemptFromSealing(rel, storagePackages) {
			continue
		}
		for _, imp := range p.Imports {
			if imp == "github.com/aws/aws-sdk-go-v2/service/dynamodb" || imp == "github.com/aws/aws-sdk-go-v2/service/dynamodb/types" {
				t.Errorf("%s imports %s: go through ledger or platform", rel, imp)
			}
		}
	}
}

// keyPrefixes are the fixed heads of the data map's key patterns ("R#", "ACCTREQ#", "U#" …): the
// part before the first placeholder, for every pattern that has one and whose head ends in '#'.
func keyPrefixes() []string {
	seen := map[string]bool{}
	add := func(pattern string) {
		i := strings.IndexByte(pattern, '{')
		if i <= 0 || !strings.HasSuffix(pattern[:i], "#") {
			return
		}
		seen[pattern[:i]] = true
	}
	for _, c := range datamap.Categories {
		add(c.Location.PK)
		add(c.Location.SK)
		for _, ix := range c.Location.Indexes {
			add(ix.PK)
			add(ix.SK)
		}
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	sort.Strings(out)
	return out
}

// eachProductionFile parses every non-test Go file of the module outside the packages under
// exempt (and outside wiring, local stand-ins and test support) and calls fn with it.
func eachProductionFile(t *testing.T, exempt []string, fn func(fset *token.FileSet, f *ast.File)) {
	t.Helper()
	walkGo(t, func(dir string) bool { return exemptFromSealing(dir, exempt) }, func(fset *token.FileSet, _ string, f *ast.File) {
		fn(fset, f)
	})
}

// where is a position relative to the module root.
func where(fset *token.FileSet, p token.Pos) string {
	return strings.TrimPrefix(fset.Position(p).String(), "../../")
}

// keyLiterals lists the string literals in the production Go files outside the key owners that
// begin with one of the data map's key prefixes, as "file:line:col: literal".
func keyLiterals(t *testing.T, prefixes []string) []string {
	t.Helper()
	var hits []string
	eachProductionFile(t, keyOwners, func(fset *token.FileSet, f *ast.File) {
		eachString(f, func(lit *ast.BasicLit, s string) {
			for _, p := range prefixes {
				if strings.HasPrefix(s, p) {
					hits = append(hits, where(fset, lit.Pos())+": "+lit.Value)
					break
				}
			}
		})
	})
	return hits
}

// No production package outside storage takes the raw client out of the store: a call of a
// method DB() with no arguments (platform.Store.DB) is storage's alone.
func TestNoRawClientOutsideStorage(t *testing.T) {
	eachProductionFile(t, storagePackages, func(fset *token.FileSet, f *ast.File) {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 0 {
				return true
			}
			if sel, ok := call.Fun.(*ast.SelectorExpr); ok && sel.Sel.Name == "DB" {
				t.Errorf("%s: the raw client taken out of the store: go through ledger or platform", where(fset, call.Pos()))
			}
			return true
		})
	})
}

// Every key comes from the data map's patterns: no production Go file outside datamap, ledger and
// platform spells a key prefix of the data map as a string literal.
func TestNoKeyLiteralOutsideStorage(t *testing.T) {
	prefixes := keyPrefixes()
	for _, want := range []string{"R#", "ACCTREQ#", "U#", "V#", "INBOX#"} {
		if !contains(prefixes, want) {
			t.Fatalf("key prefixes from the data map %v lack %q", prefixes, want)
		}
	}
	for _, h := range keyLiterals(t, prefixes) {
		t.Errorf("key literal %s: build it from the data map's pattern in ledger or platform", h)
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if y == x {
			return true
		}
	}
	return false
}
