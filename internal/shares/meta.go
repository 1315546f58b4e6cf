package shares

import (
	"os"
	"time"

	smb2 "github.com/cloudsoda/go-smb2"

	"github.com/robo-backup/robo/internal/vfs"
)

// Metadata beyond times (issue 16): SetAttrs is what the native engine uses
// to copy attributes to a share (security descriptors: security.go);
// SecurityDescriptor and SetSecurityDescriptor are lower-level calls not
// used by robo's copy. Each runs after the directory checks of confine.go and opens
// the entry without following a link the server reports (go-smb2's own
// SecurityInfoRaw and SetSecurityInfoRaw by name would follow it).
// SetBasicInfo is one round trip (open, set and close compounded); reading
// a security descriptor three (open, query, close), setting one two (open,
// then set and close compounded).

// BasicInfo is what SetBasicInfo sets: a zero time leaves that time as it
// is, and zero Attributes leave the attributes (set AttrNormal to clear
// them all).
type BasicInfo struct {
	Created, Accessed, Modified, Changed time.Time
	Attributes                           uint32
}

// File attributes for BasicInfo (MS-FSCC 2.6).
const (
	AttrReadOnly = smb2.FileAttributeReadOnly
	AttrHidden   = smb2.FileAttributeHidden
	AttrSystem   = smb2.FileAttributeSystem
	AttrArchive  = smb2.FileAttributeArchive
	AttrNormal   = smb2.FileAttributeNormal
)

// SecurityInfo says which parts of a security descriptor to read or set.
type SecurityInfo uint32

// Parts of a security descriptor.
const (
	SecurityOwner = SecurityInfo(smb2.OwnerSecurityInformation)
	SecurityGroup = SecurityInfo(smb2.GroupSecurityInformation)
	SecurityDACL  = SecurityInfo(smb2.DACLSecurityInformation)
	SecuritySACL  = SecurityInfo(smb2.SACLSecurityInformation)
)

// SetBasicInfo sets the times and attributes of name where the share
// allows it.
func (f *shareFS) SetBasicInfo(name string, info BasicInfo) error {
	if err := f.confine("setinfo", name, f.knownDir(name)); err != nil {
		return err
	}
	return f.do("setinfo", name, func(sh *smb2.Share, full string, _ bool) error {
		return sh.SetBasicInfo(full, smb2.FileBasicInfo{CreationTime: info.Created, LastAccessTime: info.Accessed,
			LastWriteTime: info.Modified, ChangeTime: info.Changed, FileAttributes: info.Attributes})
	})
}

// The engine sets attributes through any destination with this method
// (vfs.AttrFS on Windows).
var _ interface {
	SetAttrs(name string, attrs, mask uint32) error
} = (*shareFS)(nil)

// SetAttrs sets the attributes of name in mask to those of attrs, leaving
// the others (and the times) as they are: the current attributes are read
// first, and nothing is sent when they already match. The directory bit is
// never set or cleared, and an entry the server reports as a reparse point
// (a link) or that robo took for a link (doc.go) is refused, as everywhere
// robo meets one.
func (f *shareFS) SetAttrs(name string, attrs, mask uint32) error {
	if err := f.confine("setattr", name, f.knownDir(name)); err != nil {
		return err
	}
	f.mu.Lock()
	link := f.links[name]
	f.mu.Unlock()
	if link {
		return f.notFollowed("setattr", name)
	}
	return f.do("setattr", name, func(sh *smb2.Share, full string, _ bool) error {
		fi, err := sh.Lstat(full)
		if err != nil {
			return err
		}
		cur := fi.Sys().(*smb2.FileStat).FileAttributes
		if cur&attrReparsePoint != 0 {
			return vfs.ErrNotFollowed
		}
		mask &^= attrDirectory
		next := cur&^mask | attrs&mask
		if next != cur {
			next &^= attrDirectory
			if next == 0 {
				next = AttrNormal // 0 would mean "leave them as they are"
			}
			// Zero times are sent as 0: unchanged (go-smb2's filetime).
			if err := sh.SetBasicInfo(full, smb2.FileBasicInfo{FileAttributes: next}); err != nil {
				return err
			}
		}
		if next&AttrArchive == 0 && cur&attrDirectory == 0 {
			f.keepAttrs(name, next)
		} else {
			f.takeAttrs(name)
		}
		return nil
	})
}

// keepAttrs records the attributes SetAttrs gave name, for a rename.
func (f *shareFS) keepAttrs(name string, attrs uint32) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.attrsSet == nil {
		f.attrsSet = map[string]uint32{}
	}
	f.attrsSet[name] = attrs
}

// takeAttrs returns and forgets the attributes SetAttrs gave name.
func (f *shareFS) takeAttrs(name string) (uint32, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	a, ok := f.attrsSet[name]
	delete(f.attrsSet, name)
	return a, ok
}

// SecurityDescriptor returns the parts what of name's security descriptor
// in binary, self-relative form.
func (f *shareFS) SecurityDescriptor(name string, what SecurityInfo) ([]byte, error) {
	if err := f.confine("getsecinfo", name, f.knownDir(name)); err != nil {
		return nil, err
	}
	access := smb2.AccessReadControl
	if what&SecuritySACL != 0 {
		access |= smb2.AccessSystemSecurity
	}
	var sd []byte
	err := f.do("getsecinfo", name, func(sh *smb2.Share, full string, _ bool) error {
		file, err := sh.OpenFileWith(full, os.O_RDONLY, 0, access)
		if err != nil {
			return err
		}
		defer file.Close()
		sd, err = file.SecurityInfoRaw(smb2.SecurityInformationRequestFlags(what))
		return err
	})
	return sd, err
}

// SetSecurityDescriptor sets the parts what of name's security descriptor
// from sd (binary, self-relative), where the share and the account allow
// it (owner and SACL usually need privileges).
func (f *shareFS) SetSecurityDescriptor(name string, what SecurityInfo, sd []byte) error {
	if err := f.confine("setsecinfo", name, f.knownDir(name)); err != nil {
		return err
	}
	var access uint32
	if what&SecurityDACL != 0 {
		access |= smb2.AccessWriteDAC
	}
	if what&(SecurityOwner|SecurityGroup) != 0 {
		access |= smb2.AccessWriteOwner
	}
	if what&SecuritySACL != 0 {
		access |= smb2.AccessSystemSecurity
	}
	return f.do("setsecinfo", name, func(sh *smb2.Share, full string, _ bool) error {
		file, err := sh.OpenFileWith(full, os.O_RDONLY, 0, access)
		if err != nil {
			return err
		}
		err = file.Do(smb2.SetSecurityInfoOp(smb2.SecurityInformationRequestFlags(what), sd), smb2.CloseOp())
		file.Close() // closed by the compound unless its close failed
		return err
	})
}
