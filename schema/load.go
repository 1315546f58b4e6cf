package schema

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
	"github.com/robfig/cron/v3"
	"github.com/zclconf/go-cty/cty"
)

// Options are the inputs of Load beyond the files.
type Options struct {
	// VarArgs are the -var and -var-file arguments in command-line order;
	// a later one wins (varfiles.go).
	VarArgs []VarArg
	// Vars are -var name=value settings applied after VarArgs (for
	// callers that have no order to keep).
	Vars map[string]string
	// LookupEnv reads the environment (os.LookupEnv when nil).
	LookupEnv func(string) (string, bool)
	// Hostname names this host (os.Hostname when nil).
	Hostname func() (string, error)
	// GOOS is the operating system paths are resolved for (runtime.GOOS
	// when empty); tests use it to check Windows paths on Linux.
	GOOS string
	// SecretExists reports whether the secrets file at path holds a secret
	// named name, without decrypting anything. When it is set, every
	// secret("name") must exist; nil skips the check.
	SecretExists func(path, name string) (bool, error)
	// CheckRecipient fully parses one of the robo block's recipients; nil
	// checks the syntax only.
	CheckRecipient func(recipient string) error

	// CheckRobocopyArgs vets a robocopy block's extra_args for a set with
	// the given thread count; nil skips the check.
	CheckRobocopyArgs func(args []string, threads int, mirror bool) []ArgProblem

	// secretRefs records the names secret() was called with.
	secretRefs map[string]bool
}

func (o *Options) defaults() {
	if o.LookupEnv == nil {
		o.LookupEnv = os.LookupEnv
	}
	if o.Hostname == nil {
		o.Hostname = os.Hostname
	}
}

var rootSchema = &hcl.BodySchema{
	Blocks: []hcl.BlockHeaderSchema{
		{Type: "robo"},
		{Type: "variable", LabelNames: []string{"name"}},
		{Type: "locals"},
		{Type: "backup", LabelNames: []string{"name"}},
		{Type: "schedule", LabelNames: []string{"name"}},
		{Type: "share", LabelNames: []string{"name"}},
		{Type: "remote", LabelNames: []string{"name"}}, // remote.go
		{Type: "notify", LabelNames: []string{"name"}},
		{Type: "moved"},
		{Type: "report"}, {Type: "metrics"}, {Type: "host_key"}, // report.go
	},
}

// ConfigFiles lists the *.hcl files of a directory, sorted: configuration,
// override files (IsOverrideFile) and variable files (IsVarFile) alike, as
// robo fmt formats them all; Load tells them apart.
func ConfigFiles(dir string) ([]string, error) {
	m, err := filepath.Glob(filepath.Join(dir, "*.hcl"))
	if err != nil {
		return nil, err
	}
	sort.Strings(m)
	return m, nil
}

