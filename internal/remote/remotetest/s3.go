package remotetest

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// S3 is a running versitygw serving the S3 API over a posix directory.
type S3 struct {
	// Endpoint is "http://127.0.0.1:PORT" (path-style addressing: the
	// bucket is the first path element).
	Endpoint string
	// Region is the region requests are signed for ("us-east-1").
	Region string
	// AccessKey and SecretKey are the gateway's root account, random for
	// each start.
	AccessKey, SecretKey string
	// Bucket exists and is empty when StartS3 returns.
	Bucket string
	// Root is the posix directory versitygw serves: the bucket is the
	// directory Root/Bucket and an object "a/b" is the file
	// Root/Bucket/a/b (its metadata in user.* extended attributes). An
	// upload in progress is an unnamed O_TMPFILE (or, where the file system
	// has none, a file under Root/Bucket/.sgwtmp, as are multipart parts)
	// and gets its final name only when complete.
	Root string
	// Versioned reports whether the bucket has S3 versioning enabled
	// (StartS3Versioned). Old versions live under VersionsDir.
	Versioned   bool
	VersionsDir string

	*proc
}

// StartS3 starts versitygw's posix backend on loopback with one empty
// bucket. The binary is $ROBO_VERSITYGW, versitygw on PATH, or
// $(go env GOPATH)/bin/versitygw (`go install
// github.com/versity/versitygw/cmd/versitygw@v1.8.0`).
func StartS3(t testing.TB) *S3 {
	t.Helper()
	return startS3(t, false)
}

// StartS3Versioned is StartS3 with S3 bucket versioning enabled on the
// bucket: versitygw's posix backend keeps every overwritten or deleted
// object's old versions in a separate directory (--versioning-dir), and
// ListObjectVersions, GetObject?versionId and delete markers work as on AWS.
func StartS3Versioned(t testing.TB) *S3 {
	t.Helper()
	return startS3(t, true)
}

func startS3(t testing.TB, versioned bool) *S3 {
	t.Helper()
	bin, err := findProgram("ROBO_VERSITYGW", []string{"versitygw"}, goBinDirs()...)
	if err != nil {
		missing(t, "S3", err.Error()+" (go install github.com/versity/versitygw/cmd/versitygw@v1.8.0)")
	}
	dir := t.TempDir()
	s := &S3{
		Region:    "us-east-1",
		AccessKey: "AK" + strings.ToUpper(randomHex(9)),
		SecretKey: randomHex(20),
		Bucket:    "robo-test",
		Root:      filepath.Join(dir, "posix"),
		Versioned: versioned,
	}
	if err := os.Mkdir(s.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	args := []string{bin, "--quiet"}
	if versioned {
		s.VersionsDir = filepath.Join(dir, "versions")
		if err := os.Mkdir(s.VersionsDir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	s.proc = launch(t, "versitygw", dir, func(port int) ([]string, []string) {
		a := append(args, "--port", "127.0.0.1:"+itoa(port), "posix")
		if versioned {
			a = append(a, "--versioning-dir", s.VersionsDir)
		}
		a = append(a, s.Root)
		return a, append(os.Environ(),
			"ROOT_ACCESS_KEY="+s.AccessKey,
			"ROOT_SECRET_KEY="+s.SecretKey,
			"VGW_REGION="+s.Region)
	}, httpReady)
	s.Endpoint = "http://127.0.0.1:" + itoa(s.Port())
	resp := s.Do(t, "PUT", "", nil, nil)
	if resp.StatusCode != 200 {
		t.Fatalf("create bucket %s: %s %s", s.Bucket, resp.Status, resp.Body)
	}
	if versioned {
		body := []byte(`<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>Enabled</Status></VersioningConfiguration>`)
		resp := s.Do(t, "PUT", "?versioning", body, nil)
		if resp.StatusCode != 200 {
			t.Fatalf("enable versioning on %s: %s %s", s.Bucket, resp.Status, resp.Body)
		}
	}
	return s
}

// Response is a finished HTTP exchange with its whole body.
type Response struct {
	StatusCode int
	Status     string
	Header     http.Header
	Body       []byte
}

// Do sends one SigV4-signed request to the bucket: key is the object key
// ("" for the bucket itself), optionally followed by "?query" (for example
// "?list-type=2&prefix=a/" or "a.txt?versionId=..."). hdr adds headers
// (x-amz-meta-*, Content-Type, Range). A transport error fails the test;
// any HTTP status is returned.
func (s *S3) Do(t testing.TB, method, key string, body []byte, hdr http.Header) *Response {
	t.Helper()
	path, query, _ := strings.Cut(key, "?")
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + s.Bucket
	if path != "" {
		u.Path += "/" + path
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	u.RawPath = uriEncode(u.Path, true)
	u.RawQuery = canonicalQuery(q)
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	signV4(req, body, s.Region, s.AccessKey, s.SecretKey, time.Now())
	return roundTrip(t, req)
}

func roundTrip(t testing.TB, req *http.Request) *Response {
	t.Helper()
	c := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", req.Method, req.URL, err)
	}
	return &Response{StatusCode: resp.StatusCode, Status: resp.Status, Header: resp.Header, Body: b}
}

// httpReady succeeds once the server answers an HTTP request with any
// status.
func httpReady(port int) error {
	c := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	resp, err := c.Get("http://127.0.0.1:" + itoa(port) + "/")
	if err != nil {
		return err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return nil
}

// goBinDirs are where `go install` puts binaries: $GOBIN, each
// $GOPATH/bin, and ~/go/bin (asking the go command when it is on PATH).
func goBinDirs() []string {
	var dirs []string
	if d := os.Getenv("GOBIN"); d != "" {
		dirs = append(dirs, d)
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		if out, err := exec.Command("go", "env", "GOPATH").Output(); err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	for _, p := range filepath.SplitList(gopath) {
		dirs = append(dirs, filepath.Join(p, "bin"))
	}
	if h, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, filepath.Join(h, "go", "bin"))
	}
	return dirs
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (r *Response) String() string { return fmt.Sprintf("%s %s", r.Status, r.Body) }
