package main

import (
	"bufio"
	"errors"
	"fmt"
	iofs "io/fs"
	"path"
	"path/filepath"
	"strings"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
	"github.com/robo-backup/robo/internal/safetext"
	"github.com/robo-backup/robo/internal/shares"
	"github.com/robo-backup/robo/internal/verify"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/internal/views"
	"github.com/robo-backup/robo/schema"
)

// listFlags collects a repeatable string flag.
type listFlags []string

func (l *listFlags) String() string { return strings.Join(*l, ",") }

func (l *listFlags) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// restorePlan is what a restore would do.
type restorePlan struct {
	// Change lists, in bounded memory whatever the size of the restore
	// (engine.ChangeList spills).
	copies *engine.ChangeList // creates and updates, in scan order
	kept   *engine.ChangeList // target copies that are newer: left alone
	files  int
	bytes  int64
	res    *engine.ScanResult
}

func runRestore(e *env, args []string) error {
	fs := newFlags(e, "restore", "restore NAME [-to DIR] [-path SUBPATH]... [-version TIME] [-auto-approve] [-overwrite-newer] [-identity FILE] [-var name=value]...")
	to := fs.String("to", "", "restore into DIR instead of the set's source")
	var paths listFlags
	fs.Var(&paths, "path", "restore only this file or directory (relative to the set's root); repeatable")
	version := fs.String("version", "", "restore from the kept version whose time starts with TIME (default: the destination itself)")
	autoApprove := fs.Bool("auto-approve", false, "restore without asking for confirmation")
	overwriteNewer := fs.Bool("overwrite-newer", false, "also replace target files that are newer than the backup's copy")
	identity := fs.String("identity", "", "age identity FILE that decrypts share passwords (default: ROBO_AGE_IDENTITY, robo { identity }, the per-OS default)")
	vars := addVarFlag(fs)
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return fatalf("robo restore takes one backup set name, got %d arguments", len(pos)).hint("usage: robo restore NAME [-to DIR] [-path SUBPATH]... [-version TIME]")
	}
	subs, err := cleanSubpaths(paths)
	if err != nil {
		return err
	}
	cfg, err := loadConfig(e, vars)
	if err != nil {
		return err
	}
	b := cfg.Backup(pos[0])
	if b == nil {
		_, err := selectSets(cfg, pos) // the unknown-name error, with the names
		return err
	}
	target := b.Source
	if *to != "" {
		target = *to
		if !shares.IsUNC(target) {
			if target, err = filepath.Abs(e.path(target)); err != nil {
				return fatalf("-to %s: %v", *to, err)
			}
		}
	}
	e.startAudit(cfg)
	eng := newEngines(e, cfg, *identity)
	defer eng.Close()
	n := *eng.native
	from, label := b.Destination, b.Destination
	if *version != "" {
		versions, err := verify.Versions(eng.native.Open, b.Destination)
		if err != nil {
			return fatalf("list the versions of %q: %v", b.Name, err)
		}
		match := verify.MatchVersion(versions, *version)
		switch {
		case len(versions) == 0:
			return fatalf("set %q keeps no versions: %s has no %s folder", b.Name, b.Destination, verify.VersionsDir)
		case len(match) == 0:
			return fatalf("no version of %q matches %q", b.Name, *version).hint("the versions are: " + strings.Join(versions, ", "))
		case len(match) > 1:
			return fatalf("%q matches %d versions of %q: %s", *version, len(match), b.Name, strings.Join(match, ", ")).hint("give more of the time")
		}
		from = joinRoot(b.Destination, verify.VersionsDir+"/"+match[0])
		label = fmt.Sprintf("%s (version %s)", b.Destination, match[0])
	} else {
		n.Open = verify.HideVersions(eng.native.Open, from)
	}
	if overlaps(target, b.Destination) || overlaps(realPath(target), realPath(b.Destination)) {
		return fatalf("cannot restore into %s: it overlaps the destination %s (once links are followed)", target, b.Destination).hint("choose another -to DIR")
	}
	spec := engine.Spec{Name: b.Name, Source: from, Destination: target, CopyEmptyDirs: true, TimeTolerance: b.TimeTolerance,
		CopySymlinks: b.Symlinks == "copy", Threads: b.Threads, Retries: b.Retries, RetryWait: b.RetryWait,
		// A restore puts back what the backup kept (permissions, owners, ...).
		Copy: plan.CopyLetters(b.Copy, schema.DefaultCopy), DirCopy: plan.CopyLetters(b.DirCopy, schema.DefaultDirCopy),
		HardLinks: b.HardLinks}
	if len(subs) > 0 {
		if err := checkSubpaths(n.Open, from, label, subs); err != nil {
			return err
		}
	}
	res, err := n.Scan(e.ctx, spec)
	if err != nil {
		var se *engine.SourceError
		if errors.As(err, &se) {
			return fatalf("the backup %s cannot be read: %v", label, se.Err)
		}
		return fatalf("%v", err)
	}
	defer res.Changes.Close()
	p, err := planRestore(res, subs, *overwriteNewer)
	if err != nil {
		return fatalf("%v", err)
	}
	defer p.close()
	if err := printRestorePlan(e, b.Name, label, target, p); err != nil {
		return fatalf("%v", err)
	}
	fields := map[string]string{"set": b.Name, "from": from, "to": target, "version": *version, "paths": strings.Join(subs, ",")}
	if p.copies.Len() == 0 {
		e.printf("\nNothing to restore.\n")
		if len(res.Errors) > 0 {
			return exitErr(exitError)
		}
		return nil
	}
	if !*autoApprove {
		if !e.interactive {
			return fatalf("robo restore asks for confirmation, but its input is not a terminal: nothing was restored").
				hint("pass -auto-approve to restore without asking")
		}
		fmt.Fprintf(e.stdout, "\nDo you want to restore these files? Only 'yes' will be accepted.\n  Enter a value: ")
		line, _ := bufio.NewReader(e.stdin).ReadString('\n')
		if strings.TrimSpace(line) != "yes" {
			return fatalf("restore cancelled: nothing was changed")
		}
	}
	e.printf("\n")
	out, err := n.Apply(e.ctx, engine.Job{Spec: spec, Changes: p.copies, Source: res.Source, Roots: res.Roots}, nil)
	if err != nil {
		fields["error"] = err.Error()
		e.record("restore.finished", fields)
		return fatalf("%v", err)
	}
	ok := out.OK() && len(res.Errors) == 0
	fields["ok"] = fmt.Sprint(ok)
	fields["copied"] = fmt.Sprint(out.Counters.Files.Copied)
	fields["kept_newer"] = fmt.Sprint(p.kept.Len())
	fields["errors"] = fmt.Sprint(len(out.Errors) + len(res.Errors))
	e.record("restore.finished", fields)
	for _, s := range out.Skipped {
		e.printf("  skipped %s: %s\n", safetext.Name(s.Path), safetext.Line(s.Reason))
	}
	for _, fe := range out.Errors {
		e.printf("  error   %s\n", views.FileError(fe))
	}
	e.printf("Restored %d %s (%s) into %s.\n", out.Counters.Files.Copied, pluralWord(int(out.Counters.Files.Copied), "file", "files"),
		views.Bytes(out.BytesCopied), safetext.Name(target))
	if out.Interrupted {
		return fatalf("restore interrupted: the files not yet copied were left as they were")
	}
	if !ok {
		return exitErr(exitError)
	}
	return nil
}

