package smb2

import (
	"errors"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/cloudsoda/go-smb2/internal/smb2"
)

// This file adds (robo's fork, ROBO-CHANGES.md):
//
//   - FileBasicInfo and File.SetBasicInfo / Share.SetBasicInfo: setting the
//     four times and the attributes of a file, on an open handle or by name;
//   - File.Rename: renaming through an open handle (FileRenameInformation);
//   - File.Do and the FileOp values: several requests on one open handle
//     (write, set times and attributes, set a security descriptor, rename,
//     flush, close) sent as one compound request (MS-SMB2 3.2.4.1.4), so
//     they cost one round trip;
//   - Share.OpenFileWith: OpenFile with extra access rights on the handle
//     (DELETE, to rename it; WRITE_DAC, to set its security descriptor).

// File attributes (MS-FSCC 2.6), for FileBasicInfo.FileAttributes and
// FileStat.FileAttributes.
const (
	FileAttributeReadOnly          uint32 = 0x1
	FileAttributeHidden            uint32 = 0x2
	FileAttributeSystem            uint32 = 0x4
	FileAttributeDirectory         uint32 = 0x10
	FileAttributeArchive           uint32 = 0x20
	FileAttributeNormal            uint32 = 0x80
	FileAttributeTemporary         uint32 = 0x100
	FileAttributeSparseFile        uint32 = 0x200
	FileAttributeReparsePoint      uint32 = 0x400
	FileAttributeCompressed        uint32 = 0x800
	FileAttributeOffline           uint32 = 0x1000
	FileAttributeNotContentIndexed uint32 = 0x2000
	FileAttributeEncrypted         uint32 = 0x4000
)

// Access rights that Share.OpenFileWith can add to those OpenFile derives
// from its flags (MS-SMB2 2.2.13.1.1).
const (
	AccessDelete              uint32 = 0x00010000 // rename or delete through the handle
	AccessReadControl         uint32 = 0x00020000 // read the security descriptor
	AccessWriteDAC            uint32 = 0x00040000 // set the DACL
	AccessWriteOwner          uint32 = 0x00080000 // set the owner and group
	AccessSystemSecurity      uint32 = 0x01000000 // read or set the SACL
	AccessReadAttributes      uint32 = 0x00000080
	AccessWriteAttributes     uint32 = 0x00000100
	AccessWriteExtendedAttrib uint32 = 0x00000010
)

// FileBasicInfo is FILE_BASIC_INFORMATION (MS-FSCC 2.4.7): what
// SetBasicInfo sets. A zero time leaves that time unchanged, and so do zero
// FileAttributes; to clear every attribute of a file, set
// FileAttributeNormal.
type FileBasicInfo struct {
	CreationTime   time.Time
	LastAccessTime time.Time
	LastWriteTime  time.Time
	ChangeTime     time.Time
	FileAttributes uint32
}

// filetime encodes t, or nil (0: unchanged) for the zero time or a time
// before 1601, which FILETIME cannot hold. (time.Time{}.UnixNano() does not
// fit an int64, and encoding it would set a garbage time.)
func filetime(t time.Time) *smb2.Filetime {
	if t.IsZero() || t.Year() < 1601 {
		return nil
	}
	if t.Year() > 2262 { // past UnixNano's range
		t = time.Unix(0, 1<<63-1)
	}
	return smb2.NsecToFiletime(t.UnixNano())
}

func (b FileBasicInfo) encoder() *smb2.FileBasicInformationEncoder {
	return &smb2.FileBasicInformationEncoder{
		CreationTime:   filetime(b.CreationTime),
		LastAccessTime: filetime(b.LastAccessTime),
		LastWriteTime:  filetime(b.LastWriteTime),
		ChangeTime:     filetime(b.ChangeTime),
		FileAttributes: b.FileAttributes,
	}
}

// SecurityDescriptorBytes is a self-relative security descriptor in its
// binary form (as SecurityInfoRaw returns it), for SetSecurityInfoRaw and
// SetSecurityInfoOp.
type SecurityDescriptorBytes []byte

var _ smb2.Encoder = SecurityDescriptorBytes(nil)

func (b SecurityDescriptorBytes) Size() int          { return len(b) }
func (b SecurityDescriptorBytes) Encode(dest []byte) { copy(dest, b) }

// FileOp is one request on an open file, for File.Do and
// Share.OpenFileWith.
type FileOp struct {
	op      string // for errors: "write", "setinfo", ...
	cmd     uint16
	payload int    // bytes sent or asked for: the credit charge
	rename  string // a RenameOp's new name
	build   func(fs *Share, fd *smb2.FileId) smb2.Packet
	done    func(res []byte) error
}

