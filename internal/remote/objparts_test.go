package remote_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

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
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = ""
	rp := httputil.NewSingleHostReverseProxy(u)
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.ServeHTTP(w, r)
		if isPart(r) {
			parts.Add(1) // answered
		}
	}))
	defer proxy.Close()
	cfg := config(proxy.URL)
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
	if _, err := w.Write(data[chunk+1:]); err != nil {
		t.Fatal(err)
	}
	if skip, err := w.Commit(func(now *vfs.Entry) string { return "" }); skip != "" || err != nil {
		t.Fatalf("commit: skip %q, err %v", skip, err)
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
}
