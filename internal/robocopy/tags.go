package robocopy

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// fileClasses maps class tags as printed (trimmed) to normalized classes.
// Sources: FORMAT.md §3 and §6 (en, fr, pt-BR, ru, it from the samples and
// a test capture); Japanese from the n-archives.net class table
// ("robocopy-classes-in-japanese"), which matches sample 12: "新しい" is
// Newer, "新しいファイル" is New File. Tags not listed fall back to
// structure (see classifyFileTag).
var fileClasses = map[string]string{
	// en (leading caps: selected for copying; lowercase: skipped, /V)
	"New File": "New File", "Newer": "Newer", "Older": "Older", "Changed": "Changed",
	"Same": "Same", "Tweaked": "Tweaked", "Modified": "Modified",
	"*EXTRA File": "*EXTRA File", "*MISMATCH": "*MISMATCH", "*Mismatch": "*MISMATCH",
	"same": "same", "newer": "newer", "older": "older", "changed": "changed", "tweaked": "tweaked",
	"modified": "modified", "lonely": "lonely", "named": "named", "attrib": "attrib", "extra": "extra",
	// fr
	"Nouveau fichier": "New File", "*Fichier SUPPL.": "*EXTRA File",
	// pt-BR
	"Novo Arquivo": "New File", "*Arquivo EXTRA": "*EXTRA File",
	// ru
	"Новый файл": "New File", "Новее": "Newer", "*ДОПОЛНИТЕЛЬНЫЙ файл": "*EXTRA File",
	// ja
	"新しいファイル": "New File", "新しい": "Newer", "古い": "Older", "変更済み": "Changed", "同じ": "Same",
	"マイナー変更した": "Tweaked", "更新済み": "Modified", "不一致": "*MISMATCH",
	// it
	"Nuovo file": "New File", "*File supplementare": "*EXTRA File",
}

// dirClasses maps directory tags (trimmed, without the count).
var dirClasses = map[string]string{
	"New Dir": "New Dir", "*EXTRA Dir": "*EXTRA Dir", "*MISMATCH": "*MISMATCH", "*Mismatch": "*MISMATCH",
	"lonely": "lonely", "named": "named", "extra": "extra", "attrib": "attrib",
	"Nouveau rép.": "New Dir",
	"Novo Dir":     "New Dir", "*Dir EXTRA": "*EXTRA Dir",
	"*ДОПОЛНИТЕЛЬНАЯ папка": "*EXTRA Dir",
	"新しいディレクトリ":             "New Dir",
	"Nuova directory":       "New Dir", "*directory supplementare": "*EXTRA Dir",
}

var mismatchWords = []string{"MISMATCH", "不一致"}

// classifyFileTag normalizes a file class tag. Unknown tags fall back to
// structure: a leading '*' marks an anomaly, which is "*MISMATCH" when the
// tag says so and otherwise the far more common "*EXTRA File"; any other
// unknown tag gives "".
func classifyFileTag(tag string) string {
	if c, ok := fileClasses[tag]; ok {
		return c
	}
	if strings.HasPrefix(tag, "*") {
		up := strings.ToUpper(tag)
		for _, w := range mismatchWords {
			if strings.Contains(up, w) {
				return "*MISMATCH"
			}
		}
		return "*EXTRA File"
	}
	return ""
}

// classifyDirTag normalizes a directory tag. Fallbacks: no tag = existing
// directory (""); '*' with count -1 = "*EXTRA Dir"; other '*' tags =
// "*MISMATCH"; a tag starting with a lowercase letter (a /V skip class) = "";
// any other tag = "New Dir" (the only selected directory class).
func classifyDirTag(tag string, count int64) string {
	if tag == "" {
		return ""
	}
	if c, ok := dirClasses[tag]; ok {
		return c
	}
	if strings.HasPrefix(tag, "*") {
		if count == -1 {
			return "*EXTRA Dir"
		}
		return "*MISMATCH"
	}
	if r, _ := utf8.DecodeRuneInString(tag); unicode.IsLower(r) {
		return ""
	}
	return "New Dir"
}

// Localized header labels for the exclusion blocks, used before the
// structural rule (see header.go).
var (
	excFilesLabels = []string{"Exc Files", "Arquivos Exc", "Исключенные файлы"}
	excDirsLabels  = []string{"Exc Dirs", "Diretórios Exc", "Исключенные папки"}
)

// Retry messages (FORMAT.md §4, §6). Under /MT they can be glued to other
// threads' lines, so the words are needed to cut them off a file name.
var (
	waitWords  = []string{"Waiting", "Ожидание"}
	retryWords = []string{"Retrying", "Повтор"}
)
