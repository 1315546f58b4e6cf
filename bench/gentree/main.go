// Command gentree writes a deterministic, seeded tree of files for robo's
// benchmarks (bench/run.sh), or mutates such a tree deterministically.
//
// Generate 100,000 files of 1 KiB to 16 KiB, 100 files to a directory, ten
// subdirectories to a directory:
//
//	gentree -root /tmp/robo-bench/src -files 100000 -seed 1
//
// Change 1% of the files of a tree generated with the same -files, -per-dir,
// -dirs, -min, -max and -seed (a third rewritten with new content and a new
// modification time, a third deleted, and as many new files added):
//
//	gentree -root /tmp/robo-bench/src1 -files 100000 -seed 1 -mutate 1
//
// The same flags always give byte-identical files with identical
// modification times (directories included), so two machines, or two runs,
// benchmark the same tree. Mutating twice with the same flags changes
// nothing more. Only the standard library is used.
package main

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"hash/fnv"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"
)

// Fixed times so that a tree is the same whenever it is generated.
var (
	baseTime   = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	mutateTime = time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
)

type params struct {
	root     string
	files    int
	minSize  int
	maxSize  int
	perDir   int
	fanout   int
	seed     uint64
	mutate   float64
	workers  int
	quiet    bool
	leaves   int
	depth    int
	template []byte // random bytes file contents are cut from
}

func main() {
	var p params
	flag.StringVar(&p.root, "root", "", "directory to write the tree into (required)")
	flag.IntVar(&p.files, "files", 100000, "number of files")
	flag.IntVar(&p.minSize, "min", 1024, "smallest file size in bytes")
	flag.IntVar(&p.maxSize, "max", 16384, "largest file size in bytes")
	flag.IntVar(&p.perDir, "per-dir", 100, "files in each leaf directory")
	flag.IntVar(&p.fanout, "dirs", 10, "subdirectories of each inner directory (the fan-out)")
	flag.Uint64Var(&p.seed, "seed", 1, "seed of the generator")
	flag.Float64Var(&p.mutate, "mutate", 0, "instead of generating, change this percentage of the files of an existing tree")
	flag.IntVar(&p.workers, "workers", runtime.GOMAXPROCS(0)*2, "parallel writers")
	flag.BoolVar(&p.quiet, "q", false, "print nothing on success")
	flag.Parse()
	if err := run(&p); err != nil {
		fmt.Fprintln(os.Stderr, "gentree:", err)
		os.Exit(1)
	}
}

func run(p *params) error {
	switch {
	case p.root == "":
		return errors.New("-root is required")
	case p.files < 1:
		return errors.New("-files must be at least 1")
	case p.minSize < 0 || p.maxSize < p.minSize:
		return errors.New("need 0 <= -min <= -max")
	case p.perDir < 1:
		return errors.New("-per-dir must be at least 1")
	case p.fanout < 2:
		return errors.New("-dirs must be at least 2")
	case p.mutate < 0 || p.mutate > 100:
		return errors.New("-mutate takes a percentage from 0 to 100")
	case p.workers < 1:
		p.workers = 1
	}
	p.leaves = (p.files + p.perDir - 1) / p.perDir
	p.depth = 1
	for n := p.fanout; n < p.leaves; n *= p.fanout {
		p.depth++
	}
	// One block of random bytes; each file is a slice of it at a seeded
	// offset, stamped with its index, so contents differ between files
	// without generating 100,000 buffers of random data.
	r := rand.New(rand.NewPCG(p.seed, 0x9e3779b97f4a7c15))
	p.template = make([]byte, 1<<20+p.maxSize)
	for i := 0; i+8 <= len(p.template); i += 8 {
		binary.LittleEndian.PutUint64(p.template[i:], r.Uint64())
	}
	start := time.Now()
	var err error
	var what string
	if p.mutate > 0 {
		what, err = mutate(p)
	} else {
		what, err = generate(p)
	}
	if err != nil {
		return err
	}
	if !p.quiet {
		fmt.Printf("gentree: %s under %s in %s\n", what, p.root, time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// leafDir returns the relative path of leaf directory n: its index written
// in base fanout, one digit per level ("d3/d7/d2").
func (p *params) leafDir(n int) string {
	parts := make([]string, p.depth)
	for i := p.depth - 1; i >= 0; i-- {
		parts[i] = fmt.Sprintf("d%02d", n%p.fanout)
		n /= p.fanout
	}
	return strings.Join(parts, "/")
}

func (p *params) filePath(i int) string {
	return p.leafDir(i/p.perDir) + "/" + fmt.Sprintf("f%06d.dat", i)
}

func (p *params) addedPath(i int) string {
	return p.leafDir(i/p.perDir) + "/" + fmt.Sprintf("n%06d.dat", i)
}

// hash mixes the seed, a purpose tag and an index into 64 bits.
func (p *params) hash(tag string, i int) uint64 {
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], p.seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(i))
	h.Write([]byte(tag))
	h.Write(b[:])
	// fnv alone mixes the low bits poorly; finish with splitmix64.
	x := h.Sum64()
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	x ^= x >> 31
	return x
}

// size returns the size of file i in generation gen.
func (p *params) size(i, gen int) int {
	size := p.minSize
	if span := p.maxSize - p.minSize; span > 0 {
		size += int(p.hash(fmt.Sprintf("content%d", gen), i) % uint64(span+1))
	}
	return size
}

// content returns the bytes and modification time of file i in generation
// gen (0: as generated; 1: as rewritten or added by -mutate).
func (p *params) content(i, gen int) ([]byte, time.Time) {
	tag := fmt.Sprintf("content%d", gen)
	h := p.hash(tag, i)
	size := p.size(i, gen)
	off := int((h >> 32) % (1 << 20))
	b := make([]byte, size)
	copy(b, p.template[off:off+size])
	// Stamp the index and generation so no two files are equal.
	if size >= 16 {
		binary.LittleEndian.PutUint64(b[0:], uint64(i))
		binary.LittleEndian.PutUint64(b[8:], uint64(gen))
	}
	t := baseTime
	if gen > 0 {
		t = mutateTime
	}
	// Seconds and a nanosecond part, so that tools must keep full
	// precision to see the trees as equal.
	t = t.Add(time.Duration(i)*time.Second + time.Duration(p.hash(tag+"ns", i)%1e9))
	return b, t
}

func (p *params) writeFile(rel string, i, gen int) error {
	b, t := p.content(i, gen)
	path := filepath.Join(p.root, filepath.FromSlash(rel))
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	return os.Chtimes(path, t, t)
}

// parallel runs fn(i) for i in [0, n) on p.workers goroutines and returns
// the first error.
func (p *params) parallel(n int, fn func(i int) error) error {
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
		next  = make(chan int, 256)
	)
	for range min(p.workers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if err := fn(i); err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
				}
			}
		}()
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	return first
}

