package archtest

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/request"
)

// The names of a request's deadlines are declared once, with its timeline in internal/request: no
// other production file spells one as a string literal (as deletion once spelled
// "backups_rotated_by").
func TestDeadlineNamesAreDeclaredOnce(t *testing.T) {
	names := map[string]bool{}
	for _, n := range []string{request.DeadlineStartBy, request.DeadlineSoftDeleteEnds, request.DeadlineHardDeleteBy,
		request.DeadlineBackupsRotatedBy, request.DeadlineCompleteBy, request.DeadlineEscalateAt, request.DeadlineDecideBy,
		request.DeadlineFinalMailBy} {
		names[n] = true
	}
	fset := token.NewFileSet()
	files := 0
	for _, top := range []string{"internal", "functions", "cmd", "tools"} {
		err := filepath.WalkDir(filepath.Join("..", "..", top), func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
				return err
			}
			if filepath.ToSlash(filepath.Dir(path)) == "../../internal/request" {
				return nil
			}
			f, err := parser.ParseFile(fset, path, nil, 0)
			if err != nil {
				return err
			}
			files++
			ast.Inspect(f, func(n ast.Node) bool {
				if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && names[s] {
						t.Errorf("%s: the deadline name %q spelled out; use the request package's constant", fset.Position(lit.Pos()), s)
					}
				}
				return true
			})
			return nil
		})
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			t.Fatal(err)
		}
	}
	if files < 100 {
		t.Fatalf("scanned %d files; the tree has more", files)
	}
}
