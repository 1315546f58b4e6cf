package vfs

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"sync"
	"unicode/utf16"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Windows security descriptors and alternate data streams (issue 16,
// docs/engine.md "Metadata classes").
//
// Every handle is opened beneath the root: the parent directory through
// the os.Root (after resolve's per-component lstat, as every Windows
// operation of Local), then the last component by NtCreateFile relative to
// that directory handle, with FILE_OPEN_REPARSE_POINT, so a link or
// junction at the last component is the object acted on, never what it
// points to. GetNamedSecurityInfo on a full path is not used: it would
// resolve the path again, following any junction swapped in since the
// check. FILE_OPEN_FOR_BACKUP_INTENT lets an administrator holding
// SeBackupPrivilege and SeRestorePrivilege (EnablePrivilege) read and
// write files whose DACL does not grant them.

// The descriptor types and SecurityFS are platform-neutral (security.go).

var _ SecurityFS = (*Local)(nil)

var privileges sync.Map // name -> error (nil: enabled)

// EnablePrivilege enables a privilege the process token holds
// (SeSecurityPrivilege, SeRestorePrivilege, SeBackupPrivilege), once per
// process. It fails, wrapping ErrPrivilege, when the token does not hold
// it (robo is not running elevated).
func EnablePrivilege(name string) error {
	if v, ok := privileges.Load(name); ok {
		err, _ := v.(error)
		return err
	}
	err := enablePrivilege(name)
	privileges.Store(name, err)
	return err
}

var procAdjustTokenPrivileges = windows.NewLazySystemDLL("advapi32.dll").NewProc("AdjustTokenPrivileges")

func enablePrivilege(name string) error {
	var tok windows.Token
	if err := windows.OpenProcessToken(windows.CurrentProcess(), windows.TOKEN_ADJUST_PRIVILEGES|windows.TOKEN_QUERY, &tok); err != nil {
		return fmt.Errorf("%s: open the process token: %w", name, err)
	}
	defer tok.Close()
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return err
	}
	tp := windows.Tokenprivileges{PrivilegeCount: 1}
	if err := windows.LookupPrivilegeValue(nil, p, &tp.Privileges[0].Luid); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	tp.Privileges[0].Attributes = windows.SE_PRIVILEGE_ENABLED
	// Called directly: AdjustTokenPrivileges succeeds with
	// ERROR_NOT_ALL_ASSIGNED when the token lacks the privilege, and only
	// the last error, read at once, says so.
	r, _, e := procAdjustTokenPrivileges.Call(uintptr(tok), 0, uintptr(unsafe.Pointer(&tp)), 0, 0, 0)
	if r == 0 {
		return fmt.Errorf("%s: %w: %v", name, ErrPrivilege, e)
	}
	if errors.Is(e, windows.ERROR_NOT_ALL_ASSIGNED) {
		return fmt.Errorf("%s: %w: the process token does not hold it (robo is not running as an administrator or LocalSystem)", name, ErrPrivilege)
	}
	return nil
}

// openBeneath opens name (and its data stream stream, when not "") beneath
// the root with the access asked, without following a reparse point at
// the last component. disposition is FILE_OPEN or FILE_OVERWRITE_IF.
func (l *Local) openBeneath(op, name, stream string, access, disposition uint32) (windows.Handle, error) {
	r, err := l.resolve(op, name)
	if err != nil {
		return 0, err
	}
	dir, base := split(name)
	pf, err := r.Open(osName(dir))
	if err != nil {
		return 0, l.pathErr(op, name, unwrapPath(err))
	}
	defer pf.Close()
	obj := base
	if stream != "" {
		obj += ":" + stream + ":$DATA"
	}
	u, err := windows.NewNTUnicodeString(obj)
	if err != nil {
		return 0, l.pathErr(op, name, err)
	}
	oa := windows.OBJECT_ATTRIBUTES{RootDirectory: windows.Handle(pf.Fd()), ObjectName: u, Attributes: windows.OBJ_CASE_INSENSITIVE}
	oa.Length = uint32(unsafe.Sizeof(oa))
	var h windows.Handle
	var iosb windows.IO_STATUS_BLOCK
	err = windows.NtCreateFile(&h, access|windows.SYNCHRONIZE, &oa, &iosb, nil, windows.FILE_ATTRIBUTE_NORMAL,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE, disposition,
		windows.FILE_OPEN_REPARSE_POINT|windows.FILE_OPEN_FOR_BACKUP_INTENT|windows.FILE_SYNCHRONOUS_IO_NONALERT, 0, 0)
	if err != nil {
		if st, ok := err.(windows.NTStatus); ok {
			err = st.Errno()
		}
		what := name
		if stream != "" {
			what = name + ":" + stream
		}
		return 0, &os.PathError{Op: op, Path: l.Path(what), Err: err}
	}
	return h, nil
}

