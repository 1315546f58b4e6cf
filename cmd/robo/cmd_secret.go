package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"filippo.io/age"
	"golang.org/x/term"

	"github.com/robo-backup/robo/internal/secrets"
	"github.com/robo-backup/robo/schema"
)

func runSecret(e *env, args []string) error {
	return group{name: "secret", more: "See docs/secrets.md.", subs: []subcommand{
		{"keygen", "[-o FILE]", "create an identity; print its public key", runSecretKeygen, false},
		{"set", "NAME", "encrypt a value read from a prompt or standard input", runSecretSet, false},
		{"list", "", "print the secret names", runSecretList, false},
		{"rm", "NAME", "remove a secret", runSecretRm, false},
		{"rekey", "[-identity FILE]", "re-encrypt every value to the current recipients", runSecretRekey, false},
		{"recipients", "sync [DIR] | list", "add the hosts that published a key in DIR, drop those gone (sync); print the recipients (list)", runSecretRecipients, false},
	}}.run(e, args)
}

func runSecretKeygen(e *env, args []string) error {
	fs := newFlags(e, "secret keygen", "secret keygen [-o FILE]")
	out := fs.String("o", "", "write the identity to FILE (default: $"+secrets.EnvIdentity+", else "+secrets.DefaultIdentityPath()+")")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fatalf("robo secret keygen takes no arguments").hint("name the file with -o FILE")
	}
	path := e.path(*out)
	if path == "" {
		env, _ := e.lookupEnv(secrets.EnvIdentity)
		path = secrets.FindIdentity("", env, "").Path
	}
	rec, err := secrets.GenerateIdentity(path)
	if err != nil {
		return fatalf("%v", err)
	}
	e.printf("%s\n", rec)
	fmt.Fprintf(e.stderr, "robo: wrote a new identity to %s (readable by its owner only); keep it secret and back it up\n", path)
	if conf, _ := schema.ConfigFiles(e.dir); len(conf) > 0 && inside(path, e.dir) {
		fmt.Fprintf(e.stderr, "robo: warning: the identity is inside the configuration directory: never commit it; add %s to .gitignore or move it out\n", filepath.Base(path))
	}
	fmt.Fprintf(e.stderr, "robo: hint: add the public key above to robo { recipients }, then have someone who can read the secrets run robo secret rekey\n")
	return nil
}

// secretConfig loads the configuration for the secret commands. It does not
// require referenced secrets to exist (robo secret set is how they come to
// exist) and returns the secrets file.
func secretConfig(e *env, vars varFlags) (*schema.Config, *secrets.File, error) {
	opts := schemaOptions(e, vars)
	opts.SecretExists = nil
	cfg, diags := schema.Load(e.dir, opts)
	if len(diags) > 0 {
		printDiags(e.stderr, cfg.Files, diags)
	}
	if diags.HasErrors() {
		return nil, nil, exitErr(exitError)
	}
	f, err := openSecrets(cfg)
	return cfg, f, err
}

func openSecrets(cfg *schema.Config) (*secrets.File, error) {
	p := cfg.Settings.SecretsFile
	if !filepath.IsAbs(p) {
		return nil, fatalf("secrets_file %s is not a path on this host", p).
			hint("this configuration is for Windows hosts; set robo { secrets_file } to a local path to use it here")
	}
	f, err := secrets.Open(p)
	if err != nil {
		return nil, fatalf("%v", err).hint("restore it from version control; every value in it is encrypted, so git history is a safe backup")
	}
	return f, nil
}

// recipients parses the configured recipients, refusing an empty list, and
// adds the host recipients the secrets file records (robo secret
// recipients sync).
func recipients(cfg *schema.Config, f *secrets.File) ([]secrets.Recipient, error) {
	if len(cfg.Settings.Recipients) == 0 {
		return nil, fatalf("the configuration lists no recipients to encrypt secrets to").
			hint(`add robo { recipients = ["age1..."] } with the public key of every host and admin that must read secrets (robo secret keygen prints one)`)
	}
	rs, err := secrets.ParseRecipients(cfg.Settings.Recipients)
	if err != nil {
		return nil, fatalf("robo { recipients }: %v", err)
	}
	return f.WithHosts(rs), nil
}

// shown is the secrets file as messages name it: relative to the
// configuration directory when inside it.
func shown(cfg *schema.Config, f *secrets.File) string {
	if rel, err := filepath.Rel(cfg.Dir, f.Path); err == nil && inside(f.Path, cfg.Dir) {
		return rel
	}
	return f.Path
}

func oneName(fs interface{ Args() []string }, cmd string) (string, error) {
	args := fs.Args()
	if len(args) != 1 {
		return "", fatalf("robo secret %s takes one secret name, got %d arguments", cmd, len(args))
	}
	if !secrets.ValidName(args[0]) {
		return "", fatalf("%q is not a valid secret name", args[0]).hint("use letters, digits, '-', '_' and '.', starting with a letter or digit")
	}
	return args[0], nil
}

