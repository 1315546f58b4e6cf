package snapshot

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// The policies of a backup block's snapshot attribute (schema.Snapshot*).
const (
	Never    = "never"
	Auto     = "auto"
	Required = "required"
)

// The kinds of snapshot.
const (
	KindBtrfs = "btrfs"
	KindLVM   = "lvm"
	KindZFS   = "zfs"
	KindAPFS  = "apfs"
	KindVSS   = "vss"
)

// Snapshot is one snapshot robo took, as its registry record says.
type Snapshot struct {
	Kind string `json:"kind"`
	// Name is robo's name for it (robo-YYYYMMDDTHHMMSS-RANDOM), the name
	// of its registry record.
	Name string `json:"name"`
	// ID names the snapshot where the system names it: the btrfs
	// subvolume's or LV's name (Name), the ZFS snapshot (dataset@Name),
	// the APFS snapshot's date, the VSS snapshot's GUID (known once it
	// was created).
	ID      string    `json:"id"`
	Created time.Time `json:"created"`
	// Volume is the live directory the snapshot is of: the btrfs
	// subvolume's root, the mount point of the LV, dataset or APFS volume,
	// the Windows volume's root (C:\).
	Volume string `json:"volume"`
	// Root is where the snapshot's copy of Volume is read.
	Root string `json:"root"`
	// Device is what removal needs besides ID: the btrfs parent directory,
	// the LV's vg/lv, the origin dataset, the snapshot's device path
	// (\\?\GLOBALROOT\Device\HarddiskVolumeShadowCopyN).
	Device string `json:"device,omitempty"`
	// Mount is a directory robo mounted the snapshot on (LVM, APFS) and
	// removes afterwards.
	Mount string `json:"mount,omitempty"`
	// Link is the directory symbolic link to the snapshot that robocopy
	// reads through on Windows, removed afterwards.
	Link string `json:"link,omitempty"`
	// PID and Host say which robo process took it.
	PID  int    `json:"pid"`
	Host string `json:"host,omitempty"`
}

// Describe is a one-line description for logs and messages.
func (s *Snapshot) Describe() string {
	return fmt.Sprintf("%s snapshot %s of %s", s.Kind, s.ID, s.Volume)
}

// UnsupportedError says a source's volume cannot be snapshotted here.
type UnsupportedError struct {
	Source string
	// FSType is the file system type found ("ext4", "tmpfs", "nfs", ...).
	FSType string
	// Why says what is missing or what would work.
	Why string
}

func (e *UnsupportedError) Error() string {
	t := e.FSType
	if t == "" {
		t = "unknown"
	}
	return fmt.Sprintf("source %s is on a file system of type %s, which robo cannot snapshot: %s", e.Source, t, e.Why)
}

// What works, per OS, for the messages of an UnsupportedError.
const supportedLinux = "robo takes snapshots of btrfs subvolumes, LVM thin volumes and ZFS datasets"

// volume is a snapshottable volume found under a source.
type volume struct {
	kind string
	// key is the same for every source on the volume (one snapshot each).
	key string
	// root is the live directory the snapshot is of; rel maps beneath it.
	root string
	// fsType is the file system type (for messages and mount options).
	fsType string
	// source is the configured source; resolved is it with its links
	// resolved, which lies under root.
	source, resolved string
	// extra is per-kind data (the LV's vg/lv, the dataset, the mount's
	// root within its file system).
	extra map[string]string
}

// provider takes and removes one kind of snapshot.
type provider interface {
	// prepare fills in rec (ID, Root, Device, Mount) for v without
	// changing anything, so that the record can be written first.
	prepare(v *volume, rec *Snapshot) error
	// create takes the snapshot rec describes; it may complete rec (the
	// VSS device path is known only afterwards).
	create(ctx context.Context, v *volume, rec *Snapshot) error
	// remove deletes the snapshot, and what robo made for it (mount
	// point, link). It MUST succeed when the snapshot is already gone, so
	// that a record whose snapshot was never created or already removed
	// is cleared.
	remove(rec *Snapshot) error
}

