package views

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/safetext"
)

// PlanView renders a plan.
type PlanView interface {
	Plan(p *plan.Plan) error
}

// DefaultMaxChanges is how many file operations per set the human view
// lists before it cuts the list with a count.
const DefaultMaxChanges = 25

// NewPlanView returns the JSON view or the human view.
func NewPlanView(jsonOut bool, w io.Writer, verbose bool) PlanView {
	if jsonOut {
		return &PlanJSON{W: w}
	}
	max := DefaultMaxChanges
	if verbose {
		max = -1
	}
	return &PlanHuman{W: w, MaxChanges: max}
}

// PlanJSON writes the plan document.
type PlanJSON struct{ W io.Writer }

// Plan implements PlanView. The document is streamed (plan.WriteJSON),
// the same bytes a json.Encoder indented by two spaces writes.
func (v *PlanJSON) Plan(p *plan.Plan) error {
	return p.WriteJSON(v.W)
}

// PlanHuman writes the plan for a person.
type PlanHuman struct {
	W io.Writer
	// MaxChanges cuts each set's list (negative: no limit).
	MaxChanges int
}

// Plan implements PlanView.
func (v *PlanHuman) Plan(p *plan.Plan) error {
	var b strings.Builder
	counts := map[plan.Action]int{}
	var files, deletes, bytes int64
	failed := 0
	for _, s := range p.Sets {
		if err := v.set(&b, s); err != nil {
			return err
		}
		if s.Failed() {
			failed++
			continue
		}
		counts[s.Action]++
		if s.Summary != nil {
			files += s.Summary.NewFiles + s.Summary.ChangedFiles
			deletes += s.Summary.FilesToDelete
			bytes += s.Summary.BytesToCopy
		}
	}
	if len(p.Sets) == 0 {
		b.WriteString("No backup sets are configured.\n\n")
	}
	if !p.Refresh {
		b.WriteString("Note: -refresh=false: the trees were not read, so no file operations are listed.\n\n")
	}
	fmt.Fprintf(&b, "Plan: %d to create, %d to update, %d to sync, %d to forget, %d unchanged",
		counts[plan.Create], counts[plan.Update], counts[plan.Sync], counts[plan.Forget], counts[plan.Noop])
	if n := moves(p); n > 0 {
		fmt.Fprintf(&b, ", %d to move", n)
	}
	if failed > 0 {
		fmt.Fprintf(&b, ", %d refused or failed", failed)
	}
	if p.Refresh {
		fmt.Fprintf(&b, ". %s to copy (%s), %s to delete.", plural(files, "file", "files"), Bytes(bytes), plural(deletes, "file", "files"))
	} else {
		b.WriteString(".")
	}
	b.WriteString("\n")
	_, err := io.WriteString(v.W, b.String())
	return err
}

// moves counts the sets a moved block renames (plan.Set.MovedFrom).
func moves(p *plan.Plan) int {
	n := 0
	for _, s := range p.Sets {
		if s.MovedFrom != "" {
			n++
		}
	}
	return n
}