// checkSubpaths requires every -path to exist in the backup. The root it
// opens is closed before the restore scans: on Windows an open handle to
// the backup's directory would keep anyone from renaming or deleting it
// for as long as robo runs.
func checkSubpaths(open func(string) (vfs.FS, error), from, label string, subs []string) error {
	src, err := open(from)
	if err != nil {
		return fatalf("%s: %v", label, err)
	}
	defer vfs.Close(src)
	for _, p := range subs {
		if _, err := src.Stat(p); err != nil {
			if errors.Is(err, iofs.ErrNotExist) {
				return fatalf("-path %s: not in the backup %s", safetext.Name(p), label)
			}
			return fatalf("-path %s: %s", safetext.Name(p), safetext.Line(err.Error()))
		}
	}
	return nil
}

// cleanSubpaths checks -path values: relative, slash-separated, no "..".
func cleanSubpaths(in []string) ([]string, error) {
	var out []string
	for _, raw := range in {
		s := strings.ReplaceAll(raw, `\`, "/")
		if strings.HasPrefix(s, "/") || (len(s) >= 2 && s[1] == ':') {
			return nil, fatalf("-path %s: give a path relative to the set's root", safetext.Name(raw))
		}
		for _, part := range strings.Split(s, "/") {
			if part == ".." {
				return nil, fatalf("-path %s: \"..\" is not allowed; give a path inside the set", safetext.Name(raw))
			}
		}
		s = path.Clean(s)
		if s == "." {
			return nil, nil // the whole set
		}
		out = append(out, s)
	}
	return out, nil
}

// planRestore keeps the creates and updates under the subpaths (and the
// directories above them); a target file newer than the backup's copy is
// kept unless overwriteNewer. Nothing is ever deleted.
func planRestore(res *engine.ScanResult, subs []string, overwriteNewer bool) (*restorePlan, error) {
	p := &restorePlan{res: res, copies: engine.NewChangeList(), kept: engine.NewChangeList()}
	err := res.Changes.Range(func(_ int, c *engine.Change) error {
		if !wanted(*c, subs) || (c.Action != engine.Create && c.Action != engine.Update) {
			return nil
		}
		if c.Class == engine.Older && !overwriteNewer {
			p.kept.Add(*c)
			return nil
		}
		p.copies.Add(*c)
		if c.Kind != engine.KindDir {
			p.files++
			p.bytes += c.Size
		}
		return nil
	})
	if err == nil {
		err = p.copies.Err()
	}
	if err == nil {
		err = p.kept.Err()
	}
	if err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

// close releases the plan's change lists (their spill files).
func (p *restorePlan) close() {
	p.copies.Close()
	p.kept.Close()
}

func wanted(c engine.Change, subs []string) bool {
	if len(subs) == 0 {
		return true
	}
	for _, s := range subs {
		if c.Path == s || strings.HasPrefix(c.Path, s+"/") || (c.Kind == engine.KindDir && strings.HasPrefix(s, c.Path+"/")) {
			return true
		}
	}
	return false
}

func printRestorePlan(e *env, name, from, target string, p *restorePlan) error {
	e.printf("Restore %q from %s into %s:\n", name, safetext.Name(from), safetext.Name(target))
	if err := p.copies.Range(func(_ int, cp *engine.Change) error {
		c := *cp
		switch {
		case c.Class == engine.Tweaked:
			e.printf("  ~ %s (metadata only: %s)\n", safetext.Name(c.Path), safetext.Line(strings.Join(engine.DescribeDiffers(&c), ", ")))
		case c.Kind == engine.KindDir:
		case c.Action == engine.Create:
			e.printf("  + %s (%s)\n", safetext.Name(c.Path), views.Bytes(c.Size))
		default:
			e.printf("  ~ %s (%s, replaces the target's %s copy)\n", safetext.Name(c.Path), views.Bytes(c.Size), strings.ToLower(replaced(c)))
		}
		return nil
	}); err != nil {
		return err
	}
	if err := p.kept.Range(func(_ int, c *engine.Change) error {
		e.printf("  = %s kept: the target's copy is newer (%s there, %s in the backup)\n", safetext.Name(c.Path), views.Bytes(c.Dst.Size), views.Bytes(c.Src.Size))
		return nil
	}); err != nil {
		return err
	}
	for _, fe := range p.res.Errors {
		e.printf("  ! %s\n", views.FileError(fe))
	}
	e.printf("\nRestore: %d %s to copy (%s), %d kept because the target's copy is newer", p.files, pluralWord(p.files, "file", "files"),
		views.Bytes(p.bytes), p.kept.Len())
	if p.kept.Len() > 0 {
		e.printf(" (pass -overwrite-newer to replace them)")
	}
	e.printf(".\n")
	if n := p.res.Mismatches; n > 0 {
		e.printf("%d %s of another kind in the target (a file where the backup has a directory, or the reverse) and left alone.\n",
			n, pluralWord(int(n), "entry is", "entries are"))
	}
	return nil
}

func replaced(c engine.Change) string {
	switch c.Class {
	case engine.Newer:
		return "older"
	case engine.Older:
		return "newer"
	}
	return "different"
}

// joinRoot joins a slash-separated relative path to a root (local or UNC).
func joinRoot(root, rel string) string {
	if shares.IsUNC(root) {
		return strings.TrimRight(root, `\/`) + `\` + strings.ReplaceAll(rel, "/", `\`)
	}
	return filepath.Join(root, filepath.FromSlash(rel))
}

// realPath resolves the links of a local path, as far as it exists: the
// part that does not exist yet is appended as written. UNC paths are
// returned as they are.
func realPath(p string) string {
	if shares.IsUNC(p) || !filepath.IsAbs(p) {
		return p
	}
	rest := ""
	for dir := filepath.Clean(p); ; {
		if r, err := filepath.EvalSymlinks(dir); err == nil {
			return filepath.Join(r, rest)
		}
		up := filepath.Dir(dir)
		if up == dir {
			return p
		}
		rest = filepath.Join(filepath.Base(dir), rest)
		dir = up
	}
}

// overlaps reports whether one root is the other or inside it.
func overlaps(a, b string) bool {
	if shares.IsUNC(a) || shares.IsUNC(b) {
		norm := func(s string) string {
			return strings.ToLower(strings.TrimRight(strings.ReplaceAll(s, "/", `\`), `\`)) + `\`
		}
		na, nb := norm(a), norm(b)
		return strings.HasPrefix(na, nb) || strings.HasPrefix(nb, na)
	}
	if !filepath.IsAbs(a) || !filepath.IsAbs(b) {
		return false
	}
	inside := func(x, y string) bool {
		r, err := filepath.Rel(y, x)
		return err == nil && r != ".." && !strings.HasPrefix(r, ".."+string(filepath.Separator))
	}
	return inside(a, b) || inside(b, a)
}
