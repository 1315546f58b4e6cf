package web

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/runlog"
)

// The demo fleet: what the screenshots and the browser tests show. Five
// sets (ok, failing, running, stale, never run) with weeks of runs,
// recorded through Server.RecordRun (as robo watch does) and, for the last
// days, real run logs written by internal/runlog (as the native engine
// does), so that the history page merges both as it does in production.

// demoNow is the demo's clock: fixed, so that screenshots are the same
// on every machine and the chart windows hold known runs.
var demoNow = time.Date(2026, 11, 26, 14, 5, 0, 0, time.UTC)

// demoDocsRuns is how many daily runs "documents" has (35 days: 28 fall
// in the default 4-week window, 7 in the 7-day one).
const demoDocsRuns = 35

type demoBackend struct{ sets []SetView }

func (d *demoBackend) Sets() ([]SetView, error)                 { return d.sets, nil }
func (d *demoBackend) Plan(context.Context) (*plan.Plan, error) { return &plan.Plan{}, nil }
func (d *demoBackend) RunNow(string) error                      { return nil }
func (d *demoBackend) PlanSet(context.Context, string) (*plan.Plan, error) {
	return &plan.Plan{}, nil
}
func (d *demoBackend) ApplyPlan(_ context.Context, _ *plan.Plan, done func()) error {
	done()
	return nil
}

// demoRun is one seeded run.
type demoRun struct {
	set      string
	start    time.Time
	dur      time.Duration
	files    int64
	bytes    int64
	failed   string // the failure message, "" for a success
	withLog  bool
	failPath string
}

