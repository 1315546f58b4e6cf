package schema

import (
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"
)

// Notifier is a notify block: where robo reports a set's outcome
// (internal/notify sends it). Exactly one of a webhook URL (URL or
// URLSecret) and SMTP is set.
type Notifier struct {
	Name string
	// URL is the webhook's URL as written. It may carry a token, so it is
	// never printed in full (notify.RedactURL shows scheme://host/…).
	URL string
	// URLSecret is set instead of URL when the URL is secret("name").
	URLSecret *SecretRef
	// Format is the webhook's convention: "json" (one POST of the event)
	// or "healthchecks" (success to URL, failure to URL/fail).
	Format string
	SMTP   *SMTP
	// On are the outcomes that send: "failure", "success", "stale".
	On []string
	// Sets limits the notifier to these backup sets (nil: every set).
	Sets []string
	// Timeout bounds one send.
	Timeout   time.Duration
	DeclRange hcl.Range
}

// SMTP is a notify block's smtp block: plain-text email.
type SMTP struct {
	Host string
	Port int
	// Username and Password authenticate (AUTH PLAIN); both or neither.
	Username string
	Password *SecretRef
	From     string
	To       []string
	// StartTLS upgrades the connection before anything is sent and fails
	// when the server does not offer it.
	StartTLS bool
}

// Kind is "webhook" or "smtp".
func (n *Notifier) Kind() string {
	if n.SMTP != nil {
		return "smtp"
	}
	return "webhook"
}

// Wants reports whether the notifier sends for this outcome class
// ("failure", "success", "stale") and set.
func (n *Notifier) Wants(class, set string) bool {
	want := false
	for _, o := range n.On {
		if o == class {
			want = true
		}
	}
	if !want {
		return false
	}
	if len(n.Sets) == 0 || set == "" {
		return true
	}
	for _, s := range n.Sets {
		if s == set {
			return true
		}
	}
	return false
}

// Notification outcome classes and defaults.
const (
	NotifyFailure = "failure"
	NotifySuccess = "success"
	NotifyStale   = "stale"

	DefaultNotifyTimeout = 10 * time.Second
	MaxNotifyTimeout     = 5 * time.Minute
)

var notifySchema = &hcl.BodySchema{
	Attributes: []hcl.AttributeSchema{{Name: "url"}, {Name: "format"}, {Name: "on"}, {Name: "sets"}, {Name: "timeout"}},
	Blocks:     []hcl.BlockHeaderSchema{{Type: "smtp"}},
}

var smtpSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "host", Required: true}, {Name: "port"}, {Name: "username"}, {Name: "password"},
	{Name: "from", Required: true}, {Name: "to", Required: true}, {Name: "starttls"},
}}

// decodeNotifiers reads the notify blocks. It runs after the backup blocks,
// so a notifier's sets can be checked against them.
func decodeNotifiers(blocks []*hcl.Block, ctx *hcl.EvalContext, cfg *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	if cfg.Notifiers == nil {
		cfg.Notifiers = map[string]*Notifier{}
	}
	for _, b := range blocks {
		name := b.Labels[0]
		if !validName(name) {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid notify name",
				Detail: fmt.Sprintf("%q is not a valid notify name: use letters, digits, '-', '_' and '.', starting with a letter or digit.", name), Subject: &b.LabelRanges[0]})
			continue
		}
		if prev, ok := cfg.Notifiers[name]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate notify block",
				Detail: fmt.Sprintf("A notify block named %q was already declared at %s.", name, prev.DeclRange), Subject: &b.LabelRanges[0]})
			continue
		}
		n, d := decodeNotifier(b, ctx, cfg)
		diags = append(diags, d...)
		cfg.Notifiers[name] = n
	}
	return diags
}

