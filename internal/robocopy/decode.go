package robocopy

import (
	"bytes"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/japanese"
	"golang.org/x/text/encoding/simplifiedchinese"
	xunicode "golang.org/x/text/encoding/unicode"
)

// Encodings the parser knows by name; see [EncodingByName].
var namedEncodings = map[string]encoding.Encoding{
	"utf-8":    encoding.Nop,
	"utf-16le": xunicode.UTF16(xunicode.LittleEndian, xunicode.IgnoreBOM),
	"utf-16be": xunicode.UTF16(xunicode.BigEndian, xunicode.IgnoreBOM),
	"cp437":    charmap.CodePage437,
	"cp850":    charmap.CodePage850,
	"cp866":    charmap.CodePage866,
	"cp932":    japanese.ShiftJIS,
	"cp936":    simplifiedchinese.GBK,
	"cp1252":   charmap.Windows1252,
}

// EncodingByName returns the encoding for a name accepted by the parser
// ("utf-8", "utf-16le", "utf-16be", "cp437", "cp850", "cp866", "cp932" (Shift
// JIS), "cp936" (GBK), "cp1252"), for example to fill ParseOptions from a
// command-line flag. Names are case-insensitive; "shift_jis" and "gbk" are
// accepted as aliases.
func EncodingByName(name string) (encoding.Encoding, bool) {
	n := strings.ToLower(strings.TrimSpace(name))
	switch n {
	case "shift_jis", "shift-jis", "sjis":
		n = "cp932"
	case "gbk", "gb2312":
		n = "cp936"
	case "utf8":
		n = "utf-8"
	}
	e, ok := namedEncodings[n]
	return e, ok
}

func encodingName(e encoding.Encoding) string {
	for name, x := range namedEncodings {
		if x == e {
			return name
		}
	}
	return "explicit"
}

// oemCandidates are the OEM code pages tried for BOM-less, non-UTF-8 logs,
// in tie-break order.
var oemCandidates = []struct {
	name string
	enc  encoding.Encoding
}{
	{"cp850", charmap.CodePage850},
	{"cp437", charmap.CodePage437},
	{"cp866", charmap.CodePage866},
	{"cp932", japanese.ShiftJIS},
	{"cp936", simplifiedchinese.GBK},
}

