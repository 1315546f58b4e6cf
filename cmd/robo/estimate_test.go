package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/robo-backup/robo/internal/remote/remotetest"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// reqCount is a proxy in front of a test server that counts the requests
// through it by method.
type reqCount struct {
	URL string // the proxy's root, "http://127.0.0.1:PORT"
	mu  sync.Mutex
	m   map[string]int
}

func countRequests(t *testing.T, endpoint string) *reqCount {
	u, err := url.Parse(endpoint)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = ""
	rp := httputil.NewSingleHostReverseProxy(u)
	// A fresh connection to the server for every request: versitygw
	// closes idle ones without a word, and a request the proxy sent on
	// one would fail and be sent again by robo (counted twice).
	rp.Transport = &http.Transport{DisableKeepAlives: true}
	c := &reqCount{m: map[string]int{}}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		rp.ServeHTTP(sw, r)
		// A request the server failed (a 5xx, or the proxy's 502 for a
		// connection the server dropped) is sent again by robo's client:
		// the one that did the work is counted, as the plan does.
		if sw.code < 500 {
			c.mu.Lock()
			c.m[r.Method]++
			c.mu.Unlock()
		}
	}))
	t.Cleanup(srv.Close)
	c.URL = srv.URL
	return c
}

type statusWriter struct {
	http.ResponseWriter
	code int
}

func (w *statusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// take returns the requests counted since the last take, and their
// number by method.
func (c *reqCount) take() (int64, string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	var out []string
	for k, v := range c.m {
		n += int64(v)
		out = append(out, fmt.Sprintf("%s %d", k, v))
	}
	sort.Strings(out)
	c.m = map[string]int{}
	return n, strings.Join(out, ", ")
}

// TestOffsiteEstimateMatchesApply: for each HTTP remote type, the
// requests `robo plan` says an apply sends are the requests the apply
// sends (counted by a proxy in front of the real server, less those of
// the plan's own scan, which `robo apply` makes again), for a first copy
// into a new destination (new folders, small files and one file in
// parts) and for a second run that updates, adds and deletes.
func TestOffsiteEstimateMatchesApply(t *testing.T) {
	kinds := []struct {
		name  string
		block func(t *testing.T) (block string, secrets map[string][]byte, c *reqCount)
	}{
		{"webdav", func(t *testing.T) (string, map[string][]byte, *reqCount) {
			s := remotetest.StartWebDAV(t)
			c := countRequests(t, s.URL)
			return fmt.Sprintf("  type     = \"webdav\"\n  url      = %q\n  user     = %q\n  password = secret(\"p\")\n", c.URL+"/", s.User),
				map[string][]byte{"p": []byte(s.Password)}, c
		}},
		{"s3", func(t *testing.T) (string, map[string][]byte, *reqCount) {
			s := remotetest.StartS3(t)
			c := countRequests(t, s.Endpoint)
			s2 := *s
			s2.Endpoint = c.URL
			return s3Block(&s2, "p", "  multipart_threshold = \"5M\"\n  chunk_size = \"5M\"\n"), map[string][]byte{"p": []byte(s.SecretKey)}, c
		}},
		{"azureblob", func(t *testing.T) (string, map[string][]byte, *reqCount) {
			s := remotetest.StartAzurite(t)
			c := countRequests(t, s.Endpoint)
			s2 := *s
			s2.Endpoint = c.URL + "/" + s.Account
			return azureBlock(&s2, "p", "  multipart_threshold = \"5M\"\n  chunk_size = \"5M\"\n"), map[string][]byte{"p": []byte(s.Key)}, c
		}},
	}
	for _, k := range kinds {
		t.Run(k.name, func(t *testing.T) {
			block, secretValues, c := k.block(t)
			src := filepath.Join(t.TempDir(), "src")
			tt.Create(t, src, tt.Dir{
				"a.txt": tt.File{Content: "alpha"},
				"d1":    tt.Dir{"b.txt": tt.File{Content: "beta"}, "big.bin": tt.File{Content: strings.Repeat("b", 6<<20+7)}, "d2": tt.Dir{"c.txt": tt.File{Content: "gamma"}}},
				"e":     tt.Dir{"f.txt": tt.File{Content: "phi"}},
			})
			body := fmt.Sprintf("backup \"up\" {\n  source      = %q\n  destination = \"offsite:est\"\n  mode        = \"mirror\"\n  max_delete  = \"unlimited\"\n}\n", src)
			conf, mk, _ := storeConfig(t, block, secretValues, body)
			check := func(step string) {
				t.Helper()
				c.take()
				code, out := runCapture(mk(), "-chdir", conf, "plan", "-json")
				planReqs, planMethods := c.take()
				var doc struct {
					Sets []struct {
						Summary struct {
							Offsite *struct{ Requests int64 } `json:"offsite"`
						} `json:"summary"`
					} `json:"sets"`
				}
				if err := json.Unmarshal([]byte(out), &doc); err != nil || code != exitOK && code != 2 || len(doc.Sets) != 1 || doc.Sets[0].Summary.Offsite == nil {
					t.Fatalf("%s: plan: exit %d %v\n%s", step, code, err, out)
				}
				want := doc.Sets[0].Summary.Offsite.Requests
				code, out = runCapture(mk(), "-chdir", conf, "apply", "-auto-approve")
				if code != exitOK {
					t.Fatalf("%s: apply: exit %d\n%s", step, code, out)
				}
				applyReqs, applyMethods := c.take()
				t.Logf("%s: plan %d (%s); apply %d (%s); estimate %d", step, planReqs, planMethods, applyReqs, applyMethods, want)
				if got := applyReqs - planReqs; got != want {
					t.Errorf("%s: the apply sent %d requests beyond its scan (apply %s; its scan %s), the plan estimated %d", step, got, applyMethods, planMethods, want)
				}
			}
			check("first copy")
			tt.Create(t, src, tt.Dir{"a.txt": tt.File{Content: "ALPHA!", MTime: tt.Base.Add(60e9)}, "d1/new.txt": tt.File{Content: "new"}, "g": tt.Dir{"h.txt": tt.File{Content: "h"}}})
			if err := os.RemoveAll(filepath.Join(src, "e")); err != nil {
				t.Fatal(err)
			}
			check("changes")
		})
	}
}
