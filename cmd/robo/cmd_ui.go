package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/internal/fleet"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/safetext"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/watch"
	"github.com/robo-backup/robo/internal/web"
	"github.com/robo-backup/robo/schema"
)

// The dashboard and HTTP API (docs/api.md): robo ui serves it alone, robo
// watch -listen serves it beside the watch loop. internal/web is the
// server; this file provides its data from the configuration and state.

const defaultUIListen = "127.0.0.1:8765"

// uiFlags are robo ui's and robo watch's dashboard flags.
type uiFlags struct {
	listen    string
	tokenFile string
	auth      bool
	// fleet is -fleet: the report folder the Fleet page shows (default:
	// the configuration's report { path }).
	fleet string
}

func (u *uiFlags) register(fs *flag.FlagSet, defListen, listenHelp string) {
	fs.StringVar(&u.listen, "listen", defListen, listenHelp)
	fs.StringVar(&u.tokenFile, "token-file", "", "the dashboard's bearer token FILE, mode 0600, created when missing (default: ui.token beside the state file)")
	fs.BoolVar(&u.auth, "auth", false, "require the token on a loopback address too (always required on other addresses)")
	fs.StringVar(&u.fleet, "fleet", "", "show the fleet's report folder PATH on the Fleet page, as robo fleet status does (default: the configuration's report { path })")
}

func runUI(e *env, args []string) error {
	fs := newFlags(e, "ui", "ui [-listen ADDR] [-token-file FILE] [-auth] [-fleet PATH] [-log-level LEVEL] [-var name=value]...")
	var uf uiFlags
	uf.register(fs, defaultUIListen, "serve the dashboard on ADDR (host:port)")
	level := fs.String("log-level", "", "log level: trace, debug, info, warn or error (default: robo's -log-level, else info)")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fatalf("robo ui takes no arguments, got %q", fs.Arg(0))
	}
	log, err := e.logger(*level)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(e, vars)
	if err != nil {
		return err
	}
	e.startAudit(cfg)
	b := newUIBackend(e, cfg, vars)
	b.log = log
	srv, addr, stop, err := startUI(e, cfg, uf, b, log)
	if err != nil {
		return err
	}
	b.srv = srv
	fmt.Fprintf(e.stderr, "robo ui: serving the dashboard on http://%s/ (interrupt to stop)\n", addr)
	<-e.ctx.Done()
	stop()
	b.wait()
	return nil
}

// uiBackend is web.Backend over the configuration directory. For robo ui
// alone it runs sets itself; under robo watch, trigger queues them in the
// watch loop.
type uiBackend struct {
	e    *env
	load watch.Loader
	host string
	log  hclog.Logger
	srv  *web.Server
	// trigger, when set (robo watch), queues a run; otherwise RunNow
	// converges the set in a goroutine.
	trigger func(set string) error

	mu     sync.Mutex
	cfg    *schema.Config
	loaded time.Time
	busy   map[string]bool
	wg     sync.WaitGroup
}

func newUIBackend(e *env, cfg *schema.Config, vars varFlags) *uiBackend {
	host, _ := os.Hostname()
	return &uiBackend{e: e, load: watchLoader(e, vars), host: host, cfg: cfg, loaded: time.Now(), busy: map[string]bool{},
		log: hclog.NewNullLogger()}
}

// config returns the configuration, reloaded at most every few seconds;
// a configuration with errors keeps the last good one.
func (b *uiBackend) config() *schema.Config {
	b.mu.Lock()
	defer b.mu.Unlock()
	if time.Since(b.loaded) > 3*time.Second {
		b.loaded = time.Now()
		if cfg, _, err := b.load(); err == nil {
			b.cfg = cfg
		}
	}
	return b.cfg
}

