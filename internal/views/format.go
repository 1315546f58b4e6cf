package views

import (
	"fmt"

	"github.com/robo-backup/robo/internal/engine"
	"github.com/robo-backup/robo/internal/safetext"
)

// FileError renders a failed operation for a person: "copy NAME: message",
// the name through safetext.Name and the message through safetext.Line.
func FileError(e engine.FileError) string {
	return fmt.Sprintf("%s %s: %s", safetext.Line(e.Op), safetext.Name(e.Path), safetext.Line(e.Err))
}

// Bytes renders a size in binary units, as "0 B", "512 B", "1.5 KiB".
func Bytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// Tag is robocopy's log tag for a change.
func Tag(c *engine.Change) string {
	dir, link := c.Kind == engine.KindDir, c.Kind == engine.KindSymlink
	switch c.Class {
	case engine.New:
		switch {
		case dir:
			return "New Dir"
		case link:
			return "New Link"
		case c.LinkTo != "":
			return "Hard Link"
		}
		return "New File"
	case engine.Extra:
		switch {
		case dir:
			return "*EXTRA Dir"
		case link:
			return "*EXTRA Link"
		}
		return "*EXTRA File"
	case engine.Mismatch:
		return "*MISMATCH"
	case engine.StaleTemp:
		return "stale temp"
	}
	return c.Class.String()
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}
