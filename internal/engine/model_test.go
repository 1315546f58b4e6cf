package engine

import (
	"encoding/json"
	"strings"
	"testing"
)

// Issue 13: names that are not UTF-8 survive JSON byte for byte, and
// "b\xff" and "b\ufffd" stay two names.
func TestNamesSurviveJSON(t *testing.T) {
	for _, name := range []string{"b\xff", "b\ufffd", "plain.txt", "\xff\xfe/\x80x", "caf\xc3", "a\x00b"[:1]} {
		in := Change{Action: Create, Class: New, Kind: KindSymlink, Path: name, Phase: PhaseCopy,
			Src: &Meta{Kind: KindSymlink, Target: name + "/t"}}
		fe := FileError{Path: name, Op: "copy", Err: "boom"}
		sk := Skip{Path: name, Action: Delete, Reason: "changed"}
		b, err := json.Marshal(struct {
			C Change
			E FileError
			S Skip
		}{in, fe, sk})
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			C Change
			E FileError
			S Skip
		}
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%q: %v\n%s", name, err, b)
		}
		if out.C.Path != name || out.C.Src.Target != name+"/t" || out.E.Path != name || out.S.Path != name {
			t.Errorf("%q came back as %q, %q, %q, %q\n%s", name, out.C.Path, out.C.Src.Target, out.E.Path, out.S.Path, b)
		}
		if has := strings.Contains(string(b), "_b64"); has == (NameB64(name) == "") {
			t.Errorf("%q: _b64 fields present = %v:\n%s", name, has, b)
		}
	}
}

// A document whose two forms of a name disagree, or whose _b64 form is
// valid UTF-8 or not base64, is refused.
func TestInconsistentNamesRefused(t *testing.T) {
	for doc, want := range map[string]string{
		`{"path":"a","path_b64":"Yv8="}`:                      `path "a" does not match path_b64`,
		`{"path":"b\ufffd","path_b64":"YmM="}`:                "path_b64 holds a valid UTF-8 name",
		`{"path":"b\ufffd","path_b64":"!!"}`:                  "not standard base64",
		`{"kind":"symlink","target":"x","target_b64":"/w=="}`: `target "x" does not match target_b64`,
	} {
		var c Change
		var err error
		if strings.Contains(doc, "target") {
			err = json.Unmarshal([]byte(`{"src":`+doc+`}`), &c)
		} else {
			err = json.Unmarshal([]byte(doc), &c)
		}
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", doc, err, want)
		}
	}
	var c Change
	if err := json.Unmarshal([]byte(`{"path":"b\ufffd","path_b64":"Yv8="}`), &c); err != nil || c.Path != "b\xff" {
		t.Errorf("%q %v", c.Path, err)
	}
}

