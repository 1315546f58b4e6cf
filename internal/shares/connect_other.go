//go:build !windows

package shares

import (
	"context"
	"fmt"
	"runtime"
)

// Connect makes a temporary deviceless connection to a share on Windows
// (see connect_windows.go). Elsewhere the OS cannot reach UNC paths: use
// Dial (or a Pool) and the vfs.FS it returns instead.
func Connect(ctx context.Context, unc UNC, creds Credentials) (disconnect func() error, err error) {
	return nil, fmt.Errorf("connect %s: Windows network connections do not exist on %s; robo reaches shares there with its own SMB client (shares.Dial)", unc.ShareRoot(), runtime.GOOS)
}
