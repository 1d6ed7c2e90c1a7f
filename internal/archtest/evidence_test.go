package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const evidencePkg = module + "/internal/evidence"

// sources parses every non-test Go file of the tree outside internal/evidence and calls check
// with each; it returns how many it parsed.
func sources(t *testing.T, check func(fset *token.FileSet, path string, f *ast.File)) int {
	t.Helper()
	root := "../.."
	fset := token.NewFileSet()
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			name := d.Name()
			if rel != "." && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata" || name == "vendor") ||
				filepath.ToSlash(rel) == "internal/evidence" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		n++
		check(fset, filepath.ToSlash(rel), f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// importName is the name a file gives an imported package, "" when it does not import it.
func importName(f *ast.File, path string) string {
	for _, imp := range f.Imports {
		if p, _ := strconv.Unquote(imp.Path.Value); p == path {
			if imp.Name != nil {
				return imp.Name.Name
			}
			return path[strings.LastIndex(path, "/")+1:]
		}
	}
	return ""
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
