package trainlog

import (
	"bytes"
	"fmt"
	"html"
	"math"
	"strconv"
	"strings"
	"time"
)

// This file renders the HTML report: one self-contained page (inline CSS
// and SVG, no script, nothing fetched) with the model summary, the curves
// logged by Step drawn as SVG paths with labelled axes, throughput and the
// final metrics.

// plotSpec describes one plot of the report.
type plotSpec struct {
	id, title, ylabel, color string
	series                   int  // index into Log.series
	unit                     bool // values are fractions: show 0..1 when they fit
	always                   bool // draw the frame even without data
}

var plots = []plotSpec{
	{id: "loss", title: "Loss", ylabel: "loss", color: "#1f77b4", series: 0, always: true},
	{id: "accuracy", title: "Accuracy", ylabel: "accuracy", color: "#d62728", series: 1, unit: true, always: true},
	{id: "examples_per_sec", title: "Throughput", ylabel: "examples/s", color: "#2ca02c", series: 3},
	{id: "learning_rate", title: "Learning rate", ylabel: "learning rate", color: "#9467bd", series: 2},
}

const reportCSS = `
:root{color-scheme:light}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;margin:24px auto;max-width:1160px;padding:0 16px;color:#1d2330;background:#fff}
h1{font-size:22px;margin:0 0 2px}
h2{font-size:16px;margin:0 0 8px}
.sub{color:#5b6475;margin:0 0 18px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(340px,1fr));gap:16px;margin-bottom:18px}
.card{border:1px solid #dde2ea;border-radius:8px;padding:12px 16px}
table{border-collapse:collapse;width:100%}
th{text-align:left;font-weight:500;color:#5b6475;padding:3px 12px 3px 0;white-space:nowrap;vertical-align:top}
td{padding:3px 0;font-variant-numeric:tabular-nums;word-break:break-all}
code{font:12.5px ui-monospace,"DejaVu Sans Mono",monospace}
.plots{display:grid;grid-template-columns:repeat(auto-fit,minmax(540px,1fr));gap:16px}
figure{margin:0;border:1px solid #dde2ea;border-radius:8px;padding:8px 8px 4px}
figcaption{font-weight:600;margin:0 0 2px 6px}
figcaption span{font-weight:400;color:#5b6475}
svg{display:block;width:100%;height:auto}
svg text{font:11px system-ui,"DejaVu Sans",sans-serif;fill:#4a5263}
svg .axis{stroke:#4a5263;stroke-width:1;fill:none}
svg .grid{stroke:#e6e9ef;stroke-width:1;fill:none}
svg .line{fill:none;stroke-width:1.75;stroke-linejoin:round;stroke-linecap:round}
svg .empty{font-size:13px;fill:#8a93a3}
.note{color:#8a93a3;font-size:12px;margin:2px 6px}
`

// lossUnit says what the logged losses are: "per example", or "per
// batch of B".
func (l *Log) lossUnit() string {
	switch {
	case l.run.LossPerExample:
		return "per example"
	case l.run.Batch > 0:
		return fmt.Sprintf("per batch of %d", l.run.Batch)
	}
	return "per batch"
}

