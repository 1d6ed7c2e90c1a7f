package initbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/bench"
	"github.com/lethe-dev/lethe/internal/local/localaws"
	"github.com/lethe-dev/lethe/internal/samtemplate"
	"github.com/lethe-dev/lethe/internal/testenv"
)

func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }

// logWriter hands the benchmark's progress to the test's log.
type logWriter struct{ t *testing.T }

func (w logWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// The init benchmark, one cold start each on the shared local stack, yields a median init, a ratio
// to the minimal binary and a size for every functions/* folder, and the minimal binary's and the
// SDK floor's own, with the target's figure and one table row per binary.
func TestTheBenchmarkMeasuresEveryFunctionAndTheMinimalOne(t *testing.T) {
	root, err := localaws.FindRepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	tpl, err := samtemplate.Load(filepath.Join(root, samtemplate.FileName))
	if err != nil {
		t.Fatal(err)
	}
	id := make([]byte, 3)
	rand.Read(id)
	env := &bench.Env{Stack: testenv.Stack(t), Template: tpl, Results: bench.NewResults(), Quick: true,
		OutDir: t.TempDir(), RunID: hex.EncodeToString(id), Log: logWriter{t}}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	sec, err := Benchmark(Options{ColdStarts: 1, Root: root}).Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}

	entries, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	var folders []string
	for _, e := range entries {
		if e.IsDir() {
			folders = append(folders, e.Name())
		}
	}
	if len(folders) < 10 {
		t.Fatalf("found %d functions; the tree has more", len(folders))
	}
	r := env.Results
	positive := func(name string) float64 {
		t.Helper()
		v, ok := r.Number(name)
		if !ok || v <= 0 {
			t.Errorf("%s = %v (recorded %v), want a positive figure", name, v, ok)
		}
		return v
	}
	minimal := positive(FigureName(MinimalName, "ms"))
	positive(FigureName(MinimalName, "bytes"))
	positive(FigureName(SDKFloorName, "ms"))
	positive(FigureName(SDKFloorName, "ratio"))
	worst := 0.0
	for _, f := range folders {
		ms, ratio := positive(FigureName(f, "ms")), positive(FigureName(f, "ratio"))
		positive(FigureName(f, "bytes"))
		if d := ms/minimal - ratio; d > 0.01*ratio || d < -0.01*ratio {
			t.Errorf("%s: ratio %v, but %v ms ÷ the minimal %v ms is %v", f, ratio, ms, minimal, ms/minimal)
		}
		worst = max(worst, ratio)
		t.Logf("%s: init %.1f ms, %.2f× minimal", f, ms, ratio)
	}
	if v := Target.Check(r); !v.Measured || v.Value != worst {
		t.Errorf("%s = %v (measured %v), want the worst ratio %v", Target.Figure, v.Value, v.Measured, worst)
	}
	if len(sec.Tables) != 1 || len(sec.Tables[0].Rows) != len(folders)+2 {
		t.Errorf("the section's table has %d rows, want the minimal binary, the SDK floor and %d functions", len(sec.Tables[0].Rows), len(folders))
	}
	if len(sec.Targets) != 1 || sec.Targets[0] != Target {
		t.Errorf("section targets %+v", sec.Targets)
	}
}
