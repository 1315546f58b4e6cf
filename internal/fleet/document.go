package fleet

import "sort"

// DocumentFormatVersion is the version of Document (robo fleet status
// -json, the dashboard's GET /api/fleet).
const DocumentFormatVersion = "1"

// Document is a Status as robo fleet status -json and GET /api/fleet
// print it: the folder's path beside the status.
type Document struct {
	FormatVersion string `json:"format_version"`
	Path          string `json:"path"`
	*Status
}

// NewDocument returns st's document for the folder path.
func NewDocument(path string, st *Status) Document {
	return Document{FormatVersion: DocumentFormatVersion, Path: path, Status: st}
}

var stateOrder = map[State]int{Invalid: 0, Stale: 1, Failing: 2, OK: 3}

// ProblemsFirst returns a copy of hosts ordered worst state first
// (invalid, stale, failing, ok), by name within a state as Read sorts them.
func ProblemsFirst(hosts []Host) []Host {
	out := append([]Host(nil), hosts...)
	sort.SliceStable(out, func(i, j int) bool { return stateOrder[out[i].State] < stateOrder[out[j].State] })
	return out
}
