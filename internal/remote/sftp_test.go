package remote_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/remote"
	"github.com/robo-backup/robo/internal/remote/remotetest"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// sftpWire counts the SFTP requests a client writes to its SSH channel, by
// type, and the Writes that carried them: the channel sends each Write as
// an SSH packet of its own.
type sftpWire struct {
	io.WriteCloser
	mu     sync.Mutex
	buf    []byte
	types  map[string]int
	writes int
}

// sftpTypes names the request types of SFTP version 3.
var sftpTypes = map[byte]string{1: "INIT", 3: "OPEN", 4: "CLOSE", 5: "READ", 6: "WRITE", 7: "LSTAT", 8: "FSTAT",
	9: "SETSTAT", 10: "FSETSTAT", 11: "OPENDIR", 12: "READDIR", 13: "REMOVE", 14: "MKDIR", 15: "RMDIR",
	16: "REALPATH", 17: "STAT", 18: "RENAME", 19: "READLINK", 20: "SYMLINK", 200: "EXTENDED"}

func (w *sftpWire) Write(b []byte) (int, error) {
	w.mu.Lock()
	w.writes++
	w.buf = append(w.buf, b...)
	for len(w.buf) >= 5 {
		n := 4 + int(binary.BigEndian.Uint32(w.buf))
		if len(w.buf) < n {
			break
		}
		name, ok := sftpTypes[w.buf[4]]
		if !ok {
			name = fmt.Sprint(w.buf[4])
		}
		if w.types == nil {
			w.types = map[string]int{}
		}
		w.types[name]++
		w.buf = w.buf[n:]
	}
	w.mu.Unlock()
	return w.WriteCloser.Write(b)
}

// take returns the counts so far and starts again from zero.
func (w *sftpWire) take() (types map[string]int, writes int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	types, writes = w.types, w.writes
	w.types, w.writes = nil, 0
	return types, writes
}

// TestSFTPRequestsPerNewFile counts what the native engine sends to
// OpenSSH for each new small file of a first copy, as robo apply copies:
// the destination guard (LSTAT), the temporary file made exclusively
// (OPEN) with its permissions (FSETSTAT), the data (WRITE), CLOSE, the
// time (SETSTAT) and the rename to the final name (posix-rename, an
// EXTENDED request): 7 requests, and each one SSH packet (pkg/sftp writes
// a request's header and payload apart; robo hands the channel whole
// requests). The per-file counts are the difference between copies of 15
// and 5 files, so the folder's own requests cancel out.
// docs/offsite.md, "What the plan counts", states the same.
func TestSFTPRequestsPerNewFile(t *testing.T) {
	s := remotetest.StartSFTP(t)
	var mu sync.Mutex
	var wires []*sftpWire
	restore := remote.SetSFTPWire(func(w io.WriteCloser) io.WriteCloser {
		c := &sftpWire{WriteCloser: w}
		mu.Lock()
		wires = append(wires, c)
		mu.Unlock()
		return c
	})
	conn := dial(t, sftpConfig(s))
	restore()
	if len(wires) != 1 {
		t.Fatalf("%d sftp sessions, want 1", len(wires))
	}
	wire := wires[0]
	e := nativeOn(conn)(t)
	dir := t.TempDir()
	copyOf := func(files int) (map[string]int, int) {
		tree := tt.Dir{}
		for i := 0; i < files; i++ {
			tree[fmt.Sprintf("d/f%02d.dat", i)] = tt.File{Content: strings.Repeat("x", 1000+i)}
		}
		src, dst := filepath.Join(dir, fmt.Sprint("src", files)), filepath.Join(dir, fmt.Sprint("dst", files))
		tt.Create(t, src, tree)
		sp := engine.Spec{Name: "t", Source: src, Destination: "offsite:" + filepath.ToSlash(dst), CopyEmptyDirs: true, Threads: 4}
		sc, err := e.Scan(context.Background(), sp)
		if err != nil || len(sc.Errors) > 0 {
			t.Fatalf("scan: %v %v", err, sc.Errors)
		}
		wire.take()
		res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: sc.Changes}, engine.Discard)
		if err != nil || len(res.Errors) > 0 || len(res.Skipped) > 0 {
			t.Fatalf("apply: %v %v %v", err, res.Errors, res.Skipped)
		}
		types, writes := wire.take()
		tt.Equal(t, src, dst, tt.Options{})
		return types, writes
	}
	few, fewWrites := copyOf(5)
	many, manyWrites := copyOf(15)
	per := map[string]int{}
	total := 0
	for k, v := range many {
		if d := v - few[k]; d != 0 {
			per[k] = d
		}
	}
	for k, v := range few {
		per[k] = many[k] - v
	}
	var got []string
	for k, v := range per {
		if v != 0 {
			got = append(got, fmt.Sprintf("%s %g", k, float64(v)/10))
		}
		total += v
	}
	sort.Strings(got)
	want := "CLOSE 1, EXTENDED 1, FSETSTAT 1, LSTAT 1, OPEN 1, SETSTAT 1, WRITE 1"
	if strings.Join(got, ", ") != want {
		t.Errorf("requests per new file: %s, want %s", strings.Join(got, ", "), want)
	}
	if w := manyWrites - fewWrites; w != total {
		t.Errorf("%g SSH channel writes per new file for %g requests: a request split over several packets", float64(w)/10, float64(total)/10)
	}
}

// TestSFTPFilesPastOneBuffer: files of one buffer (1 MiB) and more go
// through pkg/sftp's pipelined copy from where the first buffer left off
// and arrive byte for byte, at the buffer's edges too, in 32 KiB WRITEs.
func TestSFTPFilesPastOneBuffer(t *testing.T) {
	s := remotetest.StartSFTP(t)
	var wire *sftpWire
	restore := remote.SetSFTPWire(func(w io.WriteCloser) io.WriteCloser {
		wire = &sftpWire{WriteCloser: w}
		return wire
	})
	conn := dial(t, sftpConfig(s))
	restore()
	e := nativeOn(conn)(t)
	dir := t.TempDir()
	sizes := []int{1<<20 - 1, 1 << 20, 1<<20 + 1, 3<<20 + 123}
	tree := tt.Dir{}
	want := 0
	for i, n := range sizes {
		b := make([]byte, n)
		for j := range b {
			b[j] = byte(j*7 + j>>15 + i)
		}
		tree[fmt.Sprintf("f%d.bin", i)] = tt.File{Content: string(b)}
		want += (n + 32<<10 - 1) / (32 << 10)
	}
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	tt.Create(t, src, tree)
	sp := engine.Spec{Name: "t", Source: src, Destination: "offsite:" + filepath.ToSlash(dst), CopyEmptyDirs: true, Threads: 2}
	sc, err := e.Scan(context.Background(), sp)
	if err != nil || len(sc.Errors) > 0 {
		t.Fatalf("scan: %v %v", err, sc.Errors)
	}
	wire.take()
	res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: sc.Changes}, engine.Discard)
	if err != nil || len(res.Errors) > 0 || len(res.Skipped) > 0 {
		t.Fatalf("apply: %v %v %v", err, res.Errors, res.Skipped)
	}
	tt.Equal(t, src, dst, tt.Options{})
	if types, _ := wire.take(); types["WRITE"] != want {
		t.Errorf("%d WRITE requests, want %d (32 KiB each)", types["WRITE"], want)
	}
}
