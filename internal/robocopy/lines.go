package robocopy

import (
	"regexp"
	"strings"
)

// progressRe matches a line or CR fragment holding only a progress figure
// ("100%  ", " 71.3%", "  0%  ").
var progressRe = regexp.MustCompile(`^\s*\d{1,3}(?:[.,]\d+)?%\s*$`)

// splitLines splits decoded text into logical lines.
//
// Lines end with LF (CRLF or LF; trailing CRs, including the "\r\r\n" after
// system messages, are dropped). A CR inside a line is the console's
// carriage return: robocopy writes "name\r  0%  \r100%  \r\n" for progress.
// The first CR fragment is the line; later fragments that are progress or
// blank are dropped, and any other fragment is kept as a line of its own
// (it was printed over the line on a console; a CR-only file also splits).
func splitLines(s string) []string {
	raw := strings.Split(s, "\n")
	out := make([]string, 0, len(raw))
	for _, l := range raw {
		l = strings.TrimRight(l, "\r")
		if !strings.Contains(l, "\r") {
			out = append(out, l)
			continue
		}
		frags := strings.Split(l, "\r")
		out = append(out, frags[0])
		for _, f := range frags[1:] {
			if strings.TrimSpace(f) == "" || progressRe.MatchString(f) {
				continue
			}
			out = append(out, f)
		}
	}
	// A final LF leaves an empty last element; it is not a line.
	if n := len(out); n > 0 && out[n-1] == "" {
		out = out[:n-1]
	}
	return out
}

// leadingProgressRe matches a console progress figure that overwrote the
// start of a pasted line ("100%        New File ...").
var leadingProgressRe = regexp.MustCompile(`^(\s*)(\d{1,3}(?:\.\d+)?%)`)

// blankLeadingProgress replaces a leading "100%" with spaces so that the
// columns of the rest of the line stay where they were.
func blankLeadingProgress(l string) string {
	m := leadingProgressRe.FindStringSubmatchIndex(l)
	if m == nil {
		return l
	}
	return l[:m[4]] + strings.Repeat(" ", m[5]-m[4]) + l[m[5]:]
}

// innerProgressRe matches progress figures glued into a file name by another
// thread's output under /MT ("…pull-request-co100%  .md"), or left at the
// end of a name by a text view that dropped the CR ("app.py100%  ").
// Requiring two spaces (or the end) after the '%' keeps real names such as
// "50% off.pdf" intact.
var innerProgressRe = regexp.MustCompile(`\d{1,3}(?:\.\d+)?%(?:\s{2,}|\s*$)`)

func stripInnerProgress(name string) string {
	if !strings.Contains(name, "%") {
		return name
	}
	return innerProgressRe.ReplaceAllString(name, "")
}

// indentWidth returns the display width of leading whitespace (TAB = to the
// next multiple of 8).
func indentWidth(l string) int {
	w := 0
	for _, r := range l {
		switch r {
		case ' ':
			w++
		case '\t':
			w = (w/8 + 1) * 8
		default:
			return w
		}
	}
	return w
}

// column returns the display column of byte offset i in l (TABs expand to
// multiples of 8, every rune is one column).
func column(l string, i int) int {
	w := 0
	for _, r := range l[:i] {
		if r == '\t' {
			w = (w/8 + 1) * 8
		} else {
			w++
		}
	}
	return w
}

var separatorRe = regexp.MustCompile(`^\s*-{20,}\s*$`)

// bannerRe matches the product line of the job banner in every language:
// "   ROBOCOPY     ::     Robust File Copy for Windows".
var bannerRe = regexp.MustCompile(`^\s*ROBOCOPY\s+::`)