// providers by kind; filled per OS.
var providers = map[string]provider{}

// Lease is how a set reads its source: from a snapshot, or live.
type Lease struct {
	// Snapshot is nil when the set is copied live.
	Snapshot *Snapshot
	// Path is the source path to read: inside the snapshot, or the live
	// source.
	Path string
	// LinkPath is Path through the snapshot's directory link (Windows:
	// what robocopy is given), or "".
	LinkPath string
	// ExcludeDirs are directories the snapshot shows that are robo's own
	// (the btrfs snapshot directory at a subvolume's root).
	ExcludeDirs []string
	// Live says why a set with snapshot = "auto" is copied live.
	Live string
}

// Events are told what a Manager did; any may be nil.
type Events struct {
	Created func(s *Snapshot, set string)
	Removed func(s *Snapshot)
	// Failed is told about a snapshot that could not be removed (its
	// record stays for the next Cleanup).
	Failed func(s *Snapshot, err error)
}

// Manager takes the snapshots of one run: one per volume, shared by every
// set on it, removed when the last set that holds it releases it or at
// Close. It is safe for concurrent use.
type Manager struct {
	dir    string
	events Events

	mu     sync.Mutex
	byKey  map[string]*held
	bySet  map[string]*setHold
	closed bool
}

// setHold is one set's hold on a snapshot.
type setHold struct {
	h     *held
	lease *Lease
}

type held struct {
	snap *Snapshot
	vol  *volume
	reg  *record
	refs int
}

// NewManager returns a Manager whose registry is dir (usually
// STATE_DIR/snapshots).
func NewManager(dir string, ev Events) *Manager {
	return &Manager{dir: dir, events: ev, byKey: map[string]*held{}, bySet: map[string]*setHold{}}
}

// RegistryDir is the registry's directory for a state file.
func RegistryDir(stateFile string) string {
	return filepath.Join(filepath.Dir(stateFile), "snapshots")
}

// Acquire returns where set reads source from under policy. A set that
// holds a lease already gets the same one (a plan's scan and the apply
// that follows read the same snapshot). With Auto, a volume that cannot
// be snapshotted (or whose snapshot fails) gives a live lease saying why;
// with Required it is an error (wrapping an *UnsupportedError when the
// volume cannot be snapshotted).
func (m *Manager) Acquire(ctx context.Context, set, source, policy string) (*Lease, error) {
	if policy == Never || policy == "" {
		return &Lease{Path: source}, nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, errors.New("snapshot manager is closed")
	}
	if sh := m.bySet[set]; sh != nil {
		return sh.lease, nil
	}
	v, err := detect(source)
	if err != nil {
		if policy == Auto {
			return &Lease{Path: source, Live: err.Error()}, nil
		}
		return nil, fmt.Errorf("snapshot = %q: %w", policy, err)
	}
	h := m.byKey[v.key]
	if h == nil {
		if h, err = m.take(ctx, v, set); err != nil {
			if policy == Auto {
				return &Lease{Path: source, Live: err.Error()}, nil
			}
			return nil, fmt.Errorf("snapshot = %q: %w", policy, err)
		}
		m.byKey[v.key] = h
	}
	l, err := leaseOf(v, h.snap)
	if err != nil {
		if h.refs == 0 {
			delete(m.byKey, v.key)
			m.remove(h)
		}
		return nil, err
	}
	h.refs++
	m.bySet[set] = &setHold{h: h, lease: l}
	return l, nil
}

// leaseOf maps v's source into snap.
func leaseOf(v *volume, snap *Snapshot) (*Lease, error) {
	rel, err := relUnder(v.root, v.resolved)
	if err != nil {
		return nil, err
	}
	l := &Lease{Snapshot: snap, Path: joinUnder(snap.Root, rel)}
	if snap.Link != "" {
		l.LinkPath = snap.Link
		if rel != "." {
			l.LinkPath = filepath.Join(snap.Link, rel)
		}
	}
	if h := v.extra["hidden"]; h != "" && rel == "." {
		// The snapshot shows the directory that holds the snapshots (an
		// empty directory): it is not the admin's data.
		l.ExcludeDirs = []string{h}
	}
	return l, nil
}

