package enginetest

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// Run runs the conformance suite against engines made by newEngine, with
// both trees of each case in a fresh t.TempDir().
func Run(t *testing.T, newEngine func(t *testing.T) engine.Engine) {
	RunWith(t, newEngine, Options{})
}

// RunWith is Run with options (see Options).
func RunWith(t *testing.T, newEngine func(t *testing.T) engine.Engine, o Options) {
	s := &suite{newEngine: newEngine, o: o}
	run := func(name string, fn func(*testing.T)) {
		t.Run(name, func(t *testing.T) {
			if why, ok := o.Skip[name]; ok {
				t.Skip(why)
			}
			fn(t)
		})
	}
	run("InitialMirror", s.initialMirror)
	run("MirrorDeletesExtras", s.mirrorDeletesExtras)
	run("CopyNeverDeletes", s.copyNeverDeletes)
	run("Classes", s.classes)
	run("ExcludeOlder", s.excludeOlder)
	run("TimeTolerance", s.timeTolerance)
	run("Filters", s.filters)
	run("EmptyDirs", s.emptyDirs)
	run("Mismatch", s.mismatch)
	run("Symlinks", s.symlinks)
	run("GuardSourceChanged", s.guardSourceChanged)
	run("GuardExtraChanged", s.guardExtraChanged)
	run("GuardDestinationAppeared", s.guardDestinationAppeared)
	run("CopyErrorSkipsDeletes", s.copyErrorSkipsDeletes)
	run("SourceMissing", s.sourceMissing)
	run("StaleTempFiles", s.staleTemp)
	run("Cancel", s.cancel)
	run("VersionsMirror", s.versionsMirror)
	run("VersionsCopy", s.versionsCopy)
	run("VersionsPrune", s.versionsPrune)
	run("VersionsFailure", s.versionsFailure)
}

// requireExact skips cases that need an engine performing exactly the
// planned change list with guards (native); robocopy.exe converges the
// whole set its own way.
func requireExact(t *testing.T, e engine.Engine) {
	t.Helper()
	if !e.Properties().ExactChanges {
		t.Skipf("%s does not perform an exact, guarded change list", e.Name())
	}
}

type suite struct {
	newEngine func(t *testing.T) engine.Engine
	o         Options
}

func scan(t *testing.T, e engine.Engine, sp engine.Spec) *engine.ScanResult {
	t.Helper()
	res, err := e.Scan(context.Background(), sp)
	if err != nil {
		t.Fatalf("scan: %v", err)
	}
	if len(res.Errors) > 0 {
		t.Fatalf("scan errors: %v", res.Errors)
	}
	return res
}

func apply(t *testing.T, e engine.Engine, sp engine.Spec, changes *engine.ChangeList) *engine.Result {
	t.Helper()
	res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: changes}, engine.Discard)
	if err != nil {
		t.Fatalf("apply: %v", err)
	}
	return res
}

// converge scans and applies, then checks that a second scan is empty.
func converge(t *testing.T, e engine.Engine, sp engine.Spec) (*engine.ScanResult, *engine.Result) {
	t.Helper()
	sc := scan(t, e, sp)
	res := apply(t, e, sp, sc.Changes)
	if len(res.Errors) > 0 || len(res.Skipped) > 0 {
		t.Fatalf("apply: errors %v skipped %v", res.Errors, res.Skipped)
	}
	if again := scan(t, e, sp); again.Changes.Len() != 0 {
		t.Fatalf("second scan not empty: %s", describe(again.Changes))
	}
	return sc, res
}

// describe renders changes as "<symbol> <class> <path>" lines, sorted.
func describe(cl *engine.ChangeList) string {
	cs := cl.Slice()
	var l []string
	for _, c := range cs {
		p := c.Path
		if c.Kind == engine.KindDir {
			p += "/"
		}
		l = append(l, c.Action.Symbol()+" "+c.Class.String()+" "+p)
	}
	sort.Strings(l)
	return strings.Join(l, "\n")
}

func expectChanges(t *testing.T, cs *engine.ChangeList, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := describe(cs); got != strings.Join(want, "\n") {
		t.Fatalf("changes:\n%s\nwant:\n%s", got, strings.Join(want, "\n"))
	}
}

var (
	t1 = tt.Base
	t2 = tt.Base.Add(time.Hour)
)

