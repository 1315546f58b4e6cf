package schema

import (
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"
)

var shareSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "for_each"}, // foreach.go
	{Name: "unc", Required: true},
	{Name: "username", Required: true},
	{Name: "password", Required: true},
	{Name: "port"},
	{Name: "timeout"},
}}

// Bounds of a share's timeout: how long an SMB server may leave a request
// unanswered before robo gives up on it (docs/shares.md, "Reconnects").
const (
	MinShareTimeout = time.Second
	MaxShareTimeout = time.Hour
)

// decodeShares decodes every share block (and every instance of a share
// block with for_each) and makes share.NAME.unc, or for a block with
// for_each share.NAME["KEY"].unc, available to the expressions evaluated
// after it (locals, backups).
func decodeShares(blocks []*hcl.Block, ctx *hcl.EvalContext, cfg *Config, opts *Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	labels := map[string]*hcl.Block{}
	for _, b := range blocks {
		name := b.Labels[0]
		if !validName(name) || strings.ContainsAny(name, ".") {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid share name",
				Detail: fmt.Sprintf("%q is not a valid share name: use letters, digits, '-' and '_', starting with a letter or digit.", name), Subject: &b.LabelRanges[0]})
			continue
		}
		if prev, ok := labels[name]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate share",
				Detail: fmt.Sprintf("A share named %q was already declared at %s.", name, prev.DefRange), Subject: &b.LabelRanges[0]})
			continue
		}
		labels[name] = b
		insts, fe, d := expandForEach(b, ctx)
		diags = append(diags, d...)
		if fe == nil {
			diags = append(diags, eachOutsideForEach(decodeShare(b, name, nil, ctx, cfg))...)
			continue
		}
		diags = append(diags, decodeInstances(b, name, insts, fe, shareSchema, ctx, func(iname string, inst *Instance, ictx *hcl.EvalContext) hcl.Diagnostics {
			return decodeShare(b, iname, inst, ictx, cfg)
		})...)
	}
	objs := map[string]cty.Value{}
	each := map[string]map[string]cty.Value{}
	for name, sh := range cfg.Shares {
		obj := cty.ObjectVal(map[string]cty.Value{"unc": cty.StringVal(sh.UNC), "name": cty.StringVal(name)})
		if sh.Instance == nil {
			objs[name] = obj
			continue
		}
		if each[sh.Instance.Block] == nil {
			each[sh.Instance.Block] = map[string]cty.Value{}
		}
		each[sh.Instance.Block][sh.Instance.Key] = obj
	}
	for block, m := range each {
		objs[block] = cty.ObjectVal(m)
	}
	for name, b := range labels {
		if _, ok := objs[name]; !ok {
			if c, _, _ := b.Body.PartialContent(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "for_each"}}}); c.Attributes["for_each"] != nil {
				objs[name] = cty.EmptyObjectVal // for_each with no instances (or in error)
			}
		}
	}
	ctx.Variables["share"] = cty.ObjectVal(objs)
	return diags
}

// decodeShare decodes one share: a block, or one instance of a block with
// for_each (named BLOCK.KEY, ctx binding each).
func decodeShare(b *hcl.Block, name string, inst *Instance, ctx *hcl.EvalContext, cfg *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	content, d := b.Body.Content(shareSchema)
	diags = append(diags, d...)
	sh := &Share{Name: name, DeclRange: b.DefRange, Instance: inst}
	if a, ok := content.Attributes["unc"]; ok {
		if s, ok := evalString(a, ctx, &diags); ok {
			p, kind, err := NormalizePath(s, cfg.Dir, "windows")
			switch {
			case err != nil:
				diags = append(diags, attrError(a, "Invalid unc", err.Error()))
			case kind != UNCPath:
				diags = append(diags, attrError(a, "Invalid unc", fmt.Sprintf("%q is not a UNC path: write //server/share or \"\\\\\\\\server\\\\share\".", s)))
			default:
				sh.UNC = p
			}
		}
	}
	if a, ok := content.Attributes["username"]; ok {
		if s, ok := evalString(a, ctx, &diags); ok {
			if err := checkUsername(s); err != nil {
				diags = append(diags, attrError(a, "Invalid username", err.Error()))
			} else {
				sh.Username = s
			}
		}
	}
	if a, ok := content.Attributes["password"]; ok {
		if ref, ok := evalSecret(a, ctx, &diags); ok {
			sh.Password = ref
		}
	}
	if a, ok := content.Attributes["port"]; ok {
		if v, ok := evalTyped(a, ctx, cty.Number, &diags); ok {
			var p int
			if err := gocty.FromCtyValue(v, &p); err != nil || p < 1 || p > 65535 {
				diags = append(diags, attrError(a, "Invalid port", "port must be a whole number from 1 to 65535 (SMB's default is 445)."))
			} else {
				sh.Port = p
			}
		}
	}
	if a, ok := content.Attributes["timeout"]; ok {
		if v, ok := evalDuration(a, ctx, &diags); ok {
			switch {
			case v < MinShareTimeout:
				diags = append(diags, attrError(a, "Invalid timeout", "timeout is at least 1s: it is how long the server may take to answer one request (the default is 60s)."))
			case v > MaxShareTimeout:
				diags = append(diags, attrError(a, "Invalid timeout", "timeout is at most 1h: a server silent for longer has stopped, and the set would hold its lock all that time (the default is 60s)."))
			default:
				sh.Timeout = v
			}
		}
	}
	for _, other := range cfg.Shares {
		if sh.UNC != "" && other.UNC != "" && strings.EqualFold(sh.UNC, other.UNC) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate share root",
				Detail: fmt.Sprintf("Share %q has the same UNC root as share %q (%s): robo could not tell which credentials to use.", name, other.Name, other.DeclRange), Subject: &b.LabelRanges[0]})
		}
	}
	cfg.Shares[name] = sh
	return diags
}

// checkUsername accepts user, DOMAIN\user and user@domain.
func checkUsername(s string) error {
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("the username is empty")
	}
	if strings.ContainsAny(s, "\x00\r\n/:*?\"<>|") {
		return fmt.Errorf("%q contains a character a Windows account name cannot have", s)
	}
	if domain, user, ok := strings.Cut(s, `\`); ok && (domain == "" || user == "" || strings.Contains(user, `\`)) {
		return fmt.Errorf("%q is not DOMAIN\\user", s)
	}
	if user, domain, ok := strings.Cut(s, "@"); ok && (user == "" || domain == "" || strings.Contains(s, `\`)) {
		return fmt.Errorf("%q is not user@domain", s)
	}
	return nil
}