func TestChangeValidate(t *testing.T) {
	f := func(size int64) *Meta { return &Meta{Kind: KindFile, Size: size, MTime: 1} }
	d := &Meta{Kind: KindDir}
	l := &Meta{Kind: KindSymlink, Target: "x"}
	ok := []Change{
		{Action: Create, Class: New, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: f(1)},
		{Action: Create, Class: New, Kind: KindDir, Path: "a", Phase: PhaseReplace, Src: d},
		{Action: Update, Class: Newer, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: f(1), Dst: f(2)},
		{Action: Update, Class: Changed, Kind: KindSymlink, Path: "a", Phase: PhaseCopy, Src: l, Dst: l},
		{Action: Delete, Class: Extra, Kind: KindDir, Path: "a", Phase: PhaseDelete, Dst: d},
		{Action: Delete, Class: StaleTemp, Kind: KindFile, Path: "d/.robo-a.0123456789ab-1.tmp", Phase: PhaseDelete, Dst: f(1)},
		{Action: Replace, Class: Mismatch, Kind: KindDir, Path: "a", Phase: PhaseReplace, Src: d, Dst: f(3)},
		// Metadata-only changes (issue 16), also of directories and links.
		{Action: Update, Class: Tweaked, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: f(1), Dst: f(1), Differs: []string{DiffMode, DiffOwner, DiffACL, DiffXattr}},
		{Action: Update, Class: Tweaked, Kind: KindDir, Path: "a", Phase: PhaseCopy, Src: d, Dst: d, Differs: []string{DiffMode}},
		{Action: Update, Class: Tweaked, Kind: KindSymlink, Path: "a", Phase: PhaseCopy, Src: l, Dst: l, Differs: []string{DiffOwner}},
		{Action: Update, Class: Tweaked, Kind: KindFile, Path: "a", Phase: PhaseCopy, Differs: []string{DiffAttrs},
			Src: &Meta{Kind: KindFile, X: &MetaX{Attrs: u32(AttrHidden), Owner: "S-1-5-32-544", ACL: "sha256:0123456789abcdef", Xattr: "none"}}, Dst: f(0)},
	}
	for _, c := range ok {
		if err := c.Validate(true); err != nil {
			t.Errorf("%+v: %v", c, err)
		}
	}
	bad := map[string]Change{
		"unknown action":           {Action: 9, Class: New, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: f(1)},
		"unknown kind":             {Action: Create, Class: New, Kind: 9, Path: "a", Phase: PhaseCopy, Src: f(1)},
		"unknown phase":            {Action: Create, Class: New, Kind: KindFile, Path: "a", Phase: 9, Src: f(1)},
		"needs the source entry":   {Action: Create, Class: New, Kind: KindFile, Path: "a", Phase: PhaseCopy},
		"needs the destination":    {Action: Delete, Class: Extra, Kind: KindFile, Path: "a", Phase: PhaseDelete},
		"runs in the delete phase": {Action: Delete, Class: Extra, Kind: KindFile, Path: "a", Phase: PhaseCopy, Dst: f(1)},
		"kind is file but src":     {Action: Create, Class: New, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: d},
		"a link target on a file":  {Action: Create, Class: New, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: &Meta{Kind: KindFile, Target: "/etc"}},
		"StaleTemp deletion":       {Action: Delete, Class: StaleTemp, Kind: KindFile, Path: "precious.db", Phase: PhaseDelete, Dst: f(1)},
		"not a clean relative":     {Action: Create, Class: New, Kind: KindFile, Path: "a/../../b", Phase: PhaseCopy, Src: f(1)},
		"beyond the permission":    {Action: Create, Class: New, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: &Meta{Kind: KindFile, Mode: 0o170000}},
		"both dir":                 {Action: Replace, Class: Mismatch, Kind: KindDir, Path: "a", Phase: PhaseReplace, Src: d, Dst: d},
		"has no source entry":      {Action: Delete, Class: Extra, Kind: KindFile, Path: "a", Phase: PhaseDelete, Src: f(1), Dst: f(1)},
		"never updated":            {Action: Update, Class: Newer, Kind: KindDir, Path: "a", Phase: PhaseCopy, Src: d, Dst: d},
		"unknown class":            {Action: Create, Class: 42, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: f(1)},
		"must list the metadata":   {Action: Update, Class: Tweaked, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: f(1), Dst: f(1)},
		"copies no data":           {Action: Update, Class: Tweaked, Kind: KindFile, Path: "a", Phase: PhaseCopy, Size: 1, Src: f(1), Dst: f(1), Differs: []string{DiffMode}},
		"unknown metadata class":   {Action: Update, Class: Tweaked, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: f(1), Dst: f(1), Differs: []string{"mode", "colour"}},
		"each class once":          {Action: Update, Class: Tweaked, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: f(1), Dst: f(1), Differs: []string{"owner", "mode"}},
		"only a Tweaked update":    {Action: Update, Class: Newer, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: f(1), Dst: f(2), Differs: []string{"mode"}},
		"is not a SID":             {Action: Create, Class: New, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: &Meta{Kind: KindFile, X: &MetaX{Owner: "S-1-5\x1b[2J"}}},
		"never copies":             {Action: Create, Class: New, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: &Meta{Kind: KindFile, X: &MetaX{Attrs: u32(0x10)}}},
		"not a metadata digest":    {Action: Create, Class: New, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: &Meta{Kind: KindFile, X: &MetaX{ACL: strings.Repeat("A", 1<<20)}}},
		"must be of class New":     {Action: Create, Class: Tweaked, Kind: KindFile, Path: "a", Phase: PhaseCopy, Src: f(1)},
	}
	for want, c := range bad {
		if err := c.Validate(true); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v", want, err)
		}
	}
	// Without exact changes (robocopy) guards are optional.
	if err := (&Change{Action: Create, Class: New, Kind: KindFile, Path: "a", Phase: PhaseCopy}).Validate(false); err != nil {
		t.Error(err)
	}
}

