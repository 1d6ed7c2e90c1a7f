package archtest

import (
	"go/ast"
	"go/token"
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
	files := 0
	walkGo(t, func(dir string) bool { return dir == "internal/request" }, func(fset *token.FileSet, _ string, f *ast.File) {
		files++
		eachString(f, func(lit *ast.BasicLit, s string) {
			if names[s] {
				t.Errorf("%s: the deadline name %q spelled out; use the request package's constant", where(fset, lit.Pos()), s)
			}
		})
	})
	if files < 100 {
		t.Fatalf("scanned %d files; the tree has more", files)
	}
}
