package schema

import (
	"fmt"
	"math"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/gocty"
)

// Remote is a remote block: an offsite store (S3, Azure Blob, SFTP or
// WebDAV) that a backup names in its destination as "NAME:path"
// (docs/offsite.md). Credentials are secret references, never values.
type Remote struct {
	Name string
	// Type is one of RemoteTypes.
	Type string
	// Endpoint is the S3 or Azure endpoint URL ("" for the service's own).
	Endpoint string
	// Region is the S3 region.
	Region string
	// Bucket is the S3 bucket or the Azure container.
	Bucket string
	// StorageClass is the S3 storage class or the Azure access tier.
	StorageClass string
	// PathStyle addresses S3 buckets as ENDPOINT/BUCKET (most S3-compatible
	// servers) rather than BUCKET.ENDPOINT.
	PathStyle bool
	// AccessKeyID is the S3 access key ID (an identifier, shown in audit
	// events like a share's username); SecretAccessKey its secret.
	AccessKeyID     string
	SecretAccessKey SecretRef
	// Account and Key are the Azure storage account and its key.
	Account string
	Key     SecretRef
	// Host, Port, User, Password, PrivateKey and KnownHosts reach an SFTP
	// server. KnownHosts are known_hosts lines; the server's key must be
	// one of them.
	Host       string
	Port       int
	User       string
	Password   SecretRef
	PrivateKey SecretRef
	KnownHosts []string
	// URL is the WebDAV root (User and Password log in).
	URL string
	// BWLimit is the bandwidth timetable ("" when unlimited).
	BWLimit     Timetable
	BWLimitText string
	// Transfers bounds how many files move to or from the remote at once.
	Transfers int
	// MultipartThreshold is the size from which uploads go in parts of
	// ChunkSize (object stores).
	MultipartThreshold int64
	ChunkSize          int64
	// Timeout bounds how long one request may go unanswered.
	Timeout time.Duration

	DeclRange hcl.Range
	// Ranges holds the source range of each attribute that was set.
	Ranges map[string]hcl.Range
}

// RemoteTypes are the kinds of remote robo reaches.
var RemoteTypes = []string{"s3", "azureblob", "sftp", "webdav"}

// Remote defaults.
const (
	DefaultRemoteTransfers  = 4
	DefaultMultipartLimit   = 64 << 20
	DefaultChunkSize        = 16 << 20
	DefaultRemoteTimeout    = time.Minute
	MinChunkSize            = 5 << 20 // S3's smallest part
	MaxChunkSize            = 4 << 30
	DefaultSFTPPort         = 22
	remoteMinNameLen        = 2 // so that C:\x is never a remote
	remoteDestinationPrefix = ":"
)

var remoteSchema = &hcl.BodySchema{Attributes: []hcl.AttributeSchema{
	{Name: "type", Required: true},
	{Name: "endpoint"}, {Name: "region"}, {Name: "bucket"}, {Name: "container"}, {Name: "storage_class"}, {Name: "path_style"},
	{Name: "access_key_id"}, {Name: "secret_access_key"},
	{Name: "account"}, {Name: "key"},
	{Name: "host"}, {Name: "port"}, {Name: "user"}, {Name: "password"}, {Name: "private_key"}, {Name: "known_hosts"},
	{Name: "url"},
	{Name: "bwlimit"}, {Name: "transfers"}, {Name: "multipart_threshold"}, {Name: "chunk_size"}, {Name: "timeout"},
}}

// remoteAttrs says which attributes each type takes, and which it needs.
var remoteAttrs = map[string]struct{ allowed, required []string }{
	"s3":        {[]string{"endpoint", "region", "bucket", "storage_class", "path_style", "access_key_id", "secret_access_key"}, []string{"bucket", "access_key_id", "secret_access_key"}},
	"azureblob": {[]string{"endpoint", "account", "key", "container", "storage_class"}, []string{"account", "key", "container"}},
	"sftp":      {[]string{"host", "port", "user", "password", "private_key", "known_hosts"}, []string{"host", "user", "known_hosts"}},
	"webdav":    {[]string{"url", "user", "password"}, []string{"url"}},
}

var commonRemoteAttrs = []string{"type", "bwlimit", "transfers", "multipart_threshold", "chunk_size", "timeout"}

