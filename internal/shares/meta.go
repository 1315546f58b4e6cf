package shares

import (
	"os"
	"time"

	smb2 "github.com/cloudsoda/go-smb2"
)

// Metadata beyond times (issue 16 builds on these; robo's copy does not use
// them yet). Each runs after the directory checks of confine.go and opens
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
