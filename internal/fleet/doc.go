// Package fleet owns what a host shares with the rest of its fleet through
// a folder (local or on an SMB share, reached through a vfs.FS):
//
//   - the host's report (report.go): one JSON document per host, HOST.json,
//     built from the configuration and the state after every run and
//     written atomically (a temporary name beside it, then a rename), so a
//     reader never sees half of one;
//   - reading a folder of reports (status.go): every report is hostile
//     input, size-capped, validated and never trusted to name another
//     host; the result says which hosts are ok, failing, stale (no report
//     within a set's schedule plus a margin) or on an old version;
//   - the host's published age recipient (keys.go): HOST.txt, written the
//     same way, and the validation of a folder of them for
//     robo secret recipients sync;
//   - Prometheus metrics of one report (metrics.go): a prometheus.Collector
//     and the text-format textfile that windows_exporter's and
//     node_exporter's textfile collectors read.
//
// It decides nothing about secrets (internal/secrets keeps the recipients
// and re-encrypts) and prints nothing: cmd/robo renders, and shows every
// name from a report through internal/safetext.
package fleet
