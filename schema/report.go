package schema

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/hashicorp/hcl/v2"
)

// Fleet holds the blocks that make a host part of a fleet (docs/fleet.md):
// where it writes its report after every run, where it writes a Prometheus
// textfile, and where it publishes its host key. Each is nil when the block
// is absent.
type Fleet struct {
	Report  *Report
	Metrics *Metrics
	HostKey *HostKey
}

// Report is the report block: every run writes this host's JSON report to
// Dir (a local folder or a UNC folder on a share robo reaches with a share
// block), as HOST.json.
type Report struct {
	// Dir is the normalized folder (\\server\share\dir or a local path).
	Dir  string
	Kind PathKind
	// Host names the report file and the host in it (default: hostname()).
	Host      string
	DeclRange hcl.Range
}

// Metrics is the metrics block: after every run robo replaces Textfile
// with Prometheus text-format metrics for a textfile collector
// (windows_exporter, node_exporter).
type Metrics struct {
	// Textfile is an absolute local path ending in .prom.
	Textfile  string
	DeclRange hcl.Range
}

// HostKey is the host_key block: robo watch and the service create this
// host's age identity on first start when there is none, and publish its
// public key to Publish as HOST.txt.
type HostKey struct {
	// Publish is the normalized folder the public key is written to, or ""
	// (create the identity, publish nothing).
	Publish     string
	PublishKind PathKind
	// Host names the published file (default: hostname()).
	Host      string
	DeclRange hcl.Range
}

// MaxHostName is the longest host name robo accepts in a report or key
// file name (a DNS label is 63 bytes; a FQDN up to 253).
const MaxHostName = 253

var hostNamePattern = regexp.MustCompile(`^[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?$`)

// ValidHostName reports whether s can name a host in a fleet folder: ASCII
// letters, digits, '-', '_' and '.', starting and ending with a letter or
// digit, no "..", at most MaxHostName bytes, and not a Windows device name
// (CON, NUL, COM1...), so that HOST.json and HOST.txt are safe file names on
// every OS.
func ValidHostName(s string) bool {
	if len(s) == 0 || len(s) > MaxHostName || !hostNamePattern.MatchString(s) || strings.Contains(s, "..") {
		return false
	}
	base := strings.ToUpper(s)
	if i := strings.IndexByte(base, '.'); i >= 0 {
		base = base[:i]
	}
	switch base {
	case "CON", "PRN", "AUX", "NUL", "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9":
		return false
	}
	return true
}

var fleetBlocks = []string{"report", "metrics", "host_key"}

// decodeFleet decodes the report, metrics and host_key blocks (at most one
// of each).
func decodeFleet(byType map[string][]*hcl.Block, ctx *hcl.EvalContext, cfg *Config, opts *Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, typ := range fleetBlocks {
		blocks := byType[typ]
		for i, b := range blocks {
			if i > 0 {
				diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate " + typ + " block",
					Detail: fmt.Sprintf("Only one %s block is allowed; the first is at %s.", typ, blocks[0].DefRange), Subject: &b.DefRange})
				continue
			}
			switch typ {
			case "report":
				diags = append(diags, decodeReport(b, ctx, cfg, opts)...)
			case "metrics":
				diags = append(diags, decodeMetrics(b, ctx, cfg, opts)...)
			case "host_key":
				diags = append(diags, decodeHostKey(b, ctx, cfg, opts)...)
			}
		}
	}
	return diags
}

func decodeReport(b *hcl.Block, ctx *hcl.EvalContext, cfg *Config, opts *Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	content, d := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "path", Required: true}, {Name: "host"}}})
	diags = append(diags, d...)
	r := &Report{DeclRange: b.DefRange}
	if a, ok := content.Attributes["path"]; ok {
		r.Dir, r.Kind, _ = fleetFolder(a, ctx, cfg, opts, &diags)
	}
	r.Host = fleetHost(content.Attributes["host"], ctx, opts, b, &diags)
	if r.Dir != "" && r.Host != "" {
		cfg.Fleet.Report = r
	}
	return diags
}

