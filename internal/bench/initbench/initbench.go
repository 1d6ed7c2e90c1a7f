// Package initbench measures each Lambda's init, the part of a cold start its own code costs: every
// functions/* binary and a minimal aws-lambda-go binary (./minimal), built as the deployment builds
// them (internal/rietest.BuildAll), are cold-started in turn under AWS's Runtime Interface Emulator
// with the environment template.yaml gives each, pointed at the run's local stack, and the
// emulator's INIT REPORT of each start is read. Each function's median init is compared with the
// minimal binary's median of the same run: SPEC §7 wants every one within 1.5× of it.
package initbench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lethe-dev/lethe/internal/bench"
	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/rietest"
	"github.com/lethe-dev/lethe/internal/samtemplate"
)

// MinimalPackage is the baseline's main package, relative to the repository root.
const MinimalPackage = "./internal/bench/initbench/minimal"

// MinimalName is the baseline's name in the figures (lambda_init_minimal_ms …).
const MinimalName = "minimal"

// SDKFloorPackage is the minimal binary plus the AWS SDK as every function uses it at init
// (./sdkfloor), measured beside the functions but no function: the part of their init that is
// the SDK's.
const SDKFloorPackage = "./internal/bench/initbench/sdkfloor"

// SDKFloorName is its name in the figures (lambda_init_sdk_floor_ms …).
const SDKFloorName = "sdk-floor"

// Cold starts of each binary: the medians of the full set, and of the quick one (BENCH_QUICK=1,
// ~15 s of cold starts on two CPUs after the builds).
const (
	DefaultColdStarts = 9
	QuickColdStarts   = 5
)

// apiPort is the local API's port the template environment's URLs name (as internal/rietest's
// tests use); nothing listens there, and no function calls it at init.
const apiPort = 3000

// Options of the init benchmark.
type Options struct {
	// ColdStarts of each binary; default DefaultColdStarts, QuickColdStarts in the quick set.
	ColdStarts int
	// Root is the repository root; default found from the working directory.
	Root string
}

// Target is the bar of SPEC §7 as a figure of the run.
var Target = bench.Target{Figure: "lambda_init_worst_ratio", Label: "worst function init ÷ minimal aws-lambda-go init",
	Op: "<=", Bound: Bar, Note: "median INIT REPORT of each function's cold starts under aws-lambda-rie"}

// Benchmark is the init benchmark, "lambda-init".
func Benchmark(o Options) bench.Benchmark {
	return bench.Benchmark{Name: "lambda-init", Run: func(ctx context.Context, env *bench.Env) (bench.Section, error) {
		return run(ctx, env, o)
	}}
}

// FigureName is the results' name of a binary's figure: lambda_init_<name>_<what>, the folder's
// dashes as underscores ("lambda_init_open_request_ms").
func FigureName(binary, what string) string {
	return "lambda_init_" + strings.ReplaceAll(binary, "-", "_") + "_" + what
}

