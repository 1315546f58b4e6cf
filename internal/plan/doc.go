// Package plan owns the plan: for each backup set, what robo would do and
// why (create, update, sync, noop, forget), the file operations in robocopy's
// terms, and the safety decisions (refusals) taken before any data is
// touched.
//
// Build reads a schema.Config, the recorded state.State and, with refresh,
// both trees through an engine's Scan. It writes nothing, prints nothing and
// logs nothing: a Plan is a plain value that serialises to JSON (saved plan
// files and `robo plan -json` are the same document) and that renderers in
// internal/views present. internal/apply consumes a Plan and never
// re-decides it.
package plan
