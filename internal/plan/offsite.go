package plan

import (
	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/schema"
)

// Offsite is what applying a set with a remote destination sends to the
// remote: the files uploaded and their bytes, the deletions, and an
// estimate of the requests (or SFTP packets) that takes, for bandwidth
// and cost planning (docs/offsite.md#what-the-plan-counts). Listing the
// destination is done by the plan itself and not counted.
type Offsite struct {
	Remote      string `json:"remote"`
	Type        string `json:"type"`
	Uploads     int64  `json:"uploads"`
	UploadBytes int64  `json:"upload_bytes"`
	Deletions   int64  `json:"deletions"`
	Dirs        int64  `json:"dirs"`
	Requests    int64  `json:"requests"`
}

// offsiteCost is a remote type's requests per operation, as robo's
// remote FS performs them (each includes the engine's guard: a stat of
// the destination entry just before the change).
type offsiteCost struct {
	upload, overwrite, delete, mkdir int64
	// perChunk: one more request per chunk bytes of an upload (SFTP
	// writes in 32 KiB packets; object stores in parts above the
	// multipart threshold); 0 for none.
	chunk int64
	// fixed is the apply's own: creating the root, the record of times.
	fixed int64
}

func costOf(rm *schema.Remote) offsiteCost {
	switch rm.Type {
	case "webdav":
		// stat, PUT, MOVE, PROPFIND (read back for the record of times);
		// over an existing file the first MOVE is refused, the file is
		// stat'ed and moved over: two more. A delete lists, then DELETEs.
		return offsiteCost{upload: 4, overwrite: 6, delete: 3, mkdir: 2, fixed: 3}
	case "sftp":
		// lstat, open, close, chmod, setstat, rename, plus the writes.
		return offsiteCost{upload: 6, overwrite: 6, delete: 3, mkdir: 3, chunk: 32 << 10, fixed: 1}
	default:
		// Object stores: a HEAD and a PUT (a multipart upload adds its
		// create and complete requests and one per part).
		return offsiteCost{upload: 2, overwrite: 2, delete: 2, mkdir: 0, fixed: 0}
	}
}

// offsite counts a remote set's changes.
func offsite(rm *schema.Remote, changes *engine.ChangeList) *Offsite {
	o := &Offsite{Remote: rm.Name, Type: rm.Type}
	c := costOf(rm)
	o.Requests = c.fixed
	threshold, part := rm.MultipartThreshold, rm.ChunkSize
	if threshold <= 0 {
		threshold = 64 << 20
	}
	if part <= 0 {
		part = 16 << 20
	}
	upload := func(size int64, over bool) {
		o.Uploads++
		o.UploadBytes += size
		if over {
			o.Requests += c.overwrite
		} else {
			o.Requests += c.upload
		}
		switch {
		case c.chunk > 0:
			o.Requests += (size + c.chunk - 1) / c.chunk
		case rm.Type == "s3" || rm.Type == "azureblob":
			if size >= threshold {
				o.Requests += 2 + (size+part-1)/part - 1 // create, parts, complete, minus the single PUT
			}
		}
	}
	_ = changes.Range(func(_ int, ch *engine.Change) error {
		dir := ch.Kind == engine.KindDir
		switch {
		case ch.Class == engine.StaleTemp, ch.Action == engine.Delete:
			o.Deletions++
			o.Requests += c.delete
		case ch.Action == engine.Replace:
			o.Deletions++
			o.Requests += c.delete
			if dir {
				o.Dirs++
				o.Requests += c.mkdir
			} else if ch.Kind == engine.KindFile {
				upload(ch.Size, false)
			}
		case ch.Action == engine.Create && dir:
			o.Dirs++
			o.Requests += c.mkdir
		case ch.Action == engine.Create && ch.Kind == engine.KindFile:
			upload(ch.Size, false)
		case ch.Action == engine.Update && ch.Kind == engine.KindFile:
			upload(ch.Size, true)
		}
		return nil
	}) // a list that cannot be read fails the apply; the estimate stops short
	return o
}