func (b *uiBackend) Sets() ([]web.SetView, error) {
	cfg := b.config()
	store, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	st, err := store.Read()
	if err != nil {
		return nil, err
	}
	doc := buildStatus(cfg, store, st, b.host, time.Now())
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]web.SetView, 0, len(doc.Sets))
	for _, s := range doc.Sets {
		v := web.SetView{Name: s.Name, InConfig: s.InConfig, Enabled: s.Enabled, Health: string(s.Health), Running: s.Running || b.busy[s.Name],
			Schedule: s.Schedule, ScheduleError: s.ScheduleError, NextRun: s.NextRun, LastSuccess: s.LastSuccess}
		if r := s.LastRun; r != nil {
			v.LastRun = &web.RunView{Set: s.Name, Started: r.Started, Duration: r.Duration, Outcome: r.Outcome, Message: r.Message,
				FilesCopied: r.FilesCopied, BytesCopied: r.BytesCopied, Source: "state"}
			if sn := r.Snapshot; sn != nil {
				v.LastRun.Snapshot = sn.Kind + " " + sn.ID
			}
		}
		out = append(out, v)
	}
	return out, nil
}

func (b *uiBackend) Plan(ctx context.Context) (*plan.Plan, error) {
	cfg := b.config()
	store, err := openStore(cfg)
	if err != nil {
		return nil, err
	}
	st, err := store.Read()
	if err != nil {
		return nil, err
	}
	if st == nil {
		st = state.New()
	}
	le := *b.e
	le.ctx = ctx
	eng := newEngines(&le, cfg, "")
	defer eng.Close()
	return buildPlan(ctx, cfg, st, nil, true, false, eng)
}

func (b *uiBackend) RunNow(set string) error {
	cfg := b.config()
	bk := cfg.Backup(set)
	if bk == nil {
		return fmt.Errorf("%w: %s", web.ErrUnknownSet, set)
	}
	if !bk.Enabled {
		return fmt.Errorf("set %s is disabled (enabled = false)", set)
	}
	if b.trigger != nil {
		err := b.trigger(set)
		if errors.Is(err, watch.ErrUnknownSet) {
			err = fmt.Errorf("%w: %s", web.ErrUnknownSet, set)
		}
		return err
	}
	if err := b.claim(set); err != nil {
		return err
	}
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer b.release(set)
		live := newLiveRun(b.srv, set)
		live.end(convergeOne(b.e.ctx, b.e, cfg, set, b.log.Named("apply"), live.watchers()))
	}()
	return nil
}

// wait waits for the runs RunNow started.
func (b *uiBackend) wait() { b.wg.Wait() }

// runView is a watch outcome as the dashboard records it.
func runView(start time.Time, o watch.Outcome) web.RunView {
	return web.RunView{Set: o.Set, Started: start.UTC(), Duration: o.Duration, Outcome: o.Outcome, Message: o.Message,
		FilesCopied: o.FilesCopied, BytesCopied: o.BytesCopied, Source: "process", Snapshot: o.Snapshot}
}

// uiFleetPath is the Fleet page's folder: -fleet, normalized as robo
// fleet status does, else the configuration's report { path }, else ""
// (no Fleet page).
func uiFleetPath(e *env, cfg *schema.Config, flagPath string) (string, error) {
	if flagPath == "" {
		if cfg.Fleet.Report != nil {
			return cfg.Fleet.Report.Dir, nil
		}
		return "", nil
	}
	p, _, err := schema.NormalizePath(flagPath, absDir(e.dir), runtime.GOOS)
	if err != nil {
		return "", fatalf("-fleet %s: %v", safetext.Name(flagPath), err)
	}
	return p, nil
}

// fleetReader reads the report folder path on each call, opened as robo
// fleet status opens it (openFolder, through the configuration's share
// blocks), and judges it now with robo fleet status's defaults.
func fleetReader(e *env, cfg *schema.Config, path string) func(ctx context.Context) (*fleet.Status, error) {
	return func(ctx context.Context) (*fleet.Status, error) {
		eng := newEngines(e, cfg, "")
		defer eng.Close()
		fsys, err := openFolder(eng, path)
		if err != nil {
			return nil, err
		}
		defer vfs.Close(fsys)
		return fleet.Read(ctx, fsys, "", fleet.Options{Now: time.Now()})
	}
}

