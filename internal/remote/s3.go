package remote

import (
	"context"
	"crypto/md5"
	"crypto/sha256"
	"crypto/tls"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/robo-backup/robo/internal/vfs"
)

// S3 is how to reach an S3 bucket (AWS or an S3-compatible server).
type S3 struct {
	// Endpoint is the service URL ("" is AWS: https://s3.amazonaws.com).
	Endpoint string
	Region   string
	Bucket   string
	// PathStyle addresses the bucket as ENDPOINT/BUCKET.
	PathStyle    bool
	StorageClass string
	AccessKeyID  string
	// SecretAccessKey signs every request, so the Conn keeps a copy of it
	// until Close.
	SecretAccessKey []byte
}

// s3MetaMtime is the user metadata holding a file's modification time, as
// rclone writes it (X-Amz-Meta-Mtime: seconds.nanoseconds since 1970), so
// that rclone and robo read each other's times.
const s3MetaMtime = "mtime"

// s3MaxCopy is the largest object one CopyObject request copies; larger
// ones are copied in parts.
const s3MaxCopy = 5 << 30

// ErrNoBucket: the bucket or container does not exist.
var ErrNoBucket = errors.New("the bucket does not exist")

// newTransport is the HTTP transport of an object-store Conn: robo's own,
// built from the remote block, never from the AWS SDK's environment
// (AWS_CA_BUNDLE, AWS_* credentials and profiles are not read;
// docs/offsite.md). TLS uses the system's roots. Proxies come from
// HTTPS_PROXY/NO_PROXY as for any Go program (never for loopback).
func newTransport(timeout time.Duration) *http.Transport {
	d := &net.Dialer{Timeout: timeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           d.DialContext,
		TLSClientConfig:       &tls.Config{MinVersion: tls.VersionTLS12},
		TLSHandshakeTimeout:   timeout,
		ResponseHeaderTimeout: timeout,
		ExpectContinueTimeout: time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   128,
		IdleConnTimeout:       90 * time.Second,
	}
}

func (c *Conn) dialS3(ctx context.Context) error {
	s := c.cfg.S3
	ep := s.Endpoint
	if ep == "" {
		ep = "https://s3.amazonaws.com"
	}
	fail := func(reason, err error) error {
		return &DialError{Remote: c.cfg.Name, Server: ep + " bucket " + s.Bucket, User: s.AccessKeyID, Reason: reason, Err: err}
	}
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.Trim(u.Path, "/") != "" {
		return fail(errors.New("the endpoint is not an http or https URL without a path"), nil)
	}
	lookup := minio.BucketLookupAuto
	if s.PathStyle {
		lookup = minio.BucketLookupPath
	}
	tr := newTransport(c.cfg.Timeout)
	cl, err := minio.New(u.Host, &minio.Options{
		Creds:        credentials.NewStaticV4(s.AccessKeyID, string(s.SecretAccessKey), ""),
		Secure:       u.Scheme == "https",
		Transport:    tr,
		Region:       s.Region,
		BucketLookup: lookup,
		// The engine retries a failed file itself; a few quick retries
		// here ride out a dropped connection.
		MaxRetries: 3,
	})
	if err != nil {
		return fail(errors.New("the endpoint is not usable"), err)
	}
	st := &s3Store{core: &minio.Core{Client: cl}, bucket: s.Bucket, class: s.StorageClass, chunk: c.cfg.ChunkSize, pace: c.pace,
		dropIdle: tr.CloseIdleConnections, plain: u.Scheme == "http"}
	cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	if _, _, err := st.list(cctx, "", 1); err != nil {
		switch {
		case errors.Is(err, ErrAuth), errors.Is(err, ErrNoBucket), errors.Is(err, vfs.ErrUnreachable):
			return fail(err, nil)
		}
		return fail(nil, err)
	}
	c.close = func() error {
		tr.CloseIdleConnections()
		return nil
	}
	c.open = func(root string) (vfs.FS, error) {
		return c.objFS(st, root), nil
	}
	return nil
}

// objFS returns the folder root of an object store as a vfs.FS.
func (c *Conn) objFS(st objStore, root string) *objFS {
	root = strings.Trim(root, "/")
	return &objFS{c: c, st: st, root: root, name: c.cfg.Name + ":" + root,
		threshold: c.cfg.MultipartThreshold, chunk: c.cfg.ChunkSize, ctx: context.Background()}
}

// s3Store is objStore on minio-go's low-level Core API: robo decides when
// an upload goes in parts and when it completes.
type s3Store struct {
	core   *minio.Core
	bucket string
	class  string
	chunk  int64
	pace   func([]byte) io.Reader
	// dropIdle closes the kept-alive connections (see staleConn).
	dropIdle func()
	// plain: the endpoint is http, where the body is signed (payloadHash).
	plain bool
}

