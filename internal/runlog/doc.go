// Package runlog writes the run log of one set's native-engine run in
// robocopy's log layout (FORMAT.md), so that `robo robocopy parse` and any
// tool that reads robocopy logs read it back, and prunes old run logs.
//
// The log is UTF-8 with CRLF line ends (robocopy's own line end, on every
// OS). It is written as the run goes: the header when the run starts, one
// body line per finished change (in the order the engine reports them, so
// lines of parallel copies interleave as under robocopy /MT), and the
// summary table when the engine returns. It looks like a log of robocopy
// run with /BYTES /FP /NP: plain byte counts and full paths.
//
// The banner keeps robocopy's "ROBOCOPY     ::" product field, which is what
// log parsers (robo's included) use to find the start of a job, and names
// robo's native engine as the tool that wrote it.
package runlog