func runSecretSet(e *env, args []string) error {
	fs := newFlags(e, "secret set", "secret set [-var name=value]... NAME  (the value is read from a prompt or standard input)")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		// Do not echo the extra arguments: one of them may be the value.
		return fatalf("robo secret set takes only a name: the value is read from a prompt or standard input, never from an argument").
			hint("an argument is visible to every user in the process list and stays in the shell history; pipe the value instead: robo secret set NAME < FILE")
	}
	name, err := oneName(fs, "set")
	if err != nil {
		return err
	}
	cfg, f, err := secretConfig(e, vars)
	if err != nil {
		return err
	}
	rs, err := recipients(cfg, f)
	if err != nil {
		return err
	}
	value, err := readSecretValue(e, name)
	if err != nil {
		return err
	}
	defer clear(value)
	existed := f.Has(name)
	if err := f.Set(name, value, rs); err != nil {
		return fatalf("%v", err)
	}
	if err := f.Save(); err != nil {
		return fatalf("%v", err)
	}
	e.startAudit(cfg)
	e.record("secret.set", map[string]string{"name": name, "recipients": fmt.Sprint(len(rs))})
	verb := "Added"
	if existed {
		verb = "Replaced"
	}
	e.printf("%s secret %q in %s, encrypted to %d %s.\n", verb, name, shown(cfg, f), len(rs), pluralWord(len(rs), "recipient", "recipients"))
	return nil
}

// readSecretValue reads a value from standard input when it is not a
// terminal (one trailing newline removed), else from two prompts without
// echo. The value is never printed.
func readSecretValue(e *env, name string) ([]byte, error) {
	if f, ok := e.stdin.(*os.File); ok && e.interactive {
		fd := int(f.Fd())
		fmt.Fprintf(e.stderr, "Value for secret %q: ", name)
		v1, err := term.ReadPassword(fd)
		fmt.Fprintln(e.stderr)
		if err != nil {
			return nil, fatalf("read the value: %v", err)
		}
		fmt.Fprintf(e.stderr, "Repeat the value: ")
		v2, err := term.ReadPassword(fd)
		fmt.Fprintln(e.stderr)
		defer clear(v2)
		if err != nil {
			clear(v1)
			return nil, fatalf("read the value: %v", err)
		}
		if !bytes.Equal(v1, v2) {
			clear(v1)
			return nil, fatalf("the two values differ; nothing was changed")
		}
		if len(v1) == 0 {
			return nil, fatalf("the value for secret %q is empty; nothing was changed", name)
		}
		return v1, nil
	}
	v, err := io.ReadAll(io.LimitReader(e.stdin, secrets.MaxValueSize+3))
	if err != nil {
		clear(v)
		return nil, fatalf("read the value from standard input: %v", err)
	}
	switch {
	case bytes.HasSuffix(v, []byte("\r\n")):
		v = v[:len(v)-2]
	case bytes.HasSuffix(v, []byte("\n")):
		v = v[:len(v)-1]
	}
	if len(v) > secrets.MaxValueSize {
		clear(v)
		return nil, fatalf("the value for secret %q is longer than %d bytes", name, secrets.MaxValueSize)
	}
	if len(v) == 0 {
		return nil, fatalf("the value for secret %q is empty; nothing was changed", name).
			hint("robo reads the value from standard input when it is not a terminal: robo secret set " + name + " < FILE")
	}
	return v, nil
}

func runSecretList(e *env, args []string) error {
	fs := newFlags(e, "secret list", "secret list [-var name=value]...")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fatalf("robo secret list takes no arguments")
	}
	cfg, f, err := secretConfig(e, vars)
	if err != nil {
		return err
	}
	names := f.Names()
	if len(names) == 0 {
		e.printf("No secrets in %s.\n", shown(cfg, f))
		return nil
	}
	rs, _ := secrets.ParseRecipients(cfg.Settings.Recipients)
	if len(rs) > 0 {
		rs = f.WithHosts(rs)
	}
	var stale []string
	for _, n := range names {
		e.printf("%s\n", n)
		if len(rs) > 0 && f.Stale(n, rs) {
			stale = append(stale, n)
		}
	}
	if len(stale) > 0 {
		fmt.Fprintf(e.stderr, "robo: warning: %s %s not encrypted to exactly the recipients the configuration lists\nrobo: hint: run robo secret rekey\n",
			strings.Join(stale, ", "), pluralWord(len(stale), "is", "are"))
	}
	return nil
}

func runSecretRm(e *env, args []string) error {
	fs := newFlags(e, "secret rm", "secret rm [-var name=value]... NAME")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	name, err := oneName(fs, "rm")
	if err != nil {
		return err
	}
	cfg, f, err := secretConfig(e, vars)
	if err != nil {
		return err
	}
	if err := f.Remove(name); err != nil {
		return fatalf("no secret named %q in %s", name, shown(cfg, f)).hint("robo secret list shows the names")
	}
	if err := f.Save(); err != nil {
		return fatalf("%v", err)
	}
	e.startAudit(cfg)
	e.record("secret.removed", map[string]string{"name": name})
	e.printf("Removed secret %q from %s.\n", name, shown(cfg, f))
	return nil
}

