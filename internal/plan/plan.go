package plan

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/robo-backup/robo/internal/engine"
)

// FormatVersion is the version of the plan document.
const FormatVersion = "1"

// Action is what a plan does with a whole set.
type Action string

// The set actions.
const (
	Create Action = "create" // never applied
	Update Action = "update" // configuration changed since the last apply
	Sync   Action = "sync"   // configuration unchanged, files differ
	Noop   Action = "noop"   // nothing to do
	Forget Action = "forget" // in the state, no longer in the config; only the state entry goes
)

// Plan is the whole plan.
type Plan struct {
	FormatVersion string    `json:"format_version"`
	RoboVersion   string    `json:"robo_version"`
	CreatedAt     time.Time `json:"created_at"`
	ConfigDir     string    `json:"config_dir"`
	// ConfigDigest identifies the resolved configuration the plan was made
	// from; a saved plan is stale when it changes.
	ConfigDigest string `json:"config_digest"`
	// StateLineage and StateSerial identify the state the plan was made
	// against; a saved plan is stale when either changes.
	StateLineage string   `json:"state_lineage"`
	StateSerial  uint64   `json:"state_serial"`
	Refresh      bool     `json:"refresh"`
	AllowDeletes bool     `json:"allow_deletes,omitempty"`
	Targets      []string `json:"targets,omitempty"`
	Sets         []*Set   `json:"sets"`
}

// Set is the plan for one backup set.
type Set struct {
	Name         string `json:"name"`
	Action       Action `json:"action"`
	Reason       string `json:"reason"`
	Engine       string `json:"engine,omitempty"`
	Mode         string `json:"mode,omitempty"`
	Source       string `json:"source"`
	Destination  string `json:"destination"`
	ConfigDigest string `json:"config_digest,omitempty"`
	// MovedFrom is the set's old name when a moved block renames it in
	// this plan: apply moves the state entry from MovedFrom to Name first.
	MovedFrom string `json:"moved_from,omitempty"`
	// Spec is what the engine is given (absent for forget).
	Spec *engine.Spec `json:"spec,omitempty"`
	// Summary is absent when the plan was made with -refresh=false.
	Summary *Summary `json:"summary,omitempty"`
	// Changes are the file operations in walk order (sorted by path within
	// each directory); engines run them phase by phase (engine.Phase).
	// The list is in bounded memory (engine.ChangeList); nil is empty.
	Changes *engine.ChangeList `json:"-"`
	// Refused says why a safety check stopped the set: apply will not touch it.
	Refused string `json:"refused,omitempty"`
	// Error says why the set could not be planned.
	Error string `json:"error,omitempty"`
	// Warnings are things the user should know that do not stop the set.
	Warnings []string `json:"warnings,omitempty"`
	// ScanErrors are entries that could not be read while planning.
	ScanErrors []engine.FileError `json:"scan_errors,omitempty"`
	// PruneVersions are the run folders under the destination's
	// .robo-versions that the set's keep rule removes after a successful
	// apply, oldest first.
	PruneVersions []string `json:"prune_versions,omitempty"`
	// Roots are the identities of the set's roots as the plan's scan saw
	// them; apply refuses the set when a recorded root is another
	// directory now (absent in plans saved before robo recorded them).
	Roots *engine.Roots `json:"roots,omitempty"`
}

