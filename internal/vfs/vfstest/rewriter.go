package vfstest

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"github.com/robo-backup/robo/internal/vfs"
)

// Rewriter wraps a real FS whose root is the local directory Root and
// rewrites the file Name after the first read of every open of it: a
// whole new content, one byte longer each time (so a new size and a new
// modification time), written through the real file system. The file
// changes during every copy, as a live database or a growing log does.
type Rewriter struct {
	vfs.FS
	Root, Name string
	// Limit, when positive, is how many times the file is rewritten; after
	// that it holds still.
	Limit int32
	// Rewrites counts the rewrites.
	Rewrites atomic.Int32
}

// NewRewriter wraps fsys, whose root is the local directory root.
func NewRewriter(fsys vfs.FS, root, name string) *Rewriter {
	return &Rewriter{FS: fsys, Root: root, Name: name}
}

// Open implements vfs.FS.
// Close closes the wrapped FS (vfs.Close).
func (r *Rewriter) Close() error {
	vfs.Close(r.FS)
	return nil
}

func (r *Rewriter) Open(name string) (vfs.Reader, error) {
	f, err := r.FS.Open(name)
	if err != nil || name != r.Name {
		return f, err
	}
	return &rewriteReader{Reader: f, r: r}, nil
}

type rewriteReader struct {
	vfs.Reader
	r    *Rewriter
	done bool
}

func (rr *rewriteReader) Read(p []byte) (int, error) {
	n, err := rr.Reader.Read(p)
	if n > 0 && !rr.done {
		rr.done = true
		i := rr.r.Rewrites.Add(1)
		if rr.r.Limit > 0 && i > rr.r.Limit {
			return n, err
		}
		content := strings.Repeat("x", 1000+int(i))
		if werr := os.WriteFile(filepath.Join(rr.r.Root, filepath.FromSlash(rr.r.Name)), []byte(content), 0o644); werr != nil {
			return n, werr
		}
	}
	return n, err
}