func decodeNotifier(b *hcl.Block, ctx *hcl.EvalContext, cfg *Config) (*Notifier, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	n := &Notifier{Name: b.Labels[0], Format: "json", Timeout: DefaultNotifyTimeout, DeclRange: b.DefRange}
	content, d := b.Body.Content(notifySchema)
	diags = append(diags, d...)
	attrs := content.Attributes
	smtps := content.Blocks.OfType("smtp")
	urlAttr, hasURL := attrs["url"]
	switch {
	case !hasURL && len(smtps) == 0:
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing notification target",
			Detail: "A notify block needs a webhook url = \"https://...\" or an smtp { } block.", Subject: &b.DefRange})
	case hasURL && len(smtps) > 0:
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Conflicting notification targets",
			Detail: "A notify block has either a url or an smtp block, not both: declare two notify blocks to use both.", Subject: &smtps[0].DefRange})
	}
	for _, extra := range smtps[min(1, len(smtps)):] {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate smtp block",
			Detail: fmt.Sprintf("A notify block has at most one smtp block; the first is at %s.", smtps[0].DefRange), Subject: &extra.DefRange})
	}
	if hasURL {
		decodeURL(urlAttr, ctx, n, &diags)
	}
	if a, ok := attrs["format"]; ok {
		if s, ok := evalString(a, ctx, &diags); ok && checkOneOf(a, s, []string{"json", "healthchecks"}, &diags) {
			n.Format = s
			if !hasURL {
				diags = append(diags, attrError(a, "Invalid format", "format applies to a webhook (url); an smtp notifier sends plain-text email."))
			}
		}
	}
	if len(smtps) > 0 && !hasURL {
		n.SMTP = decodeSMTP(smtps[0], ctx, &diags)
	}
	n.On = []string{NotifyFailure}
	if n.Format == "healthchecks" {
		// A healthchecks.io check goes down when no success ping arrives.
		n.On = []string{NotifySuccess, NotifyFailure}
	}
	if a, ok := attrs["on"]; ok {
		if l, ok := evalStrings(a, ctx, &diags); ok {
			if len(l) == 0 {
				diags = append(diags, attrError(a, "Invalid on", "on is empty: name at least one of \"failure\", \"success\" and \"stale\", or remove the notify block."))
			}
			good := true
			for i, s := range l {
				if s != NotifyFailure && s != NotifySuccess && s != NotifyStale {
					diags = append(diags, elemError(a, i, len(l), "Invalid on", fmt.Sprintf("%q is not an outcome: use \"failure\", \"success\" or \"stale\".", s)))
					good = false
				}
			}
			if good && len(l) > 0 {
				n.On = l
			}
		}
	}
	if a, ok := attrs["sets"]; ok {
		if l, ok := evalStrings(a, ctx, &diags); ok {
			good := true
			for i, s := range l {
				if cfg.Backup(s) == nil {
					diags = append(diags, elemError(a, i, len(l), "Unknown backup set", fmt.Sprintf("There is no backup block named %q.", s)))
					good = false
				}
			}
			if len(l) == 0 {
				diags = append(diags, attrError(a, "Invalid sets", "sets is empty: remove it to notify about every set."))
				good = false
			}
			if good {
				n.Sets = l
			}
		}
	}
	if a, ok := attrs["timeout"]; ok {
		if v, ok := evalDuration(a, ctx, &diags); ok {
			if v < time.Second || v > MaxNotifyTimeout {
				diags = append(diags, attrError(a, "Invalid timeout", "timeout is from 1s to 5m: a notification must never hold a backup up for long."))
			} else {
				n.Timeout = v
			}
		}
	}
	return n, diags
}

// decodeURL reads a webhook URL: a string, or secret("name") for a URL
// that is itself a credential. The URL is never repeated in a diagnostic.
func decodeURL(a *hcl.Attribute, ctx *hcl.EvalContext, n *Notifier, diags *hcl.Diagnostics) {
	if v, d := a.Expr.Value(ctx); !d.HasErrors() && v.ContainsMarked() {
		if ref, ok := evalSecret(a, ctx, diags); ok {
			n.URLSecret = &ref
		}
		return
	}
	s, ok := evalString(a, ctx, diags)
	if !ok {
		return
	}
	if err := CheckWebhookURL(s); err != nil {
		*diags = append(*diags, attrError(a, "Invalid url", err.Error()))
		return
	}
	n.URL = s
}

// CheckWebhookURL checks a webhook URL without repeating it in the error
// (it may carry a token).
func CheckWebhookURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case strings.TrimSpace(s) == "":
		return fmt.Errorf("the url is empty")
	case strings.ContainsAny(s, " \t\r\n"):
		return fmt.Errorf("the url contains white space")
	case err != nil:
		return fmt.Errorf("the url cannot be parsed; write it as \"https://host/path\"")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("the url must start with https:// (or http://)")
	case u.Host == "":
		return fmt.Errorf("the url has no host; write it as \"https://host/path\"")
	}
	return nil
}

