// Package schema owns robo's configuration language: it reads every *.hcl file
// of a config directory as one configuration, evaluates variables, locals and
// functions, checks every block and attribute, and returns a typed Config with
// hcl.Diagnostics that point at file:line:col.
//
// It decides what the configuration says, not what to do about it: plans,
// state and engines live elsewhere (internal/plan, internal/state,
// internal/engine). It imports only hcl, cty and the cron parser, never
// robo's internal packages, so every other layer can depend on it.
package schema