// startUI listens on uf.listen and serves the dashboard until stop is
// called. A token is required on a non-loopback address, and with -auth
// or -token-file.
func startUI(e *env, cfg *schema.Config, uf uiFlags, b web.Backend, log hclog.Logger) (srv *web.Server, addr net.Addr, stop func(), err error) {
	loopback := web.IsLoopback(uf.listen)
	var token string
	if !loopback || uf.auth || uf.tokenFile != "" {
		path := uf.tokenFile
		if path == "" {
			path = filepath.Join(filepath.Dir(cfg.Settings.StateFile), "ui.token")
		} else {
			path = e.path(path)
		}
		if token, err = uiToken(path); err != nil {
			return nil, nil, nil, err
		}
		why := "-auth"
		switch {
		case !loopback:
			why = "the address is not loopback"
		case uf.tokenFile != "":
			why = "-token-file"
		}
		// Where to find the token, or nobody can sign in (issue 19).
		fmt.Fprintf(e.stderr, "dashboard: a token is required (%s); it is in the token file %s\n", why, path)
		if !loopback {
			fmt.Fprintf(e.stderr, "dashboard: serving plain HTTP on a non-loopback address: put a TLS reverse proxy in front for remote access\n")
		}
	}
	o := web.Options{Backend: b, LogDir: runLogDir(cfg), Token: token, Loopback: loopback, Audit: e.record}
	if o.FleetPath, err = uiFleetPath(e, cfg, uf.fleet); err != nil {
		return nil, nil, nil, err
	}
	if o.FleetPath != "" {
		o.Fleet = fleetReader(e, cfg, o.FleetPath)
	}
	srv, err = web.New(o)
	if err != nil {
		return nil, nil, nil, fatalf("%v", err)
	}
	// Timeouts and a cap on connections (docs/api.md, "Limits"), so that
	// clients cannot hold the descriptors robo's runs need.
	hopts := web.HTTPOptions{ErrorLog: log.StandardLogger(&hclog.StandardLoggerOptions{InferLevels: true})}
	ln, err := web.Listen(uf.listen, hopts)
	if err != nil {
		return nil, nil, nil, fatalf("dashboard: %v", err).hint("pass -listen HOST:PORT")
	}
	hs := web.NewHTTPServer(srv, hopts)
	// Shutdown waits for active connections; event streams never go idle.
	hs.RegisterOnShutdown(srv.CloseStreams)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("the dashboard stopped", "error", err)
		}
	}()
	log.Info("dashboard listening", "addr", ln.Addr().String(), "auth", token != "")
	return srv, ln.Addr(), func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		hs.Shutdown(ctx)
		<-done
		srv.Close() // the last summary of failed sign-ins
	}, nil
}

// uiToken reads the dashboard's token from path, creating the file (mode
// 0600, 32 random bytes in hex) when it is missing. A file that others may
// read is refused (except on Windows, whose ACLs robo does not inspect).
func uiToken(path string) (string, error) {
	info, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		buf := make([]byte, 32)
		if _, err := rand.Read(buf); err != nil {
			return "", fatalf("token: %v", err)
		}
		tok := hex.EncodeToString(buf)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return "", fatalf("token file: %v", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return "", fatalf("token file: %v", err)
		}
		_, werr := f.WriteString(tok + "\n")
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			return "", fatalf("token file: %v", werr)
		}
		return tok, nil
	}
	if err != nil {
		return "", fatalf("token file: %v", err)
	}
	if runtime.GOOS != "windows" && info.Mode().Perm()&0o077 != 0 {
		return "", fatalf("token file %s is readable by others (mode %v)", path, info.Mode().Perm()).hint("chmod 600 " + path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fatalf("token file: %v", err)
	}
	tok := strings.TrimSpace(string(b))
	if len(tok) < 16 {
		return "", fatalf("token file %s holds no token of at least 16 characters", path)
	}
	return tok, nil
}

// startWatchUI serves the dashboard beside robo watch's loop w: run now
// queues the set in w, and the loop records each run with the server.
func startWatchUI(e *env, cfg *schema.Config, p watchParams, w *watch.Watcher) (*web.Server, func(), error) {
	if e.audit == nil {
		e.startAudit(cfg) // ui.login, ui.login_failed and ui.run_now are recorded
	}
	b := newUIBackend(e, cfg, p.vars)
	b.log = p.log
	b.trigger = func(set string) error { return w.Trigger(set, "run now (dashboard)") }
	srv, addr, stop, err := startUI(e, cfg, p.ui, b, p.log)
	if err != nil {
		return nil, nil, err
	}
	b.srv = srv
	fmt.Fprintf(e.stderr, "robo watch: serving the dashboard on http://%s/\n", addr)
	return srv, stop, nil
}
