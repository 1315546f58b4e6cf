package remote_test

import (
	"bytes"
	"context"
	"math"
	"net/http"
	"runtime/debug"
	"sync/atomic"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/memlimit"
	"github.com/robo-backup/robo/internal/remote"
	"github.com/robo-backup/robo/internal/remote/remotetest"
	tt "github.com/robo-backup/robo/internal/testtree"
	"github.com/robo-backup/robo/internal/vfs"
)

// TestS3PartsFromFirstByte: a file the engine says is past the multipart
// threshold goes in parts from its first byte: its first part is sent once
// one chunk is written, not after the threshold's worth is held in memory
// (four files of 256 MiB at once held over 600 MiB), and the object
// arrives whole.
//
// On plain http each part's body is signed with one SHA-256 of the part
// (X-Amz-Content-Sha256 is its hex), not minio-go's streaming signature,
// whose per-64-KiB signatures made 80 MiB of garbage a GiB.
func TestS3PartsFromFirstByte(t *testing.T) {
	s := remotetest.StartS3(t)
	var streamed atomic.Value
	testPartsFromFirstByte(t, s.Endpoint, func(proxy string) remote.Config {
		cfg := s3Config(s)
		cfg.S3.Endpoint = proxy
		return cfg
	}, func(r *http.Request) bool {
		part := r.Method == "PUT" && r.URL.Query().Has("partNumber")
		if h := r.Header.Get("X-Amz-Content-Sha256"); part && len(h) != 64 {
			streamed.Store(h)
		}
		return part
	})
	if h := streamed.Load(); h != nil {
		t.Errorf("a part was signed as %q, want the hex SHA-256 of its body", h)
	}
}

// TestAzurePartsFromFirstByte: the same on Azure (blocks).
func TestAzurePartsFromFirstByte(t *testing.T) {
	s := remotetest.StartAzurite(t)
	testPartsFromFirstByte(t, s.Endpoint, func(proxy string) remote.Config {
		cfg := azureConfig(s)
		cfg.Azure.Endpoint = proxy + "/" + s.Account
		return cfg
	}, func(r *http.Request) bool { return r.Method == "PUT" && r.URL.Query().Get("comp") == "block" })
}

func testPartsFromFirstByte(t *testing.T, endpoint string, config func(proxy string) remote.Config, isPart func(*http.Request) bool) {
	var parts atomic.Int64
	proxy := proxyTo(t, endpoint, nil, func(r *http.Request) {
		if isPart(r) {
			parts.Add(1) // answered
		}
	})
	// robo's soft memory limit (internal/memlimit), as cmd/robo sets it:
	// the part buffers and a small file's whole buffer raise it while
	// they are held, and give it back.
	memlimit.Init(func(string) (string, bool) { return "", false })
	defer func() {
		memlimit.Init(func(string) (string, bool) { return "", true })
		debug.SetMemoryLimit(math.MaxInt64)
	}()
	limit := func() int64 { return debug.SetMemoryLimit(-1) }
	cfg := config(proxy)
	conn, err := remote.Dial(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	bucket, err := conn.Open("parts")
	if err != nil {
		t.Fatal(err)
	}
	chunk := int(cfg.ChunkSize)
	data := make([]byte, 3*chunk+123) // past the threshold (6 MiB)
	for i := range data {
		data[i] = byte(i*31 + i>>12)
	}
	w, err := bucket.(vfs.AtomicCreator).CreateFinal("big.bin", 0o644, tt.Base)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	h, ok := w.(vfs.SizeHinter)
	if !ok {
		t.Fatalf("%T is not a vfs.SizeHinter", w)
	}
	h.SizeHint(int64(len(data)))
	if _, err := w.Write(data[:chunk+1]); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(30 * time.Second); parts.Load() == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no part stored after %d bytes of a file of %d (threshold %d): held in memory", chunk+1, len(data), cfg.MultipartThreshold)
		}
	}
	transfers := cfg.Transfers
	if transfers < 1 {
		transfers = 4 // Dial's default
	}
	partMem := int64(transfers+1) * cfg.ChunkSize
	if got := limit(); got != memlimit.Base+partMem {
		t.Errorf("memory limit %d while parts are out, want %d + (transfers+1) × chunk %d", got, memlimit.Base, partMem)
	}
	if _, err := w.Write(data[chunk+1:]); err != nil {
		t.Fatal(err)
	}
	if skip, err := w.Commit(func(now *vfs.Entry) string { return "" }); skip != "" || err != nil {
		t.Fatalf("commit: skip %q, err %v", skip, err)
	}
	// A file under the threshold is held whole until its PUT.
	mid := data[:2<<20]
	wm, err := bucket.(vfs.AtomicCreator).CreateFinal("mid.bin", 0o644, tt.Base)
	if err != nil {
		t.Fatal(err)
	}
	wm.(vfs.SizeHinter).SizeHint(int64(len(mid)))
	if _, err := wm.Write(mid[:1]); err != nil {
		t.Fatal(err)
	}
	if got := limit(); got != memlimit.Base+partMem+int64(len(mid)) {
		t.Errorf("memory limit %d while a 2 MiB file is held, want %d", got, memlimit.Base+partMem+int64(len(mid)))
	}
	if _, err := wm.Write(mid[1:]); err != nil {
		t.Fatal(err)
	}
	if skip, err := wm.Commit(func(now *vfs.Entry) string { return "" }); skip != "" || err != nil {
		t.Fatalf("commit mid.bin: skip %q, err %v", skip, err)
	}
	if got := limit(); got != memlimit.Base+partMem {
		t.Errorf("memory limit %d after the 2 MiB file's PUT, want %d", got, memlimit.Base+partMem)
	}
	if n := parts.Load(); n != 4 {
		t.Errorf("%d parts, want 4 (three chunks and the rest)", n)
	}
	if got := readAll(t, bucket, "big.bin"); !bytes.Equal([]byte(got), data) {
		t.Fatalf("got %d bytes, want %d, or different bytes", len(got), len(data))
	}
	if e, err := bucket.Stat("big.bin"); err != nil || e.Size != int64(len(data)) || !e.ModTime.Equal(tt.Base) {
		t.Fatalf("stat: %+v %v", e, err)
	}
	if got := readAll(t, bucket, "mid.bin"); !bytes.Equal([]byte(got), mid) {
		t.Fatalf("mid.bin: got %d bytes, want %d, or different bytes", len(got), len(mid))
	}
	conn.Close()
	if got := limit(); got != memlimit.Base {
		t.Errorf("memory limit %d after Close, want %d", got, memlimit.Base)
	}
}
