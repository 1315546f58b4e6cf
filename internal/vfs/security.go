package vfs

import (
	"encoding/binary"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// NT security descriptors (issue 16, docs/engine.md "Metadata classes"):
// what robocopy's S (the DACL), O (owner and group) and U (the SACL)
// copy. Local trees on Windows and SMB shares on every platform carry
// them (SecurityFS). The descriptor travels between them in its binary,
// self-relative form (MS-DTYP 2.4.6); ParseSecurity reads it, and every
// byte of it may come from a hostile server.

// SecInfo selects the parts of a security descriptor.
type SecInfo uint8

// The parts, by robocopy's copy letter.
const (
	SecOwner SecInfo = 1 << iota // owner and primary group SIDs (O)
	SecDACL                      // the DACL and its protected/auto-inherited flags (S)
	SecSACL                      // the SACL, auditing (U): needs a privilege
)

// Security is the part of an entry's security descriptor that was read.
type Security struct {
	// Owner and Group are the SIDs in string form ("S-1-5-32-544"), ""
	// when not read or absent.
	Owner, Group string
	// DACL and SACL are the canonical bytes of each ACL (their control
	// flags, then the ACL as stored), nil when not read. A digest of them
	// stands for the ACL in a plan.
	DACL, SACL []byte
	// SD is the self-relative descriptor as read (the parts read only),
	// checked by ParseSecurity: what SetSecurity writes.
	SD []byte
}

// SecurityFS is an FS that reads and writes NT security descriptors (a
// local tree on Windows, an SMB share). Names are resolved as by FS, and
// a symbolic link (or other reparse point) at the last component is the
// object acted on, never what it points to. Implementations MUST be safe
// for concurrent use.
type SecurityFS interface {
	FS
	// Security reads the parts which of name's security descriptor. A
	// descriptor that is not well formed is an error naming name.
	Security(name string, which SecInfo) (*Security, error)
	// SetSecurity writes the parts which of s (read by Security, from
	// either tree) on name, exactly as read (the ACEs marked inherited
	// included: the destination's descriptor becomes the source's,
	// whatever its parent's). The owner and group are written apart from
	// the ACLs and after them: a failure to set them (ErrOwnerNotKept)
	// leaves the ACLs set. A part the account may not write for want of a
	// privilege (the SACL) fails with ErrPrivilege.
	SetSecurity(name string, which SecInfo, s *Security) error
}

// SecurityBatchFS is a SecurityFS that reads the descriptors of several
// entries of one directory at once (an SMB share: one round trip for
// many). The scan uses it for the entries present on both sides.
type SecurityBatchFS interface {
	SecurityFS
	// Securities reads the parts which of the descriptors of the entries
	// names of directory dir: one result (or error) per name, in order.
	// err is for the call as a whole.
	Securities(dir string, names []string, which SecInfo) (secs []*Security, errs []error, err error)
}

// ErrOwnerNotKept wraps the failure to set an owner other than robo's own
// account: Windows allows it only with SeRestorePrivilege, an SMB server
// only to an account it lets take ownership for others.
var ErrOwnerNotKept = errors.New("owner not kept: setting another account as owner needs SeRestorePrivilege (run robo as an administrator or LocalSystem; on a share, an account the server lets restore owners)")

// ErrPrivilege wraps a failure for want of a privilege (SeSecurityPrivilege
// for a SACL).
var ErrPrivilege = errors.New("a privilege robo does not hold is needed")

// Security descriptor control bits (MS-DTYP 2.4.6).
const (
	seDACLPresent       = 0x0004
	seSACLPresent       = 0x0010
	seDACLAutoInherited = 0x0400
	seSACLAutoInherited = 0x0800
	seDACLProtected     = 0x1000
	seSACLProtected     = 0x2000
	seSelfRelative      = 0x8000
)

// maxSecurityDescriptor bounds what is accepted (NTFS stores at most
// 64 KiB).
const maxSecurityDescriptor = 64 << 10

// ErrBadSecurityDescriptor is wrapped by ParseSecurity's errors.
var ErrBadSecurityDescriptor = errors.New("malformed security descriptor")

// ParseSecurity checks the self-relative descriptor sd (every offset and
// length within it, every ACE within its ACL, every SID well formed) and
// returns the parts which of it. It never panics, whatever sd holds. A
// part asked for but absent is "" (owner, group) or "absent" (an ACL).
func ParseSecurity(sd []byte, which SecInfo) (*Security, error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrBadSecurityDescriptor, fmt.Sprintf(format, a...))
	}
	if len(sd) < 20 {
		return nil, bad("%d bytes, shorter than its 20-byte header", len(sd))
	}
	if len(sd) > maxSecurityDescriptor {
		return nil, bad("%d bytes, more than 64 KiB", len(sd))
	}
	if sd[0] != 1 {
		return nil, bad("revision %d", sd[0])
	}
	ctl := binary.LittleEndian.Uint16(sd[2:])
	if ctl&seSelfRelative == 0 {
		return nil, bad("not self-relative")
	}
	off := func(i int) uint32 { return binary.LittleEndian.Uint32(sd[4+4*i:]) }
	s := &Security{SD: append([]byte(nil), sd...)}
	owner, group, sacl, dacl := off(0), off(1), off(2), off(3)
	for _, o := range []struct {
		what string
		at   uint32
		dst  *string
	}{{"owner", owner, &s.Owner}, {"group", group, &s.Group}} {
		if o.at == 0 {
			continue
		}
		sid, _, err := parseSID(sd, o.at)
		if err != nil {
			return nil, bad("%s: %v", o.what, err)
		}
		if which&SecOwner != 0 {
			*o.dst = sid
		}
	}
	d, err := aclCanon(sd, ctl&seDACLPresent != 0, dacl, ctl&seDACLProtected != 0, ctl&seDACLAutoInherited != 0)
	if err != nil {
		return nil, bad("DACL: %v", err)
	}
	a, err := aclCanon(sd, ctl&seSACLPresent != 0, sacl, ctl&seSACLProtected != 0, ctl&seSACLAutoInherited != 0)
	if err != nil {
		return nil, bad("SACL: %v", err)
	}
	if which&SecDACL != 0 {
		s.DACL = d
	}
	if which&SecSACL != 0 {
		s.SACL = a
	}
	return s, nil
}

