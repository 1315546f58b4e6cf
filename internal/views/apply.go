package views

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/safetext"
	"github.com/robo-backup/robo/internal/state"
)

// ApplyView renders the outcome of an apply.
type ApplyView interface {
	Result(r *apply.Result) error
}

// NewApplyView returns the JSON view or the human view.
func NewApplyView(jsonOut bool, w io.Writer) ApplyView {
	if jsonOut {
		return &ApplyJSON{W: w}
	}
	return &ApplyHuman{W: w}
}

// ApplyJSON writes the result document.
type ApplyJSON struct{ W io.Writer }

// Result implements ApplyView.
func (v *ApplyJSON) Result(r *apply.Result) error {
	enc := json.NewEncoder(v.W)
	enc.SetIndent("", "  ")
	return enc.Encode(struct {
		FormatVersion string `json:"format_version"`
		OK            bool   `json:"ok"`
		*apply.Result
	}{"1", r.OK(), r})
}

// ApplyHuman writes the result for a person.
type ApplyHuman struct{ W io.Writer }

// Result implements ApplyView.
func (v *ApplyHuman) Result(r *apply.Result) error {
	var b strings.Builder
	counts := map[string]int{}
	for _, s := range r.Sets {
		counts[s.Outcome]++
		fmt.Fprintf(&b, "%s: %s", safetext.Name(s.Name), s.Outcome)
		if er := s.Result; er != nil {
			fmt.Fprintf(&b, " (%s copied, %s; %s and %s deleted; %s)",
				plural(er.Counters.Files.Copied, "file", "files"), Bytes(er.BytesCopied),
				plural(er.DeletedFiles, "file", "files"), plural(er.DeletedDirs, "dir", "dirs"), er.Duration.Round(1e6))
		}
		b.WriteString("\n")
		if s.Message != "" {
			fmt.Fprintf(&b, "  %s\n", safetext.Line(s.Message))
		}
		for _, h := range s.Hooks {
			if h.OK() {
				fmt.Fprintf(&b, "  Hook %s: ok (%s)\n", h.Phase, h.Duration.Round(1e6))
				continue
			}
			fmt.Fprintf(&b, "  Hook %s failed: %s (%s)\n", h.Phase, safetext.Line(h.Error), h.Duration.Round(1e6))
			for _, l := range lastLines(h.Output, 10) {
				fmt.Fprintf(&b, "    | %s\n", safetext.Line(l))
			}
			if h.LogFile != "" {
				fmt.Fprintf(&b, "    output: %s\n", safetext.Name(h.LogFile))
			}
		}
		if er := s.Result; er != nil {
			for i, e := range er.Errors {
				if i == 20 {
					fmt.Fprintf(&b, "  ... and %d more errors\n", len(er.Errors)-20)
					break
				}
				fmt.Fprintf(&b, "  Error: cannot %s\n", FileError(e))
			}
			for i, e := range er.Changing {
				if i == 20 {
					fmt.Fprintf(&b, "  ... and %d more changing\n", len(er.Changing)-20)
					break
				}
				fmt.Fprintf(&b, "  Changing: %s\n", FileError(e))
			}
			for i, w := range er.Warnings {
				if i == 20 {
					fmt.Fprintf(&b, "  ... and %d more warnings\n", len(er.Warnings)-20)
					break
				}
				fmt.Fprintf(&b, "  Warning: %s\n", safetext.Line(w))
			}
			for i, sk := range er.Skipped {
				if i == 20 {
					fmt.Fprintf(&b, "  ... and %d more skipped\n", len(er.Skipped)-20)
					break
				}
				fmt.Fprintf(&b, "  Skipped %s %s: %s\n", safetext.Line(sk.Action.String()), safetext.Name(sk.Path), safetext.Line(sk.Reason))
			}
		}
	}
	fmt.Fprintf(&b, "\nApply complete: %d succeeded, %d partial, %d refused, %d failed",
		counts[state.Success], counts[state.Partial], counts[state.Refused], counts[state.Failed])
	if n := counts[state.Interrupted]; n > 0 {
		fmt.Fprintf(&b, ", %d interrupted", n)
	}
	b.WriteString(".\n")
	_, err := io.WriteString(v.W, b.String())
	return err
}

// lastLines returns at most n lines from the end of s.
func lastLines(s string, n int) []string {
	s = strings.TrimRight(s, "\r\n")
	if s == "" {
		return nil
	}
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, "\r")
	}
	return lines
}
