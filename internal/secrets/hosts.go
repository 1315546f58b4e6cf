package secrets

import (
	"errors"
	"fmt"
	"maps"
	"sort"
	"strings"

	"github.com/robo-backup/robo/schema"
)

// Host recipients: a fleet's hosts publish their age public keys to a
// folder (HOST.txt, written by the service on first start; internal/fleet
// reads the folder), and robo secret recipients sync records them in the
// secrets file's "hosts" object and re-encrypts every value to the
// configured recipients plus the hosts. The secrets file is the record of
// which hosts can read the secrets: it is committed with the configuration
// and reviewed like it.

func (f *File) setHostsFromFile(m map[string]string) error {
	f.hosts = map[string]string{}
	lower := map[string]string{}
	for h, r := range m {
		if !schema.ValidHostName(h) {
			return fmt.Errorf("%q is not a valid host name", h)
		}
		if prev, dup := lower[strings.ToLower(h)]; dup {
			return fmt.Errorf("hosts %q and %q are the same host", prev, h)
		}
		lower[strings.ToLower(h)] = h
		rec, err := ParseRecipient(r)
		if err != nil {
			return fmt.Errorf("host %s: %v", h, err)
		}
		f.hosts[h] = rec.Text
	}
	return nil
}

// Hosts returns the recorded host recipients by host name.
func (f *File) Hosts() map[string]string { return maps.Clone(f.hosts) }

// HostRecipients returns the recorded host recipients, parsed, in host
// order.
func (f *File) HostRecipients() []Recipient {
	names := make([]string, 0, len(f.hosts))
	for h := range f.hosts {
		names = append(names, h)
	}
	sort.Strings(names)
	var out []Recipient
	for _, h := range names {
		if r, err := ParseRecipient(f.hosts[h]); err == nil {
			out = append(out, r)
		}
	}
	return out
}

// SetHosts replaces the recorded host recipients (host names and
// recipients must be valid; see PlanHostSync). The caller re-encrypts
// (Rekey) and saves.
func (f *File) SetHosts(m map[string]string) error {
	return f.setHostsFromFile(m)
}

// HostChange is one difference between the recorded hosts and a key
// folder.
type HostChange struct {
	Kind HostChangeKind
	Host string
	// Old is the recorded recipient (Removed, Changed, Kept), New the
	// published one (Added, Changed, Kept).
	Old, New string
	// Reason says why a host was kept unchanged (Kept).
	Reason string
}

// HostChangeKind says what sync does with a host.
type HostChangeKind string

// The kinds of change.
const (
	HostAdded   HostChangeKind = "added"
	HostRemoved HostChangeKind = "removed"
	HostChanged HostChangeKind = "changed" // a new key, accepted by replace
	// HostKept: a difference sync does not apply on its own: a changed key
	// not named in replace, or a key file that cannot be read (the host
	// stays with its recorded key rather than being locked out by a
	// damaged file).
	HostKept HostChangeKind = "kept"
)

// PlanHostSync computes the hosts after a sync. recorded are the current
// hosts; published the valid key files (host -> recipient); unreadable the
// hosts whose key file exists but is invalid; replace the hosts whose
// changed key the admin accepts. Host names match without regard to case;
// a recorded host keeps its recorded spelling. It returns the new hosts
// and the changes, sorted by host.
func PlanHostSync(recorded, published map[string]string, unreadable, replace map[string]bool) (map[string]string, []HostChange) {
	next := map[string]string{}
	var changes []HostChange
	pubByLower := map[string]string{}
	for h := range published {
		pubByLower[strings.ToLower(h)] = h
	}
	lowerSet := func(m map[string]bool) map[string]bool {
		out := map[string]bool{}
		for h, v := range m {
			out[strings.ToLower(h)] = v
		}
		return out
	}
	bad, repl := lowerSet(unreadable), lowerSet(replace)
	seen := map[string]bool{}
	for h, old := range recorded {
		k := strings.ToLower(h)
		seen[k] = true
		ph, ok := pubByLower[k]
		switch {
		case ok && published[ph] == old:
			next[h] = old
		case ok && repl[k]:
			next[h] = published[ph]
			changes = append(changes, HostChange{Kind: HostChanged, Host: h, Old: old, New: published[ph]})
		case ok:
			next[h] = old
			changes = append(changes, HostChange{Kind: HostKept, Host: h, Old: old, New: published[ph],
				Reason: "its published key changed; if the host was reinstalled, accept the new key with -replace " + h})
		case bad[k]:
			next[h] = old
			changes = append(changes, HostChange{Kind: HostKept, Host: h, Old: old, Reason: "its key file cannot be read; it keeps its recorded key"})
		default:
			changes = append(changes, HostChange{Kind: HostRemoved, Host: h, Old: old})
		}
	}
	for h, rec := range published {
		if !seen[strings.ToLower(h)] {
			next[h] = rec
			changes = append(changes, HostChange{Kind: HostAdded, Host: h, New: rec})
		}
	}
	sort.Slice(changes, func(i, j int) bool { return strings.ToLower(changes[i].Host) < strings.ToLower(changes[j].Host) })
	return next, changes
}

// WithHosts returns the configured recipients plus the recorded hosts',
// without duplicates: what values are encrypted to.
func (f *File) WithHosts(configured []Recipient) []Recipient {
	out := append([]Recipient(nil), configured...)
	seen := map[string]bool{}
	for _, r := range configured {
		seen[r.Text] = true
	}
	for _, r := range f.HostRecipients() {
		if !seen[r.Text] {
			seen[r.Text] = true
			out = append(out, r)
		}
	}
	return out
}

// EnsureIdentity returns the recipient of the identity at path, creating
// the identity first when the file does not exist (GenerateIdentity:
// readable by its owner only, on Windows SYSTEM, Administrators and the
// owner). created says whether it was made now. An existing file that
// others can read is refused, as by LoadIdentity.
func EnsureIdentity(path string) (recipient string, created bool, err error) {
	ids, err := LoadIdentity(path)
	if errors.Is(err, ErrNoIdentityFile) {
		rec, gerr := GenerateIdentity(path)
		if gerr == nil {
			return rec, true, nil
		}
		// Another process may have created it meanwhile.
		if ids, err = LoadIdentity(path); err != nil {
			return "", false, gerr
		}
	}
	if err != nil {
		return "", false, err
	}
	recs := Recipients(ids)
	if len(recs) == 0 {
		return "", false, fmt.Errorf("identity file %s holds no identity robo can name a public key for", path)
	}
	return recs[0], false, nil
}
