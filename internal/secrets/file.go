package secrets

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/robo-backup/robo/schema"
)

// FormatVersion is the version of the secrets file format this package
// reads and writes.
const FormatVersion = 1

// MaxValueSize is the largest plaintext a secret may hold.
const MaxValueSize = 64 << 10

// File is a secrets file: a JSON document holding, per secret name, the
// recipients its value is encrypted to and the value as armored age
// ciphertext. Names and recipients are plain text so that a diff shows
// which secret changed and robo validate needs no key.
//
//	{
//	  "version": 1,
//	  "secrets": {
//	    "nas": {
//	      "recipients": ["age1..."],
//	      "value": "-----BEGIN AGE ENCRYPTED FILE-----\n...\n-----END AGE ENCRYPTED FILE-----\n"
//	    }
//	  }
//	}
//
// A File is not safe for concurrent use; Resolver is.
type File struct {
	// Path is where the file is read from and saved to.
	Path    string
	secrets map[string]*entry
	// hosts are the host recipients robo secret recipients sync recorded
	// (hosts.go), by host name.
	hosts map[string]string
}

type fileJSON struct {
	Version int               `json:"version"`
	Secrets map[string]*entry `json:"secrets"`
	// Hosts are the published host keys added by robo secret recipients
	// sync; values are encrypted to them as well as to robo { recipients }.
	Hosts map[string]string `json:"hosts,omitempty"`
}

type entry struct {
	// Recipients are the canonical texts of the recipients Value is
	// encrypted to, sorted. They are informational (age itself does not
	// record them); list and rekey use them.
	Recipients []string `json:"recipients"`
	Value      string   `json:"value"`
}

const armorHeader = "-----BEGIN AGE ENCRYPTED FILE-----"

// isWindows: Chmod there only sets the read-only attribute; failures are
// ignored.
const isWindows = runtime.GOOS == "windows"

// ErrNotFound matches (errors.Is) errors about a secret the file does not
// hold.
var ErrNotFound = errors.New("no such secret")

type notFoundError struct{ name, file string }

func (e *notFoundError) Error() string {
	return fmt.Sprintf("no secret named %q in %s", e.name, e.file)
}

func (e *notFoundError) Is(target error) bool { return target == ErrNotFound }

// Open reads a secrets file. A file that does not exist is an empty File
// (Save creates it). Open checks the format, the names and that each value
// is armored age ciphertext; it decrypts nothing.
func Open(path string) (*File, error) {
	f := &File{Path: path, secrets: map[string]*entry{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read secrets file: %w", err)
	}
	var doc fileJSON
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("secrets file %s is not valid: %v", path, err)
	}
	if doc.Version != FormatVersion {
		return nil, fmt.Errorf("secrets file %s has format version %d; this robo reads version %d", path, doc.Version, FormatVersion)
	}
	for name, e := range doc.Secrets {
		switch {
		case !ValidName(name):
			return nil, fmt.Errorf("secrets file %s is not valid: %q is not a valid secret name", path, name)
		case e == nil || !strings.HasPrefix(strings.TrimSpace(e.Value), armorHeader):
			return nil, fmt.Errorf("secrets file %s is not valid: the value of secret %q is not armored age ciphertext", path, name)
		}
		f.secrets[name] = e
	}
	if err := f.setHostsFromFile(doc.Hosts); err != nil {
		return nil, fmt.Errorf("secrets file %s is not valid: %v", path, err)
	}
	return f, nil
}

// Exists reports whether the secrets file at path holds name, decrypting
// nothing. A missing file holds no secrets. It is schema.Options.SecretExists.
func Exists(path, name string) (bool, error) {
	f, err := Open(path)
	if err != nil {
		return false, err
	}
	return f.Has(name), nil
}

// ValidName reports whether s is a valid secret name: the rule of every
// name in robo's configuration (schema.ValidName).
func ValidName(s string) bool { return schema.ValidName(s) }