// report renders the page for the run and f.
func (l *Log) report(f Final) []byte {
	var b bytes.Buffer
	sig := l.run.Signature
	name := "model"
	if sig != nil && sig.Model != "" {
		name = sig.Model
	}
	fmt.Fprintf(&b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>Training report: %s</title>\n<style>%s</style>\n</head>\n<body>\n", esc(name), reportCSS)
	fmt.Fprintf(&b, "<h1>Training report: %s</h1>\n<p class=\"sub\">", esc(name))
	if sig != nil && sig.Source != "" {
		fmt.Fprintf(&b, "<code>%s</code> · ", esc(sig.Source))
	}
	fmt.Fprintf(&b, "started %s</p>\n", esc(l.start.UTC().Format("2006-01-02 15:04:05 UTC")))

	// Model summary and final metrics.
	b.WriteString("<section class=\"cards\">\n<div class=\"card\" id=\"model\"><h2>Model</h2><table>\n")
	row := func(k, v string) { fmt.Fprintf(&b, "<tr><th>%s</th><td>%s</td></tr>\n", esc(k), v) }
	row("Name", esc(name))
	if sig != nil {
		row("Parameters", fmt.Sprintf("%s <span class=\"sub\">in %d tensors</span>", esc(thousands(int64(sig.ParamCount))), len(sig.Params)))
		row("Optimizer", code(orDash(sig.Optimizer)))
		if sig.Loss != "" {
			row("Loss", code(sig.Loss))
		}
		var ins []string
		for _, in := range sig.Inputs {
			ins = append(ins, in.Name+": "+in.String())
		}
		if len(ins) > 0 {
			row("Inputs", code(strings.Join(ins, ", ")))
		}
		if len(sig.Graph) > 0 {
			row("Graph", fmt.Sprintf("%d nodes", len(sig.Graph)))
		}
	}
	row("Batch size", esc(intOrDash(l.run.Batch)))
	row("Steps planned", esc(intOrDash(l.run.Steps)))
	if l.run.Resumed > 0 {
		row("Resumed from step", esc(strconv.Itoa(l.run.Resumed)))
		if l.history > 0 {
			row("Earlier steps", esc(fmt.Sprintf("%d logged steps before step %d, read from earlier event files", l.history, l.run.Resumed)))
		}
	}
	b.WriteString("</table></div>\n<div class=\"card\" id=\"final\"><h2>Final metrics</h2><table>\n")
	unit := l.lossUnit()
	row("Final loss "+unit, esc(num(f.FinalLoss)))
	acc := "—"
	if finite(f.TestAccuracy) {
		acc = strconv.FormatFloat(100*f.TestAccuracy, 'f', 2, 64) + "%"
	}
	row("Test accuracy", esc(acc))
	row("Steps", esc(strconv.Itoa(f.Steps)))
	row("Training time", esc(f.Duration.Round(time.Millisecond).String()))
	if done := f.Steps - l.run.Resumed; l.run.Batch > 0 && done > 0 && f.Duration > 0 {
		eps := f.ExamplesPerSec
		if eps <= 0 {
			eps = float64(done) * float64(l.run.Batch) / f.Duration.Seconds()
		}
		row("Throughput", esc(fmt.Sprintf("%s examples/s overall (%d steps × %d examples in %s)", num(eps), done, l.run.Batch, f.Duration.Round(time.Millisecond))))
	}
	if m := l.series[3].mean(); finite(m) {
		row("Mean logged throughput", esc(num(m)+" examples/s"))
	}
	if s := &l.series[0]; s.count > 0 {
		row("Lowest logged loss "+unit, esc(fmt.Sprintf("%s (%d values logged)", num(s.min), s.count)))
	}
	if s := &l.series[1]; s.count > 0 {
		row("Best logged accuracy", esc(strconv.FormatFloat(100*s.max, 'f', 2, 64)+"%"))
	}
	row("Checkpoint", code(orDash(f.Checkpoint)))
	b.WriteString("</table></div>\n</section>\n")

	// Plots.
	b.WriteString("<section class=\"plots\">\n")
	for _, p := range plots {
		if p.id == "loss" {
			p.title += " " + unit
			p.ylabel += " " + unit
		}
		s := &l.series[p.series]
		if s.count == 0 && s.nonFinite == 0 && !p.always {
			continue
		}
		fmt.Fprintf(&b, "<figure id=\"plot-%s\"><figcaption>%s", p.id, esc(p.title))
		if s.count > 0 {
			fmt.Fprintf(&b, " <span>last %s at step %d</span>", esc(num(s.last)), s.lastStep)
		}
		b.WriteString("</figcaption>\n")
		writePlot(&b, p, s)
		if s.nonFinite > 0 {
			fmt.Fprintf(&b, "<p class=\"note\">%d non-finite values not drawn</p>\n", s.nonFinite)
		}
		if s.width > 1 || len(s.buckets) > maxPlotPoints {
			b.WriteString("<p class=\"note\">Line: mean of each interval of steps; band: its range.</p>\n")
		}
		b.WriteString("</figure>\n")
	}
	b.WriteString("</section>\n</body>\n</html>\n")
	return b.Bytes()
}

// Plot geometry, in SVG user units.
const (
	plotW, plotH                       = 560, 300
	marginL, marginR, marginT, marginB = 64, 18, 14, 42
)

// writePlot draws series s as an SVG line plot with axes, ticks, grid
// lines and labels.
func writePlot(b *bytes.Buffer, p plotSpec, s *series) {
	fmt.Fprintf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"%s over steps\">\n", plotW, plotH, plotW, plotH, esc(p.title))
	x0, x1 := float64(marginL), float64(plotW-marginR)
	y0, y1 := float64(plotH-marginB), float64(marginT) // y grows downwards
	pts := s.points(maxPlotPoints)
	if len(pts) == 0 {
		fmt.Fprintf(b, "<path class=\"axis\" d=\"M%g %gV%gH%g\"/>\n", x0, y1, y0, x1)
		fmt.Fprintf(b, "<text class=\"empty\" x=\"%g\" y=\"%g\" text-anchor=\"middle\">no values logged</text>\n</svg>\n", (x0+x1)/2, (y0+y1)/2)
		return
	}
	xlo, xhi := pts[0].x, pts[len(pts)-1].x
	ylo, yhi := math.Inf(1), math.Inf(-1)
	for _, q := range pts {
		ylo, yhi = math.Min(ylo, q.lo), math.Max(yhi, q.hi)
	}
	if p.unit && ylo >= 0 && yhi <= 1 {
		ylo, yhi = 0, 1
	}
	xt, xlo, xhi := ticks(xlo, xhi, 6, true)
	yt, ylo, yhi := ticks(ylo, yhi, 5, false)
	// Halving first keeps the differences finite for any finite values.
	sx := func(v float64) float64 { return x0 + (v/2-xlo/2)/(xhi/2-xlo/2)*(x1-x0) }
	sy := func(v float64) float64 { return y0 + (v/2-ylo/2)/(yhi/2-ylo/2)*(y1-y0) }

	// Grid and tick labels.
	var grid []byte
	for _, t := range yt.values {
		grid = fmt.Appendf(grid, "M%s %sH%s", c(x0), c(sy(t)), c(x1))
		fmt.Fprintf(b, "<text x=\"%s\" y=\"%s\" text-anchor=\"end\" dominant-baseline=\"middle\">%s</text>\n", c(x0-6), c(sy(t)), esc(yt.label(t)))
	}
	for _, t := range xt.values {
		grid = fmt.Appendf(grid, "M%s %sV%s", c(sx(t)), c(y0), c(y1))
		fmt.Fprintf(b, "<text x=\"%s\" y=\"%s\" text-anchor=\"middle\">%s</text>\n", c(sx(t)), c(y0+16), esc(xt.label(t)))
	}
	fmt.Fprintf(b, "<path class=\"grid\" d=\"%s\"/>\n", grid)
	// Axes with tick marks.
	axis := fmt.Appendf(nil, "M%s %sV%sH%s", c(x0), c(y1), c(y0), c(x1))
	for _, t := range yt.values {
		axis = fmt.Appendf(axis, "M%s %sh-4", c(x0), c(sy(t)))
	}
	for _, t := range xt.values {
		axis = fmt.Appendf(axis, "M%s %sv4", c(sx(t)), c(y0))
	}
	fmt.Fprintf(b, "<path class=\"axis\" d=\"%s\"/>\n", axis)
	fmt.Fprintf(b, "<text x=\"%s\" y=\"%d\" text-anchor=\"middle\">step</text>\n", c((x0+x1)/2), plotH-6)
	fmt.Fprintf(b, "<text transform=\"translate(14 %s) rotate(-90)\" text-anchor=\"middle\">%s</text>\n", c((y0+y1)/2), esc(p.ylabel))

	// Range band where points aggregate several values.
	banded := false
	for _, q := range pts {
		if q.hi > q.lo {
			banded = true
			break
		}
	}
	if banded && len(pts) > 1 {
		var d []byte
		for i, q := range pts {
			d = fmt.Appendf(d, "%c%s %s", "ML"[min(i, 1)], c(sx(q.x)), c(sy(q.hi)))
		}
		for i := len(pts) - 1; i >= 0; i-- {
			d = fmt.Appendf(d, "L%s %s", c(sx(pts[i].x)), c(sy(pts[i].lo)))
		}
		fmt.Fprintf(b, "<path class=\"band\" d=\"%sZ\" fill=\"%s\" fill-opacity=\"0.15\" stroke=\"none\"/>\n", d, p.color)
	}
	// The line itself; a single point is drawn as a dot.
	var d []byte
	for i, q := range pts {
		d = fmt.Appendf(d, "%c%s %s", "ML"[min(i, 1)], c(sx(q.x)), c(sy(q.y)))
	}
	if len(pts) == 1 {
		d = append(d, "h0.01"...)
	}
	fmt.Fprintf(b, "<path class=\"line\" id=\"line-%s\" d=\"%s\" stroke=\"%s\"/>\n", p.id, d, p.color)
	if len(pts) <= 60 {
		for _, q := range pts {
			fmt.Fprintf(b, "<circle cx=\"%s\" cy=\"%s\" r=\"2.75\" fill=\"%s\"/>\n", c(sx(q.x)), c(sy(q.y)), p.color)
		}
	}
	b.WriteString("</svg>\n")
}

