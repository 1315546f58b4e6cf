package native

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/robo-backup/robo/internal/engine"
)

// windowsNameProblem says why Windows (and an SMB share, whatever serves
// it) cannot hold a file or directory named name, or returns "". Such a
// name would be created under another name (Windows strips a trailing dot or
// space), land on a device (NUL, COM1), fail, or, with a colon, write an
// NTFS alternate data stream of another file.
func windowsNameProblem(name string) string {
	if strings.HasSuffix(name, ".") || strings.HasSuffix(name, " ") {
		return "the name ends with a dot or a space, which Windows removes, so the copy would get another name"
	}
	for _, r := range name {
		if r < 32 || strings.ContainsRune(`<>:"\|?*`, r) {
			return "the name holds a character Windows does not allow in names (<>:\"\\|?* or a control character)"
		}
	}
	stem := name
	if i := strings.IndexByte(stem, '.'); i >= 0 {
		stem = stem[:i]
	}
	stem = strings.ToUpper(strings.TrimRight(stem, " "))
	switch stem {
	case "CON", "PRN", "AUX", "NUL",
		"COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9", "COM¹", "COM²", "COM³",
		"LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9", "LPT¹", "LPT²", "LPT³":
		return "the name is a reserved device name on Windows (CON, PRN, AUX, NUL, COM1-9, LPT1-9, with or without an extension)"
	}
	return ""
}

// maxTempStem bounds how much of a file's own name its temporary name
// keeps. A temporary name is tempPrefix, the stem, ".", the run's tag (13
// bytes), a counter (at most 13) and tempSuffix: at most 237 bytes, so it
// fits the 255-byte name limit of Linux and macOS file systems and the
// 255 UTF-16 units of NTFS and SMB (a UTF-8 name never has more UTF-16
// units than bytes) whatever the length of the file's name.
const maxTempStem = 200

// tempStem is the part of a file's name that its temporary names carry:
// the name itself when short enough, else its first bytes (cut on a
// character boundary), "~" and 8 hex digits of its SHA-256, so that two
// long names with the same beginning still get different stems. Every
// form keeps tempPrefix and tempSuffix, so IsTemp recognises it.
func tempStem(name string) string {
	if len(name) <= maxTempStem {
		return name
	}
	sum := sha256.Sum256([]byte(name))
	cut := maxTempStem - 9
	for cut > 0 && !utf8.RuneStart(name[cut]) {
		cut--
	}
	return name[:cut] + "~" + hex.EncodeToString(sum[:4])
}

// checkChange reports why Apply cannot perform c as given, or nil: a
// change read from a saved plan may have been edited, and the engine must
// fail it, not panic or guess. Each action needs the entries its guards
// compare, a known kind, and its own phase (deletions never run in the
// copy phase, where they would escape the rule that an error stops them).
func checkChange(c *engine.Change) error {
	if err := engine.CheckPath(c.Path); err != nil {
		return err
	}
	switch c.Kind {
	case engine.KindFile, engine.KindDir, engine.KindSymlink:
	default:
		return fmt.Errorf("unknown kind %q", c.Kind)
	}
	need := func(m *engine.Meta, side string) error {
		if m == nil {
			return fmt.Errorf("a %s change without the %s entry it is guarded by", c.Action, side)
		}
		return nil
	}
	var err error
	switch c.Action {
	case engine.Create:
		err = need(c.Src, "source")
		if err == nil && c.Phase != engine.PhaseCopy && c.Phase != engine.PhaseReplace {
			err = fmt.Errorf("a create change in phase %d", c.Phase)
		}
	case engine.Update:
		if err = need(c.Src, "source"); err == nil {
			err = need(c.Dst, "destination")
		}
		if err == nil && c.Phase != engine.PhaseCopy && c.Phase != engine.PhaseReplace {
			err = fmt.Errorf("an update change in phase %d", c.Phase)
		}
	case engine.Replace:
		if err = need(c.Src, "source"); err == nil {
			err = need(c.Dst, "destination")
		}
		if err == nil && c.Phase != engine.PhaseReplace {
			err = fmt.Errorf("a replace change in phase %d", c.Phase)
		}
	case engine.Delete:
		err = need(c.Dst, "destination")
		if err == nil && c.Phase != engine.PhaseDelete {
			err = fmt.Errorf("a delete change in phase %d", c.Phase)
		}
		if err == nil && c.Dst.Kind != c.Kind {
			err = fmt.Errorf("a delete of a %s whose planned entry is a %s", c.Kind, c.Dst.Kind)
		}
		return err
	default:
		return fmt.Errorf("unknown action %q", c.Action)
	}
	if err == nil && c.Src.Kind != c.Kind {
		err = fmt.Errorf("a %s change of a %s whose source entry is a %s", c.Action, c.Kind, c.Src.Kind)
	}
	if err == nil && c.LinkTo != "" {
		err = c.CheckLinkTo()
	}
	return err
}
