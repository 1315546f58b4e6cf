package main

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/shares"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/schema"
)

// shareAccess reaches the shares of one configuration for one command: on
// Windows through deviceless temporary connections (WNetAddConnection2), so
// that both engines use the UNC paths directly; elsewhere through robo's SMB2
// client. Passwords are decrypted on first use of a share and never leave
// this type except towards the SMB client. Close undoes every connection.
type shareAccess struct {
	ctx      context.Context
	cfg      *schema.Config
	resolve  func(schema.SecretRef) ([]byte, error)
	mu       sync.Mutex
	pools    map[string]*shares.Pool // share name -> pool (SMB2 client)
	connects map[string]func() error // share name -> disconnect (Windows)
	failed   map[string]error
	// disconnectAudit lists the SMB2 connections to report at Close.
	disconnectAudit []map[string]string
	// record writes an audit event (server, share, user; never a password).
	record func(event string, fields map[string]string)
	// remotes reaches remote blocks' roots (remotes.go).
	remotes *remoteAccess
}

func newShareAccess(ctx context.Context, cfg *schema.Config, resolve func(schema.SecretRef) ([]byte, error)) *shareAccess {
	s := &shareAccess{ctx: ctx, cfg: cfg, resolve: resolve, pools: map[string]*shares.Pool{},
		connects: map[string]func() error{}, failed: map[string]error{}}
	s.remotes = newRemoteAccess(ctx, resolve, s.audit)
	return s
}

// share finds the share block whose root holds a UNC path.
func (s *shareAccess) share(root string) (*schema.Share, error) {
	sh := s.cfg.ShareFor(root)
	if sh == nil {
		if runtime.GOOS == "windows" {
			return nil, nil // the logged-on account's own access
		}
		return nil, fmt.Errorf("%s is a UNC path but no share block covers it: declare share \"NAME\" { unc = ... username = ... password = secret(...) }", root)
	}
	return sh, nil
}

func (s *shareAccess) credentials(sh *schema.Share) (shares.Credentials, error) {
	user, domain, err := shares.ParseUser(sh.Username)
	if err != nil {
		return shares.Credentials{}, fmt.Errorf("share %s: %w", sh.Name, err)
	}
	pw, err := s.resolve(sh.Password)
	if err != nil {
		return shares.Credentials{}, err
	}
	return shares.Credentials{User: user, Domain: domain, Password: pw}, nil
}

// Open implements the native engine's Open for every root.
func (s *shareAccess) Open(root string) (vfs.FS, error) {
	if rp := s.cfg.RemoteFor(root); rp != nil {
		return s.remotes.Open(rp)
	}
	if !shares.IsUNC(root) {
		return native.OpenLocal(root)
	}
	if err := s.ensure(root); err != nil {
		return nil, err
	}
	if runtime.GOOS == "windows" {
		return native.OpenLocal(root)
	}
	sh, _ := s.share(root)
	s.mu.Lock()
	pool := s.pools[sh.Name]
	s.mu.Unlock()
	return pool.Open(root)
}

// ensure makes a UNC root reachable: it connects (Windows) or prepares the
// SMB2 client pool (elsewhere) for the share that holds it, once.
func (s *shareAccess) ensure(root string) error {
	sh, err := s.share(root)
	if err != nil || sh == nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.failed[sh.Name]; err != nil {
		return err
	}
	if _, ok := s.pools[sh.Name]; ok {
		return nil
	}
	if _, ok := s.connects[sh.Name]; ok {
		return nil
	}
	unc, err := shares.ParseUNC(sh.UNC)
	if err != nil {
		return fmt.Errorf("share %s: %w", sh.Name, err)
	}
	creds, err := s.credentials(sh)
	if err != nil {
		s.failed[sh.Name] = err
		return err
	}
	fields := map[string]string{"share": sh.Name, "server": unc.Server, "share_name": unc.Share, "user": creds.Name()}
	if runtime.GOOS == "windows" {
		disconnect, err := shares.Connect(s.ctx, unc, creds)
		creds.Wipe()
		if err != nil {
			s.failed[sh.Name] = err
			s.audit("share.connect_failed", fields, err)
			return err
		}
		s.audit("share.connected", fields, nil)
		s.connects[sh.Name] = func() error {
			err := disconnect()
			s.audit("share.disconnected", fields, err)
			return err
		}
		return nil
	}
	// The share's timeout bounds a server that stops answering (0: the
	// client's default, shares.DefaultAnswerTimeout).
	pool := shares.NewPool(s.ctx, shares.Options{AnswerTimeout: sh.Timeout}, shares.Mount{Name: sh.Name, UNC: unc, Port: sh.Port, Credentials: creds})
	// The SMB2 client dials on first use: dial now, so the outcome is known
	// (and audited) here.
	if _, err := pool.Open(sh.UNC); err != nil {
		pool.Close()
		s.failed[sh.Name] = err
		s.audit("share.connect_failed", fields, err)
		return err
	}
	s.audit("share.connected", fields, nil)
	s.pools[sh.Name] = pool
	s.disconnectAudit = append(s.disconnectAudit, fields)
	return nil
}

func (s *shareAccess) audit(event string, fields map[string]string, err error) {
	if s.record == nil {
		return
	}
	f := map[string]string{}
	for k, v := range fields {
		f[k] = v
	}
	if err != nil {
		f["error"] = err.Error()
	}
	s.record(event, f)
}

// Close ends every connection this command made.
func (s *shareAccess) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	errs := []error{s.remotes.Close(s.cfg)}
	for name, p := range s.pools {
		errs = append(errs, p.Close())
		delete(s.pools, name)
	}
	for _, f := range s.disconnectAudit {
		s.audit("share.disconnected", f, nil)
	}
	s.disconnectAudit = nil
	for name, disconnect := range s.connects {
		errs = append(errs, disconnect())
		delete(s.connects, name)
	}
	return errors.Join(errs...)
}

// sharedEngine makes sure a set's shares are reachable before its engine
// scans or applies (robocopy.exe never calls Open).
type sharedEngine struct {
	engine.Engine
	access *shareAccess
}

func (e sharedEngine) prepare(spec engine.Spec) error {
	for _, root := range []string{spec.Source, spec.Destination} {
		if shares.IsUNC(root) {
			if err := e.access.ensure(root); err != nil {
				return err
			}
		}
	}
	return nil
}

func (e sharedEngine) Scan(ctx context.Context, spec engine.Spec) (*engine.ScanResult, error) {
	if err := e.prepare(spec); err != nil {
		if shares.IsUNC(spec.Source) {
			return nil, &engine.SourceError{Path: spec.Source, Err: err}
		}
		return nil, err
	}
	return e.Engine.Scan(ctx, spec)
}

func (e sharedEngine) Apply(ctx context.Context, job engine.Job, r engine.Reporter) (*engine.Result, error) {
	if err := e.prepare(job.Spec); err != nil {
		return nil, err
	}
	return e.Engine.Apply(ctx, job, r)
}
