package fleet_test

// The fleet judge of issue 18: a thousand report writers on one real Samba
// share (sambatest) at once, and robo fleet status's reading of that share
// while they write and after. Benchmarks of the read are at the end; they
// run only with -bench (bench/fleet.sh):
//
//	go test -run '^$' -bench FleetRead -benchmem ./internal/fleet/

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/fleet"
	"github.com/robo-backup/robo/internal/shares"
	"github.com/robo-backup/robo/internal/shares/sambatest"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/watch"
)

// hostReport is host i's report at now: hosts i%10 in 0..6 are ok, 7 and
// 8 failing, 9 stale (their daily run was due 3 hours ago). pad makes
// successive writes differ in size, so a torn read could not parse.
func hostReport(i int, now time.Time, round int) *fleet.Report {
	host := fmt.Sprintf("pc-%04d", i)
	end := now.Add(-2 * time.Hour)
	next := now.Add(22 * time.Hour)
	if i%10 == 9 {
		next = now.Add(-3 * time.Hour)
	}
	r := &fleet.Report{FormatVersion: fleet.FormatVersion, Host: host, RoboVersion: "1.4.0", ConfigDigest: "sha256:" + strings.Repeat("ab", 32),
		GeneratedAt: end, OS: "windows"}
	for s, name := range []string{"docs", "mail", "profiles"} {
		set := fleet.Set{Name: name, Enabled: true, Health: watch.HealthOK, Schedule: "0 2 * * *", NextRun: &next, StaleAfter: 48 * time.Hour,
			LastRun: &fleet.Run{Started: end.Add(-time.Minute), Ended: end, Outcome: "success", Duration: time.Minute,
				FilesCopied: int64(100*s + round), BytesCopied: int64(1<<20*s + round)}, LastSuccess: &end}
		if s == 1 && (i%10 == 7 || i%10 == 8) {
			set.Health, set.LastRun.Outcome, set.LastSuccess = watch.HealthFailing, "failed", nil
			set.LastRun.Message = "copy \\\\nas\\mail: access denied " + strings.Repeat("x", round*40)
		}
		r.Sets = append(r.Sets, set)
	}
	return r
}

func openShare(t testing.TB, srv *sambatest.Server, sessions int) (*shares.Pool, vfs.FS) {
	t.Helper()
	pool := shares.NewPool(context.Background(), shares.Options{Sessions: sessions},
		shares.Mount{Name: "data", UNC: shares.UNC{Server: srv.Host, Share: "data"}, Port: srv.Port,
			Credentials: shares.Credentials{User: srv.User, Password: []byte(srv.Password)}})
	fsys, err := pool.Open(srv.UNC("data") + `\reports`)
	if err != nil {
		pool.Close()
		t.Fatal(err)
	}
	return pool, fsys
}

const (
	fleetHosts = 1000
	writerConn = 32 // SMB connections the writers share (one smbd each)
	rounds     = 3  // reports each writer writes
)