func run(ctx context.Context, env *bench.Env, o Options) (bench.Section, error) {
	if o.ColdStarts <= 0 {
		o.ColdStarts = DefaultColdStarts
		if env.Quick {
			o.ColdStarts = QuickColdStarts
		}
	}
	if o.Root == "" {
		root, err := localaws.FindRepoRoot()
		if err != nil {
			return bench.Section{}, err
		}
		o.Root = root
	}
	dir, err := os.MkdirTemp("", "lethe-initbench-")
	if err != nil {
		return bench.Section{}, err
	}
	defer os.RemoveAll(dir)

	env.Logf("lambda init: building every function and the minimal aws-lambda-go binary as the deployment does …")
	built := time.Now()
	b, err := rietest.BuildAll(ctx, o.Root, dir, 2)
	if err != nil {
		return bench.Section{}, err
	}
	minimal := rietest.Function{Folder: MinimalName, LogicalID: "MinimalFunction", Bootstrap: filepath.Join(dir, MinimalName, "bootstrap")}
	if minimal.Size, err = rietest.BuildBootstrap(ctx, o.Root, MinimalPackage, minimal.Bootstrap); err != nil {
		return bench.Section{}, err
	}
	floor := rietest.Function{Folder: SDKFloorName, LogicalID: "SdkFloorFunction", Bootstrap: filepath.Join(dir, SDKFloorName, "bootstrap")}
	if floor.Size, err = rietest.BuildBootstrap(ctx, o.Root, SDKFloorPackage, floor.Bootstrap); err != nil {
		return bench.Section{}, err
	}
	buildTime := time.Since(built)

	res, err := env.NewResources(ctx, "init")
	if err != nil {
		return bench.Section{}, err
	}
	defer res.Drop(ctx)
	// No function calls Step Functions at init, nor for the empty event it is sent; should one, it
	// is refused at once rather than waiting on an address where nothing listens.
	sfn := httptest.NewServer(http.HandlerFunc(refuseSFN))
	defer sfn.Close()
	ep := rietest.Endpoints{DynamoDB: env.Stack.DynamoDBEndpoint, S3: env.Stack.S3Endpoint, SES: env.Stack.SESEndpoint, SFN: sfn.URL}
	tenv := samtemplate.Env{StackName: res.StackName}

	// The binaries in the order they are started, the baseline and the SDK floor first, each with
	// its environment.
	fns := append([]rietest.Function{minimal, floor}, b.Functions...)
	envs := make([]map[string]string, len(fns))
	for i, fn := range fns {
		vars := map[string]string{} // the references are no resource of the template: the runtime's variables only
		if i >= 2 {
			if vars, err = rietest.TemplateEnv(env.Template, tenv, fn.LogicalID, apiPort); err != nil {
				return bench.Section{}, err
			}
		}
		envs[i] = rietest.RuntimeEnv(env.Template, tenv, fn.LogicalID, vars, ep, dir)
	}

	env.Logf("lambda init: %d cold starts of each of %d binaries under aws-lambda-rie …", o.ColdStarts, len(fns))
	began := time.Now()
	inits := make([][]time.Duration, len(fns))
	for round := range o.ColdStarts {
		// Each round starts every binary once, from a different one each round, so that whatever
		// else the machine does meanwhile falls on all of them alike.
		for k := range fns {
			i := (round + k) % len(fns)
			m, err := rietest.MeasureInit(ctx, b.RIE, fns[i], envs[i], []byte("{}"))
			if err != nil {
				return bench.Section{}, fmt.Errorf("cold start %d of %s: %w", round+1, fns[i].Folder, err)
			}
			inits[i] = append(inits[i], m.Init)
		}
	}
	window := time.Since(began)

	bins := make([]Binary, len(fns))
	for i, fn := range fns {
		bins[i] = Binary{Name: fn.Folder, LogicalID: fn.LogicalID, Size: fn.Size, Inits: inits[i]}
	}
	bins[0].LogicalID, bins[1].LogicalID = "", ""
	s := Summarize(bins[0], bins[2:])
	s.Reference(bins[1])
	record(env.Results, s, o.ColdStarts, buildTime, window)
	return section(s, o.ColdStarts, buildTime, window), nil
}

