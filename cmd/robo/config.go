package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"golang.org/x/term"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/engine/native"
	"github.com/robo-backup/robo/internal/robocopy"
	"github.com/robo-backup/robo/internal/secrets"
	"github.com/robo-backup/robo/internal/snapshot"
	"github.com/robo-backup/robo/internal/state"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/schema"
)

// varFlags collects the repeatable -var name=value and -var-file FILE
// flags in command-line order, keyed by position: a later one wins, as in
// terraform (docs/configuration.md, "Where the value comes from").
type varFlags map[int]schema.VarArg

func (v varFlags) String() string { return "" }

func (v varFlags) Set(s string) error {
	name, value, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return fmt.Errorf("-var takes name=value, not %q", s)
	}
	v[len(v)] = schema.VarArg{Name: name, Value: value}
	return nil
}

// varFileFlag is -var-file, in the same order as -var.
type varFileFlag struct{ vars varFlags }

func (f varFileFlag) String() string { return "" }

func (f varFileFlag) Set(s string) error {
	if s == "" {
		return fmt.Errorf("-var-file takes a file name")
	}
	f.vars[len(f.vars)] = schema.VarArg{File: s}
	return nil
}

// args returns the flags in command-line order, -var-file paths resolved
// against the working directory (-chdir's, as terraform resolves them).
func (v varFlags) args(e *env) []schema.VarArg {
	out := make([]schema.VarArg, 0, len(v))
	for i := 0; i < len(v); i++ {
		a := v[i]
		if a.File != "" {
			a.File = e.path(a.File)
		}
		out = append(out, a)
	}
	return out
}

// schemaOptions are the inputs of schema.Load: variables, the environment,
// and the checks that live outside schema (secrets, robocopy arguments).
func schemaOptions(e *env, vars varFlags) schema.Options {
	return schema.Options{VarArgs: vars.args(e), LookupEnv: e.lookupEnv, SecretExists: secrets.Exists, CheckRecipient: secrets.CheckRecipient,
		CheckRobocopyArgs: checkRobocopyArgs}
}

// checkRobocopyArgs adapts robocopy.ValidateExtraArgs to schema: each
// problem names the position of the argument it concerns.
func checkRobocopyArgs(args []string, threads int, mirror bool) []schema.ArgProblem {
	var out []schema.ArgProblem
	for _, p := range robocopy.ValidateForSet(args, threads, mirror) {
		out = append(out, schema.ArgProblem{Index: p.Index, Message: p.Arg + ": " + p.Message})
	}
	return out
}

// addVarFlag registers the repeatable -var name=value and -var-file FILE
// flags.
func addVarFlag(fs *flag.FlagSet) varFlags {
	vars := varFlags{}
	fs.Var(vars, "var", "set a variable (name=value); repeatable")
	fs.Var(varFileFlag{vars}, "var-file", "read variables from FILE (NAME = VALUE lines); repeatable, applied in order with -var")
	return vars
}

// loadConfig loads the configuration directory and prints its diagnostics.
// It fails when any diagnostic is an error.
func loadConfig(e *env, vars varFlags) (*schema.Config, error) {
	cfg, diags := schema.Load(e.dir, schemaOptions(e, vars))
	if len(diags) > 0 {
		printDiags(e.stderr, cfg.Files, diags)
	}
	if diags.HasErrors() {
		return cfg, exitErr(exitError)
	}
	return cfg, nil
}

func printDiags(w io.Writer, files map[string]*hcl.File, diags hcl.Diagnostics) {
	width := 0
	if f, ok := w.(interface{ Fd() uintptr }); ok {
		if cols, _, err := term.GetSize(int(f.Fd())); err == nil {
			width = cols
		}
	}
	dw := hcl.NewDiagnosticTextWriter(w, files, uint(width), false)
	dw.WriteDiagnostics(diags)
}

// openStore returns the configured state file, refusing one this host
// cannot use (a Windows path on another OS).
func openStore(cfg *schema.Config) (*state.Store, error) {
	if !filepath.IsAbs(cfg.Settings.StateFile) {
		return nil, fatalf("state_file %s is not a path on this host", cfg.Settings.StateFile).
			hint("this configuration is for Windows hosts; set robo { state_file } to a local path to use it here")
	}
	// A plan's change lists spill beside the state (engine.ChangeList).
	engine.SetSpillDir(filepath.Dir(cfg.Settings.StateFile))
	return &state.Store{Path: cfg.Settings.StateFile}, nil
}