func sample() tt.Dir {
	return tt.Dir{
		"a.txt":            tt.File{Content: "alpha"},
		"b.bin":            tt.File{Content: strings.Repeat("\x00\x01binary", 5000), Mode: 0o600},
		"empty":            tt.Dir{},
		"sub/c.txt":        tt.File{Content: "gamma", MTime: t2},
		"sub/deep/d.txt":   tt.File{Content: "delta"},
		"sub/deep/e.txt":   tt.File{Content: ""},
		"unicode/Größe 日本": tt.File{Content: "ü"},
	}
}

func (s *suite) initialMirror(t *testing.T) {
	e := s.newEngine(t)
	sp, src, dst := s.spec(t, true)
	tt.Create(t, src, sample())
	sc, res := converge(t, e, sp)
	if sc.Source.Files != 6 || sc.Source.Dirs != 4 {
		t.Errorf("source stats %+v", sc.Source)
	}
	// robocopy.exe also counts the destination root it creates.
	if dirs := res.Counters.Dirs.Copied; res.Counters.Files.Copied != 6 || (dirs != 4 && !(dirs == 5 && !e.Properties().ExactChanges)) {
		t.Errorf("counters %+v", res.Counters)
	}
	if res.ExitCode() != engine.ExitCopied {
		t.Errorf("exit code %d", res.ExitCode())
	}
	s.equal(t, src, dst, tt.Options{DirTimes: true})
}

func (s *suite) mirrorDeletesExtras(t *testing.T) {
	e := s.newEngine(t)
	sp, src, dst := s.spec(t, true)
	tt.Create(t, src, tt.Dir{"keep.txt": tt.File{Content: "k"}, "d/x": tt.File{Content: "x"}})
	s.create(t, dst, tt.Dir{"keep.txt": tt.File{Content: "k"}, "gone.txt": tt.File{Content: "g"},
		"old/y": tt.File{Content: "y"}, "old/z/w": tt.File{Content: "w"}, "d/x2": tt.File{Content: "x2"}})
	sc := scan(t, e, sp)
	expectChanges(t, sc.Changes, "+ New d/x", "- Extra gone.txt", "- Extra old/", "- Extra old/y", "- Extra old/z/", "- Extra old/z/w", "- Extra d/x2")
	if sc.ExtraFiles != 4 || sc.ExtraDirs != 2 {
		t.Errorf("extras %d files %d dirs", sc.ExtraFiles, sc.ExtraDirs)
	}
	res := apply(t, e, sp, sc.Changes)
	if res.DeletedFiles != 4 || res.DeletedDirs != 2 || res.ExitCode() != engine.ExitCopied|engine.ExitExtras {
		t.Errorf("result %+v exit %d", res, res.ExitCode())
	}
	s.equal(t, src, dst, tt.Options{})
}

func (s *suite) copyNeverDeletes(t *testing.T) {
	e := s.newEngine(t)
	sp, src, dst := s.spec(t, false)
	tt.Create(t, src, tt.Dir{"a": tt.File{Content: "a"}})
	s.create(t, dst, tt.Dir{"extra": tt.File{Content: "e"}, "xd/f": tt.File{Content: "f"}})
	sc := scan(t, e, sp)
	expectChanges(t, sc.Changes, "+ New a")
	if sc.ExtraFiles != 1 || sc.ExtraDirs != 1 {
		t.Errorf("extras %d %d", sc.ExtraFiles, sc.ExtraDirs)
	}
	apply(t, e, sp, sc.Changes)
	got := s.snapshot(t, dst)
	for _, p := range []string{"a", "extra", "xd/f"} {
		if _, ok := got[p]; !ok {
			t.Errorf("%s missing after copy", p)
		}
	}
}

func (s *suite) classes(t *testing.T) {
	e := s.newEngine(t)
	sp, src, dst := s.spec(t, true)
	tt.Create(t, src, tt.Dir{"newer": tt.File{Content: "new", MTime: t2}, "older": tt.File{Content: "old", MTime: t1},
		"changed": tt.File{Content: "longer", MTime: t1}, "same": tt.File{Content: "s"}})
	s.create(t, dst, tt.Dir{"newer": tt.File{Content: "NEW", MTime: t1}, "older": tt.File{Content: "OLD", MTime: t2},
		"changed": tt.File{Content: "short", MTime: t1}, "same": tt.File{Content: "s"}})
	sc := scan(t, e, sp)
	expectChanges(t, sc.Changes, "~ Newer newer", "~ Older older", "~ Changed changed")
	apply(t, e, sp, sc.Changes)
	s.equal(t, src, dst, tt.Options{})
}

