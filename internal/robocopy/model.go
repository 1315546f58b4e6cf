package robocopy

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/robo-backup/robo/internal/engine"
)

// Log is a parsed robocopy log: one or more jobs (/LOG+ and /UNILOG+ append
// complete jobs one after another).
type Log struct {
	// Encoding names the text encoding the bytes were decoded with, e.g.
	// "utf-16le", "utf-8", "cp850", "cp932".
	Encoding string `json:"encoding"`
	Jobs     []Job  `json:"jobs"`
}

// Job is one robocopy run as printed between its banner and its summary.
// Texts that robocopy prints in the machine's locale (dates, error actions,
// system messages) are kept as printed.
type Job struct {
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// Options is the effective option line as printed ("*.* /S /E /DCOPY:DA
	// /COPY:DAT /R:2 /W:10"), trailing space removed.
	Options string `json:"options"`
	// Include, ExcludeFiles and ExcludeDirs are the header's "Files",
	// "Exc Files" and "Exc Dirs" blocks.
	Include      []string `json:"include,omitempty"`
	ExcludeFiles []string `json:"exclude_files,omitempty"`
	ExcludeDirs  []string `json:"exclude_dirs,omitempty"`
	// Started and Ended are the raw date texts (locale-dependent).
	Started string `json:"started"`
	Ended   string `json:"ended"`

	Files  []FileEntry `json:"files"`
	Dirs   []DirEntry  `json:"dirs"`
	Errors []Error     `json:"errors"`
	// Retries counts "Waiting N seconds... Retrying..." messages.
	Retries int `json:"retries"`

	// Summary is nil when the log has no (complete) summary: a killed,
	// truncated or fatal run. That means unknown, NOT zero.
	Summary *Summary `json:"summary"`
	// Fatal is set when the job stopped on a fatal error: a parameter or
	// privilege error ("ERROR : ..."), or errors with no file, directory or
	// summary lines (e.g. "Accessing Source Directory", exit code 16).
	Fatal bool `json:"fatal"`
	// Truncated is set when there is no summary and no fatal error: the log
	// ends (or the next job starts) mid-run.
	Truncated bool `json:"truncated"`

	// Notes are robocopy's "NOTE : ..." lines (e.g. "Security may not be
	// copied"): information, not errors.
	Notes []string `json:"notes,omitempty"`

	// Language is the display language of the output, from the banner
	// ("en", "de", "fr", ...), or "" when the banner is missing or unknown.
	Language string `json:"language,omitempty"`
	// Banner is the product line as printed, trimmed.
	Banner string `json:"banner,omitempty"`
	// Version is the version printed in the banner by old builds
	// ("XP010"), or "".
	Version string `json:"version,omitempty"`

	// UnrecognizedCount counts the lines the parser could not classify;
	// Unrecognized holds the first of them (at most maxUnrecognized).
	UnrecognizedCount int      `json:"unrecognized_count"`
	Unrecognized      []string `json:"unrecognized,omitempty"`
}

// FileEntry is one file line of the body.
type FileEntry struct {
	// Class is the normalized English class: "New File", "Newer", "Older",
	// "Changed", "Same", "Tweaked", "Modified", "*EXTRA File", "*MISMATCH",
	// or a lowercase skipped class from /V ("same", "newer", "older",
	// "changed", "tweaked", "lonely", "named", "attrib", "extra"); "" when the
	// (localized) tag is not known.
	Class string `json:"class"`
	// RawTag is the class tag as printed, trimmed.
	RawTag string `json:"raw_tag"`
	// Size in bytes, as robocopy computes it from a "1.2 m" column (k=1024,
	// rounded); -1 when the log has no size (/NS).
	Size int64 `json:"size"`
	// Path is the name as printed: relative to the directory of the last
	// dir line, or a full path under /FP and /MT.
	Path string `json:"path"`
	// FullPath is Path resolved against the last dir line (for *EXTRA File,
	// against the matching destination directory); "" when unknown.
	FullPath string `json:"full_path,omitempty"`
	// Timestamp is the source time printed with /TS, as printed.
	Timestamp string `json:"timestamp,omitempty"`
}

