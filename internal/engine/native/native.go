package native

import (
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/vfs"
)

// Engine is the native engine.
type Engine struct {
	// Open returns the file system rooted at a set's source or destination.
	// The default opens local directories and refuses UNC paths.
	Open func(root string) (vfs.FS, error)
	// FoldCase matches names case-insensitively between the two trees, as
	// on the case-insensitive file systems of Windows and macOS.
	FoldCase bool
	// FoldNorm matches names that differ only in Unicode normalization
	// (NFC "é" and NFD "e" + combining accent), as macOS file systems do.
	FoldNorm bool
	// WindowsNames refuses to create names that Windows cannot hold
	// (reserved device names, a trailing dot or space, <>:"|?*). It is
	// on for Windows hosts; UNC destinations get it whatever the host.
	WindowsNames bool
	// Sleep waits between retries; tests may replace it. When nil the wait
	// ends early if the run is stopped.
	Sleep func(time.Duration)
}

var _ engine.Engine = (*Engine)(nil)

// New returns a native engine for local folders.
func New() *Engine {
	return &Engine{
		Open:         OpenLocal,
		FoldCase:     runtime.GOOS == "windows" || runtime.GOOS == "darwin",
		FoldNorm:     runtime.GOOS == "darwin",
		WindowsNames: runtime.GOOS == "windows",
	}
}

func isUNC(p string) bool { return strings.HasPrefix(p, `\\`) || strings.HasPrefix(p, "//") }

// OpenLocal opens a local directory root.
func OpenLocal(root string) (vfs.FS, error) {
	if isUNC(root) && runtime.GOOS != "windows" {
		return nil, fmt.Errorf("%s is a UNC path: on %s robo needs its own SMB client to reach it, which this build does not have yet", root, runtime.GOOS)
	}
	if !filepath.IsAbs(root) {
		if len(root) >= 3 && root[1] == ':' {
			return nil, fmt.Errorf("%s is a Windows path and this host runs %s", root, runtime.GOOS)
		}
		return nil, fmt.Errorf("%s is not an absolute path", root)
	}
	return vfs.NewLocal(filepath.Clean(root)), nil
}

// Name implements engine.Engine.
func (e *Engine) Name() string { return "native" }

// Properties implements engine.Engine.
func (e *Engine) Properties() engine.Properties {
	return engine.Properties{ExactChanges: true, TimeResolution: engine.TimeUnit, HardLinks: true}
}

// tempPrefix starts the name of every file robo writes before renaming it
// into place; tempSuffix ends it.
const (
	tempPrefix = ".robo-"
	tempSuffix = ".tmp"
)

// IsTemp reports whether a name is one of robo's temporary files
// (engine.IsTempName: their exact shape, not only the prefix and suffix).
func IsTemp(name string) bool { return engine.IsTempName(name) }

func metaOf(e vfs.Entry) *engine.Meta { return heapMeta(metaValue(e)) }

// heapMeta returns a heap copy of m (for a Change, which keeps pointers).
func heapMeta(m engine.Meta) *engine.Meta { return &m }

// metaValue is metaOf without the allocation.
func metaValue(e vfs.Entry) engine.Meta {
	m := engine.Meta{Size: e.Size, MTime: e.ModTime.UnixNano(), Mode: uint32(e.Mode)}
	switch e.Kind {
	case vfs.Dir:
		m.Kind = engine.KindDir
		m.Size = 0
	case vfs.Symlink:
		m.Kind = engine.KindSymlink
	default:
		m.Kind = engine.KindFile
	}
	return m
}

func parent(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[:i]
	}
	return ""
}

func base(p string) string {
	if i := strings.LastIndexByte(p, '/'); i >= 0 {
		return p[i+1:]
	}
	return p
}
