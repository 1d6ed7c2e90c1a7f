package samtemplate

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/system"
	"github.com/lethe-dev/lethe/internal/system/wiring"
)

const module = "github.com/lethe-dev/lethe"

// listedPackage is what `go list -json` says of a package.
type listedPackage struct {
	ImportPath, Dir, Name string
	GoFiles               []string
	Deps                  []string
	Module                *struct{ Path string }
}

// functionPackages lists, as `sam build` compiles them (Makefile: GOOS=linux GOARCH=arm64
// CGO_ENABLED=0 -tags lambda.norpc), every package of ./functions/... and everything they import.
func functionPackages(t *testing.T, root string) map[string]listedPackage {
	t.Helper()
	gobin := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(gobin); err != nil {
		if gobin, err = exec.LookPath("go"); err != nil {
			t.Skipf("no go command to list the functions' packages: %v", err)
		}
	}
	cmd := exec.Command(gobin, "list", "-e", "-deps", "-json", "-tags", "lambda.norpc", "./functions/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH=arm64", "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]listedPackage{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listedPackage
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.ImportPath] = p
	}
	return pkgs
}

// envReads is what a package's code reads from the environment: variables named by a constant at
// the call (os.Getenv(config.EnvX), os.LookupEnv("X")), and the places that hand the environment on
// (config.Load(os.Getenv)), which readersOf must know.
type envReads struct {
	names []string
	other []string // "file:line: code"
}

// moduleConstants collects the string constants of the module's packages, by import path and name.
func moduleConstants(t *testing.T, pkgs map[string]listedPackage) map[string]map[string]string {
	t.Helper()
	consts := map[string]map[string]string{}
	for path, p := range pkgs {
		if p.Module == nil || p.Module.Path != module {
			continue
		}
		consts[path] = map[string]string{}
		for _, f := range p.GoFiles {
			file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, f), nil, parser.SkipObjectResolution)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range file.Decls {
				gd, ok := d.(*ast.GenDecl)
				if !ok || gd.Tok != token.CONST {
					continue
				}
				for _, s := range gd.Specs {
					vs := s.(*ast.ValueSpec)
					for i, n := range vs.Names {
						if i < len(vs.Values) {
							if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
								consts[path][n.Name], _ = strconv.Unquote(lit.Value)
							}
						}
					}
				}
			}
		}
	}
	return consts
}

// environmentAccess finds every use of the process environment in a package of the module.
func environmentAccess(t *testing.T, p listedPackage, consts map[string]map[string]string) envReads {
	t.Helper()
	var r envReads
	for _, f := range p.GoFiles {
		fset := token.NewFileSet()
		path := filepath.Join(p.Dir, f)
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		imports := map[string]string{} // local name → import path
		for _, im := range file.Imports {
			ip, _ := strconv.Unquote(im.Path.Value)
			name := ip[strings.LastIndex(ip, "/")+1:]
			if im.Name != nil {
				name = im.Name.Name
			}
			imports[name] = ip
		}
		// constant resolves a call's argument: a literal, a constant of this package or of another.
		constant := func(e ast.Expr) (string, bool) {
			switch e := e.(type) {
			case *ast.BasicLit:
				if e.Kind == token.STRING {
					s, err := strconv.Unquote(e.Value)
					return s, err == nil
				}
			case *ast.Ident:
				s, ok := consts[p.ImportPath][e.Name]
				return s, ok
			case *ast.SelectorExpr:
				if x, ok := e.X.(*ast.Ident); ok {
					s, ok := consts[imports[x.Name]][e.Sel.Name]
					return s, ok
				}
			}
			return "", false
		}
		calls := map[*ast.SelectorExpr]*ast.CallExpr{}
		ast.Inspect(file, func(n ast.Node) bool {
			if c, ok := n.(*ast.CallExpr); ok {
				if sel, ok := c.Fun.(*ast.SelectorExpr); ok {
					calls[sel] = c
				}
			}
			return true
		})
		ast.Inspect(file, func(n ast.Node) bool {
			sel, ok := n.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			x, ok := sel.X.(*ast.Ident)
			if !ok {
				return true
			}
			ip := imports[x.Name]
			if !(ip == "os" && slices.Contains([]string{"Getenv", "LookupEnv", "Environ", "ExpandEnv"}, sel.Sel.Name)) &&
				!(ip == "syscall" && slices.Contains([]string{"Getenv", "Environ"}, sel.Sel.Name)) {
				return true
			}
			if c := calls[sel]; c != nil && len(c.Args) == 1 && (sel.Sel.Name == "Getenv" || sel.Sel.Name == "LookupEnv") {
				if name, ok := constant(c.Args[0]); ok {
					r.names = append(r.names, name)
					return true
				}
			}
			pos := fset.Position(sel.Pos())
			r.other = append(r.other, fmt.Sprintf("%s:%d: %s.%s", filepath.Base(pos.Filename), pos.Line, x.Name, sel.Sel.Name))
			return true
		})
	}
	return r
}

