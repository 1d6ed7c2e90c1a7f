package bench

import (
	"encoding/json"
	"encoding/xml"
	"math"
	"strings"
	"testing"
)

func TestResultsKeepOrderAndRound(t *testing.T) {
	r := NewResults()
	r.Set("b", 1.23456789)
	r.Set("a", int64(7))
	r.Set("c", true)
	r.Set("b", 2.0/3)
	js, err := r.MarshalJSON()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Join(strings.Fields(string(js)), " ")
	if want := `{ "b": 0.6667, "a": 7, "c": true }`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	var m map[string]any
	if err := json.Unmarshal(js, &m); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
}

func TestTargetCheck(t *testing.T) {
	r := NewResults()
	r.Set("ratio", 0.95)
	r.Set("growth", int64(2))
	tests := []struct {
		target Target
		pass   bool
		found  bool
	}{
		{Target{Figure: "ratio", Op: ">=", Bound: 0.9}, true, true},
		{Target{Figure: "ratio", Op: ">=", Bound: 1}, false, true},
		{Target{Figure: "growth", Op: "<=", Bound: 1.2}, false, true},
		{Target{Figure: "growth", Op: "<=", Bound: 2}, true, true},
		{Target{Figure: "missing", Op: "<=", Bound: 2}, false, false},
	}
	for _, tt := range tests {
		v := tt.target.Check(r)
		if v.Pass != tt.pass || v.Measured != tt.found {
			t.Errorf("%s %s: got pass=%v measured=%v, want %v %v", tt.target.Figure, tt.target, v.Pass, v.Measured, tt.pass, tt.found)
		}
	}
}

func TestRelativeTargetCheck(t *testing.T) {
	r := NewResults()
	r.Set("engine_vs_seq", 4.6)
	r.Set("raw_vs_seq", 5.0) // the ceiling: 0.9 × 5 = 4.5
	r.Set("low_ceiling", 10.0)
	tests := []struct {
		target   Target
		pass     bool
		measured bool
		bar      float64
		text     string
	}{
		{Target{Figure: "engine_vs_seq", Op: ">=", Bound: 0.9, Of: "raw_vs_seq"}, true, true, 4.5, "≥ 0.9 × `raw_vs_seq` = 4.5"},
		{Target{Figure: "engine_vs_seq", Op: ">=", Bound: 0.9, Of: "low_ceiling"}, false, true, 9, "≥ 0.9 × `low_ceiling` = 9"},
		{Target{Figure: "engine_vs_seq", Op: "<=", Bound: 0.9, Of: "raw_vs_seq"}, false, true, 4.5, "≤ 0.9 × `raw_vs_seq` = 4.5"},
		// A ceiling the run did not measure fails the bar, and so does a figure it did not.
		{Target{Figure: "engine_vs_seq", Op: ">=", Bound: 0.9, Of: "missing"}, false, false, 0, "≥ 0.9 × `missing`"},
		{Target{Figure: "missing", Op: ">=", Bound: 0.9, Of: "raw_vs_seq"}, false, false, 4.5, "≥ 0.9 × `raw_vs_seq`"},
	}
	for _, tt := range tests {
		v := tt.target.Check(r)
		if v.Pass != tt.pass || v.Measured != tt.measured || math.Abs(v.Bar-tt.bar) > 1e-9 {
			t.Errorf("%s %s: got pass=%v measured=%v bar=%v, want %v %v %v", tt.target.Figure, tt.target, v.Pass, v.Measured, v.Bar, tt.pass, tt.measured, tt.bar)
		}
		if got := v.BarString(); got != tt.text {
			t.Errorf("%s %s: BarString %q, want %q", tt.target.Figure, tt.target, got, tt.text)
		}
	}
	// The same figure exactly at the bar passes (≥ is inclusive).
	r.Set("at_bar", 4.5)
	if v := (Target{Figure: "at_bar", Op: ">=", Bound: 0.9, Of: "raw_vs_seq"}).Check(r); !v.Pass {
		t.Errorf("a figure at the relative bar failed: %+v", v)
	}
}

func TestCompact(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 950: "950", 10_000: "10k", 1_500_000: "1.5M", 0.25: "0.25", 2.5: "2.5"} {
		if got := Compact(v); got != want {
			t.Errorf("Compact(%v) = %q, want %q", v, got, want)
		}
	}
}

func TestPlotIsWellFormedSVG(t *testing.T) {
	p := Plot{Title: "time <against> size", XLabel: "items", YLabel: "s", LogX: true, LogY: true, YFormat: Seconds,
		Series: []Series{
			{Name: "a", Points: []Point{{10_000, 1}, {100_000, 9}, {1_000_000, 95}}},
			{Name: "b & c", Points: []Point{{10_000, 2}, {1_000_000, 300}}, Dashed: true},
		}}
	svg := p.SVG()
	dec := xml.NewDecoder(strings.NewReader(string(svg)))
	lines := 0
	for {
		tok, err := dec.Token()
		if err != nil {
			if err.Error() != "EOF" {
				t.Fatalf("not well-formed: %v\n%s", err, svg)
			}
			break
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "polyline" {
			lines++
		}
	}
	if lines != 2 {
		t.Errorf("got %d lines, want 2", lines)
	}
	for _, tick := range []string{">10k<", ">100k<", ">1M<", ">100 s<"} {
		if !strings.Contains(string(svg), tick) {
			t.Errorf("no tick %s", tick)
		}
	}
}

func TestMarkdownReport(t *testing.T) {
	res := NewResults()
	res.Set("x_ratio", 0.5)
	rep := report{command: "make bench", machine: Machine{CPU: "cpu", CPUs: 2}, results: res, imgDir: "bench",
		sections: []Section{{Title: "X", Targets: []Target{{Figure: "x_ratio", Label: "x", Op: ">=", Bound: 0.9}},
			Tables: []Table{{Header: []string{"a", "b"}, Rows: [][]string{{"1", "2"}}}},
			Plots:  []Plot{{File: "x.svg", Title: "X plot"}}}}}
	md := string(rep.markdown())
	for _, want := range []string{"`make bench`", "| x | `x_ratio` | ≥ 0.9 | 0.5 | **FAIL** |", "| a | b |\n|---|---|\n| 1 | 2 |", "![X plot](bench/x.svg)"} {
		if !strings.Contains(md, want) {
			t.Errorf("report lacks %q:\n%s", want, md)
		}
	}
}