func TestThousandWritersOneShare(t *testing.T) {
	srv := sambatest.Start(t)
	now := time.Now()
	ctx := context.Background()
	// The admin creates the folder (robo fleet status refuses a missing one).
	if err := os.Mkdir(filepath.Join(srv.DataDir, "reports"), 0o755); err != nil {
		t.Fatal(err)
	}
	var pools []*shares.Pool
	var fss []vfs.FS
	for range writerConn {
		p, f := openShare(t, srv, 1)
		defer p.Close()
		pools, fss = append(pools, p), append(fss, f)
	}
	rp, reader := openShare(t, srv, 2)
	defer rp.Close()

	// The writers: all at once, each its own goroutine (a robo process's
	// report code), several rounds each.
	var wg sync.WaitGroup
	var writeErrs atomic.Int64
	var firstErr atomic.Value
	start := make(chan struct{})
	for i := range fleetHosts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for round := range rounds {
				if err := fleet.WriteReport(ctx, fss[i%writerConn], "", hostReport(i, now, round)); err != nil {
					writeErrs.Add(1)
					firstErr.CompareAndSwap(nil, err)
				}
			}
		}()
	}
	// The reader, while they write: every report it reads is whole.
	done := make(chan struct{})
	var reads, seenHosts atomic.Int64
	readErr := make(chan error, 1)
	go func() {
		defer close(readErr)
		for {
			select {
			case <-done:
				return
			default:
			}
			st, err := fleet.Read(ctx, reader, "", fleet.Options{Now: now})
			if err != nil {
				readErr <- err
				return
			}
			reads.Add(1)
			seenHosts.Add(int64(st.Counts.Hosts))
			for _, h := range st.Hosts {
				if h.State == fleet.Invalid {
					readErr <- fmt.Errorf("read %d: %s is invalid while being written: %v", reads.Load(), h.File, h.Reasons)
					return
				}
				if want := expected(h.Host); h.State != want {
					readErr <- fmt.Errorf("read %d: %s is %s, want %s (%v)", reads.Load(), h.Host, h.State, want, h.Reasons)
					return
				}
			}
		}
	}()
	writeStart := time.Now()
	close(start)
	wg.Wait()
	close(done)
	t.Logf("%d writers wrote %d reports in %v", fleetHosts, fleetHosts*rounds, time.Since(writeStart))
	if err := <-readErr; err != nil {
		t.Fatal(err)
	}
	if n := writeErrs.Load(); n > 0 {
		t.Fatalf("%d writes failed; first: %v", n, firstErr.Load())
	}
	if reads.Load() == 0 {
		t.Fatal("the reader never completed a read during the writes")
	}
	t.Logf("%d reads during the writes saw %d reports in all", reads.Load(), seenHosts.Load())

	began := time.Now()
	st, err := fleet.Read(ctx, reader, "", fleet.Options{Now: now})
	took := time.Since(began)
	if err != nil {
		t.Fatal(err)
	}
	want := fleet.Counts{Hosts: fleetHosts, OK: 700, Failing: 200, Stale: 100}
	if st.Counts != want {
		t.Fatalf("counts %+v, want %+v", st.Counts, want)
	}
	t.Logf("read %d reports over SMB in %v", st.Counts.Hosts, took)
	// Every write left its final report and no temporary file.
	ents, err := os.ReadDir(filepath.Join(srv.DataDir, "reports"))
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != fleetHosts {
		var extra []string
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".") {
				extra = append(extra, e.Name())
			}
		}
		t.Fatalf("%d entries in the folder; temporary files left: %v", len(ents), extra)
	}
	for _, h := range st.Hosts {
		if r := h.Report; r.Sets[0].LastRun.FilesCopied != rounds-1 {
			t.Fatalf("%s: the last round's report is not the one in place: %+v", h.Host, r.Sets[0].LastRun)
		}
	}
}

func expected(host string) fleet.State {
	var i int
	fmt.Sscanf(host, "pc-%d", &i)
	switch i % 10 {
	case 7, 8:
		return fleet.Failing
	case 9:
		return fleet.Stale
	}
	return fleet.OK
}

// BenchmarkFleetReadSamba reads 1,000 reports from a real Samba share on
// loopback per op (bench/fleet.sh records it in docs/performance.md).
func BenchmarkFleetReadSamba(b *testing.B) {
	srv := sambatest.Start(b)
	pool, fsys := openShare(b, srv, benchSessions())
	defer pool.Close()
	benchRead(b, fsys)
}

// BenchmarkFleetReadLocal reads 1,000 reports from a local folder per op:
// the cost of robo's own work without the network.
func BenchmarkFleetReadLocal(b *testing.B) {
	benchRead(b, vfs.NewLocal(b.TempDir()))
}

func benchRead(b *testing.B, fsys vfs.FS) {
	now := time.Now()
	for i := range fleetHosts {
		if err := fleet.WriteReport(context.Background(), fsys, "", hostReport(i, now, 0)); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		st, err := fleet.Read(context.Background(), fsys, "", fleet.Options{Now: now})
		if err != nil || st.Counts.Hosts != fleetHosts {
			b.Fatalf("%v %+v", err, st)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/fleetHosts/1e3, "µs/host")
}

// benchSessions is ROBO_BENCH_SESSIONS (default 2, what robo uses).
func benchSessions() int {
	var n int
	if _, err := fmt.Sscan(os.Getenv("ROBO_BENCH_SESSIONS"), &n); err != nil || n < 1 {
		return 2
	}
	return n
}
