package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/safetext"
	"github.com/robo-backup/robo/internal/verify"
	"github.com/robo-backup/robo/internal/views"
	"github.com/robo-backup/robo/schema"
)

// parseInterspersed parses flags that may come before, between or after the
// positional arguments (robo verify docs -checksum), and returns those.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// selectSets returns the named backup sets, or every enabled one.
func selectSets(cfg *schema.Config, names []string) ([]*schema.Backup, error) {
	if len(names) == 0 {
		var out []*schema.Backup
		for _, b := range cfg.Backups {
			if b.Enabled {
				out = append(out, b)
			}
		}
		return out, nil
	}
	var out []*schema.Backup
	for _, n := range names {
		b := cfg.Backup(n)
		if b == nil {
			var all []string
			for _, b := range cfg.Backups {
				all = append(all, b.Name)
			}
			return nil, fatalf("no backup set named %q", n).hint("the sets are: " + strings.Join(all, ", "))
		}
		if !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out, nil
}

func runVerify(e *env, args []string) error {
	fs := newFlags(e, "verify", "verify [NAME...] [-checksum] [-json] [-identity FILE] [-var name=value]...")
	checksum := fs.Bool("checksum", false, "also compare the content (SHA-256) of every file equal by size and time")
	jsonOut := fs.Bool("json", false, "print one machine-readable JSON document")
	identity := fs.String("identity", "", "age identity FILE that decrypts share passwords (default: ROBO_AGE_IDENTITY, robo { identity }, the per-OS default)")
	vars := addVarFlag(fs)
	names, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(e, vars)
	if err != nil {
		return err
	}
	sets, err := selectSets(cfg, names)
	if err != nil {
		return err
	}
	e.startAudit(cfg)
	eng := newEngines(e, cfg, *identity)
	defer eng.Close()
	var results []*verify.Result
	outcome := map[string]string{}
	ok := true
	for i, b := range sets {
		if e.ctx.Err() != nil {
			break
		}
		if !*jsonOut {
			if i > 0 {
				e.printf("\n")
			}
			how := "size and time"
			if *checksum {
				how += ", then SHA-256 content"
			}
			e.printf("Verifying %q: %s -> %s (%s, %s)\n", b.Name, b.Source, b.Destination, b.Mode, how)
		}
		r := verify.Set(e.ctx, eng.native, plan.SpecOf(b), verify.Options{Checksum: *checksum})
		results = append(results, r)
		ok = ok && r.OK
		outcome[b.Name] = verifyOutcome(r)
		if !*jsonOut {
			printVerify(e, r)
		}
	}
	fields := map[string]string{"ok": fmt.Sprint(ok && e.ctx.Err() == nil), "checksum": fmt.Sprint(*checksum), "sets": outcomes(outcome)}
	e.record("verify.finished", fields)
	if *jsonOut {
		if results == nil {
			results = []*verify.Result{}
		}
		enc := json.NewEncoder(e.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(struct {
			FormatVersion string           `json:"format_version"`
			OK            bool             `json:"ok"`
			Sets          []*verify.Result `json:"sets"`
		}{"1", ok, results}); err != nil {
			return err
		}
	}
	if e.ctx.Err() != nil {
		return fatalf("verify interrupted: not every set was compared")
	}
	if !ok {
		return exitErr(exitError)
	}
	return nil
}

// verifyOutcome is a set's outcome for the audit trail.
func verifyOutcome(r *verify.Result) string {
	switch {
	case r.Error != "":
		return "failed"
	case r.OK:
		return "match"
	}
	return "differs"
}

func printVerify(e *env, r *verify.Result) {
	for _, d := range r.Differences {
		kind := strings.ReplaceAll(string(d.Kind), "_", " ")
		if d.Kind == verify.Extra && !d.Fails {
			kind = "only in destination"
		}
		p := d.Path
		if p == "" {
			p = "(unlisted)"
		}
		e.printf("  %-20s %s", kind, safetext.Name(p))
		if d.Detail != "" {
			e.printf("  (%s)", safetext.Line(d.Detail))
		}
		e.printf("\n")
	}
	c := r.Counts
	checked := fmt.Sprintf("%d %s, %d %s, %s", c.SourceFiles, pluralWord(int(c.SourceFiles), "file", "files"),
		c.SourceDirs, pluralWord(int(c.SourceDirs), "dir", "dirs"), views.Bytes(c.SourceBytes))
	if r.Checksum {
		checked += fmt.Sprintf("; %d hashed", c.Hashed)
	}
	switch {
	case r.Error != "":
		e.printf("%q: could not be verified: %s\n", r.Name, safetext.Line(r.Error))
	case r.OK && c.Extra > 0:
		e.printf("%q: match (%s); %d only in the destination, which a copy-mode set keeps\n", r.Name, checked, c.Extra)
	case r.OK:
		e.printf("%q: match (%s)\n", r.Name, checked)
	default:
		var parts []string
		for _, p := range []struct {
			n    int
			what string
		}{{c.Missing, "missing"}, {c.Extra, "extra"}, {c.Differs, pluralWord(c.Differs, "differs", "differ")}, {c.ContentDiffers, pluralWord(c.ContentDiffers, "differs", "differ") + " in content"}, {c.MetaDiffers, pluralWord(c.MetaDiffers, "differs", "differ") + " in metadata"}, {c.Errors, "unreadable"}} {
			if p.n > 0 {
				parts = append(parts, fmt.Sprintf("%d %s", p.n, p.what))
			}
		}
		e.printf("%q: DIFFERS: %s (%s)\n", r.Name, strings.Join(parts, ", "), checked)
	}
}

// verifier runs verify_after_apply for apply and robo watch with the same
// engines (and share connections) the apply used.
func verifier(e *env, eng *engines) func(context.Context, engine.Spec) (bool, string) {
	return func(ctx context.Context, spec engine.Spec) (bool, string) {
		r := verify.Set(ctx, eng.native, spec, verify.Options{Checksum: spec.VerifyAfterApply == "checksum"})
		e.record("verify.finished", map[string]string{"ok": fmt.Sprint(r.OK), "checksum": fmt.Sprint(r.Checksum), "sets": spec.Name + "=" + verifyOutcome(r), "after_apply": "true"})
		if r.OK {
			return true, ""
		}
		c := r.Counts
		msg := fmt.Sprintf("%d missing, %d extra, %d differing, %d with other content, %d with other metadata, %d unreadable", c.Missing, c.Extra, c.Differs, c.ContentDiffers, c.MetaDiffers, c.Errors)
		if r.Error != "" {
			msg = r.Error
		}
		return false, msg
	}
}