// payloadHash returns the SHA-256 of a request body to sign, in hex, on
// plain http, and "" on https (minio-go then signs UNSIGNED-PAYLOAD: TLS
// and Content-MD5 guard the bytes). On http minio-go otherwise signs the
// body as it goes, a signature for each 64 KiB with its own allocations:
// 8 % of the bytes sent in garbage (80 MiB a GiB), which grew the heap to
// its collection goal during big uploads. One hash of the buffer, which
// robo holds whole anyway, signs the same bytes with none.
func (s *s3Store) payloadHash(data []byte) string {
	if !s.plain {
		return ""
	}
	sum := sha256.Sum256(data)
	return hex.EncodeToString(sum[:])
}

var _ objStore = (*s3Store)(nil)

// staleConn reports an error of a request sent on a kept-alive connection
// the server had already closed. A server that closes connections without
// saying so (versitygw without --keep-alive does, for some answers) leaves
// every idle connection in the pool dead: Go's transport sends a GET or
// HEAD again by itself, but not a PUT, and minio-go's own retries take the
// next dead connection from the pool. So the PUTs (files, folder markers,
// parts) close the idle connections and go once more on a new one: the
// request never reached the server whole (a write failed), or, if the
// server did store it before closing, the repeat of a conditional write
// is refused and the file reported as changed, never stored twice.
func staleConn(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, syscall.EPIPE) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	m := err.Error()
	return strings.Contains(m, "transport connection broken") || strings.Contains(m, "server closed idle connection") ||
		strings.HasSuffix(m, ": EOF")
}

// again runs a PUT, and once more on a new connection after a stale one.
func (s *s3Store) again(do func() error) error {
	err := do()
	if staleConn(err) && s.dropIdle != nil {
		s.dropIdle()
		err = do()
	}
	return err
}

// s3Err maps an S3 error to robo's classes and keeps only its code and
// message (never the request's signature or headers).
func s3Err(err error) error {
	if err == nil {
		return nil
	}
	var er minio.ErrorResponse
	if errors.As(err, &er) {
		msg := er.Code
		if er.Message != "" {
			msg = er.Message + " (" + er.Code + ")"
		}
		switch {
		case er.Code == "NoSuchBucket":
			return ErrNoBucket
		case er.Code == "InvalidAccessKeyId" || er.Code == "SignatureDoesNotMatch" || er.Code == "AccessDenied" ||
			er.Code == "InvalidSecurity" || er.Code == "XAdminUserNotFound" || er.StatusCode == http.StatusForbidden:
			// versitygw answers an unknown access key with 404
			// XAdminUserNotFound.
			return fmt.Errorf("%w (%s)", ErrAuth, msg)
		case er.Code == "NoSuchKey" || er.Code == "NoSuchUpload" || er.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%w (%s)", fs.ErrNotExist, msg)
		case er.StatusCode == http.StatusPreconditionFailed || er.Code == "PreconditionFailed" || er.Code == "ConditionalRequestConflict":
			return errPrecondition
		}
		return errors.New(msg)
	}
	return netErr(err)
}

// netErr marks a connection that could not be made as unreachable.
func netErr(err error) error {
	var oe *net.OpError
	var de *net.DNSError
	if errors.As(err, &oe) && oe.Op == "dial" || errors.As(err, &de) {
		return fmt.Errorf("%w (%v)", ErrUnreachable, err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err // the URL holds nothing secret, but it is long
	}
	return err
}

// formatS3Time and parseS3Time are rclone's mtime format.
func formatS3Time(t time.Time) string {
	ns := t.UnixNano()
	sec, frac := ns/1e9, ns%1e9
	if frac < 0 {
		sec, frac = sec-1, frac+1e9
	}
	return fmt.Sprintf("%d.%09d", sec, frac)
}

func parseS3Time(s string) (time.Time, bool) {
	secs, frac, _ := strings.Cut(s, ".")
	sec, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	var ns int64
	if frac != "" {
		if len(frac) > 9 {
			frac = frac[:9]
		}
		frac += strings.Repeat("0", 9-len(frac))
		if ns, err = strconv.ParseInt(frac, 10, 64); err != nil || ns < 0 {
			return time.Time{}, false
		}
	}
	return time.Unix(sec, ns), true
}

func s3Info(o minio.ObjectInfo) objInfo {
	i := objInfo{Key: o.Key, Size: o.Size, ETag: strings.Trim(o.ETag, `"`), ModTime: o.LastModified}
	if v := o.Metadata.Get("X-Amz-Meta-" + s3MetaMtime); v != "" {
		if t, ok := parseS3Time(v); ok {
			i.ModTime = t
		}
	}
	return i
}

func (s *s3Store) head(ctx context.Context, key string) (objInfo, error) {
	o, err := s.core.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return objInfo{}, s3Err(err)
	}
	i := s3Info(o)
	i.TimeKnown = true
	return i, nil
}

func (s *s3Store) list(ctx context.Context, prefix string, max int) ([]objInfo, []string, error) {
	var objs []objInfo
	var prefixes []string
	token := ""
	for {
		n := 1000
		if max > 0 {
			n = max
		}
		res, err := s.core.ListObjectsV2(s.bucket, prefix, "", token, "/", n)
		if err != nil {
			return nil, nil, s3Err(err)
		}
		for _, o := range res.Contents {
			objs = append(objs, s3Info(o))
		}
		for _, p := range res.CommonPrefixes {
			prefixes = append(prefixes, p.Prefix)
		}
		if !res.IsTruncated || res.NextContinuationToken == "" || max > 0 && len(objs)+len(prefixes) >= max {
			return objs, prefixes, nil
		}
		token = res.NextContinuationToken
	}
}

