package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// The metadata classes a Tweaked change lists in Differs, in this order.
const (
	DiffMode  = "mode"  // Unix permission bits, setuid/setgid/sticky included (A)
	DiffAttrs = "attrs" // Windows file attributes (A)
	DiffOwner = "owner" // uid and gid, or the owner and group SIDs (O)
	DiffACL   = "acl"   // POSIX ACLs, or the NTFS DACL (S)
	DiffSACL  = "sacl"  // the NTFS SACL: auditing (U)
	DiffXattr = "xattr" // extended attributes other than ACLs (E)
)

var diffOrder = []string{DiffMode, DiffAttrs, DiffOwner, DiffACL, DiffSACL, DiffXattr}

// Windows file attributes robocopy's A copies: read-only, hidden, system,
// archive and not-content-indexed (FILE_ATTRIBUTE_*). Others (directory,
// reparse point, sparse, compressed, encrypted, offline) describe how a
// file is stored, not something to copy as a flag.
const (
	AttrReadOnly     = 0x1
	AttrHidden       = 0x2
	AttrSystem       = 0x4
	AttrArchive      = 0x20
	AttrNotIndexed   = 0x2000
	AttrsCopied      = AttrReadOnly | AttrHidden | AttrSystem | AttrArchive | AttrNotIndexed
	digestNone       = "none"
	digestPrefix     = "sha256:"
	digestHexLetters = 16
)

// MetaCopied reports whether a set copies metadata class letter (one of
// "ATSOUE") for an entry of kind k. A directory's A, T and E follow
// directory_copy (/DCOPY:); its S, O and U follow copy, as robocopy's
// /COPY:S (and /SEC) applies to directories too. A symbolic link has no
// permission bits of its own on Linux and macOS, nor extended attributes
// robo copies: only its owner (O) is compared.
func MetaCopied(s *Spec, letter byte, k Kind) bool {
	switch {
	case k == KindSymlink:
		return letter == 'O' && s.Copies('O', false)
	case k == KindDir && (letter == 'A' || letter == 'T' || letter == 'E' || letter == 'D'):
		return s.Copies(letter, true)
	}
	return s.Copies(letter, false)
}

// CopiesMeta reports whether the set copies any metadata beyond data and
// times, for files or directories: whether a scan must read more than the
// listing gives.
func CopiesMeta(s *Spec) bool {
	for _, l := range []byte("ASOUE") {
		if s.Copies(l, false) || s.Copies(l, true) {
			return true
		}
	}
	return false
}

// MetaDigest is the form in which a plan carries a metadata value too
// large to carry (an ACL, a set of extended attributes): "none" for an
// empty value, else "sha256:" and the first 16 hex digits of its SHA-256.
// Callers hash a canonical encoding of the value (sorted names, framed).
func MetaDigest(canonical []byte) string {
	if len(canonical) == 0 {
		return digestNone
	}
	sum := sha256.Sum256(canonical)
	return digestPrefix + hex.EncodeToString(sum[:])[:digestHexLetters]
}

func validDigest(d string) bool {
	if d == digestNone {
		return true
	}
	h, ok := strings.CutPrefix(d, digestPrefix)
	return ok && len(h) == digestHexLetters && allIn(h, "0123456789abcdef")
}

// validSID reports whether s is a SID in its string form: S-1-, then
// decimal sub-authorities separated by dashes (at most 15, as Windows).
func validSID(s string) bool {
	rest, ok := strings.CutPrefix(s, "S-1-")
	if !ok || len(s) > 200 {
		return false
	}
	parts := strings.Split(rest, "-")
	if len(parts) > 16 {
		return false
	}
	for _, p := range parts {
		if p == "" || len(p) > 20 || !allIn(p, "0123456789") {
			return false
		}
	}
	return true
}

func checkDiffers(d []string) error {
	if len(d) == 0 {
		return fmt.Errorf("a Tweaked update must list the metadata that differs (differs)")
	}
	last := -1
	for _, name := range d {
		i := indexOf(diffOrder, name)
		if i < 0 {
			return fmt.Errorf("unknown metadata class %q in differs (known: %s)", name, strings.Join(diffOrder, ", "))
		}
		if i <= last {
			return fmt.Errorf("differs must list each class once, in the order %s", strings.Join(diffOrder, ", "))
		}
		last = i
	}
	return nil
}

