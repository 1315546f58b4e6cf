package fleet

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"filippo.io/age"
)

func newRecipient(t *testing.T) string {
	t.Helper()
	id, err := age.GenerateX25519Identity()
	if err != nil {
		t.Fatal(err)
	}
	return id.Recipient().String()
}

func TestParseKeyFile(t *testing.T) {
	rec := newRecipient(t)
	id, _ := age.GenerateX25519Identity()
	for _, c := range []struct {
		in, err string
	}{
		{"# robo host key of pc1\n" + rec + "\n", ""},
		{"\r\n  " + rec + "  \r\n\r\n", ""},
		{"", "no key line"},
		{"# only a comment\n", "no key line"},
		{rec + "\n" + rec + "\n", "more than one key line"},
		{id.String() + "\n", "private key"},
		{"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0wmN/Cr3JXqmLW7u+g9pTh+wyqDHpSQEIQczXkVx9q\n", "not an age X25519 public key"},
		{"age1notakey\n", "malformed age recipient"},
		{rec + "\x00\n", "not UTF-8"},
		{"\xff\xfe" + rec, "not UTF-8"},
		{strings.Repeat("#", MaxKeyFile+1), "larger than"},
	} {
		got, err := ParseKeyFile([]byte(c.in))
		switch {
		case c.err == "" && (err != nil || got != rec):
			t.Errorf("%q: %q, %v", c.in, got, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%q: err %v, want %q", c.in, err, c.err)
		}
		if err != nil && strings.Contains(err.Error(), "AGE-SECRET-KEY") {
			t.Errorf("the error repeats a private key: %v", err)
		}
	}
}

func TestPublishAndReadKeys(t *testing.T) {
	dir := t.TempDir()
	fsys := local(t, dir)
	ctx := context.Background()
	r1, r2 := newRecipient(t), newRecipient(t)
	if wrote, err := PublishKey(ctx, fsys, "", "pc1", r1, t0); err != nil || !wrote {
		t.Fatalf("%v %v", wrote, err)
	}
	// The same key again: nothing is written.
	fi1, _ := os.Stat(filepath.Join(dir, "pc1.txt"))
	if wrote, err := PublishKey(ctx, fsys, "", "pc1", r1, t0.Add(1)); err != nil || wrote {
		t.Fatalf("republish: %v %v", wrote, err)
	}
	fi2, _ := os.Stat(filepath.Join(dir, "pc1.txt"))
	if !fi1.ModTime().Equal(fi2.ModTime()) {
		t.Error("the unchanged key file was rewritten")
	}
	if _, err := PublishKey(ctx, fsys, "", "../evil", r1, t0); err == nil {
		t.Fatal("published under an invalid host name")
	}
	PublishKey(ctx, fsys, "", "pc2", r2, t0)
	put := func(name, s string) { os.WriteFile(filepath.Join(dir, name), []byte(s), 0o644) }
	put("bad.txt", "hello\n")
	evil := "evil" + csi() + "31m.txt"
	put(evil, r2+"\n")
	put("README", "x")
	cased := caseSensitive(t, dir) // else PC2.txt would replace pc2.txt
	if cased {
		put("PC2.txt", r1+"\n")
	}
	put("huge.txt", strings.Repeat("#\n", MaxKeyFile))
	put(".pc3.txt.abc.tmp", "partial")
	linked := symlink(filepath.Join(dir, "pc1.txt"), filepath.Join(dir, "link.txt"))

	keys, probs, err := ReadKeys(fsys, "")
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := 1 // pc2 is refused: PC2.txt names the same host
	if !cased {
		wantKeys = 2
	}
	if len(keys) != wantKeys || keys[0].Host != "pc1" || keys[0].Recipient != r1 {
		t.Fatalf("keys %+v", keys)
	}
	why := map[string]string{}
	for _, p := range probs {
		why[p.File] = p.Reason
	}
	want := map[string]string{"bad.txt": "not an age", evil: "not a valid host name", "README": "not a key file", "huge.txt": "larger than"}
	if cased {
		want["PC2.txt"], want["pc2.txt"] = "same host", "same host"
	}
	if linked {
		want["link.txt"] = "not a regular file"
	}
	for f, w := range want {
		if !strings.Contains(why[f], w) {
			t.Errorf("%q: %q, want %q", f, why[f], w)
		}
	}
	if len(probs) != len(want) {
		t.Errorf("problems %+v", probs)
	}
}
