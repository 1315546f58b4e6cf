package secrets

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"filippo.io/age"
	"filippo.io/age/agessh"
	"golang.org/x/crypto/ssh"
)

// EnvIdentity names the environment variable that points at an identity file.
const EnvIdentity = "ROBO_AGE_IDENTITY"

// DefaultIdentityPath is where a host keeps its identity when neither
// -identity, ROBO_AGE_IDENTITY nor robo { identity } names one:
// %ProgramData%\robo\identity.txt on Windows, /etc/robo/identity.txt elsewhere.
func DefaultIdentityPath() string { return defaultIdentityPath(runtime.GOOS, os.Getenv) }

func defaultIdentityPath(goos string, getenv func(string) string) string {
	if goos == "windows" {
		pd := getenv("ProgramData")
		if pd == "" {
			pd = `C:\ProgramData`
		}
		return strings.TrimRight(pd, `\/`) + `\robo\identity.txt`
	}
	return "/etc/robo/identity.txt"
}

// IdentityLocation is an identity file path and where robo found it, for
// messages ("-identity", "ROBO_AGE_IDENTITY", "robo { identity }" or
// "the default location").
type IdentityLocation struct {
	Path string
	From string
}

// FindIdentity applies the lookup order: the -identity flag, then the
// ROBO_AGE_IDENTITY environment variable, then the robo block's identity,
// then DefaultIdentityPath. Empty arguments are skipped. It does not check
// that the file exists.
func FindIdentity(flag, env, configured string) IdentityLocation {
	switch {
	case flag != "":
		return IdentityLocation{flag, "-identity"}
	case env != "":
		return IdentityLocation{env, EnvIdentity}
	case configured != "":
		return IdentityLocation{configured, "robo { identity }"}
	}
	return IdentityLocation{DefaultIdentityPath(), "the default location"}
}

// ErrNoIdentityFile is wrapped by LoadIdentity when the file does not exist.
var ErrNoIdentityFile = errors.New("identity file not found")

// PermissionError is returned by LoadIdentity for an identity file that
// other users can access.
type PermissionError struct {
	Path string
	Mode fs.FileMode
}

func (e *PermissionError) Error() string {
	return fmt.Sprintf("identity file %s is accessible by other users (mode %04o): refusing to use a private key others can read", e.Path, e.Mode.Perm())
}

// Hint says how to fix it.
func (e *PermissionError) Hint() string { return "chmod 600 " + e.Path }

// sshIdentity is an SSH private key used as an age identity, with the
// public key it decrypts for.
type sshIdentity struct {
	age.Identity
	recipient string
}

// LoadIdentity reads an identity file: age identities (AGE-SECRET-KEY-1...,
// one per line, # comments, as written by age-keygen and robo secret keygen)
// or an unencrypted OpenSSH ed25519 or RSA private key. On Unix a file that
// its group or other users can access is refused (PermissionError).
func LoadIdentity(path string) ([]age.Identity, error) {
	fi, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s does not exist", ErrNoIdentityFile, path)
	}
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", err)
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("identity file %s is a directory", path)
	}
	if err := checkPrivate(path, fi); err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("identity file: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %w", path, err)
	}
	if bytes.Contains(b, []byte("-----BEGIN")) && bytes.Contains(b, []byte("PRIVATE KEY-----")) {
		id, err := parseSSHIdentity(b)
		if err != nil {
			return nil, fmt.Errorf("identity file %s: %w", path, err)
		}
		return []age.Identity{id}, nil
	}
	ids, err := age.ParseIdentities(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("identity file %s: %v (robo reads age identity files and unencrypted SSH private keys)", path, err)
	}
	return ids, nil
}

func parseSSHIdentity(pemBytes []byte) (age.Identity, error) {
	raw, err := ssh.ParseRawPrivateKey(pemBytes)
	var pm *ssh.PassphraseMissingError
	if errors.As(err, &pm) {
		return nil, errors.New("the SSH private key is protected by a passphrase, which robo cannot ask for when it runs unattended: create a host identity with robo secret keygen instead")
	}
	if err != nil {
		return nil, fmt.Errorf("not a usable SSH private key: %v", err)
	}
	signer, err := ssh.NewSignerFromKey(raw)
	if err != nil {
		return nil, fmt.Errorf("not a usable SSH private key: %v", err)
	}
	id, err := agessh.ParseIdentity(pemBytes)
	if err != nil {
		return nil, fmt.Errorf("not a usable SSH private key: %v", err)
	}
	return &sshIdentity{Identity: id, recipient: sshText(signer.PublicKey())}, nil
}

// recipientOf returns the canonical recipient text an identity decrypts
// for, or "" when it is not known.
func recipientOf(id age.Identity) string {
	switch id := id.(type) {
	case *age.X25519Identity:
		return id.Recipient().String()
	case *age.HybridIdentity:
		return id.Recipient().String()
	case *sshIdentity:
		return id.recipient
	}
	return ""
}

// Recipients returns the recipient texts of identities, for messages.
func Recipients(ids []age.Identity) []string {
	var out []string
	for _, id := range ids {
		if r := recipientOf(id); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// GenerateIdentity creates a new X25519 identity and writes it to path in
// age-keygen's format, creating the file exclusively (an existing file is
// never overwritten) and readable by its owner only: mode 0600 on Unix, a
// protected ACL for SYSTEM, Administrators and the owner on Windows. Parent
// directories are created (0700). It returns the public recipient.
func GenerateIdentity(path string) (string, error) {
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", fmt.Errorf("create identity file: %w", err)
	}
	f, err := createPrivate(path)
	if errors.Is(err, fs.ErrExist) {
		return "", fmt.Errorf("identity file %s already exists: robo never overwrites an identity (the secrets encrypted to it could no longer be read)", path)
	}
	if err != nil {
		return "", fmt.Errorf("create identity file: %w", err)
	}
	rec := id.Recipient().String()
	content := fmt.Sprintf("# created: %s\n# public key: %s\n%s\n", time.Now().UTC().Format(time.RFC3339), rec, id.String())
	_, err = f.WriteString(content)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return "", fmt.Errorf("write identity file %s: %w", path, err)
	}
	return rec, nil
}