func secInformation(which SecInfo) windows.SECURITY_INFORMATION {
	var si windows.SECURITY_INFORMATION
	if which&SecOwner != 0 {
		si |= windows.OWNER_SECURITY_INFORMATION | windows.GROUP_SECURITY_INFORMATION
	}
	if which&SecDACL != 0 {
		si |= windows.DACL_SECURITY_INFORMATION
	}
	if which&SecSACL != 0 {
		si |= windows.SACL_SECURITY_INFORMATION
	}
	return si
}

// Security reads the parts which of name's security descriptor.
func (l *Local) Security(name string, which SecInfo) (*Security, error) {
	access := uint32(windows.READ_CONTROL)
	if which&SecSACL != 0 {
		access |= windows.ACCESS_SYSTEM_SECURITY
	}
	h, err := l.openBeneath("getsecurity", name, "", access, windows.FILE_OPEN)
	if err != nil {
		return nil, privErr(err)
	}
	defer windows.CloseHandle(h)
	sd, err := windows.GetSecurityInfo(h, windows.SE_FILE_OBJECT, secInformation(which))
	if err != nil {
		return nil, l.pathErr("getsecurity", name, privErr(err))
	}
	if sd == nil {
		return nil, l.pathErr("getsecurity", name, fmt.Errorf("%w: none returned", ErrBadSecurityDescriptor))
	}
	// GetSecurityInfo returns a self-relative copy on the Go heap: its
	// bytes are what a share sends, parsed by the same code.
	b := unsafe.Slice((*byte)(unsafe.Pointer(sd)), sd.Length())
	s, err := ParseSecurity(b, which)
	if err != nil {
		return nil, l.pathErr("getsecurity", name, err)
	}
	return s, nil
}

// SetSecurity writes the parts which of s (read by Security, from either
// tree) on name.
func (l *Local) SetSecurity(name string, which SecInfo, s *Security) error {
	if s == nil || len(s.SD) == 0 {
		return l.pathErr("setsecurity", name, errors.New("no security descriptor was read"))
	}
	// A copy in memory the Go allocator aligns, checked again: s may come
	// from a share.
	if _, err := ParseSecurity(s.SD, which); err != nil {
		return l.pathErr("setsecurity", name, err)
	}
	buf := make([]uint64, (len(s.SD)+7)/8)
	raw := unsafe.Slice((*byte)(unsafe.Pointer(&buf[0])), len(s.SD))
	copy(raw, s.SD)
	sd := (*windows.SECURITY_DESCRIPTOR)(unsafe.Pointer(&buf[0]))
	acls := which &^ SecOwner
	if acls != 0 {
		access := uint32(0)
		if acls&SecDACL != 0 {
			access |= windows.WRITE_DAC
		}
		if acls&SecSACL != 0 {
			access |= windows.ACCESS_SYSTEM_SECURITY
		}
		if err := l.setSD(name, access, secInformation(acls), sd); err != nil {
			return privErr(err)
		}
	}
	if which&SecOwner != 0 {
		if err := l.setSD(name, windows.WRITE_OWNER, secInformation(SecOwner), sd); err != nil {
			if errors.Is(err, windows.ERROR_INVALID_OWNER) || errors.Is(err, windows.ERROR_ACCESS_DENIED) || errors.Is(err, windows.ERROR_PRIVILEGE_NOT_HELD) {
				return fmt.Errorf("%w: %v", ErrOwnerNotKept, err)
			}
			return err
		}
	}
	runtime.KeepAlive(buf)
	return nil
}

func (l *Local) setSD(name string, access uint32, si windows.SECURITY_INFORMATION, sd *windows.SECURITY_DESCRIPTOR) error {
	h, err := l.openBeneath("setsecurity", name, "", access, windows.FILE_OPEN)
	if err != nil {
		return err
	}
	defer windows.CloseHandle(h)
	// SetKernelObjectSecurity stores the descriptor as given, where
	// SetSecurityInfo would recompute the inherited ACEs from the
	// destination's parent: the copy must be the source's descriptor.
	if err := windows.SetKernelObjectSecurity(h, si, sd); err != nil {
		return l.pathErr("setsecurity", name, err)
	}
	return nil
}