func runSecretRekey(e *env, args []string) error {
	fs := newFlags(e, "secret rekey", "secret rekey [-identity FILE] [-var name=value]...")
	identity := fs.String("identity", "", "decrypt with the identity in FILE (default: $"+secrets.EnvIdentity+", robo { identity }, then "+secrets.DefaultIdentityPath()+")")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fatalf("robo secret rekey takes no arguments")
	}
	cfg, f, err := secretConfig(e, vars)
	if err != nil {
		return err
	}
	rs, err := recipients(cfg, f)
	if err != nil {
		return err
	}
	n := len(f.Names())
	if n == 0 {
		e.printf("No secrets in %s to re-encrypt.\n", shown(cfg, f))
		return nil
	}
	ids, err := loadIdentities(e, cfg, *identity)
	if err != nil {
		return err
	}
	if err := f.Rekey(ids, rs); err != nil {
		return secretError(err, ids)
	}
	if err := f.Save(); err != nil {
		return fatalf("%v", err)
	}
	e.startAudit(cfg)
	e.record("secret.rekeyed", map[string]string{"secrets": fmt.Sprint(n), "recipients": fmt.Sprint(len(rs))})
	e.printf("Re-encrypted %d %s in %s to %d %s.\n", n, pluralWord(n, "secret", "secrets"), shown(cfg, f), len(rs), pluralWord(len(rs), "recipient", "recipients"))
	return nil
}

// loadIdentities finds and reads the identity: -identity, then
// ROBO_AGE_IDENTITY, then robo { identity }, then the per-OS default.
func loadIdentities(e *env, cfg *schema.Config, flag string) ([]age.Identity, error) {
	env, _ := e.lookupEnv(secrets.EnvIdentity)
	loc := secrets.FindIdentity(e.path(flag), env, cfg.Settings.Identity)
	ids, err := secrets.LoadIdentity(loc.Path)
	var pe *secrets.PermissionError
	switch {
	case errors.Is(err, secrets.ErrNoIdentityFile):
		return nil, fatalf("no identity to decrypt secrets with: %s (%s) does not exist", loc.Path, loc.From).
			hint("name one with -identity FILE or " + secrets.EnvIdentity + ", or create this host's identity with robo secret keygen -o " + loc.Path).
			hint("a new identity reads secrets only after its public key is added to robo { recipients } and someone who can read them runs robo secret rekey")
	case errors.As(err, &pe):
		return nil, fatalf("%v", err).hint(pe.Hint())
	case err != nil:
		return nil, fatalf("%v", err)
	}
	return ids, nil
}

// secretError turns a decryption failure into a user error with a hint.
func secretError(err error, ids []age.Identity) error {
	var de *secrets.DecryptError
	if !errors.As(err, &de) {
		return fatalf("%v", err)
	}
	if de.WrongIdentity {
		return fatalf("%v", err).hint(fmt.Sprintf("ask someone who can read it to add this host's public key (%s) to robo { recipients } and run robo secret rekey",
			strings.Join(secrets.Recipients(ids), ", ")))
	}
	return fatalf("%v", err).hint("restore the secrets file from version control, or set the secret again with robo secret set " + de.Name)
}

// newSecretResolver returns the apply-time source of secret values for
// cfg: values are decrypted on first use, once per name, with the identity
// found by the usual lookup (identityFlag is an -identity value, or "").
// A run that resolves no secret needs no identity. Errors from Resolve are
// user errors with hints, naming the secret and never its value. Callers
// Wipe it when done.
func newSecretResolver(e *env, cfg *schema.Config, identityFlag string) (*secretResolver, error) {
	f, err := openSecrets(cfg)
	if err != nil {
		return nil, err
	}
	r := &secretResolver{}
	r.Resolver = secrets.NewResolver(f, func() ([]age.Identity, error) {
		ids, err := loadIdentities(e, cfg, identityFlag)
		r.ids = ids
		return ids, err
	})
	return r, nil
}

// secretResolver resolves schema.SecretRef values at apply time.
type secretResolver struct {
	*secrets.Resolver
	ids []age.Identity
}

// ResolveRef returns the plaintext of a reference recorded by the
// configuration (a share's password).
func (r *secretResolver) ResolveRef(ref schema.SecretRef) ([]byte, error) {
	p, err := r.Resolve(ref.Name)
	if err != nil {
		var fe *fatalError
		if errors.As(err, &fe) {
			return nil, err
		}
		return nil, secretError(err, r.ids)
	}
	return p, nil
}

// inside reports whether path lies in directory dir (or is dir).
func inside(path, dir string) bool {
	ap, err1 := filepath.Abs(path)
	ad, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(ad, ap)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
