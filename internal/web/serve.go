package web

import (
	"log"
	"net"
	"net/http"
	"time"

	"golang.org/x/net/netutil"
)

// Connection limits of the dashboard's HTTP server (docs/api.md,
// "Limits"). They keep unauthenticated clients from holding connections,
// and so file descriptors, that robo's runs need.
const (
	// ReadHeaderTimeout bounds reading a request's headers.
	ReadHeaderTimeout = 10 * time.Second
	// ReadTimeout bounds reading a whole request (bodies are at most 64 KiB).
	ReadTimeout = 30 * time.Second
	// WriteTimeout bounds a handler and the writing of its response; the
	// plan handlers extend it (a plan of a large tree takes a while), and
	// a streaming handler clears it with
	// http.NewResponseController(w).SetWriteDeadline(time.Time{}).
	WriteTimeout = 60 * time.Second
	// IdleTimeout closes a keep-alive connection idle this long.
	IdleTimeout = 60 * time.Second
	// DefaultMaxConns is the cap on connections served at once; more wait
	// in the kernel's accept queue, holding no descriptor of robo's.
	DefaultMaxConns = 64
	// planWriteTimeout is the write deadline of the plan handlers.
	planWriteTimeout = 15 * time.Minute
	maxHeaderBytes   = 64 << 10
)

// HTTPOptions tune NewHTTPServer and Listen; zero values are the defaults
// above (tests shorten them).
type HTTPOptions struct {
	ReadHeaderTimeout, ReadTimeout, WriteTimeout, IdleTimeout time.Duration
	// MaxConns caps the connections served at once (default
	// DefaultMaxConns, lowered to a quarter of the open-file limit).
	MaxConns int
	ErrorLog *log.Logger
}

func (o HTTPOptions) withDefaults() HTTPOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.ReadHeaderTimeout, ReadHeaderTimeout)
	def(&o.ReadTimeout, ReadTimeout)
	def(&o.WriteTimeout, WriteTimeout)
	def(&o.IdleTimeout, IdleTimeout)
	if o.MaxConns <= 0 {
		o.MaxConns = DefaultMaxConns
		if n := openFileLimit(); n > 0 && uint64(o.MaxConns) > n/4 {
			o.MaxConns = int(max(n/4, 4))
		}
	}
	return o
}

// NewHTTPServer returns the http.Server that serves h with the dashboard's
// timeouts.
func NewHTTPServer(h http.Handler, o HTTPOptions) *http.Server {
	o = o.withDefaults()
	return &http.Server{Handler: h, ReadHeaderTimeout: o.ReadHeaderTimeout, ReadTimeout: o.ReadTimeout,
		WriteTimeout: o.WriteTimeout, IdleTimeout: o.IdleTimeout, MaxHeaderBytes: maxHeaderBytes, ErrorLog: o.ErrorLog}
}

// Listen listens on the TCP address addr and accepts at most o.MaxConns
// connections at once.
func Listen(addr string, o HTTPOptions) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	return netutil.LimitListener(ln, o.withDefaults().MaxConns), nil
}

// extendWrite gives a slow handler (a plan) more than WriteTimeout.
func extendWrite(w http.ResponseWriter, d time.Duration) {
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(d))
}