func indexOf(list []string, s string) int {
	for i, v := range list {
		if v == s {
			return i
		}
	}
	return -1
}

// MetaDiff is robo's equality rule for metadata: the classes the set
// copies in which src and dst differ, as Diff* names in their order (nil
// when none). Only values the scan read are compared: a class the set
// does not copy was not read, and a Windows entry has attributes where a
// Unix one has permission bits.
func MetaDiff(s *Spec, src, dst *Meta) []string {
	var out []string
	k := src.Kind
	sx, dx := src.Copied(), dst.Copied()
	if MetaCopied(s, 'A', k) && k != KindSymlink {
		switch {
		case sx.Attrs != nil || dx.Attrs != nil:
			if !eqU32(sx.Attrs, dx.Attrs) {
				out = append(out, DiffAttrs)
			}
		case src.Mode != dst.Mode:
			out = append(out, DiffMode)
		}
	}
	if MetaCopied(s, 'O', k) && (!eqU32(sx.UID, dx.UID) || !eqU32(sx.GID, dx.GID) || sx.Owner != dx.Owner || sx.Group != dx.Group) {
		out = append(out, DiffOwner)
	}
	if MetaCopied(s, 'S', k) && sx.ACL != dx.ACL {
		out = append(out, DiffACL)
	}
	// A SACL is compared where both sides could read it: reading one
	// needs a privilege a share's account may lack (a warning then says
	// the SACL is not compared).
	if MetaCopied(s, 'U', k) && sx.SACL != "" && dx.SACL != "" && sx.SACL != dx.SACL {
		out = append(out, DiffSACL)
	}
	if MetaCopied(s, 'E', k) && sx.Xattr != dx.Xattr {
		out = append(out, DiffXattr)
	}
	return out
}

func eqU32(a, b *uint32) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

// DescribeDiffers renders what differs in a change for people, one item
// per class of c.Differs, destination value first, as it will become:
// "mode 0600 → 0644", "owner 0:0 → 1000:1000", "attrs R → RH", "acl",
// "xattr". The values come from a validated change, so they hold no
// control characters (SIDs and digests are checked by Meta.Validate).
func DescribeDiffers(c *Change) []string {
	out := make([]string, 0, len(c.Differs))
	for _, d := range c.Differs {
		if c.Src == nil || c.Dst == nil {
			out = append(out, d)
			continue
		}
		s, t := c.Src, c.Dst
		switch d {
		case DiffMode:
			out = append(out, fmt.Sprintf("mode %04o → %04o", t.Mode, s.Mode))
		case DiffAttrs:
			out = append(out, fmt.Sprintf("attrs %s → %s", AttrLetters(t.Copied().Attrs), AttrLetters(s.Copied().Attrs)))
		case DiffOwner:
			out = append(out, fmt.Sprintf("owner %s → %s", ownerText(t), ownerText(s)))
		default:
			out = append(out, d)
		}
	}
	return out
}

func ownerText(meta *Meta) string {
	m := meta.Copied()
	if m.Owner != "" || m.Group != "" {
		return orDash(m.Owner) + ":" + orDash(m.Group)
	}
	u, g := "-", "-"
	if m.UID != nil {
		u = fmt.Sprint(*m.UID)
	}
	if m.GID != nil {
		g = fmt.Sprint(*m.GID)
	}
	return u + ":" + g
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// AttrLetters renders Windows attributes as robocopy does (R H S A N), "-"
// for none.
func AttrLetters(a *uint32) string {
	if a == nil {
		return "?"
	}
	var b strings.Builder
	for _, f := range []struct {
		bit uint32
		l   byte
	}{{AttrReadOnly, 'R'}, {AttrHidden, 'H'}, {AttrSystem, 'S'}, {AttrArchive, 'A'}, {AttrNotIndexed, 'N'}} {
		if *a&f.bit != 0 {
			b.WriteByte(f.l)
		}
	}
	if b.Len() == 0 {
		return "-"
	}
	return b.String()
}
