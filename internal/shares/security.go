package shares

import (
	"errors"
	"fmt"
	"io/fs"

	smb2 "github.com/cloudsoda/go-smb2"

	"github.com/robo-backup/robo/internal/vfs"
)

// NT security descriptors over SMB (issue 16): the DACL (S), owner and
// group (O) and SACL (U) of an entry, read and written in their binary
// self-relative form through robo's go-smb2 fork, and checked by
// vfs.ParseSecurity (the server may send anything). Every request opens
// the entry without following a final link (FILE_OPEN_REPARSE_POINT)
// after the directory checks of confine.go, and an entry robo took for a
// link is refused as everywhere.
//
// Requests: reading the descriptors of n entries of one directory is n
// CREATE + QUERY_INFO + CLOSE triplets in as few compound requests as the
// credits allow (one round trip for a directory's worth; Securities, used
// by the scan); reading one is one round trip of three requests. Setting
// the ACLs is one round trip (CREATE + SET_INFO + CLOSE), and the owner
// and group another, so that a refused owner leaves the ACLs set.

var _ vfs.SecurityBatchFS = (*shareFS)(nil)

// NTSTATUS codes of refused security requests.
const (
	statusAccessDenied      = 0xC0000022
	statusInvalidOwner      = 0xC000005A
	statusPrivilegeNotHeld  = 0xC0000061
	statusInvalidSecurityDS = 0xC0000079
)

func secFlags(which vfs.SecInfo) smb2.SecurityInformationRequestFlags {
	var f smb2.SecurityInformationRequestFlags
	if which&vfs.SecOwner != 0 {
		f |= smb2.OwnerSecurityInformation | smb2.GroupSecurityInformation
	}
	if which&vfs.SecDACL != 0 {
		f |= smb2.DACLSecurityInformation
	}
	if which&vfs.SecSACL != 0 {
		f |= smb2.SACLSecurityInformation
	}
	return f
}

// Security reads the parts which of name's security descriptor in one
// round trip.
func (f *shareFS) Security(name string, which vfs.SecInfo) (*vfs.Security, error) {
	secs, errs, err := f.securities(name, []string{name}, which)
	if err != nil {
		return nil, err
	}
	return secs[0], errs[0]
}

// Securities reads the parts which of the descriptors of the entries
// names of dir, in as few round trips as the credits allow.
func (f *shareFS) Securities(dir string, names []string, which vfs.SecInfo) ([]*vfs.Security, []error, error) {
	rels := make([]string, len(names))
	for i, n := range names {
		rels[i] = vfs.Join(dir, n)
	}
	return f.securities(dir, rels, which)
}

