package remote

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/streaming"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/blockblob"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azblob/container"

	"github.com/robo-backup/robo/internal/vfs"
)

// Azure is how to reach an Azure Blob Storage container.
type Azure struct {
	// Endpoint is the account's URL ("" is
	// https://ACCOUNT.blob.core.windows.net; Azurite:
	// http://127.0.0.1:10000/devstoreaccount1).
	Endpoint  string
	Account   string
	Container string
	// Tier is the access tier of uploads ("" for the account's default).
	Tier string
	// Key is the account's base64 shared key. It signs every request, so
	// the Conn keeps a copy of it until Close.
	Key []byte
}

// azureMetaMtime is the metadata holding a file's modification time, as
// rclone writes it (RFC 3339 with nanoseconds).
const azureMetaMtime = "mtime"

func (c *Conn) dialAzure(ctx context.Context) error {
	a := c.cfg.Azure
	ep := strings.TrimSuffix(a.Endpoint, "/")
	if ep == "" {
		ep = "https://" + a.Account + ".blob.core.windows.net"
	}
	fail := func(reason, err error) error {
		return &DialError{Remote: c.cfg.Name, Server: ep + " container " + a.Container, User: a.Account, Reason: reason, Err: err}
	}
	u, err := url.Parse(ep)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fail(errors.New("the endpoint is not an http or https URL"), nil)
	}
	cred, err := container.NewSharedKeyCredential(a.Account, string(a.Key))
	if err != nil {
		return fail(errors.New("the key secret is not a base64 account key"), nil)
	}
	tr := newTransport(c.cfg.Timeout)
	opts := &container.ClientOptions{}
	opts.Transport = &http.Client{Transport: tr}
	opts.Retry = policy.RetryOptions{MaxRetries: 3, RetryDelay: 200 * time.Millisecond, MaxRetryDelay: 2 * time.Second}
	cc, err := container.NewClientWithSharedKeyCredential(ep+"/"+url.PathEscape(a.Container), cred, opts)
	if err != nil {
		return fail(errors.New("the endpoint is not usable"), err)
	}
	st := &azureStore{cc: cc, pace: c.pace}
	if a.Tier != "" {
		t := blob.AccessTier(a.Tier)
		st.tier = &t
	}
	cctx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	// Get Container Properties proves the key and the container in one
	// request whose cost does not grow with the container (a listing of
	// its top level does on Azurite: 24 s with 4,000 blobs under load).
	if _, err := st.cc.GetProperties(cctx, nil); err != nil {
		err = azureErr(err)
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
	c.open = func(root string) (vfs.FS, error) { return c.objFS(st, root), nil }
	return nil
}

// azureStore is objStore on the official azblob SDK: block blobs, written
// by one Put Blob or by staged blocks and a committed block list.
type azureStore struct {
	cc   *container.Client
	tier *blob.AccessTier
	pace func([]byte) io.Reader
}

var (
	_ objStore   = (*azureStore)(nil)
	_ flatLister = (*azureStore)(nil)
)

// azureErr maps an Azure error to robo's classes, keeping only its status
// and error code (the SDK's message holds the whole request).
func azureErr(err error) error {
	if err == nil {
		return nil
	}
	var re *azcore.ResponseError
	if errors.As(err, &re) {
		msg := fmt.Sprintf("%d %s", re.StatusCode, re.ErrorCode)
		switch {
		case re.ErrorCode == "ContainerNotFound":
			return ErrNoBucket
		case re.StatusCode == http.StatusForbidden || re.ErrorCode == "AuthenticationFailed" || re.ErrorCode == "AuthorizationFailure":
			return fmt.Errorf("%w (%s)", ErrAuth, msg)
		case re.StatusCode == http.StatusNotFound:
			return fmt.Errorf("%w (%s)", fs.ErrNotExist, msg)
		case re.StatusCode == http.StatusPreconditionFailed || re.ErrorCode == "BlobAlreadyExists" || re.ErrorCode == "ConditionNotMet":
			return errPrecondition
		}
		return errors.New(msg)
	}
	return netErr(err)
}

func azureTime(meta map[string]*string, fallback *time.Time) time.Time {
	for k, v := range meta {
		if strings.EqualFold(k, azureMetaMtime) && v != nil {
			if t, err := time.Parse(time.RFC3339Nano, *v); err == nil {
				return t
			}
		}
	}
	if fallback != nil {
		return *fallback
	}
	return time.Time{}
}