// Load reads every *.hcl file in dir as one configuration. It always
// returns a Config (possibly partial) so callers can render diagnostics
// against its Files.
func Load(dir string, opts Options) (*Config, hcl.Diagnostics) {
	opts.defaults()
	abs, err := filepath.Abs(dir)
	if err != nil {
		abs = dir
	}
	cfg := &Config{Dir: abs, Files: map[string]*hcl.File{}, Variables: map[string]*Variable{}, Schedules: map[string]*Schedule{}, Shares: map[string]*Share{}, Remotes: map[string]*Remote{}}
	var diags hcl.Diagnostics
	files, err := ConfigFiles(abs)
	if err != nil {
		return cfg, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Cannot read configuration directory", Detail: err.Error()}}
	}
	if len(files) == 0 {
		return cfg, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No configuration files",
			Detail: fmt.Sprintf("The directory %s has no *.hcl files. Run robo in the directory that holds your configuration, or name it with -chdir DIR.", abs)}}
	}
	parser := hclparse.NewParser()
	var blocks, overrides hcl.Blocks
	var autoVars []*varFile
	primary := 0
	for _, f := range files {
		name := f
		if rel, err := filepath.Rel(abs, f); err == nil {
			name = rel
		}
		if IsVarFile(name) {
			if IsAutoVarFile(name) {
				vf, d := readVarFile(parser, f, name, cfg)
				diags = append(diags, d...)
				if vf != nil {
					autoVars = append(autoVars, vf)
				}
			}
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot read configuration file", Detail: err.Error()})
			continue
		}
		if !IsOverrideFile(name) {
			primary++
		}
		file, d := parser.ParseHCL(src, name)
		diags = append(diags, d...)
		if file == nil {
			continue
		}
		cfg.Files[name] = file
		content, d := file.Body.Content(rootSchema)
		diags = append(diags, d...)
		if IsOverrideFile(name) {
			overrides = append(overrides, content.Blocks...)
		} else {
			blocks = append(blocks, content.Blocks...)
		}
	}
	if primary == 0 && len(overrides) == 0 && !diags.HasErrors() {
		return cfg, hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "No configuration files",
			Detail: fmt.Sprintf("The directory %s has only variable files (*.vars.hcl), no configuration. Run robo in the directory that holds your configuration, or name it with -chdir DIR.", abs)}}
	}
	if diags.HasErrors() && len(blocks) == 0 {
		return cfg, diags
	}
	blocks, localOverrides, d := applyOverrides(blocks, overrides)
	diags = append(diags, d...)
	byType := map[string][]*hcl.Block{}
	for _, b := range blocks {
		byType[b.Type] = append(byType[b.Type], b)
	}

	given, d := givenValues(parser, byType["variable"], autoVars, &opts, cfg)
	diags = append(diags, d...)
	vars, d := variableValues(byType["variable"], given, &opts, cfg)
	diags = append(diags, d...)
	ctx := &hcl.EvalContext{
		Variables: map[string]cty.Value{"var": cty.ObjectVal(vars)},
		Functions: functions(abs, &opts),
	}
	diags = append(diags, decodeShares(byType["share"], ctx, cfg, &opts)...)
	diags = append(diags, decodeRemotes(byType["remote"], ctx, cfg)...)
	diags = append(diags, evalLocals(byType["locals"], localOverrides, ctx)...)

	diags = append(diags, decodeRobo(byType["robo"], ctx, cfg, &opts)...)
	for _, b := range byType["schedule"] {
		diags = append(diags, decodeSchedule(b, ctx, cfg)...)
	}
	diags = append(diags, decodeBackups(byType["backup"], ctx, cfg, &opts)...)
	diags = append(diags, decodeNotifiers(byType["notify"], ctx, cfg)...)
	diags = append(diags, decodeMoved(byType["moved"], cfg)...)
	diags = append(diags, decodeFleet(byType, ctx, cfg, &opts)...)
	diags = append(diags, checkOverlaps(cfg, &opts)...)
	diags = append(diags, checkSecrets(cfg, ctx, &opts)...)
	sort.SliceStable(cfg.Backups, func(i, j int) bool { return cfg.Backups[i].Name < cfg.Backups[j].Name })
	return cfg, diags
}

