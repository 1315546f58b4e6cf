package robocopy

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

type state int

const (
	stHeader  state = iota // after the banner, before the first separator
	stBody                 // between the two separators
	stSummary              // after the second separator
)

// jobState is a job being parsed.
type jobState struct {
	job    Job
	state  state
	indent int // leading whitespace of separator lines (pasted logs)

	// header
	sawSource, sawDest, sawFiles bool
	filesLabel, sourceLabel      string
	list                         *[]string // block receiving "\t    value" lines

	// wrapTarget is the header value continued on the next line when a
	// console of 80 columns wrapped it (see wrapped).
	wrapTarget *string

	// body
	curDir     string // last walked source directory
	pendingErr int    // index in job.Errors awaiting its message line, or -1
	paramErr   bool
	lastNote   int    // index in job.Notes of the last NOTE line, or -1
	errWord    string // the (localized) ERROR word of this job's error lines
	lastEntry  *string
	lastWidth  int // display width of the last file or dir line
	// lastUnrec is set while the last non-blank line was counted as
	// unrecognized and could be a summary column header (see
	// retractColumnHeader).
	lastUnrec bool

	// summary
	rows    int
	sum     Summary
	speeds  int
	ended   bool
	lastRow int // line index of the last summary row
}

type parser struct {
	log *Log
	cur *jobState
}

func (p *parser) run(lines []string) {
	banner := make([]bool, len(lines))
	blank := func(i int) bool { return strings.TrimSpace(lines[i]) == "" }
	for i, l := range lines {
		if !bannerRe.MatchString(l) {
			continue
		}
		banner[i] = true
		// The separators above and below the banner. A console of 80
		// columns wraps the 81-character banner line, leaving a line of
		// spaces between it and the separator below (and pastes may add
		// blank lines): up to two blank lines are skipped.
		for j, n := i-1, 0; j >= 0 && n < 3; j, n = j-1, n+1 {
			if separatorRe.MatchString(lines[j]) {
				for k := j; k < i; k++ {
					banner[k] = true
				}
				break
			}
			if !blank(j) {
				break
			}
		}
		for j, n := i+1, 0; j < len(lines) && n < 3; j, n = j+1, n+1 {
			if separatorRe.MatchString(lines[j]) {
				for k := i + 1; k <= j; k++ {
					banner[k] = true
				}
				break
			}
			if !blank(j) {
				break
			}
		}
	}
	for i, l := range lines {
		if banner[i] {
			if bannerRe.MatchString(l) {
				p.startJob(stHeader)
				p.cur.setBanner(l)
			}
			continue
		}
		p.line(l)
	}
	p.finish()
}

func (p *parser) startJob(st state) {
	p.finish()
	p.cur = &jobState{state: st, pendingErr: -1, lastNote: -1}
}

// setBanner records the product line, the language it is printed in and
// the version old builds print there.
func (js *jobState) setBanner(l string) {
	b := strings.TrimSpace(l)
	js.job.Banner = b
	if i := strings.Index(b, "::"); i >= 0 {
		product := strings.TrimSpace(b[i+2:])
		if j := strings.Index(product, "::"); j >= 0 {
			product = strings.TrimSpace(product[:j])
		}
		js.job.Language = bannerLanguages[product]
	}
	if v, ok := VersionFromBanner(l); ok {
		js.job.Version = v.String()
	}
}

// finish closes the current job and appends it to the log.
func (p *parser) finish() {
	js := p.cur
	if js == nil {
		return
	}
	p.cur = nil
	j := js.job
	if js.rows >= 3 {
		s := js.sum
		j.Summary = &s
	}
	if j.Files == nil {
		j.Files = []FileEntry{}
	}
	if j.Dirs == nil {
		j.Dirs = []DirEntry{}
	}
	if j.Errors == nil {
		j.Errors = []Error{}
	}
	if j.Summary == nil {
		j.Fatal = js.paramErr || (len(j.Errors) > 0 && len(j.Files) == 0 && len(j.Dirs) == 0)
		j.Truncated = !j.Fatal
	}
	if l := sourceLabelLanguages[js.sourceLabel]; l != "" {
		j.Language = l // banners such as ru's are English
	}
	p.log.Jobs = append(p.log.Jobs, j)
}

func (js *jobState) unrecognized(l string) {
	// A line continued from the one before it by an 80-column console.
	if js.lastEntry != nil && js.lastWidth == consoleWidth && !strings.HasPrefix(l, "\t") {
		*js.lastEntry += l
		js.lastWidth = 0
		return
	}
	js.job.UnrecognizedCount++
	if len(js.job.Unrecognized) < maxUnrecognized {
		js.job.Unrecognized = append(js.job.Unrecognized, l)
	}
	js.lastUnrec = looksLikeColumnHeader(l)
}

// looksLikeColumnHeader reports the summary's column header ("Total
// Copied Skipped Mismatch FAILED Extras", localized, sometimes run
// together): words only, no digits, ':', TAB or path characters.
func looksLikeColumnHeader(l string) bool {
	return len(strings.Fields(l)) >= 2 && !strings.ContainsAny(l, "0123456789:\t\\/=<>*")
}

