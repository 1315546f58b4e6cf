package plan

import (
	"testing"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/schema"
)

// The offsite counts of each remote type for one change list: a new file,
// an overwritten file, a new dir, a deletion, a stale temporary file and
// a file replacing a directory.
func TestOffsiteCounts(t *testing.T) {
	changes := []engine.Change{
		{Action: engine.Create, Kind: engine.KindFile, Path: "new", Size: 100 << 10},
		{Action: engine.Update, Kind: engine.KindFile, Path: "upd", Size: 10},
		{Action: engine.Create, Kind: engine.KindDir, Path: "d"},
		{Action: engine.Delete, Kind: engine.KindFile, Path: "old", Size: 7},
		{Action: engine.Delete, Class: engine.StaleTemp, Kind: engine.KindFile, Path: ".robo-x.0123456789ab.tmp"},
		{Action: engine.Replace, Kind: engine.KindFile, Path: "r", Size: 70 << 20},
	}
	for _, tc := range []struct {
		rm   schema.Remote
		want int64
	}{
		// 3 uploads of 4 (one overwrite of 6), a mkdir of 2, 3 deletes of 3, 3 fixed.
		{schema.Remote{Name: "dav", Type: "webdav"}, 4 + 6 + 4 + 2 + 3*3 + 3},
		// uploads of 6 plus 32 KiB packets (4 + 1 + 2240), mkdir 3, deletes 3, 1 fixed.
		{schema.Remote{Name: "box", Type: "sftp"}, 3*6 + 4 + 1 + 2240 + 3 + 3*3 + 1},
		// 2 a file; the 70 MiB one goes in 5 parts of 16 MiB: +2+5-1.
		{schema.Remote{Name: "s3", Type: "s3"}, 3*2 + (2 + 5 - 1) + 3*2},
	} {
		o := offsite(&tc.rm, engine.ChangeListOf(changes))
		if o.Uploads != 3 || o.UploadBytes != 100<<10+10+70<<20 || o.Deletions != 3 || o.Dirs != 1 || o.Remote != tc.rm.Name || o.Type != tc.rm.Type {
			t.Errorf("%s: %+v", tc.rm.Type, o)
		}
		if o.Requests != tc.want {
			t.Errorf("%s: %d requests, want %d", tc.rm.Type, o.Requests, tc.want)
		}
	}
}