func (s *suite) excludeOlder(t *testing.T) {
	e := s.newEngine(t)
	sp, src, dst := s.spec(t, true)
	sp.ExcludeOlder = true
	tt.Create(t, src, tt.Dir{"older": tt.File{Content: "old", MTime: t1}})
	s.create(t, dst, tt.Dir{"older": tt.File{Content: "NEWER", MTime: t2}})
	if sc := scan(t, e, sp); sc.Changes.Len() != 0 {
		t.Fatalf("changes %s", describe(sc.Changes))
	}
}

func (s *suite) timeTolerance(t *testing.T) {
	e := s.newEngine(t)
	sp, src, dst := s.spec(t, true)
	tt.Create(t, src, tt.Dir{"f": tt.File{Content: "x", MTime: t1.Add(1500 * time.Millisecond)}, "g": tt.File{Content: "y", MTime: t1.Add(3 * time.Second)}})
	s.create(t, dst, tt.Dir{"f": tt.File{Content: "x", MTime: t1}, "g": tt.File{Content: "y", MTime: t1}})
	sp.TimeTolerance = 2 * time.Second
	expectChanges(t, scan(t, e, sp).Changes, "~ Newer g")
	sp.TimeTolerance = 0
	expectChanges(t, scan(t, e, sp).Changes, "~ Newer f", "~ Newer g")
}

func (s *suite) filters(t *testing.T) {
	e := s.newEngine(t)
	sp, src, dst := s.spec(t, true)
	sp.Include = []string{"*.txt", "*.doc"}
	sp.ExcludeFiles = []string{"~$*", "*.tmp.txt"}
	sp.ExcludeDirs = []string{"node_modules", "build/cache"}
	tt.Create(t, src, tt.Dir{"a.txt": tt.File{Content: "a"}, "b.png": tt.File{Content: "b"}, "~$lock.doc": tt.File{Content: "l"},
		"x.tmp.txt": tt.File{Content: "t"}, "node_modules/m.txt": tt.File{Content: "m"}, "build/cache/c.txt": tt.File{Content: "c"},
		"build/out.txt": tt.File{Content: "o"}, "sub/node_modules/n.txt": tt.File{Content: "n"}})
	// Excluded and non-included entries in the destination are never deleted.
	s.create(t, dst, tt.Dir{"dst.png": tt.File{Content: "p"}, "node_modules/keep.txt": tt.File{Content: "k"}, "~$x.doc": tt.File{Content: "x"}})
	sc := scan(t, e, sp)
	expectChanges(t, sc.Changes, "+ New a.txt", "+ New build/", "+ New build/out.txt", "+ New sub/")
	apply(t, e, sp, sc.Changes)
	got := s.snapshot(t, dst)
	var names []string
	for p := range got {
		names = append(names, p)
	}
	sort.Strings(names)
	want := "a.txt build build/out.txt dst.png node_modules node_modules/keep.txt sub ~$x.doc"
	if strings.Join(names, " ") != want {
		t.Fatalf("destination has %v, want %s", names, want)
	}
}

func (s *suite) emptyDirs(t *testing.T) {
	e := s.newEngine(t)
	sp, src, dst := s.spec(t, true)
	sp.CopyEmptyDirs = false
	tt.Create(t, src, tt.Dir{"empty": tt.Dir{}, "nested/empty": tt.Dir{}, "full/f": tt.File{Content: "f"}})
	sc := scan(t, e, sp)
	expectChanges(t, sc.Changes, "+ New full/", "+ New full/f")
	apply(t, e, sp, sc.Changes)
	if s.exists(t, filepath.Join(dst, "empty")) {
		t.Fatal("empty dir created without copy_empty_dirs")
	}
}

func (s *suite) mismatch(t *testing.T) {
	e := s.newEngine(t)
	for _, mirror := range []bool{false, true} {
		sp, src, dst := s.spec(t, mirror)
		tt.Create(t, src, tt.Dir{"fd": tt.File{Content: "file in src"}, "df/inner": tt.File{Content: "i"}})
		s.create(t, dst, tt.Dir{"fd/x": tt.File{Content: "dir in dst"}, "df": tt.File{Content: "file in dst"}})
		sc := scan(t, e, sp)
		if sc.Mismatches != 2 {
			t.Errorf("mirror=%v: mismatches %d", mirror, sc.Mismatches)
		}
		exact := e.Properties().ExactChanges
		if !mirror {
			if exact {
				expectChanges(t, sc.Changes)
			}
			continue
		}
		if exact {
			// robocopy.exe lists a mismatch without what replacing it
			// involves; for it only the converged tree is checked.
			expectChanges(t, sc.Changes, "-/+ Mismatch fd", "- Extra fd/x", "-/+ Mismatch df/", "+ New df/inner")
		}
		res := apply(t, e, sp, sc.Changes)
		if len(res.Errors)+len(res.Skipped) > 0 {
			t.Fatalf("%v %v", res.Errors, res.Skipped)
		}
		s.equal(t, src, dst, tt.Options{})
	}
}