// retractColumnHeader un-counts the line before the first summary row when
// it was the column header: a log whose author cut the body's closing
// separator (or a paste that lost it) prints the header in the body.
func (js *jobState) retractColumnHeader() {
	if !js.lastUnrec || js.job.UnrecognizedCount == 0 {
		return
	}
	js.lastUnrec = false
	if n := len(js.job.Unrecognized); n == js.job.UnrecognizedCount {
		js.job.Unrecognized = js.job.Unrecognized[:n-1]
	}
	js.job.UnrecognizedCount--
}

// promptRe matches a console prompt echoing a command ("C:\Temp>robocopy
// ...", "PS C:\> .\backup.ps1"): console noise between pasted jobs, never
// robocopy output.
var promptRe = regexp.MustCompile(`^(?:PS )?[A-Za-z]:\\[^>\t]*>`)

func (p *parser) line(l string) {
	if strings.TrimSpace(l) == "" {
		if p.cur != nil {
			p.cur.pendingErr = -1
		}
		return
	}
	if progressRe.MatchString(l) || promptRe.MatchString(l) {
		return
	}
	js := p.cur
	if js == nil {
		// Text before any banner: a /NJH log, a cut-down paste, or console
		// noise such as " Log File : ...". Start a job only on lines that
		// belong to one.
		switch {
		case isErrorLine(l):
			p.startJob(stBody)
		case isFatalParamLine(l):
			// A fatal error printed without a job header (/NJH, or a
			// console capture that starts at the error).
			p.startJob(stBody)
		case isBodyEntry(l):
			p.startJob(stBody)
		case isSummaryRow(l) || isTimesRow(l):
			p.startJob(stSummary)
		default:
			return
		}
		js = p.cur
	}
	if separatorRe.MatchString(l) {
		js.pendingErr = -1
		js.list = nil
		if js.state == stHeader {
			js.indent = indentWidth(l)
			js.state = stBody
		} else if js.state == stBody {
			js.state = stSummary
		}
		return
	}
	if e, ok := parseErrorLine(l); ok {
		if js.errWord == "" {
			js.errWord = errorWordOf(l)
		}
		js.job.Errors = append(js.job.Errors, e)
		js.pendingErr = len(js.job.Errors) - 1
		js.list = nil
		return
	}
	if js.pendingErr >= 0 {
		i := js.pendingErr
		js.pendingErr = -1
		if isMessageLine(l) {
			js.job.Errors[i].Message = strings.TrimSpace(l)
			return
		}
	}
	if js.state == stHeader && isFatalParamLine(l) {
		js.state = stBody
	}
	switch js.state {
	case stHeader:
		p.headerLine(l)
	case stBody:
		p.bodyLine(l)
	case stSummary:
		p.summaryLine(l)
	}
}

// isMessageLine reports whether a line after an error line is its system
// message rather than another structural line.
func isMessageLine(l string) bool {
	return !strings.HasPrefix(l, "\t") && !separatorRe.MatchString(l) && !isBodyEntry(l) &&
		!isSummaryRow(l) && !isWaitLine(l)
}

// ---- errors ----

// errorRe: "2025/11/18 23:30:15 ERROR 53 (0x00000035) Accessing Destination
// Directory \\falcon\rwg$\". The ERROR word and the action are localized;
// the timestamp and "N (0xXXXXXXXX)" are not. Errors start in column 1.
var errorRe = regexp.MustCompile(`^(?:(\d{4}/\d{2}/\d{2} \d{1,2}:\d{2}:\d{2}) )?(\S[^\t]*?) (\d+) \(0x([0-9A-Fa-f]{8})\)(?: (.*))?$`)

// pathStartRe finds where the path starts after the action phrase.
var pathStartRe = regexp.MustCompile(`(?:^|\s)([A-Za-z]:[\\/]|\\\\)`)

func isErrorLine(l string) bool {
	_, ok := parseErrorLine(l)
	return ok
}

func parseErrorLine(l string) (Error, bool) {
	if l == "" || l[0] == ' ' || l[0] == '\t' {
		return Error{}, false
	}
	m := errorRe.FindStringSubmatch(l)
	if m == nil {
		return Error{}, false
	}
	code, err := strconv.Atoi(m[3])
	if err != nil || code < 0 {
		return Error{}, false
	}
	if isFormatString(m[2]) {
		return Error{}, false
	}
	hex, err := strconv.ParseUint(m[4], 16, 32)
	if err != nil || hex != uint64(code) {
		// "N (0x...)" must agree, or it is not an error line.
		if err != nil || uint64(code) <= 0xFFFFFFFF {
			return Error{}, false
		}
	}
	rest := strings.TrimRight(m[5], " ")
	e := Error{Code: code, HasCode: true, Time: m[1]}
	if loc := pathStartRe.FindStringSubmatchIndex(rest); loc != nil {
		e.Action = strings.TrimSpace(rest[:loc[2]])
		e.Path = rest[loc[2]:]
	} else {
		e.Action = rest
	}
	return e, true
}