func TestValidateChanges(t *testing.T) {
	f := &Meta{Kind: KindFile}
	mk := func(a Action, class Class, p string) Change {
		c := Change{Action: a, Class: class, Kind: KindFile, Path: p, Phase: PhaseCopy, Src: f}
		if a == Delete {
			c.Phase, c.Src, c.Dst = PhaseDelete, nil, f
		}
		return c
	}
	copySet, mirror := &Spec{}, &Spec{Mirror: true}
	for _, tc := range []struct {
		spec *Spec
		cs   []Change
		want string
	}{
		{mirror, []Change{mk(Create, New, "a"), mk(Delete, Extra, "a")}, `"a" appears twice`},
		{copySet, []Change{mk(Delete, Extra, "a")}, "copies only"},
		{mirror, []Change{mk(Create, New, ".robo-versions/20260101T000000Z/x")}, "inside .robo-versions"},
		{copySet, []Change{mk(Create, New, "a"), mk(Delete, StaleTemp, ".robo-a.0123456789ab.tmp")}, ""},
	} {
		err := ValidateChanges(tc.spec, tc.cs, true)
		if (tc.want == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("%v, want %q", err, tc.want)
		}
	}
}

// A robocopy listing (no exact changes) names the destination root as a
// New Dir and lists a file again for each retry: both are valid there, and
// neither is for the native engine.
func TestValidateChangesRobocopyListing(t *testing.T) {
	spec := &Spec{Mirror: true}
	cs := []Change{
		{Action: Create, Class: New, Kind: KindDir, Path: "", Phase: PhaseCopy},
		{Action: Update, Class: Newer, Kind: KindFile, Path: "a", Phase: PhaseCopy},
		{Action: Update, Class: Newer, Kind: KindFile, Path: "a", Phase: PhaseCopy},
	}
	if err := ValidateChanges(spec, cs, false); err != nil {
		t.Fatal(err)
	}
	if err := ValidateChanges(spec, cs[:1], true); err == nil {
		t.Fatal("the root accepted as a native change")
	}
	if err := ValidateChanges(spec, []Change{{Action: Delete, Class: Extra, Kind: KindDir, Path: "", Phase: PhaseDelete}}, false); err == nil {
		t.Fatal("a deletion of the root accepted")
	}
}

