package native

import (
	"testing"

	"github.com/robo-backup/robo/internal/vfs"
)

// networked is a local FS that says its listings wait on a server.
type networked struct {
	vfs.FS
	n int
}

func (f networked) ListAhead() int { return f.n }

// A remote side (vfs.Networked) sizes the scan's read-ahead pool, not the
// number of CPUs; a local scan keeps the CPU-sized pool; and the pool stays
// bounded whatever a side asks for.
func TestAheadWorkersFollowTheNetworkedSide(t *testing.T) {
	local := vfs.NewLocal(t.TempDir())
	defer vfs.Close(local)
	if got := aheadWorkers(local, local); got != readAheadWorkers {
		t.Errorf("local to local: %d readers, want %d", got, readAheadWorkers)
	}
	if got := aheadWorkers(local, networked{local, 8}); got != max(8, readAheadWorkers) {
		t.Errorf("local to a remote asking for 8: %d readers", got)
	}
	if got := aheadWorkers(networked{local, 1000}, local); got != 64 {
		t.Errorf("a side asking for 1000: %d readers, want the bound 64", got)
	}
}
