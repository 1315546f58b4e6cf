package robocopy

import (
	"regexp"
	"strings"
)

// Summary lines are recognized by shape, not by their localized labels
// (FORMAT.md §6): a label, ':', then six numeric fields (a size field is a
// number and an optional k/m/g/t token) for the Dirs, Files and Bytes rows,
// taken in that order; four H:MM:SS fields for Times; one grouped number and
// a unit containing '/' for each Speed line; and any other "label : value"
// after the rows is the Ended line.

var (
	numTokRe   = regexp.MustCompile(`^\d+(?:\.\d+)?$`)
	unitTokRe  = regexp.MustCompile(`^[kmgtKMGT]$`)
	timeTokRe  = regexp.MustCompile(`^\d+:\d{2}(?::\d{2})?(?:\.\d+)?$`)
	speedValRe = regexp.MustCompile(`^(\d[\d.,\s\x{a0}\x{202f}']*\d|\d)\s+(\S*/\S*)$`)
)

type sizeTok struct{ num, unit string }

// rowFields splits a summary row into its label and six size fields.
func rowFields(l string) (string, []sizeTok, bool) {
	i := strings.IndexByte(l, ':')
	if i <= 0 || strings.HasPrefix(l, "\t") {
		return "", nil, false
	}
	label := strings.TrimFunc(l[:i], isSpaceOrNBSP)
	if label == "" || strings.ContainsAny(label, `\/`) {
		return "", nil, false
	}
	var toks []sizeTok
	for _, f := range strings.Fields(l[i+1:]) {
		switch {
		case numTokRe.MatchString(f):
			toks = append(toks, sizeTok{num: f})
		case unitTokRe.MatchString(f) && len(toks) > 0 && toks[len(toks)-1].unit == "":
			toks[len(toks)-1].unit = f
		default:
			return "", nil, false
		}
		if len(toks) > 6 {
			return "", nil, false
		}
	}
	return label, toks, len(toks) == 6
}

func isSummaryRow(l string) bool {
	_, _, ok := rowFields(l)
	return ok
}

func timesFields(l string) ([]string, bool) {
	i := strings.IndexByte(l, ':')
	if i <= 0 || strings.HasPrefix(l, "\t") || strings.TrimFunc(l[:i], isSpaceOrNBSP) == "" {
		return nil, false
	}
	f := strings.Fields(l[i+1:])
	if len(f) != 4 {
		return nil, false
	}
	for _, x := range f {
		if !timeTokRe.MatchString(x) {
			return nil, false
		}
	}
	return f, true
}

func isTimesRow(l string) bool {
	_, ok := timesFields(l)
	return ok
}

func (p *parser) summaryLine(l string) {
	js := p.cur
	if _, toks, ok := rowFields(l); ok {
		if js.rows >= 3 || js.ended {
			// A fourth counter row: the next job's summary (no banner).
			p.startJob(stSummary)
			js = p.cur
		}
		if js.rows == 0 {
			js.retractColumnHeader()
		}
		var vals [6]int64
		for i, t := range toks {
			v, ok := parseSize(t.num, t.unit)
			if !ok {
				js.unrecognized(l)
				return
			}
			vals[i] = v
		}
		r := Row{Total: vals[0], Copied: vals[1], Skipped: vals[2], Mismatch: vals[3], Failed: vals[4], Extras: vals[5]}
		switch js.rows {
		case 0:
			js.sum.Dirs = r
		case 1:
			js.sum.Files = r
		case 2:
			js.sum.Bytes = r
		}
		js.rows++
		return
	}
	if f, ok := timesFields(l); ok && js.rows > 0 {
		js.sum.Times = &TimesRow{Total: f[0], Copied: f[1], Failed: f[2], Extras: f[3]}
		return
	}
	if label, value, ok := splitLabel(l); ok && js.rows >= 3 {
		_ = label
		if m := speedValRe.FindStringSubmatch(value); m != nil {
			js.speeds++
			switch js.speeds {
			case 1:
				if v, ok := parseGroupedInt(m[1]); ok {
					js.sum.SpeedBytesPerSec = &v
				}
			case 2:
				if v, ok := parseLocaleDecimal(m[1]); ok {
					js.sum.SpeedMegaBytesPerMin = &v
				}
			}
			return
		}
		if !js.ended {
			js.job.Ended = value
			js.ended = true
			return
		}
	}
	if js.rows == 0 && !strings.Contains(l, ":") {
		// The column header ("Total  Copied  Skipped ..."), localized and
		// sometimes run together.
		return
	}
	if js.ended && (isBodyEntry(l) || isErrorLine(l)) {
		// Body of a following job printed without a banner (/NJH).
		p.startJob(stBody)
		p.line(l)
		return
	}
	js.unrecognized(l)
}
