package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/robocopy"
)

// TestApplyRunLog: robo apply with the native engine writes a run log under
// logs/ beside the state that robocopy's parser reads back, prunes old run
// logs, and -json keeps stdout one JSON document with progress on stderr.
func TestApplyRunLog(t *testing.T) {
	conf, _ := testConfig(t)
	os.WriteFile(filepath.Join(conf, "robo.hcl"), []byte("robo {\n  engine = \"native\"\n  log_retention = \"7d\"\n}\n"), 0o644)
	logs := filepath.Join(conf, ".robo", "logs")
	os.MkdirAll(logs, 0o755)
	old := filepath.Join(logs, "hook-docs-before-20200101T000000Z-1.log")
	os.WriteFile(old, nil, 0o644)
	past := time.Now().Add(-8 * 24 * time.Hour)
	os.Chtimes(old, past, past)

	e, out, errb := testEnv("", false)
	if code := run([]string{"-chdir", conf, "apply", "-auto-approve", "-json"}, e); code != exitOK {
		t.Fatalf("exit %d: %s", code, errb)
	}
	if !json.Valid(out.Bytes()) {
		t.Errorf("stdout is not one JSON document: %s", out)
	}
	var sawDone bool
	for _, l := range strings.Split(strings.TrimSpace(errb.String()), "\n") {
		var ev progressEvent
		if json.Unmarshal([]byte(l), &ev) == nil && ev.Type == "set_done" && ev.Set == "docs" && ev.FilesDone == 1 {
			sawDone = true
		}
	}
	if !sawDone {
		t.Errorf("no set_done progress event on stderr: %s", errb)
	}
	if _, err := os.Stat(old); !os.IsNotExist(err) {
		t.Errorf("the 8-day-old hook log was not pruned (log_retention = 7d): %v", err)
	}
	m, _ := filepath.Glob(filepath.Join(logs, "native-run-docs-*.log"))
	if len(m) != 1 {
		t.Fatalf("run logs %q", m)
	}
	b, err := os.ReadFile(m[0])
	if err != nil {
		t.Fatal(err)
	}
	j := robocopy.ParseBytes(b).Jobs[0]
	if j.Summary == nil || j.Summary.Files.Copied != 1 || len(j.Files) != 1 || !strings.HasSuffix(j.Files[0].Path, "a.txt") {
		t.Errorf("run log parsed as %+v", j)
	}
}
