//go:build !windows

package native_test

import (
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/robo-backup/robo/internal/engine/native"
	tt "github.com/robo-backup/robo/internal/testtree"
)

// TestSpecialFilesCounted (issue 13): FIFOs and sockets in the source are
// never copied (nor opened: a FIFO would block) and are counted, with an
// example path, for the plan's warning.
func TestSpecialFilesCounted(t *testing.T) {
	root := t.TempDir()
	src, dst := filepath.Join(root, "src"), filepath.Join(root, "dst")
	tt.Create(t, src, tt.Dir{"a/f": tt.File{Content: "f"}})
	if err := syscall.Mkfifo(filepath.Join(src, "a", "pipe"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(filepath.Join(src, "pipe2"), 0o644); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", filepath.Join(src, "a", "sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	e := native.New()
	spec := mirrorSpec(src, dst)
	sc := scanOnly(t, e, spec)
	if sc.Special != 3 || sc.SpecialExample != "pipe2" {
		t.Fatalf("special %d, example %q", sc.Special, sc.SpecialExample)
	}
	res := applyJob(t, e, spec, sc)
	if !res.OK() {
		t.Fatalf("%+v", res)
	}
	for _, p := range []string{"a/pipe", "a/sock", "pipe2"} {
		if _, err := os.Lstat(filepath.Join(dst, p)); err == nil {
			t.Errorf("%s was copied", p)
		}
	}
}
