package robocopy

// ReportJob is one job of `robo robocopy parse -json` (format version 2):
// the header, the summary (null when the log has none: a killed or fatal
// run, unknown and not zero), the errors (code null when robocopy printed
// none), the notes, every file and directory line with its tag, and the
// lines the parser could not recognise (count and first lines), so that
// nobody is told a log parsed cleanly when lines were dropped.
type ReportJob struct {
	File         string   `json:"file"`
	Source       string   `json:"source"`
	Destination  string   `json:"destination"`
	Options      string   `json:"options"`
	Include      []string `json:"include"`
	ExcludeFiles []string `json:"exclude_files"`
	ExcludeDirs  []string `json:"exclude_dirs"`
	Started      string   `json:"started"`
	Ended        string   `json:"ended"`
	Language     string   `json:"language"`
	Banner       string   `json:"banner"`
	Version      string   `json:"version,omitempty"`
	Summary      *Summary `json:"summary"`
	Errors       []Error  `json:"errors"`
	Notes        []string `json:"notes"`
	Fatal        bool     `json:"fatal"`
	Truncated    bool     `json:"truncated"`
	Retries      int      `json:"retries"`
	// FileClasses and DirClasses count the lines by normalized class
	// ("unknown: <tag>" for a tag robo does not know, "walked" for a
	// directory without tag).
	FileClasses map[string]int `json:"file_classes"`
	DirClasses  map[string]int `json:"dir_classes"`
	Files       []FileEntry    `json:"files"`
	Dirs        []DirEntry     `json:"dirs"`
	// UnrecognizedCount counts every line the parser could not classify;
	// Unrecognized holds the first of them.
	UnrecognizedCount int      `json:"unrecognized_count"`
	Unrecognized      []string `json:"unrecognized"`
}

// ReportFormatVersion is the format_version of ReportJob documents.
const ReportFormatVersion = "2"

// JobReport builds the report of one parsed job.
func JobReport(j Job) ReportJob {
	nz := func(s []string) []string {
		if s == nil {
			return []string{}
		}
		return s
	}
	out := ReportJob{Source: j.Source, Destination: j.Destination, Options: j.Options,
		Include: nz(j.Include), ExcludeFiles: nz(j.ExcludeFiles), ExcludeDirs: nz(j.ExcludeDirs),
		Started: j.Started, Ended: j.Ended, Language: j.Language, Banner: j.Banner, Version: j.Version,
		Summary: j.Summary, Errors: j.Errors, Notes: nz(j.Notes), Fatal: j.Fatal, Truncated: j.Truncated, Retries: j.Retries,
		FileClasses: map[string]int{}, DirClasses: map[string]int{}, Files: j.Files, Dirs: j.Dirs,
		UnrecognizedCount: j.UnrecognizedCount, Unrecognized: nz(j.Unrecognized)}
	if out.Errors == nil {
		out.Errors = []Error{}
	}
	if out.Files == nil {
		out.Files = []FileEntry{}
	}
	if out.Dirs == nil {
		out.Dirs = []DirEntry{}
	}
	for _, f := range j.Files {
		c := f.Class
		if c == "" {
			c = "unknown: " + f.RawTag
		}
		out.FileClasses[c]++
	}
	for _, d := range j.Dirs {
		c := d.Class
		if c == "" {
			c = "walked"
		}
		out.DirClasses[c]++
	}
	return out
}
