package schema

import (
	"testing"
	"time"
)

// Issue 21: remote blocks and NAME:path destinations. The invalid values
// are in testdata/invalid/remotes.
func TestRemotes(t *testing.T) {
	cfg, diags := Load("testdata/valid/remotes", testOptions())
	if diags.HasErrors() {
		t.Fatal(diags)
	}
	r := cfg.Remotes["offsite"]
	if r.Type != "s3" || r.Bucket != "acme-backup" || r.SecretAccessKey.Name != "s3-secret" || r.Transfers != 8 ||
		r.MultipartThreshold != 128<<20 || r.ChunkSize != 32<<20 || r.StorageClass != "STANDARD_IA" {
		t.Errorf("offsite = %+v", r)
	}
	if got := r.BWLimit.At(time.Date(2026, 1, 1, 9, 0, 0, 0, time.Local)); got != 512<<10 {
		t.Errorf("bwlimit at 09:00 = %d", got)
	}
	if got := r.BWLimit.At(time.Date(2026, 1, 1, 3, 0, 0, 0, time.Local)); got != 0 {
		t.Errorf("bwlimit at 03:00 = %d, want off (the 18:00 entry holds over midnight)", got)
	}
	if b := cfg.Backup("docs"); b.Destination != "offsite:hosts/web1/docs" || b.Engine != "native" {
		t.Errorf("docs: %q engine %q", b.Destination, b.Engine)
	}
	if b := cfg.Backup("abs"); b.Destination != "box:/srv/backup/abs" {
		t.Errorf("abs: %q", b.Destination)
	}
	if rp := cfg.RemoteFor("box:/srv/backup/abs"); rp == nil || rp.Path != "srv/backup/abs" || !rp.Abs || rp.Remote.Port != 22 {
		t.Errorf("RemoteFor = %+v", rp)
	}
	// A drive letter is never a remote.
	if b := cfg.Backup("drive"); cfg.RemoteFor(b.Destination) != nil {
		t.Errorf("%s read as a remote", b.Destination)
	}
	for _, s := range []string{`C:\x`, "C:/x", "c:x", "/a:b", "./offsite:x"} {
		if _, _, ok := SplitRemote(s); ok {
			t.Errorf("SplitRemote(%q) is a remote", s)
		}
	}
}

func TestParseTimetable(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Timetable
		err  bool
	}{
		{"10M", Timetable{{0, 10 << 20}}, false},
		{"off", Timetable{{0, 0}}, false},
		{"18:00,off 08:00,512k", Timetable{{8 * 60, 512 << 10}, {18 * 60, 0}}, false},
		{"08:00,512k 08:00,1M", nil, true},
		{"8:0,1M", nil, true},
		{"100", nil, true}, // below 1k a second
		{"", nil, true},
	} {
		got, err := ParseTimetable(c.in)
		if (err != nil) != c.err || len(got) != len(c.want) {
			t.Errorf("%q: %v, %v", c.in, got, err)
			continue
		}
		for i := range got {
			if got[i] != c.want[i] {
				t.Errorf("%q: %v, want %v", c.in, got, c.want)
			}
		}
	}
}
