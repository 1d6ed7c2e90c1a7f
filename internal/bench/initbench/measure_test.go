package initbench

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lethe-dev/lethe/internal/bench"
)

const ms1 = time.Millisecond

func TestMedian(t *testing.T) {
	for _, tt := range []struct {
		in   []time.Duration
		want time.Duration
	}{
		{nil, 0},
		{[]time.Duration{7 * ms1}, 7 * ms1},
		{[]time.Duration{9 * ms1, 3 * ms1, 5 * ms1}, 5 * ms1},                     // odd: the middle one, whatever the order
		{[]time.Duration{10 * ms1, 2 * ms1, 4 * ms1, 6 * ms1}, 5 * ms1},           // even: the mean of the two middle ones
		{[]time.Duration{3 * ms1, 3 * ms1, 100 * ms1, 3 * ms1, 4 * ms1}, 3 * ms1}, // an outlier does not move it
		{[]time.Duration{1 * ms1, 2 * ms1}, 1500 * time.Microsecond},
	} {
		in := slices.Clone(tt.in)
		if got := Median(in); got != tt.want {
			t.Errorf("Median(%v) = %v, want %v", tt.in, got, tt.want)
		}
		if !slices.Equal(in, tt.in) {
			t.Errorf("Median reordered its input: %v, was %v", in, tt.in)
		}
	}
}

func TestRatio(t *testing.T) {
	if got := Ratio(6*ms1, 4*ms1); got != 1.5 {
		t.Errorf("Ratio(6ms, 4ms) = %v, want 1.5", got)
	}
	if got := Ratio(3*ms1, 4*ms1); got != 0.75 {
		t.Errorf("Ratio(3ms, 4ms) = %v, want 0.75", got)
	}
	if got := Ratio(3*ms1, 0); got != 0 {
		t.Errorf("Ratio without a baseline = %v, want 0", got)
	}
}

func TestSummarizeFindsTheWorstAgainstTheBaselineMedian(t *testing.T) {
	d := func(ms ...int) []time.Duration {
		var out []time.Duration
		for _, m := range ms {
			out = append(out, time.Duration(m)*ms1)
		}
		return out
	}
	minimal := Binary{Name: MinimalName, Size: 6 << 20, Inits: d(4, 3, 5)} // median 4
	fns := []Binary{
		{Name: "erase-slice", Size: 12 << 20, Inits: d(5, 6, 50)}, // median 6 → 1.5, the outlier ignored
		{Name: "api", Size: 25 << 20, Inits: d(5, 5, 5)},          // 1.25
	}
	s := Summarize(minimal, fns)
	if s.Minimal.Median != 4*ms1 || s.Minimal.Ratio != 1 {
		t.Errorf("baseline %v ×%v, want 4ms ×1", s.Minimal.Median, s.Minimal.Ratio)
	}
	if len(s.Rows) != 2 || s.Rows[0].Name != "erase-slice" || s.Rows[0].Median != 6*ms1 || s.Rows[0].Ratio != 1.5 ||
		s.Rows[1].Name != "api" || s.Rows[1].Ratio != 1.25 {
		t.Errorf("rows %+v", s.Rows)
	}
	if s.Worst.Name != "erase-slice" || s.Worst.Ratio != 1.5 {
		t.Errorf("worst %s ×%v, want erase-slice ×1.5", s.Worst.Name, s.Worst.Ratio)
	}
	if !s.Pass() {
		t.Error("1.5× the baseline is within the bar")
	}
	// A little over the bar fails it.
	fns[1].Inits = d(7, 6, 7) // 1.75
	if s := Summarize(minimal, fns); s.Pass() || s.Worst.Name != "api" || s.Worst.Ratio != 1.75 {
		t.Errorf("worst %s ×%v pass %v, want api ×1.75 failing", s.Worst.Name, s.Worst.Ratio, s.Pass())
	}
	// Nothing measured passes nothing.
	if (Summary{}).Pass() || Summarize(Binary{Name: MinimalName}, fns).Pass() || Summarize(minimal, nil).Pass() {
		t.Error("a run without a baseline or without functions passed")
	}
}

// The run's figures: each binary's median, ratio and size under its own name, and the target row
// checked against the worst ratio as the report checks it.
func TestRecordAndSection(t *testing.T) {
	minimal := Binary{Name: MinimalName, Size: 6 << 20, Inits: []time.Duration{4 * ms1}}
	s := Summarize(minimal, []Binary{
		{Name: "open-request", LogicalID: "OpenRequestFunction", Size: 25 << 20, Inits: []time.Duration{5 * ms1}},
		{Name: "inbound-email", LogicalID: "InboundEmailFunction", Size: 31 << 20, Inits: []time.Duration{8 * ms1, 7 * ms1, 9 * ms1}}})
	// A reference slower than every function is shown and recorded, but is never the worst.
	s.Reference(Binary{Name: SDKFloorName, Size: 12 << 20, Inits: []time.Duration{10 * ms1}})
	r := bench.NewResults()
	record(r, s, 3, 10*time.Second, 4*time.Second)
	for name, want := range map[string]float64{
		"lambda_init_minimal_ms": 4, "lambda_init_minimal_bytes": 6 << 20,
		"lambda_init_open_request_ms": 5, "lambda_init_open_request_ratio": 1.25, "lambda_init_open_request_bytes": 25 << 20,
		"lambda_init_inbound_email_ms": 8, "lambda_init_inbound_email_ratio": 2,
		"lambda_init_worst_ratio": 2, "lambda_init_cold_starts": 3,
		"lambda_init_sdk_floor_ms": 10, "lambda_init_sdk_floor_ratio": 2.5, "lambda_init_sdk_floor_bytes": 12 << 20,
	} {
		if got, ok := r.Number(name); !ok || got != want {
			t.Errorf("%s = %v (%v), want %v", name, got, ok, want)
		}
	}
	if w, _ := r.Get("lambda_init_worst_function"); w != "inbound-email" {
		t.Errorf("worst function %v", w)
	}
	if v := Target.Check(r); !v.Measured || v.Pass {
		t.Errorf("target %s on a worst ratio of 2: %+v, want measured and failing", Target, v)
	}
	r.Set(Target.Figure, 1.5)
	if v := Target.Check(r); !v.Pass {
		t.Errorf("target %s on a worst ratio of 1.5 fails", Target)
	}

	sec := section(s, 3, 10*time.Second, 4*time.Second)
	if len(sec.Targets) != 1 || sec.Targets[0].Figure != "lambda_init_worst_ratio" || sec.Targets[0].Bound != 1.5 {
		t.Errorf("targets %+v", sec.Targets)
	}
	rows := sec.Tables[0].Rows
	if len(rows) != 4 || !strings.Contains(rows[0][0], "minimal") || !strings.Contains(rows[1][0], SDKFloorName) || rows[1][3] != "2.50" ||
		rows[2][0] != "`open-request`" ||
		rows[3][0] != "**`inbound-email`**" || rows[3][1] != "8.0" || rows[3][2] != "7.0–9.0" || rows[3][3] != "2.00" || rows[3][4] != "31.0" ||
		rows[3][5] != "0.80" || rows[1][5] != "1.00" {
		t.Errorf("table rows %q", rows)
	}
	if !strings.Contains(sec.Reading, "`inbound-email`") || !strings.Contains(sec.Reading, "**over**") {
		t.Errorf("reading %q does not name the worst function over the bar", sec.Reading)
	}
}
