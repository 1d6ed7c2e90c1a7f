package harddelete

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/bench"
	"github.com/lethe-dev/lethe/internal/samtemplate"
	"github.com/lethe-dev/lethe/internal/seed"
	"github.com/lethe-dev/lethe/internal/testenv"
)

// workerEnv makes the test binary act as the erase worker, so the benchmark's child process is
// this same binary.
const workerEnv = "LETHE_HARDDELETE_TEST_WORKER"

func TestMain(m *testing.M) {
	if os.Getenv(workerEnv) == "1" {
		if err := RunWorker(context.Background(), os.Args[1:], os.Stdout); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(testenv.Main(m))
}

func TestTuneHitsTheTarget(t *testing.T) {
	opts := seed.Options{Seed: 5, Now: time.Date(2026, 11, 2, 9, 0, 0, 0, time.UTC)}
	for _, target := range []int64{3_000, 10_000, 100_000} {
		n, err := tune(opts, target)
		if err != nil {
			t.Fatal(err)
		}
		opts.Size = seed.SizeForMessages(n)
		got, err := scopeItems(opts)
		if err != nil {
			t.Fatal(err)
		}
		if d := abs(got - target); d*100 > target*2 {
			t.Errorf("target %d: %d messages give %d items, more than 2%% off", target, n, got)
		}
	}
}

func TestLabel(t *testing.T) {
	for n, want := range map[int64]string{10_000: "10k", 100_000: "100k", 1_000_000: "1m", 1_500: "1500"} {
		if got := label(n); got != want {
			t.Errorf("label(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestSmallRun runs the whole benchmark on two small accounts: every mode deletes the same keys,
// the engine's deletion verifies, and the figures and section come out.
func TestSmallRun(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds and deletes accounts on DynamoDB Local")
	}
	t.Setenv(workerEnv, "1")
	path, err := samtemplate.Find()
	if err != nil {
		t.Fatal(err)
	}
	tmpl, err := samtemplate.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 3)
	rand.Read(id)
	env := &bench.Env{Stack: testenv.Stack(t), Template: tmpl, Results: bench.NewResults(), OutDir: t.TempDir(),
		RunID: hex.EncodeToString(id), Log: logWriter{t}}
	b := Benchmark(Options{Sizes: []int64{1_500, 3_000}, Sample: 200, Worker: []string{os.Args[0]}, SkipWarmup: true, SkipScaling: true})
	s, err := b.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"hard_delete_items_1500", "hard_delete_items_3k", "hard_delete_vs_batch_ratio",
		"hard_delete_vs_list_and_batch_ratio", "hard_delete_list_seconds_3k", "hard_delete_raw_vs_sequential_ratio",
		"hard_delete_vs_sequential_ratio", "hard_delete_growth_ratio", "hard_delete_peak_rss_mb", "hard_delete_lethe_slices_3k"} {
		if v, ok := env.Results.Number(name); !ok || v <= 0 {
			t.Errorf("figure %s = %v, %v; want a positive number", name, v, ok)
		}
	}
	if n, _ := env.Results.Number("hard_delete_sequential_items_3k"); n != 200 {
		t.Errorf("sequential loop deleted %v items, want the sample of 200", n)
	}
	// The like-for-like baseline is the listing and the delete together: slower than the delete alone.
	withList, _ := env.Results.Number("hard_delete_list_and_raw_items_per_s_3k")
	alone, _ := env.Results.Number("hard_delete_raw_items_per_s_3k")
	if withList <= 0 || withList >= alone {
		t.Errorf("list + raw %v items/s, raw alone %v: the listing is not timed with the raw loop", withList, alone)
	}
	if len(s.Targets) != len(targets) || len(s.Plots) != 2 || s.Reading == "" {
		t.Errorf("incomplete section: %d targets, %d plots, reading %q", len(s.Targets), len(s.Plots), s.Reading)
	}
	checkCapacity(t, env.Results, []string{"1500", "3k"})
}

type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(string(p))
	return len(p), nil
}

// TestQuickDefaults: a quick run uses the sizes its help names, leaves out the raw loop by worker
// count and samples fewer keys; a full run does neither.
func TestQuickDefaults(t *testing.T) {
	var q, f Options
	q.defaults(true)
	f.defaults(false)
	if !slices.Equal(q.Sizes, QuickSizes) || !q.SkipScaling || q.Sample != quickSample {
		t.Errorf("quick: sizes %v, skip scaling %v, sample %d", q.Sizes, q.SkipScaling, q.Sample)
	}
	if !slices.Equal(f.Sizes, DefaultSizes) || f.SkipScaling || f.Sample != defaultSample {
		t.Errorf("full: sizes %v, skip scaling %v, sample %d", f.Sizes, f.SkipScaling, f.Sample)
	}
}
