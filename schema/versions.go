package schema

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// Versions is a backup's versions block: every file a run would overwrite
// or delete is kept under .robo-versions/<run time>/ on the destination,
// and run folders are pruned by age (KeepAge) or count (KeepCount). Exactly
// one of the two is set.
type Versions struct {
	KeepAge   time.Duration
	KeepCount int
	DeclRange hcl.Range
}

var versionsSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "keep", Required: true}}}

// decodeVersions reads a backup's versions block, verify_after_apply
// (true: compare size and time after each apply; "checksum": compare
// content too) and changing_files.
func decodeVersions(blocks hcl.Blocks, attrs hcl.Attributes, ctx *hcl.EvalContext, bk *Backup) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if a, ok := attrs["changing_files"]; ok {
		if v, ok := evalString(a, ctx, &diags); ok {
			if v == ChangingFail || v == ChangingWarn {
				bk.ChangingFiles = v
			} else {
				diags = append(diags, attrError(a, "Invalid changing_files",
					fmt.Sprintf("%q is not a valid changing_files: use \"fail\" (a file that keeps changing while it is copied makes the set partial and stops its deletions) or \"warn\" (the set succeeds with a warning).", v)))
			}
		}
	}
	if a, ok := attrs["verify_after_apply"]; ok {
		v, d := a.Expr.Value(ctx)
		diags = append(diags, d...)
		switch {
		case d.HasErrors() || !v.IsWhollyKnown() || v.IsNull():
		case v.Type() == cty.Bool:
			if v.True() {
				bk.VerifyAfterApply = "metadata"
			}
		case v.Type() == cty.String && v.AsString() == "checksum":
			bk.VerifyAfterApply = "checksum"
		default:
			diags = append(diags, attrError(a, "Invalid verify_after_apply",
				"verify_after_apply is true (compare size and time after each apply), \"checksum\" (compare content too) or false."))
		}
	}
	for i, b := range blocks {
		if i > 0 {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate versions block",
				Detail: fmt.Sprintf("A backup set has at most one versions block; the first is at %s.", blocks[0].DefRange), Subject: &b.DefRange})
			continue
		}
		content, d := b.Body.Content(versionsSchema)
		diags = append(diags, d...)
		a, ok := content.Attributes["keep"]
		if !ok {
			continue
		}
		if v, ok := evalKeep(a, ctx, &diags); ok {
			v.DeclRange = b.DefRange
			bk.Versions = v
		}
	}
	return diags
}

// evalKeep reads keep: a duration of at least 1h ("30d", "12h") or a
// whole number of runs of at least 1.
func evalKeep(a *hcl.Attribute, ctx *hcl.EvalContext, diags *hcl.Diagnostics) (*Versions, bool) {
	v, d := a.Expr.Value(ctx)
	*diags = append(*diags, d...)
	if d.HasErrors() || !v.IsWhollyKnown() {
		return nil, false
	}
	if d := rejectSecret(a, v); d != nil {
		*diags = append(*diags, d)
		return nil, false
	}
	bad := func(why string) (*Versions, bool) {
		*diags = append(*diags, attrError(a, "Invalid keep",
			why+`keep is how long old versions are kept, at least "1h" (such as "30d" or "12h"), or how many runs' versions are kept, at least 1 (such as 10).`))
		return nil, false
	}
	if v.IsNull() {
		return bad("keep must not be null. ")
	}
	switch v.Type() {
	case cty.Number:
		f, _ := v.AsBigFloat().Float64()
		if f < 1 || f != math.Trunc(f) || f > math.MaxInt32 {
			return bad(fmt.Sprintf("%s is not a whole number of at least 1. ", v.AsBigFloat().Text('g', -1)))
		}
		return &Versions{KeepCount: int(f)}, true
	case cty.String:
		s := strings.TrimSpace(v.AsString())
		if n, err := strconv.Atoi(s); err == nil {
			if n < 1 {
				return bad(fmt.Sprintf("%q is not a count of at least 1. ", s))
			}
			return &Versions{KeepCount: n}, true
		}
		dur, err := ParseDuration(s)
		if err != nil {
			return bad(err.Error() + ". ")
		}
		if dur < time.Hour {
			return bad(fmt.Sprintf("%q is shorter than 1h. ", s))
		}
		return &Versions{KeepAge: dur}, true
	}
	return bad(fmt.Sprintf("keep must be a string or a number, not a %s. ", v.Type().FriendlyName()))
}