// set writes one set into b. A long list of changes is written out to
// v.W as it goes, so that -verbose never holds it all.
func (v *PlanHuman) set(b *strings.Builder, s *plan.Set) error {
	if s.MovedFrom != "" {
		fmt.Fprintf(b, "# %s has moved to %s\n", safetext.Name(s.MovedFrom), safetext.Name(s.Name))
	}
	// Every name and message is shown through safetext: a file name can
	// hold any byte, and a raw CR, newline or escape sequence would let
	// it rewrite the lines above the confirmation prompt. Each change
	// stays on one line whatever its name holds.
	header := fmt.Sprintf("%s (%s)", s.Action, safetext.Line(s.Reason))
	if s.Failed() {
		// A refused or failed set does nothing: its header says so
		// rather than the action it would have had.
		// (issue 20: a set whose source is missing said "noop
		// (configuration unchanged)" above its refusal).
		header = "refused"
		if s.Refused == "" {
			header = "failed"
		}
		if s.Action == plan.Create || s.Action == plan.Update {
			header += fmt.Sprintf(" (%s)", safetext.Line(s.Reason))
		}
	}
	fmt.Fprintf(b, "# %s: %s\n", safetext.Name(s.Name), header)
	if s.Action != plan.Forget && s.Spec != nil {
		eng := s.Engine
		if eng == "" {
			eng = "no"
		}
		fmt.Fprintf(b, "  %s -> %s (%s, %s engine)\n", safetext.Name(s.Source), safetext.Name(s.Destination), s.Mode, safetext.Name(eng))
	}
	for _, w := range s.Warnings {
		fmt.Fprintf(b, "  Warning: %s\n", safetext.Line(w))
	}
	for i, e := range s.ScanErrors {
		if i == 5 && v.MaxChanges >= 0 {
			fmt.Fprintf(b, "  ... and %d more unreadable entries\n", len(s.ScanErrors)-5)
			break
		}
		fmt.Fprintf(b, "  Error: cannot %s\n", FileError(e))
	}
	if s.Refused != "" {
		fmt.Fprintf(b, "  Refused: %s\n", safetext.Line(s.Refused))
	}
	if s.Error != "" {
		fmt.Fprintf(b, "  Error: %s\n", safetext.Line(s.Error))
	}
	err := s.Changes.Range(func(i int, c *engine.Change) error {
		if v.MaxChanges >= 0 && i >= v.MaxChanges {
			fmt.Fprintf(b, "    ... and %d more (use -verbose to list all)\n", s.Changes.Len()-i)
			return errEnough
		}
		if b.Len() >= 64<<10 {
			if _, err := io.WriteString(v.W, b.String()); err != nil {
				return err
			}
			b.Reset()
		}
		path := c.Path
		if c.Kind == engine.KindDir {
			path += "/"
		}
		size := ""
		if c.Kind != engine.KindDir {
			size = Bytes(c.Size)
		}
		if c.LinkTo != "" {
			path = safetext.Name(path) + " => " + safetext.Name(c.LinkTo)
		} else {
			path = safetext.Name(path)
		}
		if c.Class == engine.Tweaked {
			fmt.Fprintf(b, "  %3s %-11s %10s  %s  (%s)\n", c.Action.Symbol(), Tag(c), "", path, safetext.Line(strings.Join(engine.DescribeDiffers(c), ", ")))
			return nil
		}
		fmt.Fprintf(b, "  %3s %-11s %10s  %s\n", c.Action.Symbol(), Tag(c), size, path)
		return nil
	})
	if err != nil && err != errEnough {
		return err
	}
	if n := len(s.PruneVersions); n > 0 {
		names := s.PruneVersions
		if v.MaxChanges >= 0 && n > v.MaxChanges {
			names = names[:v.MaxChanges]
		}
		fmt.Fprintf(b, "  Versions to prune (%s/): %s", engine.VersionsDir, strings.Join(names, ", "))
		if len(names) < n {
			fmt.Fprintf(b, " ... and %d more", n-len(names))
		}
		b.WriteString("\n")
	}
	if sum := s.Summary; sum != nil && (s.Changes.Len() > 0 || sum.ExtraFiles > 0 || sum.Mismatches > 0 || sum.VersionsToPrune > 0) {
		fmt.Fprintf(b, "  Summary: %s\n", summaryLine(s))
		if o := sum.Offsite; o != nil {
			fmt.Fprintf(b, "  Offsite: %s\n", offsiteLine(o))
		}
	}
	b.WriteString("\n")
	return nil
}

// errEnough ends a listing cut at MaxChanges.
var errEnough = errors.New("enough")

func summaryLine(s *plan.Set) string {
	sum := s.Summary
	var parts []string
	add := func(n int64, one, many string) {
		if n > 0 {
			parts = append(parts, plural(n, one, many))
		}
	}
	add(sum.NewFiles, "new file", "new files")
	add(sum.HardLinks, "hard link", "hard links")
	if sum.ChangedFiles > 0 {
		var by []string
		for _, x := range []struct {
			n    int64
			what string
		}{{sum.Newer, "newer"}, {sum.Older, "older"}, {sum.Changed, "changed size"}} {
			if x.n > 0 {
				by = append(by, fmt.Sprintf("%d %s", x.n, x.what))
			}
		}
		parts = append(parts, plural(sum.ChangedFiles, "changed file", "changed files")+" ("+strings.Join(by, ", ")+")")
	}
	add(sum.NewDirs, "new dir", "new dirs")
	if s.Mode == "mirror" {
		add(sum.FilesToDelete, "extra file to delete", "extra files to delete")
		add(sum.ExtraDirs, "extra dir to delete", "extra dirs to delete")
	} else if sum.ExtraFiles+sum.ExtraDirs > 0 {
		parts = append(parts, fmt.Sprintf("%s and %s only in the destination (kept: copy mode)", plural(sum.ExtraFiles, "file", "files"), plural(sum.ExtraDirs, "dir", "dirs")))
	}
	add(sum.Mismatches, "mismatch", "mismatches")
	add(sum.StaleTempFiles, "stale temporary file to remove", "stale temporary files to remove")
	add(sum.Tweaked, "tweaked (metadata only)", "tweaked (metadata only)")
	if sum.FilesToVersion > 0 {
		parts = append(parts, fmt.Sprintf("%s to keep in %s (%s)", plural(sum.FilesToVersion, "old file", "old files"), engine.VersionsDir, Bytes(sum.BytesToVersion)))
	}
	add(sum.VersionsToPrune, "old versions folder to prune", "old versions folders to prune")
	return strings.Join(parts, ", ") + "; " + Bytes(sum.BytesToCopy) + " to copy"
}

// offsiteLine is what a remote set's apply sends: "1,204 uploads (3.2
// GiB), 12 deletions, about 2,430 requests to remote offsite (webdav)".
func offsiteLine(o *plan.Offsite) string {
	up := "uploads"
	if o.Uploads == 1 {
		up = "upload"
	}
	del := "deletions"
	if o.Deletions == 1 {
		del = "deletion"
	}
	return fmt.Sprintf("%s %s (%s), %s %s, about %s to remote %s (%s)",
		thousands(o.Uploads), up, Bytes(o.UploadBytes), thousands(o.Deletions), del,
		thousands(o.Requests)+" "+map[bool]string{true: "request", false: "requests"}[o.Requests == 1],
		safetext.Name(o.Remote), safetext.Name(o.Type))
}

// thousands writes n with comma separators (1,204).
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
