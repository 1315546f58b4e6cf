package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"

	"github.com/robo-backup/robo/internal/robocopy"
	"github.com/robo-backup/robo/internal/safetext"
)

func runRobocopy(e *env, args []string) error {
	return group{name: "robocopy", subs: []subcommand{
		{"parse", "FILE...", "read robocopy logs, e.g. the ones your .bat jobs wrote", runRobocopyParse, false},
	}}.run(e, args)
}

func runRobocopyParse(e *env, args []string) error {
	fs := newFlags(e, "robocopy parse", "robocopy parse [-json] [-encoding NAME] FILE...")
	jsonOut := fs.Bool("json", false, "print one JSON document with a jobs array")
	encName := fs.String("encoding", "", "the log's encoding when it has no byte-order mark (cp437, cp850, cp866, cp932, cp936, utf-8); default: detect")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return fatalf("robo robocopy parse needs at least one log file")
	}
	var opts robocopy.ParseOptions
	if *encName != "" {
		enc, ok := robocopy.EncodingByName(*encName)
		if !ok {
			return fatalf("-encoding %s: unknown encoding", *encName).hint("use cp437, cp850, cp866, cp932, cp936, utf-8 or utf-16le")
		}
		opts.Encoding = enc
	}
	var files []parsedFile
	failed := false
	for _, name := range fs.Args() {
		f, err := os.Open(e.path(name))
		if err != nil {
			failed = true
			files = append(files, parsedFile{File: name, Error: err.Error()})
			if !*jsonOut {
				e.printf("%s: error: %s\n\n", safetext.Name(name), safetext.Line(err.Error()))
			}
			continue
		}
		log, err := robocopy.ParseWith(f, opts)
		f.Close()
		if err != nil {
			failed = true
			files = append(files, parsedFile{File: name, Error: err.Error()})
			if !*jsonOut {
				e.printf("%s: error: %s\n\n", safetext.Name(name), safetext.Line(err.Error()))
			}
			continue
		}
		pf := parsedFile{File: name, Encoding: log.Encoding}
		for _, j := range log.Jobs {
			pf.Jobs = append(pf.Jobs, summarizeJob(j))
		}
		files = append(files, pf)
		if !*jsonOut {
			e.printf("%s:\n", safetext.Name(name))
			// A log's paths and messages are whatever names its files had:
			// each line of the report is escaped (safetext.Line), so none
			// can move the cursor or rewrite the lines above it.
			w := &lineEscaper{w: e.stdout}
			if err := log.WriteText(w); err != nil {
				return err
			}
			if err := w.Flush(); err != nil {
				return err
			}
			e.printf("\n")
		}
	}
	if *jsonOut {
		// One document; jobs of all files in order, each naming its file.
		doc := struct {
			FormatVersion string       `json:"format_version"`
			Jobs          []jobJSON    `json:"jobs"`
			Files         []parsedFile `json:"files"`
		}{robocopy.ReportFormatVersion, []jobJSON{}, files}
		for _, f := range files {
			for _, j := range f.Jobs {
				j.File = f.File
				doc.Jobs = append(doc.Jobs, j)
			}
		}
		for i := range doc.Files {
			doc.Files[i].Jobs = nil
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return err
		}
	}
	if failed {
		return exitErr(exitError)
	}
	return nil
}

type parsedFile struct {
	File     string    `json:"file"`
	Encoding string    `json:"encoding,omitempty"`
	Error    string    `json:"error,omitempty"`
	Jobs     []jobJSON `json:"-"`
}

// jobJSON is one job of `robo robocopy parse -json`; the robocopy package
// defines the document (files, dirs, notes, unrecognized lines).
type jobJSON = robocopy.ReportJob

func summarizeJob(j robocopy.Job) jobJSON { return robocopy.JobReport(j) }

// lineEscaper writes each line it is given through safetext.Line. The
// report's fields never hold a newline (the parser splits the log into
// lines), so every newline it sees ends a line of the report.
type lineEscaper struct {
	w   io.Writer
	buf []byte
}

func (l *lineEscaper) Write(p []byte) (int, error) {
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			return len(p), nil
		}
		if _, err := io.WriteString(l.w, safetext.Line(string(l.buf[:i]))+"\n"); err != nil {
			return 0, err
		}
		l.buf = l.buf[i+1:]
	}
}

// Flush writes a last line that has no newline.
func (l *lineEscaper) Flush() error {
	if len(l.buf) == 0 {
		return nil
	}
	_, err := io.WriteString(l.w, safetext.Line(string(l.buf)))
	l.buf = nil
	return err
}
