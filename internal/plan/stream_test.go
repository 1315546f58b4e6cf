package plan_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/plan"
)

// Issue #22: a plan's changes are streamed to its file, never built in
// memory as one document, and the bytes are those json.MarshalIndent
// makes, for a plan whose lists spilled to disk too; the file reads back
// to the same changes.
func TestWriteStreamsTheSameDocument(t *testing.T) {
	old := engine.SpillBlockBytes
	engine.SpillBlockBytes = 2048
	t.Cleanup(func() { engine.SpillBlockBytes = old })
	p := &plan.Plan{FormatVersion: plan.FormatVersion, RoboVersion: "dev", CreatedAt: time.Unix(0, 0).UTC(), ConfigDir: "/conf",
		ConfigDigest: "abc", StateLineage: "l", StateSerial: 3, Refresh: true}
	var all [][]engine.Change
	for s, n := range []int{1500, 0, 3} {
		name := fmt.Sprintf("set%d", s)
		set := &plan.Set{Name: name, Action: plan.Sync, Engine: "native", Mode: "mirror", Source: "/src" + name, Destination: "/dst<&>" + name,
			Spec: &engine.Spec{Name: name, Source: "/src" + name, Destination: "/dst<&>" + name, Mirror: true}}
		var cs []engine.Change
		sum := &plan.Summary{}
		for i := range n {
			path := fmt.Sprintf("d%d/f%05d<\xff>", i/100, i)
			cs = append(cs, engine.Change{Action: engine.Create, Class: engine.New, Kind: engine.KindFile, Path: path,
				Phase: engine.PhaseCopy, Size: int64(i), Src: &engine.Meta{Kind: engine.KindFile, Size: int64(i), MTime: int64(i)}})
			sum.NewFiles++
			sum.BytesToCopy += int64(i)
		}
		if n > 0 {
			set.Changes, set.Summary = engine.ChangeListOf(cs), sum
		}
		all = append(all, cs)
		p.Sets = append(p.Sets, set)
	}
	p.Sets = append(p.Sets, &plan.Set{Name: "gone", Action: plan.Forget})
	if !p.Sets[0].Changes.Spilled() {
		t.Fatal("the first set's list did not spill")
	}
	want, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	want = append(want, '\n')
	var got bytes.Buffer
	if err := p.WriteJSON(&got); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		i := 0
		for i < min(got.Len(), len(want)) && got.Bytes()[i] == want[i] {
			i++
		}
		t.Fatalf("streamed document differs at byte %d: %q", i, got.Bytes()[max(i-80, 0):min(i+80, got.Len())])
	}
	path := filepath.Join(t.TempDir(), "plan.json")
	if err := p.Write(path); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); !bytes.Equal(b, want) {
		t.Fatal("Write differs from WriteJSON")
	}
	q, err := plan.Read(path)
	if err != nil {
		t.Fatal(err)
	}
	for i, cs := range all {
		if got := q.Sets[i].Changes.Slice(); !reflect.DeepEqual(got, cs) {
			t.Fatalf("set %d read back: %d changes, want %d", i, len(got), len(cs))
		}
	}
}

// Read streams a saved plan's changes, so it takes the keys it streams
// only as robo writes them: another spelling, a second list or anything
// after the document is refused, never half read.
func TestReadRefusesWhatItCannotStream(t *testing.T) {
	path := filepath.Join(t.TempDir(), "plan.json")
	set := `{"name":"s","action":"noop","mode":"copy"%s}`
	for want, doc := range map[string]string{
		`unexpected key "Sets"`:       `{"format_version":"1","Sets":[]}`,
		`"sets" appears twice`:        `{"format_version":"1","sets":[],"sets":[]}`,
		`unexpected key "CHANGES"`:    `{"format_version":"1","sets":[` + fmt.Sprintf(set, `,"CHANGES":[]`) + `]}`,
		`"changes" appears twice`:     `{"format_version":"1","sets":[` + fmt.Sprintf(set, `,"changes":[],"changes":[]`) + `]}`,
		`data after the plan`:         `{"format_version":"1","sets":[]} {}`,
		`set 1 is not an object`:      `{"format_version":"1","sets":["s"]}`,
		`set "s": change 1: path`:     `{"format_version":"1","sets":[` + fmt.Sprintf(set, `,"changes":[{"path":"a","path_b64":"YQ=="}]`) + `]}`,
		`"changes" is not an array`:   `{"format_version":"1","sets":[` + fmt.Sprintf(set, `,"changes":{}`) + `]}`,
		`not a robo plan file: set 1`: `{"format_version":"1","sets":[null]}`,
	} {
		if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := plan.Read(path); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", doc, err, want)
		}
	}
}
