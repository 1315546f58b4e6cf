package web

import (
	"sync/atomic"

	"github.com/robo-backup/robo/internal/plan"
)

// A sharedPlan is a plan that several holders read at once. Its change
// lists may spill to nameless files, which plan.Plan.Close releases, so
// its lifetime is counted: each holder has one reference, the cache entry
// or the review that keeps it, each request reading it, and the run
// applying it (Backend.ApplyPlan's done). The last release closes the
// plan, once. A reference is only ever taken (acquire) from a holder that
// still has its own, under the lock that guards that holder, so a closed
// plan is never handed out and no change list is read after its Close.
type sharedPlan struct {
	p    *plan.Plan
	refs atomic.Int64
}

// share returns p with one reference, the caller's.
func share(p *plan.Plan) *sharedPlan {
	sp := &sharedPlan{p: p}
	sp.refs.Store(1)
	return sp
}

// acquire adds a reference for a new holder; nil-safe.
func (sp *sharedPlan) acquire() *sharedPlan {
	if sp != nil {
		sp.refs.Add(1)
	}
	return sp
}

// release drops a holder's reference; the last one closes the plan.
// nil-safe.
func (sp *sharedPlan) release() {
	if sp != nil && sp.refs.Add(-1) == 0 {
		closePlan(sp.p)
	}
}

// closePlan closes a plan whose last reference went (a variable so that
// the tests can count the closes of each plan).
var closePlan = (*plan.Plan).Close
