package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestWatchLogJSONToFile(t *testing.T) {
	conf, _ := testConfig(t)
	if err := os.WriteFile(filepath.Join(conf, "main.hcl"), []byte("backup \"docs\" {\n  source = \"../src\"\n  destination = \"../dst\"\n  watch = true\n}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	logFile := filepath.Join(t.TempDir(), "logs", "robo.log")
	e, _, stderr := testEnv("", false)
	if code := run([]string{"-log-format", "json", "-log-level", "debug", "-log-file", logFile, "-chdir", conf, "watch", "-once"}, e); code != exitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	f, err := os.Open(logFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var msgs []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var line map[string]any
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatalf("log line is not JSON: %v: %s", err, sc.Text())
		}
		lvl, _ := line["@level"].(string)
		msg, _ := line["@message"].(string)
		if lvl == "" || msg == "" {
			t.Errorf("log line lacks @level or @message: %s", sc.Text())
		}
		msgs = append(msgs, lvl+" "+msg)
	}
	all := strings.Join(msgs, "\n")
	if !strings.Contains(all, "info run started") || !strings.Contains(all, "info run finished") {
		t.Errorf("log lacks the run lines:\n%s", all)
	}
	if strings.Contains(stderr.String(), "run started") {
		t.Errorf("the log went to stderr too: %s", stderr)
	}
}

func TestLogFlagsRejected(t *testing.T) {
	for _, args := range [][]string{
		{"-log-format", "xml", "version"},
		{"-log-level", "loud", "version"},
		{"-log-file", "x.log", "-log-file-max-size", "0", "version"},
	} {
		e, _, stderr := testEnv("", false)
		if code := run(args, e); code != exitError || !strings.Contains(stderr.String(), "robo: error: "+args[0]) {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr)
		}
	}
}

func TestLogFileRotation(t *testing.T) {
	dir := t.TempDir()
	o := &logOptions{format: "json", file: filepath.Join(dir, "robo.log"), maxSizeMB: 1, keep: 2}
	if err := o.check(); err != nil {
		t.Fatal(err)
	}
	e, _, _ := testEnv("", false)
	e.logOpts = o
	log, err := e.logger("")
	if err != nil {
		t.Fatal(err)
	}
	pad := strings.Repeat("x", 1000)
	for i := range 3500 { // about 3.5 MB: three rotations
		log.Info("filler", "i", i, "pad", pad)
	}
	o.close()
	const limit = 1 << 20
	// Old files beyond the kept count are removed in the background.
	var names []string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		names = names[:0]
		for _, de := range ents {
			names = append(names, de.Name())
		}
		if len(names) == 3 || time.Now().After(deadline) {
			break
		}
	}
	if len(names) != 3 {
		t.Fatalf("files %v, want robo.log and 2 rotated files", names)
	}
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Size() > limit {
			t.Errorf("%s is %d bytes, above the 1 MB limit", n, fi.Size())
		}
		if n != "robo.log" && fi.Size() < limit-2000 {
			t.Errorf("rotated %s is %d bytes: rotated before the limit", n, fi.Size())
		}
	}
}