func (s *s3Store) get(ctx context.Context, key string) (io.ReadCloser, objInfo, error) {
	body, o, _, err := s.core.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, objInfo{}, s3Err(err)
	}
	i := s3Info(o)
	i.Key = key
	return body, i, nil
}

func (s *s3Store) putOptions(mtime time.Time, c cond) minio.PutObjectOptions {
	o := minio.PutObjectOptions{ContentType: "application/octet-stream", StorageClass: s.class,
		UserMetadata: map[string]string{s3MetaMtime: formatS3Time(mtime)}}
	if c.IfMatch != "" {
		o.SetMatchETag(c.IfMatch)
	}
	if c.IfNoneMatch {
		o.SetMatchETagExcept("*")
	}
	return o
}

// put sends the body's MD5, so that the store checks what it received and
// a single-part object's ETag is its MD5.
func (s *s3Store) put(ctx context.Context, key string, data []byte, mtime time.Time, c cond) error {
	sum := md5.Sum(data)
	return s3Err(s.again(func() error {
		o := s.putOptions(mtime, c)
		sha := s.payloadHash(data)
		o.DisableContentSha256 = sha != ""
		_, err := s.core.PutObject(ctx, s.bucket, key, s.pace(data), int64(len(data)), base64.StdEncoding.EncodeToString(sum[:]), sha, o)
		return err
	}))
}

type s3Upload struct {
	s     *s3Store
	key   string
	id    string
	mtime time.Time
	parts []minio.CompletePart
}

func (s *s3Store) upload(ctx context.Context, key string, mtime time.Time) (objUpload, error) {
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, key, s.putOptions(mtime, cond{}))
	if err != nil {
		return nil, s3Err(err)
	}
	return &s3Upload{s: s, key: key, id: id, mtime: mtime}, nil
}

func (u *s3Upload) part(ctx context.Context, data []byte) error {
	n := len(u.parts) + 1
	sum := md5.Sum(data)
	sha := u.s.payloadHash(data)
	var p minio.ObjectPart
	err := u.s.again(func() (err error) {
		p, err = u.s.core.PutObjectPart(ctx, u.s.bucket, u.key, u.id, n, u.s.pace(data), int64(len(data)),
			minio.PutObjectPartOptions{Md5Base64: base64.StdEncoding.EncodeToString(sum[:]), Sha256Hex: sha, DisableContentSha256: sha != ""})
		return err
	})
	if err != nil {
		return s3Err(err)
	}
	u.parts = append(u.parts, minio.CompletePart{PartNumber: n, ETag: p.ETag})
	return nil
}

func (u *s3Upload) complete(ctx context.Context, c cond) error {
	o := minio.PutObjectOptions{}
	if c.IfMatch != "" {
		o.SetMatchETag(c.IfMatch)
	}
	if c.IfNoneMatch {
		o.SetMatchETagExcept("*")
	}
	_, err := u.s.core.CompleteMultipartUpload(ctx, u.s.bucket, u.key, u.id, u.parts, o)
	return s3Err(err)
}

func (u *s3Upload) abort(ctx context.Context) error {
	err := s3Err(u.s.core.AbortMultipartUpload(ctx, u.s.bucket, u.key, u.id))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

func (s *s3Store) copy(ctx context.Context, from, to string, src objInfo, mtime *time.Time) error {
	t := src.ModTime
	if mtime != nil {
		t = *mtime
	}
	if src.Size > s3MaxCopy {
		dst := minio.CopyDestOptions{Bucket: s.bucket, Object: to, ReplaceMetadata: true,
			UserMetadata: map[string]string{s3MetaMtime: formatS3Time(t)}, PartSize: uint64(max(s.chunk, 64<<20))}
		_, err := s.core.ComposeObject(ctx, dst, minio.CopySrcOptions{Bucket: s.bucket, Object: from, MatchETag: src.ETag})
		return s3Err(err)
	}
	meta := map[string]string{}
	if mtime != nil {
		meta["x-amz-metadata-directive"] = "REPLACE"
		meta["Content-Type"] = "application/octet-stream"
		meta["X-Amz-Meta-"+s3MetaMtime] = formatS3Time(t)
	}
	if s.class != "" {
		meta["x-amz-storage-class"] = s.class
	}
	_, err := s.core.CopyObject(ctx, s.bucket, from, s.bucket, to, meta,
		minio.CopySrcOptions{Bucket: s.bucket, Object: from, MatchETag: src.ETag}, minio.PutObjectOptions{})
	return s3Err(err)
}

func (s *s3Store) remove(ctx context.Context, key string) error {
	err := s3Err(s.core.RemoveObject(ctx, s.bucket, key, minio.RemoveObjectOptions{}))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
