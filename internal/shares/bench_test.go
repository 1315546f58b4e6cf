package shares_test

// Benchmarks of the native engine writing to a real Samba server on loopback
// (sambatest). They run only with -bench, never under a plain go test:
//
//	go test -run '^$' -bench . -benchtime 3x ./internal/shares/
//	go test -run '^$' -bench ApplySmall -benchtime 3x -cpuprofile cpu.out ./internal/shares/
//	ROBO_BENCH_SESSIONS="1 2" go test -run '^$' -bench ApplySmall -count 4 ./internal/shares/
//
// Each runs with a Pool of 1, 2 and 4 sessions (Options.Sessions) unless
// ROBO_BENCH_SESSIONS lists others.
//
// Each reports the SMB requests the client sent per copied file and the
// frames that carried them (counted on the TCP connection, count_test.go:
// a compound request is one frame of several requests, one round trip), and
// the bytes on the wire. bench/smb.sh measures the whole robo command against rclone.

import (
	"context"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/shares"
	"github.com/robo-backup/robo/internal/shares/sambatest"
	"github.com/robo-backup/robo/internal/vfs"
)

// benchApply copies the tree at src to a fresh directory of the share b.N
// times with the native engine (8 threads, robo's default), as robo apply
// does, and reports requests per file.
func benchApply(b *testing.B, s *sambatest.Server, src string, files int, size int64) {
	list := []int{1, 2, 4}
	if v := os.Getenv("ROBO_BENCH_SESSIONS"); v != "" { // e.g. "1 2"
		list = nil
		for _, f := range strings.Fields(v) {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				b.Fatalf("ROBO_BENCH_SESSIONS=%q: want numbers of sessions", v)
			}
			list = append(list, n)
		}
	}
	for _, sessions := range list {
		b.Run(fmt.Sprintf("sessions=%d", sessions), func(b *testing.B) { benchApplyWith(b, s, src, files, size, sessions) })
	}
}

func benchApplyWith(b *testing.B, s *sambatest.Server, src string, files int, size int64, sessions int) {
	var bc benchCounter
	pool := shares.NewPool(context.Background(), shares.Options{DialContext: bc.dial, Sessions: sessions},
		shares.Mount{Name: "data", UNC: shares.UNC{Server: s.Host, Share: "data"}, Port: s.Port, Credentials: creds(s)})
	defer pool.Close()
	e := native.New()
	e.FoldCase = true
	e.Sleep = func(time.Duration) {}
	e.Open = func(root string) (vfs.FS, error) {
		if shares.IsUNC(root) {
			return pool.Open(root)
		}
		return native.OpenLocal(root)
	}
	// Dial before timing (the further sessions come up in the background).
	if _, err := pool.Open(s.UNC("data")); err != nil {
		b.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	b.SetBytes(size)
	var msgs, frames, wire int64
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		name := fmt.Sprintf("bench-%d", i)
		os.RemoveAll(filepath.Join(s.DataDir, name))
		sp := engine.Spec{Name: "bench", Source: src, Destination: s.UNC("data") + `\` + name, Mirror: true, CopyEmptyDirs: true, Threads: 8}
		m0, f0, w0 := bc.msgs.Load(), bc.frames.Load(), bc.bytes.Load()
		b.StartTimer()
		sc, err := e.Scan(context.Background(), sp)
		if err != nil {
			b.Fatal(err)
		}
		res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: sc.Changes}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if !res.OK() {
			b.Fatalf("apply: errors %v skipped %v", res.Errors, res.Skipped)
		}
		b.StopTimer()
		msgs += bc.msgs.Load() - m0
		frames += bc.frames.Load() - f0
		wire += bc.bytes.Load() - w0
		os.RemoveAll(filepath.Join(s.DataDir, name))
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(float64(msgs)/float64(b.N)/float64(files), "reqs/file")
	b.ReportMetric(float64(frames)/float64(b.N)/float64(files), "frames/file")
	b.ReportMetric(float64(wire)/float64(b.N)/float64(size), "wire-bytes/byte")
}

// BenchmarkApplySmall: 2,000 files of 4 KiB, 100 to a directory.
func BenchmarkApplySmall(b *testing.B) {
	sambatest.Require(b)
	s := sambatest.Start(b)
	src := b.TempDir()
	const files, size = 2000, 4096
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, size)
	mt := time.Date(2024, 1, 1, 0, 0, 0, 123456700, time.UTC)
	for i := range files {
		dir := filepath.Join(src, fmt.Sprintf("d%02d", i/100))
		if i%100 == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		for j := 0; j+8 <= size; j += 8 {
			binary.LittleEndian.PutUint64(buf[j:], r.Uint64())
		}
		p := filepath.Join(dir, fmt.Sprintf("f%05d.dat", i))
		if err := os.WriteFile(p, buf, 0o644); err != nil {
			b.Fatal(err)
		}
		os.Chtimes(p, mt, mt)
	}
	benchApply(b, s, src, files, files*size)
}

// BenchmarkApplyBig: one file of 256 MiB.
func BenchmarkApplyBig(b *testing.B) {
	sambatest.Require(b)
	s := sambatest.Start(b)
	src := b.TempDir()
	const size = 256 << 20
	f, err := os.Create(filepath.Join(src, "big.bin"))
	if err != nil {
		b.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, 1<<20)
	for range size / len(buf) {
		for j := 0; j+8 <= len(buf); j += 8 {
			binary.LittleEndian.PutUint64(buf[j:], r.Uint64())
		}
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	benchApply(b, s, src, 1, size)
}
