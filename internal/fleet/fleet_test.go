package fleet

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/watch"
	"github.com/robo-backup/robo/schema"
)

var t0 = time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)

// testReport is a host's report with one daily set whose last run had
// outcome at t0-10h, written at t0-10h; its next run is due t0+14h.
func testReport(host, version, outcome string) *Report {
	end := t0.Add(-10 * time.Hour)
	next := t0.Add(14 * time.Hour)
	r := &Report{FormatVersion: FormatVersion, Host: host, RoboVersion: version, ConfigDigest: "sha256:00", GeneratedAt: end,
		Sets: []Set{{Name: "docs", Enabled: true, Health: watch.HealthOK, Schedule: "0 2 * * *", NextRun: &next, StaleAfter: 48 * time.Hour,
			LastRun: &Run{Started: end.Add(-time.Minute), Ended: end, Outcome: outcome, Duration: time.Minute, FilesCopied: 3, BytesCopied: 300}}}}
	if outcome == state.Success {
		r.Sets[0].LastSuccess = &end
	} else {
		r.Sets[0].Health = watch.HealthFailing
		r.Sets[0].LastRun.Message = "copy D:\\x: access denied"
	}
	r.Totals = totals(r.Sets)
	return r
}

// staleReport is a report whose host missed the run due at t0-3h.
func staleReport(host string) *Report {
	r := testReport(host, "1.2.0", state.Success)
	due := t0.Add(-3 * time.Hour)
	r.Sets[0].NextRun = &due
	return r
}

// local is the folder dir as a vfs.FS, closed when the test ends (on
// Windows an open root keeps t.TempDir from removing the folder).
func local(t *testing.T, dir string) vfs.FS {
	fsys := vfs.NewLocal(dir)
	t.Cleanup(func() { vfs.Close(fsys) })
	return fsys
}

// csi is a terminal escape for a file name: ESC [ off Windows, which
// refuses C0 controls in names; there the one-character C1 CSI (U+009B).
func csi() string {
	if runtime.GOOS == "windows" {
		return "\u009b"
	}
	return "\x1b["
}

// caseSensitive reports whether dir can hold two names that differ only in
// case (not on Windows, nor on macOS by default).
func caseSensitive(t *testing.T, dir string) bool {
	p := filepath.Join(dir, ".case-probe")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	defer os.Remove(p)
	_, err := os.Stat(filepath.Join(dir, ".CASE-PROBE"))
	return err != nil
}

// symlink makes a link, reporting whether one appeared (Windows needs a
// privilege; Wine 8.0 reports success and creates nothing).
func symlink(target, name string) bool {
	if os.Symlink(target, name) != nil {
		return false
	}
	fi, err := os.Lstat(name)
	return err == nil && fi.Mode()&os.ModeSymlink != 0
}

func write(t *testing.T, fsys vfs.FS, r *Report) {
	t.Helper()
	if err := WriteReport(context.Background(), fsys, "", r); err != nil {
		t.Fatal(err)
	}
}

