package initbench

import (
	"slices"
	"time"
)

// Bar is SPEC §7's: every Lambda's init within 1.5× the minimal aws-lambda-go binary's.
const Bar = 1.5

// Median is the middle of the durations (the mean of the two middle ones when their number is even);
// zero when there are none. The slice is not reordered.
func Median(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// Ratio is d ÷ base; zero when base is not positive (no baseline measured).
func Ratio(d, base time.Duration) float64 {
	if base <= 0 {
		return 0
	}
	return float64(d) / float64(base)
}

// Binary is one measured binary: its cold starts' init durations and its size.
type Binary struct {
	// Name is its functions/ folder ("open-request"), or "minimal" for the baseline.
	Name      string
	LogicalID string // its template.yaml resource; empty for the baseline
	Size      int64  // bytes
	Inits     []time.Duration
}

// Row is one function's figures against the baseline.
type Row struct {
	Binary
	Median time.Duration
	Ratio  float64 // Median ÷ the baseline's median
}

// Summary is a run's figures: the baseline, every function against it, and the worst.
type Summary struct {
	Minimal Row
	Rows    []Row // in the order given
	Worst   Row   // the function of the highest ratio
	// References are other binaries measured against the baseline that are no function (the SDK
	// floor): shown, never the worst.
	References []Row
}

// Reference adds a binary that is no function, measured against the baseline.
func (s *Summary) Reference(b Binary) {
	m := Median(b.Inits)
	s.References = append(s.References, Row{Binary: b, Median: m, Ratio: Ratio(m, s.Minimal.Median)})
}

// Pass says whether every function is within Bar × the baseline; it fails when nothing was
// measured.
func (s Summary) Pass() bool { return s.Minimal.Median > 0 && len(s.Rows) > 0 && s.Worst.Ratio <= Bar }

// Summarize takes the median init of the baseline and of each function, and each function's ratio to
// the baseline's median.
func Summarize(minimal Binary, functions []Binary) Summary {
	s := Summary{Minimal: Row{Binary: minimal, Median: Median(minimal.Inits), Ratio: 1}}
	for _, f := range functions {
		m := Median(f.Inits)
		r := Row{Binary: f, Median: m, Ratio: Ratio(m, s.Minimal.Median)}
		s.Rows = append(s.Rows, r)
		if len(s.Rows) == 1 || r.Ratio > s.Worst.Ratio {
			s.Worst = r
		}
	}
	return s
}
