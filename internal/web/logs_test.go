package web

import (
	"bytes"
	"encoding/json"
	"io"
	"mime"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"unicode/utf16"
)

// TestRawLogDownload: /logs/raw answers the log's exact bytes (a UTF-16
// robocopy log with a BOM and CRLF, a native log), as an attachment named
// after the file, typed so that no browser renders it; anything that is
// not a log file of the directory is a 404.
func TestRawLogDownload(t *testing.T) {
	dir := logDir(t)
	text := "\ufeff-------------------------------------------------------------------------------\r\n   ROBOCOPY     ::     Robust File Copy for Windows\r\n  Started : Sunday, November 1, 2026 2:00:00 AM\r\n   Source : C:\\Daten\\Übersicht\\\r\n"
	var utf16le []byte
	for _, u := range utf16.Encode([]rune(text)) {
		utf16le = append(utf16le, byte(u), byte(u>>8))
	}
	names := map[string][]byte{
		"robocopy-run-café-20261102T020000Z.log": utf16le,
		"native-run-docs-20261101T020000Z.log":   nil, // written by logDir
	}
	if err := os.WriteFile(filepath.Join(dir, "robocopy-run-café-20261102T020000Z.log"), utf16le, 0o600); err != nil {
		t.Fatal(err)
	}
	names["native-run-docs-20261101T020000Z.log"], _ = os.ReadFile(filepath.Join(dir, "native-run-docs-20261101T020000Z.log"))
	os.WriteFile(filepath.Join(filepath.Dir(dir), "secret.log"), []byte("secret"), 0o600)
	s, err := New(Options{Backend: &fakeBackend{}, LogDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	base := serve(t, s)
	get := func(file string) (*http.Response, []byte) {
		t.Helper()
		resp, err := http.Get(base + "/logs/raw?file=" + url.QueryEscape(file))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}
	for name, want := range names {
		resp, got := get(name)
		if resp.StatusCode != 200 || !bytes.Equal(got, want) {
			t.Errorf("%s: %d, %d bytes, want the file's %d bytes", name, resp.StatusCode, len(got), len(want))
		}
		if ct := resp.Header.Get("Content-Type"); ct != "application/octet-stream" {
			t.Errorf("%s: Content-Type %q", name, ct)
		}
		disp, params, err := mime.ParseMediaType(resp.Header.Get("Content-Disposition"))
		if err != nil || disp != "attachment" || params["filename"] != name {
			t.Errorf("%s: Content-Disposition %q (%v, %q)", name, resp.Header.Get("Content-Disposition"), err, params["filename"])
		}
		if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Errorf("%s: no nosniff", name)
		}
	}
	for _, bad := range []string{"", "../secret.log", "secret.log", "native-run-docs-20261101T020000Z.log/", `..\secret.log`, "nope-run-x-20261101T020000Z.log"} {
		if resp, _ := get(bad); resp.StatusCode != http.StatusNotFound {
			t.Errorf("raw %q: %d, want 404", bad, resp.StatusCode)
		}
	}
	// The log page links the download.
	c := &client{t: t, base: base}
	if _, body := c.do("GET", "/logs?file=native-run-docs-20261101T020000Z.log", "", nil, nil); !strings.Contains(body, `href="/logs/raw?file=native-run-docs-20261101T020000Z.log"`) {
		t.Errorf("the log page has no download link:\n%s", body)
	}
}

// TestLogSearch: a search across the run logs (written by the native
// engine's log writer) finds the lines in every log, error lines first;
// within one log, order=errors puts its errors first and the page lists
// them above the log with links to their lines.
func TestLogSearch(t *testing.T) {
	s, _ := demoServer(t)
	c := &client{t: t, base: serve(t, s)}
	var res LogSearch
	get := func(q string) {
		t.Helper()
		code, body := c.do("GET", "/api/logs?"+q, "", nil, nil)
		if code != 200 {
			t.Fatalf("%s: %d %s", q, code, body)
		}
		res = LogSearch{}
		if err := json.Unmarshal([]byte(body), &res); err != nil {
			t.Fatal(err)
		}
	}
	// "Source" is in every log's header; the failed runs' logs have errors.
	all, _ := listLogs(s.o.LogDir)
	get("q=" + url.QueryEscape("accessing source"))
	if res.Files != len(all) || len(all) != 12 || len(res.Matches) == 0 || res.Truncated {
		t.Fatalf("search: %d files, %d matches, truncated %v", res.Files, len(res.Matches), res.Truncated)
	}
	for i, m := range res.Matches {
		if m.Level != "error" || m.Set != "mail-archive" || m.N == 0 || m.File == "" {
			t.Errorf("match %d: %+v", i, m)
		}
	}
	if res.Errors != len(res.Matches) || len(res.Matches) != 3 {
		t.Errorf("%d matches, %d errors; want the 3 failed mail-archive runs", len(res.Matches), res.Errors)
	}
	// Errors first, then the rest; newest log first within each group.
	get("q=" + url.QueryEscape("C:\\") + "&set=") // nothing: the demo's roots are D:\ and \\nas01
	if len(res.Matches) != 0 {
		t.Errorf("a search for C:\\ found %d lines", len(res.Matches))
	}
	get("q=Job")
	seenInfo := false
	for _, m := range res.Matches {
		if m.Level == "info" {
			seenInfo = true
		} else if seenInfo {
			t.Fatalf("an error after an info line: %+v", m)
		}
	}
	get("level=error&set=documents")
	if len(res.Matches) != 0 {
		t.Errorf("documents' logs (all successes) have errors: %+v", res.Matches)
	}
	get("level=error")
	if res.Errors != len(res.Matches) || res.Errors < 3 {
		t.Errorf("level=error: %d matches, %d errors", len(res.Matches), res.Errors)
	}
	if code, _ := c.do("GET", "/api/logs?order=sideways", "", nil, nil); code != http.StatusBadRequest {
		t.Errorf("a bad order: %d", code)
	}
	// The page.
	_, body := c.do("GET", "/logs?q=accessing+source", "", nil, nil)
	if !strings.Contains(body, `id="matches"`) || !strings.Contains(body, "3 matching lines (3 errors, shown first) in 12 logs") {
		t.Errorf("the search page:\n%s", body)
	}

	// One log: errors first on request, line numbers kept.
	logs, _ := listLogs(s.o.LogDir)
	var name string
	for _, f := range logs {
		if f.Set == "mail-archive" {
			name = f.Name
			break
		}
	}
	var doc struct {
		Lines []LogLine `json:"lines"`
	}
	_, body = c.do("GET", "/api/logs?order=errors&file="+url.QueryEscape(name), "", nil, nil)
	json.Unmarshal([]byte(body), &doc)
	if len(doc.Lines) < 3 || doc.Lines[0].Level != "error" || doc.Lines[0].N <= 1 || doc.Lines[len(doc.Lines)-1].Level != "info" {
		t.Errorf("order=errors: %+v", doc.Lines)
	}
	_, body = c.do("GET", "/logs?file="+url.QueryEscape(name), "", nil, nil)
	if !strings.Contains(body, `id="errors"`) || !strings.Contains(body, `<a href="#L`+strconv.Itoa(doc.Lines[0].N)+`">line `+strconv.Itoa(doc.Lines[0].N)+`</a>`) {
		t.Errorf("the log page does not list its errors first:\n%s", body)
	}
}
