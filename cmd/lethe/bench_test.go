package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/lethe-dev/lethe/internal/bench/harddelete"
	"github.com/lethe-dev/lethe/internal/bench/sweep"
)

// TestBenchHelpNamesTheSizesItUses: `lethe bench --help` names the sizes the benchmarks really
// use, quick and full, written as -sizes and -sweep-sizes read them.
func TestBenchHelpNamesTheSizesItUses(t *testing.T) {
	code, out, errOut := run(t, "bench", "--help")
	if code != 0 || errOut != "" {
		t.Fatalf("lethe bench --help: exit %d, stderr %q", code, errOut)
	}
	for _, sizes := range [][]int64{harddelete.DefaultSizes, harddelete.QuickSizes, sweep.DefaultSizes, sweep.QuickSizes} {
		text := formatSizes(sizes)
		if !strings.Contains(out, text) {
			t.Errorf("the help does not name %s:\n%s", text, out)
		}
		back, err := parseSizes(text)
		if err != nil || !slices.Equal(back, sizes) {
			t.Errorf("parseSizes(%q) = %v, %v; want %v", text, back, err, sizes)
		}
	}
	if want := "quick: " + formatSizes(harddelete.QuickSizes) + ")"; !strings.Contains(out, want) {
		t.Errorf("the -sizes help does not say %q:\n%s", want, out)
	}
}
