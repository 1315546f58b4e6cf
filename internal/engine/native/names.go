package native

import "strings"

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
