package snapshot

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Volume Shadow Copy, driven through the VSS COM API from Go without cgo:
// VssApi.dll's CreateVssBackupComponents gives an IVssBackupComponents,
// whose methods are called through its vtable with syscall.SyscallN (the
// way restic's internal/fs/vss_windows.go does it; written anew here).
//
// The sequence is a backup requester's: InitializeForBackup, SetContext
// (VSS_CTX_BACKUP: writers take part, the snapshot is non-persistent and
// auto-released), SetBackupState (a copy backup: writers keep their own
// backup history), GatherWriterMetadata, StartSnapshotSet,
// AddToSnapshotSet, PrepareForBackup, DoSnapshotSet (the writers, SQL
// Server and Exchange among them, flush and hold their writes for it),
// GetSnapshotProperties for the snapshot's device path
// \\?\GLOBALROOT\Device\HarddiskVolumeShadowCopyN; after the run
// BackupComplete, DeleteSnapshots and Release. Because the snapshot is
// auto-released, Windows deletes it too when the process ends, even when
// it is killed; the registry record still lets the next run remove the
// directory link and report it.
//
// robocopy.exe is given the snapshot through a directory symbolic link
// (registry\link\NAME -> DEVICE\), since it does not take GLOBALROOT
// source paths; the native engine reads the device path itself.
//
// Only a Windows host with the VSS service can run this: under Wine (the
// project's CI) the volume detection, path mapping and the errors when VSS
// is unavailable are tested; the rest is not (docs/snapshots.md).

func init() { providers[KindVSS] = vssProvider{} }

// HRESULTs and constants of vss.h and vsbackup.h.
const (
	sOK                    = 0
	sFalse                 = 1
	eAccessDenied          = 0x80070005
	rpcETooLate            = 0x80010119
	vssEObjectNotFound     = 0x80042308
	vssEBadState           = 0x80042301
	vssESnapshotInProgress = 0x80042316
	vssEVolumeNotSupported = 0x8004230C
	vssSAsyncPending       = 0x00042309
	vssSAsyncFinished      = 0x0004230A
	vssSAsyncCancelled     = 0x0004230B

	vssCtxBackup = 0
	vssCtxAll    = 0xffffffff
	vssBtCopy    = 5

	vssObjectSnapshot = 3

	coinitMultithreaded = 0
)

// Vtable slots of IVssBackupComponents (vsbackup.h order, after
// IUnknown's three) and IVssAsync.
const (
	slotRelease               = 2
	slotInitializeForBackup   = 5
	slotSetBackupState        = 6
	slotGatherWriterMetadata  = 9
	slotPrepareForBackup      = 14
	slotAbortBackup           = 15
	slotBackupComplete        = 27
	slotSetContext            = 35
	slotStartSnapshotSet      = 36
	slotAddToSnapshotSet      = 37
	slotDoSnapshotSet         = 38
	slotDeleteSnapshots       = 39
	slotGetSnapshotProperties = 42

	slotAsyncCancel      = 3
	slotAsyncWait        = 4
	slotAsyncQueryStatus = 5
)

// vssTimeout bounds each asynchronous VSS step (writers may take long to
// freeze; Windows itself gives them 60 s to flush).
const vssTimeout = 10 * time.Minute

var (
	vssapi = windows.NewLazySystemDLL("VssApi.dll")
	ole32  = windows.NewLazySystemDLL("ole32.dll")

	procCoInitializeEx       = ole32.NewProc("CoInitializeEx")
	procCoInitializeSecurity = ole32.NewProc("CoInitializeSecurity")
)

// createName is CreateVssBackupComponents's C++ export name.
func createName() string {
	if runtime.GOARCH == "386" {
		return "?CreateVssBackupComponents@@YGJPAPAVIVssBackupComponents@@@Z"
	}
	return "?CreateVssBackupComponents@@YAJPEAPEAVIVssBackupComponents@@@Z"
}

// hresultError is a failed VSS call.
type hresultError struct {
	call string
	hr   uint32
}

