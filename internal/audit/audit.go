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
	"sort"
	"strconv"
	"strings"
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

// Rotation defaults: the trail file is rotated before an append would make
// it larger than DefaultMaxSize, and DefaultKeep rotated files are kept.
const (
	DefaultMaxSize = 10 << 20
	DefaultKeep    = 10
)

// Log appends to one trail. It is safe for concurrent use, and several
// processes may append to the same trail (an OS lock serializes them).
//
// The trail is the file at its path and the rotated files beside it,
// named after the sequence number of their first entry
// (audit.jsonl -> audit-000000004213.jsonl), so that a name never changes
// once written and the names sort in the trail's order. The first entry of
// a new file chains to the last entry of the file before it.
type Log struct {
	path string
	mu   sync.Mutex
	now  func() time.Time
	user string
	host string
	// MaxSize is the size in bytes past which the file is rotated (0: never).
	MaxSize int64
	// Keep is how many rotated files are kept; older ones are removed
	// (0: all are kept).
	Keep int
}

// Open returns the trail at path; the file is created on first append.
func Open(path string) *Log {
	host, _ := os.Hostname()
	name := "unknown"
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return &Log{path: path, now: time.Now, user: name, host: host, MaxSize: DefaultMaxSize, Keep: DefaultKeep}
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
	if err := os.MkdirAll(filepath.Dir(l.path), 0o700); err != nil {
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
	defer func() { f.Close() }()
	last, err := lastEntry(f)
	if err != nil {
		return fmt.Errorf("audit trail %s: %w", l.path, err)
	}
	if last == nil {
		// An empty file after a rotation (or a crash just after one)
		// continues the newest rotated file.
		if last, err = l.lastRotated(); err != nil {
			return fmt.Errorf("audit trail %s: %w", l.path, err)
		}
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
	var rotErr error
	if fi, err := f.Stat(); err == nil && l.MaxSize > 0 && fi.Size() > 0 && fi.Size()+int64(len(b))+1 > l.MaxSize {
		// A rotation that fails is reported, but the entry is still
		// written (to the file it would have left).
		var nf *os.File
		if nf, rotErr = l.rotate(f); nf == nil {
			return fmt.Errorf("audit trail %s: rotate: %w", l.path, rotErr)
		}
		f = nf
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("audit trail %s: %w", l.path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("audit trail %s: %w", l.path, err)
	}
	if rotErr != nil {
		return fmt.Errorf("audit trail %s: the entry was written, but the rotation failed: %w", l.path, rotErr)
	}
	return nil
}

// rotate renames the full trail file after its first entry, opens a new
// one and removes the rotated files beyond Keep. It is called under the
// trail's lock and returns the file to append to (nil only when there is
// none), with any error.
func (l *Log) rotate(f *os.File) (*os.File, error) {
	first, err := firstEntry(f)
	if err != nil {
		return f, err
	}
	if err := f.Sync(); err != nil {
		return f, err
	}
	f.Close()
	if err := os.Rename(l.path, rotatedName(l.path, first.Seq)); err != nil {
		// Still append to the current file (a reader on Windows can hold
		// it open); the next append tries again.
		nf, oerr := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
		if oerr != nil {
			return nil, err
		}
		return nf, err
	}
	nf, err := os.OpenFile(l.path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	syncDir(filepath.Dir(l.path))
	if l.Keep > 0 {
		rotated, err := Rotated(l.path)
		if err != nil {
			return nf, err
		}
		for len(rotated) > l.Keep {
			if err := os.Remove(rotated[0]); err != nil {
				return nf, err
			}
			rotated = rotated[1:]
		}
	}
	return nf, nil
}

// syncDir makes a rename durable where the OS allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

// rotatedName is the name of a rotated file whose first entry is seq.
func rotatedName(path string, seq uint64) string {
	return fmt.Sprintf("%s-%012d%s", strings.TrimSuffix(path, filepath.Ext(path)), seq, filepath.Ext(path))
}

// Rotated lists the rotated files of the trail at path, oldest first.
func Rotated(path string) ([]string, error) {
	ext := filepath.Ext(path)
	prefix := filepath.Base(strings.TrimSuffix(path, ext)) + "-"
	entries, err := os.ReadDir(filepath.Dir(path))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, d := range entries {
		n := d.Name()
		digits, ok := strings.CutPrefix(n, prefix)
		if !ok || !strings.HasSuffix(digits, ext) || !d.Type().IsRegular() {
			continue
		}
		digits = strings.TrimSuffix(digits, ext)
		if _, err := strconv.ParseUint(digits, 10, 64); err != nil || len(digits) != 12 {
			continue
		}
		out = append(out, filepath.Join(filepath.Dir(path), n))
	}
	sort.Strings(out) // fixed-width numbers: name order is trail order
	return out, nil
}

// lastRotated is the last entry of the newest rotated file, or nil.
func (l *Log) lastRotated() (*Entry, error) {
	rotated, err := Rotated(l.path)
	if err != nil || len(rotated) == 0 {
		return nil, err
	}
	f, err := os.Open(rotated[len(rotated)-1])
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return lastEntry(f)
}

// firstEntry reads the first line of the file.
func firstEntry(f *os.File) (*Entry, error) {
	line, err := bufio.NewReader(io.NewSectionReader(f, 0, 1<<30)).ReadBytes('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	var e Entry
	if err := json.Unmarshal(line, &e); err != nil {
		return nil, fmt.Errorf("the first entry is not valid JSON: %w (robo audit verify says more)", err)
	}
	return &e, nil
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
	// File is the trail file's name (its base name), set when the trail
	// spans several files.
	File   string `json:"file,omitempty"`
	Line   int    `json:"line"`
	Seq    uint64 `json:"seq,omitempty"`
	Reason string `json:"reason"`
}

func (p Problem) String() string {
	if p.File != "" {
		return fmt.Sprintf("%s line %d: %s", p.File, p.Line, p.Reason)
	}
	return fmt.Sprintf("line %d: %s", p.Line, p.Reason)
}

// Report is the outcome of Verify.
type Report struct {
	Entries int    `json:"entries"`
	Head    string `json:"head,omitempty"`
	// Files are the files verified, oldest first (rotated ones, then the
	// current one).
	Files []string `json:"files"`
	// FirstSeq is the first entry's sequence number: above 1 when older
	// rotated files were removed (Log.Keep).
	FirstSeq uint64    `json:"first_seq,omitempty"`
	Problems []Problem `json:"problems"`
}

// OK reports whether the trail is intact.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Verify reads the whole trail, its rotated files (oldest first) and then
// the file at path, and checks every entry's hash, its link to the
// previous entry, across files too, and its sequence number. A missing
// file is an empty, intact trail. Only the oldest rotated file may start
// after entry 1: the files before it were removed by rotation.
func Verify(path string) (*Report, error) {
	rotated, err := Rotated(path)
	if err != nil {
		return nil, err
	}
	r := &Report{Problems: []Problem{}, Files: []string{}}
	files := append(rotated, path)
	var prev *Entry
	for i, p := range files {
		f, err := os.Open(p)
		if errors.Is(err, os.ErrNotExist) && i == len(files)-1 {
			break // a crash between a rotation and the next append
		}
		if err != nil {
			return nil, err
		}
		r.Files = append(r.Files, p)
		name := ""
		if len(files) > 1 {
			name = filepath.Base(p)
		}
		prev, err = verifyFile(f, name, i == 0 && len(rotated) > 0, prev, r)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
	}
	if prev != nil {
		r.Head = prev.Hash
	}
	return r, nil
}

// verifyFile checks one file of the trail, continuing from prev, the last
// entry of the file before it. mayStartLate is set for the oldest of
// several files, which rotation may have left starting after entry 1.
func verifyFile(f *os.File, name string, mayStartLate bool, prev *Entry, r *Report) (*Entry, error) {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	first := prev == nil
	for line := 1; sc.Scan(); line++ {
		problem := func(seq uint64, format string, args ...any) {
			r.Problems = append(r.Problems, Problem{File: name, Line: line, Seq: seq, Reason: fmt.Sprintf(format, args...)})
		}
		var e Entry
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			problem(0, "not a valid entry (%s)", err)
			prev, first = nil, false
			continue
		}
		r.Entries++
		if r.FirstSeq == 0 {
			r.FirstSeq = e.Seq
		}
		if e.hash() != e.Hash {
			problem(e.Seq, "entry %d was edited: its hash does not match its content", e.Seq)
		}
		switch {
		case first && mayStartLate && line == 1:
			// The files before this one were rotated out.
		case first && line == 1 && (e.Seq != 1 || e.Prev != ""):
			problem(e.Seq, "the trail starts at entry %d: the entries before it were removed", e.Seq)
		case prev != nil && e.Prev != prev.Hash && e.Seq == prev.Seq+1:
			problem(e.Seq, "entry %d does not follow entry %d: the entry before it was changed or replaced", e.Seq, prev.Seq)
		case prev != nil && e.Seq > prev.Seq+1:
			problem(e.Seq, "entries %d to %d are missing (removed)", prev.Seq+1, e.Seq-1)
		case prev != nil && e.Seq <= prev.Seq:
			problem(e.Seq, "entry %d comes after entry %d: entries were reordered or duplicated", e.Seq, prev.Seq)
		}
		ec := e
		prev, first = &ec, false
	}
	return prev, sc.Err()
}
