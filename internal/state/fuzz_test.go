package state

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// FuzzStateDecode: Decode never panics, and a state it accepts encodes and
// decodes to the same document.
func FuzzStateDecode(f *testing.F) {
	s := New()
	at := time.Date(2024, 3, 1, 12, 0, 0, 0, time.UTC)
	s.Sets["docs"] = &Set{Name: "docs", ConfigDigest: "abc", Source: "/src", Destination: `\\nas\share\docs`, Mode: "mirror", Engine: "native",
		AppliedAt: &at, LastSuccess: &at, LastRun: &Run{Started: at, Duration: time.Second, Outcome: Partial, FilesCopied: 3, Errors: 1, ExitCode: 9, Message: "x"}}
	s.Serial = 7
	valid, _ := json.Marshal(s)
	f.Add(valid)
	f.Add([]byte(`{"version":1,"lineage":"l","sets":{"a":null}}`))
	f.Add([]byte(`{"version":2,"lineage":"l"}`))
	f.Add([]byte(`{"version":1,"lineage":"l","sets":{"a":{"last_run":{"started":"not a time"}}}}`))
	f.Add([]byte(`{"version":1,"lineage":"l"} trailing`))
	f.Add([]byte(`{"version":1,"lineage":"l","serial":-1}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err != nil {
			return
		}
		_ = s.Names()
		b1, err := json.Marshal(s)
		if err != nil {
			t.Fatalf("an accepted state does not encode: %v", err)
		}
		s2, err := Decode(b1)
		if err != nil {
			t.Fatalf("an accepted state does not decode after encoding: %v\n%s", err, b1)
		}
		b2, _ := json.Marshal(s2)
		if !bytes.Equal(b1, b2) {
			t.Fatalf("round trip changed the state:\n%s\n%s", b1, b2)
		}
	})
}
