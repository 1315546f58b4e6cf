// Package verify compares a backup set's source and destination without
// changing either: with robocopy's equality (size and time within the set's
// tolerance, through the native engine's scan) and, on request, by content
// (SHA-256 of every file present on both sides).
package verify

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/vfs"
)

// VersionsDir is the folder at the destination root that holds the copies
// a set's versions block keeps (VersionsDir/<run time>/<relative path>).
const VersionsDir = engine.VersionsDir

// Kind is the kind of a difference.
type Kind string

// The kinds of difference.
const (
	// Missing: in the source, not in the destination.
	Missing Kind = "missing"
	// Extra: only in the destination. It fails a mirror set; a copy-mode
	// set keeps extras by design, so they are listed but do not fail it.
	Extra Kind = "extra"
	// Differs: on both sides, but not equal by size and time (Detail is
	// newer, older or changed), or of another kind (file against dir).
	Differs Kind = "differs"
	// ContentDiffers: equal by size and time, different content (-checksum).
	ContentDiffers Kind = "content_differs"
	// MetaDiffers: equal data, but metadata the set copies (its copy and
	// directory_copy letters: mode, owner, ACL, xattrs, attributes)
	// differs; Detail says what, as the plan's Tweaked line does.
	MetaDiffers Kind = "metadata_differs"
	// Error: an entry that could not be read; it is never taken for a match.
	Error Kind = "error"
)

// Difference is one entry that does not match.
type Difference struct {
	// Path is slash-separated, relative to the set's roots. A missing or
	// extra directory is listed once, for everything under it.
	Path   string `json:"path"`
	Kind   Kind   `json:"kind"`
	Detail string `json:"detail,omitempty"`
	// Fails is false only for the extras of a copy-mode set.
	Fails bool `json:"fails"`
}

// Counts summarizes a set's verification.
type Counts struct {
	SourceFiles int64 `json:"source_files"`
	SourceDirs  int64 `json:"source_dirs"`
	SourceBytes int64 `json:"source_bytes"`
	// Hashed counts the files whose content was compared (-checksum).
	Hashed         int64 `json:"hashed"`
	Missing        int   `json:"missing"`
	Extra          int   `json:"extra"`
	Differs        int   `json:"differs"`
	ContentDiffers int   `json:"content_differs"`
	MetaDiffers    int   `json:"metadata_differs"`
	Errors         int   `json:"errors"`
}

// Result is the verification of one set.
type Result struct {
	Name        string       `json:"name"`
	Source      string       `json:"source"`
	Destination string       `json:"destination"`
	Mode        string       `json:"mode"` // "mirror" or "copy"
	Checksum    bool         `json:"checksum"`
	OK          bool         `json:"ok"`
	Counts      Counts       `json:"counts"`
	Differences []Difference `json:"differences"`
	// Error says why the set could not be compared at all (an unreadable
	// source root, an unreachable destination).
	Error string `json:"error,omitempty"`
}

// Options tune a verification.
type Options struct {
	// Checksum also compares the content of every file equal by size and
	// time, with SHA-256, on Threads workers (the set's threads).
	Checksum bool
}

