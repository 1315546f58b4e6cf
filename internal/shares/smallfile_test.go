package shares_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/shares"
	"github.com/robo-backup/robo/internal/vfs"
)

// Issue 22, item 3: the SMB requests (and round trips) the native engine
// spends on each new small file. Counts are deterministic: the test copies
// directories of 5 and of 25 files of 4 KiB and asserts the difference per
// file. Before robo's go-smb2 fork (third_party/go-smb2) a small file cost
// 10 requests in 10 round trips: lstat of the destination, create the
// temporary file, write, close, then set its time (open, set info, close)
// and rename it (open, set info, close). Now 5 in 2: the create and the
// write in one compound (WriteTemp); then its time, the rename and the
// close in one compound (FinishFresh), sent once the write was answered.
// The lstat of the destination that came first (open and close in one
// compound, 2 requests in 1 round trip) is gone: the rename refuses a
// name that is taken, which is the destination guard of a new file.
const (
	smallFileRequests = 5
	smallFileFrames   = 2
)

func TestSmallFileRequests(t *testing.T) {
	s := server(t)
	var bc benchCounter
	pool := shares.NewPool(context.Background(), shares.Options{DialContext: bc.dial, Sessions: 1},
		shares.Mount{Name: "data", UNC: shares.UNC{Server: s.Host, Share: "data"}, Port: s.Port, Credentials: creds(s)})
	t.Cleanup(func() { pool.Close() })
	if _, err := pool.Open(s.UNC("data")); err != nil {
		t.Fatal(err)
	}
	e := shareEngine(pool)
	mt := time.Date(2024, 1, 2, 3, 4, 5, 123456700, time.UTC)
	run := func(files int) (msgs, frames int64) {
		src := filepath.Join(t.TempDir(), "src")
		if err := os.MkdirAll(src, 0o755); err != nil {
			t.Fatal(err)
		}
		for i := range files {
			p := filepath.Join(src, fmt.Sprintf("f%03d.dat", i))
			if err := os.WriteFile(p, bytes.Repeat([]byte{byte(i)}, 4096), 0o644); err != nil {
				t.Fatal(err)
			}
			os.Chtimes(p, mt, mt)
		}
		name := fmt.Sprintf("dst%d", files)
		sp := engine.Spec{Name: "small", Source: src, Destination: s.UNC("data") + `\` + name, Mirror: true, Threads: 4}
		sc, err := e.Scan(context.Background(), sp)
		if err != nil {
			t.Fatal(err)
		}
		m0, f0 := bc.msgs.Load(), bc.frames.Load()
		res, err := e.Apply(context.Background(), engine.Job{Spec: sp, Changes: sc.Changes}, nil)
		if err != nil || !res.OK() {
			t.Fatalf("apply: %v, errors %v skipped %v", err, res.Errors, res.Skipped)
		}
		msgs, frames = bc.msgs.Load()-m0, bc.frames.Load()-f0
		// Every file arrived whole, with its time, and no temporary
		// file is left.
		ents, err := os.ReadDir(filepath.Join(s.DataDir, name))
		if err != nil || len(ents) != files {
			t.Fatalf("%d entries in the destination, want %d (%v)", len(ents), files, err)
		}
		for i := range files {
			p := filepath.Join(s.DataDir, name, fmt.Sprintf("f%03d.dat", i))
			b, err := os.ReadFile(p)
			if err != nil || !bytes.Equal(b, bytes.Repeat([]byte{byte(i)}, 4096)) {
				t.Fatalf("%s: wrong content (%v)", p, err)
			}
			if fi, err := os.Stat(p); err != nil || !fi.ModTime().Equal(mt) {
				t.Fatalf("%s: mtime %v, want %v (%v)", p, fi.ModTime(), mt, err)
			}
		}
		return msgs, frames
	}
	m5, f5 := run(5)
	m25, f25 := run(25)
	perMsg, perFrame := float64(m25-m5)/20, float64(f25-f5)/20
	t.Logf("per small file: %.2f requests in %.2f round trips (5 files: %d/%d, 25 files: %d/%d)", perMsg, perFrame, m5, f5, m25, f25)
	if perMsg != smallFileRequests || perFrame != smallFileFrames {
		t.Errorf("per small file: %.2f requests in %.2f frames, want %d in %d", perMsg, perFrame, smallFileRequests, smallFileFrames)
	}
}

// Finish puts the written file at its name with its time in one request,
// and when the rename is refused (a directory the run never listed is in
// the way) the file stays under its temporary name, complete, and the name
// keeps what it had.
func TestFinish(t *testing.T) {
	s := server(t)
	c := dial(t, s, "data", shares.Options{})
	if err := os.MkdirAll(filepath.Join(s.DataDir, "fin", "busy", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	f := c.FS("fin")
	mt := time.Date(2023, 5, 6, 7, 8, 9, 100, time.UTC)
	write := func() (vfs.Finisher, string) {
		w, tmp, err := f.CreateTemp("", ".robo-t.", 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(w, bytes.NewReader([]byte("hello"))); err != nil {
			t.Fatal(err)
		}
		fin, ok := w.(vfs.Finisher)
		if !ok {
			t.Fatalf("%T is not a vfs.Finisher", w)
		}
		return fin, tmp
	}
	fin, tmp := write()
	if err := fin.Finish(mt, "a.txt"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(s.DataDir, "fin", "a.txt")); err != nil || string(b) != "hello" {
		t.Fatalf("a.txt: %q %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(s.DataDir, "fin", "a.txt")); err != nil || !fi.ModTime().Equal(mt) {
		t.Fatalf("a.txt mtime %v, want %v (%v)", fi.ModTime(), mt, err)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "fin", tmp)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temporary %s still there: %v", tmp, err)
	}
	if err := fin.(io.Closer).Close(); err != nil {
		t.Fatalf("Close after Finish: %v", err)
	}

	// WriteTemp: created with its data; larger than one write (Samba:
	// 8 MiB), written in pieces.
	tw := f.(vfs.TempWriter)
	for _, data := range [][]byte{[]byte("hi"), {}, bytes.Repeat([]byte("0123456789abcdef"), 9<<16)} {
		w, tmp, err := tw.WriteTemp("", ".robo-w.", 0o644, data)
		if err != nil {
			t.Fatalf("WriteTemp of %d bytes: %v", len(data), err)
		}
		if err := w.(vfs.Finisher).Finish(mt, "w.txt"); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(s.DataDir, "fin", "w.txt")); err != nil || !bytes.Equal(b, data) {
			t.Fatalf("WriteTemp of %d bytes: read back %d bytes (%v)", len(data), len(b), err)
		}
		if _, err := os.Stat(filepath.Join(s.DataDir, "fin", tmp)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("temporary %s still there: %v", tmp, err)
		}
	}

	fin, tmp = write()
	if err := fin.Finish(mt, "busy"); err == nil {
		t.Fatal("Finish onto a directory succeeded")
	}
	if b, err := os.ReadFile(filepath.Join(s.DataDir, "fin", tmp)); err != nil || string(b) != "hello" {
		t.Fatalf("temporary after a refused Finish: %q %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(s.DataDir, "fin", "busy", "x")); err != nil || !fi.IsDir() {
		t.Fatalf("busy/x after a refused Finish: %v", err)
	}

	// FinishFresh: a new name is renamed to; a taken one (a file, even
	// read-only, or a directory) is refused with fs.ErrExist, the target
	// unchanged and the temporary left complete.
	fresh := func() (vfs.FreshFinisher, string) {
		w, tmp := write()
		ff, ok := w.(vfs.FreshFinisher)
		if !ok {
			t.Fatalf("%T is not a vfs.FreshFinisher", w)
		}
		return ff, tmp
	}
	ff, tmp := fresh()
	if err := ff.FinishFresh(mt, "new.txt"); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(s.DataDir, "fin", "new.txt")); err != nil || string(b) != "hello" {
		t.Fatalf("new.txt: %q %v", b, err)
	}
	if fi, err := os.Stat(filepath.Join(s.DataDir, "fin", "new.txt")); err != nil || !fi.ModTime().Equal(mt) {
		t.Fatalf("new.txt mtime %v, want %v (%v)", fi.ModTime(), mt, err)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "fin", tmp)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temporary %s still there: %v", tmp, err)
	}
	if err := os.WriteFile(filepath.Join(s.DataDir, "fin", "theirs"), []byte("theirs"), 0o444); err != nil {
		t.Fatal(err)
	}
	for _, taken := range []string{"theirs", "a.txt", "busy"} {
		ff, tmp := fresh()
		err := ff.FinishFresh(mt, taken)
		if !errors.Is(err, fs.ErrExist) {
			t.Fatalf("FinishFresh onto %s: %v, want fs.ErrExist", taken, err)
		}
		if b, err := os.ReadFile(filepath.Join(s.DataDir, "fin", tmp)); err != nil || string(b) != "hello" {
			t.Fatalf("temporary after FinishFresh onto %s: %q %v", taken, b, err)
		}
		if err := f.Remove(tmp); err != nil {
			t.Fatalf("removing the temporary after FinishFresh onto %s: %v", taken, err)
		}
	}
	if b, err := os.ReadFile(filepath.Join(s.DataDir, "fin", "theirs")); err != nil || string(b) != "theirs" {
		t.Fatalf("theirs after a refused FinishFresh: %q %v", b, err)
	}
	if b, err := os.ReadFile(filepath.Join(s.DataDir, "fin", "a.txt")); err != nil || string(b) != "hello" {
		t.Fatalf("a.txt after a refused FinishFresh: %q %v", b, err)
	}

	// RenameFresh by name: the same refusal.
	fr := f.(vfs.FreshRenamer)
	w, tmp2, err := f.CreateTemp("", ".robo-r.", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	if err := fr.RenameFresh(tmp2, "theirs"); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("RenameFresh onto theirs: %v, want fs.ErrExist", err)
	}
	if err := fr.RenameFresh(tmp2, "fresh2"); err != nil {
		t.Fatalf("RenameFresh onto a new name: %v", err)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "fin", "fresh2")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.DataDir, "fin", tmp2)); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("temporary %s still there: %v", tmp2, err)
	}
}

// The metadata calls issue 16 builds on: times and attributes by name, a
// security descriptor read and set back.
func TestMetadataCalls(t *testing.T) {
	s := server(t)
	c := dial(t, s, "data", shares.Options{})
	if err := os.MkdirAll(filepath.Join(s.DataDir, "meta"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.DataDir, "meta", "f"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f := c.FS("meta")
	type meta interface {
		SetBasicInfo(string, shares.BasicInfo) error
		SecurityDescriptor(string, shares.SecurityInfo) ([]byte, error)
		SetSecurityDescriptor(string, shares.SecurityInfo, []byte) error
	}
	m, ok := f.(meta)
	if !ok {
		t.Fatalf("%T has no metadata calls", f)
	}
	mt := time.Date(2020, 2, 3, 4, 5, 6, 700, time.UTC)
	if err := m.SetBasicInfo("f", shares.BasicInfo{Modified: mt, Attributes: shares.AttrReadOnly}); err != nil {
		t.Fatal(err)
	}
	e, err := f.Stat("f")
	if err != nil || !e.ModTime.Equal(mt) || e.Mode != 0o444 {
		t.Fatalf("after SetBasicInfo: %+v %v", e, err)
	}
	sd, err := m.SecurityDescriptor("f", shares.SecurityOwner|shares.SecurityGroup|shares.SecurityDACL)
	if err != nil || len(sd) < 20 || sd[0] != 1 {
		t.Fatalf("security descriptor: % x %v", sd, err)
	}
	if err := m.SetSecurityDescriptor("f", shares.SecurityDACL, sd); err != nil {
		t.Fatalf("setting the DACL back: %v", err)
	}
	if _, err := m.SecurityDescriptor("missing", shares.SecurityDACL); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("security descriptor of a missing file: %v", err)
	}
}