// ---- header ----

// splitLabel splits "  Started : value", "     Dest = value" or
// "Iniciado: value" at the first ':' or '='.
func splitLabel(l string) (label, value string, ok bool) {
	if strings.HasPrefix(l, "\t") {
		return "", "", false
	}
	i := strings.IndexAny(l, ":=")
	if i <= 0 {
		return "", "", false
	}
	label = strings.TrimFunc(l[:i], isSpaceOrNBSP)
	value = strings.TrimFunc(l[i+1:], isSpaceOrNBSP)
	if label == "" || len(label) > 120 || strings.ContainsAny(label, `\/`) || !strings.ContainsFunc(label, unicode.IsLetter) {
		return "", "", false
	}
	return label, value, true
}

func isSpaceOrNBSP(r rune) bool { return unicode.IsSpace(r) || r == '\u00a0' || r == '\u202f' }

func isPathValue(v string) bool {
	// A POSIX absolute path appears in the run logs robo's native engine
	// writes on Linux and macOS (internal/runlog); robocopy never prints one.
	return len(v) >= 3 && isDriveLetter(v) && (v[2] == '\\' || v[2] == '/') || strings.HasPrefix(v, `\\`) ||
		len(v) >= 2 && v[0] == '/' && v[1] != '/' && v[1] != ' '
}

var optionSwitchRe = regexp.MustCompile(`(?:^|\s)/[A-Za-z]`)

func (p *parser) headerLine(l string) {
	js := p.cur
	j := &js.job
	if t := js.wrapTarget; t != nil {
		js.wrapTarget = nil
		if _, _, ok := splitLabel(l); !ok && !strings.HasPrefix(l, "\t") {
			// The rest of a value an 80-column console wrapped.
			*t += l
			if len([]rune(l)) == consoleWidth {
				js.wrapTarget = t
			}
			return
		}
	}
	if strings.HasPrefix(l, "\t") && js.list != nil {
		if v := strings.TrimSpace(l); v != "" {
			*js.list = append(*js.list, v)
		} else {
			js.list = nil
		}
		return
	}
	label, value, ok := splitLabel(l)
	if !ok {
		if isBodyEntry(l) {
			js.state = stBody
			p.bodyLine(l)
			return
		}
		if isSummaryRow(l) || isTimesRow(l) {
			js.state = stSummary
			p.summaryLine(l)
			return
		}
		js.unrecognized(l)
		return
	}
	js.list = nil
	wraps := len([]rune(l)) == consoleWidth
	switch {
	case !js.sawSource && isPathValue(value):
		j.Source, js.sawSource, js.sourceLabel = value, true, label
		if wraps {
			js.wrapTarget = &j.Source
		}
	case js.sawSource && !js.sawDest && isPathValue(value):
		j.Destination, js.sawDest = value, true
		if wraps {
			js.wrapTarget = &j.Destination
		}
	case !js.sawSource:
		if j.Started == "" {
			j.Started = value
		} else {
			js.unrecognized(l)
		}
	case optionSwitchRe.MatchString(value):
		j.Options = value
		if wraps {
			js.wrapTarget = &j.Options
		}
	case !js.sawFiles:
		js.sawFiles, js.filesLabel = true, label
		j.Include = append(j.Include, value)
		js.list = &j.Include
	default:
		if isExcludeFilesLabel(label, js.filesLabel) {
			j.ExcludeFiles = append(j.ExcludeFiles, value)
			js.list = &j.ExcludeFiles
		} else {
			j.ExcludeDirs = append(j.ExcludeDirs, value)
			js.list = &j.ExcludeDirs
		}
	}
}

// isExcludeFilesLabel decides whether an exclusion block lists files or
// directories: known labels first; then structure (the label contains the
// job's "Files" label: "Exc Files", "Arquivos Exc"); otherwise directories.
func isExcludeFilesLabel(label, filesLabel string) bool {
	for _, x := range excFilesLabels {
		if strings.EqualFold(label, x) {
			return true
		}
	}
	for _, x := range excDirsLabels {
		if strings.EqualFold(label, x) {
			return false
		}
	}
	if filesLabel != "" && strings.Contains(strings.ToLower(label), strings.ToLower(filesLabel)) {
		return true
	}
	return false
}

// consoleWidth is the width of a default console window: a line of exactly
// this many characters followed by a line that fits nowhere was wrapped.
const consoleWidth = 80

// formatVerbRe matches printf verbs left unexpanded in robocopy's output
// ("Invalid Parameter #%d : \"%s\"").
var formatVerbRe = regexp.MustCompile(`%(?:[-+#0]*\d*(?:\.\d+)?(?:l|ll|h|I64)?[dsuxXcSpi]|\d+!?)`)

func isFormatString(s string) bool { return formatVerbRe.MatchString(s) }

// errorWordOf returns the localized ERROR word of an error line.
func errorWordOf(l string) string {
	if m := errorRe.FindStringSubmatch(l); m != nil {
		return m[2]
	}
	return ""
}
