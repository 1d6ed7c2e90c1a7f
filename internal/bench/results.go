package bench

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sync"
)

// Results is the run's figures: one flat set of named values (numbers, booleans, strings), written
// as one JSON object in the order they were first set. Every benchmark of a run adds to the same
// Results, so ratios between figures are always of one run.
type Results struct {
	mu     sync.Mutex
	names  []string
	values map[string]any
}

// NewResults returns an empty set of figures.
func NewResults() *Results { return &Results{values: map[string]any{}} }

// Set records a figure, replacing an earlier value of the same name. Floats are rounded to four
// significant digits: more would be noise on this kind of measurement.
func (r *Results) Set(name string, v any) {
	if f, ok := v.(float64); ok {
		v = round(f, 4)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.values[name]; !ok {
		r.names = append(r.names, name)
	}
	r.values[name] = v
}

// Get returns a figure.
func (r *Results) Get(name string) (any, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	v, ok := r.values[name]
	return v, ok
}

// Number returns a numeric figure as a float64.
func (r *Results) Number(name string) (float64, bool) {
	v, ok := r.Get(name)
	if !ok {
		return 0, false
	}
	switch n := v.(type) {
	case float64:
		return n, true
	case int:
		return float64(n), true
	case int64:
		return float64(n), true
	}
	return 0, false
}

// MarshalJSON writes the figures as one flat object, in the order they were first set.
func (r *Results) MarshalJSON() ([]byte, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var b bytes.Buffer
	b.WriteString("{\n")
	for i, name := range r.names {
		k, _ := json.Marshal(name)
		v, err := json.Marshal(r.values[name])
		if err != nil {
			return nil, fmt.Errorf("figure %s: %w", name, err)
		}
		fmt.Fprintf(&b, "  %s: %s", k, v)
		if i < len(r.names)-1 {
			b.WriteByte(',')
		}
		b.WriteByte('\n')
	}
	b.WriteString("}\n")
	return b.Bytes(), nil
}

// Target is a bar a figure must meet, e.g. hard_delete_vs_list_and_batch_ratio ≥ 1.
type Target struct {
	Figure string  // name in Results
	Label  string  // what it measures, for people
	Op     string  // ">=" or "<="
	Bound  float64 // the bar
	// Of, when set, makes the bar relative: Bound times the figure named Of, measured in the same
	// run (e.g. the engine ÷ sequential ≥ 0.9 × the raw loop ÷ sequential, the emulator's ceiling).
	Of string
	// Note qualifies the target in the report (what it is measured against).
	Note string
}

// Verdict is a target checked against a run.
type Verdict struct {
	Target
	Value float64
	// Bar is the bound the figure was held to: Bound, or Bound × the figure Of.
	Bar      float64
	Measured bool // the figure (and the figure Of, for a relative bar) exists in this run
	Pass     bool
}

// Check compares the figure with the bar; a figure the run did not produce fails, and so does a
// relative bar whose reference figure the run did not produce.
func (t Target) Check(r *Results) Verdict {
	v, ok := r.Number(t.Figure)
	out := Verdict{Target: t, Value: v, Measured: ok, Bar: t.Bound}
	if t.Of != "" {
		ref, refOK := r.Number(t.Of)
		out.Bar = t.Bound * ref
		out.Measured = ok && refOK
		ok = out.Measured
	}
	switch t.Op {
	case ">=":
		out.Pass = ok && v >= out.Bar
	case "<=":
		out.Pass = ok && v <= out.Bar
	}
	return out
}

// String is the bar as people read it ("≥ 0.9", or "≥ 0.9 × `other_figure`").
func (t Target) String() string {
	op := t.Op
	switch op {
	case ">=":
		op = "≥"
	case "<=":
		op = "≤"
	}
	if t.Of != "" {
		return op + " " + formatNumber(t.Bound) + " × `" + t.Of + "`"
	}
	return op + " " + formatNumber(t.Bound)
}

// BarString is the bar as people read it with, for a relative bar, the bound it came to in the run
// ("≥ 0.9 × `ceiling` = 5.2").
func (v Verdict) BarString() string {
	s := v.Target.String()
	if v.Of != "" && v.Measured {
		s += " = " + formatNumber(v.Bar)
	}
	return s
}

func round(f float64, digits int) float64 {
	if f == 0 || math.IsNaN(f) || math.IsInf(f, 0) {
		return f
	}
	scale := math.Pow(10, float64(digits-1)-math.Floor(math.Log10(math.Abs(f))))
	return math.Round(f*scale) / scale
}

// formatNumber prints a figure compactly: integers whole, others with up to four significant digits.
func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return fmt.Sprintf("%.0f", f)
	}
	return fmt.Sprintf("%.4g", round(f, 4))
}
