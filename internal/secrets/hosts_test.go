package secrets

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

func rec(t *testing.T) string {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id.Recipient().String()
}

func TestPlanHostSync(t *testing.T) {
	a, b, c, d, d2, e := rec(t), rec(t), rec(t), rec(t), rec(t), rec(t)
	recorded := map[string]string{"PC-A": a, "pc-b": b, "pc-d": d, "pc-e": e}
	published := map[string]string{"pc-a": a, "pc-c": c, "pc-d": d2}
	next, changes := PlanHostSync(recorded, published, map[string]bool{"pc-e": true}, nil)
	want := map[string]string{"PC-A": a, "pc-c": c, "pc-d": d, "pc-e": e}
	if len(next) != len(want) {
		t.Fatalf("next %v", next)
	}
	for h, r := range want {
		if next[h] != r {
			t.Errorf("%s: %s, want %s", h, next[h], r)
		}
	}
	var got []string
	for _, ch := range changes {
		got = append(got, string(ch.Kind)+" "+ch.Host)
	}
	if strings.Join(got, ",") != "removed pc-b,added pc-c,kept pc-d,kept pc-e" {
		t.Fatalf("changes %v", got)
	}
	if !strings.Contains(changes[2].Reason, "-replace pc-d") {
		t.Errorf("reason %q", changes[2].Reason)
	}
	// -replace accepts the new key.
	next, changes = PlanHostSync(recorded, published, nil, map[string]bool{"PC-D": true})
	if next["pc-d"] != d2 || changes[2].Kind != HostChanged {
		t.Errorf("replace: %v %+v", next, changes)
	}
}

func TestHostsInSecretsFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "robo.secrets.json")
	f, _ := Open(path)
	admin, host := rec(t), rec(t)
	rs, _ := ParseRecipients([]string{admin})
	if err := f.SetHosts(map[string]string{"pc1": host}); err != nil {
		t.Fatal(err)
	}
	all := f.WithHosts(rs)
	if len(all) != 2 || all[1].Text != host {
		t.Fatalf("with hosts: %v", all)
	}
	if err := f.Set("nas", []byte(canary), all); err != nil {
		t.Fatal(err)
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	g, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if g.Hosts()["pc1"] != host || g.Stale("nas", g.WithHosts(rs)) {
		t.Fatalf("hosts %v", g.Hosts())
	}
	// Hostile hosts objects are refused on Open.
	for _, bad := range []string{
		`{"version":1,"secrets":{},"hosts":{"../x":"` + host + `"}}`,
		`{"version":1,"secrets":{},"hosts":{"pc1":"AGE-SECRET-KEY-1XYZ"}}`,
		`{"version":1,"secrets":{},"hosts":{"pc1":"` + host + `","PC1":"` + host + `"}}`,
	} {
		os.WriteFile(path, []byte(bad), 0o644)
		if _, err := Open(path); err == nil || strings.Contains(err.Error(), "AGE-SECRET") {
			t.Errorf("%s: %v", bad, err)
		}
	}
}

func TestEnsureIdentity(t *testing.T) {
	path := filepath.Join(t.TempDir(), "robo", "identity.txt")
	r1, created, err := EnsureIdentity(path)
	if err != nil || !created || !strings.HasPrefix(r1, "age1") {
		t.Fatalf("%s %v %v", r1, created, err)
	}
	fi, _ := os.Stat(path)
	if !isWindows && fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode())
	}
	r2, created, err := EnsureIdentity(path)
	if err != nil || created || r2 != r1 {
		t.Fatalf("second start: %s %v %v", r2, created, err)
	}
	if !isWindows {
		os.Chmod(path, 0o644)
		if _, _, err := EnsureIdentity(path); err == nil {
			t.Fatal("a readable identity was accepted")
		}
	}
}
