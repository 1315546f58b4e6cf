// Command reqcount is a reverse proxy that counts the HTTP requests passing
// through it, by method and by the kind of request (S3's ?uploads,
// ?partNumber, ?list-type; Azure's ?comp=), for bench/offsite.sh's request
// counts per file. It serves until it receives SIGINT or SIGTERM, then
// writes the counts to -o (or standard output), one "COUNT METHOD KIND" line
// each, the largest first.
//
//	reqcount -listen 127.0.0.1:9001 -to http://127.0.0.1:9000 -o counts.txt [-trace requests.txt]
package main

import (
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/signal"
	"sort"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	listen := flag.String("listen", "127.0.0.1:0", "address to listen on")
	to := flag.String("to", "", "the server's URL")
	out := flag.String("o", "", "file the counts are written to at exit (default standard output)")
	trace := flag.String("trace", "", "file every request's start, seconds taken, method and URL are written to")
	flag.Parse()
	u, err := url.Parse(*to)
	if err != nil || u.Host == "" {
		log.Fatalf("reqcount: -to must be the server's URL")
	}
	var mu sync.Mutex
	counts := map[string]int{}
	var tw *os.File
	if *trace != "" {
		if tw, err = os.Create(*trace); err != nil {
			log.Fatal(err)
		}
	}
	proxy := httputil.NewSingleHostReverseProxy(u)
	proxy.Transport = &http.Transport{MaxIdleConnsPerHost: 256}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k := r.Method + " " + kind(r)
		mu.Lock()
		counts[k]++
		mu.Unlock()
		start := time.Now()
		proxy.ServeHTTP(w, r)
		if tw != nil {
			mu.Lock()
			fmt.Fprintf(tw, "%s %.3f %s %s\n", start.Format("15:04:05.000"), time.Since(start).Seconds(), r.Method, r.URL.RequestURI())
			mu.Unlock()
		}
	})
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(ln.Addr().String())
	go func() { log.Fatal(http.Serve(ln, h)) }()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	<-sig
	mu.Lock()
	defer mu.Unlock()
	keys := make([]string, 0, len(counts))
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return counts[keys[i]] > counts[keys[j]] })
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "%d %s\n", counts[k], k)
	}
	if *out == "" {
		os.Stdout.WriteString(b.String())
		return
	}
	if err := os.WriteFile(*out, []byte(b.String()), 0o644); err != nil {
		log.Fatal(err)
	}
}

// kind names the sub-resource a request addresses (its query keys that
// select an operation), "object" for a plain key.
func kind(r *http.Request) string {
	q := r.URL.Query()
	for _, k := range []string{"comp", "restype"} {
		if v := q.Get(k); v != "" {
			return k + "=" + v
		}
	}
	for _, k := range []string{"partNumber", "uploadId", "uploads", "list-type", "delimiter", "versioning"} {
		if q.Has(k) {
			return k
		}
	}
	if r.Header.Get("X-Amz-Copy-Source") != "" || r.Header.Get("X-Ms-Copy-Source") != "" {
		return "copy"
	}
	if r.Header.Get("Destination") != "" {
		return "destination"
	}
	return "object"
}