// tickSet is the tick values of an axis and how to label them.
type tickSet struct {
	values   []float64
	decimals int
	sci      bool
}

func (t tickSet) label(v float64) string {
	if v == 0 {
		return "0"
	}
	if t.sci {
		return strconv.FormatFloat(v, 'g', 3, 64)
	}
	return strconv.FormatFloat(v, 'f', t.decimals, 64)
}

// ticks chooses about n "nice" tick values (1, 2 or 5 times a power of
// ten apart) covering [lo, hi] and returns them with the axis range
// widened to the outer ticks. integer restricts the spacing to whole
// numbers (for steps).
func ticks(lo, hi float64, n int, integer bool) (tickSet, float64, float64) {
	if hi < lo {
		lo, hi = hi, lo
	}
	if hi == lo {
		pad := math.Abs(lo) * 0.1
		if pad == 0 || integer {
			pad = 1
		}
		lo, hi = math.Max(lo-pad, -math.MaxFloat64), math.Min(hi+pad, math.MaxFloat64)
	}
	// hi/n - lo/n cannot overflow where (hi - lo)/n can.
	step := niceStep(hi/float64(n) - lo/float64(n))
	if integer && step < 1 {
		step = 1
	}
	start, end := math.Floor(lo/step), math.Ceil(hi/step)
	var ts tickSet
	for i := 0.0; start+i <= end && i <= 4*float64(n); i++ {
		if v := (start + i) * step; !math.IsInf(v, 0) {
			ts.values = append(ts.values, v)
		}
	}
	if e := math.Floor(math.Log10(step)); e < 0 {
		ts.decimals = int(-e)
	}
	axLo, axHi := start*step, end*step
	if math.IsInf(axLo, 0) {
		axLo = lo
	}
	if math.IsInf(axHi, 0) {
		axHi = hi
	}
	ts.sci = math.Max(math.Abs(axLo), math.Abs(axHi)) >= 1e6 || ts.decimals > 4
	return ts, axLo, axHi
}

// niceStep rounds x > 0 up to 1, 2 or 5 times a power of ten.
func niceStep(x float64) float64 {
	if !(x > 0) || math.IsInf(x, 0) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	switch f := x / p; {
	case f <= 1:
		return p
	case f <= 2:
		return 2 * p
	case f <= 5:
		return 5 * p
	}
	return 10 * p
}

// c formats an SVG coordinate with at most two decimals.
func c(v float64) string {
	return strconv.FormatFloat(math.Round(v*100)/100, 'f', -1, 64)
}

// num formats a metric for people: four significant digits, "—" when it
// is NaN.
func num(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	case v != 0 && (math.Abs(v) >= 1e6 || math.Abs(v) < 1e-3):
		return strconv.FormatFloat(v, 'e', 3, 64)
	case math.Abs(v) >= 1000:
		return thousands(int64(math.Round(v)))
	}
	return strconv.FormatFloat(v, 'g', 4, 64)
}

// thousands formats n with commas between groups of three digits.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func esc(s string) string { return html.EscapeString(s) }

func code(s string) string { return "<code>" + esc(s) + "</code>" }

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func intOrDash(n int) string {
	if n <= 0 {
		return "—"
	}
	return strconv.Itoa(n)
}