// DirEntry is one directory line of the body.
type DirEntry struct {
	// Class is "New Dir", "*EXTRA Dir", "*MISMATCH", a lowercase /V class
	// ("lonely", "named", ...), or "" for an existing directory that was
	// walked (and for unknown localized tags; see RawTag).
	Class  string `json:"class"`
	RawTag string `json:"raw_tag,omitempty"`
	// Count is the number of matching files in the directory; -1 for extra.
	Count int64  `json:"count"`
	Path  string `json:"path"`
}

// Error is one "YYYY/MM/DD hh:mm:ss ERROR n (0x...) action path" line with
// its message, or a fatal parameter or privilege error ("ERROR : text"),
// which has no code (HasCode false, printed as "code": null).
type Error struct {
	Code    int  `json:"code"`
	HasCode bool `json:"-"`
	// Fatal marks a parameter or privilege error: robocopy stopped.
	Fatal bool `json:"fatal,omitempty"`
	// Action is the localized action phrase ("Copying File",
	// "Accessing Source Directory", "Копирование файла").
	Action string `json:"action"`
	Path   string `json:"path"`
	// Message is the system message printed on the next line.
	Message string `json:"message"`
	// Time is the timestamp as printed ("2025/11/18 23:30:15").
	Time string `json:"time"`
	// RetryLimitExceeded is set when "ERROR: RETRY LIMIT EXCEEDED." followed:
	// robocopy gave up on this item.
	RetryLimitExceeded bool `json:"retry_limit_exceeded,omitempty"`
}

// Summary holds the counters printed at the end of a job.
type Summary struct {
	Dirs  Row `json:"dirs"`
	Files Row `json:"files"`
	// Bytes are converted from robocopy's "13.749 g" notation (k=1024), so
	// they are approximate unless /BYTES was used.
	Bytes Row       `json:"bytes"`
	Times *TimesRow `json:"times"`
	// SpeedBytesPerSec and SpeedMegaBytesPerMin are nil when not printed
	// (no bytes copied, /L, old builds).
	SpeedBytesPerSec     *int64   `json:"speed_bytes_per_sec"`
	SpeedMegaBytesPerMin *float64 `json:"speed_megabytes_per_min"`
}

// Row is one summary row: the engine model's, so a parsed summary is a
// result's counters as they are.
type Row = engine.Row

// TimesRow is the Times row as printed ("H:MM:SS"); see [ParseElapsed].
type TimesRow struct {
	Total  string `json:"total"`
	Copied string `json:"copied"`
	Failed string `json:"failed"`
	Extras string `json:"extras"`
}

const maxUnrecognized = 100

// MarshalJSON writes "code": null for an error printed without a code.
func (e Error) MarshalJSON() ([]byte, error) {
	type plain Error
	var code *int
	if e.HasCode {
		code = &e.Code
	}
	return json.Marshal(struct {
		Code *int `json:"code"`
		plain
	}{code, plain(e)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (e *Error) UnmarshalJSON(b []byte) error {
	type plain Error
	var v struct {
		Code *int `json:"code"`
		plain
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*e = Error(v.plain)
	if v.Code != nil {
		e.Code, e.HasCode = *v.Code, true
	}
	return nil
}

// describe is the error in words: "error 5 (0x00000005): Access is
// denied." or the fatal message.
func (e Error) describe() string {
	msg := strings.TrimSpace(e.Message)
	if !e.HasCode {
		return msg
	}
	if msg == "" {
		return fmt.Sprintf("error %d (0x%08X)", e.Code, e.Code)
	}
	return fmt.Sprintf("error %d (0x%08X): %s", e.Code, e.Code, msg)
}