func (s *suite) symlinks(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("creating symbolic links needs a privilege on Windows")
	}
	e := s.newEngine(t)
	sp, src, dst := s.spec(t, true)
	tt.Create(t, src, tt.Dir{"f": tt.File{Content: "f"}, "loop": tt.Link{Target: "."}, "lf": tt.Link{Target: "f"}})
	s.create(t, dst, tt.Dir{"dlink": tt.Link{Target: "/etc"}})
	sc := scan(t, e, sp)
	expectChanges(t, sc.Changes, "+ New f")
	apply(t, e, sp, sc.Changes)
	if _, err := os.Lstat(filepath.Join(dst, "dlink")); err != nil {
		t.Fatalf("skip mode touched a destination link: %v", err)
	}
	sp.CopySymlinks = true
	sc = scan(t, e, sp)
	expectChanges(t, sc.Changes, "+ New loop", "+ New lf", "- Extra dlink")
	apply(t, e, sp, sc.Changes)
	s.equal(t, src, dst, tt.Options{})
}

func (s *suite) guardSourceChanged(t *testing.T) {
	e := s.newEngine(t)
	requireExact(t, e)
	sp, src, dst := s.spec(t, true)
	tt.Create(t, src, tt.Dir{"a": tt.File{Content: "a"}, "b": tt.File{Content: "b"}})
	sc := scan(t, e, sp)
	os.WriteFile(filepath.Join(src, "a"), []byte("changed after plan"), 0o644)
	res := apply(t, e, sp, sc.Changes)
	if len(res.Skipped) != 1 || res.Skipped[0].Path != "a" {
		t.Fatalf("skipped %+v", res.Skipped)
	}
	if s.exists(t, filepath.Join(dst, "a")) {
		t.Fatal("changed source file was copied")
	}
}

func (s *suite) guardExtraChanged(t *testing.T) {
	e := s.newEngine(t)
	requireExact(t, e)
	sp, src, dst := s.spec(t, true)
	tt.Create(t, src, tt.Dir{"a": tt.File{Content: "a"}})
	s.create(t, dst, tt.Dir{"a": tt.File{Content: "a"}, "extra": tt.File{Content: "old"}, "xd/f": tt.File{Content: "f"}})
	sc := scan(t, e, sp)
	s.writeFile(t, filepath.Join(dst, "extra"), "written after the plan")
	s.writeFile(t, filepath.Join(dst, "xd/new"), "new after the plan")
	res := apply(t, e, sp, sc.Changes)
	for _, p := range []string{"extra", "xd/new"} {
		if !s.exists(t, filepath.Join(dst, p)) {
			t.Errorf("%s was deleted although it changed after the plan", p)
		}
	}
	if len(res.Skipped) != 2 {
		t.Fatalf("skipped %+v", res.Skipped)
	}
}

// guardDestinationAppeared: files written at names the plan saw free, after
// the plan, are neither overwritten nor deleted; the creates are skipped
// with the guard's reason, the others go on, and no temporary file is left.
// An engine may check the name before it writes or let the final rename
// refuse a taken name (SMB); the outcome must be the same.
func (s *suite) guardDestinationAppeared(t *testing.T) {
	e := s.newEngine(t)
	requireExact(t, e)
	sp, src, dst := s.spec(t, true)
	tt.Create(t, src, tt.Dir{"a": tt.File{Content: "source a"}, "b": tt.File{Content: "source b"},
		"d/c": tt.File{Content: "source c"}, "d/e": tt.File{Content: "source e"}, "d/same": tt.File{Content: "same"}})
	s.create(t, dst, tt.Dir{"d/same": tt.File{Content: "same"}})
	sc := scan(t, e, sp)
	s.writeFile(t, filepath.Join(dst, "a"), "theirs a")
	s.writeFile(t, filepath.Join(dst, "d", "c"), "theirs c")
	res := apply(t, e, sp, sc.Changes)
	if len(res.Errors) > 0 {
		t.Fatalf("errors %v", res.Errors)
	}
	var skipped []string
	for _, sk := range res.Skipped {
		skipped = append(skipped, sk.Path)
		if !strings.Contains(sk.Reason, "destination now has a file here that the plan did not see") {
			t.Errorf("%s skipped for %q", sk.Path, sk.Reason)
		}
	}
	sort.Strings(skipped)
	if got := strings.Join(skipped, " "); got != "a d/c" {
		t.Fatalf("skipped %q, want \"a d/c\"", got)
	}
	want := map[string]string{"a": "theirs a", "b": "source b", "d/c": "theirs c", "d/e": "source e", "d/same": "same"}
	snap := s.snapshot(t, dst)
	for p, en := range snap {
		if en.Kind == "dir" {
			continue
		}
		w, ok := want[p]
		if !ok {
			t.Errorf("unexpected %s in the destination (%q)", p, en.Content)
			continue
		}
		if string(en.Content) != w {
			t.Errorf("%s holds %q, want %q", p, en.Content, w)
		}
		delete(want, p)
	}
	for p := range want {
		t.Errorf("%s missing from the destination", p)
	}
}