// decodeRemotes decodes every remote block into cfg.Remotes.
func decodeRemotes(blocks []*hcl.Block, ctx *hcl.EvalContext, cfg *Config) hcl.Diagnostics {
	var diags hcl.Diagnostics
	for _, b := range blocks {
		name := b.Labels[0]
		if !validName(name) || strings.Contains(name, ".") || len(name) < remoteMinNameLen {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Invalid remote name",
				Detail: fmt.Sprintf("%q is not a valid remote name: use at least %d letters, digits, '-' and '_', starting with a letter or digit (a one-letter name would read as a Windows drive).", name, remoteMinNameLen), Subject: &b.LabelRanges[0]})
			continue
		}
		if prev, ok := cfg.Remotes[name]; ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Duplicate remote",
				Detail: fmt.Sprintf("A remote named %q was already declared at %s.", name, prev.DeclRange), Subject: &b.LabelRanges[0]})
			continue
		}
		r, d := decodeRemote(b, name, ctx)
		diags = append(diags, d...)
		cfg.Remotes[name] = r
	}
	return diags
}

func decodeRemote(b *hcl.Block, name string, ctx *hcl.EvalContext) (*Remote, hcl.Diagnostics) {
	var diags hcl.Diagnostics
	content, d := b.Body.Content(remoteSchema)
	diags = append(diags, d...)
	r := &Remote{Name: name, Transfers: DefaultRemoteTransfers, MultipartThreshold: DefaultMultipartLimit, ChunkSize: DefaultChunkSize,
		Timeout: DefaultRemoteTimeout, DeclRange: b.DefRange, Ranges: map[string]hcl.Range{}}
	attrs := content.Attributes
	for n, a := range attrs {
		r.Ranges[n] = a.Expr.Range()
	}
	a, ok := attrs["type"]
	if !ok {
		return r, diags
	}
	t, ok := evalString(a, ctx, &diags)
	if !ok || !checkOneOf(a, t, RemoteTypes, &diags) {
		return r, diags
	}
	r.Type = t
	spec := remoteAttrs[t]
	allowed := map[string]bool{}
	for _, n := range append(append([]string{}, spec.allowed...), commonRemoteAttrs...) {
		allowed[n] = true
	}
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if !allowed[n] {
			diags = append(diags, attrError(attrs[n], "Attribute not valid for this remote type",
				fmt.Sprintf("A remote of type %q takes no %s; it takes %s.", t, n, quoteList(spec.allowed))))
			delete(attrs, n)
		}
	}
	for _, n := range spec.required {
		if _, ok := attrs[n]; !ok {
			diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing " + n,
				Detail: fmt.Sprintf("A remote of type %q needs %s.", t, n), Subject: &b.LabelRanges[0]})
		}
	}
	str := func(n string, out *string, check func(string) error) {
		if a, ok := attrs[n]; ok {
			if s, ok := evalString(a, ctx, &diags); ok {
				if err := checkPlain(s); err == nil && check != nil {
					err = check(s)
					if err != nil {
						diags = append(diags, attrError(a, "Invalid "+n, err.Error()))
						return
					}
				} else if err != nil {
					diags = append(diags, attrError(a, "Invalid "+n, err.Error()))
					return
				}
				*out = s
			}
		}
	}
	secret := func(n string, out *SecretRef) {
		if a, ok := attrs[n]; ok {
			if ref, ok := evalSecret(a, ctx, &diags); ok {
				*out = ref
			}
		}
	}
	str("endpoint", &r.Endpoint, checkURL)
	str("region", &r.Region, nil)
	str("bucket", &r.Bucket, checkBucket)
	str("container", &r.Bucket, checkBucket)
	str("storage_class", &r.StorageClass, nil)
	str("access_key_id", &r.AccessKeyID, nil)
	str("account", &r.Account, nil)
	str("host", &r.Host, checkHost)
	str("user", &r.User, nil)
	str("url", &r.URL, checkURL)
	secret("secret_access_key", &r.SecretAccessKey)
	secret("key", &r.Key)
	secret("password", &r.Password)
	secret("private_key", &r.PrivateKey)
	if a, ok := attrs["path_style"]; ok {
		if v, ok := evalTyped(a, ctx, cty.Bool, &diags); ok {
			r.PathStyle = v.True()
		}
	}
	if a, ok := attrs["port"]; ok {
		if v, ok := evalTyped(a, ctx, cty.Number, &diags); ok {
			var p int
			if err := gocty.FromCtyValue(v, &p); err != nil || p < 1 || p > 65535 {
				diags = append(diags, attrError(a, "Invalid port", "port must be a whole number from 1 to 65535 (SFTP's default is 22)."))
			} else {
				r.Port = p
			}
		}
	}
	if t == "sftp" && r.Port == 0 {
		r.Port = DefaultSFTPPort
	}
	if a, ok := attrs["known_hosts"]; ok {
		var lines []string
		v, d := a.Expr.Value(ctx)
		if !d.HasErrors() && v.Type() == cty.String {
			if s, ok := evalString(a, ctx, &diags); ok {
				lines = strings.Split(s, "\n")
			}
		} else if l, ok := evalStrings(a, ctx, &diags); ok {
			lines = l
		}
		for _, l := range lines {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			if len(strings.Fields(l)) < 3 {
				diags = append(diags, attrError(a, "Invalid known_hosts", fmt.Sprintf("%q is not a known_hosts line (\"HOST KEYTYPE BASE64KEY\", as ssh-keyscan prints).", l)))
				continue
			}
			r.KnownHosts = append(r.KnownHosts, l)
		}
		if len(r.KnownHosts) == 0 && !diags.HasErrors() {
			diags = append(diags, attrError(a, "Invalid known_hosts", "known_hosts holds no host key: robo never connects to an SFTP server whose key it cannot check."))
		}
	}
	if t == "sftp" && r.Password.Name == "" && r.PrivateKey.Name == "" {
		diags = append(diags, &hcl.Diagnostic{Severity: hcl.DiagError, Summary: "Missing credentials",
			Detail: "An sftp remote needs private_key = secret(\"NAME\") or password = secret(\"NAME\").", Subject: &b.LabelRanges[0]})
	}
	if a, ok := attrs["bwlimit"]; ok {
		if s, ok := evalString(a, ctx, &diags); ok {
			if tt, err := ParseTimetable(s); err != nil {
				diags = append(diags, attrError(a, "Invalid bwlimit", err.Error()))
			} else {
				r.BWLimit, r.BWLimitText = tt, s
			}
		}
	}
	if a, ok := attrs["transfers"]; ok {
		evalInt(a, ctx, 1, 64, &r.Transfers, &diags)
	}
	size := func(n string, lo, hi int64, out *int64) {
		if a, ok := attrs[n]; ok {
			if s, ok := evalString(a, ctx, &diags); ok {
				v, err := ParseSize(s)
				switch {
				case err != nil:
					diags = append(diags, attrError(a, "Invalid "+n, err.Error()))
				case v < lo || v > hi:
					diags = append(diags, attrError(a, "Invalid "+n, fmt.Sprintf("%s is from %s to %s.", n, FormatSize(lo), FormatSize(hi))))
				default:
					*out = v
				}
			}
		}
	}
	size("multipart_threshold", MinChunkSize, 5<<40, &r.MultipartThreshold)
	size("chunk_size", MinChunkSize, MaxChunkSize, &r.ChunkSize)
	if a, ok := attrs["timeout"]; ok {
		if v, ok := evalDuration(a, ctx, &diags); ok {
			if v < time.Second || v > time.Hour {
				diags = append(diags, attrError(a, "Invalid timeout", "timeout is from 1s to 1h (the default is 1m)."))
			} else {
				r.Timeout = v
			}
		}
	}
	return r, diags
}

