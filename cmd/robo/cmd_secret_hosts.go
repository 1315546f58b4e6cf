package main

import (
	"fmt"
	"runtime"
	"sort"
	"strings"

	"github.com/robo-backup/robo/internal/fleet"
	"github.com/robo-backup/robo/internal/safetext"
	"github.com/robo-backup/robo/internal/secrets"
	"github.com/robo-backup/robo/internal/vfs"
	"github.com/robo-backup/robo/schema"
)

// robo secret recipients: the hosts of a fleet publish their public keys
// to a folder (host_key { publish }, bootstrapHostKey); sync records them
// in the secrets file and re-encrypts every value (docs/secrets.md, "Host
// keys").

func runSecretRecipients(e *env, args []string) error {
	return group{name: "secret recipients", more: "See docs/fleet.md#host-keys.", subs: []subcommand{
		{"sync", "[-dry-run] [-replace HOST]... [DIR]", "add the hosts that published a key in DIR, drop those gone; re-encrypt", runRecipientsSync, false},
		{"list", "", "print the configured and host recipients", runRecipientsList, false},
	}}.run(e, args)
}

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

func runRecipientsSync(e *env, args []string) error {
	fs := newFlags(e, "secret recipients sync", "secret recipients sync [-dry-run] [-replace HOST]... [-identity FILE] [-var name=value]... [DIR]")
	dryRun := fs.Bool("dry-run", false, "show what would change without changing the secrets file")
	var replace stringList
	fs.Var(&replace, "replace", "accept the new published key of HOST (a reinstalled host); repeatable")
	identity := fs.String("identity", "", "decrypt with the identity in FILE (default: $"+secrets.EnvIdentity+", robo { identity }, then "+secrets.DefaultIdentityPath()+")")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 1 {
		return fatalf("robo secret recipients sync takes at most one folder, got %d arguments", fs.NArg())
	}
	cfg, f, err := secretConfig(e, vars)
	if err != nil {
		return err
	}
	dir := fs.Arg(0)
	if dir == "" {
		if cfg.Fleet.HostKey == nil || cfg.Fleet.HostKey.Publish == "" {
			return fatalf("robo secret recipients sync needs the folder the hosts publish their keys to").
				hint("name it: robo secret recipients sync //server/share/robo-keys, or configure host_key { publish = ... }")
		}
		dir = cfg.Fleet.HostKey.Publish
	} else {
		p, _, err := schema.NormalizePath(dir, cfg.Dir, runtime.GOOS)
		if err != nil {
			return fatalf("%s: %v", safetext.Name(dir), err)
		}
		dir = p
	}
	// Refuse a -replace that is not a host name before touching anything.
	repl := map[string]bool{}
	for _, h := range replace {
		if !schema.ValidHostName(h) {
			return fatalf("-replace %s: not a valid host name", safetext.Name(h))
		}
		repl[h] = true
	}
	rs, err := recipients(cfg, f) // the configured recipients must exist
	if err != nil {
		return err
	}
	eng := newEngines(e, cfg, *identity)
	defer eng.Close()
	fsys, err := openFolder(eng, dir)
	if err != nil {
		return fatalf("%v", err)
	}
	defer vfs.Close(fsys)
	keys, probs, err := fleet.ReadKeys(fsys, "")
	if err != nil {
		return fatalf("%v", err).hint("the folder is where the hosts' host_key { publish } writes HOST.txt")
	}
	for _, p := range probs {
		fmt.Fprintf(e.stderr, "robo: warning: %s: %s; ignored\n", safetext.Name(p.File), safetext.Line(p.Reason))
	}
	published := map[string]string{}
	unreadable := map[string]bool{}
	for _, k := range keys {
		published[k.Host] = k.Recipient
	}
	for _, p := range probs {
		if p.Host != "" {
			unreadable[p.Host] = true
		}
	}
	next, changes := secrets.PlanHostSync(f.Hosts(), published, unreadable, repl)
	applied := 0
	for _, c := range changes {
		switch c.Kind {
		case secrets.HostAdded:
			applied++
			e.printf("+ %s  %s\n", c.Host, c.New)
		case secrets.HostChanged:
			applied++
			e.printf("~ %s  %s (was %s)\n", c.Host, c.New, c.Old)
		case secrets.HostRemoved:
			applied++
			e.printf("- %s  %s\n", c.Host, c.Old)
		case secrets.HostKept:
			fmt.Fprintf(e.stderr, "robo: warning: %s kept unchanged: %s\n", c.Host, c.Reason)
		}
	}
	for h := range repl {
		found := false
		for _, c := range changes {
			found = found || (strings.EqualFold(c.Host, h) && c.Kind == secrets.HostChanged)
		}
		if !found {
			fmt.Fprintf(e.stderr, "robo: warning: -replace %s: that host's published key did not change; nothing to replace\n", h)
		}
	}
	if applied == 0 {
		e.printf("No changes: the secrets file records every host that published a key in %s (%d %s).\n", dir, len(next), pluralWord(len(next), "host", "hosts"))
		return nil
	}
	if *dryRun {
		e.printf("\nDry run: %s was not changed.\n", shown(cfg, f))
		return nil
	}
	if err := f.SetHosts(next); err != nil {
		return fatalf("%v", err)
	}
	configured, _ := secrets.ParseRecipients(cfg.Settings.Recipients) // checked by recipients above
	rs = f.WithHosts(configured)
	n := len(f.Names())
	if n > 0 {
		ids, err := loadIdentities(e, cfg, *identity)
		if err != nil {
			return err
		}
		if err := f.Rekey(ids, rs); err != nil {
			return secretError(err, ids)
		}
	}
	if err := f.Save(); err != nil {
		return fatalf("%v", err)
	}
	e.startAudit(cfg)
	var added, removed []string
	for _, c := range changes {
		switch c.Kind {
		case secrets.HostAdded, secrets.HostChanged:
			added = append(added, c.Host)
		case secrets.HostRemoved:
			removed = append(removed, c.Host)
		}
	}
	e.record("secret.recipients_synced", map[string]string{"folder": dir, "added": strings.Join(added, ","), "removed": strings.Join(removed, ","),
		"hosts": fmt.Sprint(len(next)), "secrets": fmt.Sprint(n)})
	e.printf("\nRecorded %d %s in %s; re-encrypted %d %s to %d %s.\n", len(next), pluralWord(len(next), "host", "hosts"), shown(cfg, f),
		n, pluralWord(n, "secret", "secrets"), len(rs), pluralWord(len(rs), "recipient", "recipients"))
	if len(removed) > 0 {
		fmt.Fprintf(e.stderr, "robo: warning: %s %s removed: %s cannot decrypt the values from now on, but may have kept the ones it could read\n",
			strings.Join(removed, ", "), pluralWord(len(removed), "was", "were"), pluralWord(len(removed), "it", "they"))
		fmt.Fprintf(e.stderr, "robo: hint: change those passwords on the servers and set them again (robo secret set NAME) so the removed hosts' copies are worthless\n")
	}
	return nil
}

func runRecipientsList(e *env, args []string) error {
	fs := newFlags(e, "secret recipients list", "secret recipients list [-var name=value]...")
	vars := addVarFlag(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fatalf("robo secret recipients list takes no arguments")
	}
	cfg, f, err := secretConfig(e, vars)
	if err != nil {
		return err
	}
	for _, r := range cfg.Settings.Recipients {
		e.printf("%s  (robo { recipients })\n", strings.TrimSpace(r))
	}
	hosts := f.Hosts()
	names := make([]string, 0, len(hosts))
	for h := range hosts {
		names = append(names, h)
	}
	sort.Strings(names)
	for _, h := range names {
		e.printf("%s  (host %s)\n", hosts[h], h)
	}
	return nil
}
