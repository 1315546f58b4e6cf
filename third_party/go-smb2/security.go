package smb2

import (
	"bytes"
	"errors"
	"os"

	"github.com/cloudsoda/go-smb2/internal/smb2"
)

// This file adds (robo's fork, ROBO-CHANGES.md) reading and setting
// security descriptors by name without following a final symbolic link,
// in as few round trips as the credits allow.

// SecurityInfoResult is the answer for one name of SecurityInfoRawBatch.
type SecurityInfoResult struct {
	// Raw is the self-relative security descriptor as the server sent it
	// (a copy the caller owns), nil when Err is set. It is not parsed:
	// it comes from the server and must be checked before use.
	Raw []byte
	// Err is an *os.PathError naming the file (op "secinfo").
	Err error
}

// SecurityInfoRawBatch reads the parts info of the security descriptors
// of names: for each, CREATE (FILE_OPEN_REPARSE_POINT: a final symbolic
// link is the object read, not its target; sharing read, write and
// delete), QUERY_INFO and CLOSE, related, and as many names in one
// compound request as the connection's credits allow: one round trip for
// a directory's worth of names on a connection with enough credits. When
// the credits for even one name's three requests are not available at
// once, the names are read one request at a time. The error is for the
// batch as a whole (the connection); each name's own failure is in its
// result.
func (fs *Share) SecurityInfoRawBatch(names []string, info SecurityInformationRequestFlags) ([]SecurityInfoResult, error) {
	out := make([]SecurityInfoResult, len(names))
	if info == 0 {
		return nil, &os.PathError{Op: "secinfo", Path: "", Err: os.ErrInvalid}
	}
	var paths []string
	var idx []int
	for i, n := range names {
		n = normPath(n)
		if err := validatePath("secinfo", n, false); err != nil {
			out[i].Err = err
			continue
		}
		paths = append(paths, n)
		idx = append(idx, i)
	}
	if len(paths) == 0 {
		return out, nil
	}
	res, err := fs.treeConn.compoundSecurityInfoBatch(paths, uint32(info), fs.mapping, fs.ctx,
		smb2.FILE_OPEN_REPARSE_POINT, smb2.FILE_SHARE_READ|smb2.FILE_SHARE_WRITE|smb2.FILE_SHARE_DELETE)
	var ie *InternalError
	if errors.As(err, &ie) {
		for k, p := range paths {
			out[idx[k]].Raw, out[idx[k]].Err = fs.securityInfoOne(p, info)
		}
		return out, nil
	}
	if err != nil {
		return nil, err
	}
	for k, r := range res {
		if r.err != nil {
			out[idx[k]].Err = &os.PathError{Op: "secinfo", Path: paths[k], Err: r.err}
			continue
		}
		// Clone: r.data is a subslice of a pooled receive buffer.
		out[idx[k]].Raw = bytes.Clone(r.data)
		if out[idx[k]].Raw == nil {
			out[idx[k]].Raw = []byte{}
		}
	}
	return out, nil
}

// securityInfoOne reads one descriptor in three round trips (open, query,
// close), each request needing one credit.
func (fs *Share) securityInfoOne(name string, info SecurityInformationRequestFlags) ([]byte, error) {
	req := &smb2.CreateRequest{
		RequestedOplockLevel: smb2.SMB2_OPLOCK_LEVEL_NONE,
		ImpersonationLevel:   smb2.Impersonation,
		DesiredAccess:        securityAccess(info, false),
		FileAttributes:       smb2.FILE_ATTRIBUTE_NORMAL,
		ShareAccess:          smb2.FILE_SHARE_READ | smb2.FILE_SHARE_WRITE | smb2.FILE_SHARE_DELETE,
		CreateDisposition:    smb2.FILE_OPEN,
		CreateOptions:        smb2.FILE_OPEN_REPARSE_POINT,
		Mapping:              fs.mapping,
	}
	f, err := fs.createFile(name, req, false)
	if err != nil {
		return nil, &os.PathError{Op: "secinfo", Path: name, Err: err}
	}
	defer f.close()
	return f.SecurityInfoRaw(info)
}

// securityAccess is the access a handle needs to read (or set) the parts
// info of a security descriptor (MS-SMB2 3.3.5.20.3, 3.3.5.21.3).
func securityAccess(info SecurityInformationRequestFlags, set bool) uint32 {
	var a uint32
	if !set {
		a = smb2.READ_CONTROL
	} else {
		if info&DACLSecurityInformation != 0 {
			a |= smb2.WRITE_DAC
		}
		if info&(OwnerSecurityInformation|GroupSecurityInformation) != 0 {
			a |= smb2.WRITE_OWNER
		}
	}
	if info&SACLSecurityInformation != 0 {
		a |= smb2.ACCESS_SYSTEM_SECURITY
	}
	return a
}

// SetSecurityInfoBytes sets the parts flags of the security descriptor of
// the named file or directory from sd (self-relative) in one round trip
// (CREATE, SET_INFO and CLOSE compounded). The handle asks only for the
// access those parts need (WRITE_DAC, WRITE_OWNER, ACCESS_SYSTEM_SECURITY),
// not for reading the data. It does not follow a final symbolic link.
func (fs *Share) SetSecurityInfoBytes(name string, flags SecurityInformationRequestFlags, sd SecurityDescriptorBytes) error {
	name = normPath(name)
	if err := validatePath("setsecinfo", name, false); err != nil {
		return err
	}
	if flags == 0 {
		return &os.PathError{Op: "setsecinfo", Path: name, Err: os.ErrInvalid}
	}
	req := &smb2.CreateRequest{
		RequestedOplockLevel: smb2.SMB2_OPLOCK_LEVEL_NONE,
		ImpersonationLevel:   smb2.Impersonation,
		DesiredAccess:        securityAccess(flags, true),
		FileAttributes:       smb2.FILE_ATTRIBUTE_NORMAL,
		ShareAccess:          smb2.FILE_SHARE_READ | smb2.FILE_SHARE_WRITE | smb2.FILE_SHARE_DELETE,
		CreateDisposition:    smb2.FILE_OPEN,
		CreateOptions:        smb2.FILE_OPEN_REPARSE_POINT,
		Mapping:              fs.mapping,
		Name:                 name,
	}
	if _, err := fs.openOps(req, SetSecurityInfoOp(flags, sd), CloseOp()); err != nil {
		return &os.PathError{Op: "setsecinfo", Path: name, Err: err}
	}
	return nil
}