// parseSID reads the SID at off in b and returns it in string form and its
// length.
func parseSID(b []byte, off uint32) (string, int, error) {
	if uint64(off)+8 > uint64(len(b)) {
		return "", 0, fmt.Errorf("SID at %d is past the end (%d bytes)", off, len(b))
	}
	p := b[off:]
	if p[0] != 1 {
		return "", 0, fmt.Errorf("SID revision %d", p[0])
	}
	n := int(p[1])
	if n > 15 {
		return "", 0, fmt.Errorf("SID with %d sub-authorities (at most 15)", n)
	}
	size := 8 + 4*n
	if size > len(p) {
		return "", 0, fmt.Errorf("SID at %d runs past the end", off)
	}
	var auth uint64
	for _, c := range p[2:8] {
		auth = auth<<8 | uint64(c)
	}
	var sb strings.Builder
	sb.WriteString("S-1-")
	if auth >= 1<<32 {
		fmt.Fprintf(&sb, "0x%012X", auth) // as ConvertSidToStringSid
	} else {
		sb.WriteString(strconv.FormatUint(auth, 10))
	}
	for i := range n {
		sb.WriteByte('-')
		sb.WriteString(strconv.FormatUint(uint64(binary.LittleEndian.Uint32(p[8+4*i:])), 10))
	}
	return sb.String(), size, nil
}

// aclCanon checks the ACL at off in b and returns its canonical encoding:
// "absent", "null" for a present null ACL (everyone has access), or
// "acl", a P when protected from inheritance, an I when auto-inherited,
// ":" and the ACL's bytes.
func aclCanon(b []byte, present bool, off uint32, protected, inherited bool) ([]byte, error) {
	if !present {
		return []byte("absent"), nil
	}
	if off == 0 {
		return []byte("null"), nil
	}
	if uint64(off)+8 > uint64(len(b)) {
		return nil, fmt.Errorf("at %d, past the end (%d bytes)", off, len(b))
	}
	p := b[off:]
	if r := p[0]; r != 2 && r != 4 {
		return nil, fmt.Errorf("revision %d", r)
	}
	size := int(binary.LittleEndian.Uint16(p[2:]))
	count := int(binary.LittleEndian.Uint16(p[4:]))
	if size < 8 || size > len(p) {
		return nil, fmt.Errorf("size %d at %d does not fit the descriptor (%d bytes)", size, off, len(b))
	}
	acl := p[:size]
	pos := 8
	for i := range count {
		if pos+4 > size {
			return nil, fmt.Errorf("ACE %d of %d is past the ACL's end", i+1, count)
		}
		n := int(binary.LittleEndian.Uint16(acl[pos+2:]))
		if n < 4 || n%4 != 0 || pos+n > size {
			return nil, fmt.Errorf("ACE %d has size %d (the ACL has %d bytes left)", i+1, n, size-pos)
		}
		if err := checkACE(acl[pos : pos+n]); err != nil {
			return nil, fmt.Errorf("ACE %d: %v", i+1, err)
		}
		pos += n
	}
	out := []byte("acl")
	if protected {
		out = append(out, 'P')
	}
	if inherited {
		out = append(out, 'I')
	}
	out = append(out, ':')
	return append(out, acl...), nil
}

// checkACE checks the SID of the ACE types that carry one where robo can
// find it (the basic allowed, denied, audit, alarm, label types: the mask
// then the SID); others (object ACEs, callback ACEs) are kept as bytes.
func checkACE(ace []byte) error {
	switch ace[0] {
	case 0x00, 0x01, 0x02, 0x03, 0x11, 0x12, 0x13, 0x14:
		if len(ace) < 8 {
			return fmt.Errorf("%d bytes, too short for its SID", len(ace))
		}
		_, n, err := parseSID(ace, 8)
		if err != nil {
			return err
		}
		if 8+n > len(ace) {
			return errors.New("SID runs past the ACE")
		}
	}
	return nil
}
