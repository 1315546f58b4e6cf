package main

import (
	"context"
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hashicorp/go-hclog"

	"github.com/robo-backup/robo/internal/apply"
	"github.com/robo-backup/robo/internal/hooks"
	"github.com/robo-backup/robo/internal/notify"
	"github.com/robo-backup/robo/schema"
)

func runNotify(e *env, args []string) error {
	return group{name: "notify", subs: []subcommand{
		{"test", "NAME", "send a test notification through notify \"NAME\", whatever its on list", runNotifyTest, false},
	}}.run(e, args)
}

// runNotifyTest is robo notify test NAME: send a test notification through
// one notify block, whatever its on list and sets filter.
func runNotifyTest(e *env, args []string) error {
	fs := newFlags(e, "notify test", "notify test [-identity FILE] [-var name=value]... NAME")
	identity := fs.String("identity", "", "age identity FILE that decrypts the notifier's secrets (default: ROBO_AGE_IDENTITY, robo { identity }, the per-OS default)")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fatalf("robo notify test takes one notifier name, got %d arguments", fs.NArg())
	}
	name := fs.Arg(0)
	cfg, err := loadConfig(e, vars)
	if err != nil {
		return err
	}
	if _, ok := cfg.Notifiers[name]; !ok {
		names := make([]string, 0, len(cfg.Notifiers))
		for n := range cfg.Notifiers {
			names = append(names, n)
		}
		sort.Strings(names)
		f := fatalf("there is no notify block named %q", name)
		if len(names) > 0 {
			return f.hint("the notifiers are: " + strings.Join(names, ", "))
		}
		return f.hint("declare one: notify \"ops\" { url = \"https://...\" } or notify \"mail\" { smtp { ... } }")
	}
	e.startAudit(cfg)
	d, done := e.dispatcher(cfg, *identity)
	defer done()
	r, err := d.Test(e.ctx, name)
	if err != nil {
		return fatalf("%v", err)
	}
	e.recordNotify(r)
	if r.Err != nil {
		return fatalf("notify %s: the test notification failed: %v", name, r.Err)
	}
	e.printf("notify %s: test notification sent to %s (%s, %s).\n", name, r.Target, r.Kind, r.Duration.Round(1e6))
	return nil
}

// dispatcher builds the notifiers of cfg. Their secrets (an SMTP password,
// a URL given as secret("name")) are decrypted only when one is sent, with
// the identity named by identityFlag, ROBO_AGE_IDENTITY, the robo block or
// the per-OS default; done wipes them.
func (e *env) dispatcher(cfg *schema.Config, identityFlag string) (d *notify.Dispatcher, done func()) {
	var res *secretResolver
	resolve := func(ref schema.SecretRef) ([]byte, error) {
		if res == nil {
			r, err := newSecretResolver(e, cfg, identityFlag)
			if err != nil {
				return nil, err
			}
			res = r
		}
		b, err := res.ResolveRef(ref)
		if err == nil {
			e.record("secret.decrypted", map[string]string{"name": ref.Name})
		}
		return b, err
	}
	return notify.FromConfig(cfg, resolve, version), func() {
		if res != nil {
			res.Wipe()
		}
	}
}

// notifyApply sends the notifications of an apply (robo apply, robo watch)
// and records the hooks that ran. A failed notification is a warning, on
// log when there is one, else on standard error: it never fails the run.
func (e *env) notifyApply(ctx context.Context, cfg *schema.Config, res *apply.Result, identityFlag string, log hclog.Logger) {
	if res == nil {
		return
	}
	e.recordHooks(res)
	if len(cfg.Notifiers) == 0 {
		return
	}
	d, done := e.dispatcher(cfg, identityFlag)
	defer done()
	for _, r := range d.Results(ctx, res) {
		e.recordNotify(r)
		if r.Err == nil {
			continue
		}
		if log != nil {
			log.Warn("notification failed", "notifier", r.Notifier, "set", r.Set, "event", r.Event, "target", r.Target, "error", r.Err)
		} else {
			// Errors name the endpoint (webhook URLs as scheme://host/…).
			fmt.Fprintf(e.stderr, "robo: warning: notify %s: %s of %s: %v\n", r.Notifier, r.Event, r.Set, r.Err)
		}
	}
}

// recordNotify records one notification in the audit trail: notify.sent or
// notify.failed. The target never holds a full URL or a secret.
func (e *env) recordNotify(r notify.Report) {
	f := map[string]string{"notifier": r.Notifier, "kind": r.Kind, "target": r.Target, "event": r.Event}
	if r.Set != "" {
		f["set"] = r.Set
	}
	if r.Err != nil {
		f["error"] = r.Err.Error()
		e.record("notify.failed", f)
		return
	}
	e.record("notify.sent", f)
}

// recordHooks records each hook command that ran in the audit trail.
func (e *env) recordHooks(res *apply.Result) {
	for _, s := range res.Sets {
		for _, h := range s.Hooks {
			f := map[string]string{"set": s.Name, "phase": h.Phase, "command": fmt.Sprintf("%q", h.Command),
				"exit_code": fmt.Sprint(h.ExitCode), "duration": h.Duration.Round(1e6).String()}
			if h.LogFile != "" {
				f["log_file"] = h.LogFile
			}
			if h.Error != "" {
				f["error"] = h.Error
			}
			e.record("hook.ran", f)
		}
	}
}

// hookRunner returns the runner of cfg's hooks, or nil when no set has
// one. Each command's output is kept in logs/ beside the state file.
func hookRunner(cfg *schema.Config, log hclog.Logger) apply.Hooks {
	r := hooks.New(cfg)
	if len(r.Sets) == 0 {
		return nil
	}
	if filepath.IsAbs(cfg.Settings.StateFile) {
		r.LogDir = hooks.LogDirFor(cfg.Settings.StateFile)
	}
	r.Logger = log
	return r
}
