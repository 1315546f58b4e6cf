package web

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/robo-backup/robo/internal/safetext"
)

// Charts of a set's history, rendered on the server as inline SVG: no
// script, no library, nothing fetched. Every run in the window is one
// mark (class "point") in each chart, placed by its start time; the marks
// carry a <title> (date, value) and each chart a <title>/<desc> for
// screen readers (role="img"). Colours come from style.css classes, so
// the dark theme applies and the page's CSP needs no inline style.

// chart is one rendered chart.
type chart struct {
	ID     string // element id: chart-outcome, chart-duration, chart-files, chart-bytes
	Title  string
	SVG    template.HTML
	Points int
}

// Chart geometry (SVG user units; the SVG scales to its box).
const (
	chartW      = 480
	chartH      = 190
	chartOutH   = 160
	chartLeft   = 62
	chartRight  = 14
	chartTop    = 12
	chartBottom = 30
)

// DefaultHistoryDays is the window of the history charts, unless the page
// asks for another (?days=N, 1 to MaxHistoryDays).
const (
	DefaultHistoryDays = 28
	MaxHistoryDays     = 366
)

// historyDays reads ?days=, falling back to the default for anything that
// is not a whole number of days in range.
func historyDays(v string) int {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > MaxHistoryDays {
		return DefaultHistoryDays
	}
	return n
}

// historyWindow is a choice of chart window on the history page.
type historyWindow struct {
	Days  int
	Label string
}

func historyWindows() []historyWindow {
	return []historyWindow{{7, "7 days"}, {DefaultHistoryDays, "4 weeks"}, {90, "90 days"}, {365, "1 year"}}
}

// metric is what a value chart plots.
type metric struct {
	id, title string
	value     func(RunView) float64
	// axis picks the tick step and labels for values up to max.
	axis func(max float64) (step float64, label func(float64) string)
	// point labels one run's value.
	point func(RunView) string
}

// runCharts renders the outcome, duration, files and bytes charts of runs
// started in [from, to].
func runCharts(runs []RunView, from, to time.Time) []chart {
	var in []RunView
	for _, r := range runs {
		if !r.Started.Before(from) && !r.Started.After(to) {
			in = append(in, r)
		}
	}
	sort.SliceStable(in, func(i, j int) bool { return in[i].Started.Before(in[j].Started) })
	days := int(math.Round(to.Sub(from).Hours() / 24))
	span := fmt.Sprintf("last %d days", days)
	if days == 1 {
		span = "last day"
	}
	metrics := []metric{
		{id: "chart-duration", title: "Duration per run",
			value: func(r RunView) float64 { return r.Duration.Seconds() },
			axis:  durationAxis,
			point: func(r RunView) string { return durText(r.Duration) }},
		{id: "chart-files", title: "Files copied per run",
			value: func(r RunView) float64 { return float64(r.FilesCopied) },
			axis:  countAxis,
			point: func(r RunView) string { return strconv.FormatInt(r.FilesCopied, 10) + " files" }},
		{id: "chart-bytes", title: "Bytes copied per run",
			value: func(r RunView) float64 { return float64(r.BytesCopied) },
			axis:  bytesAxis,
			point: func(r RunView) string { return iecBytes(r.BytesCopied) }},
	}
	out := []chart{outcomeChart(in, from, to, span)}
	for _, m := range metrics {
		out = append(out, valueChart(m, in, from, to, span))
	}
	return out
}

// frame maps times and values to the plot area.
type frame struct {
	from, to   time.Time
	h          float64 // total height
	yMax       float64
	left, top  float64
	width, hgt float64 // plot area
}

func newFrame(from, to time.Time, h, yMax float64) frame {
	return frame{from: from, to: to, h: h, yMax: yMax, left: chartLeft, top: chartTop,
		width: chartW - chartLeft - chartRight, hgt: h - chartTop - chartBottom}
}

func (f frame) x(t time.Time) float64 {
	span := f.to.Sub(f.from)
	if span <= 0 {
		return f.left
	}
	return f.left + f.width*float64(t.Sub(f.from))/float64(span)
}

func (f frame) y(v float64) float64 {
	if f.yMax <= 0 {
		return f.top + f.hgt
	}
	return f.top + f.hgt - f.hgt*v/f.yMax
}

// svgStart opens an accessible SVG: role img, labelled by its title and
// described by desc.
func svgStart(b *strings.Builder, id string, h int, title, desc string) {
	fmt.Fprintf(b, `<svg class="chart" id="%s-svg" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title %s-desc" xmlns="http://www.w3.org/2000/svg">`,
		id, chartW, h, id, id)
	fmt.Fprintf(b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, id, esc(title), id, esc(desc))
}

