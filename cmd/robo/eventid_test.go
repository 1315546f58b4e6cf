package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/hashicorp/go-hclog"
)

// logMessages finds every log call of robo's code with a literal message
// (x.log.Info("..."), log.Warn("..."), w.o.Log.Error("...")): the messages
// the service can copy to the event log.
func logMessages(t *testing.T) map[eventKey][]string {
	t.Helper()
	levels := map[string]hclog.Level{"Info": hclog.Info, "Warn": hclog.Warn, "Error": hclog.Error}
	found := map[eventKey][]string{}
	fset := token.NewFileSet()
	err := filepath.WalkDir("../..", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".")) && path != "../.." {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) == 0 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok {
				return true
			}
			level, ok := levels[sel.Sel.Name]
			if !ok {
				return true
			}
			recv := ""
			switch x := sel.X.(type) {
			case *ast.Ident:
				recv = x.Name
			case *ast.SelectorExpr:
				recv = x.Sel.Name
			}
			if !strings.HasSuffix(strings.ToLower(recv), "log") {
				return true
			}
			lit, ok := call.Args[0].(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			msg, err := strconv.Unquote(lit.Value)
			if err != nil {
				t.Fatal(err)
			}
			k := eventKey{level, msg}
			found[k] = append(found[k], fset.Position(lit.Pos()).String())
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(found) < 20 {
		t.Fatalf("found only %d log messages: the scan is broken", len(found))
	}
	return found
}

// Every kind of log message has a stable event ID of its own, and every ID
// names a message robo still logs (issue 18: Windows Event Forwarding
// selects events by ID).
func TestEventIDsCoverEveryLogMessage(t *testing.T) {
	found := logMessages(t)
	for k, where := range found {
		if _, ok := eventIDs[k]; !ok {
			t.Errorf("%s: log message %q (%s) has no event ID: add one to eventIDs (cmd/robo/logging.go) and to docs/fleet.md", where[0], k.msg, k.level)
		}
	}
	for k, id := range eventIDs {
		if _, ok := found[k]; !ok {
			t.Errorf("event ID %d: no %s log message %q in robo's code: when a message's text changes, move its ID to the new text", id, k.level, k.msg)
		}
	}
}

func TestEventIDsUniqueAndInRange(t *testing.T) {
	seen := map[uint32]string{}
	for k, id := range eventIDs {
		if id <= eventError || id > 1000 {
			t.Errorf("%q: event ID %d outside 4-1000 (1-3 are the fallbacks; EventCreate.exe has texts for 1-1000)", k.msg, id)
		}
		if prev, ok := seen[id]; ok {
			t.Errorf("event ID %d used by %q and %q", id, prev, k.msg)
		}
		seen[id] = k.msg
		if eventLevel(k.level) != k.level {
			t.Errorf("%q: level %s is not an event log level", k.msg, k.level)
		}
	}
}

// docs/fleet.md's table is the event ID list admins build subscriptions
// from: it lists exactly the IDs of eventIDs, with their levels and texts.
func TestEventIDsDocumented(t *testing.T) {
	b, err := os.ReadFile("../../docs/fleet.md")
	if err != nil {
		t.Fatal(err)
	}
	row := regexp.MustCompile("^\\| *([0-9]+) *\\| *(Information|Warning|Error) *\\| *`([^`]*)` *\\|")
	word := map[hclog.Level]string{hclog.Info: "Information", hclog.Warn: "Warning", hclog.Error: "Error"}
	var want, got []string
	for k, id := range eventIDs {
		want = append(want, fmt.Sprintf("%d %s %s", id, word[k.level], k.msg))
	}
	for _, id := range []uint32{eventInfo, eventWarning, eventError} {
		want = append(want, fmt.Sprintf("%d %s %s", id, word[[]hclog.Level{0, hclog.Info, hclog.Warn, hclog.Error}[id]], "(any other)"))
	}
	for _, line := range strings.Split(string(b), "\n") {
		if m := row.FindStringSubmatch(line); m != nil {
			got = append(got, m[1]+" "+m[2]+" "+m[3])
		}
	}
	sort.Strings(want)
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("docs/fleet.md event ID table:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

type fakeEventLogger struct{ events []string }

func (f *fakeEventLogger) add(kind string, id uint32, v []any) error {
	f.events = append(f.events, fmt.Sprintf("%s %d %s", kind, id, fmt.Sprint(v...)))
	return nil
}
func (f *fakeEventLogger) NError(id uint32, v ...any) error   { return f.add("E", id, v) }
func (f *fakeEventLogger) NWarning(id uint32, v ...any) error { return f.add("W", id, v) }
func (f *fakeEventLogger) NInfo(id uint32, v ...any) error    { return f.add("I", id, v) }
func (f *fakeEventLogger) Error(v ...any) error               { return f.add("E", 0, v) }
func (f *fakeEventLogger) Warning(v ...any) error             { return f.add("W", 0, v) }
func (f *fakeEventLogger) Info(v ...any) error                { return f.add("I", 0, v) }
func (f *fakeEventLogger) Errorf(s string, v ...any) error    { return f.Error(fmt.Sprintf(s, v...)) }
func (f *fakeEventLogger) Warningf(s string, v ...any) error  { return f.Warning(fmt.Sprintf(s, v...)) }
func (f *fakeEventLogger) Infof(s string, v ...any) error     { return f.Info(fmt.Sprintf(s, v...)) }

// The service's sink logs each message with its ID through the real hclog
// logger robo uses; hostile names cannot put control characters into the
// event log, and multi-line diagnostics keep their lines.
func TestEventSinkIDs(t *testing.T) {
	var out strings.Builder
	log, _ := newWatchLogger(&out, "info")
	f := &fakeEventLogger{}
	sink := newServiceSink(f, hclog.Info)
	if _, ok := sink.(*eventSink); !ok {
		t.Fatalf("newServiceSink(a logger with event IDs) = %T, want *eventSink", sink)
	}
	log.RegisterSink(sink)
	log.Debug("noise")
	log.Info("run finished", "set", "docs", "outcome", "success")
	log.Error("run finished", "set", "evil\x1b[2J\nname", "outcome", "failed")
	log.Warn("configuration diagnostics", "diagnostics", "Error: bad\non main.hcl line 3\n")
	log.Warn("something new")
	log.Named("apply").Error("set failed", "set", "x", "error", "disk full")
	want := []string{
		"I 111 run finished set=docs outcome=success",
		`E 311 run finished set=evil\x1b[2J\nname outcome=failed`,
		"W 210 configuration diagnostics diagnostics=Error: bad\r\non main.hcl line 3\r\n",
		"W 2 something new",
		"E 312 set failed set=x error=disk full",
	}
	if strings.Join(f.events, "|") != strings.Join(want, "|") {
		t.Errorf("events:\n%q\nwant:\n%q", f.events, want)
	}
	if s := newServiceSink(&fakeServiceLogger{}, hclog.Info); func() bool { _, ok := s.(*serviceSink); return !ok }() {
		t.Errorf("newServiceSink(a logger without event IDs) = %T, want *serviceSink", s)
	}
}
