package plan

import (
	"context"

	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/schema"
)

// Moved blocks (docs/configuration.md, "moved block"): a set renamed from
// From to To is planned against From's state entry, and apply moves that
// entry (Set.MovedFrom), so the set keeps its last run, last success and
// health.

// movesToApply returns, by new name, the old name of every moved block the
// state calls for: From is recorded and To is not. A block whose From is
// not recorded has nothing to do; one whose To is recorded too is ignored
// (Build warns on the set).
func movesToApply(cfg *schema.Config, recorded map[string]*state.Set) map[string]string {
	moves := map[string]string{}
	for _, m := range cfg.Moves {
		if recorded[m.From] != nil && recorded[m.To] == nil {
			moves[m.To] = m.From
		}
	}
	return moves
}

// planMoved plans set b, which the state knows as from. The recorded
// configuration counts as unchanged when it is b's under the old name: a
// rename alone is not an update.
func planMoved(ctx context.Context, in Input, b *schema.Backup, from string, rec *state.Set) *Set {
	r := *rec
	old := *b
	old.Name = from
	if r.ConfigDigest != "" && r.ConfigDigest == SetDigest(in.Config, &old) {
		r.ConfigDigest = SetDigest(in.Config, b)
	}
	s := planSet(ctx, in, b, &r)
	s.MovedFrom = from
	s.Reason += "; renamed from " + from
	return s
}
