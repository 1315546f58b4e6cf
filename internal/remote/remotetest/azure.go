package remotetest

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Azurite's well-known development account and key (documented by
// Microsoft for the storage emulators; not a secret).
const (
	AzuriteAccount = "devstoreaccount1"
	AzuriteKey     = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)

// azureVersion is the x-ms-version the fixture's own requests use.
const azureVersion = "2021-12-02"

// Azure is a running Azurite blob service on loopback.
type Azure struct {
	// Endpoint is the account's path-style URL,
	// "http://127.0.0.1:PORT/devstoreaccount1".
	Endpoint string
	// Account and Key are the emulator's well-known account
	// (AzuriteAccount) and base64 shared key (AzuriteKey).
	Account, Key string
	// Container exists and is empty when StartAzurite returns.
	Container string
	// Root is Azurite's --location directory. Azurite keeps blobs in its
	// own extent files and a LokiJS database there, not as one file per
	// blob: look at blobs through Do, not through Root.
	Root string

	*proc
}

// StartAzurite starts Microsoft's Azurite blob emulator (azurite-blob from
// npm) on loopback with one empty container. The program is $ROBO_AZURITE,
// azurite-blob on PATH, or /opt/robo-ci/azurite/node_modules/.bin/azurite-blob
// (where .ci/run installs it).
func StartAzurite(t testing.TB) *Azure {
	t.Helper()
	bin, err := findProgram("ROBO_AZURITE", []string{"azurite-blob"}, "/opt/robo-ci/azurite/node_modules/.bin")
	if err != nil {
		missing(t, "Azure", err.Error()+" (npm install azurite@3.37.0)")
	}
	dir := t.TempDir()
	s := &Azure{
		Account:   AzuriteAccount,
		Key:       AzuriteKey,
		Container: "robo-test",
		Root:      filepath.Join(dir, "azurite"),
	}
	if err := os.Mkdir(s.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	s.proc = launch(t, "azurite", dir, func(port int) ([]string, []string) {
		return []string{bin,
			"--blobHost", "127.0.0.1", "--blobPort", itoa(port),
			"--location", s.Root,
			// Accept the API versions of newer SDKs than this Azurite.
			"--skipApiVersionCheck",
			// Ignore headers and parameters Azurite does not implement
			// instead of failing the request.
			"--loose",
		}, os.Environ()
	}, httpReady)
	s.Endpoint = "http://127.0.0.1:" + itoa(s.Port()) + "/" + s.Account
	resp := s.Do(t, "PUT", "?restype=container", nil, nil)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("create container %s: %s", s.Container, resp)
	}
	return s
}

// Do sends one SharedKey-signed request to the container: blob is the
// blob's name ("" for the container itself), optionally followed by
// "?query" (for example "?restype=container&comp=list"). hdr adds headers
// (x-ms-blob-type, x-ms-meta-*). A transport error fails the test; any HTTP
// status is returned.
func (s *Azure) Do(t testing.TB, method, blob string, body []byte, hdr http.Header) *Response {
	t.Helper()
	name, query, _ := strings.Cut(blob, "?")
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		t.Fatal(err)
	}
	u.Path += "/" + s.Container
	if name != "" {
		u.Path += "/" + name
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	u.RawPath = uriEncode(u.Path, true)
	u.RawQuery = q.Encode()
	req, err := http.NewRequest(method, u.String(), bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range hdr {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	if method == "PUT" && name != "" && req.Header.Get("x-ms-blob-type") == "" {
		req.Header.Set("x-ms-blob-type", "BlockBlob")
	}
	if err := signSharedKey(req, int64(len(body)), s.Account, s.Key, time.Now()); err != nil {
		t.Fatal(err)
	}
	return roundTrip(t, req)
}

// signSharedKey signs req with Azure Storage's Shared Key scheme for the
// Blob service ("Authorize with Shared Key", version 2015-02-21 and later:
// an empty Content-Length for a zero-length body).
func signSharedKey(req *http.Request, length int64, account, key string, now time.Time) error {
	k, err := base64.StdEncoding.DecodeString(key)
	if err != nil {
		return err
	}
	req.Header.Set("x-ms-date", now.UTC().Format(http.TimeFormat))
	req.Header.Set("x-ms-version", azureVersion)
	cl := ""
	if length > 0 {
		cl = strconv.FormatInt(length, 10)
	}
	h := req.Header
	var xms []string
	for name := range h {
		if ln := strings.ToLower(name); strings.HasPrefix(ln, "x-ms-") {
			xms = append(xms, ln)
		}
	}
	sort.Strings(xms)
	var canonHeaders strings.Builder
	for _, n := range xms {
		canonHeaders.WriteString(n + ":" + strings.TrimSpace(h.Get(n)) + "\n")
	}
	// The canonical resource is /account followed by the URL's path, which
	// for the emulator's path-style URLs starts with the account again.
	res := "/" + account + req.URL.EscapedPath()
	q := req.URL.Query()
	var params []string
	for p := range q {
		params = append(params, p)
	}
	sort.Strings(params)
	for _, p := range params {
		vs := append([]string(nil), q[p]...)
		sort.Strings(vs)
		res += "\n" + strings.ToLower(p) + ":" + strings.Join(vs, ",")
	}
	toSign := strings.Join([]string{
		req.Method,
		h.Get("Content-Encoding"),
		h.Get("Content-Language"),
		cl,
		h.Get("Content-MD5"),
		h.Get("Content-Type"),
		"", // Date: x-ms-date is used instead
		h.Get("If-Modified-Since"),
		h.Get("If-Match"),
		h.Get("If-None-Match"),
		h.Get("If-Unmodified-Since"),
		h.Get("Range"),
	}, "\n") + "\n" + canonHeaders.String() + res
	m := hmac.New(sha256.New, k)
	m.Write([]byte(toSign))
	req.Header.Set("Authorization", "SharedKey "+account+":"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	return nil
}