// WriteOp writes b at offset off. b must be at most the connection's
// largest write (1 MiB with servers that allow large MTUs, 64 KiB
// otherwise); a server that writes less than all of b fails the op with
// io.ErrShortWrite.
func WriteOp(b []byte, off int64) FileOp {
	return FileOp{op: "write", cmd: smb2.SMB2_WRITE, payload: len(b),
		build: func(_ *Share, fd *smb2.FileId) smb2.Packet {
			return &smb2.WriteRequest{FileId: fd, Offset: uint64(off), Data: b}
		},
		done: func(res []byte) error {
			r := smb2.WriteResponseDecoder(res)
			if r.IsInvalid() {
				return &InvalidResponseError{"broken write response format"}
			}
			if int(r.Count()) != len(b) {
				return io.ErrShortWrite
			}
			return nil
		}}
}

// SetBasicInfoOp sets the times and attributes of info (see FileBasicInfo).
// The handle needs FILE_WRITE_ATTRIBUTES (which GENERIC_WRITE includes).
func SetBasicInfoOp(info FileBasicInfo) FileOp {
	return setInfoOp("setinfo", smb2.SMB2_0_INFO_FILE, smb2.FileBasicInformation, 0, 40, func(*Share) smb2.Encoder { return info.encoder() })
}

// RenameOp renames the file to newpath (share-relative, as for
// Share.Rename), replacing a file there when replace is set. The handle
// needs DELETE access (Share.OpenFileWith with AccessDelete).
func RenameOp(newpath string, replace bool) FileOp {
	newpath = normPath(newpath)
	var r uint8
	if replace {
		r = 1
	}
	size := (&smb2.FileRenameInformationType2Encoder{FileName: newpath}).Size()
	op := setInfoOp("rename", smb2.SMB2_0_INFO_FILE, smb2.FileRenameInformation, 0, size, func(fs *Share) smb2.Encoder {
		return &smb2.FileRenameInformationType2Encoder{ReplaceIfExists: r, FileName: newpath, Mapping: fs.mapping}
	})
	op.rename = newpath
	return op
}

// SetSecurityInfoOp sets the parts of a security descriptor that flags
// name (owner, group, DACL, SACL) from sd. The handle needs WRITE_OWNER,
// WRITE_DAC or ACCESS_SYSTEM_SECURITY to match.
func SetSecurityInfoOp(flags SecurityInformationRequestFlags, sd SecurityDescriptorBytes) FileOp {
	return setInfoOp("setsecinfo", smb2.SMB2_0_INFO_SECURITY, 0, uint32(flags), len(sd), func(*Share) smb2.Encoder { return sd })
}

func setInfoOp(op string, infoType, class uint8, additional uint32, size int, input func(*Share) smb2.Encoder) FileOp {
	return FileOp{op: op, cmd: smb2.SMB2_SET_INFO, payload: size,
		build: func(fs *Share, fd *smb2.FileId) smb2.Packet {
			return &smb2.SetInfoRequest{InfoType: infoType, FileInfoClass: class, AdditionalInformation: additional, FileId: fd, Input: input(fs)}
		},
		done: func(res []byte) error {
			if smb2.SetInfoResponseDecoder(res).IsInvalid() {
				return &InvalidResponseError{"broken set info response format"}
			}
			return nil
		}}
}

// FlushOp asks the server to write the file's data to stable storage.
func FlushOp() FileOp {
	return FileOp{op: "sync", cmd: smb2.SMB2_FLUSH,
		build: func(_ *Share, fd *smb2.FileId) smb2.Packet { return &smb2.FlushRequest{FileId: fd} },
		done: func(res []byte) error {
			if smb2.FlushResponseDecoder(res).IsInvalid() {
				return &InvalidResponseError{"broken flush response format"}
			}
			return nil
		}}
}

// CloseOp closes the file. It must be the last op of a File.Do or
// Share.OpenFileWith.
func CloseOp() FileOp {
	return FileOp{op: "close", cmd: smb2.SMB2_CLOSE,
		build: func(_ *Share, fd *smb2.FileId) smb2.Packet { return &smb2.CloseRequest{FileId: fd} },
		done: func(res []byte) error {
			if smb2.CloseResponseDecoder(res).IsInvalid() {
				return &InvalidResponseError{"broken close response format"}
			}
			return nil
		}}
}

// SetBasicInfo sets the times and attributes of the open file (see
// FileBasicInfo). Unlike Share.Chtimes, it sets the time on the handle that
// wrote the file, so no later write through another handle moves it, and it
// can set the creation time and attributes too.
func (f *File) SetBasicInfo(info FileBasicInfo) error { return f.Do(SetBasicInfoOp(info)) }

// Rename renames the open file to newpath (share-relative), replacing an
// existing file there when replace is set. The file must have been opened
// with AccessDelete (Share.OpenFileWith). It stays open; its Name is
// newpath afterwards.
func (f *File) Rename(newpath string, replace bool) error {
	return f.Do(RenameOp(newpath, replace))
}