// demoServer returns a server over the demo fleet, its run logs in a
// temporary directory, and every seeded run per set.
func demoServer(t testing.TB) (*Server, map[string][]demoRun) {
	t.Helper()
	dir := t.TempDir()
	rnd := rand.New(rand.NewPCG(19, 2026))
	runs := map[string][]demoRun{}
	day := func(i int, h, m int) time.Time {
		d := demoNow.AddDate(0, 0, -i)
		return time.Date(d.Year(), d.Month(), d.Day(), h, m, 0, 0, time.UTC)
	}
	// documents: daily at 02:00, growing slowly; one failure two weeks ago.
	for i := demoDocsRuns - 1; i >= 0; i-- {
		r := demoRun{set: "documents", start: day(i, 2, 0),
			dur:   time.Duration(150+4*(demoDocsRuns-i)+rnd.IntN(40)) * time.Second,
			files: int64(120 + rnd.IntN(900)), bytes: int64(300+rnd.IntN(900)) << 20, withLog: i < 6}
		if i == 14 {
			r.failed, r.failPath, r.files, r.bytes = "1 file failed to copy", "Finance/ledger-2026.xlsx", 2, 4<<20
		}
		if i == 0 {
			r.bytes = 1536 << 20 // the largest run: the axis reaches GiB
		}
		runs["documents"] = append(runs["documents"], r)
	}
	// mail-archive: daily at 01:30 for three weeks; the last three failed.
	for i := 20; i >= 0; i-- {
		r := demoRun{set: "mail-archive", start: day(i, 1, 30), dur: time.Duration(40+rnd.IntN(30)) * time.Second,
			files: int64(2000 + rnd.IntN(3000)), bytes: int64(40+rnd.IntN(60)) << 20, withLog: i < 4}
		if i < 3 {
			r.failed, r.failPath, r.files, r.bytes = "the destination is not reachable", "", 0, 0
		}
		runs["mail-archive"] = append(runs["mail-archive"], r)
	}
	// photos: every other day at 03:00, large; running now.
	for i := 26; i >= 2; i -= 2 {
		runs["photos"] = append(runs["photos"], demoRun{set: "photos", start: day(i, 3, 0),
			dur:   time.Duration(40+rnd.IntN(25)) * time.Minute,
			files: int64(200 + rnd.IntN(2500)), bytes: int64(2+rnd.IntN(12)) << 30, withLog: i < 5})
	}
	// projects: weekly, the last success nine days ago (stale).
	for i := 30; i >= 9; i -= 7 {
		runs["projects"] = append(runs["projects"], demoRun{set: "projects", start: day(i, 22, 15),
			dur: time.Duration(8+rnd.IntN(6)) * time.Minute, files: int64(40 + rnd.IntN(400)), bytes: int64(50+rnd.IntN(500)) << 20})
	}

	var views []RunView
	last := map[string]*RunView{}
	lastOK := map[string]*time.Time{}
	for _, set := range []string{"documents", "mail-archive", "photos", "projects"} {
		for _, r := range runs[set] {
			v := RunView{Set: set, Started: r.start, Duration: r.dur, Outcome: "success",
				FilesCopied: r.files, BytesCopied: r.bytes}
			if r.failed != "" {
				v.Outcome, v.Message = "failed", r.failed
			} else {
				ok := r.start.Add(r.dur)
				lastOK[set] = &ok
			}
			if r.withLog {
				writeDemoLog(t, dir, r)
			}
			views = append(views, v)
			vv := v
			last[set] = &vv
		}
	}
	next := func(h, m int) *time.Time {
		n := time.Date(2026, 11, 27, h, m, 0, 0, time.UTC)
		return &n
	}
	be := &demoBackend{sets: []SetView{
		{Name: "documents", InConfig: true, Enabled: true, Health: "ok", Schedule: "0 2 * * *", NextRun: next(2, 0),
			LastRun: last["documents"], LastSuccess: lastOK["documents"]},
		{Name: "mail-archive", InConfig: true, Enabled: true, Health: "failing", Schedule: "30 1 * * *", NextRun: next(1, 30),
			LastRun: last["mail-archive"], LastSuccess: lastOK["mail-archive"]},
		{Name: "photos", InConfig: true, Enabled: true, Health: "ok", Running: true, Schedule: "0 3 */2 * *", NextRun: next(3, 0),
			LastRun: last["photos"], LastSuccess: lastOK["photos"]},
		{Name: "projects", InConfig: true, Enabled: true, Health: "stale", Schedule: "15 22 * * 0",
			NextRun: func() *time.Time { n := time.Date(2026, 11, 29, 22, 15, 0, 0, time.UTC); return &n }(),
			LastRun: last["projects"], LastSuccess: lastOK["projects"]},
		{Name: "scratch", InConfig: true, Enabled: true, Health: "never"},
	}}
	s, err := New(Options{Backend: be, LogDir: dir, Now: func() time.Time { return demoNow }, Refresh: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range views {
		s.RecordRun(v)
	}
	return s, runs
}

// writeDemoLog writes r's run log with the native engine's log writer.
func writeDemoLog(t testing.TB, dir string, r demoRun) {
	t.Helper()
	src, dst := `D:\Shares\`+r.set, `\\nas01\backup\`+r.set
	names := []string{"Reports/q3-summary.pdf", "Contracts/2026/acme-renewal.docx", "Scans/invoice-0042.png", "Notes/meeting.md", "Budget/forecast.xlsx"}
	var ch []engine.Change
	for i, n := range names {
		ch = append(ch, engine.Change{Action: engine.Create, Class: engine.New, Kind: engine.KindFile, Path: n,
			Phase: engine.PhaseCopy, Size: r.bytes / int64(len(names)+i)})
	}
	if r.failPath != "" {
		ch = append(ch, engine.Change{Action: engine.Update, Class: engine.Newer, Kind: engine.KindFile, Path: r.failPath, Phase: engine.PhaseCopy, Size: 4 << 20})
	}
	job := engine.Job{Spec: engine.Spec{Name: r.set, Source: src, Destination: dst, Mirror: true, Retries: 2, RetryWait: 10 * time.Second, Threads: 1}, Changes: engine.ChangeListOf(ch)}
	// The clock reads the start for the file name and the header, then
	// the end (the summary's Ended line).
	calls := 0
	l, _, err := runlog.Create(dir, r.set, job, runlog.Options{Now: func() time.Time {
		calls++
		if calls <= 2 {
			return r.start
		}
		return r.start.Add(r.dur)
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r.failed != "" && r.failPath == "" {
		if err := l.Finish(nil, &os.PathError{Op: "open", Path: dst, Err: errors.New("the network path was not found")}); err != nil {
			t.Fatal(err)
		}
		return
	}
	res := &engine.Result{Duration: r.dur}
	for i := range ch {
		c := &ch[i]
		if c.Path == r.failPath {
			l.Report(engine.Event{Change: c, Done: true, Err: &os.PathError{Op: "open", Path: filepath.Join(src, c.Path),
				Err: errors.New("the process cannot access the file because it is being used by another process")}})
			res.Counters.Files.Failed++
			res.Counters.Bytes.Failed += c.Size
			continue
		}
		l.Report(engine.Event{Change: c, Bytes: c.Size, Done: true})
		res.Counters.Files.Copied++
		res.Counters.Bytes.Copied += c.Size
		res.BytesCopied += c.Size
	}
	res.Counters.Files.Total = int64(len(ch)) + r.files
	res.Counters.Files.Skipped = r.files
	res.Counters.Bytes.Total = res.Counters.Bytes.Copied + res.Counters.Bytes.Failed
	if err := l.Finish(res, nil); err != nil {
		t.Fatal(fmt.Errorf("run log of %s: %w", r.set, err))
	}
}
