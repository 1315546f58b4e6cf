//go:build windows

package engine

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// openSpill makes a temporary file in dir that no other handle may open
// and that Windows deletes when its handle closes (FILE_FLAG_DELETE_ON_CLOSE),
// at the latest when robo exits, however it exits. Its ACL is the
// directory's inherited one (the state directory's).
func openSpill(dir string) (*os.File, error) {
	var tag [8]byte
	if _, err := rand.Read(tag[:]); err != nil {
		return nil, err
	}
	name := filepath.Join(dir, ".robo-changes-"+hex.EncodeToString(tag[:])+".tmp")
	p, err := windows.UTF16PtrFromString(name)
	if err != nil {
		return nil, err
	}
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, 0, nil, windows.CREATE_NEW,
		windows.FILE_ATTRIBUTE_TEMPORARY|windows.FILE_ATTRIBUTE_HIDDEN|windows.FILE_FLAG_DELETE_ON_CLOSE, 0)
	if err != nil {
		return nil, &os.PathError{Op: "create", Path: name, Err: err}
	}
	return os.NewFile(uintptr(h), name), nil
}
