package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func sample(t *testing.T, name string) string {
	t.Helper()
	p, _ := filepath.Abs(filepath.Join("..", "..", "..", "shared", "robocopy", "samples", name))
	if _, err := os.Stat(p); err != nil {
		t.Skipf("%s: %v (../shared is beside the repository in CI)", name, err)
	}
	return p
}

func TestRobocopyParseJSON(t *testing.T) {
	full := sample(t, "26-older-extra-newdir-newfile-775kb-native-log.log")
	fatal := sample(t, "15-fatal-error3-source-missing-no-summary.log")
	e, out, errb := testEnv("", false)
	if code := run([]string{"robocopy", "parse", "-json", full, fatal}, e); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	var doc struct {
		FormatVersion string `json:"format_version"`
		Jobs          []struct {
			Source  string `json:"source"`
			Summary *struct {
				Files struct{ Total, Copied, Extras int64 }
				Bytes struct{ Total, Copied int64 }
			} `json:"summary"`
			Errors []struct {
				Code   int    `json:"code"`
				Action string `json:"action"`
				Path   string `json:"path"`
			} `json:"errors"`
			Files []struct {
				Class  string `json:"class"`
				RawTag string `json:"raw_tag"`
				Path   string `json:"path"`
			} `json:"files"`
			UnrecognizedCount int      `json:"unrecognized_count"`
			Unrecognized      []string `json:"unrecognized"`
		} `json:"jobs"`
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if doc.FormatVersion != "2" || len(doc.Jobs) != 2 {
		t.Fatalf("%+v", doc)
	}
	s := doc.Jobs[0].Summary
	if s == nil || s.Files.Total != 13013 || s.Files.Copied != 13013 || s.Files.Extras != 6 || s.Bytes.Copied != 156646769 {
		t.Fatalf("summary %+v", s)
	}
	if j := doc.Jobs[1]; j.Summary != nil || len(j.Errors) != 1 || j.Errors[0].Code != 3 || j.Errors[0].Action != "Accessing Source Directory" {
		t.Fatalf("fatal job %+v", j)
	}
	// Issue 15 point 12: every file line with its tag, and the lines the
	// parser could not recognise (sample 15 ends with a time the calling
	// batch file appended).
	if f := doc.Jobs[0].Files; len(f) != 13013+6 || f[0].RawTag == "" {
		t.Fatalf("files %d", len(f))
	}
	if j := doc.Jobs[1]; j.UnrecognizedCount != 1 || len(j.Unrecognized) != 1 || j.Unrecognized[0] != " 4:35:32.04 " {
		t.Fatalf("unrecognized %d %q", j.UnrecognizedCount, j.Unrecognized)
	}
	// A file that cannot be read makes the exit code 1.
	e, out, _ = testEnv("", false)
	if code := run([]string{"robocopy", "parse", full, filepath.Join(t.TempDir(), "missing.log")}, e); code != exitError {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(out.String(), "missing.log: error: open") || !strings.Contains(out.String(), "source:") {
		t.Fatalf("text output %s", out)
	}
}
