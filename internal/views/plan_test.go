package views

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
)

var update = flag.Bool("update", false, "rewrite golden files")

func meta(kind engine.Kind, size int64) *engine.Meta {
	return &engine.Meta{Kind: kind, Size: size, MTime: 1709294400000000000, Mode: 0o644}
}

// tweaked is a metadata-only change (issue 16): mode, owner and ACL.
func tweaked() engine.Change {
	src, dst := meta(engine.KindFile, 7), meta(engine.KindFile, 7)
	u0, u1 := uint32(0), uint32(1000)
	dst.Mode, src.X, dst.X = 0o600, &engine.MetaX{UID: &u1, GID: &u1}, &engine.MetaX{UID: &u0, GID: &u0}
	src.X.ACL, dst.X.ACL = "sha256:0123456789abcdef", "none"
	return engine.Change{Action: engine.Update, Class: engine.Tweaked, Kind: engine.KindFile, Path: "shared/budget.ods", Phase: engine.PhaseCopy,
		Src: src, Dst: dst, Differs: []string{engine.DiffMode, engine.DiffOwner, engine.DiffACL}}
}

// samplePlan covers every set action, every change class, a refusal, an
// error and a warning.
func samplePlan() *plan.Plan {
	spec := &engine.Spec{Name: "docs", Source: "/data/docs", Destination: "/backup/docs", Mirror: true, CopyEmptyDirs: true, Threads: 8, Retries: 2, RetryWait: 5 * time.Second}
	return &plan.Plan{
		FormatVersion: plan.FormatVersion, RoboVersion: "test", CreatedAt: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC),
		ConfigDir: "/etc/robo", ConfigDigest: "sha256:c0ffee", StateLineage: "11111111-2222-4333-8444-555555555555", StateSerial: 7, Refresh: true,
		Sets: []*plan.Set{
			{Name: "docs", Action: plan.Sync, Reason: "files differ: 2 new files, 3 changed files, 1 extra file, 1 new dir, 1 extra dir, 1 mismatch",
				Engine: "native", Mode: "mirror", Source: "/data/docs", Destination: "/backup/docs", ConfigDigest: "sha256:d0c5", Spec: spec,
				Summary: &plan.Summary{NewFiles: 2, ChangedFiles: 3, ExtraFiles: 1, NewDirs: 1, ExtraDirs: 1, BytesToCopy: 3*1024*1024 + 1536 + 13,
					Newer: 1, Older: 1, Changed: 1, Mismatches: 1, Tweaked: 1, FilesToDelete: 1, BytesToDelete: 512, StaleTempFiles: 1, SourceFiles: 40, SourceBytes: 1 << 22, DestFiles: 39},
				Changes: engine.ChangeListOf([]engine.Change{
					{Action: engine.Create, Class: engine.New, Kind: engine.KindDir, Path: "reports", Phase: engine.PhaseCopy, Src: meta(engine.KindDir, 0)},
					{Action: engine.Create, Class: engine.New, Kind: engine.KindFile, Path: "reports/q1.xlsx", Phase: engine.PhaseCopy, Size: 3 * 1024 * 1024, Src: meta(engine.KindFile, 3*1024*1024)},
					{Action: engine.Update, Class: engine.Newer, Kind: engine.KindFile, Path: "notes.txt", Phase: engine.PhaseCopy, Size: 1536, Src: meta(engine.KindFile, 1536), Dst: meta(engine.KindFile, 1000)},
					{Action: engine.Update, Class: engine.Older, Kind: engine.KindFile, Path: "todo.txt", Phase: engine.PhaseCopy, Size: 5, Src: meta(engine.KindFile, 5), Dst: meta(engine.KindFile, 5)},
					{Action: engine.Update, Class: engine.Changed, Kind: engine.KindFile, Path: "size.bin", Phase: engine.PhaseCopy, Size: 8, Src: meta(engine.KindFile, 8), Dst: meta(engine.KindFile, 9)},
					{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindFile, Path: "old/a.tmp", Phase: engine.PhaseDelete, Size: 512, Dst: meta(engine.KindFile, 512)},
					{Action: engine.Delete, Class: engine.Extra, Kind: engine.KindDir, Path: "old", Phase: engine.PhaseDelete, Dst: meta(engine.KindDir, 0)},
					{Action: engine.Delete, Class: engine.StaleTemp, Kind: engine.KindFile, Path: ".robo-x.txt.1a2b.tmp", Phase: engine.PhaseDelete, Size: 10, Dst: meta(engine.KindFile, 10)},
					{Action: engine.Replace, Class: engine.Mismatch, Kind: engine.KindFile, Path: "was-a-dir", Phase: engine.PhaseReplace, Size: 0, Src: meta(engine.KindFile, 0), Dst: meta(engine.KindDir, 0)},
					tweaked(),
				}),
				Warnings: []string{"an example warning"},
			},
			{Name: "new-set", Action: plan.Create, Reason: "never applied", Engine: "native", Mode: "copy", Source: "/data/new", Destination: "/backup/new",
				Spec: &engine.Spec{Name: "new-set"}, Summary: &plan.Summary{ExtraFiles: 2, ExtraDirs: 1, DestFiles: 2}},
			{Name: "photos", Action: plan.Noop, Reason: "configuration unchanged", Engine: "native", Mode: "mirror", Source: "/data/photos", Destination: "/backup/photos",
				Spec: &engine.Spec{Name: "photos"}, Summary: &plan.Summary{SourceFiles: 10}},
			{Name: "usb", Action: plan.Update, Reason: "configuration changed since the last apply", Engine: "native", Mode: "mirror", Source: "/media/usb", Destination: "/backup/usb",
				Spec: &engine.Spec{Name: "usb"}, Refused: "the source /media/usb is empty but the destination /backup/usb holds 12 files: a mirror would delete all of them."},
			{Name: "broken", Action: plan.Create, Reason: "never applied", Mode: "mirror", Source: "/a", Destination: "/b", Spec: &engine.Spec{Name: "broken"},
				Error: "destination /b: permission denied"},
			{Name: "retired", Action: plan.Forget, Reason: "no longer in the configuration: only its state entry is removed; /backup/retired is left as it is",
				Source: "/data/retired", Destination: "/backup/retired", Mode: "mirror"},
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./internal/views -update rewrites it):\n--- got ---\n%s\n--- want ---\n%s", name, got, want)
	}
}

func TestPlanHumanGolden(t *testing.T) {
	var b bytes.Buffer
	if err := NewPlanView(false, &b, true).Plan(samplePlan()); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.txt", b.Bytes())
}

func TestPlanHumanCut(t *testing.T) {
	var b bytes.Buffer
	v := &PlanHuman{W: &b, MaxChanges: 3}
	if err := v.Plan(samplePlan()); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan-cut.txt", b.Bytes())
}

func TestPlanJSONGolden(t *testing.T) {
	var b bytes.Buffer
	if err := NewPlanView(true, &b, false).Plan(samplePlan()); err != nil {
		t.Fatal(err)
	}
	golden(t, "plan.json", b.Bytes())
}

func TestBytes(t *testing.T) {
	for n, want := range map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1536: "1.5 KiB", 3 << 20: "3.0 MiB", 5 << 40: "5.0 TiB"} {
		if got := Bytes(n); got != want {
			t.Errorf("Bytes(%d) = %q, want %q", n, got, want)
		}
	}
}
