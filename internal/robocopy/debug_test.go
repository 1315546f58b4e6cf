package robocopy

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var dumpFile = flag.String("dump", "", "parse this file and print JSON (debugging aid)")

func TestDump(t *testing.T) {
	if *dumpFile == "" {
		t.Skip("no -dump")
	}
	b, err := os.ReadFile(*dumpFile)
	if err != nil {
		t.Fatal(err)
	}
	l := ParseBytes(b)
	for i := range l.Jobs {
		j := &l.Jobs[i]
		if len(j.Files) > 8 {
			j.Files = append(j.Files[:4], j.Files[len(j.Files)-4:]...)
		}
		if len(j.Dirs) > 8 {
			j.Dirs = append(j.Dirs[:4], j.Dirs[len(j.Dirs)-4:]...)
		}
	}
	out, _ := json.MarshalIndent(l, "", "  ")
	os.WriteFile(filepath.Join(os.TempDir(), "dump.json"), out, 0o644)
	t.Log(string(out))
}

var overview = flag.Bool("overview", false, "print an overview of every sample (debugging aid)")

func TestOverview(t *testing.T) {
	if !*overview {
		t.Skip("no -overview")
	}
	files, _ := filepath.Glob(filepath.Join(samplesDir, "*.log"))
	for _, f := range files {
		b, _ := os.ReadFile(f)
		l := ParseBytes(b)
		t.Logf("== %s enc=%s jobs=%d", filepath.Base(f), l.Encoding, len(l.Jobs))
		for i, j := range l.Jobs {
			if i > 2 && i < len(l.Jobs)-1 {
				continue
			}
			cls := map[string]int{}
			for _, x := range j.Files {
				cls["F:"+x.Class]++
			}
			for _, x := range j.Dirs {
				cls["D:"+x.Class]++
			}
			s := "nil"
			if j.Summary != nil {
				sb, _ := json.Marshal(j.Summary)
				s = string(sb)
			}
			t.Logf("  job%d src=%q dst=%q start=%q end=%q opt=%q inc=%q xf=%q xd=%q", i, j.Source, j.Destination, j.Started, j.Ended, j.Options, j.Include, j.ExcludeFiles, j.ExcludeDirs)
			t.Logf("     files=%d dirs=%d errs=%d retries=%d fatal=%v trunc=%v classes=%v", len(j.Files), len(j.Dirs), len(j.Errors), j.Retries, j.Fatal, j.Truncated, cls)
			t.Logf("     summary=%s", s)
			for _, e := range j.Errors {
				t.Logf("     err %+v", e)
			}
			for k, u := range j.Unrecognized {
				if k < 5 {
					t.Logf("     UNRECOGNIZED %q", u)
				}
			}
		}
	}
}
