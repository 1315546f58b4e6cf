package web

import (
	"encoding/json"
	"time"

	"github.com/robo-backup/robo/internal/engine"
)

// The JSON API keeps names byte for byte by the rule of plan files
// (docs/plan-json.md, "Names"; engine.NameB64): a field that holds a name
// or a line of a log that is not valid UTF-8 is written as encoding/json
// renders it (each invalid byte as U+FFFD) and again, with a "_b64"
// suffix, as the exact bytes in standard base64. Valid UTF-8 gets no
// "_b64" field. /api/plan carries the plan's own twins (path_b64,
// target_b64).

type (
	logFileFields LogFile
	logLineFields LogLine
	runViewFields RunView
)

// MarshalJSON writes the log file with file_b64 when its name is not UTF-8.
func (f LogFile) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		logFileFields
		NameB64 string `json:"file_b64,omitempty"`
	}{logFileFields(f), engine.NameB64(f.Name)})
}

// MarshalJSON writes the line with text_b64 when it is not UTF-8 (a hook's
// output, a name in a log written by another tool).
func (l LogLine) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		logLineFields
		TextB64 string `json:"text_b64,omitempty"`
	}{logLineFields(l), engine.NameB64(l.Text)})
}

// MarshalJSON writes the run with message_b64 and log_b64 when they are
// not UTF-8.
func (r RunView) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		runViewFields
		MessageB64 string `json:"message_b64,omitempty"`
		LogB64     string `json:"log_b64,omitempty"`
	}{runViewFields(r), engine.NameB64(r.Message), engine.NameB64(r.Log)})
}

// MarshalJSON writes the match's file and time beside its line's fields
// (LogLine's own MarshalJSON would otherwise stand for the whole match),
// with file_b64 when the file's name is not UTF-8.
func (m LogMatch) MarshalJSON() ([]byte, error) {
	head, err := json.Marshal(struct {
		File    string    `json:"file"`
		FileB64 string    `json:"file_b64,omitempty"`
		Time    time.Time `json:"time"`
	}{m.File, engine.NameB64(m.File), m.Time})
	if err != nil {
		return nil, err
	}
	line, err := json.Marshal(m.LogLine)
	if err != nil {
		return nil, err
	}
	if len(line) <= 2 { // {}
		return head, nil
	}
	return append(append(head[:len(head)-1], ','), line[1:]...), nil
}