// xAxis draws the time axis: a tick and date label per day or per week
// (local midnights), depending on the window.
func xAxis(b *strings.Builder, f frame) {
	base := f.top + f.hgt
	fmt.Fprintf(b, `<line class="axis" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(f.left), num(base), num(f.left+f.width), num(base))
	days := f.to.Sub(f.from).Hours() / 24
	step := 1
	switch {
	case days > 120:
		step = 28
	case days > 35:
		step = 14
	case days > 8:
		step = 7
	}
	from := f.from.Local()
	t := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, from.Location())
	if t.Before(from) {
		t = t.AddDate(0, 0, 1)
	}
	// Weekly ticks fall on Mondays, so that they read as weeks.
	if step >= 7 {
		for t.Weekday() != time.Monday {
			t = t.AddDate(0, 0, 1)
		}
	}
	b.WriteString(`<g class="ticks x">`)
	for ; !t.After(f.to); t = t.AddDate(0, 0, step) {
		x := f.x(t)
		fmt.Fprintf(b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(x), num(f.top), num(x), num(base+4))
		if x < f.left+f.width-14 {
			fmt.Fprintf(b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, num(x), num(base+17), t.Format("Jan 2"))
		}
	}
	b.WriteString(`</g>`)
}

// valueChart plots one value per run: points joined by a line, over a
// y axis from 0 with round steps in the metric's unit.
func valueChart(m metric, runs []RunView, from, to time.Time, span string) chart {
	max := 0.0
	for _, r := range runs {
		max = math.Max(max, m.value(r))
	}
	step, label := m.axis(max)
	top := step * math.Max(1, math.Ceil(max/step))
	f := newFrame(from, to, chartH, top)
	var b strings.Builder
	title := m.title + ", " + span
	desc := fmt.Sprintf("No runs in the %s.", span)
	if n := len(runs); n > 0 {
		minV, last := math.Inf(1), runs[n-1]
		for _, r := range runs {
			minV = math.Min(minV, m.value(r))
		}
		desc = fmt.Sprintf("%d runs from %s to %s; lowest %s, highest %s, latest %s (%s).", n,
			runs[0].Started.Local().Format("2006-01-02"), last.Started.Local().Format("2006-01-02"),
			label(minV), label(max), m.point(last), last.Started.Local().Format("2006-01-02 15:04"))
	}
	svgStart(&b, m.id, chartH, title, desc)
	b.WriteString(`<g class="ticks y">`)
	for v := 0.0; v <= top+step/2; v += step {
		y := f.y(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(f.left-4), num(y), num(f.left+f.width), num(y))
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s</text>`, num(f.left-7), num(y+4), esc(label(v)))
	}
	b.WriteString(`</g>`)
	xAxis(&b, f)
	if len(runs) == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%s" y="%s" text-anchor="middle">No runs in the %s</text>`, num(f.left+f.width/2), num(f.top+f.hgt/2), esc(span))
	}
	if len(runs) > 1 {
		b.WriteString(`<polyline class="trend" points="`)
		for i, r := range runs {
			if i > 0 {
				b.WriteByte(' ')
			}
			fmt.Fprintf(&b, "%s,%s", num(f.x(r.Started)), num(f.y(m.value(r))))
		}
		b.WriteString(`"/>`)
	}
	b.WriteString(`<g class="points">`)
	for _, r := range runs {
		fmt.Fprintf(&b, `<circle class="point %s" cx="%s" cy="%s" r="3.5"><title>%s · %s · %s</title></circle>`,
			outcomeClass(r.Outcome), num(f.x(r.Started)), num(f.y(m.value(r))),
			r.Started.Local().Format("2006-01-02 15:04"), esc(m.point(r)), esc(outcomeWord(r.Outcome)))
	}
	b.WriteString(`</g></svg>`)
	return chart{ID: m.id, Title: title, SVG: template.HTML(b.String()), Points: len(runs)}
}