// Summary counts a set's file operations, in robocopy's terms.
type Summary struct {
	NewFiles     int64 `json:"new_files"`
	ChangedFiles int64 `json:"changed_files"`
	ExtraFiles   int64 `json:"extra_files"`
	NewDirs      int64 `json:"new_dirs"`
	ExtraDirs    int64 `json:"extra_dirs"`
	BytesToCopy  int64 `json:"bytes_to_copy"`
	// The changed files by class.
	Newer   int64 `json:"newer"`
	Older   int64 `json:"older"`
	Changed int64 `json:"changed"`
	// Mismatches are entries that are a file on one side and a directory
	// on the other.
	Mismatches int64 `json:"mismatches"`
	// FilesToDelete and BytesToDelete count what a mirror would delete
	// (extras and mismatched destination entries).
	FilesToDelete int64 `json:"files_to_delete"`
	BytesToDelete int64 `json:"bytes_to_delete"`
	// StaleTempFiles are leftovers of an interrupted run, to be removed.
	StaleTempFiles int64 `json:"stale_temp_files"`
	SourceFiles    int64 `json:"source_files"`
	SourceDirs     int64 `json:"source_dirs"`
	SourceBytes    int64 `json:"source_bytes"`
	DestFiles      int64 `json:"destination_files"`
	// FilesToVersion and BytesToVersion count the destination files a set
	// with versions keeps under .robo-versions before it overwrites or
	// deletes them; VersionsToPrune counts the old run folders it removes.
	FilesToVersion  int64 `json:"files_to_version"`
	BytesToVersion  int64 `json:"bytes_to_version"`
	VersionsToPrune int64 `json:"versions_to_prune"`
	// Tweaked counts the entries whose data is the same but whose copied
	// metadata differs (class Tweaked): only the metadata is applied.
	Tweaked int64 `json:"tweaked"`
	// Offsite is set when the destination is a remote (offsite.go).
	Offsite *Offsite `json:"offsite,omitempty"`
	// HardLinks counts the files a set with hard_links links to another
	// name of the same source file instead of copying them (their bytes
	// are counted once, in BytesToCopy or not at all when the first name
	// is already there).
	HardLinks int64 `json:"hard_links,omitempty"`
}

// HasChanges reports whether applying the set would do anything: copy or
// delete files, or change the state.
func (s *Set) HasChanges() bool {
	return s.Action != Noop || s.MovedFrom != "" || s.Changes.Len() > 0 || len(s.PruneVersions) > 0
}

// Failed reports whether the set cannot be applied.
func (s *Set) Failed() bool { return s.Refused != "" || s.Error != "" }

// HasChanges reports whether any set would change.
func (p *Plan) HasChanges() bool {
	for _, s := range p.Sets {
		if s.HasChanges() && !s.Failed() {
			return true
		}
	}
	return false
}

// Failed reports whether any set was refused or could not be planned.
func (p *Plan) Failed() bool {
	for _, s := range p.Sets {
		if s.Failed() {
			return true
		}
	}
	return false
}

