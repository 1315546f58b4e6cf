package vfs

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
)

// Xattr is one extended attribute: its full name ("user.tag") and value.
type Xattr struct {
	Name  string
	Value []byte
}

// XattrClass selects extended attributes by the copy letter that copies
// them.
type XattrClass uint8

// The classes. A POSIX ACL is stored as the extended attributes
// system.posix_acl_access and system.posix_acl_default (robocopy's S);
// every other attribute (user.*, trusted.*, security.*, macOS com.apple.*)
// is robo's E.
const (
	XattrACL XattrClass = 1 << iota
	XattrOther
)

// ACL attribute names (Linux).
const (
	ACLAccess  = "system.posix_acl_access"
	ACLDefault = "system.posix_acl_default"
)

// Has reports whether the attribute name belongs to one of the classes.
func (c XattrClass) Has(name string) bool {
	if name == ACLAccess || name == ACLDefault {
		return c&XattrACL != 0
	}
	return c&XattrOther != 0
}

// ErrNoMeta is wrapped by a MetaFS's errors for metadata the entry or the
// platform cannot hold (extended attributes of a symbolic link, or a
// platform without them).
var ErrNoMeta = errors.New("this metadata is not supported here")

// MetaFS is an FS that reads and writes the metadata beyond data and
// times that robo's copy letters name (docs/engine.md, "Metadata
// classes"). Names are resolved as by FS: beneath the root, no link
// followed at any component, the last one included: these calls act on a
// symbolic link itself or refuse it (ErrNoMeta), never on what it points
// to. Implementations MUST be safe for concurrent use.
type MetaFS interface {
	FS
	// Xattrs returns the extended attributes of name in the classes
	// which, sorted by name; none is a nil slice.
	Xattrs(name string, which XattrClass) ([]Xattr, error)
	// SetXattrs makes the attributes of name in the classes which
	// exactly xs: it sets each of xs and removes the others of those
	// classes. Attributes of other classes are left alone.
	SetXattrs(name string, which XattrClass, xs []Xattr) error
	// Chown sets the owner and group of name (a link itself, not its
	// target).
	Chown(name string, uid, gid uint32) error
	// Chmod sets the permission bits of name, setuid, setgid and sticky
	// included (07777). A symbolic link fails with ErrNoMeta.
	Chmod(name string, mode uint32) error
}

// XattrBytes is the canonical encoding of a set of attributes, sorted by
// name: each name and value preceded by its length. Its digest stands for
// the set in a plan (engine.MetaDigest).
func XattrBytes(xs []Xattr) []byte {
	if len(xs) == 0 {
		return nil
	}
	sorted := append([]Xattr(nil), xs...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Name < sorted[j].Name })
	var b bytes.Buffer
	for _, x := range sorted {
		b.WriteString(strconv.Itoa(len(x.Name)))
		b.WriteByte(':')
		b.WriteString(x.Name)
		b.WriteString(strconv.Itoa(len(x.Value)))
		b.WriteByte(':')
		b.Write(x.Value)
	}
	return b.Bytes()
}

// splitXattrNames splits a listxattr buffer (NUL-terminated names).
func splitXattrNames(buf []byte, which XattrClass) []string {
	var out []string
	for _, n := range strings.Split(string(buf), "\x00") {
		if n != "" && which.Has(n) {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}

// MetaCopy says which metadata a copy writes on the new file besides its
// data and time (CopyChecks.Meta).
type MetaCopy struct {
	// Mode sets the source's exact permission bits (07777) instead of the
	// creation mode.
	Mode bool
	// Owner sets the source's uid and gid.
	Owner bool
	// Xattrs copies the source's extended attributes of these classes.
	Xattrs XattrClass
}

// OwnerWarning is the per-file warning for an owner robo may not set: as
// a non-root user a chown to another user fails, which is said, not
// treated as a failed copy.
func OwnerWarning(uid, gid uint32, err error) string {
	if errors.Is(err, syscall.EPERM) {
		return fmt.Sprintf("owner %d:%d not kept: only root may give a file away (robo runs as uid %d)", uid, gid, os.Getuid())
	}
	return fmt.Sprintf("owner %d:%d not kept: %v", uid, gid, err)
}
