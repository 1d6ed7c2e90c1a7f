package archtest

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// problemWriter is the one package that spells the problem+json media type and the problem types.
const problemWriter = module + "/internal/httpapi"

// httpEdges answer HTTP themselves, so they may turn an error into a status where the context
// says more than the code (a missing bot is "no such bot"); so may the local stand-ins of API
// Gateway and the local control routes. Every other package returns coded errors.
var httpEdges = []string{problemWriter, module + "/internal/api", module + "/internal/webhooks"}

func isHTTPEdge(pkg string) bool {
	return slices.Contains(httpEdges, pkg) || strings.HasPrefix(pkg, module+"/internal/local/")
}

// sourceFile is one non-test Go file of the module.
type sourceFile struct{ pkg, path string }

func packageFiles(t *testing.T) []sourceFile {
	t.Helper()
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{"\t"}}{{.Dir}}{{"\t"}}{{join .GoFiles ","}}`, "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	var files []sourceFile
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		parts := strings.Split(line, "\t")
		if len(parts) != 3 || parts[2] == "" {
			continue
		}
		for _, f := range strings.Split(parts[2], ",") {
			files = append(files, sourceFile{pkg: parts[0], path: filepath.Join(parts[1], f)})
		}
	}
	if len(files) < 100 {
		t.Fatalf("go list found only %d source files", len(files))
	}
	return files
}

// problemLiterals are the strings only the problem writer may hold.
var problemLiterals = []string{"application/problem+json", "lethe.dev/problems/"}

// errorEdgeViolations reports where a file writes problem+json by hand (any package but the writer)
// or branches on errors.Is/errors.As into an HTTP status (any package but the HTTP edges).
func errorEdgeViolations(fset *token.FileSet, f *ast.File, pkg string) []string {
	var found []string
	at := func(n ast.Node, what string) { found = append(found, fset.Position(n.Pos()).String()+": "+what) }
	if pkg != problemWriter {
		eachString(f, func(lit *ast.BasicLit, s string) {
			for _, p := range problemLiterals {
				if strings.Contains(s, p) {
					at(lit, "spells "+strconv.Quote(p)+": use internal/httpapi's problem writer")
				}
			}
		})
	}
	if isHTTPEdge(pkg) {
		return found
	}
	httpName := importName(f, "net/http")
	if httpName == "" {
		return found
	}
	branch := func(cond []ast.Expr, body []ast.Stmt) {
		if !callsErrorsMatch(cond) {
			return
		}
		for _, st := range body {
			if status := httpStatus(st, httpName); status != nil {
				at(status, "maps an error to an HTTP status: give the error a code (internal/lerr) and let the edge map it")
			}
		}
	}
	ast.Inspect(f, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.IfStmt:
			branch([]ast.Expr{n.Cond}, n.Body.List)
		case *ast.CaseClause:
			branch(n.List, n.Body)
		}
		return true
	})
	return found
}

// callsErrorsMatch: the expressions call errors.Is or errors.As.
func callsErrorsMatch(exprs []ast.Expr) bool {
	found := false
	for _, e := range exprs {
		ast.Inspect(e, func(n ast.Node) bool {
			if sel, ok := n.(*ast.SelectorExpr); ok {
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == "errors" && (sel.Sel.Name == "Is" || sel.Sel.Name == "As") {
					found = true
				}
			}
			return !found
		})
	}
	return found
}

// httpStatus is the first http.Status… constant in a statement.
func httpStatus(st ast.Stmt, httpName string) ast.Node {
	var found ast.Node
	ast.Inspect(st, func(n ast.Node) bool {
		if sel, ok := n.(*ast.SelectorExpr); ok {
			if x, ok := sel.X.(*ast.Ident); ok && x.Name == httpName && strings.HasPrefix(sel.Sel.Name, "Status") {
				found = sel
			}
		}
		return found == nil
	})
	return found
}

// One error vocabulary: only internal/httpapi writes problem+json, and only the HTTP edges turn an
// error into a status; every other package returns errors with a code.
func TestErrorsAreMappedOnlyAtTheEdges(t *testing.T) {
	fset := token.NewFileSet()
	for _, sf := range packageFiles(t) {
		f, err := parser.ParseFile(fset, sf.path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range errorEdgeViolations(fset, f, sf.pkg) {
			t.Error(v)
		}
	}
}

// The check finds what it looks for, so that a clean tree means something.
func TestErrorEdgeCheckFindsViolations(t *testing.T) {
	const src = `package slasweep

import (
	"errors"
	nethttp "net/http"
)

func answer(err error) (int, string) {
	if errors.Is(err, errGone) {
		return nethttp.StatusNotFound, ""
	}
	switch {
	case errors.As(err, &target):
		return nethttp.StatusConflict, ""
	case err != nil:
		return nethttp.StatusInternalServerError, ""
	}
	return 200, "application/problem+json"
}
`
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "fake.go", src, parser.SkipObjectResolution)
	if err != nil {
		t.Fatal(err)
	}
	if got := errorEdgeViolations(fset, f, module+"/internal/slasweep"); len(got) != 3 {
		t.Errorf("found %d violations in a file with 3: %q", len(got), got)
	}
	if got := errorEdgeViolations(fset, f, module+"/internal/api"); len(got) != 1 {
		t.Errorf("found %d violations in an HTTP edge with 1 (the literal): %q", len(got), got)
	}
	if got := errorEdgeViolations(fset, f, problemWriter); len(got) != 0 {
		t.Errorf("found %q in the problem writer, which may do both", got)
	}
}