// Do sends ops on the open file as one compound request: one round trip
// for all of them, executed by the server in order. It returns the error
// of the first op that failed, as an *os.PathError naming that op.
//
// Servers go on with the next op after one failed (only a failed CREATE
// fails the rest of a chain), so an op that must not run unless an earlier
// one succeeded (a rename after a write) belongs in a later Do. A CloseOp
// must be the last op; when it succeeds the file is closed even if an
// earlier op failed. A successful RenameOp changes the file's Name.
//
// When the connection has too few credits for the whole compound at once,
// the ops are sent one at a time instead, with the same results.
func (f *File) Do(ops ...FileOp) error {
	if f == nil || f.fd == nil {
		return os.ErrInvalid
	}
	if err := checkOps(f.name, ops, f.maxWriteSize()); err != nil {
		return err
	}
	f.m.Lock()
	defer f.m.Unlock()
	_, err := f.fs.doOps(f, nil, ops)
	return err
}

func checkOps(name string, ops []FileOp, maxWrite int) error {
	for i, op := range ops {
		if op.cmd == smb2.SMB2_CLOSE && i != len(ops)-1 {
			return &os.PathError{Op: "close", Path: name, Err: &InternalError{"CloseOp must be the last op"}}
		}
		if op.cmd == smb2.SMB2_WRITE && op.payload > maxWrite {
			return &os.PathError{Op: "write", Path: name, Err: &InternalError{"WriteOp larger than the largest write"}}
		}
	}
	return nil
}

// chargeOf is the credit charge of a request carrying (or asking for)
// payload bytes.
func (fs *Share) chargeOf(payload int) uint16 {
	if fs.conn.capabilities&smb2.SMB2_GLOBAL_CAP_LARGE_MTU == 0 || payload <= 0 {
		return 1
	}
	return uint16((payload-1)/(64*1024) + 1)
}

// doOps sends ops on f's handle as one related compound; or, when create
// is set (and f nil), the CREATE create and ops on the handle it opens, and
// returns that file (nil when the open failed).
func (fs *Share) doOps(f *File, create *smb2.CreateRequest, ops []FileOp) (*File, error) {
	var charges []uint16
	total := 0
	if create != nil {
		charges = append(charges, 1)
		total++
	}
	for _, op := range ops {
		c := fs.chargeOf(op.payload)
		charges = append(charges, c)
		total += int(c)
	}
	if total > cap(fs.account.balance) {
		return fs.doOpsOneByOne(f, create, ops)
	}
	granted, complete, err := fs.account.borrow(fs.ctx, uint16(total))
	if err != nil {
		return f, err
	}
	if !complete {
		fs.conn.refundCredits(granted)
		return fs.doOpsOneByOne(f, create, ops)
	}
	entries := make([]compoundEntry, 0, len(charges))
	if create != nil {
		create.CreditCharge = 1
		entries = append(entries, compoundEntry{req: create, tc: fs.treeConn})
	}
	for i, op := range ops {
		fd, related := sentinelFileId, true
		if create == nil && i == 0 {
			fd, related = f.fd, false
		}
		req := op.build(fs, fd)
		req.Header().CreditCharge = charges[len(entries)]
		entries = append(entries, compoundEntry{req: req, tc: fs.treeConn, related: related})
	}
	rrs, err := fs.treeConn.sendCompound(fs.ctx, entries)
	if err != nil {
		return f, err
	}
	var first error
	if create != nil {
		pkt, err := fs.treeConn.recv(rrs[0])
		rrs = rrs[1:]
		var res []byte
		if err == nil {
			res, err = accept(smb2.SMB2_CREATE, pkt)
		}
		if err == nil {
			r := smb2.CreateResponseDecoder(res)
			if r.IsInvalid() {
				err = &InvalidResponseError{"broken create response format"}
			} else {
				f = fs.newFile(r, create.Name)
			}
		}
		if err != nil {
			first = &os.PathError{Op: "open", Path: create.Name, Err: err}
		}
	}
	for i, rr := range rrs {
		op := ops[i]
		pkt, err := fs.treeConn.recv(rr)
		if f == nil {
			continue // the open failed: so did the rest
		}
		var res []byte
		if err == nil {
			res, err = accept(op.cmd, pkt)
		}
		if err == nil {
			err = op.done(res)
		}
		if err == nil {
			f.opDone(op)
		}
		if err != nil && first == nil {
			first = &os.PathError{Op: op.op, Path: f.name, Err: err}
		}
	}
	return f, first
}

// opDone records what a successful op changed.
func (f *File) opDone(op FileOp) {
	switch {
	case op.cmd == smb2.SMB2_CLOSE:
		f.fd = nil
		runtime.SetFinalizer(f, nil)
	case op.rename != "":
		f.name = op.rename
	}
}

