package archtest

import (
	"go/ast"
	"go/token"
	"strconv"
	"strings"
	"testing"
)

const evidencePkg = module + "/internal/evidence"

// sources parses every non-test Go file of the tree outside internal/evidence and calls check
// with each; it returns how many it parsed.
func sources(t *testing.T, check func(fset *token.FileSet, path string, f *ast.File)) int {
	t.Helper()
	n := 0
	walkGo(t, func(dir string) bool { return dir == "internal/evidence" }, func(fset *token.FileSet, rel string, f *ast.File) {
		n++
		check(fset, rel, f)
	})
	return n
}

// journalWriters are what stores or reads evidence parts by hand: building a part, splitting an
// act into its parts, putting parts back together. Only internal/evidence does that (Journal).
var journalWriters = map[string]string{
	"Item":      "builds or decodes an evidence part",
	"Items":     "splits an act into its stored parts",
	"FromItems": "reads an act back from its parts",
}

// The journal of destructions and the acts drawn up from it have one home: no package outside
// internal/evidence spells the journal's prefix or builds, splits or reads back evidence parts;
// deletion, the retention sweep and the TTL stream consumer go through evidence.Journal and the
// parts it gives them.
func TestEvidenceOwnsItsJournal(t *testing.T) {
	var found []string
	n := sources(t, func(fset *token.FileSet, path string, f *ast.File) {
		ev := importName(f, evidencePkg)
		ast.Inspect(f, func(node ast.Node) bool {
			switch x := node.(type) {
			case *ast.BasicLit:
				if x.Kind != token.STRING {
					break
				}
				if v, err := strconv.Unquote(x.Value); err == nil && strings.Contains(v, "journal#") {
					found = append(found, fset.Position(x.Pos()).String()+": spells the journal prefix")
				}
			case *ast.SelectorExpr:
				if id, ok := x.X.(*ast.Ident); ok && ev != "" && id.Name == ev {
					if what, ok := journalWriters[x.Sel.Name]; ok {
						found = append(found, fset.Position(x.Pos()).String()+": "+what+" (evidence."+x.Sel.Name+")")
					}
				}
			}
			return true
		})
	})
	if n < 100 {
		t.Fatalf("parsed %d files; the tree has more", n)
	}
	for _, f := range found {
		t.Errorf("%s outside internal/evidence", strings.TrimPrefix(f, "../../"))
	}
}