func (e *hresultError) Error() string {
	var what string
	switch e.hr {
	case eAccessDenied:
		what = ": access denied (robo must run elevated, as an administrator or SYSTEM, with the backup privilege)"
	case vssEBadState:
		what = ": VSS_E_BAD_STATE"
	case vssESnapshotInProgress:
		what = ": another snapshot is being created (VSS_E_SNAPSHOT_SET_IN_PROGRESS)"
	case vssEVolumeNotSupported:
		what = ": the volume does not support shadow copies (VSS_E_VOLUME_NOT_SUPPORTED)"
	case vssEObjectNotFound:
		what = ": not found (VSS_E_OBJECT_NOT_FOUND)"
	}
	return fmt.Sprintf("VSS %s failed with HRESULT 0x%08X%s", e.call, e.hr, what)
}

func check(call string, r uintptr) error {
	if hr := uint32(r); hr != sOK {
		return &hresultError{call: call, hr: hr}
	}
	return nil
}

// comObject is a COM interface pointer: its first word is the vtable.
type comObject struct{ vtbl *[64]uintptr }

func (o *comObject) call(slot int, args ...uintptr) uintptr {
	r, _, _ := syscall.SyscallN(o.vtbl[slot], append([]uintptr{uintptr(unsafe.Pointer(o))}, args...)...)
	return r
}

func (o *comObject) release() { o.call(slotRelease) }

// guidArgs passes a GUID by value, as each ABI does: by reference to a
// copy on amd64, in two registers on arm64, in four stack words on 386.
func guidArgs(g *windows.GUID) []uintptr {
	switch runtime.GOARCH {
	case "arm64":
		w := (*[2]uint64)(unsafe.Pointer(g))
		return []uintptr{uintptr(w[0]), uintptr(w[1])}
	case "386":
		w := (*[4]uint32)(unsafe.Pointer(g))
		return []uintptr{uintptr(w[0]), uintptr(w[1]), uintptr(w[2]), uintptr(w[3])}
	}
	c := *g
	return []uintptr{uintptr(unsafe.Pointer(&c))}
}

// wait waits for an IVssAsync and releases it.
func wait(call string, async *comObject, r uintptr) error {
	if err := check(call, r); err != nil {
		return err
	}
	if async == nil {
		return fmt.Errorf("VSS %s returned no operation to wait for", call)
	}
	defer async.release()
	if err := check(call+" (wait)", async.call(slotAsyncWait, uintptr(uint32(vssTimeout/time.Millisecond)))); err != nil {
		async.call(slotAsyncCancel)
		return err
	}
	var status uint32
	if err := check(call+" (status)", async.call(slotAsyncQueryStatus, uintptr(unsafe.Pointer(&status)), 0)); err != nil {
		return err
	}
	switch status {
	case vssSAsyncFinished, sOK:
		return nil
	case vssSAsyncPending:
		async.call(slotAsyncCancel)
		return fmt.Errorf("VSS %s did not finish within %s", call, vssTimeout)
	case vssSAsyncCancelled:
		return fmt.Errorf("VSS %s was cancelled", call)
	}
	return &hresultError{call: call, hr: status}
}

// vssSnapshotProp is VSS_SNAPSHOT_PROP.
type vssSnapshotProp struct {
	SnapshotID           windows.GUID
	SnapshotSetID        windows.GUID
	SnapshotsCount       int32
	SnapshotDeviceObject *uint16
	OriginalVolumeName   *uint16
	OriginatingMachine   *uint16
	ServiceMachine       *uint16
	ExposedName          *uint16
	ExposedPath          *uint16
	ProviderID           windows.GUID
	SnapshotAttributes   int32
	CreationTimestamp    int64
	Status               int32
}

