package robocopy

import (
	"fmt"
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
	// it: a Windows 11 capture (testdata/corpus/it-win11-l-fp-bytes-mir-capture.log)
	// lists a file whose source and destination were written within one
	// clock tick with different sizes (36 and 7 bytes) as "Modificato": the
	// Changed class (same time, different size). It cannot be Modified,
	// which needs equal sizes and /IM.
	"Modificato": "Changed",
	// The tags below were reported from real logs in issue 15 (es, pt-BR,
	// zh-CN, de) and the German console transcript of andysblog.de
	// (testdata/fixtures/SOURCES.md); robocopy truncates long tags to its
	// column, which classifyFileTag handles by prefix.
	// es
	"Nuevo archivo": "New File", "Más reciente": "Newer", "Más antiguo": "Older",
	// es-MX: a PowerShell module that ran robocopy there quotes "*Archivo
	// EXTRA", "Nuevo arch" and "Mas antiguo" (see SOURCES.md).
	"*Archivo EXTRA": "*EXTRA File",
	// pt-BR
	"Mais Recente": "Newer", "Mais Antigo": "Older",
	// zh-CN
	"新文件": "New File",
	// de
	"Neue Datei": "New File", "Neuer": "Newer", "Älter": "Older", "*EXTRA Datei": "*EXTRA File",
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
	"*EXTRA Verz.": "*EXTRA Dir",
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
	if c := byPrefix(tag); c != "" {
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
	excDirsLabels  = []string{"Exc Dirs", "Diretórios Exc", "Исключенные папки", "除外ディレクトリ"}
)

// Retry messages (FORMAT.md §4, §6). Under /MT they can be glued to other
// threads' lines, so the words are needed to cut them off a file name.
var (
	waitWords  = []string{"Waiting", "Ожидание"}
	retryWords = []string{"Retrying", "Повтор"}
)

// byPrefix classifies a tag robocopy cut to its column ("Nuevo arch" for
// "Nuevo archivo"): the known tags it begins are all of one class. At least
// five characters are needed.
func byPrefix(tag string) string {
	if utf8.RuneCountInString(tag) < 5 {
		return ""
	}
	class := ""
	for k, c := range fileClasses {
		if strings.HasPrefix(k, tag) {
			if class != "" && class != c {
				return ""
			}
			class = c
		}
	}
	return class
}

// errorWords are the ERROR word of fatal "ERROR : text" lines in the
// languages seen (FORMAT.md §4, §6). A "WORD : text" line whose word is not
// one of these (nor the word of the job's own error lines) is a note,
// unless robocopy explains it with a "*****" line.
var errorWords = map[string]bool{
	"ERROR": true, "FEHLER": true, "ERREUR": true, "ERRO": true, "ERRORE": true, "ОШИБКА": true,
	"エラー": true, "错误": true, "錯誤": true, "오류": true, "HATA": true, "FOUT": true, "BŁĄD": true,
	"CHYBA": true, "HIBA": true, "FEJL": true, "FEIL": true, "FEL": true, "VIRHE": true,
}

func isErrorWord(w string) bool { return errorWords[strings.ToUpper(w)] || errorWords[w] }

// bannerLanguages maps the product line of the banner to the display
// language (FORMAT.md §6). Some languages (ru, pl, tr) keep the English
// banner; sourceLabelLanguages then decides.
var bannerLanguages = map[string]string{
	"Robust File Copy for Windows":           "en",
	"Robustes Dateikopieren für Windows":     "de",
	"Copie de fichiers robuste pour Windows": "fr",
	"Robust File Copy para Windows":          "pt-BR",
	"Windows の堅牢性の高いファイル コピー":                "ja",
	"Windows 的可靠文件复制":                        "zh-CN",
	"Copia di file efficace per Windows":     "it",
}

// sourceLabelLanguages maps the label of the Source line to a language,
// for banners shared by several languages.
var sourceLabelLanguages = map[string]string{
	"Quelle": "de", "Origem": "pt-BR", "Origen": "es", "Источник": "ru", "コピー元": "ja", "源": "zh-CN",
	"Origine": "it", "Źródło": "pl", "Kaynak": "tr", "Bron": "nl",
}

// UnknownTagError describes a file line whose class tag robo does not know,
// naming the tag and the output language, and what to do.
func UnknownTagError(j *Job, tag string) string {
	lang := j.Language
	if lang == "" {
		lang = "unknown"
	}
	return fmt.Sprintf("unrecognized robocopy class tag %q (output language %s, banner %q): robo cannot tell whether this file is new, changed or extra, so the set's deletions are withheld; run robo with an English display language for robocopy (or the native engine) and report the tag", tag, lang, j.Banner)
}