// decode converts raw log bytes to a string and names the encoding used.
// Order: explicit encoding; BOM (UTF-8, UTF-16LE, UTF-16BE); BOM-less
// UTF-16 (NUL bytes at odd or even positions); valid UTF-8; otherwise the
// best-scoring OEM code page (see scoreText).
func decode(b []byte, explicit encoding.Encoding) (string, string) {
	if explicit != nil {
		if explicit == encoding.Nop {
			return strings.ToValidUTF8(string(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf"))), "\uFFFD"), "utf-8"
		}
		s, err := explicit.NewDecoder().Bytes(b)
		if err != nil {
			return strings.ToValidUTF8(string(b), "\uFFFD"), "utf-8"
		}
		return strings.TrimPrefix(string(s), "\uFEFF"), encodingName(explicit)
	}
	switch {
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return strings.ToValidUTF8(string(b[3:]), "\uFFFD"), "utf-8"
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return decodeUTF16(b[2:], xunicode.LittleEndian), "utf-16le"
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return decodeUTF16(b[2:], xunicode.BigEndian), "utf-16be"
	}
	if le, be := nulParity(b); le {
		return decodeUTF16(b, xunicode.LittleEndian), "utf-16le"
	} else if be {
		return decodeUTF16(b, xunicode.BigEndian), "utf-16be"
	}
	if utf8.Valid(b) {
		return string(b), "utf-8"
	}
	best, bestName, bestScore := "", "", 0
	for i, c := range oemCandidates {
		s, err := c.enc.NewDecoder().Bytes(b)
		if err != nil {
			continue
		}
		sc := scoreText(string(s))
		if i == 0 || sc > bestScore {
			best, bestName, bestScore = string(s), c.name, sc
		}
	}
	if bestName == "" {
		return strings.ToValidUTF8(string(b), "\uFFFD"), "utf-8"
	}
	return best, bestName
}

func decodeUTF16(b []byte, order xunicode.Endianness) string {
	if len(b)%2 == 1 {
		b = b[:len(b)-1]
	}
	s, err := xunicode.UTF16(order, xunicode.IgnoreBOM).NewDecoder().Bytes(b)
	if err != nil {
		return ""
	}
	return string(s)
}

// nulParity detects BOM-less UTF-16: robocopy text is mostly ASCII, so
// UTF-16LE has NUL at most odd offsets and none at even ones (BE the reverse).
func nulParity(b []byte) (le, be bool) {
	n := len(b)
	if n > 1<<16 {
		n = 1 << 16
	}
	if n < 4 {
		return false, false
	}
	var odd, even int
	for i := 0; i < n; i++ {
		if b[i] == 0 {
			if i%2 == 1 {
				odd++
			} else {
				even++
			}
		}
	}
	half := n / 2
	le = odd*10 >= half*3 && even*10 < half
	be = even*10 >= half*3 && odd*10 < half
	return le, be
}

// vocabulary holds non-ASCII words robocopy prints in localized builds
// (labels, tags, headers from FORMAT.md §6 and the samples). Finding them is
// the strongest evidence for a code page.
var vocabulary = []string{
	// fr
	"Début", "Répertoire", "Rép", "Copié", "Ignoré", "ÉCHEC", "Nouveau fichier", "Nouveau rép",
	// de
	"für", "Übersprungen", "Übereinstimmung", "Verzeich",
	// pt-BR
	"Diretórios", "Opções", "N.º de Vezes",
	// ru
	"Начало", "Источник", "Назначение", "Файлы", "Параметры", "Исключенные", "Всего", "Скопировано",
	"Пропущено", "Каталогов", "Файлов", "Байт", "Время", "Скорость", "Окончание", "Новее", "Новый файл",
	"ОШИБКА", "Ожидание", "Повтор", "ДОПОЛНИТЕЛЬН",
	// ja
	"開始", "コピー元", "コピー先", "ファイル", "オプション", "合計", "コピー済み", "スキップ", "不一致",
	"失敗", "ディレクトリ", "バイト", "時刻", "終了", "エラー", "堅牢", "新しい",
	// zh-CN
	"开始时间", "目标", "文件", "选项", "总数", "复制", "跳过", "不匹配", "失败", "其他", "目录", "字节",
	"时间", "已结束", "可靠文件复制", "错误",
}

// scoreText rates how plausible a decoding is: known localized words count
// most; then words whose non-ASCII letters form a plausible script mix;
// replacement characters, C1 controls, box drawing and half-width katakana
// count against it.
func scoreText(s string) int {
	score := 0
	for _, w := range vocabulary {
		if c := strings.Count(s, w); c > 0 {
			if c > 20 {
				c = 20
			}
			score += 30 * c * utf8.RuneCountInString(w)
		}
	}
	word := make([]rune, 0, 32)
	flush := func() {
		if len(word) > 0 {
			score += wordPlausibility(word)
			word = word[:0]
		}
	}
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			score -= 50
			flush()
		case r >= 0x80 && r < 0xA0, r >= 0x2500 && r <= 0x259F, r >= 0xFF61 && r <= 0xFF9F:
			score -= 5
			flush()
		case unicode.IsLetter(r) || unicode.IsMark(r):
			word = append(word, r)
		default:
			flush()
		}
	}
	flush()
	return score
}

// wordPlausibility returns +1 for a plausible word with non-ASCII letters,
// -2 for an implausible one, 0 for pure ASCII.
func wordPlausibility(w []rune) int {
	var ascii, latin, cyr, greek, cjk, other int
	for _, r := range w {
		switch {
		case r < 0x80:
			ascii++
		case unicode.Is(unicode.Latin, r):
			latin++
		case unicode.Is(unicode.Cyrillic, r):
			cyr++
		case unicode.Is(unicode.Greek, r):
			greek++
		case unicode.Is(unicode.Han, r) || unicode.Is(unicode.Hiragana, r) || unicode.Is(unicode.Katakana, r) || r == 'ー':
			cjk++
		default:
			other++
		}
	}
	nonASCII := latin + cyr + greek + cjk + other
	if nonASCII == 0 {
		return 0
	}
	scripts := 0
	for _, n := range []int{latin, cyr, greek, cjk, other} {
		if n > 0 {
			scripts++
		}
	}
	switch {
	case scripts > 1:
		return -2
	case latin > 0 && latin*2 > ascii+latin && len(w) > 1:
		// mostly accented letters: typical of a wrong single-byte code page
		return -2
	case (cyr > 0 || greek > 0) && ascii > 0:
		return -2
	case other > 0:
		return -1
	}
	return 1
}