// comInit joins the process's multithreaded apartment on this thread.
func comInit() error {
	if err := procCoInitializeEx.Find(); err != nil {
		return fmt.Errorf("VSS is not available on this host: %v", err)
	}
	r, _, _ := procCoInitializeEx.Call(0, coinitMultithreaded)
	if hr := uint32(r); hr != sOK && hr != sFalse {
		return &hresultError{call: "CoInitializeEx", hr: hr}
	}
	// RPC_C_AUTHN_LEVEL_PKT_PRIVACY, RPC_C_IMP_LEVEL_IMPERSONATE,
	// EOAC_STATIC_CLOAKING, as VSS requesters need; a process that set it
	// already (RPC_E_TOO_LATE) keeps its own.
	r, _, _ = procCoInitializeSecurity.Call(0, ^uintptr(0), 0, 0, 6, 3, 0, 0x20, 0)
	if hr := uint32(r); hr != sOK && hr != rpcETooLate {
		return &hresultError{call: "CoInitializeSecurity", hr: hr}
	}
	return nil
}

// privileged checks that robo can ask for a snapshot: elevated, with the
// backup privilege (enabled here; it is held but disabled by default).
func privileged() error {
	tok := windows.GetCurrentProcessToken()
	if !tok.IsElevated() {
		return errors.New("robo is not elevated: VSS snapshots need robo to run as an administrator (an elevated prompt) or as SYSTEM (the service)")
	}
	var t windows.Token
	if err := windows.OpenProcessToken(windows.CurrentProcess(), windows.TOKEN_ADJUST_PRIVILEGES|windows.TOKEN_QUERY, &t); err != nil {
		return fmt.Errorf("cannot open robo's process token: %w", err)
	}
	defer t.Close()
	var luid windows.LUID
	name, _ := windows.UTF16PtrFromString("SeBackupPrivilege")
	if err := windows.LookupPrivilegeValue(nil, name, &luid); err != nil {
		return fmt.Errorf("cannot look up SeBackupPrivilege: %w", err)
	}
	tp := windows.Tokenprivileges{PrivilegeCount: 1}
	tp.Privileges[0] = windows.LUIDAndAttributes{Luid: luid, Attributes: windows.SE_PRIVILEGE_ENABLED}
	err := windows.AdjustTokenPrivileges(t, false, &tp, 0, nil, nil)
	if errors.Is(err, windows.ERROR_NOT_ALL_ASSIGNED) {
		return errors.New("robo lacks the backup privilege (SeBackupPrivilege): run it as an administrator or SYSTEM, or grant its account \"Back up files and directories\"")
	}
	if err != nil {
		return fmt.Errorf("cannot enable SeBackupPrivilege: %w", err)
	}
	return nil
}

// newComponents makes an IVssBackupComponents initialised for backup in
// context ctx.
func newComponents(vssCtx uint32) (*comObject, error) {
	create := vssapi.NewProc(createName())
	if err := create.Find(); err != nil {
		return nil, fmt.Errorf("VSS is not available on this host (%v)", err)
	}
	if err := comInit(); err != nil {
		return nil, err
	}
	var c *comObject
	r, _, _ := create.Call(uintptr(unsafe.Pointer(&c)))
	if err := check("CreateVssBackupComponents", r); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("VSS CreateVssBackupComponents returned nothing")
	}
	if err := check("InitializeForBackup", c.call(slotInitializeForBackup, 0)); err != nil {
		c.release()
		return nil, err
	}
	if err := check("SetContext", c.call(slotSetContext, uintptr(vssCtx))); err != nil {
		c.release()
		return nil, err
	}
	return c, nil
}

// live are the snapshots this process holds, by robo's name.
var live = struct {
	sync.Mutex
	m map[string]*comObject
}{m: map[string]*comObject{}}

