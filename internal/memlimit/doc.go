// Package memlimit owns robo's soft memory limit: the Go runtime's
// debug.SetMemoryLimit, which robo sets when the GOMEMLIMIT environment
// variable does not (docs/performance.md, "Memory flat in the number of
// changes").
//
// robo's working set is bounded by design (change lists and directory sets
// spill to disk), and without a limit the collector lets the heap grow to
// twice its largest live size: a 10-million-file first copy once peaked at
// 160 MiB with a live heap under 10 MB. The limit is Base, raised by the
// reservations of the components that hold large buffers on purpose (an
// offsite connection's upload part buffers), so that a working set which
// is large by design does not keep the collector running. It is a soft
// limit: past it the collector runs more often (at most about half the
// CPU), nothing fails.
package memlimit