func decodeSMTP(b *hcl.Block, ctx *hcl.EvalContext, diags *hcl.Diagnostics) *SMTP {
	content, d := b.Body.Content(smtpSchema)
	*diags = append(*diags, d...)
	attrs := content.Attributes
	s := &SMTP{StartTLS: true}
	if a, ok := attrs["starttls"]; ok {
		if v, ok := evalTyped(a, ctx, cty.Bool, diags); ok {
			s.StartTLS = v.True()
		}
	}
	s.Port = 587
	if !s.StartTLS {
		s.Port = 25
	}
	if a, ok := attrs["host"]; ok {
		if h, ok := evalString(a, ctx, diags); ok {
			if strings.TrimSpace(h) == "" || strings.ContainsAny(h, " \t\r\n/:") && net.ParseIP(h) == nil {
				*diags = append(*diags, attrError(a, "Invalid host", "host is a mail server's name or address, such as \"smtp.example.com\", without a port (set port) or scheme."))
			} else {
				s.Host = h
			}
		}
	}
	if a, ok := attrs["port"]; ok {
		if v, ok := evalTyped(a, ctx, cty.Number, diags); ok {
			var p int
			if err := gocty.FromCtyValue(v, &p); err != nil || p < 1 || p > 65535 {
				*diags = append(*diags, attrError(a, "Invalid port", "port must be a whole number from 1 to 65535 (587 for submission with STARTTLS)."))
			} else {
				s.Port = p
			}
		}
	}
	if a, ok := attrs["username"]; ok {
		if u, ok := evalString(a, ctx, diags); ok {
			if strings.TrimSpace(u) == "" || strings.ContainsAny(u, "\x00\r\n") {
				*diags = append(*diags, attrError(a, "Invalid username", "The username is empty or contains a line break."))
			} else {
				s.Username = u
			}
		}
	}
	if a, ok := attrs["password"]; ok {
		if ref, ok := evalSecret(a, ctx, diags); ok {
			s.Password = &ref
		}
	}
	pa, hasPW := attrs["password"]
	ua, hasUser := attrs["username"]
	switch {
	case hasPW && !hasUser:
		*diags = append(*diags, attrError(pa, "Missing username", "A password needs a username: robo authenticates with AUTH PLAIN."))
	case hasUser && !hasPW:
		*diags = append(*diags, attrError(ua, "Missing password", "A username needs a password = secret(\"NAME\"); remove both to send without authenticating."))
	case hasPW && !s.StartTLS && s.Host != "" && !isLoopbackHost(s.Host):
		*diags = append(*diags, attrError(pa, "Password over plain text",
			"The password would cross the network unencrypted: set starttls = true (the default), or send through a relay on this host without a password."))
	}
	addr := func(a *hcl.Attribute, i, n int, v string) bool {
		if strings.ContainsAny(v, "\r\n") {
			*diags = append(*diags, elemError(a, i, n, "Invalid "+a.Name, "An address contains a line break."))
			return false
		}
		if _, err := mail.ParseAddress(v); err != nil {
			*diags = append(*diags, elemError(a, i, n, "Invalid "+a.Name, fmt.Sprintf("%q is not an email address such as \"robo@example.com\" or \"Robo <robo@example.com>\".", v)))
			return false
		}
		return true
	}
	if a, ok := attrs["from"]; ok {
		if v, ok := evalString(a, ctx, diags); ok && addr(a, 0, 1, v) {
			s.From = v
		}
	}
	if a, ok := attrs["to"]; ok {
		if l, ok := evalStrings(a, ctx, diags); ok {
			if len(l) == 0 {
				*diags = append(*diags, attrError(a, "Invalid to", "to is empty: name at least one recipient."))
			}
			good := true
			for i, v := range l {
				good = addr(a, i, len(l), v) && good
			}
			if good {
				s.To = l
			}
		}
	}
	return s
}

func isLoopbackHost(h string) bool {
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

// elemError points at element i of a list attribute of n elements when it
// is written as a literal list, else at the attribute.
func elemError(a *hcl.Attribute, i, n int, summary, detail string) *hcl.Diagnostic {
	d := attrError(a, summary, detail)
	if tc, ok := a.Expr.(*hclsyntax.TupleConsExpr); ok && len(tc.Exprs) == n && i < n {
		d.Subject = tc.Exprs[i].Range().Ptr()
	}
	return d
}
