package secrets

import (
	"io/fs"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// checkPrivate does not check Windows ACLs: the mode bits Go reports there
// say nothing about who can read a file. GenerateIdentity creates identity
// files with a protected ACL; keep them in %ProgramData%\robo or another
// directory only administrators can read.
func checkPrivate(string, fs.FileInfo) error { return nil }

// privateSDDL grants full control to SYSTEM, Administrators and the file's
// owner, and nothing to anyone else; P stops the directory's ACL (which for
// %ProgramData% lets every user read) from being inherited.
const privateSDDL = "D:P(A;;FA;;;SY)(A;;FA;;;BA)(A;;FA;;;OW)"

// createPrivate creates a new file that only SYSTEM, Administrators and its
// owner can open.
func createPrivate(path string) (*os.File, error) {
	sd, err := windows.SecurityDescriptorFromString(privateSDDL)
	if err != nil {
		return nil, err
	}
	sa := &windows.SecurityAttributes{Length: uint32(unsafe.Sizeof(windows.SecurityAttributes{})), SecurityDescriptor: sd}
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_WRITE, 0, sa, windows.CREATE_NEW, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		if err == windows.ERROR_FILE_EXISTS {
			return nil, &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		}
		return nil, &fs.PathError{Op: "create", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// syncDir is a no-op on Windows, where directories cannot be fsynced.
func syncDir(string) {}
