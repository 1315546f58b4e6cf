package schema

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"
)

var backupSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "for_each"}, // foreach.go
	{Name: "source", Required: true},
	{Name: "destination", Required: true},
	{Name: "mode"},
	{Name: "include"},
	{Name: "exclude_files"},
	{Name: "exclude_dirs"},
	{Name: "copy_empty_dirs"},
	{Name: "exclude_older"},
	{Name: "time_tolerance"},
	{Name: "symlinks"},
	{Name: "hard_links"},
	{Name: "threads"},
	{Name: "retries"},
	{Name: "retry_wait"},
	{Name: "max_delete"},
	{Name: "enabled"},
	{Name: "engine"},
	{Name: "schedule"},
	{Name: "watch"},
	{Name: "debounce"},
	{Name: "rescan"},
	// Hooks and health (decoded in hooks.go).
	{Name: "before"},
	{Name: "after"},
	{Name: "on_failure"},
	{Name: "hook_timeout"},
	{Name: "alert_after"},
	// Data safety (decoded in versions.go).
	{Name: "verify_after_apply"},
	// Metadata (decoded in copy.go).
	{Name: "copy"},
	{Name: "directory_copy"},
	// Open files (docs/snapshots.md).
	{Name: "snapshot"},
	{Name: "changing_files"},
}, Blocks: []hcl.BlockHeaderSchema{{Type: "robocopy"}, {Type: "versions"}}}