func (f *shareFS) securities(dir string, rels []string, which vfs.SecInfo) ([]*vfs.Security, []error, error) {
	const op = "getsecurity"
	secs := make([]*vfs.Security, len(rels))
	errs := make([]error, len(rels))
	if len(rels) == 0 {
		return secs, errs, nil
	}
	flags := secFlags(which)
	if flags == 0 {
		return nil, nil, &fs.PathError{Op: op, Path: f.display(dir), Err: fs.ErrInvalid}
	}
	var fulls []string
	var idx []int
	for i, rel := range rels {
		if err := f.confine(op, rel, f.knownDir(rel)); err != nil {
			errs[i] = err
			continue
		}
		f.mu.Lock()
		link := f.links[rel]
		f.mu.Unlock()
		if link {
			errs[i] = f.notFollowed(op, rel)
			continue
		}
		full, err := f.full(op, rel)
		if err != nil {
			errs[i] = err
			continue
		}
		fulls = append(fulls, full)
		idx = append(idx, i)
	}
	if len(fulls) == 0 {
		return secs, errs, nil
	}
	var res []smb2.SecurityInfoResult
	err := f.do(op, dir, func(sh *smb2.Share, _ string, _ bool) error {
		var err error
		res, err = sh.SecurityInfoRawBatch(fulls, flags)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	for k, r := range res {
		i := idx[k]
		secs[i], errs[i] = f.secAnswer(rels[i], which, r)
	}
	return secs, errs, nil
}

// secAnswer turns the server's answer for rel into a checked descriptor,
// or an error naming rel.
func (f *shareFS) secAnswer(rel string, which vfs.SecInfo, r smb2.SecurityInfoResult) (*vfs.Security, error) {
	const op = "getsecurity"
	if r.Err != nil {
		return nil, f.secErr(op, rel, which, r.Err)
	}
	s, err := vfs.ParseSecurity(r.Raw, which)
	if err != nil {
		return nil, &fs.PathError{Op: op, Path: f.display(rel), Err: fmt.Errorf("from the server: %w", err)}
	}
	return s, nil
}

// secErr wraps a refused security request: a SACL needs a privilege
// (Windows servers answer STATUS_PRIVILEGE_NOT_HELD, Samba
// STATUS_ACCESS_DENIED to an account without it).
func (f *shareFS) secErr(op, name string, which vfs.SecInfo, err error) error {
	code, _ := status(err)
	if code == statusPrivilegeNotHeld || which&vfs.SecSACL != 0 && code == statusAccessDenied {
		return &fs.PathError{Op: op, Path: f.display(name), Err: fmt.Errorf("%w (SeSecurityPrivilege on the server): %v", vfs.ErrPrivilege, inner(err))}
	}
	return f.wrap(op, name, err)
}

// SetSecurity writes the parts which of s on name: the ACLs in one round
// trip, then the owner and group in another. An owner the server refuses
// (STATUS_ACCESS_DENIED, STATUS_INVALID_OWNER, STATUS_PRIVILEGE_NOT_HELD)
// fails with vfs.ErrOwnerNotKept after the ACLs were set.
func (f *shareFS) SetSecurity(name string, which vfs.SecInfo, s *vfs.Security) error {
	const op = "setsecurity"
	if s == nil || len(s.SD) == 0 {
		return &fs.PathError{Op: op, Path: f.display(name), Err: errors.New("no security descriptor was read")}
	}
	// Checked again: s may have come from anywhere.
	if _, err := vfs.ParseSecurity(s.SD, which); err != nil {
		return &fs.PathError{Op: op, Path: f.display(name), Err: err}
	}
	if err := f.confine(op, name, f.knownDir(name)); err != nil {
		return err
	}
	f.mu.Lock()
	link := f.links[name]
	f.mu.Unlock()
	if link {
		return f.notFollowed(op, name)
	}
	set := func(w vfs.SecInfo) error {
		var raw error
		err := f.do(op, name, func(sh *smb2.Share, full string, _ bool) error {
			raw = sh.SetSecurityInfoBytes(full, secFlags(w), smb2.SecurityDescriptorBytes(s.SD))
			return raw
		})
		if err == nil {
			return nil
		}
		code, _ := status(raw)
		switch {
		case w&vfs.SecOwner != 0 && (code == statusAccessDenied || code == statusInvalidOwner || code == statusPrivilegeNotHeld):
			return &fs.PathError{Op: op, Path: f.display(name), Err: fmt.Errorf("%w: %v", vfs.ErrOwnerNotKept, inner(raw))}
		case code == statusPrivilegeNotHeld || w&vfs.SecSACL != 0 && code == statusAccessDenied:
			return &fs.PathError{Op: op, Path: f.display(name), Err: fmt.Errorf("%w (SeSecurityPrivilege on the server): %v", vfs.ErrPrivilege, inner(raw))}
		case code == statusInvalidSecurityDS:
			return &fs.PathError{Op: op, Path: f.display(name), Err: fmt.Errorf("the server refused the descriptor: %v", inner(raw))}
		}
		return err
	}
	if acls := which &^ vfs.SecOwner; acls != 0 {
		if err := set(acls); err != nil {
			return err
		}
	}
	if which&vfs.SecOwner != 0 {
		return set(vfs.SecOwner)
	}
	return nil
}
