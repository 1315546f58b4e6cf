// Package apply owns convergence: it takes a plan.Plan, checks that a saved
// plan is not stale, runs each set's job through the engine the plan chose,
// and records every outcome in the state, writing it after each set so that
// a crash keeps what finished.
//
// It never re-decides the plan: refused and failed sets are reported and
// left alone, forget removes only a state entry, and file operations are
// exactly the plan's. A failing set does not stop the others. Rendering is
// left to internal/views; the caller holds the state lock.
package apply