// Set verifies one set with eng, whose Open reaches the set's roots. The
// spec's include and exclude filters, symlink mode, copy_empty_dirs and
// time tolerance apply as in a plan; exclude_older does not (an older
// destination file is a difference). Neither tree is changed.
func Set(ctx context.Context, eng *native.Engine, spec engine.Spec, opts Options) *Result {
	r := &Result{Name: spec.Name, Source: spec.Source, Destination: spec.Destination, Mode: "copy", Checksum: opts.Checksum,
		Differences: []Difference{}}
	if spec.Mirror {
		r.Mode = "mirror"
	}
	e := *eng
	e.Open = HideVersions(eng.Open, spec.Destination)
	scan := spec
	// A mirror scan lists the extras (as deletions) and the entries of the
	// wrong kind (as replacements); a copy-mode scan only counts them.
	scan.Mirror = true
	scan.ExcludeOlder = false
	res, err := e.Scan(ctx, scan)
	if err != nil {
		r.Error = err.Error()
		return r
	}
	r.Counts.SourceFiles, r.Counts.SourceDirs, r.Counts.SourceBytes = res.Source.Files, res.Source.Dirs, res.Source.Bytes
	var diffs []Difference
	replaced := 0
	defer res.Changes.Close()
	if err := res.Changes.Range(func(_ int, c *engine.Change) error {
		switch {
		case c.Class == engine.StaleTemp:
			// A temp file of an interrupted run is not part of the backup.
		case c.Action == engine.Create:
			diffs = append(diffs, Difference{Path: c.Path, Kind: Missing, Detail: c.Kind.String(), Fails: true})
		case c.Action == engine.Delete:
			diffs = append(diffs, Difference{Path: c.Path, Kind: Extra, Detail: c.Dst.Kind.String(), Fails: spec.Mirror})
		case c.Action == engine.Replace:
			replaced++
			diffs = append(diffs, Difference{Path: c.Path, Kind: Differs, Fails: true,
				Detail: fmt.Sprintf("a %s in the source, a %s in the destination", c.Src.Kind, c.Dst.Kind)})
		case c.Class == engine.Tweaked:
			diffs = append(diffs, Difference{Path: c.Path, Kind: MetaDiffers, Fails: true,
				Detail: "metadata differs (destination → source): " + strings.Join(engine.DescribeDiffers(c), ", ")})
		case c.Action == engine.Update:
			diffs = append(diffs, Difference{Path: c.Path, Kind: Differs, Detail: updateDetail(*c), Fails: true})
		}
		return nil
	}); err != nil {
		r.Error = err.Error()
		return r
	}
	for _, fe := range res.Errors {
		if fe.Op == "replace" {
			replaced++
		}
		diffs = append(diffs, Difference{Path: fe.Path, Kind: Error, Detail: fe.Op + ": " + fe.Err, Fails: true})
	}
	if n := res.Mismatches - int64(replaced); n > 0 {
		// With symlinks = "skip", a destination link where the source has
		// a file or directory is counted by the scan but never listed.
		diffs = append(diffs, Difference{Kind: Differs, Fails: true,
			Detail: fmt.Sprintf("%d %s a link in the destination where the source has a file or directory (symlinks are skipped)", n, plural(n, "entry is", "entries are"))})
	}
	diffs = collapse(diffs)
	if opts.Checksum && ctx.Err() == nil {
		cd, hashed, err := checksum(ctx, &e, spec, diffs)
		if err != nil {
			r.Error = err.Error()
		}
		r.Counts.Hashed = hashed
		diffs = append(diffs, cd...)
	}
	if err := ctx.Err(); err != nil && r.Error == "" {
		r.Error = "interrupted: " + err.Error()
	}
	sort.SliceStable(diffs, func(i, j int) bool { return diffs[i].Path < diffs[j].Path })
	r.Differences = append(r.Differences, diffs...)
	r.OK = r.Error == ""
	for _, d := range diffs {
		if d.Fails {
			r.OK = false
		}
		switch d.Kind {
		case Missing:
			r.Counts.Missing++
		case Extra:
			r.Counts.Extra++
		case Differs:
			r.Counts.Differs++
		case ContentDiffers:
			r.Counts.ContentDiffers++
		case MetaDiffers:
			r.Counts.MetaDiffers++
		case Error:
			r.Counts.Errors++
		}
	}
	return r
}

func updateDetail(c engine.Change) string {
	switch {
	case c.Kind == engine.KindSymlink:
		return fmt.Sprintf("link target %q in the source, %q in the destination", c.Src.Target, c.Dst.Target)
	case c.Class == engine.Newer:
		return "newer: the source's copy is newer"
	case c.Class == engine.Older:
		return "older: the destination's copy is newer"
	}
	return fmt.Sprintf("changed: same time, %d bytes in the source, %d in the destination", c.Src.Size, c.Dst.Size)
}

// collapse drops missing, extra and replaced entries under a directory that
// is itself listed so: it stands for everything under it. Errors stay.
func collapse(diffs []Difference) []Difference {
	dirs := map[string]bool{}
	for _, d := range diffs {
		if d.Kind != Error && d.Kind != MetaDiffers && d.Path != "" {
			dirs[d.Path] = true
		}
	}
	out := diffs[:0]
	for _, d := range diffs {
		if d.Kind != Error && d.Kind != MetaDiffers && underListed(d.Path, dirs) {
			continue
		}
		out = append(out, d)
	}
	return out
}

