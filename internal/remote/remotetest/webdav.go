package remotetest

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// WebDAV is a running WebDAV server (Debian's `rclone serve webdav`) on
// loopback with basic authentication.
type WebDAV struct {
	// URL is the server's root, "http://127.0.0.1:PORT/" (ending in "/");
	// the path "/a/b" is the file Root/a/b.
	URL string
	// User and Password are the one account (basic auth), the password
	// random for each start.
	User, Password string
	// Root is the directory served.
	Root string

	*proc
}

// StartWebDAV starts `rclone serve webdav` over an empty directory: the
// program is $ROBO_RCLONE or rclone on PATH (apt-get install rclone).
func StartWebDAV(t testing.TB) *WebDAV {
	t.Helper()
	bin, err := findProgram("ROBO_RCLONE", []string{"rclone"})
	if err != nil {
		missing(t, "WebDAV", err.Error()+" (apt-get install rclone)")
	}
	dir := t.TempDir()
	s := &WebDAV{User: "robo", Password: "Dav-" + randomHex(8), Root: filepath.Join(dir, "root")}
	if err := os.Mkdir(s.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	// An empty config file: the server must not read the user's rclone
	// remotes, and rclone complains without one.
	conf := filepath.Join(dir, "rclone.conf")
	if err := os.WriteFile(conf, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	s.proc = launch(t, "rclone-webdav", dir, func(port int) ([]string, []string) {
		return []string{bin, "serve", "webdav",
			"--config", conf,
			"--addr", "127.0.0.1:" + itoa(port),
			"--user", s.User, "--pass", s.Password,
			// Listings straight from the directory: a test that writes
			// into Root sees its files on the next PROPFIND.
			"--dir-cache-time", "0s",
			"--log-level", "INFO",
			s.Root,
		}, os.Environ()
	}, httpReady)
	s.URL = "http://127.0.0.1:" + itoa(s.Port()) + "/"
	return s
}

// Do sends one authenticated request: path is relative to URL ("a/b.txt",
// "" for the root). hdr adds headers (Depth, Destination, X-OC-Mtime).
func (s *WebDAV) Do(t testing.TB, method, path string, body []byte, hdr http.Header) *Response {
	t.Helper()
	u := s.URL + uriEncode(strings.TrimPrefix(path, "/"), true)
	req, err := http.NewRequest(method, u, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.SetBasicAuth(s.User, s.Password)
	return roundTrip(t, req)
}
