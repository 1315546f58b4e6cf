package shares

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"syscall"

	smb2 "github.com/cloudsoda/go-smb2"

	"github.com/robo-backup/robo/internal/vfs"
)

// Reasons a connection could not be made. A *DialError wraps one of them
// (test with errors.Is) together with the underlying error.
var (
	// ErrLogonFailure: the server refused the user name or the password
	// (SMB cannot tell which).
	ErrLogonFailure = errors.New("logon failure: unknown user name or bad password")
	// ErrNoSuchShare: the server has no share of that name.
	ErrNoSuchShare = errors.New("no such share")
	// ErrAccessDenied: logon worked but the user may not use the share. It
	// is also fs.ErrPermission.
	ErrAccessDenied = fmt.Errorf("access to the share denied: %w", fs.ErrPermission)
	// ErrUnreachable: nothing answered (connection refused, no route, host
	// name unknown).
	ErrUnreachable = errors.New("server unreachable")
	// ErrTimeout: the server did not answer in time.
	ErrTimeout = errors.New("timed out")
	// ErrClosed: the connection was closed with Close.
	ErrClosed = errors.New("SMB connection closed")
	// ErrSymlinksUnsupported: robo does not create or read symbolic links on
	// SMB shares. It is also errors.ErrUnsupported.
	ErrSymlinksUnsupported = fmt.Errorf("symbolic links are not supported on SMB shares: %w", errors.ErrUnsupported)
)

// DialError says why a connection to a share failed. Its text names the
// server, the share and the user, never the password.
type DialError struct {
	Target Target
	User   string
	// Reason is one of the Err* values above, or nil when unclassified.
	Reason error
	Err    error
	msg    string
}

func (e *DialError) Error() string { return e.msg }

// Unwrap returns the reason and the underlying error.
func (e *DialError) Unwrap() []error {
	var out []error
	if e.Reason != nil {
		out = append(out, e.Reason)
	}
	if e.Err != nil {
		out = append(out, e.Err)
	}
	return out
}

// NTSTATUS codes this package interprets.
const (
	statusLogonFailure          = 0xC000006D
	statusAccountRestriction    = 0xC000006E
	statusPasswordExpired       = 0xC0000071
	statusAccountDisabled       = 0xC0000072
	statusAccountLockedOut      = 0xC0000234
	statusPasswordMustChange    = 0xC0000224
	statusBadNetworkName        = 0xC00000CC
	statusNetworkNameDeleted    = 0xC00000C9
	statusUserSessionDeleted    = 0xC0000203
	statusNetworkSessionExpired = 0xC000035C
	statusDirectoryNotEmpty     = 0xC0000101
	statusObjectNameInvalid     = 0xC0000033
	statusNotADirectory         = 0xC0000103
	statusFileIsADirectory      = 0xC00000BA
	statusDiskFull              = 0xC000007F
	statusNotAReparsePoint      = 0xC0000275
	statusSharingViolation      = 0xC0000043
)

func status(err error) (uint32, bool) {
	var re *smb2.ResponseError
	if errors.As(err, &re) {
		return re.Code, true
	}
	return 0, false
}

// classifyDial turns an error of Dial or Mount into a DialError.
func classifyDial(t Target, creds *Credentials, stage string, err error) *DialError {
	e := &DialError{Target: t, User: creds.Name(), Err: err}
	where := t.String()
	who := "user " + creds.Name()
	var why string
	code, isStatus := status(err)
	var dnsErr *net.DNSError
	var netErr net.Error
	switch {
	case isStatus && code == statusLogonFailure:
		e.Reason = ErrLogonFailure
		why = fmt.Sprintf("logon to %s as %s failed: the server rejected the user name or the password (SMB does not say which)", t.Server, who)
	case isStatus && (code == statusAccountDisabled || code == statusAccountLockedOut || code == statusAccountRestriction ||
		code == statusPasswordExpired || code == statusPasswordMustChange):
		e.Reason = ErrLogonFailure
		why = fmt.Sprintf("logon to %s as %s failed: the account is disabled, locked out, restricted or its password expired (%v)", t.Server, who, err)
	case isStatus && code == statusBadNetworkName:
		e.Reason = ErrNoSuchShare
		why = fmt.Sprintf(`server %s has no share named %q (check the share part of \\server\share)`, t.Server, t.Share)
	case stage == "mount" && errors.Is(err, fs.ErrPermission):
		e.Reason = ErrAccessDenied
		why = fmt.Sprintf("%s may log on to %s but is denied access to share %s", who, t.Server, where)
	case errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &netErr) && netErr.Timeout()):
		e.Reason = ErrTimeout
		why = fmt.Sprintf("connecting to %s as %s timed out (no answer from %s)", where, who, t.addr())
	case errors.Is(err, context.Canceled):
		why = fmt.Sprintf("connecting to %s as %s was cancelled", where, who)
	case errors.As(err, &dnsErr):
		e.Reason = ErrUnreachable
		why = fmt.Sprintf("cannot resolve the server name %q of %s: %v", t.Server, where, dnsErr)
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Reason = ErrUnreachable
		why = fmt.Sprintf("%s refused the connection to port %d: no SMB server is listening there (is the server up, and is the port right?)", t.Server, t.port())
	case errors.Is(err, syscall.EHOSTUNREACH) || errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.ECONNRESET):
		e.Reason = ErrUnreachable
		why = fmt.Sprintf("cannot reach %s: %v", where, err)
	default:
		why = fmt.Sprintf("connecting to %s as %s: %v", where, who, err)
	}
	e.msg = creds.redact(why)
	return e
}

