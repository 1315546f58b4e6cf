package adopt

import (
	"fmt"
	"time"

	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/state"
)

// Outcomes of importing one set.
const (
	// Imported: the destination agrees with the source; the set is
	// recorded as applied with a successful run.
	Imported = "imported"
	// Differs: the destination does not agree; nothing was recorded.
	Differs = "differs"
	// RecordedDiffering: the destination does not agree, and the set was
	// recorded as applied anyway (Options.AllowDifferences), without a
	// successful run: the next plan syncs the differences.
	RecordedDiffering = "recorded-differing"
	// Skipped: the set is already applied, renamed by a moved block, or
	// disabled; nothing was recorded.
	Skipped = "skipped"
	// Failed: the set was refused or could not be planned.
	Failed = "failed"
)

// Options configure Adopt.
type Options struct {
	// AllowDifferences records a set whose destination differs.
	AllowDifferences bool
	Now              time.Time
}

// Result is the outcome for one set.
type Result struct {
	Name    string `json:"name"`
	Outcome string `json:"outcome"`
	Message string `json:"message"`
}

// OK reports whether the outcome asks nothing more of the user.
func (r Result) OK() bool { return r.Outcome == Imported || r.Outcome == Skipped }

// Adopt decides, for each configured set in p (a refreshed plan made
// against st), whether it can be recorded, and records it in st. Sets the
// plan would forget are not part of an import and are left out.
func Adopt(p *plan.Plan, st *state.State, opts Options) []Result {
	var out []Result
	for _, s := range p.Sets {
		if s.Action == plan.Forget {
			continue
		}
		r := Result{Name: s.Name}
		rec := st.Sets[s.Name]
		switch {
		case s.MovedFrom != "":
			r.Outcome, r.Message = Skipped, fmt.Sprintf("the state records it as %s: apply the moved block (robo apply) instead", s.MovedFrom)
		case rec != nil && rec.ConfigDigest != "":
			r.Outcome, r.Message = Skipped, "already applied: robo import only adopts sets robo has not applied (robo state rm NAME first to import it again)"
		case s.Spec == nil:
			r.Outcome, r.Message = Skipped, s.Reason
		case s.Refused != "":
			r.Outcome, r.Message = Failed, "refused: "+s.Refused
		case s.Error != "":
			r.Outcome, r.Message = Failed, s.Error
		case agrees(s):
			r.Outcome, r.Message = Imported, "the destination already matches the source; recorded as applied"
			if s.Summary != nil && s.Summary.ExtraFiles > 0 {
				r.Message += fmt.Sprintf(" (%d extra %s in the destination %s kept: copy mode never deletes)",
					s.Summary.ExtraFiles, plural(s.Summary.ExtraFiles, "file", "files"), plural(s.Summary.ExtraFiles, "is", "are"))
			}
			now := opts.Now.UTC()
			st.Sets[s.Name] = record(s, rec, now)
			st.Sets[s.Name].LastRun = &state.Run{Started: now, Outcome: state.Success, Message: "imported: the destination already matched the source"}
			st.Sets[s.Name].LastSuccess = &now
		case opts.AllowDifferences:
			r.Outcome, r.Message = RecordedDiffering, "the destination differs (listed above); recorded as applied anyway: the next apply syncs the differences"
			st.Sets[s.Name] = record(s, rec, opts.Now.UTC())
		default:
			r.Outcome, r.Message = Differs, "the destination differs (listed above); nothing was recorded"
		}
		out = append(out, r)
	}
	return out
}

// agrees reports whether applying the set would change no file: no
// operation, nothing unreadable, no versions to prune.
func agrees(s *plan.Set) bool {
	return s.Changes.Len() == 0 && len(s.ScanErrors) == 0 && len(s.PruneVersions) == 0
}

// record is the state entry of an imported set, built on the record an
// earlier refused or failed run left, if any.
func record(s *plan.Set, prev *state.Set, now time.Time) *state.Set {
	rec := &state.Set{Name: s.Name}
	if prev != nil {
		r := *prev
		rec = &r
	}
	rec.ConfigDigest, rec.Source, rec.Destination, rec.Mode, rec.Engine = s.ConfigDigest, s.Source, s.Destination, s.Mode, s.Engine
	rec.AppliedAt = &now
	return rec
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
