package audit

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"sync"
	"time"

	"github.com/gofrs/flock"
)

// Entry is one line of the trail.
type Entry struct {
	Seq    uint64            `json:"seq"`
	Time   time.Time         `json:"time"`
	Event  string            `json:"event"`
	User   string            `json:"user"`
	Host   string            `json:"host"`
	PID    int               `json:"pid"`
	Fields map[string]string `json:"fields,omitempty"`
	// Prev is the hash of the previous entry ("" for the first).
	Prev string `json:"prev"`
	// Hash is sha256 over the entry encoded with Hash empty.
	Hash string `json:"hash"`
}

// hash computes the entry's hash over its canonical encoding (encoding/json
// writes struct fields in order and map keys sorted).
func (e Entry) hash() string {
	e.Hash = ""
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

// Log appends to one trail file. It is safe for concurrent use, and
// several processes may append to the same file (an OS lock serializes
// them).
type Log struct {
	path string
	mu   sync.Mutex
	now  func() time.Time
	user string
	host string
}

// Open returns the trail at path; the file is created on first append.
func Open(path string) *Log {
	host, _ := os.Hostname()
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return &Log{path: path, now: time.Now, user: name, host: host}
}

// Path is the trail's file.
func (l *Log) Path() string { return l.path }

// Record appends one event. Fields must never hold a secret value.
func (l *Log) Record(event string, fields map[string]string) error {
	if l == nil {
		return nil
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(l.path), 0o755); err != nil {
		return fmt.Errorf("audit trail: %w", err)
	}
	fl := flock.New(l.path + ".lock")
	if err := fl.Lock(); err != nil {
		return fmt.Errorf("audit trail lock: %w", err)
	}
	defer fl.Unlock()
	f, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("audit trail: %w", err)
	}
	defer f.Close()
	last, err := lastEntry(f)
	if err != nil {
		return fmt.Errorf("audit trail %s: %w", l.path, err)
	}
	e := Entry{Time: l.now().UTC(), Event: event, User: l.user, Host: l.host, PID: os.Getpid(), Fields: fields}
	if last != nil {
		e.Seq, e.Prev = last.Seq+1, last.Hash
	} else {
		e.Seq = 1
	}
	e.Hash = e.hash()
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("audit trail %s: %w", l.path, err)
	}
	return f.Sync()
}

// lastEntry reads the last complete line of the file.
func lastEntry(f *os.File) (*Entry, error) {
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	if size == 0 {
		return nil, nil
	}
	const chunk = 64 << 10
	var buf []byte
	for off := size; off > 0; {
		n := int64(chunk)
		if off < n {
			n = off
		}
		off -= n
		b := make([]byte, n)
		if _, err := f.ReadAt(b, off); err != nil && !errors.Is(err, io.EOF) {
			return nil, err
		}
		buf = append(b, buf...)
		trimmed := bytes.TrimRight(buf, "\n")
		if i := bytes.LastIndexByte(trimmed, '\n'); i >= 0 || off == 0 {
			line := trimmed[i+1:]
			var e Entry
			if err := json.Unmarshal(line, &e); err != nil {
				return nil, fmt.Errorf("the last entry is not valid JSON: %w (robo audit verify says more)", err)
			}
			return &e, nil
		}
	}
	return nil, nil
}

// Problem is one inconsistency Verify found.
type Problem struct {
	Line   int    `json:"line"`
	Seq    uint64 `json:"seq,omitempty"`
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
}

// Report is the outcome of Verify.
type Report struct {
	Entries  int       `json:"entries"`
	Head     string    `json:"head,omitempty"`
	Problems []Problem `json:"problems"`
}

// OK reports whether the trail is intact.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify reads the whole trail and checks every entry's hash, its link to
// the previous entry and its sequence number. A missing file is an empty,
// intact trail.
func Verify(path string) (*Report, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return &Report{Problems: []Problem{}}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	r := &Report{Problems: []Problem{}}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var prev *Entry
	for line := 1; sc.Scan(); line++ {
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			r.Problems = append(r.Problems, Problem{Line: line, Reason: "not a valid entry (" + err.Error() + ")"})
			prev = nil
			continue
		}
		r.Entries++
		if e.hash() != e.Hash {
			r.Problems = append(r.Problems, Problem{Line: line, Seq: e.Seq, Reason: fmt.Sprintf("entry %d was edited: its hash does not match its content", e.Seq)})
		}
		switch {
		case prev == nil && line == 1 && (e.Seq != 1 || e.Prev != ""):
			r.Problems = append(r.Problems, Problem{Line: line, Seq: e.Seq, Reason: fmt.Sprintf("the trail starts at entry %d: the entries before it were removed", e.Seq)})
		case prev != nil && e.Prev != prev.Hash && e.Seq == prev.Seq+1:
			r.Problems = append(r.Problems, Problem{Line: line, Seq: e.Seq, Reason: fmt.Sprintf("entry %d does not follow entry %d: the entry before it was changed or replaced", e.Seq, prev.Seq)})
		case prev != nil && e.Seq > prev.Seq+1:
			r.Problems = append(r.Problems, Problem{Line: line, Seq: e.Seq, Reason: fmt.Sprintf("entries %d to %d are missing (removed)", prev.Seq+1, e.Seq-1)})
		case prev != nil && e.Seq <= prev.Seq:
			r.Problems = append(r.Problems, Problem{Line: line, Seq: e.Seq, Reason: fmt.Sprintf("entry %d comes after entry %d: entries were reordered or duplicated", e.Seq, prev.Seq)})
		}
		ec := e
		prev = &ec
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if prev != nil {
		r.Head = prev.Hash
	}
	return r, nil
}