func decodeHostKey(b *hcl.Block, ctx *hcl.EvalContext, cfg *Config, opts *Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	content, d := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "publish"}, {Name: "host"}}})
	diags = append(diags, d...)
	k := &HostKey{DeclRange: b.DefRange}
	ok := true
	if a, found := content.Attributes["publish"]; found {
		k.Publish, k.PublishKind, ok = fleetFolder(a, ctx, cfg, opts, &diags)
	}
	k.Host = fleetHost(content.Attributes["host"], ctx, opts, b, &diags)
	if ok && k.Host != "" {
		cfg.Fleet.HostKey = k
	}
	return diags
}

func decodeMetrics(b *hcl.Block, ctx *hcl.EvalContext, cfg *Config, opts *Options) hcl.Diagnostics {
	var diags hcl.Diagnostics
	content, d := b.Body.Content(&hcl.BodySchema{Attributes: []hcl.AttributeSchema{{Name: "textfile", Required: true}}})
	diags = append(diags, d...)
	a, ok := content.Attributes["textfile"]
	if !ok {
		return diags
	}
	s, ok := evalString(a, ctx, &diags)
	if !ok {
		return diags
	}
	p, kind, err := NormalizePath(s, cfg.Dir, opts.goos())
	switch {
	case err != nil:
		diags = append(diags, attrError(a, "Invalid textfile", err.Error()))
	case kind == UNCPath:
		diags = append(diags, attrError(a, "Invalid textfile", "The metrics textfile is read by an exporter on this host: it must be on a local disk, not on a share."))
	case !strings.HasSuffix(strings.ToLower(p), ".prom"):
		diags = append(diags, attrError(a, "Invalid textfile", fmt.Sprintf("%q does not end in .prom: windows_exporter's and node_exporter's textfile collectors read only *.prom files.", s)))
	default:
		cfg.Fleet.Metrics = &Metrics{Textfile: p, DeclRange: b.DefRange}
	}
	return diags
}

// fleetFolder evaluates a folder attribute: a local path or a UNC path that
// a share block covers (robo reaches shares only through share blocks,
// except on Windows, where the service's own account may reach it).
func fleetFolder(a *hcl.Attribute, ctx *hcl.EvalContext, cfg *Config, opts *Options, diags *hcl.Diagnostics) (string, PathKind, bool) {
	s, ok := evalString(a, ctx, diags)
	if !ok {
		return "", 0, false
	}
	p, kind, err := NormalizePath(s, cfg.Dir, opts.goos())
	if err != nil {
		*diags = append(*diags, attrError(a, "Invalid "+a.Name, err.Error()))
		return "", 0, false
	}
	if kind == UNCPath && opts.goos() != "windows" && cfg.ShareFor(p) == nil {
		*diags = append(*diags, attrError(a, "No share block for "+a.Name, fmt.Sprintf(
			"%s is on a share, and robo reaches shares only through a share block on this OS: declare share \"NAME\" { unc = ... } covering it.", p)))
		return "", 0, false
	}
	return p, kind, true
}

// fleetHost evaluates a host attribute, or this host's name when a is nil.
func fleetHost(a *hcl.Attribute, ctx *hcl.EvalContext, opts *Options, b *hcl.Block, diags *hcl.Diagnostics) string {
	var h string
	if a == nil {
		name, err := opts.Hostname()
		if err != nil {
			*diags = append(*diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Cannot name this host",
				Detail: fmt.Sprintf("robo needs this host's name for the %s block: %v. Set host = \"NAME\".", b.Type, err), Subject: &b.DefRange})
			return ""
		}
		h = name
		if !ValidHostName(h) {
			*diags = append(*diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Host name not usable",
				Detail: fmt.Sprintf("This host's name %q cannot name a file in a fleet folder (letters, digits, '-', '_' and '.'). Set host = \"NAME\" in the %s block.", h, b.Type), Subject: &b.DefRange})
			return ""
		}
		return h
	}
	h, ok := evalString(a, ctx, diags)
	if !ok {
		return ""
	}
	if !ValidHostName(h) {
		*diags = append(*diags, attrError(a, "Invalid host", fmt.Sprintf("%q cannot name a host in a fleet folder: use letters, digits, '-', '_' and '.', starting and ending with a letter or digit, at most %d characters.", h, MaxHostName)))
		return ""
	}
	return h
}