// decodeBackups decodes the backup blocks, one set per block or per
// instance of a block with for_each.
func decodeBackups(blocks []*hcl.Block, ctx *hcl.EvalContext, cfg *Config, opts *Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	type seen struct {
		rng     hcl.Range
		forEach bool
	}
	labels := map[string]seen{}
	for _, b := range blocks {
		label := b.Labels[0]
		insts, fe, d := expandForEach(b, ctx)
		if prev, ok := labels[label]; ok && (prev.forEach || fe != nil) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate backup set",
				Detail:  fmt.Sprintf("A backup block named %q was already declared at %s. A block with for_each declares all its instances, so its label is used once.", label, prev.rng),
				Subject: &b.LabelRanges[0]})
			continue
		}
		labels[label] = seen{b.DefRange, fe != nil}
		diags = append(diags, d...)
		if fe == nil {
			bk, d := decodeBackup(b, label, nil, ctx, cfg, opts)
			diags = append(diags, eachOutsideForEach(d)...)
			if bk != nil {
				cfg.Backups = append(cfg.Backups, bk)
			}
			continue
		}
		if cfg.forEachBlocks == nil {
			cfg.forEachBlocks = map[string]bool{}
		}
		cfg.forEachBlocks[label] = true
		if !validName(label) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid backup name",
				Detail: fmt.Sprintf("%q is not a valid backup name: use letters, digits, '-', '_' and '.', starting with a letter or digit.", label), Subject: &b.LabelRanges[0]})
			continue
		}
		diags = append(diags, decodeInstances(b, label, insts, fe, backupSchema, ctx, func(name string, inst *Instance, ictx *hcl.EvalContext) hcl.Diagnostics {
			bk, d := decodeBackup(b, name, inst, ictx, cfg, opts)
			if bk != nil {
				cfg.Backups = append(cfg.Backups, bk)
			}
			return d
		})...)
	}
	return diags
}

func decodeRobo(blocks []*hcl.Block, ctx *hcl.EvalContext, cfg *Config, opts *Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	cfg.Settings = Settings{StateFile: filepath.Join(cfg.Dir, filepath.FromSlash(DefaultStateFile)), Engine: "auto", MaxParallel: DefaultParallel,
		SecretsFile: filepath.Join(cfg.Dir, DefaultSecretsFile), LogRetention: LogRetention{MaxAge: DefaultLogRetention}}
	for i, b := range blocks {
		if i > 0 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate robo block",
				Detail: fmt.Sprintf("Only one robo block is allowed; the first is at %s.", blocks[0].DefRange), Subject: &b.DefRange})
			continue
		}
		cfg.Settings.DeclRange = b.DefRange
		content, d := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "state_file"}, {Name: "engine"}, {Name: "max_parallel"},
			{Name: "recipients"}, {Name: "identity"}, {Name: "secrets_file"}, {Name: "log_retention"},
			{Name: "copy"}, {Name: "directory_copy"}}})
		diags = append(diags, d...)
		diags = append(diags, decodeRoboSecrets(content.Attributes, ctx, cfg, opts)...)
		if a, ok := content.Attributes["state_file"]; ok {
			if s, ok := evalString(a, ctx, &diags); ok {
				p, kind, err := NormalizePath(s, cfg.Dir, opts.goos())
				switch {
				case err != nil:
					diags = append(diags, attrError(a, "Invalid state_file", err.Error()))
				case kind == UNCPath:
					diags = append(diags, attrError(a, "Invalid state_file", "The state file must be on a local disk of this host, not on a share: the lock that guards it does not work over SMB."))
				case kind == DrivePath && opts.goos() != "windows":
					d := attrError(a, "Windows state_file on a "+opts.goos()+" host", "The state file is a Windows path: this configuration validates here, but plan and apply can only run on Windows.")
					d.Severity = hcl.DiagWarning
					diags = append(diags, d)
					cfg.Settings.StateFile = p
				default:
					cfg.Settings.StateFile = p
				}
			}
		}
		if a, ok := content.Attributes["engine"]; ok {
			if s, ok := evalString(a, ctx, &diags); ok {
				if checkOneOf(a, s, engines, &diags) {
					cfg.Settings.Engine = s
				}
			}
		}
		if a, ok := content.Attributes["copy"]; ok {
			decodeCopyAttr(a, ctx, false, &cfg.Settings.Copy, &diags)
		}
		if a, ok := content.Attributes["directory_copy"]; ok {
			decodeCopyAttr(a, ctx, true, &cfg.Settings.DirCopy, &diags)
		}
		if a, ok := content.Attributes["max_parallel"]; ok {
			evalInt(a, ctx, 1, 64, &cfg.Settings.MaxParallel, &diags)
		}
		if a, ok := content.Attributes["log_retention"]; ok {
			if s, ok := evalString(a, ctx, &diags); ok {
				if r, err := ParseLogRetention(s); err != nil {
					diags = append(diags, attrError(a, "Invalid log_retention", err.Error()))
				} else {
					cfg.Settings.LogRetention = r
				}
			}
		}
	}
	return diags
}

