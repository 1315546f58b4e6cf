package schema

import "github.com/hashicorp/hcl/v2"

// decodeHooks reads a backup's before, after, on_failure, hook_timeout and
// alert_after attributes. Not implemented yet: using them is an error, so
// that nothing a user writes is silently ignored.
func decodeHooks(attrs hcl.Attributes, ctx *hcl.EvalContext, bk *Backup) hcl.Diagnostics {
	return notYet(attrs, "before", "after", "on_failure", "hook_timeout", "alert_after")
}

// decodeNotifiers reads the notify blocks. Not implemented yet.
func decodeNotifiers(blocks []*hcl.Block, ctx *hcl.EvalContext, cfg *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, b := range blocks {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Not supported yet",
			Detail: "notify blocks are not supported by this version of robo.", Subject: &b.DefRange})
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
