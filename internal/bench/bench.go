// Package bench runs Lethe's benchmarks (`make bench`) on a local AWS stack of their own and reports
// them: one flat JSON object of named figures (bench/results.json) and the human report BENCHMARKS.md
// with tables, targets and plots. A benchmark records figures into the run's shared Results and
// returns its section of the report; bench checks the targets and writes the files.
package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/lethe-dev/lethe/internal/config"
	"github.com/lethe-dev/lethe/internal/datamap"
	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/samtemplate"
)

// Benchmark is one benchmark of a run. Run records its figures in env.Results and returns its
// section of the report.
type Benchmark struct {
	Name string
	Run  func(ctx context.Context, env *Env) (Section, error)
}

// Options of one run.
type Options struct {
	// Quick runs the reduced set (BENCH_QUICK=1): each benchmark decides what it leaves out.
	Quick bool
	// OutDir receives results.json and the plots; default "bench".
	OutDir string
	// Report is the path of the Markdown report; default "BENCHMARKS.md".
	Report string
	// Command is how the run was started, shown in the report.
	Command string
	// Log receives progress; default os.Stderr. Stdout receives the final tables; default os.Stdout.
	Log, Stdout io.Writer
}

// Env is what a benchmark runs against: the run's local stack and template, and the figures.
type Env struct {
	Stack    *localaws.Stack
	Template *samtemplate.Template
	Results  *Results
	Quick    bool
	// OutDir is where results go; scratch files (profiles) go under OutDir/tmp, which git ignores.
	OutDir string
	// RunID names this run's resources: every stack name starts with "lb" and it.
	RunID string
	Log   io.Writer
}

// Logf prints a progress line.
func (e *Env) Logf(format string, args ...any) {
	fmt.Fprintf(e.Log, "lethe bench: "+format+"\n", args...)
}

// ScratchDir is OutDir/tmp, created if missing: profiles and other files not to commit.
func (e *Env) ScratchDir() (string, error) {
	dir := filepath.Join(e.OutDir, "tmp")
	return dir, os.MkdirAll(dir, 0o755)
}

// Resources is one set of the template's tables and buckets, created for a stack name of its own.
type Resources struct {
	StackName string
	Tables    map[string]string // logical id → physical name
	Buckets   map[string]string
	stack     *localaws.Stack
}

// NewResources creates the template's tables and buckets for a fresh stack name ending in name
// (lowercase letters, digits and dashes).
func (e *Env) NewResources(ctx context.Context, name string) (*Resources, error) {
	stackName := "lb" + e.RunID + "-" + name
	tenv := samtemplate.Env{StackName: stackName}
	tables, err := e.Template.Tables(tenv)
	if err != nil {
		return nil, err
	}
	buckets, err := e.Template.Buckets(tenv)
	if err != nil {
		return nil, err
	}
	r := &Resources{StackName: stackName, Tables: map[string]string{}, Buckets: map[string]string{}, stack: e.Stack}
	for _, t := range tables {
		r.Tables[t.LogicalID] = aws.ToString(t.Input.TableName)
		// DynamoDB Local records a table's stream inside every write, in its one SQLite store; on AWS
		// the stream is written apart and costs the table's writes nothing. No benchmark reads a
		// stream, so the tables go without, as the tests' do (testenv.Streams).
		t.Input.StreamSpecification = nil
	}
	for _, b := range buckets {
		r.Buckets[b.LogicalID] = b.Name
	}
	if err := localaws.CreateTables(ctx, e.Stack.DynamoDB(), tables); err != nil {
		return nil, err
	}
	if err := localaws.CreateBuckets(ctx, e.Stack.S3(), buckets); err != nil {
		return nil, err
	}
	return r, nil
}

// Env returns the variables through which a Lethe function finds these tables and buckets
// (PLATFORM_TABLE …), as a child process needs them.
func (r *Resources) Env() []string {
	return []string{
		config.EnvPlatformTable + "=" + r.Tables[datamap.PlatformTable],
		config.EnvLedgerTable + "=" + r.Tables[datamap.LedgerTable],
		config.EnvAnalyticsTable + "=" + r.Tables[datamap.AnalyticsTable],
		config.EnvFilesBucket + "=" + r.Buckets[datamap.FilesBucket],
		config.EnvInboundMailBucket + "=" + r.Buckets["InboundMailBucket"],
	}
}

// Drop deletes the tables and buckets, freeing DynamoDB Local's memory for the next benchmark.
func (r *Resources) Drop(ctx context.Context) error {
	var tables, buckets []string
	for _, n := range r.Tables {
		tables = append(tables, n)
	}
	for _, n := range r.Buckets {
		buckets = append(buckets, n)
	}
	return errors.Join(localaws.DeleteTables(ctx, r.stack.DynamoDB(), tables),
		localaws.DeleteBuckets(ctx, r.stack.S3(), buckets))
}

