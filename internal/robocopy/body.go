package robocopy

import (
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

func (p *parser) bodyLine(l string) {
	js := p.cur
	j := &js.job
	if f, ok := parseFileTab(l); ok {
		p.addFile(f, l)
		return
	}
	if d, ok := parseDirTab(l); ok {
		p.addDir(d, l)
		return
	}
	if !strings.Contains(l, "\t") {
		if f, d, isFile, ok := parseSpaceForm(l, js.indent); ok {
			if isFile {
				p.addFile(f, l)
			} else {
				p.addDir(d, l)
			}
			return
		}
	}
	if isWaitLine(l) {
		if hasWaitNumber(l) {
			j.Retries++
		}
		return
	}
	if isRetryLimitLine(l) {
		if n := len(j.Errors); n > 0 {
			j.Errors[n-1].RetryLimitExceeded = true
		}
		return
	}
	if m := paramErrorRe.FindStringSubmatch(l); m != nil && isUpperWord(m[1]) {
		msg := strings.TrimSpace(m[2])
		switch {
		case isFormatString(msg):
			// A raw format string ("Invalid Parameter #%d : \"%s\"")
			// printed by some builds beside the real message: not an
			// error of its own.
		case isErrorWord(m[1]) || m[1] == js.errWord:
			j.Errors = append(j.Errors, Error{Message: msg, Fatal: true})
			js.paramErr = true
		default:
			// "NOTE : Security may not be copied ..." and other notices.
			j.Notes = append(j.Notes, m[1]+" : "+msg)
			js.lastNote = len(j.Notes) - 1
		}
		return
	}
	if m := starNoteRe.FindStringSubmatch(l); m != nil {
		// "*****  You need this to copy auditing information ..." explains
		// the parameter error above it; "****  /MIR can DELETE files as
		// well as copy them !" ends the usage text.
		if !strings.HasPrefix(l, "*****") {
			return
		}
		if n := len(j.Errors); js.paramErr && n > 0 {
			j.Errors[n-1].Message += " " + strings.TrimSpace(m[1])
		} else if i := js.lastNote; i >= 0 && i == len(j.Notes)-1 {
			// An explained "WORD : text" line in a language whose ERROR
			// word robo does not know: robocopy explains only fatal
			// errors this way.
			w, msg, _ := strings.Cut(j.Notes[i], " : ")
			j.Notes = j.Notes[:i]
			js.lastNote = -1
			j.Errors = append(j.Errors, Error{Message: msg + " " + strings.TrimSpace(m[1]), Fatal: true})
			js.paramErr = true
			if js.errWord == "" {
				js.errWord = w
			}
		}
		return
	}
	if isSummaryRow(l) || isTimesRow(l) {
		js.state = stSummary
		p.summaryLine(l)
		return
	}
	if f, d, isFile, ok := parseCollapsedForm(l); ok {
		if isFile {
			p.addFile(f, l)
		} else {
			p.addDir(d, l)
		}
		return
	}
	if js.paramErr {
		// Usage text printed after a parameter error.
		return
	}
	js.unrecognized(l)
}

// isFatalParamLine reports "ERROR : text" (a fatal parameter or privilege
// error) in a language robo knows.
func isFatalParamLine(l string) bool {
	m := paramErrorRe.FindStringSubmatch(l)
	return m != nil && isErrorWord(m[1]) && !isFormatString(m[2])
}

var (
	paramErrorRe = regexp.MustCompile(`^(\S+)\s+:\s+(\S.*)$`)
	starNoteRe   = regexp.MustCompile(`^\*{4,}\s+(\S.*)$`)
)

func isUpperWord(w string) bool {
	letters := 0
	for _, r := range w {
		if unicode.IsLetter(r) {
			if !unicode.IsUpper(r) {
				return false
			}
			letters++
		}
	}
	return letters > 0
}

// isBodyEntry reports file and directory lines (TAB or pasted space form).
func isBodyEntry(l string) bool {
	if _, ok := parseFileTab(l); ok {
		return true
	}
	if _, ok := parseDirTab(l); ok {
		return true
	}
	if !strings.Contains(l, "\t") {
		_, _, _, ok := parseSpaceForm(l, 0)
		return ok
	}
	return false
}

func (p *parser) addFile(f FileEntry, raw string) {
	js := p.cur
	j := &js.job
	var waits int
	f.Path, waits = stripGluedRetry(f.Path)
	j.Retries += waits
	f.Path = stripInnerProgress(f.Path)
	f.Path = etaRe.ReplaceAllString(f.Path, "")
	f.Path = strings.TrimRight(f.Path, " ")
	switch {
	case isAbsPath(f.Path):
		f.FullPath = f.Path
	case js.curDir == "":
	case f.Class == "*EXTRA File":
		src, dst := withSlash(j.Source), withSlash(j.Destination)
		if src != `\` && dst != `\` && hasPrefixFold(js.curDir, src) {
			f.FullPath = dst + js.curDir[len(src):] + f.Path
		}
	default:
		f.FullPath = js.curDir + f.Path
	}
	j.Files = append(j.Files, f)
	js.track(&j.Files[len(j.Files)-1].Path, raw)
}

// track remembers the last entry line, so that a continuation an 80-column
// console wrapped onto the next line can be appended to its path.
func (js *jobState) track(path *string, raw string) {
	js.lastEntry, js.lastWidth = path, column(raw, len(raw))
}

// etaRe matches the estimated times /ETA prints after a name
// ("name.txt\t22:02 -> 22:02"); Windows names cannot hold ':'.
var etaRe = regexp.MustCompile(`[\t ]*\d{1,2}:\d{2}(?::\d{2})? -> \d{1,2}:\d{2}(?::\d{2})?\s*$`)

func (p *parser) addDir(d DirEntry, raw string) {
	js := p.cur
	d.Path = strings.TrimRight(d.Path, " ")
	if !strings.HasPrefix(d.RawTag, "*") && (d.Class == "" || d.Class == "New Dir") {
		js.curDir = withSlash(d.Path)
	}
	js.job.Dirs = append(js.job.Dirs, d)
	js.track(&js.job.Dirs[len(js.job.Dirs)-1].Path, raw)
}

func withSlash(p string) string {
	if strings.HasSuffix(p, `\`) {
		return p
	}
	return p + `\`
}

func isAbsPath(p string) bool {
	return len(p) >= 3 && isDriveLetter(p) && (p[2] == '\\' || p[2] == '/') || strings.HasPrefix(p, `\\`)
}

// ---- file and directory lines ----

var (
	sizeFieldRe = regexp.MustCompile(`^(\d+(?:\.\d+)?)(?:\s*([kmgtKMGT]))?$`)
	tsLeadRe    = regexp.MustCompile(`^\s*(\d{4}/\d{2}/\d{2} \d{1,2}:\d{2}:\d{2})(?:\s+(\S.*))?\s*$`)
	sizeTSRe    = regexp.MustCompile(`^(\d+(?:\.\d+)?(?:\s*[kmgtKMGT])?)\s+(\d{4}/\d{2}/\d{2} \d{1,2}:\d{2}:\d{2})$`)
	countTailRe = regexp.MustCompile(`^(.*?)\s*(-?\d+)$`)
)

// parseFileTab parses "\t<tag>\t\t<size>\t<name>" (/TS inserts a timestamp
// field before the name; /NS leaves the size empty).
func parseFileTab(l string) (FileEntry, bool) {
	if !strings.HasPrefix(l, "\t") {
		return FileEntry{}, false
	}
	parts := strings.Split(l, "\t")
	if len(parts) < 5 || parts[2] != "" {
		return FileEntry{}, false
	}
	tag := strings.TrimSpace(parts[1])
	size := int64(-1)
	ts := ""
	sf := strings.TrimSpace(parts[3])
	if m := sizeTSRe.FindStringSubmatch(sf); m != nil {
		// /TS: the timestamp follows the size after spaces.
		sf, ts = m[1], m[2]
	}
	if sf != "" {
		m := sizeFieldRe.FindStringSubmatch(sf)
		if m == nil {
			return FileEntry{}, false
		}
		v, ok := parseSize(m[1], m[2])
		if !ok {
			return FileEntry{}, false
		}
		size = v
	}
	rest := parts[4:]
	f := FileEntry{Class: classifyFileTag(tag), RawTag: tag, Size: size, Timestamp: ts}
	if ts == "" {
		if m := tsLeadRe.FindStringSubmatch(rest[0]); m != nil {
			switch {
			case m[2] != "":
				// "2019/03/10 13:08:46 name": spaces, not a TAB.
				f.Timestamp, rest = m[1], append([]string{m[2]}, rest[1:]...)
			case len(rest) > 1:
				f.Timestamp, rest = m[1], rest[1:]
			}
		}
	}
	f.Path = strings.Join(rest, "\t")
	if strings.TrimSpace(f.Path) == "" {
		return FileEntry{}, false
	}
	return f, true
}

// parseDirTab parses "\t<tag><count>\t<path>", the tag and the count sharing
// one 20-column field.
func parseDirTab(l string) (DirEntry, bool) {
	if !strings.HasPrefix(l, "\t") {
		return DirEntry{}, false
	}
	parts := strings.SplitN(l[1:], "\t", 2)
	if len(parts) != 2 || strings.TrimSpace(parts[1]) == "" || strings.HasPrefix(parts[1], "\t") {
		return DirEntry{}, false
	}
	m := countTailRe.FindStringSubmatch(parts[0])
	if m == nil {
		return DirEntry{}, false
	}
	n, err := strconv.ParseInt(m[2], 10, 64)
	if err != nil {
		return DirEntry{}, false
	}
	tag := strings.TrimSpace(m[1])
	return DirEntry{Class: classifyDirTag(tag, n), RawTag: tag, Count: n, Path: parts[1]}, true
}

// spaceFormRe matches file and dir lines whose TABs became spaces (console
// and Markdown pastes): indent, optional tag, number (+ unit), gap, name.
var spaceFormRe = regexp.MustCompile(`^(\s+)(?:(\S.*?)\s+)?(-?\d+(?:\.\d+)?)(?: ([kmgtKMGT]))?\s{2,}(\S.*)$`)

// parseSpaceForm parses a space-aligned line. Robocopy's TAB stops put a
// directory's path at column 32 and a file's name at column 48 (after the
// paste's own indent), which tells the two apart; a size unit or a "*" tag
// with count -1 decides directly.
func parseSpaceForm(l string, indent int) (FileEntry, DirEntry, bool, bool) {
	l = blankLeadingProgress(l)
	m := spaceFormRe.FindStringSubmatchIndex(l)
	if m == nil {
		return FileEntry{}, DirEntry{}, false, false
	}
	tag := ""
	if m[4] >= 0 {
		tag = strings.TrimSpace(l[m[4]:m[5]])
	}
	num, unit := l[m[6]:m[7]], ""
	if m[8] >= 0 {
		unit = l[m[8]:m[9]]
	}
	name := l[m[10]:m[11]]
	nameCol := column(l, m[10]) - indent
	isFile := unit != "" || nameCol >= 44
	if tag != "" && strings.HasPrefix(tag, "*") && num == "-1" {
		isFile = false
	}
	if isFile {
		size, ok := parseSize(num, unit)
		if !ok {
			return FileEntry{}, DirEntry{}, false, false
		}
		return FileEntry{Class: classifyFileTag(tag), RawTag: tag, Size: size, Path: name}, DirEntry{}, true, true
	}
	if strings.Contains(num, ".") {
		return FileEntry{}, DirEntry{}, false, false
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || !isAbsPath(name) {
		return FileEntry{}, DirEntry{}, false, false
	}
	return FileEntry{}, DirEntry{Class: classifyDirTag(tag, n), RawTag: tag, Count: n, Path: name}, false, true
}

// collapsedRe matches a file or directory line whose runs of whitespace a
// web page or chat export collapsed to single spaces ("100% Neuer 20
// Test.txt", "1 C:\\Temp\\"): optional tag, the count or size (a unit only
// after a decimal number, as robocopy prints "1.2 m"), the name.
var collapsedRe = regexp.MustCompile(`^(?:(\S.*?) )?(-?\d+|\d+\.\d+ [kmgtKMGT]) (\S.*)$`)

// parseCollapsedForm parses a whitespace-collapsed line, the last resort
// for body lines without TABs or column alignment. Without columns, a
// directory is told from a file by its path: robocopy prints directories
// as full paths ending in '\'. A file needs a known tag, or an unknown one
// of at most two words and 24 characters (every tag seen, in every
// language, fits), so that free text is not taken for a file.
func parseCollapsedForm(l string) (FileEntry, DirEntry, bool, bool) {
	if strings.Contains(l, "\t") {
		return FileEntry{}, DirEntry{}, false, false
	}
	l = strings.Join(strings.Fields(blankLeadingProgress(l)), " ")
	m := collapsedRe.FindStringSubmatch(l)
	if m == nil || strings.ContainsAny(m[1], ":=") {
		return FileEntry{}, DirEntry{}, false, false
	}
	tag, num, name := m[1], m[2], m[3]
	if strings.HasSuffix(name, `\`) && isAbsPath(name) {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil {
			return FileEntry{}, DirEntry{}, false, false
		}
		return FileEntry{}, DirEntry{Class: classifyDirTag(tag, n), RawTag: tag, Count: n, Path: name}, false, true
	}
	if tag == "" || classifyFileTag(tag) == "" && (len(strings.Fields(tag)) > 2 || utf8.RuneCountInString(tag) > 24) ||
		strings.HasSuffix(name, `\`) || strings.HasPrefix(num, "-") {
		return FileEntry{}, DirEntry{}, false, false
	}
	n, unit, _ := strings.Cut(num, " ")
	size, ok := parseSize(n, unit)
	if !ok {
		return FileEntry{}, DirEntry{}, false, false
	}
	return FileEntry{Class: classifyFileTag(tag), RawTag: tag, Size: size, Path: name}, DirEntry{}, true, true
}

// ---- retries ----

// waitLineRe: "Waiting 30 seconds... Retrying...", "Ожидание 5 секунд...
// Повтор...": a number, words ending in "...", optionally a second "..."
// part. A lone "Retrying..." half (split by another thread) also matches
// retryHalfRe.
var (
	waitLineRe  = regexp.MustCompile(`^\s*(?:\S.*?\s)?\d+\s+\S+\.\.\.(?:\s+\S.*?\.\.\.)?\s*$`)
	retryHalfRe = regexp.MustCompile(`^\s*\S+\.\.\.\s*$`)
	waitNumRe   = regexp.MustCompile(`\s\d+\s|^\d+\s`)
)

func isWaitLine(l string) bool {
	if strings.Contains(l, "\t") || strings.ContainsAny(l, `\/`) {
		return false
	}
	return waitLineRe.MatchString(l) || retryHalfRe.MatchString(l)
}

func hasWaitNumber(l string) bool { return waitNumRe.MatchString(l) }

// gluedWaitRe and gluedRetryRe cut retry messages that another thread
// printed onto the end of a file name under /MT.
var (
	gluedWaitRe  = regexp.MustCompile(`\s*(?:` + strings.Join(waitWords, "|") + `)\s+\d+\s+\S+\.\.\.\s*$`)
	gluedRetryRe = regexp.MustCompile(`\s*(?:` + strings.Join(retryWords, "|") + `)\.\.\.\s*$`)
	gluedAnyRe   = regexp.MustCompile(`\s+\S*\.\.\.\s*$`)
)

// stripGluedRetry removes retry text glued to a name and returns how many
// waits it held. Windows names cannot end in '.', so a name ending in "..."
// always carries such text; unknown languages lose the last word only.
func stripGluedRetry(name string) (string, int) {
	waits := 0
	for i := 0; i < 4 && strings.HasSuffix(strings.TrimRight(name, " "), "..."); i++ {
		switch {
		case gluedRetryRe.MatchString(name):
			name = gluedRetryRe.ReplaceAllString(name, "")
		case gluedWaitRe.MatchString(name):
			name = gluedWaitRe.ReplaceAllString(name, "")
			waits++
		case gluedAnyRe.MatchString(name):
			name = gluedAnyRe.ReplaceAllString(name, "")
		default:
			return name, waits
		}
	}
	return name, waits
}

// retryLimitRe: "ERROR: RETRY LIMIT EXCEEDED." and its translations: an
// all-capitals sentence with a colon, ending in '.'.
var retryLimitRe = regexp.MustCompile(`^(\S[^:]*?)\s?:\s+(\S.*\.)\s*$`)

func isRetryLimitLine(l string) bool {
	return retryLimitRe.MatchString(l) && isUpperWord(strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) {
			return r
		}
		return -1
	}, l))
}