// refuseSFN answers every Step Functions call with the protocol's error document.
func refuseSFN(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.WriteHeader(http.StatusBadRequest)
	fmt.Fprint(w, `{"__type":"AccessDeniedException","message":"the init benchmark serves no Step Functions"}`)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// record writes the run's figures: each binary's median init, size and ratio, and the worst ratio.
func record(r *bench.Results, s Summary, coldStarts int, build, window time.Duration) {
	r.Set("lambda_init_cold_starts", coldStarts)
	r.Set(FigureName(MinimalName, "ms"), ms(s.Minimal.Median))
	r.Set(FigureName(MinimalName, "bytes"), s.Minimal.Size)
	for _, ref := range s.References {
		r.Set(FigureName(ref.Name, "ms"), ms(ref.Median))
		r.Set(FigureName(ref.Name, "ratio"), ref.Ratio)
		r.Set(FigureName(ref.Name, "bytes"), ref.Size)
	}
	for _, row := range s.Rows {
		r.Set(FigureName(row.Name, "ms"), ms(row.Median))
		r.Set(FigureName(row.Name, "ratio"), row.Ratio)
		r.Set(FigureName(row.Name, "bytes"), row.Size)
	}
	r.Set(Target.Figure, s.Worst.Ratio)
	r.Set("lambda_init_worst_function", s.Worst.Name)
	r.Set("lambda_init_build_seconds", build.Seconds())
	r.Set("lambda_init_measure_seconds", window.Seconds())
}

func section(s Summary, coldStarts int, build, window time.Duration) bench.Section {
	mb := func(n int64) string { return fmt.Sprintf("%.1f", float64(n)/(1<<20)) }
	spread := func(r Row) string {
		lo, hi := r.Inits[0], r.Inits[0]
		for _, d := range r.Inits {
			lo, hi = min(lo, d), max(hi, d)
		}
		return fmt.Sprintf("%.1f–%.1f", ms(lo), ms(hi))
	}
	// Against the SDK floor too, when it was measured: how much of each init is Lethe's own.
	var floor *Row
	if len(s.References) > 0 {
		floor = &s.References[0]
	}
	vsFloor := func(r Row) []string {
		if floor == nil {
			return nil
		}
		return []string{fmt.Sprintf("%.2f", Ratio(r.Median, floor.Median))}
	}
	header := []string{"function", "median init, ms", "range, ms", "÷ minimal", "binary, MiB"}
	if floor != nil {
		header = append(header, "÷ "+floor.Name)
	}
	rows := [][]string{append([]string{"minimal aws-lambda-go (baseline)", fmt.Sprintf("%.1f", ms(s.Minimal.Median)), spread(s.Minimal), "1", mb(s.Minimal.Size)},
		vsFloor(s.Minimal)...)}
	for _, r := range s.References {
		rows = append(rows, append([]string{"_" + r.Name + ": minimal + AWS SDK (reference)_", fmt.Sprintf("%.1f", ms(r.Median)), spread(r),
			fmt.Sprintf("%.2f", r.Ratio), mb(r.Size)}, vsFloor(r)...))
	}
	for _, r := range s.Rows {
		name := "`" + r.Name + "`"
		if r.Name == s.Worst.Name {
			name = "**" + name + "**"
		}
		rows = append(rows, append([]string{name, fmt.Sprintf("%.1f", ms(r.Median)), spread(r), fmt.Sprintf("%.2f", r.Ratio), mb(r.Size)},
			vsFloor(r)...))
	}
	verdict := "within"
	if !s.Pass() {
		verdict = "**over**"
	}
	reading := fmt.Sprintf("The slowest init is `%s`'s, %.1f ms, %.2f× the minimal binary's %.1f ms: %s the %s bar. "+
		"The builds took %s (the Go build cache holds the packages after `make test`'s own build of the functions); "+
		"the %d cold starts took %s.",
		s.Worst.Name, ms(s.Worst.Median), s.Worst.Ratio, ms(s.Minimal.Median), verdict, Target.String(),
		build.Round(100*time.Millisecond), coldStarts*(len(s.Rows)+1+len(s.References)), window.Round(100*time.Millisecond))
	for _, r := range s.References {
		reading += fmt.Sprintf(" The reference `%s` — the minimal binary linking the four AWS clients every function links "+
			"and building the AWS configuration from the environment (`internal/system/awsenv`), as each function's init does — starts in %.1f ms, %.2f× the "+
			"minimal binary: that part of every function's init is the SDK's own package initialisation, whatever Lethe does.",
			r.Name, ms(r.Median), r.Ratio)
	}
	return bench.Section{
		Title: "Lambda init under the Runtime Interface Emulator",
		Intro: fmt.Sprintf("Every `functions/*` binary and a minimal aws-lambda-go binary (`%s`: `lambda.Start` of a "+
			"handler that returns its input) are built as `make deploy` builds them (linux, `CGO_ENABLED=0`, "+
			"`-tags lambda.norpc`, `-trimpath -ldflags='-s -w'`, this machine's architecture) and each is cold-started "+
			"%d times under AWS's Runtime Interface Emulator (`aws-lambda-rie`, pinned in `go.mod`), in rounds that start "+
			"every binary once, with the environment `template.yaml` gives the function, pointed at this run's local "+
			"stack. A cold start's init is the emulator's `INIT REPORT` — from the process's start to its first request "+
			"for an event — and the table gives each binary's median; the first invocation (an empty event) is not "+
			"measured. A reference binary, `%s` (the minimal one plus the AWS SDK as every function initialises it), "+
			"shows which part of the gap is the SDK's. SPEC §7's bar: every function's median within %s× the minimal binary's, measured in the same run.",
			strings.TrimPrefix(MinimalPackage, "./"), coldStarts, strings.TrimPrefix(SDKFloorPackage, "./"), formatBar()),
		Targets: []bench.Target{Target},
		Tables: []bench.Table{{Caption: "Init of each Lambda (the worst in bold)",
			Header: header, Rows: rows}},
		Reading: reading,
	}
}

func formatBar() string { return strings.TrimPrefix(Target.String(), "≤ ") }
