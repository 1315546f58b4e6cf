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
		// MKCOL of the root 1; uploads of 4 (new, and the replacing r
		// after its delete of 3), the overwrite 6, the mkdir 2, two
		// deletes of 3; the root's time 2 (look, read back) and d's 3
		// (a folder robo made: one more look); one record (the root's:
		// PUT, MOVE) 2.
		{schema.Remote{Name: "dav", Type: "webdav"}, 1 + 4 + 6 + 2 + 3 + 3 + (3 + 4) + 2 + 3 + 2},
		// uploads of 6 plus 32 KiB packets (4 + 1 + 2240), mkdir 3, deletes 3, 1 fixed.
		{schema.Remote{Name: "box", Type: "sftp"}, 3*6 + 4 + 1 + 2240 + 3 + 3*3 + 1},
		// The root's listing and marker 2; a new name in a folder robo
		// did not make is looked at with a HEAD and a listing: new 2+1,
		// upd 1+1, d 2+1; deletes 3 each; r's delete 3, then its look 2,
		// 5 parts of 16 MiB, the commit's look 2, create and complete;
		// the root's time: its look 2 and the marker 1 (files were
		// created in it).
		{schema.Remote{Name: "s3", Type: "s3"}, 2 + 3 + 2 + 3 + 3 + 3 + (3 + 2 + 5 + 2 + 2) + 3},
	} {
		o := offsite(&tc.rm, engine.ChangeListOf(changes), false)
		if o.Uploads != 3 || o.UploadBytes != 100<<10+10+70<<20 || o.Deletions != 3 || o.Dirs != 1 || o.Remote != tc.rm.Name || o.Type != tc.rm.Type {
			t.Errorf("%s: %+v", tc.rm.Type, o)
		}
		if o.Requests != tc.want {
			t.Errorf("%s: %d requests, want %d", tc.rm.Type, o.Requests, tc.want)
		}
	}
}
