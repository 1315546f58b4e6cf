package main

import (
	"context"
	"errors"
	"net"
	"strconv"
	"sync"
	"time"

	"github.com/robo-backup/robo/internal/remote"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/schema"
)

// remoteAccess reaches the remotes of one configuration for one command:
// each is dialled once, when a set first opens a root on it, with its
// secrets decrypted just before and wiped just after. Close ends every
// connection.
type remoteAccess struct {
	ctx     context.Context
	resolve func(schema.SecretRef) ([]byte, error)
	audit   func(event string, fields map[string]string, err error)
	mu      sync.Mutex
	conns   map[string]*remote.Conn
	failed  map[string]error
}

func newRemoteAccess(ctx context.Context, resolve func(schema.SecretRef) ([]byte, error), audit func(string, map[string]string, error)) *remoteAccess {
	return &remoteAccess{ctx: ctx, resolve: resolve, audit: audit, conns: map[string]*remote.Conn{}, failed: map[string]error{}}
}

// Open opens a remote root (schema.Config.RemoteFor).
func (r *remoteAccess) Open(rp *schema.RemotePath) (vfs.FS, error) {
	c, err := r.conn(rp.Remote)
	if err != nil {
		return nil, err
	}
	p := rp.Path
	if rp.Abs {
		p = "/" + p
	}
	return c.Open(p)
}

// remoteFields are what the audit trail records of a remote (never a
// secret).
func remoteFields(rm *schema.Remote) map[string]string {
	f := map[string]string{"remote": rm.Name, "type": rm.Type}
	switch rm.Type {
	case "sftp":
		f["server"], f["user"] = net.JoinHostPort(rm.Host, strconv.Itoa(rm.Port)), rm.User
	case "s3":
		f["endpoint"], f["bucket"], f["user"] = rm.Endpoint, rm.Bucket, rm.AccessKeyID
	case "azureblob":
		f["endpoint"], f["bucket"], f["user"] = rm.Endpoint, rm.Bucket, rm.Account
	case "webdav":
		f["endpoint"], f["user"] = rm.URL, rm.User
	}
	return f
}

func (r *remoteAccess) conn(rm *schema.Remote) (*remote.Conn, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.failed[rm.Name]; err != nil {
		return nil, err
	}
	if c := r.conns[rm.Name]; c != nil {
		return c, nil
	}
	cfg := remote.Config{Name: rm.Name, Type: rm.Type, Transfers: rm.Transfers, Timeout: rm.Timeout,
		MultipartThreshold: rm.MultipartThreshold, ChunkSize: rm.ChunkSize}
	if len(rm.BWLimit) > 0 {
		tt := rm.BWLimit
		cfg.BWLimit = func(t time.Time) int64 { return tt.At(t) }
	}
	var wipe [][]byte
	defer func() {
		for _, b := range wipe {
			clear(b)
		}
	}()
	secret := func(ref schema.SecretRef) ([]byte, error) {
		if ref.Name == "" {
			return nil, nil
		}
		b, err := r.resolve(ref)
		wipe = append(wipe, b)
		return b, err
	}
	var err error
	switch rm.Type {
	case "sftp":
		cfg.SFTP = remote.SFTP{Host: rm.Host, Port: rm.Port, User: rm.User, KnownHosts: rm.KnownHosts}
		if cfg.SFTP.Password, err = secret(rm.Password); err == nil {
			cfg.SFTP.PrivateKey, err = secret(rm.PrivateKey)
		}
	case "webdav":
		cfg.WebDAV = remote.WebDAV{URL: rm.URL, User: rm.User}
		cfg.WebDAV.Password, err = secret(rm.Password)
	case "s3":
		cfg.S3 = remote.S3{Endpoint: rm.Endpoint, Region: rm.Region, Bucket: rm.Bucket, PathStyle: rm.PathStyle,
			StorageClass: rm.StorageClass, AccessKeyID: rm.AccessKeyID}
		cfg.S3.SecretAccessKey, err = secret(rm.SecretAccessKey)
	case "azureblob":
		cfg.Azure = remote.Azure{Endpoint: rm.Endpoint, Account: rm.Account, Container: rm.Bucket, Tier: rm.StorageClass}
		cfg.Azure.Key, err = secret(rm.Key)
	}
	fields := remoteFields(rm)
	var c *remote.Conn
	if err == nil {
		c, err = remote.Dial(r.ctx, cfg)
	}
	if err != nil {
		r.failed[rm.Name] = err
		r.audit("remote.connect_failed", fields, err)
		return nil, err
	}
	r.audit("remote.connected", fields, nil)
	r.conns[rm.Name] = c
	return c, nil
}

// Close ends every connection.
func (r *remoteAccess) Close(cfg *schema.Config) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	var errs []error
	for name, c := range r.conns {
		errs = append(errs, c.Close())
		delete(r.conns, name)
		if rm := cfg.Remotes[name]; rm != nil {
			r.audit("remote.disconnected", remoteFields(rm), nil)
		}
	}
	return errors.Join(errs...)
}