func (s *suite) copyErrorSkipsDeletes(t *testing.T) {
	e := s.newEngine(t)
	requireExact(t, e)
	sp, src, dst := s.spec(t, true)
	tt.Create(t, src, tt.Dir{"sub/new": tt.File{Content: "n"}, "keep": tt.File{Content: "k"}})
	s.create(t, dst, tt.Dir{"sub/old": tt.File{Content: "o"}, "keep": tt.File{Content: "k"}, "extra": tt.File{Content: "e"}})
	sc := scan(t, e, sp)
	// After the plan, the destination directory becomes a file: the copy
	// into it fails for real.
	s.removeAll(t, filepath.Join(dst, "sub"))
	s.writeFile(t, filepath.Join(dst, "sub"), "blocker")
	res := apply(t, e, sp, sc.Changes)
	if len(res.Errors) == 0 {
		t.Fatal("no error reported")
	}
	if res.DeletesSkipped == 0 || res.ExitCode()&engine.ExitFailed == 0 {
		t.Fatalf("deletes skipped %d exit %d", res.DeletesSkipped, res.ExitCode())
	}
	if !s.exists(t, filepath.Join(dst, "extra")) {
		t.Fatal("extra deleted after a copy error")
	}
}

func (s *suite) sourceMissing(t *testing.T) {
	e := s.newEngine(t)
	sp, _, dst := s.spec(t, true)
	s.create(t, dst, tt.Dir{"precious": tt.File{Content: "p"}})
	_, err := e.Scan(context.Background(), sp)
	var se *engine.SourceError
	if err == nil || !asSourceError(err, &se) {
		t.Fatalf("scan of a missing source: %v", err)
	}
}

func (s *suite) staleTemp(t *testing.T) {
	e := s.newEngine(t)
	requireExact(t, e)
	sp, src, dst := s.spec(t, false)
	// Only robo's exact temporary shape is a temp file (issue 13): a
	// user's ".robo-notes.tmp" is copied, and kept in a copy-mode
	// destination.
	tt.Create(t, src, tt.Dir{"a": tt.File{Content: "a"}, ".robo-x.0123456789ab.tmp": tt.File{Content: "never copied"},
		".robo-notes.tmp": tt.File{Content: "n"}})
	s.create(t, dst, tt.Dir{".robo-a.abcdef012345-1.tmp": tt.File{Content: "partial"}, ".robo-keep.tmp": tt.File{Content: "k"}})
	sc := scan(t, e, sp)
	expectChanges(t, sc.Changes, "+ New .robo-notes.tmp", "+ New a", "- StaleTemp .robo-a.abcdef012345-1.tmp")
	apply(t, e, sp, sc.Changes)
	mode := tt.Snapshot(t, src)["a"].Mode // 0644 on Unix; Windows has no mode bits (Go reports 0666)
	want := map[string]tt.Entry{"a": {Kind: "file", Content: []byte("a"), MTime: tt.Base, Mode: mode},
		".robo-notes.tmp": {Kind: "file", Content: []byte("n"), MTime: tt.Base, Mode: mode},
		".robo-keep.tmp":  {Kind: "file", Content: []byte("k"), MTime: tt.Base, Mode: mode}}
	if d := s.diff(want, s.snapshot(t, dst), tt.Options{}); d != "" {
		t.Fatal(d)
	}
}

func (s *suite) cancel(t *testing.T) {
	e := s.newEngine(t)
	requireExact(t, e)
	sp, src, _ := s.spec(t, true)
	tt.Create(t, src, sample())
	sc := scan(t, e, sp)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	res, err := e.Apply(ctx, engine.Job{Spec: sp, Changes: sc.Changes}, engine.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if !res.Interrupted || res.OK() {
		t.Fatalf("cancelled apply: %+v", res)
	}
}