// decodeBackup decodes one backup set: the block itself (inst is nil), or
// one instance of a block with for_each (named BLOCK.KEY, ctx binding each).
func decodeBackup(b *hcl.Block, name string, inst *Instance, ctx *hcl.EvalContext, cfg *Config, opts *Options) (*Backup, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	if !validName(name) {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid backup name",
			Detail: fmt.Sprintf("%q is not a valid backup name: use letters, digits, '-', '_' and '.', starting with a letter or digit.", name), Subject: &b.LabelRanges[0]})
	}
	if prev := cfg.Backup(name); prev != nil {
		detail := fmt.Sprintf("A backup named %q was already declared at %s.", name, prev.DeclRange)
		if inst != nil || prev.Instance != nil {
			detail = fmt.Sprintf("Two sets are named %q: %s at %s and %s here. An instance of a block with for_each is named BLOCK.KEY; rename the block or the key.",
				name, setDescription(prev), prev.DeclRange, setDescription(&Backup{Name: name, Instance: inst}))
		}
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate backup set", Detail: detail, Subject: &b.LabelRanges[0]})
		return nil, diags
	}
	content, d := b.Body.Content(backupSchema)
	diags = append(diags, d...)
	bk := &Backup{
		Name: name, Mode: Mirror, CopyEmptyDirs: true, Symlinks: "skip", Threads: DefaultThreads,
		Retries: DefaultRetries, RetryWait: DefaultRetryWait, MaxDelete: MaxDelete{Percent: true, Value: DefaultMaxDelete},
		Enabled: true, Debounce: DefaultDebounce, Rescan: DefaultRescan, Snapshot: SnapshotNever, ChangingFiles: ChangingFail,
		DeclRange: b.DefRange, Ranges: map[string]hcl.Range{}, Instance: inst, Copy: cfg.Settings.Copy, DirCopy: cfg.Settings.DirCopy,
	}
	attrs := content.Attributes
	delete(attrs, "for_each")
	for n, a := range attrs {
		bk.Ranges[n] = a.Expr.Range()
	}
	goos := opts.goos()
	pathAttr := func(n string, out *string) {
		a, ok := attrs[n]
		if !ok {
			return
		}
		s, ok := evalString(a, ctx, &diags)
		if !ok {
			return
		}
		if root, remote := decodeRemoteRoot(a, s, cfg, &diags); remote {
			if n == "source" && root != "" {
				diags = append(diags, attrError(a, "Remote source not supported", "A remote can only be a destination (robo restore brings its files back); the source is a local folder or a share."))
				return
			}
			*out = root
			return
		}
		p, _, err := NormalizePath(s, cfg.Dir, goos)
		if err != nil {
			diags = append(diags, attrError(a, "Invalid "+n, err.Error()))
			return
		}
		*out = p
	}
	pathAttr("source", &bk.Source)
	pathAttr("destination", &bk.Destination)
	if a, ok := attrs["mode"]; ok {
		if s, ok := evalString(a, ctx, &diags); ok && checkOneOf(a, s, []string{"mirror", "copy"}, &diags) {
			bk.Mode = Mode(s)
		}
	}
	listAttr := func(n string, out *[]string) {
		if a, ok := attrs[n]; ok {
			if l, ok := evalStrings(a, ctx, &diags); ok {
				for _, p := range l {
					if strings.TrimSpace(p) == "" {
						diags = append(diags, attrError(a, "Invalid "+n, "A pattern is empty."))
						return
					}
				}
				*out = l
			}
		}
	}
	listAttr("include", &bk.Include)
	listAttr("exclude_files", &bk.ExcludeFiles)
	listAttr("exclude_dirs", &bk.ExcludeDirs)
	if a, ok := attrs["include"]; ok {
		for _, p := range bk.Include {
			if strings.ContainsAny(p, `/\`) {
				diags = append(diags, attrError(a, "Invalid include", fmt.Sprintf("%q contains a path separator: include patterns match file names only, as robocopy's file arguments do. Use exclude_dirs to leave out directories.", p)))
			}
		}
	}
	boolAttr := func(n string, out *bool) {
		if a, ok := attrs[n]; ok {
			if v, ok := evalTyped(a, ctx, cty.Bool, &diags); ok {
				*out = v.True()
			}
		}
	}
	boolAttr("copy_empty_dirs", &bk.CopyEmptyDirs)
	boolAttr("exclude_older", &bk.ExcludeOlder)
	boolAttr("hard_links", &bk.HardLinks)
	boolAttr("enabled", &bk.Enabled)
	boolAttr("watch", &bk.Watch)
	durAttr := func(n string, out *time.Duration) {
		if a, ok := attrs[n]; ok {
			if v, ok := evalDuration(a, ctx, &diags); ok {
				*out = v
			}
		}
	}
	durAttr("time_tolerance", &bk.TimeTolerance)
	durAttr("retry_wait", &bk.RetryWait)
	durAttr("debounce", &bk.Debounce)
	durAttr("rescan", &bk.Rescan)
	limit := func(n string, v time.Duration, max, why string) {
		if a, ok := attrs[n]; ok && v > mustDuration(max) {
			diags = append(diags, attrError(a, "Invalid "+n, fmt.Sprintf("%s is at most %s: %s.", n, max, why)))
		}
	}
	limit("time_tolerance", bk.TimeTolerance, "24h", "a wider window would hide real changes")
	limit("retry_wait", bk.RetryWait, "1h", "a longer wait would hold the run up for hours")
	limit("debounce", bk.Debounce, "24h", "changes would wait a day before they are backed up")
	if a, ok := attrs["rescan"]; ok && bk.Rescan < time.Minute {
		diags = append(diags, attrError(a, "Invalid rescan", "rescan is at least 1m: a full rescan more often would keep the disks busy."))
	}
	if a, ok := attrs["symlinks"]; ok {
		if s, ok := evalString(a, ctx, &diags); ok && checkOneOf(a, s, []string{"skip", "copy"}, &diags) {
			bk.Symlinks = s
		}
	}
	if a, ok := attrs["copy"]; ok {
		decodeCopyAttr(a, ctx, false, &bk.Copy, &diags)
	}
	if a, ok := attrs["directory_copy"]; ok {
		decodeCopyAttr(a, ctx, true, &bk.DirCopy, &diags)
	}
	intAttr := func(n string, lo, hi int, out *int) {
		if a, ok := attrs[n]; ok {
			evalInt(a, ctx, lo, hi, out, &diags)
		}
	}
	intAttr("threads", 1, 128, &bk.Threads)
	intAttr("retries", 0, 1000, &bk.Retries)
	if a, ok := attrs["max_delete"]; ok {
		if md, ok := evalMaxDelete(a, ctx, &diags); ok {
			bk.MaxDelete = md
		}
	}
	if a, ok := attrs["engine"]; ok {
		if s, ok := evalString(a, ctx, &diags); ok && checkOneOf(a, s, engines, &diags) {
			bk.Engine = s
		}
	}
	if a, ok := attrs["snapshot"]; ok {
		if s, ok := evalString(a, ctx, &diags); ok && checkOneOf(a, s, []string{SnapshotNever, SnapshotAuto, SnapshotRequired}, &diags) {
			bk.Snapshot = s
		}
	}
	if a, ok := attrs["schedule"]; ok {
		if s, ok := evalString(a, ctx, &diags); ok {
			if sc, named := cfg.Schedules[s]; named {
				bk.Schedule, bk.ScheduleName = sc.Cron, s
			} else if strings.ContainsAny(strings.TrimSpace(s), " @") {
				if err := ValidateCron(s); err != nil {
					diags = append(diags, attrError(a, "Invalid schedule", err.Error()))
				} else {
					bk.Schedule = s
				}
			} else {
				diags = append(diags, attrError(a, "Unknown schedule", fmt.Sprintf("There is no schedule block named %q, and %q is not a cron expression.", s, s)))
			}
		}
	}
	if bk.Source != "" && bk.Destination != "" {
		sk := pathKey(bk.Source, kindOf(bk.Source), goos)
		dk := pathKey(bk.Destination, kindOf(bk.Destination), goos)
		switch {
		case sk == dk:
			diags = append(diags, attrError(attrs["destination"], "Destination is the source", "The destination is the same directory as the source."))
		case within(dk, sk):
			diags = append(diags, attrError(attrs["destination"], "Destination inside its source",
				fmt.Sprintf("The destination %s lies inside the source %s: every run would copy the backup into itself. Choose a destination outside the source.", bk.Destination, bk.Source)))
		case within(sk, dk):
			diags = append(diags, attrError(attrs["destination"], "Source inside its destination",
				fmt.Sprintf("The source %s lies inside the destination %s, so a mirror would treat the source as extra files. Choose a destination outside the source.", bk.Source, bk.Destination)))
		}
	}
	if bk.Destination != "" && bk.Mode == Mirror {
		dk := pathKey(bk.Destination, kindOf(bk.Destination), goos)
		ck := pathKey(cfg.Dir, LocalPath, goos)
		if within(ck, dk) {
			diags = append(diags, attrError(attrs["destination"], "Destination holds the configuration",
				fmt.Sprintf("The destination %s contains this configuration directory %s (and its state): a mirror would delete them as extra files. Keep the configuration outside every destination.", bk.Destination, cfg.Dir)))
		}
	}
	if cfg.RemoteFor(bk.Destination) != nil {
		// robocopy.exe cannot reach a remote: the native engine does.
		if a, ok := attrs["engine"]; ok && bk.Engine == "robocopy" {
			diags = append(diags, attrError(a, "Engine cannot reach a remote", "robocopy copies between folders only; a set whose destination is a remote runs on the native engine (leave engine unset or write \"native\")."))
		}
		bk.Engine = "native"
	}
	diags = append(diags, decodeRobocopyBlocks(content.Blocks.OfType("robocopy"), ctx, bk, opts)...)
	diags = append(diags, decodeHooks(attrs, ctx, bk)...)
	diags = append(diags, decodeVersions(content.Blocks.OfType("versions"), attrs, ctx, bk)...)
	return bk, diags
}

// evalInt evaluates a whole number within [lo, hi] into out.
func evalInt(a *hcl.Attribute, ctx *hcl.EvalContext, lo, hi int, out *int, diags *hcl.Diagnostics) {
	v, ok := evalTyped(a, ctx, cty.Number, diags)
	if !ok {
		return
	}
	var i int
	if err := gocty.FromCtyValue(v, &i); err != nil || i < lo || i > hi {
		*diags = append(*diags, attrError(a, "Invalid "+a.Name, fmt.Sprintf("%s must be a whole number from %d to %d.", a.Name, lo, hi)))
		return
	}
	*out = i
}

func mustDuration(s string) time.Duration {
	d, err := time.ParseDuration(s)
	if err != nil {
		panic(err)
	}
	return d
}

func kindOf(p string) PathKind {
	switch {
	case strings.HasPrefix(p, `\\`):
		return UNCPath
	case drivePattern.MatchString(p):
		return DrivePath
	}
	return LocalPath
}

// checkOverlaps reports sets whose destinations are the same or nested.
func checkOverlaps(cfg *Config, opts *Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	goos := opts.goos()
	for i, a := range cfg.Backups {
		if a.Destination == "" {
			continue
		}
		ak := pathKey(a.Destination, kindOf(a.Destination), goos)
		for _, b := range cfg.Backups[:i] {
			if b.Destination == "" {
				continue
			}
			bk := pathKey(b.Destination, kindOf(b.Destination), goos)
			if within(ak, bk) || within(bk, ak) {
				r := a.Ranges["destination"]
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Overlapping destinations",
					Detail: fmt.Sprintf("The destination of %q (%s) overlaps the destination of %q (%s, declared at %s): a mirror of one would delete the other's files. Give each set its own directory.",
						a.Name, a.Destination, b.Name, b.Destination, b.Ranges["destination"]), Subject: &r})
			}
		}
	}
	return diags
}

// ValidName reports whether s is a valid name for a backup set, share,
// notifier or secret: letters, digits, '-', '_' and '.', starting with a
// letter or digit (so that it is also a safe file name).
func ValidName(s string) bool { return validName(s) }

func validName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || (i > 0 && (r == '-' || r == '_' || r == '.'))
		if !ok {
			return false
		}
	}
	return true
}

func attrError(a *hcl.Attribute, summary, detail string) *hcl.Diagnostic {
	r := a.Expr.Range()
	return &hcl.Diagnostic{Severity: hcl.DiagError, Summary: summary, Detail: detail, Subject: &r}
}

func evalTyped(a *hcl.Attribute, ctx *hcl.EvalContext, ty cty.Type, diags *hcl.Diagnostics) (cty.Value, bool) {
	v, d := a.Expr.Value(ctx)
	*diags = append(*diags, d...)
	if d.HasErrors() {
		return cty.NilVal, false
	}
	if d := rejectSecret(a, v); d != nil {
		*diags = append(*diags, d)
		return cty.NilVal, false
	}
	if v.IsNull() {
		*diags = append(*diags, attrError(a, "Missing value for "+a.Name, fmt.Sprintf("%s must not be null.", a.Name)))
		return cty.NilVal, false
	}
	cv, err := convert.Convert(v, ty)
	if err != nil {
		*diags = append(*diags, attrError(a, "Incorrect type for "+a.Name, fmt.Sprintf("%s must be a %s, not a %s.", a.Name, ty.FriendlyName(), v.Type().FriendlyName())))
		return cty.NilVal, false
	}
	if !cv.IsWhollyKnown() {
		return cty.NilVal, false
	}
	return cv, true
}

func evalString(a *hcl.Attribute, ctx *hcl.EvalContext, diags *hcl.Diagnostics) (string, bool) {
	v, ok := evalTyped(a, ctx, cty.String, diags)
	if !ok {
		return "", false
	}
	return v.AsString(), true
}

func evalStrings(a *hcl.Attribute, ctx *hcl.EvalContext, diags *hcl.Diagnostics) ([]string, bool) {
	v, ok := evalTyped(a, ctx, cty.List(cty.String), diags)
	if !ok {
		return nil, false
	}
	var out []string
	for _, e := range v.AsValueSlice() {
		if e.IsNull() {
			*diags = append(*diags, attrError(a, "Invalid "+a.Name, "The list holds a null element."))
			return nil, false
		}
		out = append(out, e.AsString())
	}
	return out, true
}

// ParseDuration accepts Go durations ("90s", "1h30m") and days ("7d").
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if strings.HasSuffix(t, "d") {
		n, err := strconv.ParseFloat(strings.TrimSuffix(t, "d"), 64)
		if err == nil && n >= 0 && n < 100000 {
			return time.Duration(n * 24 * float64(time.Hour)), nil
		}
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration such as \"2s\", \"5m\", \"1h30m\" or \"7d\"", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q is negative", s)
	}
	return d, nil
}

func evalDuration(a *hcl.Attribute, ctx *hcl.EvalContext, diags *hcl.Diagnostics) (time.Duration, bool) {
	s, ok := evalString(a, ctx, diags)
	if !ok {
		return 0, false
	}
	d, err := ParseDuration(s)
	if err != nil {
		*diags = append(*diags, attrError(a, "Invalid "+a.Name, err.Error()))
		return 0, false
	}
	return d, true
}

func evalMaxDelete(a *hcl.Attribute, ctx *hcl.EvalContext, diags *hcl.Diagnostics) (MaxDelete, bool) {
	v, d := a.Expr.Value(ctx)
	*diags = append(*diags, d...)
	if d.HasErrors() || !v.IsWhollyKnown() || v.IsNull() {
		return MaxDelete{}, false
	}
	if d := rejectSecret(a, v); d != nil {
		*diags = append(*diags, d)
		return MaxDelete{}, false
	}
	bad := func() (MaxDelete, bool) {
		*diags = append(*diags, attrError(a, "Invalid max_delete",
			"max_delete is a count of files (such as 100), a percentage of the destination's files (such as \"25%\"), or \"unlimited\"."))
		return MaxDelete{}, false
	}
	if v.Type() == cty.Number {
		f, _ := v.AsBigFloat().Float64()
		if f < 0 || f != math.Trunc(f) {
			return bad()
		}
		return MaxDelete{Value: f}, true
	}
	if v.Type() != cty.String {
		return bad()
	}
	s := strings.TrimSpace(v.AsString())
	if s == "unlimited" {
		return MaxDelete{Unlimited: true}, true
	}
	if p, ok := strings.CutSuffix(s, "%"); ok {
		f, err := strconv.ParseFloat(strings.TrimSpace(p), 64)
		if err != nil || f < 0 || f > 100 {
			return bad()
		}
		return MaxDelete{Percent: true, Value: f}, true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return bad()
	}
	return MaxDelete{Value: float64(n)}, true
}

func checkOneOf(a *hcl.Attribute, s string, allowed []string, diags *hcl.Diagnostics) bool {
	for _, x := range allowed {
		if s == x {
			return true
		}
	}
	*diags = append(*diags, attrError(a, "Invalid "+a.Name, fmt.Sprintf("%q is not a valid %s: use %s.", s, a.Name, quoteList(allowed))))
	return false
}

func quoteList(l []string) string {
	q := make([]string, len(l))
	for i, s := range l {
		q[i] = strconv.Quote(s)
	}
	if len(q) == 1 {
		return q[0]
	}
	return strings.Join(q[:len(q)-1], ", ") + " or " + q[len(q)-1]
}

// String renders the limit as written in config.
func (m MaxDelete) String() string {
	switch {
	case m.Unlimited:
		return "unlimited"
	case m.Percent:
		return strconv.FormatFloat(m.Value, 'f', -1, 64) + "%"
	}
	return strconv.FormatFloat(m.Value, 'f', -1, 64)
}

// Limit returns the number of files a plan may delete out of total.
func (m MaxDelete) Limit(total int64) int64 {
	switch {
	case m.Unlimited:
		return math.MaxInt64
	case m.Percent:
		return int64(math.Floor(float64(total) * m.Value / 100))
	}
	return int64(m.Value)
}

// setDescription names a set as a message shows it: "backup \"docs\"", or
// for an instance "instance backup.home[\"alice\"]".
func setDescription(b *Backup) string {
	if b.Instance != nil {
		return "instance " + b.Instance.Address("backup")
	}
	return fmt.Sprintf("backup %q", b.Name)
}
