package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/lethe-dev/lethe/internal/bench"
	"github.com/lethe-dev/lethe/internal/bench/cost"
	"github.com/lethe-dev/lethe/internal/bench/harddelete"
	"github.com/lethe-dev/lethe/internal/bench/initbench"
	"github.com/lethe-dev/lethe/internal/bench/lifecycle"
	"github.com/lethe-dev/lethe/internal/bench/sweep"
)

func init() {
	register(command{name: "bench", summary: "run the benchmarks; write bench/results.json and BENCHMARKS.md (BENCH_QUICK=1: reduced set)", run: runBench})
}

// eraseWorker is the hidden subcommand the hard-delete benchmark runs the engine in.
const eraseWorker = "erase-worker"

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == eraseWorker {
		return harddelete.RunWorker(ctx, args[1:], stdout)
	}
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	quick := fs.Bool("quick", envBool("BENCH_QUICK"), fmt.Sprintf("the reduced set, under 3 minutes: hard delete at %s items, the sweep at %s, "+
		"%d cold starts per Lambda (default from BENCH_QUICK)", formatSizes(harddelete.QuickSizes), formatSizes(sweep.QuickSizes), initbench.QuickColdStarts))
	sizes := fs.String("sizes", "", fmt.Sprintf("hard-delete account sizes in items, comma-separated; default %s (quick: %s)",
		formatSizes(harddelete.DefaultSizes), formatSizes(harddelete.QuickSizes)))
	sweepSizes := fs.String("sweep-sizes", "", fmt.Sprintf("retention-sweep table sizes in scanned items, comma-separated; default %s (quick: %s)",
		formatSizes(sweep.DefaultSizes), formatSizes(sweep.QuickSizes)))
	only := fs.String("only", "", "run only these benchmarks, comma-separated (account-lifecycle, hard-delete, retention-sweep, lambda-init, cost)")
	coldStarts := fs.Int("cold-starts", 0, fmt.Sprintf("cold starts of each Lambda in the init benchmark; default %d (quick: %d)", initbench.DefaultColdStarts, initbench.QuickColdStarts))
	profile := fs.Bool("profile", false, "write a CPU profile of each erase worker, and of the retention sweeps, under <out>/tmp/")
	out := fs.String("out", "bench", "folder for results.json and the plots")
	report := fs.String("report", "BENCHMARKS.md", "the Markdown report to write")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: lethe bench [flags]\n\n"+
			"Starts its own in-memory local stack, runs the benchmarks, prints a table, and writes\n"+
			"<out>/results.json, the plots and the report.")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args, stdout, stderr); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected arguments %q", fs.Args())
	}
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	hd := harddelete.Options{Worker: []string{exe, "bench", eraseWorker}, Profile: *profile}
	if *sizes != "" {
		if hd.Sizes, err = parseSizes(*sizes); err != nil {
			return err
		}
	}
	sw := sweep.Options{Profile: *profile}
	if *sweepSizes != "" {
		if sw.Sizes, err = parseSizes(*sweepSizes); err != nil {
			return fmt.Errorf("-sweep%s", strings.TrimPrefix(err.Error(), "-"))
		}
	}
	command := "make bench"
	if *quick {
		command = "BENCH_QUICK=1 make bench"
	}
	if len(args) > 0 {
		command = "bin/lethe bench " + strings.Join(args, " ")
	}
	// cost goes last: it prices the figures the others recorded.
	benchmarks := []bench.Benchmark{lifecycle.Benchmark(), harddelete.Benchmark(hd), sweep.Benchmark(sw),
		initbench.Benchmark(initbench.Options{ColdStarts: *coldStarts}), cost.Benchmark()}
	if *only != "" {
		if benchmarks, err = selectBenchmarks(benchmarks, *only); err != nil {
			return err
		}
	}
	return bench.Run(ctx, bench.Options{Quick: *quick, OutDir: *out, Report: *report, Command: command}, benchmarks...)
}

// selectBenchmarks keeps the benchmarks named in a comma-separated list, in the run's order.
func selectBenchmarks(all []bench.Benchmark, names string) ([]bench.Benchmark, error) {
	want := map[string]bool{}
	for _, n := range strings.Split(names, ",") {
		want[strings.TrimSpace(n)] = true
	}
	var out []bench.Benchmark
	for _, b := range all {
		if want[b.Name] {
			out = append(out, b)
			delete(want, b.Name)
		}
	}
	for n := range want {
		return nil, fmt.Errorf("-only: no benchmark %q", n)
	}
	return out, nil
}

func envBool(name string) bool {
	v, err := strconv.ParseBool(os.Getenv(name))
	return err == nil && v
}

// formatSizes writes sizes as parseSizes reads them: "10k,100k,1m".
func formatSizes(sizes []int64) string {
	out := make([]string, len(sizes))
	for i, n := range sizes {
		switch {
		case n%1_000_000 == 0:
			out[i] = fmt.Sprintf("%dm", n/1_000_000)
		case n%1_000 == 0:
			out[i] = fmt.Sprintf("%dk", n/1_000)
		default:
			out[i] = fmt.Sprint(n)
		}
	}
	return strings.Join(out, ",")
}

// parseSizes reads "10k,100k,1m".
func parseSizes(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.Split(s, ",") {
		f = strings.ToLower(strings.TrimSpace(f))
		mult := int64(1)
		switch {
		case strings.HasSuffix(f, "k"):
			mult, f = 1_000, strings.TrimSuffix(f, "k")
		case strings.HasSuffix(f, "m"):
			mult, f = 1_000_000, strings.TrimSuffix(f, "m")
		}
		n, err := strconv.ParseInt(f, 10, 64)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("-sizes: %q is not a size", f)
		}
		out = append(out, n*mult)
	}
	return out, nil
}