// checkPlain refuses what no endpoint, name or user can hold.
func checkPlain(s string) error {
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("the value contains a control character")
		}
	}
	if strings.TrimSpace(s) == "" {
		return fmt.Errorf("the value is empty")
	}
	return nil
}

func checkURL(s string) error {
	if !strings.HasPrefix(s, "https://") && !strings.HasPrefix(s, "http://") {
		return fmt.Errorf("%q is not an http:// or https:// URL", s)
	}
	if strings.Contains(s, "@") {
		return fmt.Errorf("%q holds credentials: give them with the remote's user and password = secret(\"NAME\")", s)
	}
	return nil
}

func checkBucket(s string) error {
	if strings.ContainsAny(s, "/\\ ") {
		return fmt.Errorf("%q is not a bucket or container name: it holds a slash or a space (write the folder inside it in the destination, as NAME:folder)", s)
	}
	return nil
}

func checkHost(s string) error {
	if strings.ContainsAny(s, "/@ ") {
		return fmt.Errorf("%q is not a host name or address (give the user with user and the port with port)", s)
	}
	return nil
}

// SplitRemote splits a destination of the form NAME:path, where NAME is a
// valid remote name of at least two characters (so C:\x and C:/x are never
// remotes). ok is false for anything else.
func SplitRemote(s string) (name, rest string, ok bool) {
	i := strings.Index(s, remoteDestinationPrefix)
	if i < remoteMinNameLen || !validName(s[:i]) || strings.Contains(s[:i], ".") {
		return "", "", false
	}
	return s[:i], s[i+1:], true
}

