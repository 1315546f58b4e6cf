package schema

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// Hooks are the commands run around one set's apply (internal/hooks runs
// them). Each command is an argv list: the first element is the program,
// run without a shell.
type Hooks struct {
	Before    []string `json:"before,omitempty"`
	After     []string `json:"after,omitempty"`
	OnFailure []string `json:"on_failure,omitempty"`
	// Timeout bounds each command (DefaultHookTimeout when not set).
	Timeout time.Duration `json:"timeout,omitempty"`
}

// Empty reports whether no command is configured.
func (h Hooks) Empty() bool { return len(h.Before) == 0 && len(h.After) == 0 && len(h.OnFailure) == 0 }

// Defaults and limits of the hook and health attributes.
const (
	DefaultHookTimeout = 5 * time.Minute
	MaxHookTimeout     = 24 * time.Hour
	MinAlertAfter      = time.Minute
)

// decodeHooks reads a backup's before, after, on_failure, hook_timeout and
// alert_after attributes. A hook takes no secret: its argv is written to
// logs and the audit trail, so secret(...) is refused like anywhere else.
func decodeHooks(attrs hcl.Attributes, ctx *hcl.EvalContext, bk *Backup) hcl.Diagnostics {
	var diags hcl.Diagnostics
	bk.Hooks.Timeout = DefaultHookTimeout
	argv := func(n string, out *[]string) {
		a, ok := attrs[n]
		if !ok {
			return
		}
		l, ok := evalStrings(a, ctx, &diags)
		if !ok {
			return
		}
		if len(l) == 0 {
			diags = append(diags, attrError(a, "Invalid "+n, fmt.Sprintf(
				"The command is empty: write %s = [\"program\", \"argument\", ...]; the first element is the program, run without a shell.", n)))
			return
		}
		if strings.TrimSpace(l[0]) == "" {
			d := attrError(a, "Invalid "+n, fmt.Sprintf("The program (the first element of %s) is empty.", n))
			if tc, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok && len(tc.Exprs) == len(l) {
				d.Subject = tc.Exprs[0].Range().Ptr()
			}
			diags = append(diags, d)
			return
		}
		for i, s := range l {
			if strings.ContainsRune(s, 0) {
				diags = append(diags, attrError(a, "Invalid "+n, fmt.Sprintf("Element %d of %s contains a NUL character.", i+1, n)))
				return
			}
		}
		*out = l
	}
	argv("before", &bk.Hooks.Before)
	argv("after", &bk.Hooks.After)
	argv("on_failure", &bk.Hooks.OnFailure)
	if a, ok := attrs["hook_timeout"]; ok {
		if v, ok := evalDuration(a, ctx, &diags); ok {
			switch {
			case v < time.Second:
				diags = append(diags, attrError(a, "Invalid hook_timeout", "hook_timeout is at least 1s: every hook command must be given time to run."))
			case v > MaxHookTimeout:
				diags = append(diags, attrError(a, "Invalid hook_timeout", "hook_timeout is at most 24h: a longer hook would hold the set up for days."))
			default:
				bk.Hooks.Timeout = v
			}
		}
	}
	if a, ok := attrs["alert_after"]; ok {
		if v, ok := evalDuration(a, ctx, &diags); ok {
			if v < MinAlertAfter {
				diags = append(diags, attrError(a, "Invalid alert_after", "alert_after is at least 1m: it is how long the set may go without a successful run before it is stale."))
			} else {
				bk.AlertAfter = v
			}
		}
	}
	return diags
}

// notYet reports reserved attributes that this version does not implement.
func notYet(attrs hcl.Attributes, names ...string) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, n := range names {
		if a, ok := attrs[n]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Not supported yet",
				Detail: n + " is not supported by this version of robo.", Subject: &a.NameRange})
		}
	}
	return diags
}