// outcomeChart puts each run in one of three lanes (success, failed,
// other), so that the outcome reads without colour too.
func outcomeChart(runs []RunView, from, to time.Time, span string) chart {
	const id = "chart-outcome"
	lanes := []string{"success", "failed", "other"}
	f := newFrame(from, to, chartOutH, float64(len(lanes)))
	counts := map[string]int{}
	for _, r := range runs {
		counts[outcomeClass(r.Outcome)]++
	}
	title := "Outcome per run, " + span
	desc := fmt.Sprintf("No runs in the %s.", span)
	if len(runs) > 0 {
		desc = fmt.Sprintf("%d runs: %d succeeded, %d failed, %d other (interrupted or unknown).", len(runs), counts["success"], counts["failed"], counts["other"])
		last := runs[len(runs)-1]
		desc += fmt.Sprintf(" Latest: %s on %s.", outcomeWord(last.Outcome), last.Started.Local().Format("2006-01-02 15:04"))
	}
	var b strings.Builder
	svgStart(&b, id, chartOutH, title, desc)
	laneY := func(i int) float64 { return f.top + f.hgt*(float64(i)+0.5)/float64(len(lanes)) }
	b.WriteString(`<g class="ticks y">`)
	for i, l := range lanes {
		y := laneY(i)
		fmt.Fprintf(&b, `<line class="grid lane" x1="%s" y1="%s" x2="%s" y2="%s"/>`, num(f.left), num(y), num(f.left+f.width), num(y))
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s</text>`, num(f.left-7), num(y+4), l)
	}
	b.WriteString(`</g>`)
	xAxis(&b, f)
	if len(runs) == 0 {
		fmt.Fprintf(&b, `<text class="empty" x="%s" y="%s" text-anchor="middle">No runs in the %s</text>`, num(f.left+f.width/2), num(f.top+f.hgt/2-6), esc(span))
	}
	b.WriteString(`<g class="points">`)
	for _, r := range runs {
		c := outcomeClass(r.Outcome)
		lane := 2
		if c == "success" {
			lane = 0
		} else if c == "failed" {
			lane = 1
		}
		fmt.Fprintf(&b, `<rect class="point %s" x="%s" y="%s" width="5" height="18" rx="1.5"><title>%s · %s</title></rect>`,
			c, num(f.x(r.Started)-2.5), num(laneY(lane)-9), r.Started.Local().Format("2006-01-02 15:04"), esc(outcomeWord(r.Outcome)))
	}
	b.WriteString(`</g></svg>`)
	return chart{ID: id, Title: title, SVG: template.HTML(b.String()), Points: len(runs)}
}

// outcomeClass maps an outcome to one of the CSS classes success, failed
// or other (outcomes are data: never used as a class name as they are).
func outcomeClass(o string) string {
	switch o {
	case "success":
		return "success"
	case "failed", "failure", "error":
		return "failed"
	}
	return "other"
}

// outcomeWord is the outcome for a label, escaped when it is not a plain word.
func outcomeWord(o string) string {
	if o == "" {
		return "unknown"
	}
	return safetext.Line(o)
}

// niceStep is a round step (1, 2, 2.5 or 5 times a power of ten) that
// splits max into about n intervals.
func niceStep(max float64, n int) float64 {
	if max <= 0 || math.IsInf(max, 0) || math.IsNaN(max) {
		return 1
	}
	raw := max / float64(n)
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 2.5, 5} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

// trimNum prints v with at most two decimals and no trailing zeros.
func trimNum(v float64) string {
	s := strconv.FormatFloat(v, 'f', 2, 64)
	s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	if s == "-0" {
		s = "0"
	}
	return s
}

// countAxis: whole numbers.
func countAxis(max float64) (float64, func(float64) string) {
	return math.Max(1, math.Ceil(niceStep(max, 4))), func(v float64) string { return trimNum(v) }
}

// durationAxis: seconds, minutes or hours, by the longest run.
func durationAxis(max float64) (float64, func(float64) string) {
	unit, name := 1.0, "s"
	switch {
	case max >= 2*3600:
		unit, name = 3600, "h"
	case max >= 120:
		unit, name = 60, "min"
	}
	step := niceStep(max/unit, 4)
	if max <= 0 {
		step = 1
	}
	return step * unit, func(v float64) string {
		if v == 0 {
			return "0"
		}
		return trimNum(v/unit) + " " + name
	}
}

// bytesAxis: binary (IEC) units, the largest that the biggest run reaches.
func bytesAxis(max float64) (float64, func(float64) string) {
	unit, k := 1.0, 0
	for k < 5 && max >= unit*1024 {
		unit *= 1024
		k++
	}
	name := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}[k]
	step := niceStep(max/unit, 4)
	if k == 0 {
		step = math.Max(1, math.Ceil(step))
	}
	return step * unit, func(v float64) string {
		if v == 0 {
			return "0"
		}
		return trimNum(v/unit) + " " + name
	}
}

// iecBytes is n in binary units (1.5 MiB), as the rest of robo prints.
func iecBytes(n int64) string {
	if n < 1024 {
		return strconv.FormatInt(n, 10) + " B"
	}
	v, k := float64(n), 0
	for v >= 1024 && k < 5 {
		v /= 1024
		k++
	}
	return trimNum(math.Round(v*10)/10) + " " + []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}[k]
}

// durText is a duration for a label (1m20s, 850ms).
func durText(d time.Duration) string {
	switch {
	case d <= 0:
		return "0s"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// num prints a coordinate with one decimal.
func num(v float64) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "0"
	}
	return strconv.FormatFloat(math.Round(v*10)/10, 'f', -1, 64)
}

// esc escapes text for an SVG text node or attribute.
func esc(s string) string { return template.HTMLEscapeString(s) }