// DefaultLogRetention is how long run logs are kept by default.
const DefaultLogRetention = 30 * 24 * time.Hour

// ParseLogRetention reads a log_retention value: a duration ("30d", "12h")
// or a count of run logs to keep ("100").
func ParseLogRetention(s string) (LogRetention, error) {
	t := strings.TrimSpace(s)
	if n, err := strconv.Atoi(t); err == nil {
		if n < 1 {
			return LogRetention{}, fmt.Errorf("%q: a count of run logs to keep must be at least 1", s)
		}
		return LogRetention{Count: n}, nil
	}
	d, err := ParseDuration(t)
	if err != nil {
		return LogRetention{}, fmt.Errorf("%v, or a count of run logs to keep such as \"100\"", err)
	}
	if d <= 0 {
		return LogRetention{}, fmt.Errorf("%q: the retention must be longer than 0", s)
	}
	return LogRetention{MaxAge: d}, nil
}

var engines = []string{"auto", "native", "robocopy"}

func decodeSchedule(b *hcl.Block, ctx *hcl.EvalContext, cfg *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	name := b.Labels[0]
	if prev, ok := cfg.Schedules[name]; ok {
		return hcl.Diagnostics{{Severity: hcl.DiagError, Summary: "Duplicate schedule",
			Detail: fmt.Sprintf("Schedule %q was already declared at %s.", name, prev.DeclRange), Subject: &b.LabelRanges[0]}}
	}
	content, d := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{
		{Name: "cron", Required: true}, {Name: "timezone"}, {Name: "jitter"}}})
	diags = append(diags, d...)
	s := &Schedule{Name: name, DeclRange: b.DefRange}
	cfg.Schedules[name] = s
	if a, ok := content.Attributes["timezone"]; ok {
		if tz, ok := evalString(a, ctx, &diags); ok {
			if _, err := time.LoadLocation(tz); err != nil {
				diags = append(diags, attrError(a, "Unknown time zone", fmt.Sprintf("%q is not a time zone name such as \"Europe/Berlin\" or \"UTC\": %v.", tz, err)))
			} else {
				s.Timezone = tz
			}
		}
	}
	if a, ok := content.Attributes["cron"]; ok {
		if c, ok := evalString(a, ctx, &diags); ok {
			if err := ValidateCron(c); err != nil {
				diags = append(diags, attrError(a, "Invalid cron expression", err.Error()))
			} else {
				s.Cron = c
			}
		}
	}
	if a, ok := content.Attributes["jitter"]; ok {
		if v, ok := evalDuration(a, ctx, &diags); ok {
			if v > 24*time.Hour {
				diags = append(diags, attrError(a, "Invalid jitter", "jitter is at most 24h: a wider spread would move runs into another day."))
			} else {
				s.Jitter = v
			}
		}
	}
	return diags
}

var cronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ValidateCron checks a five-field cron expression (minute hour day-of-month
// month day-of-week) or a descriptor such as @daily or @every 1h.
func ValidateCron(expr string) error {
	if strings.HasPrefix(strings.TrimSpace(expr), "TZ=") || strings.HasPrefix(strings.TrimSpace(expr), "CRON_TZ=") {
		return fmt.Errorf("set the time zone with the schedule's timezone attribute, not inside the cron expression")
	}
	if _, err := cronParser.Parse(expr); err != nil {
		return fmt.Errorf("%q is not a cron expression (\"minute hour day-of-month month day-of-week\", e.g. \"0 2 * * *\", or @daily, @hourly, @every 6h): %v", expr, err)
	}
	return nil
}

// ParseCron parses an expression that ValidateCron accepted.
func ParseCron(expr string) (cron.Schedule, error) { return cronParser.Parse(expr) }

func (o *Options) goos() string {
	if o.GOOS != "" {
		return o.GOOS
	}
	return hostGOOS
}