// Names returns the secret names, sorted.
func (f *File) Names() []string {
	names := make([]string, 0, len(f.secrets))
	for n := range f.secrets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Has reports whether the file holds a secret named name.
func (f *File) Has(name string) bool {
	_, ok := f.secrets[name]
	return ok
}

// RecipientsOf returns the recipients the secret's value was encrypted to,
// as recorded.
func (f *File) RecipientsOf(name string) []string {
	if e, ok := f.secrets[name]; ok {
		return slices.Clone(e.Recipients)
	}
	return nil
}

// Stale reports whether the secret is not encrypted to exactly recipients.
func (f *File) Stale(name string, recipients []Recipient) bool {
	e, ok := f.secrets[name]
	return ok && !slices.Equal(e.Recipients, recipientTexts(recipients))
}

// Set encrypts plaintext to recipients and stores it as name, replacing any
// previous value. The caller saves.
func (f *File) Set(name string, plaintext []byte, recipients []Recipient) error {
	if !ValidName(name) {
		return fmt.Errorf("%q is not a valid secret name: use letters, digits, '-', '_' and '.', starting with a letter or digit", name)
	}
	if len(plaintext) == 0 {
		return fmt.Errorf("secret %q: the value is empty", name)
	}
	if len(plaintext) > MaxValueSize {
		return fmt.Errorf("secret %q: the value is longer than %d bytes", name, MaxValueSize)
	}
	if len(recipients) == 0 {
		return fmt.Errorf("secret %q: no recipients to encrypt to", name)
	}
	ct, err := encrypt(plaintext, recipients)
	if err != nil {
		return fmt.Errorf("secret %q: encrypt: %w", name, err)
	}
	f.secrets[name] = &entry{Recipients: recipientTexts(recipients), Value: ct}
	return nil
}

// SetCiphertext stores an armored age ciphertext made elsewhere (such as by
// age -a -r) as name. recipients are recorded as given.
func (f *File) SetCiphertext(name, armored string, recipients []string) error {
	if !ValidName(name) {
		return fmt.Errorf("%q is not a valid secret name", name)
	}
	if !strings.HasPrefix(strings.TrimSpace(armored), armorHeader) {
		return fmt.Errorf("secret %q: not armored age ciphertext", name)
	}
	rs := slices.Clone(recipients)
	sort.Strings(rs)
	f.secrets[name] = &entry{Recipients: rs, Value: armored}
	return nil
}

// Remove deletes a secret. The caller saves.
func (f *File) Remove(name string) error {
	if !f.Has(name) {
		return &notFoundError{name, f.Path}
	}
	delete(f.secrets, name)
	return nil
}

// DecryptError is returned by Decrypt. It names the secret and the file and
// never contains plaintext.
type DecryptError struct {
	Name string
	File string
	// WrongIdentity is set when none of the identities is a recipient of
	// the value; otherwise the ciphertext is damaged or was tampered with.
	WrongIdentity bool
	// Identities are the recipient texts of the identities tried.
	Identities []string
	// Recipients are those recorded for the value.
	Recipients []string
	Err        error
}

func (e *DecryptError) Error() string {
	if e.WrongIdentity {
		tried := "the identity given"
		if len(e.Identities) > 0 {
			tried = "the identity for " + strings.Join(e.Identities, ", ")
		}
		return fmt.Sprintf("secret %q in %s cannot be decrypted with %s: it is encrypted to %s", e.Name, e.File, tried, describe(e.Recipients))
	}
	return fmt.Sprintf("secret %q in %s is damaged or was tampered with: %v", e.Name, e.File, e.Err)
}

func (e *DecryptError) Unwrap() error { return e.Err }

func describe(rs []string) string {
	if len(rs) == 0 {
		return "recipients the file does not record"
	}
	return strings.Join(rs, ", ")
}

// Decrypt returns the plaintext of a secret. A missing name wraps
// ErrNotFound; a failure is a *DecryptError that tells a wrong identity
// from a damaged or tampered ciphertext.
func (f *File) Decrypt(name string, ids []age.Identity) ([]byte, error) {
	e, ok := f.secrets[name]
	if !ok {
		return nil, &notFoundError{name, f.Path}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("secret %q in %s: no identity to decrypt it with", name, f.Path)
	}
	pt, err := decrypt(e.Value, ids)
	if err == nil {
		return pt, nil
	}
	de := &DecryptError{Name: name, File: f.Path, Identities: Recipients(ids), Recipients: slices.Clone(e.Recipients), Err: err}
	var nm *age.NoIdentityMatchError
	if errors.As(err, &nm) {
		// If one of the identities is a recorded recipient, the stanza for
		// it no longer opens: the ciphertext was changed.
		de.WrongIdentity = true
		for _, r := range de.Identities {
			if slices.Contains(e.Recipients, r) {
				de.WrongIdentity = false
			}
		}
	}
	return nil, de
}

// Rekey re-encrypts every value to recipients, decrypting with ids. It
// decrypts all values before changing any, so a failure leaves the File as
// it was. The caller saves.
func (f *File) Rekey(ids []age.Identity, recipients []Recipient) error {
	if len(recipients) == 0 {
		return errors.New("no recipients to encrypt to")
	}
	names := f.Names()
	plain := make(map[string][]byte, len(names))
	defer func() {
		for _, p := range plain {
			clear(p)
		}
	}()
	for _, n := range names {
		p, err := f.Decrypt(n, ids)
		if err != nil {
			return err
		}
		plain[n] = p
	}
	next := make(map[string]*entry, len(names))
	for _, n := range names {
		ct, err := encrypt(plain[n], recipients)
		if err != nil {
			return fmt.Errorf("secret %q: encrypt: %w", n, err)
		}
		next[n] = &entry{Recipients: recipientTexts(recipients), Value: ct}
	}
	f.secrets = next
	return nil
}

// Save writes the file atomically: a temporary file beside it, fsync,
// rename, fsync of the directory. An existing file keeps its mode; a new one
// is 0644 (it holds only ciphertext and is meant to be committed).
func (f *File) Save() error {
	doc := fileJSON{Version: FormatVersion, Secrets: f.secrets, Hosts: f.hosts}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	mode := fs.FileMode(0o644)
	if fi, err := os.Stat(f.Path); err == nil {
		mode = fi.Mode().Perm()
	}
	if err := writeAtomic(f.Path, b, mode); err != nil {
		return fmt.Errorf("write secrets file: %w", err)
	}
	return nil
}

func writeAtomic(path string, b []byte, mode fs.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return err
	}
	name := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(name)
		}
	}()
	if _, err := tmp.Write(b); err != nil {
		return err
	}
	if err := tmp.Chmod(mode); err != nil && !isWindows {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(name, path); err != nil {
		return err
	}
	ok = true
	syncDir(dir)
	return nil
}

func encrypt(plaintext []byte, recipients []Recipient) (string, error) {
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, ageRecipients(recipients)...)
	if err != nil {
		return "", err
	}
	if _, err := w.Write(plaintext); err != nil {
		return "", err
	}
	if err := w.Close(); err != nil {
		return "", err
	}
	if err := aw.Close(); err != nil {
		return "", err
	}
	return buf.String(), nil
}

func decrypt(armored string, ids []age.Identity) ([]byte, error) {
	r, err := age.Decrypt(armor.NewReader(strings.NewReader(armored)), ids...)
	if err != nil {
		return nil, err
	}
	pt, err := io.ReadAll(io.LimitReader(r, MaxValueSize+1))
	if err != nil {
		clear(pt)
		return nil, err
	}
	if len(pt) > MaxValueSize {
		clear(pt)
		return nil, fmt.Errorf("the value is longer than %d bytes", MaxValueSize)
	}
	return pt, nil
}

func recipientTexts(rs []Recipient) []string {
	out := make([]string, 0, len(rs))
	for _, r := range rs {
		out = append(out, r.Text)
	}
	sort.Strings(out)
	return slices.Compact(out)
}