func TestReadJudgesHosts(t *testing.T) {
	dir := t.TempDir()
	fsys := local(t, dir)
	write(t, fsys, testReport("pc-ok", "1.2.0", state.Success))
	write(t, fsys, testReport("pc-old", "1.1.9", state.Success))
	write(t, fsys, testReport("pc-fail", "1.2.0", state.Failed))
	write(t, fsys, staleReport("pc-stale"))
	// A writer's temporary file is skipped without a word.
	os.WriteFile(filepath.Join(dir, ".pc-ok.json.123.tmp"), []byte("{"), 0o644)

	st, err := Read(context.Background(), fsys, "", Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	want := Counts{Hosts: 4, OK: 2, Failing: 1, Stale: 1, OldVersion: 1}
	if st.Counts != want {
		t.Fatalf("counts = %+v, want %+v", st.Counts, want)
	}
	states := map[string]Host{}
	for _, h := range st.Hosts {
		states[h.Host] = h
	}
	if h := states["pc-fail"]; h.State != Failing || len(h.Reasons) != 1 || !strings.Contains(h.Reasons[0], "set docs: failed: copy D:\\x: access denied") {
		t.Errorf("pc-fail = %+v", h)
	}
	if h := states["pc-stale"]; h.State != Stale || !strings.Contains(h.Reasons[0], "was not reported") {
		t.Errorf("pc-stale = %+v", h)
	}
	if h := states["pc-old"]; h.State != OK || !h.OldVersion || st.Newest != "1.2.0" {
		t.Errorf("pc-old = %+v, newest %s", h, st.Newest)
	}
	if len(st.Ignored) != 0 {
		t.Errorf("ignored %v", st.Ignored)
	}
	// The margin counts from the due time plus the last run's duration.
	st, _ = Read(context.Background(), fsys, "", Options{Now: t0, Margin: 4 * time.Hour})
	if st.Counts.Stale != 0 {
		t.Errorf("with a 4h margin: %+v", st.Counts)
	}
	// A minimum version: every host below it is old.
	st, _ = Read(context.Background(), fsys, "", Options{Now: t0, MinVersion: "v1.3.0"})
	if st.Counts.OldVersion != 4 || st.Counts.Healthy(true) {
		t.Errorf("min version: %+v", st.Counts)
	}
	// Two days later, every set is past its stale limit.
	st, _ = Read(context.Background(), fsys, "", Options{Now: t0.Add(50 * time.Hour), Margin: 100 * time.Hour})
	if st.Counts.Stale != 4 {
		t.Errorf("two days later: %+v", st.Counts)
	}
}

// Every hostile report makes its host invalid (or is ignored) and never
// fails the read.
func TestReadHostileReports(t *testing.T) {
	dir := t.TempDir()
	fsys := local(t, dir)
	write(t, fsys, testReport("pc-ok", "1.2.0", state.Success))
	put := func(name string, b []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	good, _ := json.Marshal(testReport("pc-x", "1.2.0", state.Success))
	put("huge.json", append(good, make([]byte, MaxReportSize)...))
	put("malformed.json", []byte(`{"format_version": "1", "host": "malformed", "sets": [`))
	put("empty.json", nil)
	put("spoof.json", []byte(strings.Replace(string(good), `"pc-x"`, `"pc-ok"`, 1)))
	put("newer.json", []byte(strings.Replace(strings.Replace(string(good), `"pc-x"`, `"newer"`, 1), `"format_version":"1"`, `"format_version":"9"`, 1)))
	put("badset.json", []byte(strings.Replace(strings.Replace(string(good), `"pc-x"`, `"badset"`, 1), `"docs"`, `"../\u001b[31m"`, 1)))
	put("badversion.json", []byte(strings.Replace(strings.Replace(string(good), `"pc-x"`, `"badversion"`, 1), `"1.2.0"`, `"1.2\n\u001b[2J"`, 1)))
	put("trailing.json", append([]byte(strings.Replace(string(good), `"pc-x"`, `"trailing"`, 1)), []byte(`{"x":1}`)...))
	cased := caseSensitive(t, dir) // else PC-OK.json would replace pc-ok.json
	if cased {
		put("PC-OK.json", []byte(strings.Replace(string(good), `"pc-x"`, `"PC-OK"`, 1)))
	}
	evil := "evil" + csi() + "2J.json"
	put(evil, good)
	put("notes.txt", []byte("hello"))
	os.Mkdir(filepath.Join(dir, "dir.json"), 0o755)
	ignoredFiles := []string{evil, "notes.txt", "dir.json"}
	if symlink("/etc/passwd", filepath.Join(dir, "link.json")) {
		ignoredFiles = append(ignoredFiles, "link.json")
	}
	// A hostile message is kept (shown escaped by the renderer), but brief.
	msg := testReport("ctl", "1.2.0", state.Failed)
	msg.Sets[0].LastRun.Message = "\x1b[2J\rfake ok" + strings.Repeat("x", 5000)
	b, _ := json.Marshal(msg)
	put("ctl.json", b)

	st, err := Read(context.Background(), fsys, "", Options{Now: t0})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]Host{}
	for _, h := range st.Hosts {
		got[h.File] = h
	}
	for _, f := range []string{"huge.json", "malformed.json", "empty.json", "spoof.json", "newer.json", "badset.json", "badversion.json", "trailing.json"} {
		if h := got[f]; h.State != Invalid || h.Report != nil || len(h.Reasons) != 1 {
			t.Errorf("%s: %+v", f, h)
		}
	}
	if !strings.Contains(got["spoof.json"].Reasons[0], "names host") || !strings.Contains(got["newer.json"].Reasons[0], "is not one this robo reads") {
		t.Errorf("reasons: %v %v", got["spoof.json"].Reasons, got["newer.json"].Reasons)
	}
	// pc-ok and PC-OK are one host: the second in name order is refused.
	hosts, invalid := 11, 9
	if !cased {
		hosts, invalid = 10, 8
	} else if got["PC-OK.json"].State != OK || got["pc-ok.json"].State != Invalid {
		t.Errorf("case duplicates: %+v / %+v", got["PC-OK.json"], got["pc-ok.json"])
	}
	if h := got["ctl.json"]; h.State != Failing || len(h.Report.Sets[0].LastRun.Message) > MaxMessage {
		t.Errorf("ctl: %+v", h)
	}
	ignored := strings.Join(st.Ignored, ",")
	for _, f := range ignoredFiles {
		if !strings.Contains(ignored, f) {
			t.Errorf("%q not ignored: %q", f, st.Ignored)
		}
	}
	if st.Counts.Hosts != hosts || st.Counts.Invalid != invalid || st.Counts.OK != 1 || st.Counts.Failing != 1 {
		t.Errorf("counts %+v", st.Counts)
	}
}

func TestReadMissingFolder(t *testing.T) {
	fsys := local(t, filepath.Join(t.TempDir(), "nope"))
	if _, err := Read(context.Background(), fsys, "", Options{}); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v", err)
	}
}