// doOpsOneByOne is doOps without compounding.
func (fs *Share) doOpsOneByOne(f *File, create *smb2.CreateRequest, ops []FileOp) (*File, error) {
	if create != nil {
		var err error
		f, err = fs.createFile(create.Name, create, false)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: create.Name, Err: err}
		}
	}
	var first error
	for _, op := range ops {
		var err error
		if op.cmd == smb2.SMB2_CLOSE {
			err = f.close()
		} else {
			req := op.build(fs, f.fd)
			req.Header().CreditCharge, _, err = fs.borrowCredits(op.payload)
			if err == nil {
				var res []byte
				res, err = fs.sendRecv(op.cmd, req)
				if err == nil {
					err = op.done(res)
				}
				if err == nil {
					f.opDone(op)
				}
			}
		}
		if err != nil && first == nil {
			first = &os.PathError{Op: op.op, Path: f.name, Err: err}
		}
	}
	return f, first
}

// OpenFileWith is OpenFile with more access rights on the handle (the
// Access... constants: AccessDelete to rename it with File.Rename or
// RenameOp, AccessWriteDAC to set its DACL, ...), followed by ops sent in
// the same compound request as the CREATE: one round trip for the open and
// all of them (see File.Do for how servers run a chain). When ops end with
// CloseOp, the returned File is closed.
//
// Unlike OpenFile, OpenFileWith does not follow symbolic links that a
// server reports (STATUS_STOPPED_ON_SYMLINK): the open fails with that
// status, and none of ops runs.
//
// When the open succeeded and an op failed, OpenFileWith returns the file
// (still open unless ops ended with CloseOp and that succeeded) with the
// error; when the open failed, a nil file.
func (fs *Share) OpenFileWith(name string, flag int, perm os.FileMode, access uint32, ops ...FileOp) (*File, error) {
	name = normPath(name)
	if err := validatePath("open", name, false); err != nil {
		return nil, err
	}
	if err := checkOps(name, ops, maxWriteSizeOf(fs)); err != nil {
		return nil, err
	}
	req := fs.openRequest(flag, perm)
	req.DesiredAccess |= access
	req.Name = name
	var (
		f   *File
		err error
	)
	if len(ops) == 0 {
		f, err = fs.createFile(name, req, false)
		if err != nil {
			return nil, &os.PathError{Op: "open", Path: name, Err: err}
		}
	} else {
		f, err = fs.doOps(nil, req, ops)
		if f == nil {
			return nil, err
		}
	}
	if flag&os.O_APPEND != 0 && f.fd != nil {
		_, _ = f.seek(0, io.SeekEnd)
	}
	return f, err
}

// openOps sends the CREATE req (its Name set) and ops on the handle it
// opens in one compound, and returns the file and the first error, not
// wrapped in an *os.PathError. When ops end with CloseOp and that failed,
// the file is closed on its own.
func (fs *Share) openOps(req *smb2.CreateRequest, ops ...FileOp) (*File, error) {
	f, err := fs.doOps(nil, req, ops)
	if f != nil && f.fd != nil && len(ops) > 0 && ops[len(ops)-1].cmd == smb2.SMB2_CLOSE {
		f.close()
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return f, err
}

func maxWriteSizeOf(fs *Share) int { return (&File{fs: fs}).maxWriteSize() }

// MaxWriteSize is the largest write one request can carry on this
// connection: the most a WriteOp may hold.
func (fs *Share) MaxWriteSize() int { return maxWriteSizeOf(fs) }

// SetBasicInfo sets the times and attributes of the named file or
// directory (see FileBasicInfo) in one round trip (CREATE, SET_INFO and
// CLOSE compounded). It does not follow a final symbolic link.
func (fs *Share) SetBasicInfo(name string, info FileBasicInfo) error {
	name = normPath(name)
	if err := validatePath("setinfo", name, false); err != nil {
		return err
	}
	req := &smb2.CreateRequest{
		RequestedOplockLevel: smb2.SMB2_OPLOCK_LEVEL_NONE,
		ImpersonationLevel:   smb2.Impersonation,
		DesiredAccess:        smb2.FILE_WRITE_ATTRIBUTES,
		FileAttributes:       smb2.FILE_ATTRIBUTE_NORMAL,
		ShareAccess:          smb2.FILE_SHARE_READ | smb2.FILE_SHARE_WRITE | smb2.FILE_SHARE_DELETE,
		CreateDisposition:    smb2.FILE_OPEN,
		CreateOptions:        smb2.FILE_OPEN_REPARSE_POINT,
		Mapping:              fs.mapping,
		Name:                 name,
	}
	if _, err := fs.openOps(req, SetBasicInfoOp(info), CloseOp()); err != nil {
		return &os.PathError{Op: "setinfo", Path: name, Err: err}
	}
	return nil
}