// emulatorCPU is the CPU time the stack's emulator processes have used so far.
func emulatorCPU(st *localaws.Stack) time.Duration {
	var d time.Duration
	for _, pid := range st.PIDs() {
		if c, err := ProcessCPU(pid); err == nil {
			d += c
		}
	}
	return d
}

// Run starts an in-memory local stack, runs the benchmarks in order, and writes OutDir/results.json,
// the plots and the report. Nothing is written when a benchmark fails.
func Run(ctx context.Context, o Options, benchmarks ...Benchmark) error {
	if o.OutDir == "" {
		o.OutDir = "bench"
	}
	if o.Report == "" {
		o.Report = "BENCHMARKS.md"
	}
	if o.Log == nil {
		o.Log = os.Stderr
	}
	if o.Stdout == nil {
		o.Stdout = os.Stdout
	}
	began := time.Now()
	id := make([]byte, 3)
	rand.Read(id)
	env := &Env{Results: NewResults(), Quick: o.Quick, OutDir: o.OutDir, RunID: hex.EncodeToString(id), Log: o.Log}

	env.Logf("starting DynamoDB Local (in memory), the SES emulator and S3 …")
	stack, err := localaws.Start(ctx, localaws.Options{})
	if err != nil {
		return err
	}
	defer stack.Close()
	env.Stack = stack
	path, err := samtemplate.Find()
	if err != nil {
		return err
	}
	if env.Template, err = samtemplate.Load(path); err != nil {
		return err
	}

	machine := DescribeMachine()
	res := env.Results
	res.Set("bench_quick", o.Quick)
	res.Set("date", began.UTC().Format(time.RFC3339))
	res.Set("go_version", runtime.Version())
	res.Set("cpus", runtime.NumCPU())
	res.Set("cpu_model", machine.CPU)
	res.Set("memory_gb", machine.MemoryGB)

	machine0, self0, children0, emulators0 := MachineCPU(), SelfCPU(), ChildrenCPU(), emulatorCPU(stack)
	var sections []Section
	for _, b := range benchmarks {
		env.Logf("benchmark %s", b.Name)
		began := time.Now()
		s, err := b.Run(ctx, env)
		if err != nil {
			return fmt.Errorf("benchmark %s: %w", b.Name, err)
		}
		// Where a run's time goes (a quick run must stay under 3 minutes).
		res.Set("bench_seconds_"+strings.ReplaceAll(b.Name, "-", "_"), time.Since(began).Seconds())
		env.Logf("benchmark %s took %v", b.Name, time.Since(began).Round(time.Second))
		sections = append(sections, s)
	}
	if m, err := SelfMemory(); err == nil {
		// Everything this process ever held at once: the run's key lists, the seeder, in-process S3.
		res.Set("bench_parent_peak_rss_mb", m.PeakMB())
	}
	res.Set("bench_seconds", time.Since(began).Seconds())
	// The machine may be shared: what its CPUs did beyond this run's own processes disturbs the figures.
	other := (MachineCPU() - machine0) - (SelfCPU() - self0) - (ChildrenCPU() - children0) - (emulatorCPU(stack) - emulators0)
	res.Set("bench_other_cpu_share", max(0, other.Seconds()/(time.Since(began).Seconds()*float64(runtime.NumCPU()))))

	if err := os.MkdirAll(o.OutDir, 0o755); err != nil {
		return err
	}
	js, err := res.MarshalJSON()
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(o.OutDir, "results.json"), js, 0o644); err != nil {
		return err
	}
	for _, s := range sections {
		for _, p := range s.Plots {
			if err := os.WriteFile(filepath.Join(o.OutDir, p.File), p.SVG(), 0o644); err != nil {
				return err
			}
		}
	}
	imgDir, err := filepath.Rel(filepath.Dir(o.Report), o.OutDir)
	if err != nil {
		imgDir = o.OutDir
	}
	rep := report{command: o.Command, quick: o.Quick, began: began, elapsed: time.Since(began), machine: machine,
		sections: sections, results: res, imgDir: imgDir}
	if err := os.WriteFile(o.Report, rep.markdown(), 0o644); err != nil {
		return err
	}
	rep.text(o.Stdout)
	fmt.Fprintf(o.Stdout, "\nwrote %s and %s in %v\n", filepath.Join(o.OutDir, "results.json"), o.Report, time.Since(began).Round(time.Second))
	return nil
}
