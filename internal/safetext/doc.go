// Package safetext owns how untrusted text (file names, paths, log lines,
// error messages that quote them) is shown to a human: on a terminal, in a
// log file, in the dashboard. A name that holds a control character, a
// Unicode format character (such as a bidirectional override) or bytes that
// are not UTF-8 is shown quoted, Go-style, with every such character escaped,
// so no name can move the cursor, recolour the screen, end a line or make one
// name look like another. Names that need no escaping are shown as they are.
//
// The package is a leaf: it imports nothing from robo. It changes only how
// text is displayed; machine formats (plan JSON, state) keep names byte for
// byte in their own way (docs/plan-json.md).
package safetext
