package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/robo-backup/robo/internal/vfs"
)

// ReportFile is the name of host's report in a report folder.
func ReportFile(host string) string { return host + ".json" }

// WriteReport writes r as ReportFile(r.Host) in directory dir of fsys
// ("" is the root of fsys), atomically: see WriteFile.
func WriteReport(ctx context.Context, fsys vfs.FS, dir string, r *Report) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(ctx, fsys, dir, ReportFile(r.Host), append(b, '\n'))
}

// renameTries bounds the attempts to rename a written file over the old
// one: on a Windows server or Samba the rename fails while a reader (robo
// fleet status, an admin's editor) has the old file open without
// FILE_SHARE_DELETE, which lasts milliseconds.
const renameTries = 12

// WriteFile replaces name in directory dir of fsys with data so that a
// reader sees the old file or the new one, never a part: it writes a
// temporary file beside it ("."+name+"…tmp", which readers skip), syncs
// it, and renames it over name, retrying the rename with a growing pause
// (about 5 s in all) while it fails. The directory is created when missing.
// On failure the temporary file is removed and the old file is untouched.
func WriteFile(ctx context.Context, fsys vfs.FS, dir, name string, data []byte) error {
	w, tmp, err := fsys.CreateTemp(dir, "."+name+".", 0o644)
	if errors.Is(err, fs.ErrNotExist) {
		if err := fsys.MkdirAll(dir); err != nil {
			return fmt.Errorf("create %s: %w", display(fsys, dir), err)
		}
		w, tmp, err = fsys.CreateTemp(dir, "."+name+".", 0o644)
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", display(fsys, vfs.Join(dir, name)), err)
	}
	ok := false
	defer func() {
		if !ok {
			fsys.Remove(tmp)
		}
	}()
	_, err = w.Write(data)
	if err == nil {
		err = w.Sync()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("write %s: %w", display(fsys, tmp), err)
	}
	pause := 10 * time.Millisecond
	for try := 1; ; try++ {
		err = fsys.Rename(tmp, vfs.Join(dir, name))
		if err == nil {
			ok = true
			return nil
		}
		if try == renameTries || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-time.After(pause):
		}
		pause = min(2*pause, time.Second)
	}
	return fmt.Errorf("replace %s: %w", display(fsys, vfs.Join(dir, name)), errors.Join(err, ctx.Err()))
}

// display names a file of fsys for messages.
func display(fsys vfs.FS, name string) string {
	root := fsys.String()
	if name == "" {
		return root
	}
	sep := "/"
	if len(root) > 0 && (root[0] == '\\' || (len(root) > 1 && root[1] == ':')) {
		sep = `\`
	}
	if len(root) > 0 && (root[len(root)-1] == '/' || root[len(root)-1] == '\\') {
		sep = ""
	}
	out := root + sep
	for _, c := range name {
		if c == '/' && sep == `\` {
			out += `\`
		} else {
			out += string(c)
		}
	}
	return out
}