// loadWithStore loads the configuration and opens the state file its robo
// block names.
func loadWithStore(e *env, vars varFlags) (*schema.Config, *state.Store, error) {
	cfg, err := loadConfig(e, vars)
	if err != nil {
		return nil, nil, err
	}
	store, err := openStore(cfg)
	return cfg, store, err
}

// lockAndRead takes the state lock for operation (waiting up to timeout)
// and reads the state under it. The caller calls unlock.
func lockAndRead(e *env, store *state.Store, operation string, timeout time.Duration) (unlock func(), st *state.State, err error) {
	lock, err := store.Lock(e.ctx, state.CurrentLockInfo(operation), timeout)
	if err != nil {
		var le *state.LockedError
		if errors.As(err, &le) {
			e.record("state.lock_refused", map[string]string{"operation": operation, "holder": fmt.Sprint(le.Holder)})
		}
		return nil, nil, lockError(err, true)
	}
	e.record("state.locked", map[string]string{"operation": operation})
	unlock = func() {
		lock.Unlock()
		e.record("state.unlocked", map[string]string{"operation": operation})
	}
	if st, err = store.Read(); err != nil {
		unlock()
		return nil, nil, fatalf("%v", err)
	}
	return unlock, st, nil
}

// engines selects engines by configured name, and reaches shares for them.
type engines struct {
	native   *native.Engine
	robocopy *robocopy.Engine // nil where robocopy.exe is not available
	missing  error            // why robocopy is nil
	access   *shareAccess
	resolver *secretResolver
	// snaps reads the sets with snapshot = "auto" or "required" from
	// snapshots (snapshots.go); nil without a local state directory.
	snaps *snapshot.Engines
}

// newEngines prepares the engines of one command. Share passwords are
// decrypted (with the identity named by identityFlag, ROBO_AGE_IDENTITY,
// the robo block or the per-OS default) only when a set first touches a
// share. Close ends every connection.
func newEngines(e *env, cfg *schema.Config, identityFlag string) *engines {
	s := &engines{native: native.New()}
	s.robocopy, s.missing = robocopy.New()
	if s.robocopy != nil && filepath.IsAbs(cfg.Settings.StateFile) {
		// Each real run's raw log is kept as the run log.
		s.robocopy.LogDir = filepath.Join(filepath.Dir(cfg.Settings.StateFile), "logs")
	}
	s.access = newShareAccess(e.ctx, cfg, func(ref schema.SecretRef) ([]byte, error) {
		if s.resolver == nil {
			r, err := newSecretResolver(e, cfg, identityFlag)
			if err != nil {
				return nil, err
			}
			s.resolver = r
		}
		b, err := s.resolver.ResolveRef(ref)
		if err == nil {
			e.record("secret.decrypted", map[string]string{"name": ref.Name})
		}
		return b, err
	})
	s.access.record = e.record
	s.native.Open = s.access.Open
	if wrap := testOnlyWrapFS; wrap != nil {
		s.native.Open = func(root string) (vfs.FS, error) {
			f, err := s.access.Open(root)
			if err != nil {
				return f, err
			}
			return wrap(root, f), nil
		}
	}
	s.snaps = newSnapshots(e, cfg)
	return s
}

// testOnlyWrapFS, set only by the tests of the built command (main_test.go,
// from the environment of a testscript), wraps each tree the native engine
// opens: a fault injected into the copy path, such as a source file that
// changes during every copy.
var testOnlyWrapFS func(root string, fsys vfs.FS) vfs.FS

// Close removes the run's snapshots, ends share connections and wipes
// decrypted secrets.
func (s *engines) Close() error {
	s.snaps.Close()
	err := s.access.Close()
	if s.resolver != nil {
		s.resolver.Wipe()
	}
	return err
}

// Select implements plan.Engines: "auto" is robocopy where robocopy.exe is
// found (Windows), the native engine elsewhere.
func (s *engines) Select(name string) (engine.Engine, error) {
	var eng engine.Engine
	switch name {
	case "", "auto":
		eng = s.native
		if s.robocopy != nil {
			eng = s.robocopy
		}
	case "native":
		eng = s.native
	case "robocopy":
		if s.robocopy == nil {
			return nil, fmt.Errorf("the robocopy engine is not available: %v; set engine = \"native\" or \"auto\" to use robo's own engine", s.missing)
		}
		eng = s.robocopy
	default:
		return nil, fmt.Errorf("unknown engine %q", name)
	}
	return s.snaps.Wrap(sharedEngine{Engine: eng, access: s.access}), nil
}