// take records and creates a snapshot of v.
func (m *Manager) take(ctx context.Context, v *volume, set string) (*held, error) {
	prov := providers[v.kind]
	if prov == nil {
		return nil, fmt.Errorf("no %s snapshot support in this build", v.kind)
	}
	host, _ := os.Hostname()
	name := newName()
	rec := &Snapshot{Kind: v.kind, Name: name, ID: name, Created: time.Now().UTC().Truncate(time.Second), Volume: v.root, PID: os.Getpid(), Host: host}
	if v.extra == nil {
		v.extra = map[string]string{}
	}
	// Mounts go beside the registry, in directories only robo can enter.
	v.extra["registry"] = m.dir
	if err := prov.prepare(v, rec); err != nil {
		return nil, err
	}
	reg, err := register(m.dir, rec)
	if err != nil {
		return nil, err
	}
	if err := prov.create(ctx, v, rec); err != nil {
		// What create left half done goes with the record.
		if rerr := prov.remove(rec); rerr == nil {
			reg.drop()
		} else {
			reg.release()
		}
		return nil, err
	}
	if err := reg.update(rec); err != nil {
		prov.remove(rec)
		reg.drop()
		return nil, err
	}
	if m.events.Created != nil {
		m.events.Created(rec, set)
	}
	return &held{snap: rec, vol: v, reg: reg}, nil
}

// Release ends set's hold on its snapshot; the snapshot is removed when no
// set holds it. Releasing a set that holds nothing does nothing.
func (m *Manager) Release(set string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	sh := m.bySet[set]
	if sh == nil {
		return nil
	}
	h := sh.h
	delete(m.bySet, set)
	h.refs--
	if h.refs > 0 {
		return nil
	}
	delete(m.byKey, h.vol.key)
	return m.remove(h)
}

func (m *Manager) remove(h *held) error {
	if err := providers[h.snap.Kind].remove(h.snap); err != nil {
		err = fmt.Errorf("cannot remove the %s: %w (it is removed on robo's next start)", h.snap.Describe(), err)
		h.reg.release()
		if m.events.Failed != nil {
			m.events.Failed(h.snap, err)
		}
		return err
	}
	h.reg.drop()
	if m.events.Removed != nil {
		m.events.Removed(h.snap)
	}
	return nil
}

// Close removes every snapshot still held. It is safe to call twice.
func (m *Manager) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	var errs []error
	for k, h := range m.byKey {
		delete(m.byKey, k)
		if err := m.remove(h); err != nil {
			errs = append(errs, err)
		}
	}
	clear(m.bySet)
	return errors.Join(errs...)
}

// Held returns the snapshots held now.
func (m *Manager) Held() []*Snapshot {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []*Snapshot
	for _, h := range m.byKey {
		out = append(out, h.snap)
	}
	return out
}

// joinUnder is rel beneath root. A \\?\ root (a VSS device path) is
// joined as it is: cleaning would take its GLOBALROOT form apart.
func joinUnder(root, rel string) string {
	switch {
	case rel == ".":
		return root
	case strings.HasPrefix(root, `\\?\`):
		return strings.TrimRight(root, `\`) + `\` + rel
	}
	return filepath.Join(root, rel)
}

// relUnder is p relative to root, which must contain it.
func relUnder(root, p string) (string, error) {
	rel, err := filepath.Rel(root, p)
	if err != nil || rel == ".." || strings.HasPrefix(rel, ".."+string(filepath.Separator)) || filepath.IsAbs(rel) {
		return "", fmt.Errorf("source %s does not lie under the snapshotted volume %s", p, root)
	}
	return rel, nil
}

// newName is a fresh snapshot name: robo-YYYYMMDDTHHMMSS-RANDOM.
func newName() string {
	var b [4]byte
	rand.Read(b[:])
	return "robo-" + time.Now().UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b[:])
}