// Set returns the named set's plan, or nil.
func (p *Plan) Set(name string) *Set {
	for _, s := range p.Sets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Write saves the plan as a JSON file, readable only by its owner (it
// names paths that may be private). It streams the changes (WriteJSON).
func (p *Plan) Write(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	bw := bufio.NewWriterSize(f, 64<<10)
	err = p.WriteJSON(bw)
	if err == nil {
		err = bw.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write plan: %w", err)
	}
	return nil
}

// setMarked is a set whose changes are a marker, for WriteJSON.
type setMarked struct {
	*setFields
	Changes json.RawMessage `json:"changes,omitempty"`
}

type planFields Plan

// WriteJSON writes the plan document, indented by two spaces and ending
// in a newline, byte for byte what json.MarshalIndent(p, "", "  ") and a
// newline make, but with each set's changes read from its list and
// written one by one: the document is never whole in memory. The rest of
// the document is made with a random marker in place of each list, which
// no name in the plan can forge.
func (p *Plan) WriteJSON(w io.Writer) error {
	var nonce [16]byte
	if _, err := rand.Read(nonce[:]); err != nil {
		return err
	}
	tag := "robo-changes-" + hex.EncodeToString(nonce[:]) + "-"
	doc := struct {
		*planFields
		Sets []*setMarked `json:"sets"`
	}{planFields: (*planFields)(p)}
	if p.Sets != nil {
		doc.Sets = make([]*setMarked, len(p.Sets))
	}
	var lists []*engine.ChangeList
	for i, s := range p.Sets {
		if s == nil {
			continue
		}
		doc.Sets[i] = &setMarked{setFields: (*setFields)(s)}
		if s.Changes.Len() > 0 {
			doc.Sets[i].Changes = json.RawMessage(strconv.Quote(tag + strconv.Itoa(len(lists))))
			lists = append(lists, s.Changes)
		}
	}
	head, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	head = append(head, '\n')
	for i, l := range lists {
		marker := []byte(strconv.Quote(tag + strconv.Itoa(i)))
		at := bytes.Index(head, marker)
		if at < 0 {
			return fmt.Errorf("plan: the changes' marker is missing")
		}
		line := bytes.LastIndexByte(head[:at], '\n') + 1
		ind := string(head[line : line+len(head[line:at])-len(bytes.TrimLeft(head[line:at], " "))])
		if _, err := w.Write(head[:at]); err != nil {
			return err
		}
		if err := writeChanges(w, l, ind); err != nil {
			return err
		}
		head = head[at+len(marker):]
	}
	_, err = w.Write(head)
	return err
}

// writeChanges writes a list as json.MarshalIndent writes a JSON array
// whose opening line is indented by ind.
func writeChanges(w io.Writer, l *engine.ChangeList, ind string) error {
	in := ind + "  "
	sep := "[\n" + in
	err := l.Range(func(_ int, c *engine.Change) error {
		b, err := json.MarshalIndent(c.JSON(), in, "  ")
		if err != nil {
			return err
		}
		if _, err := io.WriteString(w, sep); err != nil {
			return err
		}
		sep = ",\n" + in
		_, err = w.Write(b)
		return err
	})
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, "\n"+ind+"]")
	return err
}

// Read loads a saved plan and validates it (Plan.Validate): a saved plan
// is a file anyone with write access could have edited. The changes are
// read one by one into each set's list (decode), never as one document.
func Read(path string) (*Plan, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read plan: %w", err)
	}
	defer f.Close()
	p, err := decode(bufio.NewReaderSize(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("%s is not a robo plan file: %w", path, err)
	}
	if p.FormatVersion != FormatVersion {
		p.Close()
		return nil, fmt.Errorf("%s: plan format version %q is not supported (this robo reads %q)", path, p.FormatVersion, FormatVersion)
	}
	if err := p.Validate(); err != nil {
		p.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Close releases the sets' change lists (their spill files). A nil plan
// is closed.
func (p *Plan) Close() {
	if p == nil {
		return
	}
	for _, s := range p.Sets {
		if s != nil {
			s.Changes.Close()
		}
	}
}

// decode reads a plan document as json.Unmarshal would into a Plan, but
// streams each set's "changes" array into its list. Keys are matched
// exactly: a document that spells "sets" or "changes" another way (which
// encoding/json would also take) is refused, as is one that has either
// twice, or anything after the document.
func decode(r io.Reader) (p *Plan, err error) {
	p = &Plan{}
	defer func() {
		if err != nil {
			p.Close()
		}
	}()
	dec := json.NewDecoder(r)
	sawSets := false
	rest, err := object(dec, false, nil, func(key string) (bool, error) {
		if key != "sets" {
			if strings.EqualFold(key, "sets") {
				return false, fmt.Errorf("unexpected key %q", key)
			}
			return false, nil
		}
		if sawSets {
			return false, fmt.Errorf(`"sets" appears twice`)
		}
		sawSets = true
		return true, decodeSets(dec, p)
	})
	if err != nil {
		return p, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return p, fmt.Errorf("data after the plan document")
	}
	sets := p.Sets
	if err := json.Unmarshal(rest, (*planFields)(p)); err != nil {
		return p, err
	}
	p.Sets = sets
	return p, nil
}

// object reads a JSON object from dec (its "{" read already when
// opened): keys for which take returns true are read by take; the others
// are gathered, in order, into the object returned, and shown to seen
// (when not nil).
func object(dec *json.Decoder, opened bool, seen func(key string, raw json.RawMessage), take func(key string) (bool, error)) ([]byte, error) {
	if !opened {
		if err := delim(dec, '{'); err != nil {
			return nil, err
		}
	}
	out := []byte{'{'}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, ok := t.(string)
		if !ok {
			return nil, fmt.Errorf("an object key is not a string")
		}
		took, err := take(key)
		if err != nil {
			return nil, err
		}
		if took {
			continue
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, err
		}
		if seen != nil {
			seen(key, raw)
		}
		if len(out) > 1 {
			out = append(out, ',')
		}
		kb, _ := json.Marshal(key)
		out = append(append(append(out, kb...), ':'), raw...)
	}
	if err := delim(dec, '}'); err != nil {
		return nil, err
	}
	return append(out, '}'), nil
}

// delim reads the delimiter d from dec.
func delim(dec *json.Decoder, d json.Delim) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t != d {
		return fmt.Errorf("expected %v, found %v", d, t)
	}
	return nil
}

// decodeSets reads the "sets" array into p.Sets (null: none).
func decodeSets(dec *json.Decoder, p *Plan) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if t != json.Delim('[') {
		return fmt.Errorf(`"sets" is not an array`)
	}
	p.Sets = []*Set{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return err
		}
		switch t {
		case nil:
			p.Sets = append(p.Sets, nil) // Validate refuses it
			continue
		case json.Delim('{'):
		default:
			return fmt.Errorf("set %d is not an object", len(p.Sets)+1)
		}
		s, err := decodeSet(dec, len(p.Sets)+1)
		p.Sets = append(p.Sets, s)
		if err != nil {
			return err
		}
	}
	return delim(dec, ']')
}

