package native_test

// Benchmarks of the native engine on a generated tree of small files. They
// run only with -bench, never under a plain go test:
//
//	go test -run '^$' -bench . -benchmem ./internal/engine/native/
//
// They measure warm-cache throughput (the tree was just written) and do not
// include write-back to disk; bench/run.sh measures the whole robo command
// from a dropped page cache. See docs/performance.md.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
)

const (
	benchFiles   = 5000
	benchPerDir  = 100
	benchFanout  = 10
	benchMinSize = 1 << 10
	benchMaxSize = 4 << 10
	// benchThreads is robo's default threads setting (schema.DefaultThreads).
	benchThreads = 8
)

var benchTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// makeBenchTree writes benchFiles files of 1 to 4 KiB under root, 100 to a
// directory in two levels, with fixed contents and times. It returns the
// number of bytes written.
func makeBenchTree(b *testing.B, root string) int64 {
	b.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	buf := make([]byte, benchMaxSize)
	for i := range buf {
		buf[i] = byte(r.Uint32())
	}
	var total int64
	for i := range benchFiles {
		leaf := i / benchPerDir
		dir := filepath.Join(root, fmt.Sprintf("d%02d", leaf/benchFanout), fmt.Sprintf("d%02d", leaf%benchFanout))
		if i%benchPerDir == 0 {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				b.Fatal(err)
			}
		}
		size := benchMinSize + r.IntN(benchMaxSize-benchMinSize+1)
		buf[0], buf[1], buf[2] = byte(i), byte(i>>8), byte(i>>16) // no two files alike
		p := filepath.Join(dir, fmt.Sprintf("f%05d.dat", i))
		if err := os.WriteFile(p, buf[:size], 0o644); err != nil {
			b.Fatal(err)
		}
		mt := benchTime.Add(time.Duration(i) * time.Second)
		if err := os.Chtimes(p, mt, mt); err != nil {
			b.Fatal(err)
		}
		total += int64(size)
	}
	return total
}

func benchSpec(src, dst string) engine.Spec {
	return engine.Spec{Name: "bench", Source: src, Destination: dst, Mirror: true, CopyEmptyDirs: true,
		Threads: benchThreads}
}

func benchEngine() *native.Engine {
	e := native.New()
	e.Sleep = func(time.Duration) {}
	return e
}

func scanOK(b *testing.B, e *native.Engine, spec engine.Spec) *engine.ScanResult {
	b.Helper()
	res, err := e.Scan(context.Background(), spec)
	if err != nil {
		b.Fatal(err)
	}
	if len(res.Errors) > 0 {
		b.Fatalf("scan errors: %v", res.Errors)
	}
	return res
}

func applyOK(b *testing.B, e *native.Engine, spec engine.Spec, changes []engine.Change) {
	b.Helper()
	res, err := e.Apply(context.Background(), engine.Job{Spec: spec, Changes: engine.ChangeListOf(changes)}, engine.Discard)
	if err != nil {
		b.Fatal(err)
	}
	if !res.OK() || len(res.Skipped) > 0 {
		b.Fatalf("apply: errors %v, skipped %v", res.Errors, res.Skipped)
	}
}

// BenchmarkScanNoChange scans a source and an identical destination: the
// cost of a plan (and of an apply) when nothing changed.
func BenchmarkScanNoChange(b *testing.B) { benchScanNoChange(b, "", false) }

// BenchmarkScanNoChangeCopy is BenchmarkScanNoChange with more metadata
// classes copied (issue 16): O compares the owners of the same lstat, S
// and E read each file's extended attributes on both sides.
func BenchmarkScanNoChangeCopy(b *testing.B) {
	for _, c := range []string{"DATO", "DATS", "DATE", "DATSOUE"} {
		b.Run(c, func(b *testing.B) { benchScanNoChange(b, c, false) })
	}
}

// BenchmarkApplyInitialCopy is BenchmarkApplyInitial copying every class.
func BenchmarkApplyInitialCopy(b *testing.B) {
	b.Run("DATSOUE", func(b *testing.B) { benchApplyInitial(b, "DATSOUE", false) })
}

// BenchmarkScanNoChangeHardLinks is BenchmarkScanNoChange with
// hard_links = true: the cost of the option on a tree without links.
func BenchmarkScanNoChangeHardLinks(b *testing.B) { benchScanNoChange(b, "", true) }

func benchScanNoChange(b *testing.B, copyLetters string, hardLinks bool) {
	root := b.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	makeBenchTree(b, src)
	e := benchEngine()
	spec := benchSpec(src, dst)
	spec.Copy, spec.DirCopy = copyLetters, strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(copyLetters, "S", ""), "O", ""), "U", "")
	spec.HardLinks = hardLinks
	applyOK(b, e, spec, scanOK(b, e, spec).Changes.Slice())

	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		res := scanOK(b, e, spec)
		if res.Changes.Len() != 0 || res.Source.Files != benchFiles {
			b.Fatalf("scan of identical trees: %d changes, %d source files", res.Changes.Len(), res.Source.Files)
		}
	}
	b.ReportMetric(float64(benchFiles)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}

// BenchmarkApplyInitial copies the whole tree into an empty destination
// (the plan is made once, outside the timer; each iteration writes a new
// destination, removed outside the timer).
func BenchmarkApplyInitial(b *testing.B) { benchApplyInitial(b, "", false) }

// BenchmarkApplyInitialHardLinks is BenchmarkApplyInitial with
// hard_links = true (plan and apply).
func BenchmarkApplyInitialHardLinks(b *testing.B) { benchApplyInitial(b, "", true) }

func benchApplyInitial(b *testing.B, copyLetters string, hardLinks bool) {
	root := b.TempDir()
	src := filepath.Join(root, "src")
	bytes := makeBenchTree(b, src)
	e := benchEngine()
	benchSpec := func(src, dst string) engine.Spec {
		s := benchSpec(src, dst)
		s.Copy = copyLetters
		s.HardLinks = hardLinks
		return s
	}
	changes := scanOK(b, e, benchSpec(src, filepath.Join(root, "none"))).Changes

	b.SetBytes(bytes)
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		dst := filepath.Join(root, fmt.Sprintf("dst%d", i))
		applyOK(b, e, benchSpec(src, dst), changes.Slice())
		b.StopTimer()
		if i == 0 {
			if res := scanOK(b, e, benchSpec(src, dst)); res.Changes.Len() != 0 {
				b.Fatalf("destination differs after apply: %d changes", res.Changes.Len())
			}
		}
		if err := os.RemoveAll(dst); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
	}
	b.ReportMetric(float64(benchFiles)*float64(b.N)/b.Elapsed().Seconds(), "files/s")
}
