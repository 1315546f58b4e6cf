package schema

import "github.com/hashicorp/hcl/v2"

// decodeVersions reads a backup's versions block and verify_after_apply.
// Not implemented yet: using them is an error.
func decodeVersions(blocks hcl.Blocks, attrs hcl.Attributes, ctx *hcl.EvalContext, bk *Backup) hcl.Diagnostics {
	diags := notYet(attrs, "verify_after_apply")
	for _, b := range blocks {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Not supported yet",
			Detail: "versions blocks are not supported by this version of robo.", Subject: &b.DefRange})
	}
	return diags
}