// WriteReport replaces a report atomically and leaves no temporary file.
func TestWriteReportReplaces(t *testing.T) {
	dir := t.TempDir()
	fsys := local(t, dir)
	write(t, fsys, testReport("pc1", "1.0.0", state.Success))
	write(t, fsys, testReport("pc1", "1.1.0", state.Failed))
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 || ents[0].Name() != "pc1.json" {
		t.Fatalf("entries %v", ents)
	}
	b, _ := os.ReadFile(filepath.Join(dir, "pc1.json"))
	r, err := Decode(b)
	if err != nil || r.RoboVersion != "1.1.0" || r.Totals.Failing != 1 {
		t.Fatalf("%+v %v", r, err)
	}
	// A folder that does not exist yet is created.
	if err := WriteReport(context.Background(), fsys, "sub/dir", testReport("pc2", "1.0.0", state.Success)); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "sub", "dir", "pc2.json")); err != nil {
		t.Fatal(err)
	}
}

func TestBuildFromConfigAndState(t *testing.T) {
	dir := t.TempDir()
	hcl := `
backup "docs" {
  source      = "/srv/docs"
  destination = "/mnt/b/docs"
  schedule    = "0 2 * * *"
}
backup "mail" {
  source      = "/srv/mail"
  destination = "/mnt/b/mail"
}
backup "off" {
  source      = "/srv/off"
  destination = "/mnt/b/off"
  enabled     = false
}
`
	if runtime.GOOS == "windows" { // absolute there has a drive letter
		hcl = strings.NewReplacer(`"/srv`, `"C:/srv`, `"/mnt`, `"D:/mnt`).Replace(hcl)
	}
	os.WriteFile(filepath.Join(dir, "robo.hcl"), []byte(hcl), 0o644)
	cfg, diags := schema.Load(dir, schema.Options{Hostname: func() (string, error) { return "pc1", nil }})
	if diags.HasErrors() {
		t.Fatal(diags.Error())
	}
	end := t0.Add(-time.Hour)
	st := state.New()
	st.Sets["docs"] = &state.Set{Name: "docs", LastSuccess: &end, LastRun: &state.Run{Started: end.Add(-time.Minute), Duration: time.Minute,
		Outcome: state.Success, FilesCopied: 7, BytesCopied: 700}}
	st.Sets["mail"] = &state.Set{Name: "mail", LastRun: &state.Run{Started: end, Duration: time.Second, Outcome: state.Failed,
		Errors: 2, Message: strings.Repeat("é", 400)}}
	r := Build(cfg, st, BuildOptions{Host: "pc1", JitterHost: "pc1", RoboVersion: "1.2.0", Now: t0})
	if len(r.Sets) != 3 || r.Sets[0].Name != "docs" || r.Sets[0].Health != watch.HealthOK || r.Sets[0].NextRun == nil ||
		r.Sets[0].StaleAfter != 48*time.Hour || r.Sets[0].LastRun.BytesCopied != 700 {
		t.Fatalf("docs: %+v", r.Sets[0])
	}
	if m := r.Sets[1]; m.Health != watch.HealthFailing || m.NextRun != nil || len(m.LastRun.Message) > MaxMessage || !strings.HasSuffix(m.LastRun.Message, "…") {
		t.Fatalf("mail: %+v", m)
	}
	if r.Sets[2].Health != watch.HealthDisabled {
		t.Fatalf("off: %+v", r.Sets[2])
	}
	want := Totals{Sets: 3, OK: 1, Failing: 1, Disabled: 1, FilesCopied: 7, BytesCopied: 700, Errors: 2}
	if r.Totals != want {
		t.Fatalf("totals %+v", r.Totals)
	}
	if !strings.HasPrefix(r.ConfigDigest, "sha256:") || len(r.ConfigDigest) != 71 {
		t.Fatalf("digest %s", r.ConfigDigest)
	}
	// The digest follows the files' bytes.
	os.WriteFile(filepath.Join(dir, "robo.hcl"), append(cfg.Files["robo.hcl"].Bytes, '\n'), 0o644)
	cfg2, _ := schema.Load(dir, schema.Options{Hostname: func() (string, error) { return "pc1", nil }})
	if ConfigDigest(cfg2) == r.ConfigDigest {
		t.Fatal("digest did not change with the files")
	}
	// A built report reads back as valid.
	b, _ := json.Marshal(r)
	if _, err := Decode(b); err != nil {
		t.Fatal(err)
	}
}