func azureMeta(t time.Time) map[string]*string {
	v := t.UTC().Format(time.RFC3339Nano)
	return map[string]*string{azureMetaMtime: &v}
}

func etagOf(e *azcore.ETag) string {
	if e == nil {
		return ""
	}
	return string(*e)
}

func derefInt(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func (s *azureStore) head(ctx context.Context, key string) (objInfo, error) {
	p, err := s.cc.NewBlobClient(key).GetProperties(ctx, nil)
	if err != nil {
		return objInfo{}, azureErr(err)
	}
	return objInfo{Key: key, Size: derefInt(p.ContentLength), ETag: etagOf(p.ETag), ModTime: azureTime(p.Metadata, p.LastModified), TimeKnown: true}, nil
}

// azureListed is a listed blob's objInfo.
func azureListed(name *string, p *container.BlobProperties, meta map[string]*string) objInfo {
	return objInfo{Key: *name, Size: derefInt(p.ContentLength), ETag: etagOf(p.ETag),
		ModTime: azureTime(meta, p.LastModified), TimeKnown: true}
}

func (s *azureStore) list(ctx context.Context, prefix string, max int) ([]objInfo, []string, error) {
	o := &container.ListBlobsHierarchyOptions{Include: container.ListBlobsInclude{Metadata: true}}
	if prefix != "" {
		o.Prefix = &prefix
	}
	if max > 0 {
		n := int32(max)
		o.MaxResults = &n
	}
	var objs []objInfo
	var prefixes []string
	pager := s.cc.NewListBlobsHierarchyPager("/", o)
	for pager.More() {
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, nil, azureErr(err)
		}
		for _, b := range page.Segment.BlobItems {
			if b.Name == nil || b.Properties == nil {
				continue
			}
			objs = append(objs, azureListed(b.Name, b.Properties, b.Metadata))
		}
		for _, p := range page.Segment.BlobPrefixes {
			if p.Name != nil {
				prefixes = append(prefixes, *p.Name)
			}
		}
		if max > 0 && len(objs)+len(prefixes) >= max {
			break
		}
	}
	return objs, prefixes, nil
}

// listFlat implements flatLister: List Blobs without a delimiter, in key
// order, with the metadata (robo's mtime), 5,000 keys a page.
func (s *azureStore) listFlat(ctx context.Context, prefix string, max int) ([]objInfo, bool, error) {
	o := &container.ListBlobsFlatOptions{Include: container.ListBlobsInclude{Metadata: true}}
	if prefix != "" {
		o.Prefix = &prefix
	}
	if max > 0 && max < 5000 { // 5,000 is the most a page holds
		n := int32(max)
		o.MaxResults = &n
	}
	var objs []objInfo
	pager := s.cc.NewListBlobsFlatPager(o)
	for pager.More() {
		if max > 0 && len(objs) >= max {
			return objs, false, nil
		}
		page, err := pager.NextPage(ctx)
		if err != nil {
			return nil, false, azureErr(err)
		}
		for _, b := range page.Segment.BlobItems {
			if b.Name == nil || b.Properties == nil {
				continue
			}
			objs = append(objs, azureListed(b.Name, b.Properties, b.Metadata))
		}
	}
	return objs, true, nil
}

func (s *azureStore) get(ctx context.Context, key string) (io.ReadCloser, objInfo, error) {
	r, err := s.cc.NewBlobClient(key).DownloadStream(ctx, nil)
	if err != nil {
		return nil, objInfo{}, azureErr(err)
	}
	return r.Body, objInfo{Key: key, Size: derefInt(r.ContentLength), ETag: etagOf(r.ETag), ModTime: azureTime(r.Metadata, r.LastModified), TimeKnown: true}, nil
}

func accessConditions(c cond) *blob.AccessConditions {
	m := &blob.ModifiedAccessConditions{}
	if c.IfMatch != "" {
		e := azcore.ETag(c.IfMatch)
		m.IfMatch = &e
	}
	if c.IfNoneMatch {
		e := azcore.ETagAny
		m.IfNoneMatch = &e
	}
	return &blob.AccessConditions{ModifiedAccessConditions: m}
}

