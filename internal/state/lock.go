package state

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

// LockInfo says who holds the state lock.
type LockInfo struct {
	PID       int       `json:"pid"`
	Host      string    `json:"host"`
	User      string    `json:"user"`
	Operation string    `json:"operation"`
	Since     time.Time `json:"since"`
}

func (li LockInfo) String() string {
	return fmt.Sprintf("%s (pid %d on %s, user %s, since %s)", li.Operation, li.PID, li.Host, li.User, li.Since.Format(time.RFC3339))
}

// CurrentLockInfo describes this process doing operation.
func CurrentLockInfo(operation string) LockInfo {
	host, _ := os.Hostname()
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return LockInfo{PID: os.Getpid(), Host: host, User: name, Operation: operation, Since: time.Now().UTC().Truncate(time.Second)}
}

// LockedError is returned when another process holds the lock.
type LockedError struct {
	Path   string
	Holder *LockInfo // nil when the holder did not say
}

func (e *LockedError) Error() string {
	if e.Holder == nil {
		return fmt.Sprintf("the state %s is locked by another robo process", e.Path)
	}
	return fmt.Sprintf("the state %s is locked by %s", e.Path, e.Holder)
}

// Lock is a held state lock.
type Lock struct {
	fl       *flock.Flock
	infoPath string
}

// LockPath is the lock file of the store.
func (st *Store) LockPath() string { return st.Path + ".lock" }

// InfoPath is the lock's holder file.
func (st *Store) InfoPath() string { return st.Path + ".lock.info" }

// Lock takes the exclusive lock. With a zero timeout it fails at once when
// the lock is held; otherwise it retries until the timeout or ctx ends.
// Contention is a *LockedError; any other error is the I/O failure (a full
// or read-only file system, a permission) with the path it happened on,
// never reported as contention.
func (st *Store) Lock(ctx context.Context, info LockInfo, timeout time.Duration) (*Lock, error) {
	if err := os.MkdirAll(filepath.Dir(st.Path), 0o700); err != nil {
		return nil, fmt.Errorf("lock %s: %w", st.LockPath(), err)
	}
	fl := flock.New(st.LockPath())
	var ok bool
	var err error
	if timeout <= 0 {
		ok, err = fl.TryLock()
	} else {
		c, cancel := context.WithTimeout(ctx, timeout)
		ok, err = fl.TryLockContext(c, 100*time.Millisecond)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			err = nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", st.LockPath(), err)
	}
	if !ok {
		return nil, &LockedError{Path: st.Path, Holder: st.Holder()}
	}
	b, _ := json.MarshalIndent(info, "", "  ")
	// The holder's description only helps a waiting process name it: it
	// need not survive a crash (the lock does not), so no fsync. Failing to
	// write it (a full disk) fails the lock: robo would not get far on a
	// file system that cannot take 200 bytes.
	if err := writeFile(st.InfoPath(), append(b, '\n'), false); err != nil {
		fl.Unlock()
		return nil, fmt.Errorf("lock %s: write the holder file: %w", st.LockPath(), err)
	}
	return &Lock{fl: fl, infoPath: st.InfoPath()}, nil
}

// LockSet takes the exclusive lock of one backup set, so that two robo
// processes (a watch and a hand-run apply) never converge the same set at
// once while each holds the state lock only briefly. Set names are safe
// file names (schema checks them).
func (st *Store) LockSet(ctx context.Context, name string, info LockInfo, timeout time.Duration) (*Lock, error) {
	sub := &Store{Path: filepath.Join(filepath.Dir(st.Path), "locks", name)}
	return sub.Lock(ctx, info, timeout)
}

// Holder reads who holds (or last held) the lock, or nil.
func (st *Store) Holder() *LockInfo {
	b, err := ReadFile(st.InfoPath())
	if err != nil {
		return nil
	}
	var li LockInfo
	if json.Unmarshal(b, &li) != nil {
		return nil
	}
	return &li
}

// Unlock releases the lock and removes the holder file.
func (l *Lock) Unlock() error {
	if l == nil || l.fl == nil {
		return nil
	}
	os.Remove(l.infoPath)
	err := l.fl.Unlock()
	l.fl = nil
	return err
}
