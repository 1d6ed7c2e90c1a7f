package bench

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"sort"
	"strings"
)

// Plot is a line chart of one or more series, drawn as a self-contained SVG file under the output
// folder and embedded in the report.
type Plot struct {
	File           string // name under the output folder, e.g. "hard-delete-time.svg"
	Title          string
	XLabel, YLabel string
	LogX, LogY     bool
	// XFormat and YFormat print tick values (default: compact numbers, 10k, 1M …).
	XFormat, YFormat func(float64) string
	Series           []Series
	// Caption is shown under the image in the report.
	Caption string
}

// Series is one line of a plot.
type Series struct {
	Name   string
	Points []Point
	Dashed bool
}

// Point is one measurement.
type Point struct{ X, Y float64 }

var palette = []string{"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b"}

const (
	plotW, plotH                          = 720, 440
	marginL, marginR, marginT, marginB    = 78, 180, 44, 56
	innerW, innerH                        = plotW - marginL - marginR, plotH - marginT - marginB
	axisColour, gridColour, textColour    = "#333", "#e5e5e5", "#222"
	fontFamily                            = "system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"
	tickFontSize, labelFontSize, titleFnt = 12, 13, 15
)

// SVG draws the plot.
func (p Plot) SVG() []byte {
	xs, ys := p.values()
	xa := newAxis(xs, p.LogX, innerW)
	ya := newAxis(ys, p.LogY, innerH)
	xf, yf := p.XFormat, p.YFormat
	if xf == nil {
		xf = Compact
	}
	if yf == nil {
		yf = Compact
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" viewBox="0 0 %d %d" font-family="%s">`+"\n",
		plotW, plotH, plotW, plotH, fontFamily)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/>`+"\n", plotW, plotH)
	fmt.Fprintf(&b, `<text x="%d" y="26" font-size="%d" font-weight="600" fill="%s">%s</text>`+"\n",
		marginL, titleFnt, textColour, esc(p.Title))

	// Grid and ticks.
	for _, t := range xa.ticks {
		x := marginL + xa.pos(t)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%d" x2="%.1f" y2="%d" stroke="%s"/>`+"\n", x, marginT, x, marginT+innerH, gridColour)
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" font-size="%d" text-anchor="middle" fill="%s">%s</text>`+"\n",
			x, marginT+innerH+18, tickFontSize, textColour, esc(xf(t)))
	}
	for _, t := range ya.ticks {
		y := marginT + innerH - ya.pos(t)
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="%s"/>`+"\n", marginL, y, marginL+innerW, y, gridColour)
		fmt.Fprintf(&b, `<text x="%d" y="%.1f" font-size="%d" text-anchor="end" fill="%s">%s</text>`+"\n",
			marginL-8, y+4, tickFontSize, textColour, esc(yf(t)))
	}
	fmt.Fprintf(&b, `<rect x="%d" y="%d" width="%d" height="%d" fill="none" stroke="%s"/>`+"\n", marginL, marginT, innerW, innerH, axisColour)
	fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="%d" text-anchor="middle" fill="%s">%s</text>`+"\n",
		marginL+innerW/2, plotH-12, labelFontSize, textColour, esc(p.XLabel))
	fmt.Fprintf(&b, `<text transform="translate(18 %d) rotate(-90)" font-size="%d" text-anchor="middle" fill="%s">%s</text>`+"\n",
		marginT+innerH/2, labelFontSize, textColour, esc(p.YLabel))

	// Lines, markers and the legend.
	for i, s := range p.Series {
		colour := palette[i%len(palette)]
		pts := append([]Point(nil), s.Points...)
		sort.Slice(pts, func(a, b int) bool { return pts[a].X < pts[b].X })
		var path []string
		for _, pt := range pts {
			if !xa.ok(pt.X) || !ya.ok(pt.Y) {
				continue
			}
			path = append(path, fmt.Sprintf("%.1f,%.1f", marginL+xa.pos(pt.X), marginT+innerH-ya.pos(pt.Y)))
		}
		dash := ""
		if s.Dashed {
			dash = ` stroke-dasharray="6 4"`
		}
		if len(path) > 1 {
			fmt.Fprintf(&b, `<polyline points="%s" fill="none" stroke="%s" stroke-width="2"%s/>`+"\n", strings.Join(path, " "), colour, dash)
		}
		for _, pt := range path {
			xy := strings.SplitN(pt, ",", 2)
			fmt.Fprintf(&b, `<circle cx="%s" cy="%s" r="3.5" fill="%s"/>`+"\n", xy[0], xy[1], colour)
		}
		ly := marginT + 14 + i*22
		lx := marginL + innerW + 16
		fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="%s" stroke-width="2"%s/>`+"\n", lx, ly, lx+24, ly, colour, dash)
		fmt.Fprintf(&b, `<text x="%d" y="%d" font-size="%d" fill="%s">%s</text>`+"\n", lx+30, ly+4, tickFontSize, textColour, esc(s.Name))
	}
	b.WriteString("</svg>\n")
	return b.Bytes()
}

func (p Plot) values() (xs, ys []float64) {
	for _, s := range p.Series {
		for _, pt := range s.Points {
			xs = append(xs, pt.X)
			ys = append(ys, pt.Y)
		}
	}
	return xs, ys
}

// axis maps data values to pixels along one side of the plot.
type axis struct {
	log    bool
	lo, hi float64 // in data space (log10 of it when log)
	length float64
	ticks  []float64
}

func newAxis(vs []float64, logScale bool, length int) axis {
	a := axis{log: logScale, length: float64(length)}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, v := range vs {
		if logScale && v <= 0 {
			continue
		}
		lo, hi = math.Min(lo, v), math.Max(hi, v)
	}
	if math.IsInf(lo, 0) {
		lo, hi = 1, 10
	}
	if logScale {
		// A little room around the data; ticks at 1, 2 and 5 of each decade inside it (only the
		// decades when the range is wide).
		a.lo, a.hi = math.Log10(lo)-0.08, math.Log10(hi)+0.08
		if a.hi-a.lo < 1 {
			mid := (a.hi + a.lo) / 2
			a.lo, a.hi = mid-0.5, mid+0.5
		}
		steps := []float64{1, 2, 5}
		if a.hi-a.lo > 3 {
			steps = []float64{1}
		}
		for e := math.Floor(a.lo); e <= math.Ceil(a.hi); e++ {
			for _, m := range steps {
				if t := m * math.Pow(10, e); math.Log10(t) >= a.lo && math.Log10(t) <= a.hi {
					a.ticks = append(a.ticks, t)
				}
			}
		}
		return a
	}
	lo = math.Min(lo, 0)
	if hi <= lo {
		hi = lo + 1
	}
	step := niceStep((hi - lo) / 5)
	a.lo, a.hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	for t := a.lo; t <= a.hi+step/2; t += step {
		a.ticks = append(a.ticks, t)
	}
	return a
}

func niceStep(raw float64) float64 {
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5, 10} {
		if raw <= m*mag {
			return m * mag
		}
	}
	return 10 * mag
}

func (a axis) ok(v float64) bool { return !a.log || v > 0 }

func (a axis) pos(v float64) float64 {
	if a.log {
		v = math.Log10(v)
	}
	return (v - a.lo) / (a.hi - a.lo) * a.length
}

// Compact prints a number for a tick or a table: 950, 12k, 1.5M, 0.25.
func Compact(v float64) string {
	av := math.Abs(v)
	switch {
	case av >= 1e6:
		return trimZeros(fmt.Sprintf("%.1f", v/1e6)) + "M"
	case av >= 1e3:
		return trimZeros(fmt.Sprintf("%.1f", v/1e3)) + "k"
	case av >= 1 || av == 0:
		return trimZeros(fmt.Sprintf("%.1f", v))
	}
	return fmt.Sprintf("%.2g", v)
}

// Seconds prints a tick in seconds.
func Seconds(v float64) string { return Compact(v) + " s" }

func trimZeros(s string) string {
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s
}

func esc(s string) string { return html.EscapeString(s) }
