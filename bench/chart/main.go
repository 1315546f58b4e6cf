// Command chart draws the scale job of bench/run.sh as a PNG: wall time and
// peak memory of each tool against the number of files, from the CSV the job
// writes (files,tool,wall_s,wall_min_s,wall_max_s,cpu_s,peak_rss_kib).
//
//	chart -in bench/out/scale-20261126-160000.csv -out scale.png
package main

import (
	"encoding/csv"
	"flag"
	"fmt"
	"image/color"
	"os"
	"sort"
	"strconv"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

type point struct {
	files     float64
	wall      float64
	low, high float64
	rssMiB    float64
}

func main() {
	in := flag.String("in", "", "CSV written by bench/run.sh's scale job (required)")
	out := flag.String("out", "scale.png", "PNG to write")
	limit := flag.Float64("memory-limit", 48, "draw this memory target in MiB (0: none)")
	flag.Parse()
	if *in == "" {
		flag.Usage()
		os.Exit(2)
	}
	series, err := read(*in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
	if err := draw2(series, *limit, *out); err != nil {
		fmt.Fprintln(os.Stderr, "chart:", err)
		os.Exit(1)
	}
}

// read returns the points of each tool, sorted by file count.
func read(path string) (map[string][]point, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(rows) < 2 {
		return nil, fmt.Errorf("%s: no data rows", path)
	}
	series := map[string][]point{}
	for i, r := range rows[1:] {
		if len(r) != 7 {
			return nil, fmt.Errorf("%s:%d: want 7 fields, have %d", path, i+2, len(r))
		}
		var v [6]float64
		for j := range v {
			field := r[j]
			if j > 0 {
				field = r[j+1]
			}
			if v[j], err = strconv.ParseFloat(field, 64); err != nil {
				return nil, fmt.Errorf("%s:%d: %w", path, i+2, err)
			}
		}
		series[r[1]] = append(series[r[1]], point{files: v[0], wall: v[1], low: v[2], high: v[3], rssMiB: v[5] / 1024})
	}
	for _, s := range series {
		sort.Slice(s, func(i, j int) bool { return s[i].files < s[j].files })
	}
	return series, nil
}

func draw2(series map[string][]point, limit float64, out string) error {
	tools := make([]string, 0, len(series))
	for t := range series {
		tools = append(tools, t)
	}
	sort.Strings(tools)

	wall := newPlot("Nothing changed: wall time (median, min-max)", "seconds")
	mem := newPlot("Nothing changed: peak memory (RSS)", "MiB")

	for i, t := range tools {
		pts := series[t]
		w := make(plotter.XYs, len(pts))
		m := make(plotter.XYs, len(pts))
		errs := make(plotter.YErrors, len(pts))
		for k, p := range pts {
			w[k] = plotter.XY{X: p.files / 1000, Y: p.wall}
			m[k] = plotter.XY{X: p.files / 1000, Y: p.rssMiB}
			errs[k] = struct{ Low, High float64 }{p.wall - p.low, p.high - p.wall}
		}
		style := lineStyle(i)
		for _, pair := range []struct {
			p   *plot.Plot
			xys plotter.XYs
		}{{wall, w}, {mem, m}} {
			l, s, err := plotter.NewLinePoints(pair.xys)
			if err != nil {
				return err
			}
			l.Color, l.Dashes = style.Color, style.Dashes
			s.Color, s.Shape = style.Color, style.Shape
			pair.p.Add(l, s)
			pair.p.Legend.Add(t, l, s)
		}
		eb, err := plotter.NewYErrorBars(struct {
			plotter.XYer
			plotter.YErrorer
		}{w, errs})
		if err != nil {
			return err
		}
		eb.Color = style.Color
		wall.Add(eb)
	}
	if limit > 0 {
		fn := plotter.NewFunction(func(float64) float64 { return limit })
		fn.Color = color.RGBA{R: 200, A: 255}
		fn.Dashes = []vg.Length{vg.Points(4), vg.Points(3)}
		mem.Add(fn)
		mem.Legend.Add(fmt.Sprintf("target %.0f MiB", limit), fn)
		if mem.Y.Max < limit*1.1 {
			mem.Y.Max = limit * 1.1
		}
	}

	img := vgimg.New(12*vg.Inch, 4.5*vg.Inch)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: 2, PadX: vg.Inch / 4, PadTop: vg.Inch / 8, PadBottom: vg.Inch / 8,
		PadLeft: vg.Inch / 8, PadRight: vg.Inch / 8}
	canvases := plot.Align([][]*plot.Plot{{wall, mem}}, tiles, dc)
	wall.Draw(canvases[0][0])
	mem.Draw(canvases[0][1])

	f, err := os.Create(out)
	if err != nil {
		return err
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("%s: %w", out, err)
	}
	return f.Close()
}

// newPlot is an empty plot of a quantity against the file count, both axes
// from zero, with a grid and the legend at the top left.
func newPlot(title, unit string) *plot.Plot {
	p := plot.New()
	p.Title.Text = title
	p.X.Label.Text = "files (thousands)"
	p.Y.Label.Text = unit
	p.X.Min, p.Y.Min = 0, 0
	p.Legend.Top, p.Legend.Left = true, true
	p.Add(plotter.NewGrid())
	return p
}

type style struct {
	Color  color.Color
	Dashes []vg.Length
	Shape  draw.GlyphDrawer
}

func lineStyle(i int) style {
	colors := []color.Color{
		color.RGBA{R: 31, G: 119, B: 180, A: 255},
		color.RGBA{R: 44, G: 160, B: 44, A: 255},
		color.RGBA{R: 255, G: 127, B: 14, A: 255},
		color.RGBA{R: 148, G: 103, B: 189, A: 255},
		color.RGBA{R: 140, G: 86, B: 75, A: 255},
	}
	shapes := []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.PlusGlyph{}, draw.CrossGlyph{}}
	return style{Color: colors[i%len(colors)], Shape: shapes[i%len(shapes)]}
}