// privErr marks the errors that mean a privilege is missing.
func privErr(err error) error {
	if errors.Is(err, windows.ERROR_PRIVILEGE_NOT_HELD) && !errors.Is(err, ErrPrivilege) {
		return fmt.Errorf("%w: %w", ErrPrivilege, err)
	}
	return err
}

const (
	fileStreamInformation = 22 // FILE_INFORMATION_CLASS
	statusBufferOverflow  = windows.NTStatus(0x80000005)
	statusInvalidInfo     = windows.NTStatus(0xC0000003)
	statusNotImplemented  = windows.NTStatus(0xC0000002)
	statusInvalidParam    = windows.NTStatus(0xC000000D)
)

// Streams lists the names of name's named data streams ("" excluded: the
// file's data). A file system that cannot list them fails with ErrNoMeta.
func (l *Local) Streams(name string) ([]string, error) {
	h, err := l.openBeneath("streams", name, "", windows.FILE_READ_ATTRIBUTES, windows.FILE_OPEN)
	if err != nil {
		return nil, err
	}
	defer windows.CloseHandle(h)
	buf := make([]byte, 4096)
	for {
		var iosb windows.IO_STATUS_BLOCK
		err = windows.NtQueryInformationFile(h, &iosb, &buf[0], uint32(len(buf)), fileStreamInformation)
		if err == statusBufferOverflow || err == windows.STATUS_BUFFER_TOO_SMALL {
			if len(buf) >= 16<<20 {
				return nil, l.pathErr("streams", name, errors.New("stream list larger than 16 MiB"))
			}
			buf = make([]byte, 4*len(buf))
			continue
		}
		if err == statusInvalidInfo || err == statusNotImplemented || err == statusInvalidParam {
			return nil, l.pathErr("streams", name, ErrNoMeta)
		}
		if err != nil {
			if st, ok := err.(windows.NTStatus); ok {
				err = st.Errno()
			}
			return nil, l.pathErr("streams", name, err)
		}
		return parseStreams(buf[:iosb.Information]), nil
	}
}

// parseStreams reads FILE_STREAM_INFORMATION records: NextEntryOffset,
// StreamNameLength (bytes), StreamSize, StreamAllocationSize, then the
// name (":name:$DATA"). Names that are not a plain named data stream are
// left out.
func parseStreams(b []byte) []string {
	var out []string
	for off := 0; off+24 <= len(b); {
		next := int(*(*uint32)(unsafe.Pointer(&b[off])))
		n := int(*(*uint32)(unsafe.Pointer(&b[off+4])))
		if off+24+n <= len(b) && n%2 == 0 {
			u := unsafe.Slice((*uint16)(unsafe.Pointer(&b[off+24])), n/2)
			s := string(utf16.Decode(u))
			if st, ok := strings.CutSuffix(s, ":$DATA"); ok && strings.HasPrefix(st, ":") && len(st) > 1 && !strings.ContainsAny(st[1:], ":\\/\x00") {
				out = append(out, st[1:])
			}
		}
		if next <= 0 {
			break
		}
		off += next
	}
	return out
}

// CopyStreams copies the named data streams of src's file name onto dname
// (after its data, before its rename: the streams travel with the file).
func (l *Local) CopyStreams(src *Local, name, dname string) (int, error) {
	names, err := src.Streams(name)
	if err != nil {
		return 0, err
	}
	for i, st := range names {
		if err := l.copyStream(src, name, dname, st); err != nil {
			return i, err
		}
	}
	return len(names), nil
}

func (l *Local) copyStream(src *Local, name, dname, stream string) error {
	rh, err := src.openBeneath("open", name, stream, windows.GENERIC_READ, windows.FILE_OPEN)
	if err != nil {
		return err
	}
	r := os.NewFile(uintptr(rh), src.Path(name)+":"+stream)
	defer r.Close()
	wh, err := l.openBeneath("create", dname, stream, windows.GENERIC_WRITE, windows.FILE_OVERWRITE_IF)
	if err != nil {
		return err
	}
	w := os.NewFile(uintptr(wh), l.Path(dname)+":"+stream)
	if _, err := io.Copy(w, r); err != nil {
		w.Close()
		return err
	}
	return w.Close()
}
