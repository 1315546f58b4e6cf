package archtest

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/robo-backup/robo/"

// allowed lists, for each package, the robo packages it may import
// (production code only; tests may import more). A package missing here
// fails the test so that new packages get a deliberate place.
var allowed = map[string][]string{
	"schema":                      {},
	"internal/filter":             {},
	"internal/vfs":                {},
	"internal/vfs/vfstest":        {"internal/vfs"},
	"internal/robocopy":           {"internal/engine"},
	"internal/state":              {},
	"internal/memlimit":           {},
	"internal/engine":             {},
	"internal/engine/native":      {"internal/engine", "internal/filter", "internal/vfs"},
	"internal/engine/enginetest":  {"internal/engine", "internal/testtree"},
	"internal/testtree":           {},
	"internal/plan":               {"schema", "internal/engine", "internal/state", "internal/safetext"},
	"internal/apply":              {"schema", "internal/plan", "internal/engine", "internal/state", "internal/hooks", "internal/safetext"},
	"internal/adopt":              {"internal/plan", "internal/state"},
	"internal/hooks":              {"schema"},
	"internal/notify":             {"schema", "internal/apply", "internal/plan", "internal/state"},
	"internal/notify/smtptest":    {},
	"internal/views":              {"internal/plan", "internal/apply", "internal/engine", "internal/state", "internal/safetext"},
	"internal/secrets":            {"schema"},
	"internal/shares":             {"internal/vfs"},
	"internal/shares/sambatest":   {},
	"internal/remote":             {"internal/vfs", "internal/memlimit"},
	"internal/remote/remotetest":  {},
	"internal/audit":              {},
	"internal/watch":              {"schema", "internal/state"},
	"internal/runlog":             {"internal/engine", "internal/robocopy", "internal/safetext"},
	"internal/web":                {"internal/plan", "internal/views", "internal/robocopy", "internal/runlog", "internal/safetext", "internal/engine", "internal/fleet"},
	"internal/archtest":           {},
	"internal/safetext":           {},
	"internal/harden":             {},
	"internal/complete":           {},
	"internal/verify":             {"internal/engine", "internal/engine/native", "internal/vfs"},
	"internal/snapshot":           {"internal/engine", "internal/vfs"},
	"internal/snapshot/btrfstest": {},
	"internal/fleet":              {"schema", "internal/state", "internal/watch", "internal/vfs", "internal/secrets", "internal/safetext"},
	"cmd/robo":                    {"*"},
	"bench/chart":                 {"*"},
	"bench/gentree":               {"*"},
	"bench/timeit":                {"*"},
	"bench/reqcount":              {"*"},
}

func TestImportDirections(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	pkgs := map[string]map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() && path != root {
			// A directory with its own go.mod is another module (the
			// go-smb2 fork in third_party): not robo's packages, and
			// outside ./... for go vet and go test too.
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, filepath.Dir(path))
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		if pkgs[rel] == nil {
			pkgs[rel] = map[string]bool{}
		}
		for _, imp := range f.Imports {
			p := strings.Trim(imp.Path.Value, `"`)
			if strings.HasPrefix(p, module) {
				pkgs[rel][strings.TrimPrefix(p, module)] = true
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	names := make([]string, 0, len(pkgs))
	for n := range pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, pkg := range names {
		allow, ok := allowed[pkg]
		if !ok {
			t.Errorf("package %s has no entry in archtest's allowed list: decide what it may import", pkg)
			continue
		}
		for imp := range pkgs[pkg] {
			okImp := false
			for _, a := range allow {
				if a == "*" || a == imp {
					okImp = true
				}
			}
			if !okImp {
				t.Errorf("%s imports %s, which the layering forbids (allowed: %v)", pkg, imp, allow)
			}
		}
	}
}
