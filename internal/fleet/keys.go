package fleet

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/robo-backup/robo/internal/secrets"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/schema"
)

// MaxKeyFile is the largest published key file read: a recipient line and
// a few comment lines.
const MaxKeyFile = 4 << 10

// KeyFile is the name of host's published key in a key folder.
func KeyFile(host string) string { return host + ".txt" }

// KeyFileContent is what PublishKey writes: a comment saying whose key it
// is and when it was published, and the recipient line.
func KeyFileContent(host, recipient string, now time.Time) []byte {
	return fmt.Appendf(nil, "# robo host key of %s, published %s\n%s\n", host, now.UTC().Format(time.RFC3339), recipient)
}

// PublishKey makes KeyFile(host) in directory dir of fsys hold recipient
// (an age1... public key). It writes only when the file is missing or holds
// another key, atomically (WriteFile), and reports whether it wrote.
func PublishKey(ctx context.Context, fsys vfs.FS, dir, host, recipient string, now time.Time) (bool, error) {
	if !schema.ValidHostName(host) {
		return false, fmt.Errorf("%q cannot name a key file", host)
	}
	if cur, err := readKeyFile(fsys, dir, vfs.Entry{Name: KeyFile(host), Kind: vfs.File}); err == nil && cur == recipient {
		return false, nil
	}
	if err := WriteFile(ctx, fsys, dir, KeyFile(host), KeyFileContent(host, recipient, now)); err != nil {
		return false, err
	}
	return true, nil
}

// PublishedKey is a valid key file: a host and its recipient.
type PublishedKey struct {
	Host      string
	File      string
	Recipient string
}

// KeyProblem is a key folder entry that is not a valid key file. File is
// as listed: show it with safetext.Name.
type KeyProblem struct {
	File   string
	Reason string
	// Host is set when the file name is a valid host name (the host's
	// published key is unusable, rather than the file being foreign).
	Host string
}

// ReadKeys reads every HOST.txt in directory dir of fsys. Every file is
// hostile: its name must be a valid host name plus .txt, it must be a
// regular file of at most MaxKeyFile bytes of UTF-8 text, and hold exactly
// one line besides blank lines and # comments: an age X25519 recipient
// (age1...). Names starting with "." (writers' temporary files) are
// skipped. Two files for the same host (names differing in case) are both
// refused. Keys are sorted by host; an error means the folder could not be
// listed.
func ReadKeys(fsys vfs.FS, dir string) ([]PublishedKey, []KeyProblem, error) {
	ents, err := fsys.ReadDir(dir)
	if err != nil {
		return nil, nil, fmt.Errorf("list %s: %w", display(fsys, dir), err)
	}
	var keys []PublishedKey
	var probs []KeyProblem
	byHost := map[string][]int{}
	for _, e := range ents {
		if strings.HasPrefix(e.Name, ".") {
			continue
		}
		host, isTxt := strings.CutSuffix(e.Name, ".txt")
		switch {
		case !isTxt:
			probs = append(probs, KeyProblem{File: e.Name, Reason: "not a key file (HOST.txt)"})
			continue
		case !schema.ValidHostName(host):
			probs = append(probs, KeyProblem{File: e.Name, Reason: "the name is not a valid host name"})
			continue
		}
		rec, err := readKeyFile(fsys, dir, e)
		if err != nil {
			probs = append(probs, KeyProblem{File: e.Name, Host: host, Reason: err.Error()})
			continue
		}
		k := strings.ToLower(host)
		byHost[k] = append(byHost[k], len(keys))
		keys = append(keys, PublishedKey{Host: host, File: e.Name, Recipient: rec})
	}
	var out []PublishedKey
	for _, k := range keys {
		if idx := byHost[strings.ToLower(k.Host)]; len(idx) > 1 {
			probs = append(probs, KeyProblem{File: k.File, Host: k.Host, Reason: "another file names the same host (host names are not case-sensitive)"})
			continue
		}
		out = append(out, k)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Host < out[j].Host })
	sort.Slice(probs, func(i, j int) bool { return probs[i].File < probs[j].File })
	return out, probs, nil
}

var errNotRegular = errors.New("not a regular file")

func readKeyFile(fsys vfs.FS, dir string, e vfs.Entry) (string, error) {
	name := vfs.Join(dir, e.Name)
	if e.Kind != vfs.File {
		return "", errNotRegular
	}
	if e.Size > MaxKeyFile {
		return "", fmt.Errorf("larger than %d bytes", MaxKeyFile)
	}
	f, err := fsys.Open(name)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		return "", fmt.Errorf("cannot read: %v", err)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxKeyFile+1))
	f.Close()
	if err != nil {
		return "", fmt.Errorf("cannot read: %v", err)
	}
	return ParseKeyFile(b)
}

// ParseKeyFile returns the recipient of a key file's content, or why it is
// not a key file. Errors never quote the content.
func ParseKeyFile(b []byte) (string, error) {
	if len(b) > MaxKeyFile {
		return "", fmt.Errorf("larger than %d bytes", MaxKeyFile)
	}
	if !utf8.Valid(b) || bytes.IndexByte(b, 0) >= 0 {
		return "", errors.New("not UTF-8 text")
	}
	var rec string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSuffix(line, "\r")
		t := strings.TrimSpace(line)
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		if rec != "" {
			return "", errors.New("more than one key line")
		}
		rec = t
	}
	if rec == "" {
		return "", errors.New("no key line")
	}
	if !strings.HasPrefix(rec, "age1") || strings.HasPrefix(rec, "age1pq1") {
		if strings.HasPrefix(rec, "AGE-SECRET-KEY-") {
			return "", errors.New("holds a private key (an age identity), not a public key: delete it and create a new identity on that host")
		}
		return "", errors.New("the key line is not an age X25519 public key (age1...)")
	}
	r, err := secrets.ParseRecipient(rec)
	if err != nil {
		return "", err
	}
	return r.Text, nil
}
