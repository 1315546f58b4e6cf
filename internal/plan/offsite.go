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

// The requests are counted as robo's remote FS and the native engine
// send them (docs/offsite.md#what-the-plan-counts, checked against the
// real servers by TestOffsiteEstimateMatchesApply): the engine's guard
// (a look at the entry just before each change), the change itself, the
// folders' times set after their contents, and, on WebDAV, the records of
// times written at the end. Where the count depends on the server's state
// beyond the plan (whether a folder's time really changed, parent folders
// of a new destination that are missing too) it is the common case: a
// folder with a file created or deleted directly in it gets a new time,
// one where files were only updated keeps it.

// offsite counts a remote set's changes; newRoot: the destination does
// not exist yet.
func offsite(rm *schema.Remote, changes *engine.ChangeList, newRoot bool) *Offsite {
	o := &Offsite{Remote: rm.Name, Type: rm.Type}
	threshold, part := rm.MultipartThreshold, rm.ChunkSize
	if threshold <= 0 {
		threshold = 64 << 20
	}
	if part <= 0 {
		part = 16 << 20
	}
	created := map[string]bool{} // folders the plan creates
	deleted := map[string]bool{} // folders the plan deletes
	churn := map[string]bool{}   // folders with a file or folder created or deleted directly in them
	touched := map[string]bool{} // folders whose time the engine sets afterwards
	// Two passes over the list (it may be on disk): the folders first
	// (bounded by the tree's folders, not its files), then the changes.
	any := false
	_ = changes.Range(func(_ int, c *engine.Change) error {
		any = true
		p := parentOf(c.Path)
		touched[p] = true
		if c.Kind == engine.KindDir && c.Action != engine.Delete {
			touched[c.Path] = true
		}
		switch {
		case c.Kind == engine.KindDir && (c.Action == engine.Create || c.Action == engine.Replace):
			created[c.Path] = true
		case c.Kind == engine.KindDir && c.Action == engine.Delete:
			deleted[c.Path] = true
		}
		if c.Action != engine.Update {
			churn[p] = true
		}
		return nil
	}) // a list that cannot be read fails the apply; the estimate stops short
	if !any {
		return o
	}
	each := func(f func(c *engine.Change)) {
		_ = changes.Range(func(_ int, c *engine.Change) error { f(c); return nil })
	}
	made := func(dir string) bool { return created[dir] || dir == "" && newRoot }
	gone := func(dir string) bool {
		for d := dir; d != ""; d = parentOf(d) {
			if deleted[d] {
				return true
			}
		}
		return false
	}
	each(func(c *engine.Change) {
		switch {
		case c.Class == engine.StaleTemp, c.Action == engine.Delete:
			o.Deletions++
		case c.Action == engine.Replace:
			o.Deletions++
			if c.Kind == engine.KindDir {
				o.Dirs++
			} else if c.Kind == engine.KindFile {
				o.Uploads++
				o.UploadBytes += c.Size
			}
		case c.Action == engine.Create && c.Kind == engine.KindDir:
			o.Dirs++
		case (c.Action == engine.Create || c.Action == engine.Update) && c.Kind == engine.KindFile:
			o.Uploads++
			o.UploadBytes += c.Size
		}
	})
	switch rm.Type {
	case "webdav":
		o.Requests = davRequests(each, made, gone, touched, churn, created)
	case "sftp":
		o.Requests = sftpRequests(each)
	default:
		o.Requests = objRequests(rm.Type, each, made, gone, touched, churn, threshold, part)
	}
	return o
}

func parentOf(p string) string {
	for i := len(p) - 1; i >= 0; i-- {
		if p[i] == '/' {
			return p[:i]
		}
	}
	return ""
}