// decodeSet reads one set object (its "{" read already), its "changes"
// one by one.
func decodeSet(dec *json.Decoder, n int) (*Set, error) {
	s := &Set{}
	name := ""
	sawChanges := false
	rest, err := object(dec, true, func(key string, raw json.RawMessage) {
		if key == "name" {
			_ = json.Unmarshal(raw, &name) // for messages only
		}
	}, func(key string) (bool, error) {
		switch {
		case key == "changes":
			if sawChanges {
				return false, fmt.Errorf(`set %d: "changes" appears twice`, n)
			}
			sawChanges = true
			return true, decodeChanges(dec, s, name, n)
		case strings.EqualFold(key, "changes"):
			return false, fmt.Errorf("set %d: unexpected key %q", n, key)
		}
		return false, nil
	})
	if err != nil {
		return s, err
	}
	changes := s.Changes
	if err := json.Unmarshal(rest, (*setFields)(s)); err != nil {
		return s, err
	}
	s.Changes = changes
	return s, nil
}

// decodeChanges reads a set's "changes" array into its list.
func decodeChanges(dec *json.Decoder, s *Set, name string, n int) error {
	t, err := dec.Token()
	if err != nil {
		return err
	}
	if t == nil {
		return nil
	}
	if t != json.Delim('[') {
		return fmt.Errorf(`"changes" is not an array`)
	}
	l := engine.NewChangeList()
	s.Changes = l
	for i := 1; dec.More(); i++ {
		var w engine.ChangeJSON
		if err := dec.Decode(&w); err != nil {
			return err
		}
		c, err := w.Change()
		if err != nil {
			if name == "" {
				return fmt.Errorf("set %d: change %d: %w", n, i, err)
			}
			return fmt.Errorf("set %q: change %d: %w", name, i, err)
		}
		l.Add(c)
	}
	if err := l.Err(); err != nil {
		return err
	}
	if l.Len() == 0 {
		s.Changes = nil
	}
	return delim(dec, ']')
}

// Validate reports the first reason p cannot be applied as it stands,
// whatever the configuration: a set that is null, unnamed or named twice,
// an unknown set action or engine, a set whose spec disagrees with its own
// source, destination or mode, file operations on a set that has no spec,
// an invalid change (engine.ValidateChanges) or a versions folder name
// that is not one. It does not compare the plan with the configuration;
// apply does that (apply.CheckSaved).
func (p *Plan) Validate() error {
	names := map[string]bool{}
	for i, s := range p.Sets {
		if s == nil {
			return fmt.Errorf("not a robo plan file: set %d is null", i+1)
		}
		if s.Name == "" {
			return fmt.Errorf("set %d has no name", i+1)
		}
		if names[s.Name] {
			return fmt.Errorf("set %q appears twice", s.Name)
		}
		names[s.Name] = true
		if err := s.Validate(); err != nil {
			return fmt.Errorf("set %q: %w", s.Name, err)
		}
	}
	return nil
}