// permanent reports dial failures that retrying cannot fix, and that could
// lock an account out if repeated.
func permanent(err error) bool {
	return errors.Is(err, ErrLogonFailure) || errors.Is(err, ErrNoSuchShare) || errors.Is(err, ErrAccessDenied)
}

// needsRedial reports errors after which the session is unusable.
func needsRedial(err error) bool {
	var te *smb2.TransportError
	if errors.As(err, &te) {
		return true
	}
	if code, ok := status(err); ok {
		switch code {
		case statusNetworkNameDeleted, statusUserSessionDeleted, statusNetworkSessionExpired:
			return true
		}
	}
	return false
}

// LostError is a connection loss: the operation failed because the
// connection to the server broke, and it could not be re-established (or the
// retry on the new connection failed the same way). It is transient for
// robo's engine, which retries the change.
type LostError struct {
	Target Target
	// Err is what the operation saw; Redial is why reconnecting failed (nil
	// when it worked but the retry lost the connection again).
	Err, Redial error
}

func (e *LostError) Error() string {
	s := fmt.Sprintf("connection to %s lost (%v)", e.Target, e.Err)
	if errors.Is(e.Err, ErrStalled) {
		s = fmt.Sprintf("%s stopped answering: %v", e.Target, e.Err)
	}
	if e.Target.Name != "" {
		s = fmt.Sprintf("share %q: %s", e.Target.Name, s)
	}
	if e.Redial != nil {
		s += "; reconnecting failed: " + e.Redial.Error()
	}
	return s
}

// Is makes a server that stopped answering and could not be re-dialled
// vfs.ErrUnreachable, so the engine does not retry operations on it: the
// connection stays failed for the rest of the run (Conn.dead). A server
// that went away (a reset, a restart) is retried as before: it may be
// back before the retry.
func (e *LostError) Is(target error) bool {
	return target == vfs.ErrUnreachable && e.Redial != nil && errors.Is(e.Err, ErrStalled)
}

func (e *LostError) Unwrap() []error {
	out := []error{e.Err}
	if e.Redial != nil {
		out = append(out, e.Redial)
	}
	return out
}

// statusError keeps a server status the library did not translate and makes
// errors.Is work for the common ones.
type statusError struct {
	code uint32
	err  error
}

func (e *statusError) Error() string {
	switch e.code {
	case statusDirectoryNotEmpty:
		return "directory not empty"
	case statusObjectNameInvalid:
		return "the name is invalid on this share (SMB forbids \\ / : * ? \" < > | and some names; " + e.err.Error() + ")"
	case statusNotADirectory:
		return "not a directory"
	case statusFileIsADirectory:
		return "is a directory"
	case statusDiskFull:
		return "no space left on the share"
	case statusSharingViolation:
		return "the file is in use by another program on the server (sharing violation)"
	}
	return e.err.Error()
}

func (e *statusError) Unwrap() error { return e.err }

func (e *statusError) Is(target error) bool {
	switch e.code {
	case statusDirectoryNotEmpty:
		return target == syscall.ENOTEMPTY
	case statusObjectNameInvalid:
		return target == fs.ErrInvalid || target == syscall.EINVAL
	case statusNotADirectory:
		return target == syscall.ENOTDIR
	case statusFileIsADirectory:
		return target == syscall.EISDIR
	case statusDiskFull:
		return target == syscall.ENOSPC
	}
	return false
}

// inner strips go-smb2's own *PathError / *LinkError (whose path is the
// share-relative backslash name) and translates statuses.
func inner(err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	if code, ok := status(err); ok {
		return &statusError{code: code, err: err}
	}
	return err
}