// builderOf is the builder a function's main.go calls on wiring.FromEnvironment's Graph
// (wiring.EraseSlice(g), apiedge.API(g) …), by its name in system.Lambdas.
func builderOf(t *testing.T, p listedPackage) (string, func(*wiring.Graph) any) {
	t.Helper()
	var name string
	for _, f := range p.GoFiles {
		file, err := parser.ParseFile(token.NewFileSet(), filepath.Join(p.Dir, f), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(file, func(n ast.Node) bool {
			c, ok := n.(*ast.CallExpr)
			if !ok || len(c.Args) != 1 {
				return true
			}
			if fn, ok := c.Fun.(*ast.SelectorExpr); ok {
				if x, ok := fn.X.(*ast.Ident); ok && (x.Name == "wiring" || strings.HasSuffix(x.Name, "edge")) && system.Lambdas()[fn.Sel.Name] != nil {
					name = fn.Sel.Name
				}
			}
			return true
		})
	}
	return name, system.Lambdas()[name]
}

// builderReads runs a Lambda's builder on a Graph whose configuration remembers what it is asked
// for, and returns every variable the builder reads and which of them it cannot start without.
func builderReads(t *testing.T, build func(*wiring.Graph) any) (required map[string]bool) {
	t.Helper()
	valid := map[string]string{config.EnvTTLSafetyMargin: "168h", config.EnvTelegramAPIBaseURL: "https://api.telegram.org",
		config.EnvMetaGraphBaseURL: config.DefaultMetaGraphBaseURL, config.EnvSlackAPIBaseURL: config.DefaultSlackAPIBaseURL,
		config.EnvVKAPIBaseURL: config.DefaultVKAPIBaseURL, config.EnvViberAPIBaseURL: config.DefaultViberAPIBaseURL,
		config.EnvExtraHolidays: "2030-01-02", config.EnvExtraWorkdays: "2030-01-05",
		config.EnvActLinkSecret:           strings.Repeat("k", 32),
		config.EnvVerificationSecret:      strings.Repeat("v", 32),
		config.EnvConsoleOIDCAuthorizeURL: "https://auth.example.com/oauth2/authorize", config.EnvConsoleOIDCTokenURL: "https://auth.example.com/oauth2/token",
		config.EnvConsoleDemoSignIn: "/_local/demo"}
	value := func(name string) string {
		if v, ok := valid[name]; ok {
			return v
		}
		return "x"
	}
	run := func(getenv func(string) string) (*config.Loader, error) {
		l := config.NewLoader(getenv)
		g := wiring.NewGraph(l, wiring.Clients{}, nil)
		if build(g) == nil {
			t.Fatal("the builder made no handler")
		}
		return l, g.Err()
	}
	l, err := run(value)
	if err != nil {
		t.Fatalf("the builder with every variable set: %v", err)
	}
	required = map[string]bool{}
	for _, name := range l.Asked() {
		_, err := run(func(n string) string {
			if n == name {
				return ""
			}
			return value(n)
		})
		required[name] = err != nil
	}
	return required
}

// setOnlyWhereUsed are optional variables (config.Load reads them in every function and has a
// default) that the template sets only on the functions that use them; everywhere else the default
// is right. Each is set on exactly these functions and not in Globals.
var setOnlyWhereUsed = map[string][]string{
	// The connection-health sweep and the API (which sends one-time codes) speak to the channels.
	config.EnvTelegramAPIBaseURL: {"ApiFunction", "ChannelSweepFunction"},
	config.EnvMetaGraphBaseURL:   {"ApiFunction", "ChannelSweepFunction"},
	config.EnvSlackAPIBaseURL:    {"ApiFunction", "ChannelSweepFunction"},
	config.EnvVKAPIBaseURL:       {"ApiFunction", "ChannelSweepFunction"},
	config.EnvViberAPIBaseURL:    {"ApiFunction", "ChannelSweepFunction"},
}

// TestFunctionEnvironmentIsWhatTheCodeReads: for every function, the variables its code reads (every
// package its functions/<folder> compiles with, the way `sam build` builds it) are set, by Globals
// or by the function, and every variable the template sets for it is read by that code. A new
// os.Getenv(config.EnvX) anywhere a function compiles must come with its variable in the template; a
// new way of reading the environment must be taught to this test.
func TestFunctionEnvironmentIsWhatTheCodeReads(t *testing.T) {
	tmpl := loadReal(t)
	raw := tmpl.Raw()
	root := filepath.Dir(tmpl.Path())
	pkgs := functionPackages(t, root)
	consts := moduleConstants(t, pkgs)
	// The places that hand the environment on (to config.NewLoader, read by each function's builder).
	handedOn := map[string]*regexp.Regexp{module + "/internal/system/wiring": regexp.MustCompile(`^wiring\.go:\d+: os\.Getenv$`)}

	access := map[string]envReads{}
	for path, p := range pkgs {
		if p.Module != nil && p.Module.Path == module {
			access[path] = environmentAccess(t, p, consts)
		}
	}
	// reads: variable → required, for the code of one function.
	readsOf := func(main string) map[string]bool {
		reads := map[string]bool{}
		for _, dep := range append([]string{main}, pkgs[main].Deps...) {
			a, ok := access[dep]
			if !ok {
				continue
			}
			for _, n := range a.names {
				reads[n] = true // read without a default in the template's view: it must be set
			}
			for _, o := range a.other {
				if re := handedOn[dep]; re == nil || !re.MatchString(o) {
					t.Errorf("%s %s: an environment access this test does not know; make it os.Getenv(<constant>) or teach handedOn what it reads", dep, o)
				}
			}
		}
		// What wiring.FromEnvironment hands os.Getenv to reads is what the function's builder asks for.
		name, build := builderOf(t, pkgs[main])
		if build == nil {
			t.Errorf("%s: calls no builder of system.Lambdas on wiring.FromEnvironment's Graph (found %q)", main, name)
			return reads
		}
		for n, required := range builderReads(t, build) {
			reads[n] = reads[n] || required
		}
		return reads
	}

	globals, _ := dig(raw, "Globals", "Function", "Environment", "Variables").(map[string]any)
	kebab := regexp.MustCompile(`([a-z0-9])([A-Z])`)
	functions := resourcesOfType(raw, "AWS::Serverless::Function")
	for _, id := range functions {
		folder := strings.ToLower(kebab.ReplaceAllString(strings.TrimSuffix(id, "Function"), "$1-$2"))
		main := module + "/functions/" + folder
		if _, ok := pkgs[main]; !ok {
			t.Errorf("%s: no package %s", id, main)
			continue
		}
		reads := readsOf(main)
		if len(reads) == 0 {
			t.Errorf("%s: functions/%s reads no configuration (does it still start through wiring.FromEnvironment?)", id, folder)
		}
		own, _ := dig(raw, "Resources", id, "Properties", "Environment", "Variables").(map[string]any)
		set := func(v string) bool { _, g := globals[v]; _, o := own[v]; return g || o }
		for v, required := range reads {
			if users, ok := setOnlyWhereUsed[v]; ok && !required {
				if _, o := own[v]; o != slices.Contains(users, id) {
					t.Errorf("%s: %s set %v; want it set exactly on %v", id, v, o, users)
				}
				continue
			}
			if !set(v) {
				t.Errorf("%s: its code reads %s, which neither Globals nor the function sets", id, v)
			}
		}
		for v := range own {
			if _, ok := reads[v]; !ok {
				t.Errorf("%s sets %s, which its code never reads", id, v)
			}
			if _, ok := globals[v]; ok {
				t.Errorf("%s sets %s again over Globals", id, v)
			}
		}
		for v := range globals {
			if _, ok := reads[v]; !ok {
				t.Errorf("Globals sets %s, which %s's code never reads", v, id)
			}
		}
	}
	for v := range setOnlyWhereUsed {
		if _, ok := globals[v]; ok {
			t.Errorf("Globals sets %s, which only %v should", v, setOnlyWhereUsed[v])
		}
	}
	if len(functions) < 13 {
		t.Errorf("%d functions, want at least 13", len(functions))
	}
}

// TestEveryParameterConfiguresTheFunctions: every parameter of the template (SPEC §8's
// configuration and the deployment's own) reaches the functions as a variable of the functions
// that read it — or, for the JWT issuer and audience no function reads, the HTTP API's authorizer —,
// so a parameter cannot be declared and then ignored, nor a variable be left without its parameter.
func TestEveryParameterConfiguresTheFunctions(t *testing.T) {
	tmpl := loadReal(t)
	raw := tmpl.Raw()
	vars, err := tmpl.FunctionVariables()
	if err != nil {
		t.Fatal(err)
	}
	byParam := map[string]string{}
	for v, val := range vars {
		if p, ok := dig(val, "Ref").(string); ok {
			byParam[p] = v
		}
	}
	jwt := dig(raw, "Resources", "HttpApi", "Properties", "Auth", "Authorizers", "dashboardJwt", "JwtConfiguration")
	byAuthorizer := map[string]bool{}
	if p, ok := dig(jwt, "issuer", "Ref").(string); ok {
		byAuthorizer[p] = true
	}
	if aud, ok := dig(jwt, "audience").([]any); ok && len(aud) == 1 {
		if p, ok := dig(aud[0], "Ref").(string); ok {
			byAuthorizer[p] = true
		}
	}
	for _, p := range []string{"JwtIssuer", "JwtAudience"} {
		if !byAuthorizer[p] {
			t.Errorf("parameter %s is not the authorizer's (%v)", p, jwt)
		}
	}
	// The deployment's own settings no function reads: whom the alarms mail, how long logs are kept.
	infrastructure := map[string]bool{"AlarmEmail": true, "LogRetentionDays": true}
	for p := range raw["Parameters"].(map[string]any) {
		if _, ok := byParam[p]; !ok && !byAuthorizer[p] && !infrastructure[p] {
			t.Errorf("parameter %s is no function's variable", p)
		}
	}
	// SPEC §8: "META_APP_SECRET, SLACK_SIGNING_SECRET, WHATSAPP_VERIFY_TOKEN, INFO_ADDRESS,
	// SENDER_ADDRESS, PRIVACY_OFFICER_ADDRESS, PUBLIC_BASE_URL" are parameters; the table, bucket
	// and state-machine names come from the stack's own resources.
	for _, v := range []string{config.EnvMetaAppSecret, config.EnvSlackSigningSecret, config.EnvWhatsAppVerifyToken,
		config.EnvInfoAddress, config.EnvSenderAddress, config.EnvPrivacyOfficerAddress, config.EnvPublicBaseURL} {
		p, _ := dig(vars[v], "Ref").(string)
		if _, ok := raw["Parameters"].(map[string]any)[p]; !ok {
			t.Errorf("%s = %v, want !Ref of a parameter", v, vars[v])
		}
	}
	for _, v := range []string{config.EnvPlatformTable, config.EnvLedgerTable, config.EnvAnalyticsTable, config.EnvFilesBucket, config.EnvInboundMailBucket} {
		p, _ := dig(vars[v], "Ref").(string)
		if _, ok := raw["Resources"].(map[string]any)[p]; !ok {
			t.Errorf("%s = %v, want !Ref of a resource of the stack", v, vars[v])
		}
	}
}

// startsHandler checks that functions/<folder>/main.go starts what the builder of that name returns
// (its edge's package, internal/system/<pkg>: `func <builder>(g *wiring.Graph) … { return <handler> }`).
func startsHandler(root, folder, builder, handler string) error {
	main, err := os.ReadFile(filepath.Join(root, "functions", folder, "main.go"))
	if err != nil {
		return err
	}
	call := regexp.MustCompile(`handler := ([a-z]+edge)\.` + builder + `\(g\)`).FindSubmatch(main)
	if !strings.Contains(string(main), "g := wiring.FromEnvironment(context.Background())") ||
		call == nil || !strings.Contains(string(main), "lambda.Start(handler)") {
		return fmt.Errorf("functions/%s/main.go does not start an edge's %s", folder, builder)
	}
	pkg := string(call[1])
	files, err := filepath.Glob(filepath.Join(root, "internal", "system", pkg, "*.go"))
	if err != nil || len(files) == 0 {
		return fmt.Errorf("no internal/system/%s (%v)", pkg, err)
	}
	re := regexp.MustCompile(`func ` + builder + `\(g \*wiring\.Graph\)[^{]*\{\s*return ` + regexp.QuoteMeta(handler) + `\s*\}`)
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		if re.Match(src) {
			return nil
		}
	}
	return fmt.Errorf("%s.%s does not return %s", pkg, builder, handler)
}