// RemotePath is a parsed remote root.
type RemotePath struct {
	Remote *Remote
	// Path is the folder inside the remote: slash-separated, cleaned,
	// without a leading slash ("" is the remote's root). For sftp, Abs
	// says it was written from the server's root (NAME:/srv/backup).
	Path string
	Abs  bool
}

// RemoteFor returns the remote root a destination names, or nil when it is
// not of the form NAME:path with NAME a declared remote.
func (c *Config) RemoteFor(root string) *RemotePath {
	name, rest, ok := SplitRemote(root)
	if !ok || c.Remotes[name] == nil {
		return nil
	}
	rp, err := cleanRemotePath(c.Remotes[name], rest)
	if err != nil {
		return nil
	}
	return rp
}

func cleanRemotePath(r *Remote, rest string) (*RemotePath, error) {
	if err := checkPlainPath(rest); err != nil {
		return nil, err
	}
	abs := strings.HasPrefix(rest, "/")
	if abs && r.Type != "sftp" {
		return nil, fmt.Errorf("a %s remote's path is inside its %s: write %s:%s without the leading slash", r.Type, containerWord(r.Type), r.Name, strings.TrimLeft(rest, "/"))
	}
	for _, part := range strings.Split(rest, "/") {
		if part == ".." {
			return nil, fmt.Errorf("the path inside remote %s holds \"..\"", r.Name)
		}
	}
	p := strings.TrimPrefix(path.Clean("/"+rest), "/")
	return &RemotePath{Remote: r, Path: p, Abs: abs}, nil
}

