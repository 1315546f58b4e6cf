package shares_test

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/robo-backup/robo/internal/shares"
)

// onlyWriter hides a writer's ReadFrom, so io.Copy reads in 32 KiB pieces.
type onlyWriter struct{ io.Writer }

// failingReader returns data, then an error.
type failingReader struct {
	r   io.Reader
	err error
}

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if err == io.EOF {
		return n, f.err
	}
	return n, err
}

// Large copies go through smbFile.ReadFrom (several writes in flight) and
// the read buffer of smbFile.Read; both must keep every byte in order, also
// when a plain Write came first and when the copy is cut in pieces as the
// engine's io.CopyN does.
func TestLargeCopy(t *testing.T) {
	s := server(t)
	c := dial(t, s, "data", shares.Options{})
	f := c.FS("")
	r := rand.New(rand.NewPCG(7, 8))
	content := make([]byte, 9<<20+12345) // nine chunks and a bit
	for i := range content {
		content[i] = byte(r.Uint32())
	}
	w, tmp, err := f.CreateTemp("", "big.", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(content[:1000]); err != nil {
		t.Fatal(err)
	}
	src := bytes.NewReader(content[1000:])
	var total int64
	for { // like the engine's copyChunks, with a chunk that is no multiple of 1 MiB
		n, err := io.CopyN(w, src, 3<<20+7)
		total += n
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	if total != int64(len(content)-1000) {
		t.Fatalf("copied %d bytes, want %d", total, len(content)-1000)
	}
	if _, err := w.Write([]byte("tail")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := append(append([]byte(nil), content...), "tail"...)
	got, err := os.ReadFile(filepath.Join(s.DataDir, tmp))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("written file differs: %d bytes, want %d", len(got), len(want))
	}

	// Read back through the buffered Read, with io.Copy's 32 KiB reads.
	rd, err := f.Open(tmp)
	if err != nil {
		t.Fatal(err)
	}
	var back bytes.Buffer
	n, err := io.Copy(onlyWriter{&back}, rd)
	if err != nil || n != int64(len(want)) || !bytes.Equal(back.Bytes(), want) {
		t.Fatalf("read back %d bytes (%v), equal %v", n, err, bytes.Equal(back.Bytes(), want))
	}
	// Large reads go straight through.
	if err := rd.Close(); err != nil {
		t.Fatal(err)
	}
	rd, err = f.Open(tmp)
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	buf := make([]byte, 2<<20)
	k, err := io.ReadFull(rd, buf)
	if err != nil || k != len(buf) || !bytes.Equal(buf, want[:len(buf)]) {
		t.Fatalf("large read: %d %v", k, err)
	}
	small := make([]byte, 100)
	if k, err := io.ReadFull(rd, small); err != nil || !bytes.Equal(small[:k], want[len(buf):len(buf)+100]) {
		t.Fatalf("small read after a large one: %d %v", k, err)
	}

	// An empty file and a small one.
	for _, size := range []int{0, 4096} {
		w, name, err := f.CreateTemp("", "small.", 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if n, err := io.Copy(w, bytes.NewReader(content[:size])); err != nil || n != int64(size) {
			t.Fatalf("copy of %d bytes: %d %v", size, n, err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		rd, err := f.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(rd)
		rd.Close()
		if err != nil || !bytes.Equal(got, content[:size]) {
			t.Fatalf("read back %d of %d bytes: %v", len(got), size, err)
		}
	}
}

// A source that fails half-way fails the copy with its error.
func TestLargeCopySourceFails(t *testing.T) {
	s := server(t)
	c := dial(t, s, "data", shares.Options{})
	f := c.FS("")
	w, _, err := f.CreateTemp("", "fail.", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	boom := errors.New("disk on fire")
	n, err := io.Copy(w, &failingReader{r: bytes.NewReader(make([]byte, 5<<20+3)), err: boom})
	if !errors.Is(err, boom) {
		t.Fatalf("copy: %d bytes, error %v; want %v", n, err, boom)
	}
}
