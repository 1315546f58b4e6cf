//go:build windows

package shares

import (
	"context"
	"fmt"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	modmpr                     = windows.NewLazySystemDLL("mpr.dll")
	procWNetAddConnection2W    = modmpr.NewProc("WNetAddConnection2W")
	procWNetCancelConnection2W = modmpr.NewProc("WNetCancelConnection2W")
)

// netResource is NETRESOURCEW.
type netResource struct {
	Scope       uint32
	Type        uint32
	DisplayType uint32
	Usage       uint32
	LocalName   *uint16
	RemoteName  *uint16
	Comment     *uint16
	Provider    *uint16
}

const (
	resourcetypeDisk = 0x1
	connectTemporary = 0x4

	errorAccessDenied              = 5
	errorBadNetpath                = 53
	errorBadNetName                = 67
	errorInvalidPassword           = 86
	errorNoNetOrBadPath            = 1203
	errorSessionCredentialConflict = 1219
	errorNoNetwork                 = 1222
	errorConnectionRefused         = 1225
	errorNetworkUnreachable        = 1231
	errorHostUnreachable           = 1232
	errorWrongPassword             = 1323
	errorLogonFailure              = 1326
	errorAccountRestriction        = 1327
	errorInvalidLogonHours         = 1328
	errorInvalidWorkstation        = 1329
	errorPasswordExpired           = 1330
	errorAccountDisabled           = 1331
	errorLogonTypeNotGranted       = 1385
	errorAccountLockedOut          = 1909
	errorNotConnected              = 2250
)

// Connect makes a temporary deviceless connection (no drive letter) to the
// share of unc with creds, so that the local file system API reaches
// \\server\share paths as that account. The connection is not remembered
// across logons (CONNECT_TEMPORARY). Disconnect undoes it; it is idempotent.
// With an empty creds.User the current logon's credentials are used.
func Connect(ctx context.Context, unc UNC, creds Credentials) (disconnect func() error, err error) {
	root := unc.ShareRoot().String()
	remote, err := windows.UTF16PtrFromString(root)
	if err != nil {
		return nil, fmt.Errorf("connect %s: %w", root, err)
	}
	var user, pass *uint16
	var passBuf []uint16
	if creds.User != "" {
		if user, err = windows.UTF16PtrFromString(creds.Name()); err != nil {
			return nil, fmt.Errorf("connect %s: user name: %w", root, err)
		}
		passBuf, err = windows.UTF16FromString(string(creds.Password))
		if err != nil {
			return nil, fmt.Errorf("connect %s as %s: the password contains a NUL character", root, creds.Name())
		}
		pass = &passBuf[0]
	}
	nr := &netResource{Type: resourcetypeDisk, RemoteName: remote}
	type result struct{ code uintptr }
	done := make(chan result, 1)
	go func() {
		r, _, _ := procWNetAddConnection2W.Call(uintptr(unsafe.Pointer(nr)), uintptr(unsafe.Pointer(pass)), uintptr(unsafe.Pointer(user)), connectTemporary)
		clear(passBuf)
		done <- result{r}
	}()
	cancel := func() error {
		r, _, _ := procWNetCancelConnection2W.Call(uintptr(unsafe.Pointer(remote)), 0, 0)
		if r != 0 && r != errorNotConnected {
			return fmt.Errorf("disconnect %s: %w", root, syscall.Errno(r))
		}
		return nil
	}
	var res result
	select {
	case res = <-done:
	case <-ctx.Done():
		go func() {
			// Undo a connection that succeeds after the caller gave up.
			if r := <-done; r.code == 0 {
				cancel()
			}
		}()
		return nil, fmt.Errorf("connect %s as %s: %w", root, creds.Name(), ctx.Err())
	}
	if res.code != 0 {
		return nil, connectError(unc, creds, syscall.Errno(res.code))
	}
	var once sync.Once
	var cerr error
	return func() error {
		once.Do(func() { cerr = cancel() })
		return cerr
	}, nil
}

func connectError(unc UNC, creds Credentials, errno syscall.Errno) error {
	t := Target{Server: unc.Server, Share: unc.Share}
	root := unc.ShareRoot().String()
	who := "the current user"
	if creds.User != "" {
		who = "user " + creds.Name()
	}
	e := &DialError{Target: t, User: creds.Name(), Err: errno}
	switch errno {
	case errorSessionCredentialConflict:
		e.msg = fmt.Sprintf(`cannot connect to %s as %s: another connection to \\%s uses other credentials, and Windows allows one set of credentials per server and logon session. `+
			"Close it with `net use %s /delete` (see `net use` for the list), or use the same account for every share on that server", root, who, unc.Server, root)
		return e
	case errorLogonFailure, errorInvalidPassword, errorWrongPassword:
		e.Reason = ErrLogonFailure
		e.msg = fmt.Sprintf("logon to %s as %s failed: unknown user name or bad password", unc.Server, who)
	case errorAccountDisabled, errorAccountLockedOut, errorAccountRestriction, errorPasswordExpired, errorInvalidLogonHours, errorInvalidWorkstation, errorLogonTypeNotGranted:
		e.Reason = ErrLogonFailure
		e.msg = fmt.Sprintf("logon to %s as %s failed: %v", unc.Server, who, errno)
	case errorBadNetName:
		e.Reason = ErrNoSuchShare
		e.msg = fmt.Sprintf("server %s has no share named %q", unc.Server, unc.Share)
	case errorAccessDenied:
		e.Reason = ErrAccessDenied
		e.msg = fmt.Sprintf("%s is denied access to %s", who, root)
	case errorBadNetpath, errorNoNetOrBadPath, errorNetworkUnreachable, errorHostUnreachable, errorConnectionRefused, errorNoNetwork:
		e.Reason = ErrUnreachable
		e.msg = fmt.Sprintf("cannot reach %s: %v", root, errno)
	default:
		e.msg = fmt.Sprintf("connecting to %s as %s: %v", root, who, errno)
	}
	e.msg = creds.redact(e.msg)
	return e
}