func checkPlainPath(s string) error {
	for _, c := range s {
		if c < 0x20 || c == 0x7f {
			return fmt.Errorf("the path contains a control character")
		}
	}
	if strings.Contains(s, `\`) {
		return fmt.Errorf("the path inside a remote uses forward slashes: %q holds a backslash", s)
	}
	return nil
}

func containerWord(t string) string {
	switch t {
	case "s3":
		return "bucket"
	case "azureblob":
		return "container"
	}
	return "root"
}

// String is the canonical NAME:path form.
func (p *RemotePath) String() string {
	if p.Abs {
		return p.Remote.Name + ":/" + p.Path
	}
	return p.Remote.Name + ":" + p.Path
}

// decodeRemoteRoot decodes a backup's destination of the form NAME:path. It
// returns handled false when s is not of that form.
func decodeRemoteRoot(a *hcl.Attribute, s string, cfg *Config, diags *hcl.Diagnostics) (root string, handled bool) {
	name, rest, ok := SplitRemote(s)
	if !ok {
		return "", false
	}
	r := cfg.Remotes[name]
	if r == nil {
		known := make([]string, 0, len(cfg.Remotes))
		for n := range cfg.Remotes {
			known = append(known, n)
		}
		sort.Strings(known)
		detail := fmt.Sprintf("%q names remote %q, and no remote block of that name is declared.", s, name)
		if len(known) > 0 {
			detail += " Declared remotes: " + quoteList(known) + "."
		}
		detail += " For a local folder whose name holds a colon, write ./" + s + "."
		*diags = append(*diags, attrError(a, "Unknown remote", detail))
		return "", true
	}
	rp, err := cleanRemotePath(r, rest)
	if err != nil {
		*diags = append(*diags, attrError(a, "Invalid "+a.Name, err.Error()))
		return "", true
	}
	return rp.String(), true
}

// Timetable is a bandwidth limit that changes with the time of day:
// entries sorted by Start (minutes after midnight, local time). A Rate of
// 0 is unlimited ("off").
type Timetable []TimeRate

// TimeRate is one entry of a Timetable: from Start, Rate bytes a second.
type TimeRate struct {
	Start int // minutes after midnight
	Rate  int64
}

// ParseTimetable reads a bwlimit: a rate ("512k", "10M", "off") or a
// timetable of HH:MM,RATE entries separated by spaces, as rclone's
// --bwlimit ("08:00,512k 18:00,off"). Rates are bytes a second with an
// optional K, M or G suffix (powers of 1024).
func ParseTimetable(s string) (Timetable, error) {
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return nil, fmt.Errorf("bwlimit is empty: write a rate such as \"10M\" or a timetable such as \"08:00,512k 18:00,off\"")
	}
	if len(fields) == 1 && !strings.Contains(fields[0], ",") {
		rate, err := parseRate(fields[0])
		if err != nil {
			return nil, err
		}
		return Timetable{{Start: 0, Rate: rate}}, nil
	}
	var tt Timetable
	seen := map[int]bool{}
	for _, f := range fields {
		at, rs, ok := strings.Cut(f, ",")
		if !ok {
			return nil, fmt.Errorf("%q is not HH:MM,RATE (a timetable is \"08:00,512k 18:00,off\")", f)
		}
		hh, mm, ok := strings.Cut(at, ":")
		h, err1 := strconv.Atoi(hh)
		m, err2 := strconv.Atoi(mm)
		if !ok || err1 != nil || err2 != nil || h < 0 || h > 23 || m < 0 || m > 59 || len(mm) != 2 {
			return nil, fmt.Errorf("%q is not a time of day HH:MM from 00:00 to 23:59", at)
		}
		rate, err := parseRate(rs)
		if err != nil {
			return nil, err
		}
		if seen[h*60+m] {
			return nil, fmt.Errorf("%s appears twice in the timetable", at)
		}
		seen[h*60+m] = true
		tt = append(tt, TimeRate{Start: h*60 + m, Rate: rate})
	}
	sort.Slice(tt, func(i, j int) bool { return tt[i].Start < tt[j].Start })
	return tt, nil
}

// At returns the rate in force at t (0: unlimited). Before the first
// entry of the day, the day's last entry is still in force.
func (tt Timetable) At(t time.Time) int64 {
	if len(tt) == 0 {
		return 0
	}
	now := t.Hour()*60 + t.Minute()
	rate := tt[len(tt)-1].Rate
	for _, e := range tt {
		if e.Start <= now {
			rate = e.Rate
		}
	}
	return rate
}

func parseRate(s string) (int64, error) {
	if strings.EqualFold(s, "off") {
		return 0, nil
	}
	v, err := ParseSize(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a rate: write bytes a second such as \"512k\" or \"10M\", or \"off\"", s)
	}
	if v < 1024 {
		return 0, fmt.Errorf("%q is below 1k a second, too slow for any transfer to finish", s)
	}
	return v, nil
}

// ParseSize reads a size in bytes with an optional suffix: K, M, G, T
// (powers of 1024, also written KiB, MiB, ... or k, m, ...) or B.
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	mult := int64(1)
	lower := strings.ToLower(t)
	for _, suf := range []struct {
		s string
		m int64
	}{{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30}, {"tib", 1 << 40}, {"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"t", 1 << 40}, {"b", 1}} {
		if strings.HasSuffix(lower, suf.s) {
			mult, lower = suf.m, strings.TrimSuffix(lower, suf.s)
			break
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(lower), 64)
	if err != nil || f < 0 || math.IsInf(f, 0) || math.IsNaN(f) || f*float64(mult) > float64(math.MaxInt64/2) {
		return 0, fmt.Errorf("%q is not a size such as \"64M\" or \"16MiB\"", s)
	}
	return int64(f * float64(mult)), nil
}

// FormatSize renders a size with a binary suffix.
func FormatSize(n int64) string {
	for _, u := range []struct {
		s string
		m int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n >= u.m && n%u.m == 0 {
			return strconv.FormatInt(n/u.m, 10) + u.s
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}