func underListed(p string, dirs map[string]bool) bool {
	for i := strings.LastIndexByte(p, '/'); i > 0; i = strings.LastIndexByte(p[:i], '/') {
		if dirs[p[:i]] {
			return true
		}
	}
	return false
}

// checksum hashes every file that the scan found equal on both sides. The
// source's selected files come from a scan against an absent destination,
// which applies the same filters; the ones already listed are left out.
func checksum(ctx context.Context, e *native.Engine, spec engine.Spec, diffs []Difference) ([]Difference, int64, error) {
	listed := map[string]bool{}
	for _, d := range diffs {
		if d.Path != "" {
			listed[d.Path] = true
		}
	}
	const absent = "\x00absent destination"
	all := *e
	all.Open = func(root string) (vfs.FS, error) {
		if root == absent {
			return absentFS{}, nil
		}
		return e.Open(root)
	}
	s := spec
	s.Destination, s.Mirror, s.CopyEmptyDirs = absent, false, false
	res, err := all.Scan(ctx, s)
	if err != nil {
		return nil, 0, err
	}
	defer res.Changes.Close()
	src, err := e.Open(spec.Source)
	if err != nil {
		return nil, 0, err
	}
	defer vfs.Close(src)
	dst, err := e.Open(spec.Destination)
	if err != nil {
		return nil, 0, err
	}
	defer vfs.Close(dst)
	threads := spec.ThreadsFor(runtime.GOMAXPROCS(0), vfs.ListAhead(src) > 0 || vfs.ListAhead(dst) > 0)
	var (
		mu     sync.Mutex
		out    []Difference
		hashed int64
		wg     sync.WaitGroup
	)
	work := make(chan string)
	for range threads {
		wg.Go(func() {
			for p := range work {
				d, ok := compareContent(src, dst, p)
				mu.Lock()
				if ok {
					hashed++
				}
				if d != nil {
					out = append(out, *d)
				}
				mu.Unlock()
			}
		})
	}
	// The files go to the workers as the list is read, not gathered
	// first: a tree of millions of files costs no list of its paths.
	errStop := errors.New("stopped")
	err = res.Changes.Range(func(_ int, c *engine.Change) error {
		if c.Kind != engine.KindFile || listed[c.Path] || underListed(c.Path, listed) {
			return nil
		}
		select {
		case work <- c.Path:
			return nil
		case <-ctx.Done():
			return errStop
		}
	})
	close(work)
	wg.Wait()
	if err != nil && err != errStop {
		return nil, 0, err
	}
	return out, hashed, nil
}

// compareContent hashes one file on both sides. ok is false when either
// side could not be read (the difference is then an error).
func compareContent(src, dst vfs.FS, p string) (d *Difference, ok bool) {
	sh, err := hashFile(src, p)
	if err != nil {
		return &Difference{Path: p, Kind: Error, Detail: "read source: " + errText(err), Fails: true}, false
	}
	dh, err := hashFile(dst, p)
	if err != nil {
		return &Difference{Path: p, Kind: Error, Detail: "read destination: " + errText(err), Fails: true}, false
	}
	if sh != dh {
		return &Difference{Path: p, Kind: ContentDiffers, Fails: true,
			Detail: fmt.Sprintf("same size and time, SHA-256 %x in the source, %x in the destination", sh[:8], dh[:8])}, true
	}
	return nil, true
}

func hashFile(fsys vfs.FS, p string) ([sha256.Size]byte, error) {
	var sum [sha256.Size]byte
	f, err := fsys.Open(p)
	if err != nil {
		return sum, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return sum, err
	}
	copy(sum[:], h.Sum(nil))
	return sum, nil
}

func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	return err.Error()
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// absentFS is a destination that does not exist.
type absentFS struct{ vfs.FS }

func (absentFS) String() string { return "(none)" }

func (absentFS) Stat(name string) (vfs.Entry, error) {
	return vfs.Entry{}, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
}