func detect(source string) (*volume, error) {
	if strings.HasPrefix(source, `\\`) && !strings.HasPrefix(source, `\\?\`) {
		return nil, &UnsupportedError{Source: source, FSType: "SMB", Why: "VSS snapshots local volumes only; take the snapshot on the file server, or set snapshot = \"auto\" to copy it live"}
	}
	p, err := filepath.EvalSymlinks(source)
	if err != nil {
		return nil, &UnsupportedError{Source: source, Why: fmt.Sprintf("it cannot be read (%v)", err)}
	}
	p16, err := windows.UTF16PtrFromString(p)
	if err != nil {
		return nil, err
	}
	buf := make([]uint16, windows.MAX_PATH+1)
	if err := windows.GetVolumePathName(p16, &buf[0], uint32(len(buf))); err != nil {
		return nil, &UnsupportedError{Source: source, Why: fmt.Sprintf("its volume cannot be found (%v)", err)}
	}
	root := windows.UTF16ToString(buf)
	root16, _ := windows.UTF16PtrFromString(root)
	fsName := make([]uint16, windows.MAX_PATH+1)
	if err := windows.GetVolumeInformation(root16, nil, 0, nil, nil, nil, &fsName[0], uint32(len(fsName))); err != nil {
		return nil, &UnsupportedError{Source: source, Why: fmt.Sprintf("its volume %s cannot be read (%v)", root, err)}
	}
	fsType := windows.UTF16ToString(fsName)
	if !strings.EqualFold(fsType, "NTFS") && !strings.EqualFold(fsType, "ReFS") {
		return nil, &UnsupportedError{Source: source, FSType: fsType, Why: "VSS snapshots NTFS and ReFS volumes; put the source on one, or set snapshot = \"auto\" to copy it live"}
	}
	key := root
	guid := make([]uint16, 64)
	if windows.GetVolumeNameForVolumeMountPoint(root16, &guid[0], uint32(len(guid))) == nil {
		key = windows.UTF16ToString(guid)
	}
	return &volume{kind: KindVSS, key: "vss:" + strings.ToLower(key), root: root, fsType: fsType, source: source, resolved: p,
		extra: map[string]string{"volume": key}}, nil
}

type vssProvider struct{}

func (vssProvider) prepare(v *volume, rec *Snapshot) error {
	rec.ID = "" // the snapshot's GUID, once it exists
	rec.Link = filepath.Join(v.extra["registry"], "link", rec.Name)
	return nil
}

func (vssProvider) create(_ context.Context, v *volume, rec *Snapshot) error {
	if runtime.GOARCH == "386" {
		if is64, _ := isWow64(); is64 {
			return errors.New("a 32-bit robo cannot take VSS snapshots on 64-bit Windows: use the 64-bit build")
		}
	}
	if err := privileged(); err != nil {
		return err
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c, err := newComponents(vssCtxBackup)
	if err != nil {
		return err
	}
	ok := false
	defer func() {
		if !ok {
			c.call(slotAbortBackup)
			c.release()
		}
	}()
	// Not selecting components, no bootable system state, a copy backup,
	// no partial files.
	if err := check("SetBackupState", c.call(slotSetBackupState, 0, 0, vssBtCopy, 0)); err != nil {
		return err
	}
	var async *comObject
	if err := wait("GatherWriterMetadata", async, c.call(slotGatherWriterMetadata, uintptr(unsafe.Pointer(&async)))); err != nil {
		return err
	}
	var setID, snapID windows.GUID
	if err := check("StartSnapshotSet", c.call(slotStartSnapshotSet, uintptr(unsafe.Pointer(&setID)))); err != nil {
		return err
	}
	vol16, err := windows.UTF16PtrFromString(v.extra["volume"])
	if err != nil {
		return err
	}
	var null windows.GUID // the system's choice of provider
	args := append([]uintptr{uintptr(unsafe.Pointer(vol16))}, guidArgs(&null)...)
	args = append(args, uintptr(unsafe.Pointer(&snapID)))
	if err := check("AddToSnapshotSet", c.call(slotAddToSnapshotSet, args...)); err != nil {
		return err
	}
	async = nil
	if err := wait("PrepareForBackup", async, c.call(slotPrepareForBackup, uintptr(unsafe.Pointer(&async)))); err != nil {
		return err
	}
	async = nil
	if err := wait("DoSnapshotSet", async, c.call(slotDoSnapshotSet, uintptr(unsafe.Pointer(&async)))); err != nil {
		return err
	}
	rec.ID = snapID.String()
	var prop vssSnapshotProp
	args = append(guidArgs(&snapID), uintptr(unsafe.Pointer(&prop)))
	if err := check("GetSnapshotProperties", c.call(slotGetSnapshotProperties, args...)); err != nil {
		deleteSnapshot(c, &snapID)
		return err
	}
	rec.Device = windows.UTF16PtrToString(prop.SnapshotDeviceObject)
	freeProp(&prop)
	if !strings.HasPrefix(rec.Device, `\\?\GLOBALROOT\Device\`) {
		deleteSnapshot(c, &snapID)
		return fmt.Errorf("VSS gave the snapshot an unexpected device path %q", rec.Device)
	}
	rec.Root = rec.Device
	live.Lock()
	live.m[rec.Name] = c
	live.Unlock()
	ok = true
	if err := os.MkdirAll(filepath.Dir(rec.Link), 0o700); err != nil {
		return err
	}
	link16, _ := windows.UTF16PtrFromString(rec.Link)
	target16, _ := windows.UTF16PtrFromString(rec.Device + `\`)
	if err := windows.CreateSymbolicLink(link16, target16, windows.SYMBOLIC_LINK_FLAG_DIRECTORY); err != nil {
		return fmt.Errorf("cannot make the directory link %s to the snapshot %s: %w", rec.Link, rec.Device, err)
	}
	return nil
}

func freeProp(p *vssSnapshotProp) {
	if f := vssapi.NewProc("VssFreeSnapshotProperties"); f.Find() == nil {
		f.Call(uintptr(unsafe.Pointer(p)))
	}
}

// deleteSnapshot deletes one snapshot; one already gone is not an error.
func deleteSnapshot(c *comObject, id *windows.GUID) error {
	var deleted int32
	var nondeleted windows.GUID
	args := append(guidArgs(id), vssObjectSnapshot, 1, uintptr(unsafe.Pointer(&deleted)), uintptr(unsafe.Pointer(&nondeleted)))
	r := c.call(slotDeleteSnapshots, args...)
	if uint32(r) == vssEObjectNotFound {
		return nil
	}
	return check("DeleteSnapshots", r)
}

func (vssProvider) remove(rec *Snapshot) error {
	var errs []error
	if rec.Link != "" {
		if fi, err := os.Lstat(rec.Link); err == nil {
			if fi.Mode()&os.ModeSymlink == 0 {
				errs = append(errs, fmt.Errorf("%s is not robo's link to a snapshot: left alone", rec.Link))
			} else if err := os.Remove(rec.Link); err != nil {
				errs = append(errs, err)
			}
		}
	}
	live.Lock()
	c := live.m[rec.Name]
	delete(live.m, rec.Name)
	live.Unlock()
	if rec.ID == "" && c == nil {
		return errors.Join(errs...) // never created
	}
	id, err := windows.GUIDFromString(rec.ID)
	if err != nil {
		return errors.Join(append(errs, fmt.Errorf("VSS snapshot ID %q: %w", rec.ID, err))...)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if c != nil {
		// Writers are told the backup is over, then the snapshot goes.
		var async *comObject
		if err := wait("BackupComplete", async, c.call(slotBackupComplete, uintptr(unsafe.Pointer(&async)))); err != nil {
			errs = append(errs, err)
		}
		if err := deleteSnapshot(c, &id); err != nil {
			errs = append(errs, err)
		}
		c.release()
		return errors.Join(errs...)
	}
	// Another process's snapshot (a leftover): auto-released snapshots
	// went with that process; anything left is deleted.
	c, err = newComponents(vssCtxAll)
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	defer c.release()
	if err := deleteSnapshot(c, &id); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

func isWow64() (bool, error) {
	var b bool
	err := windows.IsWow64Process(windows.CurrentProcess(), &b)
	return b, err
}