// put stores the blob with its Content-MD5 (checked by the service and
// kept as the blob's hash).
func (s *azureStore) put(ctx context.Context, key string, data []byte, mtime time.Time, c cond) error {
	sum := md5.Sum(data)
	_, err := s.cc.NewBlockBlobClient(key).Upload(ctx, readSeekNopCloser(s.pace(data)), &blockblob.UploadOptions{
		Metadata: azureMeta(mtime), Tier: s.tier, AccessConditions: accessConditions(c),
		HTTPHeaders:             &blob.HTTPHeaders{BlobContentType: ptr("application/octet-stream"), BlobContentMD5: sum[:]},
		TransactionalValidation: blob.TransferValidationTypeMD5(sum[:]),
	})
	return azureErr(err)
}

func ptr[T any](v T) *T { return &v }

func readSeekNopCloser(r io.Reader) io.ReadSeekCloser {
	return streaming.NopCloser(r.(io.ReadSeeker))
}

// azureUpload stages blocks, which stay invisible (and are discarded by the
// service after a week) until the block list is committed.
type azureUpload struct {
	s     *azureStore
	key   string
	mtime time.Time
	tag   string
	ids   []string
}

func (s *azureStore) upload(ctx context.Context, key string, mtime time.Time) (objUpload, error) {
	var b [8]byte
	rand.Read(b[:])
	return &azureUpload{s: s, key: key, mtime: mtime, tag: hex.EncodeToString(b[:])}, nil
}

func (u *azureUpload) part(ctx context.Context, data []byte) error {
	// Block IDs of one blob must all have the same length.
	id := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, "robo-%s-%08d", u.tag, len(u.ids)))
	sum := md5.Sum(data)
	_, err := u.s.cc.NewBlockBlobClient(u.key).StageBlock(ctx, id, readSeekNopCloser(u.s.pace(data)),
		&blockblob.StageBlockOptions{TransactionalValidation: blob.TransferValidationTypeMD5(sum[:])})
	if err != nil {
		return azureErr(err)
	}
	u.ids = append(u.ids, id)
	return nil
}

func (u *azureUpload) complete(ctx context.Context, c cond) error {
	_, err := u.s.cc.NewBlockBlobClient(u.key).CommitBlockList(ctx, u.ids, &blockblob.CommitBlockListOptions{
		Metadata: azureMeta(u.mtime), Tier: u.s.tier, AccessConditions: accessConditions(c),
		HTTPHeaders: &blob.HTTPHeaders{BlobContentType: ptr("application/octet-stream")},
	})
	return azureErr(err)
}

// abort has nothing to send: Azure has no call to drop staged blocks; they
// expire after seven days and never become a blob.
func (u *azureUpload) abort(ctx context.Context) error { return nil }

// copy is Copy Blob within the account (conditional on the source's ETag),
// waiting for it to finish; a new mtime is then set with Set Blob Metadata
// on the copy, or in place.
func (s *azureStore) copy(ctx context.Context, from, to string, src objInfo, mtime *time.Time) error {
	dst := s.cc.NewBlobClient(to)
	if from == to {
		e := azcore.ETag(src.ETag)
		_, err := dst.SetMetadata(ctx, azureMeta(*mtime), &blob.SetMetadataOptions{AccessConditions: &blob.AccessConditions{
			ModifiedAccessConditions: &blob.ModifiedAccessConditions{IfMatch: &e}}})
		return azureErr(err)
	}
	e := azcore.ETag(src.ETag)
	o := &blob.StartCopyFromURLOptions{Tier: s.tier, SourceModifiedAccessConditions: &blob.SourceModifiedAccessConditions{SourceIfMatch: &e}}
	if mtime != nil {
		o.Metadata = azureMeta(*mtime)
	}
	r, err := dst.StartCopyFromURL(ctx, s.cc.NewBlobClient(from).URL(), o)
	if err != nil {
		return azureErr(err)
	}
	status := r.CopyStatus
	for status != nil && *status == blob.CopyStatusTypePending {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
		p, err := dst.GetProperties(ctx, nil)
		if err != nil {
			return azureErr(err)
		}
		status = p.CopyStatus
	}
	if status != nil && *status != blob.CopyStatusTypeSuccess {
		return fmt.Errorf("copy to %s ended %s", to, *status)
	}
	return nil
}

func (s *azureStore) remove(ctx context.Context, key string) error {
	_, err := s.cc.NewBlobClient(key).Delete(ctx, nil)
	err = azureErr(err)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}