// Validate checks one set of a plan (see Plan.Validate).
func (s *Set) Validate() error {
	switch s.Action {
	case Create, Update, Sync, Noop, Forget:
	default:
		return fmt.Errorf("unknown action %q", s.Action)
	}
	switch s.Mode {
	case "", "copy", "mirror":
	default:
		return fmt.Errorf("unknown mode %q", s.Mode)
	}
	if sp := s.Spec; sp != nil {
		mode := "copy"
		if sp.Mirror {
			mode = "mirror"
		}
		switch {
		case s.Action == Forget:
			return fmt.Errorf("a forget has no spec")
		case sp.Name != s.Name:
			return fmt.Errorf("the spec is named %q", sp.Name)
		case sp.Source != s.Source:
			return fmt.Errorf("source is %q but the spec's source is %q", s.Source, sp.Source)
		case sp.Destination != s.Destination:
			return fmt.Errorf("destination is %q but the spec's destination is %q", s.Destination, sp.Destination)
		case s.Mode != mode:
			return fmt.Errorf("mode is %q but the spec is a %s", s.Mode, mode)
		}
	}
	if s.Changes.Len() > 0 || len(s.PruneVersions) > 0 {
		if s.Spec == nil {
			return fmt.Errorf("file operations on a set without a spec")
		}
	}
	if s.Changes.Len() > 0 {
		var exact bool
		switch s.Engine {
		case "native":
			exact = true
		case "robocopy":
		default:
			return fmt.Errorf("file operations for an unknown engine %q", s.Engine)
		}
		if err := engine.ValidateChangeList(s.Spec, s.Changes, exact); err != nil {
			return err
		}
		if err := s.checkSummary(); err != nil {
			return err
		}
	}
	for _, n := range s.PruneVersions {
		if _, ok := engine.ParseVersionStamp(n); !ok {
			return fmt.Errorf("%q is not a versions folder name", n)
		}
	}
	if len(s.PruneVersions) > 0 && s.Spec.Versions == nil {
		return fmt.Errorf("versions to prune in a set without versions")
	}
	return nil
}

type setFields Set

// setJSON is a Set as JSON holds it: its Changes shadow the embedded ones
// as engine.ChangeJSON values, which encode at plain struct speed.
type setJSON struct {
	*setFields
	Changes []engine.ChangeJSON `json:"changes,omitempty"`
}

// MarshalJSON writes the set; names that are not UTF-8 get their "_b64"
// twins (docs/plan-json.md, "Names"). It holds the whole document in
// memory: Plan.WriteJSON streams it.
func (s *Set) MarshalJSON() ([]byte, error) {
	w := setJSON{setFields: (*setFields)(s)}
	if err := s.Changes.Range(func(_ int, c *engine.Change) error {
		w.Changes = append(w.Changes, c.JSON())
		return nil
	}); err != nil {
		return nil, err
	}
	return json.Marshal(w)
}

// UnmarshalJSON reads a set written by MarshalJSON, names byte for byte;
// a change whose two forms of a name disagree is an error.
func (s *Set) UnmarshalJSON(b []byte) error {
	var f setFields
	w := setJSON{setFields: &f}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	f.Changes = nil
	if len(w.Changes) > 0 {
		f.Changes = engine.NewChangeList()
		for i := range w.Changes {
			c, err := w.Changes[i].Change()
			if err != nil {
				f.Changes.Close()
				return fmt.Errorf("set %q: change %d: %w", f.Name, i+1, err)
			}
			w.Changes[i] = engine.ChangeJSON{} // let it go as the list grows
			f.Changes.Add(c)
		}
		if err := f.Changes.Err(); err != nil {
			return err
		}
	}
	*s = Set(f)
	return nil
}

// checkSummary refuses a summary that does not describe the set's changes:
// the plan view prints the summary, so a file whose changes were edited
// must not show the old counts.
func (s *Set) checkSummary() error {
	if s.Summary == nil {
		return fmt.Errorf("file operations without a summary")
	}
	got, err := summarize(&engine.ScanResult{Changes: s.Changes}, s.Spec.Versions != nil)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		name      string
		plan, now int64
	}{
		{"new_files", s.Summary.NewFiles, got.NewFiles},
		{"changed_files", s.Summary.ChangedFiles, got.ChangedFiles},
		{"new_dirs", s.Summary.NewDirs, got.NewDirs},
		{"bytes_to_copy", s.Summary.BytesToCopy, got.BytesToCopy},
		{"files_to_delete", s.Summary.FilesToDelete, got.FilesToDelete},
		{"bytes_to_delete", s.Summary.BytesToDelete, got.BytesToDelete},
		{"stale_temp_files", s.Summary.StaleTempFiles, got.StaleTempFiles},
		{"files_to_version", s.Summary.FilesToVersion, got.FilesToVersion},
		{"tweaked", s.Summary.Tweaked, got.Tweaked},
	} {
		if f.plan != f.now {
			return fmt.Errorf("the summary's %s is %d but the changes make %d", f.name, f.plan, f.now)
		}
	}
	return nil
}