// Issue 16: the files that kept changing are listed in a result's JSON
// under "changing", their names byte for byte (path_b64).
func TestChangingInResultJSON(t *testing.T) {
	in := Result{Changing: []FileError{{Path: "live\xff.db", Op: "copy", Err: ErrChanging.Error()}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"changing":[{"path":"live\ufffd.db","op":"copy","error":"the source file kept changing while it was copied","path_b64":"bGl2Zf8uZGI="}]`) {
		t.Fatalf("%s", b)
	}
	var out Result
	if err := json.Unmarshal(b, &out); err != nil || len(out.Changing) != 1 || out.Changing[0].Path != "live\xff.db" {
		t.Fatalf("%+v %v", out.Changing, err)
	}
	if in.OK() || in.ExitCode()&ExitFailed == 0 {
		t.Errorf("a result with a changing file is OK or has no failure bit")
	}
}

func u32(v uint32) *uint32 { return &v }

func TestMetaDiff(t *testing.T) {
	src := &Meta{Kind: KindFile, Mode: 0o644, X: &MetaX{UID: u32(1000), GID: u32(1000), ACL: "sha256:0123456789abcdef", Xattr: "none"}}
	dst := &Meta{Kind: KindFile, Mode: 0o600, X: &MetaX{UID: u32(0), GID: u32(1000), ACL: "none", Xattr: "none"}}
	for _, tc := range []struct {
		copy string
		want string
	}{{"", "mode"}, {"DT", ""}, {"DATSOU", "mode owner acl"}, {"DATSOUE", "mode owner acl"}, {"DO", "owner"}} {
		sp := &Spec{Copy: tc.copy}
		if got := strings.Join(MetaDiff(sp, src, dst), " "); got != tc.want {
			t.Errorf("copy %q: %q, want %q", tc.copy, got, tc.want)
		}
	}
	c := &Change{Src: src, Dst: dst, Differs: []string{DiffMode, DiffOwner, DiffACL}}
	if got := strings.Join(DescribeDiffers(c), ", "); got != "mode 0600 → 0644, owner 0:1000 → 1000:1000, acl" {
		t.Error(got)
	}
	// A directory's A follows directory_copy, its O copy.
	d := &Meta{Kind: KindDir, Mode: 0o755, X: &MetaX{UID: u32(1)}}
	d2 := &Meta{Kind: KindDir, Mode: 0o700, X: &MetaX{UID: u32(2)}}
	if got := strings.Join(MetaDiff(&Spec{Copy: "DATO", DirCopy: "DT"}, d, d2), " "); got != "owner" {
		t.Error(got)
	}
	if MetaDigest(nil) != "none" || !validDigest(MetaDigest([]byte("x"))) {
		t.Error(MetaDigest([]byte("x")))
	}
}

// The SACL (U) is compared where both sides read it: a difference is
// "sacl", in its place in differs; a side that could not read it (no
// digest) compares as equal, and a set that does not copy U ignores it.
func TestMetaDiffSACL(t *testing.T) {
	a := &Meta{Kind: KindFile, X: &MetaX{ACL: "none", SACL: "sha256:0123456789abcdef"}}
	b := &Meta{Kind: KindFile, X: &MetaX{ACL: "sha256:fedcba9876543210", SACL: "none"}}
	unread := &Meta{Kind: KindFile, X: &MetaX{ACL: "none"}}
	for _, tc := range []struct {
		copy     string
		src, dst *Meta
		want     string
	}{
		{"DATSOU", a, b, "acl sacl"},
		{"DATU", a, b, "sacl"},
		{"DATS", a, b, "acl"},
		{"DATU", a, unread, ""},
		{"DATU", unread, b, ""},
	} {
		if got := strings.Join(MetaDiff(&Spec{Copy: tc.copy}, tc.src, tc.dst), " "); got != tc.want {
			t.Errorf("copy %q: %q, want %q", tc.copy, got, tc.want)
		}
	}
	if err := checkDiffers([]string{DiffACL, DiffSACL, DiffXattr}); err != nil {
		t.Error(err)
	}
	if err := checkDiffers([]string{DiffSACL, DiffACL}); err == nil {
		t.Error("sacl before acl accepted")
	}
	bad := &Meta{Kind: KindFile, X: &MetaX{SACL: "S-1-5\x1b[2J"}}
	if err := bad.Validate(); err == nil || !strings.Contains(err.Error(), "sacl") {
		t.Errorf("a forged sacl digest: %v", err)
	}
}

// The threads default follows the machine (issue 22 point 4): 4 per CPU
// from 4 to 16, at least 8 with a side over a network; a set's own
// threads always win.
func TestAutoThreads(t *testing.T) {
	for _, c := range []struct {
		cpus      int
		networked bool
		want      int
	}{
		{1, false, 4}, {1, true, 8}, {2, false, 8}, {2, true, 8},
		{3, false, 12}, {4, false, 16}, {64, false, 16}, {64, true, 16}, {0, false, 4},
	} {
		if got := AutoThreads(c.cpus, c.networked); got != c.want {
			t.Errorf("AutoThreads(%d, %v) = %d, want %d", c.cpus, c.networked, got, c.want)
		}
	}
	s := Spec{}
	if got := s.ThreadsFor(2, false); got != 8 {
		t.Errorf("unset threads on 2 CPUs: %d, want 8", got)
	}
	s.Threads = 3
	if got := s.ThreadsFor(64, true); got != 3 {
		t.Errorf("threads = 3: %d", got)
	}
}
