// Package views owns how robo presents plans and apply results: a human
// view and a JSON view of the same data, chosen once per command. Nothing
// here decides anything; it renders plan.Plan and apply.Result values.
package views