func generate(p *params) (string, error) {
	if entries, err := os.ReadDir(p.root); err == nil && len(entries) > 0 {
		return "", fmt.Errorf("%s is not empty; remove it first (or use -mutate)", p.root)
	}
	var dirs []string
	for n := range p.leaves {
		dirs = append(dirs, p.leafDir(n))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(filepath.Join(p.root, filepath.FromSlash(d)), 0o755); err != nil {
			return "", err
		}
	}
	if err := p.parallel(p.files, func(i int) error { return p.writeFile(p.filePath(i), i, 0) }); err != nil {
		return "", err
	}
	if err := setDirTimes(p.root, baseTime); err != nil {
		return "", err
	}
	var bytes int64
	for i := range p.files {
		bytes += int64(p.size(i, 0))
	}
	return fmt.Sprintf("%d files, %.1f MiB, in %d directories (depth %d)", p.files, float64(bytes)/(1<<20), countDirs(dirs), p.depth), nil
}

// countDirs counts the distinct directories on the paths of leaves.
func countDirs(leaves []string) int {
	seen := map[string]bool{}
	for _, l := range leaves {
		for d := l; d != "." && d != ""; d = filepath.Dir(d) {
			seen[d] = true
		}
	}
	return len(seen)
}

// setDirTimes gives every directory under root (root included) the time t,
// deepest first, so that writing into a child does not move its parent's
// time afterwards.
func setDirTimes(root string, t time.Time) error {
	var dirs []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			dirs = append(dirs, path)
		}
		return nil
	})
	if err != nil {
		return err
	}
	sort.Slice(dirs, func(i, j int) bool { return len(dirs[i]) > len(dirs[j]) })
	for _, d := range dirs {
		if err := os.Chtimes(d, t, t); err != nil {
			return err
		}
	}
	return nil
}

func mutate(p *params) (string, error) {
	if fi, err := os.Stat(p.root); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("-mutate needs an existing tree at %s", p.root)
	}
	threshold := uint64(p.mutate * 100) // out of 10,000
	var rewrite, del, add []int
	for i := range p.files {
		h := p.hash("mutate", i)
		if h%10000 >= threshold {
			continue
		}
		switch (h / 10000) % 3 {
		case 0:
			rewrite = append(rewrite, i)
		case 1:
			del = append(del, i)
		default:
			add = append(add, i)
		}
	}
	err := p.parallel(len(rewrite), func(k int) error { return p.writeFile(p.filePath(rewrite[k]), rewrite[k], 1) })
	if err != nil {
		return "", err
	}
	for _, i := range del {
		if err := os.Remove(filepath.Join(p.root, filepath.FromSlash(p.filePath(i)))); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	err = p.parallel(len(add), func(k int) error { return p.writeFile(p.addedPath(add[k]), add[k], 1) })
	if err != nil {
		return "", err
	}
	// Deleting and adding moved the times of the leaf directories (and
	// nothing else); give them a fixed time again.
	touched := map[string]bool{}
	for _, i := range append(append([]int{}, del...), add...) {
		touched[p.leafDir(i/p.perDir)] = true
	}
	for d := range touched {
		path := filepath.Join(p.root, filepath.FromSlash(d))
		if err := os.Chtimes(path, mutateTime, mutateTime); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("%d files rewritten, %d deleted, %d added (%d changes, %.2f%% of %d)",
		len(rewrite), len(del), len(add), len(rewrite)+len(del)+len(add),
		100*float64(len(rewrite)+len(del)+len(add))/float64(p.files), p.files), nil
}
