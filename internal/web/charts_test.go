package web

import (
	"encoding/xml"
	"io"
	"regexp"
	"strings"
	"testing"
	"time"
)

// svgChart is what a test reads back from one rendered chart.
type svgChart struct {
	ID     string
	Title  string
	Desc   string
	Points int
	Ticks  []string // the y axis labels, bottom up
	Labels []string // every text element
}

// parseCharts extracts every <svg> of an HTML page and parses it as XML
// (the charts must be well-formed SVG, not just HTML that browsers
// forgive).
func parseCharts(t *testing.T, html string) map[string]svgChart {
	t.Helper()
	out := map[string]svgChart{}
	for _, raw := range regexp.MustCompile(`(?s)<svg .*?</svg>`).FindAllString(html, -1) {
		dec := xml.NewDecoder(strings.NewReader(raw))
		var c svgChart
		var stack []string // class of each open element
		var text strings.Builder
		inText, inTitle, inDesc := false, false, false
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("a chart is not well-formed SVG: %v\n%s", err, raw)
			}
			switch e := tok.(type) {
			case xml.StartElement:
				class := ""
				for _, a := range e.Attr {
					switch {
					case a.Name.Local == "class":
						class = a.Value
					case a.Name.Local == "id" && e.Name.Local == "svg":
						c.ID = strings.TrimSuffix(a.Value, "-svg")
					}
				}
				if strings.Contains(" "+class+" ", " point ") {
					c.Points++
				}
				stack = append(stack, class)
				text.Reset()
				inText = e.Name.Local == "text"
				inTitle = e.Name.Local == "title" && len(stack) == 2
				inDesc = e.Name.Local == "desc"
			case xml.CharData:
				text.Write(e)
			case xml.EndElement:
				parent := ""
				if len(stack) >= 2 {
					parent = stack[len(stack)-2]
				}
				switch {
				case inText:
					c.Labels = append(c.Labels, text.String())
					if parent == "ticks y" {
						c.Ticks = append(c.Ticks, text.String())
					}
				case inTitle:
					c.Title = text.String()
				case inDesc:
					c.Desc = text.String()
				}
				inText, inTitle, inDesc = false, false, false
				stack = stack[:len(stack)-1]
			}
		}
		out[c.ID] = c
	}
	return out
}

// TestHistoryCharts: the set page of a seeded history (runs recorded as
// robo watch records them, run logs written by the native engine's log
// writer) has the four charts, each with one point per run in its window,
// an accessible title and description, and y axes in the right units.
func TestHistoryCharts(t *testing.T) {
	s, runs := demoServer(t)
	c := &client{t: t, base: serve(t, s)}
	for _, tc := range []struct {
		query string
		want  int
	}{{"", 28}, {"?days=7", 7}, {"?days=90", demoDocsRuns}, {"?days=junk", 28}} {
		code, body := c.do("GET", "/sets/documents"+tc.query, "", nil, nil)
		if code != 200 {
			t.Fatalf("%s: %d", tc.query, code)
		}
		charts := parseCharts(t, body)
		for _, id := range []string{"chart-outcome", "chart-duration", "chart-files", "chart-bytes"} {
			ch, ok := charts[id]
			if !ok {
				t.Fatalf("%s: no %s in the page", tc.query, id)
			}
			if ch.Points != tc.want {
				t.Errorf("%s: %s has %d points, want %d", tc.query, id, ch.Points, tc.want)
			}
			if ch.Title == "" || !strings.Contains(ch.Desc, "runs") {
				t.Errorf("%s: %s has title %q, desc %q", tc.query, id, ch.Title, ch.Desc)
			}
		}
	}
	_, body := c.do("GET", "/sets/documents", "", nil, nil)
	charts := parseCharts(t, body)
	if d := charts["chart-outcome"].Desc; !strings.Contains(d, "28 runs: 27 succeeded, 1 failed") {
		t.Errorf("outcome description: %q", d)
	}
	if d := charts["chart-duration"].Desc; !strings.Contains(d, "28 runs from 2026-10-30 to 2026-11-26") {
		t.Errorf("duration description: %q", d)
	}
	// Bytes: the largest run is 1.5 GiB, so the axis is in GiB, from 0.
	b := charts["chart-bytes"].Ticks
	if len(b) < 3 || b[0] != "0" || !strings.HasSuffix(b[len(b)-1], " GiB") {
		t.Errorf("bytes axis: %q", b)
	}
	// Durations of 4-5 minutes: minutes.
	if d := charts["chart-duration"].Ticks; len(d) < 3 || !strings.HasSuffix(d[len(d)-1], " min") {
		t.Errorf("duration axis: %q", d)
	}
	// The x axis has weekly dates.
	if l := strings.Join(charts["chart-files"].Labels, "|"); !strings.Contains(l, "Nov 2") || !strings.Contains(l, "Nov 23") {
		t.Errorf("time axis labels: %q", l)
	}
	// A set with no runs: empty charts that say so.
	_, body = c.do("GET", "/sets/scratch", "", nil, nil)
	for id, ch := range parseCharts(t, body) {
		if ch.Points != 0 || !strings.Contains(ch.Desc, "No runs") {
			t.Errorf("scratch %s: %d points, %q", id, ch.Points, ch.Desc)
		}
	}
	if len(runs["documents"]) != demoDocsRuns {
		t.Fatalf("seeded %d runs", len(runs["documents"]))
	}
}

func TestAxes(t *testing.T) {
	for _, tc := range []struct {
		axis func(float64) (float64, func(float64) string)
		max  float64
		step float64
		top  string
	}{
		{bytesAxis, 1.5 * (1 << 30), 0.5 * (1 << 30), "0.5 GiB"},
		{bytesAxis, 900, 250, "250 B"},
		{bytesAxis, 0, 1, "1 B"},
		{bytesAxis, 3 * (1 << 20), 1 << 20, "1 MiB"},
		{durationAxis, 90, 25, "25 s"},
		{durationAxis, 300, 120, "2 min"},
		{durationAxis, 3 * 3600, 3600, "1 h"},
		{countAxis, 7, 2, "2"},
		{countAxis, 0, 1, "1"},
	} {
		step, label := tc.axis(tc.max)
		if step != tc.step || label(step) != tc.top {
			t.Errorf("max %v: step %v label %q, want %v %q", tc.max, step, label(step), tc.step, tc.top)
		}
	}
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1 KiB", 1536 << 20: "1.5 GiB", 5 << 40: "5 TiB"} {
		if got := iecBytes(n); got != want {
			t.Errorf("iecBytes(%d) = %q, want %q", n, got, want)
		}
	}
}

// TestChartsEscape: an outcome that is hostile text cannot leave the SVG
// or become a class.
func TestChartsEscape(t *testing.T) {
	now := time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)
	runs := []RunView{{Set: "x", Started: now.Add(-time.Hour), Outcome: `</svg><script>alert(1)</script>` + "\x1b[2J"}}
	for _, c := range runCharts(runs, now.Add(-24*time.Hour), now) {
		s := string(c.SVG)
		if strings.Contains(s, "<script") || strings.Contains(s, "\x1b") {
			t.Errorf("%s holds the raw outcome: %s", c.ID, s)
		}
		if c.Points != 1 {
			t.Errorf("%s: %d points", c.ID, c.Points)
		}
	}
	page := `<p>` + string(runCharts(runs, now.Add(-24*time.Hour), now)[0].SVG) + `</p>`
	if got := parseCharts(t, page)["chart-outcome"].Points; got != 1 {
		t.Errorf("parsed %d points", got)
	}
}