// objRequests: S3 and Azure Blob (internal/remote/objfs.go).
func objRequests(typ string, each func(func(*engine.Change)), made func(string) bool, gone func(string) bool, touched, churn map[string]bool, threshold, part int64) int64 {
	// Making sure the root is there: a listing of it, then its marker
	// (new) or the marker's HEAD (there).
	n := int64(2)
	known := map[string]bool{"": true} // folders the FS has looked at
	look := func(dir string) int64 {
		// The guard's look at a new name: a HEAD in a folder robo made,
		// and a listing of the name as a prefix elsewhere.
		if made(dir) {
			return 1
		}
		return 2
	}
	parentCheck := func(dir string, cost int64) int64 {
		// The first write into a folder robo neither made nor looked at
		// checks it is not a file.
		if made(dir) || known[dir] {
			return 0
		}
		known[dir] = true
		return cost
	}
	upload := func(c *engine.Change, guard int64) int64 {
		p := parentOf(c.Path)
		k := guard + parentCheck(p, 1)
		if c.Size <= threshold {
			return k + 1 // PUT
		}
		parts := (c.Size + part - 1) / part
		// The commit looks at the name again (for a new file as the
		// guard did), then completes; S3 also creates the upload.
		k += parts + guard + 1
		if typ == "s3" {
			k++
		}
		return k
	}
	del := func(c *engine.Change) int64 {
		if c.Kind == engine.KindDir {
			// Two looks at a folder (HEAD of the name, listing, HEAD of
			// its marker), a listing of two keys, the DELETE of its marker.
			return 3 + 3 + 2
		}
		return 3 // HEAD (guard), HEAD (Remove's look), DELETE
	}
	each(func(c *engine.Change) {
		p := parentOf(c.Path)
		switch {
		case c.Class == engine.StaleTemp, c.Action == engine.Delete:
			n += del(c)
		case c.Action == engine.Replace:
			n += del(c)
			if c.Kind == engine.KindDir {
				n += look(p) + parentCheck(p, 3) + 1
			} else if c.Kind == engine.KindFile {
				n += upload(c, look(p))
			}
		case c.Action == engine.Create && c.Kind == engine.KindDir:
			// The look, the parent (its look) when robo did not make or
			// look at it, and the marker with the folder's time.
			n += look(p) + parentCheck(p, 3) + 1
		case c.Action == engine.Create && c.Kind == engine.KindFile:
			n += upload(c, look(p))
		case c.Action == engine.Update && c.Kind == engine.KindFile:
			n += upload(c, 1)
		}
	})
	for d := range touched {
		switch {
		case gone(d):
		case made(d) && d == "":
			n++ // the new root's marker, written again with its time
		case made(d):
			// its marker holds its time already
		default:
			// The engine's look (the root: listing and marker's HEAD;
			// another folder: a HEAD of the name first) and, when its
			// time changed, the marker.
			if d == "" {
				n += 2
			} else {
				n += 3
			}
			if churn[d] {
				n++
			}
		}
	}
	return n
}

// davRequests: WebDAV (internal/remote/webdav.go, webdav_times.go).
func davRequests(each func(func(*engine.Change)), made func(string) bool, gone func(string) bool, touched, churn, created map[string]bool) int64 {
	n := int64(1) // MKCOL of the root (one more per missing parent)
	records := map[string]bool{}
	each(func(c *engine.Change) {
		p := parentOf(c.Path)
		if !gone(p) {
			records[p] = true
		}
		switch {
		case c.Class == engine.StaleTemp, c.Action == engine.Delete:
			n += 3 // PROPFIND (guard), PROPFIND depth 1, DELETE
		case c.Action == engine.Replace:
			n += 3
			if c.Kind == engine.KindDir {
				n += 2
			} else if c.Kind == engine.KindFile {
				n += 4
			}
		case c.Action == engine.Create && c.Kind == engine.KindDir:
			n += 2 // PROPFIND (guard), MKCOL
		case c.Action == engine.Create && c.Kind == engine.KindFile:
			n += 4 // PROPFIND (guard), PUT, MOVE, PROPFIND (read back for the record)
		case c.Action == engine.Update && c.Kind == engine.KindFile:
			n += 6 // and the refused MOVE, a PROPFIND, the MOVE over
		}
	})
	for d := range touched {
		if gone(d) {
			continue
		}
		// The engine's look and the read back for the record (a folder
		// it made: one more look, for its metadata).
		n += 2
		if created[d] {
			n++
		}
		// A folder's time is in its parent's record (the root's in its
		// own): written when it changed.
		if churn[d] || made(d) {
			records[parentOf(d)] = true
		}
	}
	return n + 2*int64(len(records)) // PUT and MOVE of each record
}

// sftpRequests: SFTP packets.
func sftpRequests(each func(func(*engine.Change))) int64 {
	n := int64(1)
	each(func(c *engine.Change) {
		switch {
		case c.Class == engine.StaleTemp, c.Action == engine.Delete:
			n += 3
		case c.Action == engine.Replace:
			n += 3
			if c.Kind == engine.KindDir {
				n += 3
			} else if c.Kind == engine.KindFile {
				n += 6 + (c.Size+32<<10-1)/(32<<10)
			}
		case c.Action == engine.Create && c.Kind == engine.KindDir:
			n += 3
		case (c.Action == engine.Create || c.Action == engine.Update) && c.Kind == engine.KindFile:
			// lstat, open, close, chmod, setstat, rename, plus the writes.
			n += 6 + (c.Size+32<<10-1)/(32<<10)
		}
	})
	return n
}
