package engine

import (
	"container/heap"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"os"
	"slices"
)

// dupHashes tells whether any two of a stream of path hashes are equal,
// in bounded memory: hashes are sorted in runs of dupRun, full runs are
// written to a nameless spill file (as change lists spill), and the runs
// are merged at the end. A plan of 10 million changes costs dupRun*8
// bytes and a small buffer per run, not 80 MB.
type dupHashes struct {
	seed maphash.Seed
	run  []uint64
	runs []int64 // offset of each run written; its end is the next one's start
	file *os.File
	size int64
	dup  bool
	err  error
}

// dupRun is the number of hashes sorted in memory at once (2 MiB).
var dupRun = 1 << 18

func newDupHashes() *dupHashes { return &dupHashes{seed: maphash.MakeSeed()} }

func (d *dupHashes) add(path string) {
	if d.dup || d.err != nil {
		return
	}
	d.run = append(d.run, maphash.String(d.seed, path))
	if len(d.run) >= dupRun {
		d.flush()
	}
}

// flush sorts the run in memory, notes a duplicate inside it, and writes
// it to the file.
func (d *dupHashes) flush() {
	slices.Sort(d.run)
	for i := 1; i < len(d.run); i++ {
		if d.run[i] == d.run[i-1] {
			d.dup = true
			return
		}
	}
	if d.file == nil {
		if d.file, d.err = spillFile(); d.err != nil {
			return
		}
	}
	buf := make([]byte, 0, 8*len(d.run))
	for _, h := range d.run {
		buf = binary.LittleEndian.AppendUint64(buf, h)
	}
	if _, err := d.file.WriteAt(buf, d.size); err != nil {
		d.err = err
		return
	}
	d.runs = append(d.runs, d.size)
	d.size += int64(len(buf))
	d.run = d.run[:0]
}

// any reports whether two hashes were equal.
func (d *dupHashes) any() (bool, error) {
	defer func() {
		if d.file != nil {
			d.file.Close()
		}
	}()
	if d.dup || d.err != nil {
		return d.dup, d.err
	}
	if d.file == nil {
		slices.Sort(d.run)
		for i := 1; i < len(d.run); i++ {
			if d.run[i] == d.run[i-1] {
				return true, nil
			}
		}
		return false, nil
	}
	if len(d.run) > 0 {
		d.flush()
		if d.dup || d.err != nil {
			return d.dup, d.err
		}
	}
	h := &runHeap{}
	for i, off := range d.runs {
		end := d.size
		if i+1 < len(d.runs) {
			end = d.runs[i+1]
		}
		r := &hashRun{f: d.file, off: off, end: end}
		if r.next() {
			h.rs = append(h.rs, r)
		} else if r.err != nil {
			return false, r.err
		}
	}
	heap.Init(h)
	first, last := true, uint64(0)
	for h.Len() > 0 {
		r := h.rs[0]
		if !first && r.cur == last {
			return true, nil
		}
		first, last = false, r.cur
		if r.next() {
			heap.Fix(h, 0)
		} else {
			if r.err != nil {
				return false, r.err
			}
			heap.Pop(h)
		}
	}
	return false, nil
}

// hashRun reads one sorted run of the file through a small buffer.
type hashRun struct {
	f        *os.File
	off, end int64
	back     []byte // the buffer; buf is what is left of it
	buf      []byte
	cur      uint64
	err      error
}

func (r *hashRun) next() bool {
	if len(r.buf) == 0 {
		n := min(r.end-r.off, 4096)
		if n <= 0 {
			return false
		}
		if r.back == nil {
			r.back = make([]byte, 4096)
		}
		r.buf = r.back[:n]
		if _, err := r.f.ReadAt(r.buf, r.off); err != nil {
			r.err = fmt.Errorf("duplicate check: %w", err)
			return false
		}
		r.off += n
	}
	r.cur = binary.LittleEndian.Uint64(r.buf)
	r.buf = r.buf[8:]
	return true
}

type runHeap struct{ rs []*hashRun }

func (h *runHeap) Len() int           { return len(h.rs) }
func (h *runHeap) Less(i, j int) bool { return h.rs[i].cur < h.rs[j].cur }
func (h *runHeap) Swap(i, j int)      { h.rs[i], h.rs[j] = h.rs[j], h.rs[i] }
func (h *runHeap) Push(x any)         { h.rs = append(h.rs, x.(*hashRun)) }
func (h *runHeap) Pop() any {
	x := h.rs[len(h.rs)-1]
	h.rs = h.rs[:len(h.rs)-1]
	return x
}