func TestTextfile(t *testing.T) {
	r := testReport("pc1", "1.2.0", state.Failed)
	path := filepath.Join(t.TempDir(), "robo.prom")
	if err := WriteTextfile(path, r); err != nil {
		t.Fatal(err)
	}
	f, _ := os.Open(path)
	defer f.Close()
	p := expfmt.NewTextParser(model.LegacyValidation)
	mfs, err := p.TextToMetricFamilies(f)
	if err != nil {
		t.Fatal(err)
	}
	val := func(name string, labels map[string]string) (float64, bool) {
		mf := mfs[name]
		if mf == nil {
			return 0, false
		}
	next:
		for _, m := range mf.Metric {
			for _, lp := range m.Label {
				if v, ok := labels[lp.GetName()]; ok && v != lp.GetValue() {
					continue next
				}
			}
			return m.GetGauge().GetValue(), true
		}
		return 0, false
	}
	checks := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"robo_info", map[string]string{"host": "pc1", "version": "1.2.0"}, 1},
		{"robo_last_run_success", map[string]string{"set": "docs"}, 0},
		{"robo_last_run_outcome", map[string]string{"set": "docs", "outcome": "failed"}, 1},
		{"robo_set_health", map[string]string{"set": "docs", "health": "failing"}, 1},
		{"robo_last_run_bytes_copied", map[string]string{"set": "docs"}, 300},
		{"robo_next_run_timestamp_seconds", map[string]string{"set": "docs"}, float64(t0.Add(14 * time.Hour).Unix())},
		{"robo_set_stale_after_seconds", map[string]string{"set": "docs"}, 48 * 3600},
	}
	for _, c := range checks {
		if v, ok := val(c.name, c.labels); !ok || v != c.want {
			t.Errorf("%s%v = %v (found %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	if _, ok := mfs["robo_last_success_timestamp_seconds"]; ok {
		t.Error("a set that never succeeded has a last success time")
	}
	ents, _ := os.ReadDir(filepath.Dir(path))
	if len(ents) != 1 {
		t.Errorf("left %v", ents)
	}
}
