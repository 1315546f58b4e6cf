package main

import (
	"encoding/json"

	"github.com/hashicorp/hcl/v2"

	"github.com/robo-backup/robo/schema"
)

func runValidate(e *env, args []string) error {
	fs := newFlags(e, "validate", "validate [-json] [-var name=value]...")
	jsonOut := fs.Bool("json", false, "print the result as JSON")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := noArgs(fs, "validate", "to validate another directory, name it before the command: robo -chdir DIR validate"); err != nil {
		return err
	}
	if !*jsonOut {
		cfg, err := loadConfig(e, vars)
		if err != nil {
			return err
		}
		e.printf("The configuration is valid: %d backup %s, %d %s.\n", len(cfg.Backups), pluralWord(len(cfg.Backups), "set", "sets"),
			len(cfg.Schedules), pluralWord(len(cfg.Schedules), "schedule", "schedules"))
		return nil
	}
	_, diags := schema.Load(e.dir, schemaOptions(e, vars))
	out := validateJSON{FormatVersion: "1", Valid: !diags.HasErrors(), Diagnostics: []diagJSON{}}
	for _, d := range diags {
		dj := diagJSON{Summary: d.Summary, Detail: d.Detail, Severity: "error"}
		if d.Severity == hcl.DiagWarning {
			dj.Severity = "warning"
			out.WarningCount++
		} else {
			out.ErrorCount++
		}
		if d.Subject != nil {
			dj.Range = &rangeJSON{Filename: d.Subject.Filename,
				Start: posJSON{d.Subject.Start.Line, d.Subject.Start.Column, d.Subject.Start.Byte},
				End:   posJSON{d.Subject.End.Line, d.Subject.End.Column, d.Subject.End.Byte}}
		}
		out.Diagnostics = append(out.Diagnostics, dj)
	}
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	if !out.Valid {
		return exitErr(exitError)
	}
	return nil
}

type validateJSON struct {
	FormatVersion string     `json:"format_version"`
	Valid         bool       `json:"valid"`
	ErrorCount    int        `json:"error_count"`
	WarningCount  int        `json:"warning_count"`
	Diagnostics   []diagJSON `json:"diagnostics"`
}

type diagJSON struct {
	Severity string     `json:"severity"`
	Summary  string     `json:"summary"`
	Detail   string     `json:"detail"`
	Range    *rangeJSON `json:"range,omitempty"`
}

type rangeJSON struct {
	Filename string  `json:"filename"`
	Start    posJSON `json:"start"`
	End      posJSON `json:"end"`
}

type posJSON struct {
	Line   int `json:"line"`
	Column int `json:"column"`
	Byte   int `json:"byte"`
}