// HideVersions wraps an engine's Open so that the versions folder at the
// root named root is left out of its listings: scans neither compare nor
// copy it.
func HideVersions(open func(string) (vfs.FS, error), root string) func(string) (vfs.FS, error) {
	return func(r string) (vfs.FS, error) {
		f, err := open(r)
		if err != nil || r != root {
			return f, err
		}
		if m, ok := f.(vfs.MetaFS); ok {
			return hideVersionsMetaFS{hideVersionsFS{f}, m}, nil
		}
		if b, ok := f.(vfs.SecurityBatchFS); ok {
			return hideVersionsSecBatchFS{hideVersionsSecFS{hideVersionsFS{f}, b}, b}, nil
		}
		if sf, ok := f.(vfs.SecurityFS); ok {
			return hideVersionsSecFS{hideVersionsFS{f}, sf}, nil
		}
		return hideVersionsFS{f}, nil
	}
}

type hideVersionsFS struct{ vfs.FS }

// TimePrecision passes on the time step of the tree it hides versions in
// (vfs.Precisioner: an SFTP remote keeps whole seconds).
func (h hideVersionsFS) TimePrecision() time.Duration { return vfs.TimePrecision(h.FS) }
func (h hideVersionsFS) ListAhead() int               { return vfs.ListAhead(h.FS) }

// hideVersionsMetaFS keeps the metadata calls of a tree that has them, so
// a scan through it compares modes, owners, ACLs and xattrs.
type hideVersionsMetaFS struct {
	hideVersionsFS
	m vfs.MetaFS
}

func (h hideVersionsMetaFS) Xattrs(name string, which vfs.XattrClass) ([]vfs.Xattr, error) {
	return h.m.Xattrs(name, which)
}

func (h hideVersionsMetaFS) SetXattrs(name string, which vfs.XattrClass, xs []vfs.Xattr) error {
	return h.m.SetXattrs(name, which, xs)
}

func (h hideVersionsMetaFS) Chown(name string, uid, gid uint32) error {
	return h.m.Chown(name, uid, gid)
}

func (h hideVersionsMetaFS) Chmod(name string, mode uint32) error { return h.m.Chmod(name, mode) }

// hideVersionsSecFS keeps the NT security descriptors of a tree that has
// them (Windows, a share), so a scan through it compares owners and DACLs.
type hideVersionsSecFS struct {
	hideVersionsFS
	s vfs.SecurityFS
}

func (h hideVersionsSecFS) Security(name string, which vfs.SecInfo) (*vfs.Security, error) {
	return h.s.Security(name, which)
}

func (h hideVersionsSecFS) SetSecurity(name string, which vfs.SecInfo, s *vfs.Security) error {
	return h.s.SetSecurity(name, which, s)
}

type hideVersionsSecBatchFS struct {
	hideVersionsSecFS
	b vfs.SecurityBatchFS
}

func (h hideVersionsSecBatchFS) Securities(dir string, names []string, which vfs.SecInfo) ([]*vfs.Security, []error, error) {
	return h.b.Securities(dir, names, which)
}

func (h hideVersionsFS) Close() error {
	vfs.Close(h.FS)
	return nil
}

func (h hideVersionsFS) ReadDir(name string) ([]vfs.Entry, error) {
	list, err := h.FS.ReadDir(name)
	if err != nil || name != "" {
		return list, err
	}
	out := list[:0:0]
	for _, en := range list {
		if !strings.EqualFold(en.Name, VersionsDir) {
			out = append(out, en)
		}
	}
	return out, nil
}

// Versions lists the versions kept under the destination root, oldest
// first (their names are UTC run times that sort as text).
func Versions(open func(string) (vfs.FS, error), destination string) ([]string, error) {
	f, err := open(destination)
	if err != nil {
		return nil, err
	}
	defer vfs.Close(f)
	list, err := f.ReadDir(VersionsDir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, en := range list {
		if en.Kind == vfs.Dir {
			out = append(out, en.Name)
		}
	}
	sort.Strings(out)
	return out, nil
}

// MatchVersion returns the versions whose name starts with prefix. Colons
// are ignored, so an RFC 3339 time (2026-11-26T14:22:33Z) matches the
// folder name 2026-11-26T142233Z.
func MatchVersion(versions []string, prefix string) []string {
	// Folders are named 20261126T142233Z; a user may write the time as
	// 2026-11-26T14:22:33Z.
	prefix = strings.NewReplacer(":", "", "-", "").Replace(strings.TrimSpace(prefix))
	if prefix == "" {
		return nil
	}
	var out []string
	for _, v := range versions {
		if strings.HasPrefix(v, prefix) {
			out = append(out, v)
		}
	}
	return out
}
