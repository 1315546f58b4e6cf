package robocopy

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"
)

// unitMultiplier maps robocopy's size suffixes to bytes (binary units).
func unitMultiplier(u string) (int64, bool) {
	switch u {
	case "k", "K":
		return 1 << 10, true
	case "m", "M":
		return 1 << 20, true
	case "g", "G":
		return 1 << 30, true
	case "t", "T":
		return 1 << 40, true
	}
	return 0, false
}

// parseSize converts a size column: "922073", "1.2 m", "13.749 g". With a
// unit the value is round(number * unit), computed exactly; '.' is the
// decimal separator (robocopy uses it in every locale for sizes). Plain
// numbers may carry thousands separators. Values beyond int64 saturate.
func parseSize(num, unit string) (int64, bool) {
	if unit == "" {
		return parseGroupedInt(num)
	}
	mult, ok := unitMultiplier(unit)
	if !ok {
		return 0, false
	}
	intPart, frac, _ := strings.Cut(num, ".")
	if intPart == "" && frac == "" || !allDigits(intPart) || !allDigits(frac) || strings.Count(num, ".") > 1 {
		return 0, false
	}
	if intPart == "" {
		intPart = "0"
	}
	n, ok := new(big.Int).SetString(intPart+frac, 10)
	if !ok {
		return 0, false
	}
	n.Mul(n, big.NewInt(mult))
	den := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(len(frac))), nil)
	// round half up: (n + den/2) / den
	n.Add(n, new(big.Int).Rsh(den, 1))
	n.Quo(n, den)
	if !n.IsInt64() {
		return math.MaxInt64, true
	}
	return n.Int64(), true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// isGroupSep reports thousands separators seen in robocopy output: ',' '.'
// space, NBSP (U+00A0), narrow NBSP (U+202F) and '\”.
func isGroupSep(r rune) bool {
	switch r {
	case ',', '.', ' ', '\u00a0', '\u202f', '\'':
		return true
	}
	return false
}

// parseGroupedInt parses an integer that may contain thousands separators
// ("5,932,258", "94.566.769", "1 671 206"), optionally negative.
func parseGroupedInt(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case isGroupSep(r):
		default:
			return 0, false
		}
	}
	if b.Len() == 0 {
		return 0, false
	}
	v, err := strconv.ParseInt(b.String(), 10, 64)
	if err != nil {
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			v = math.MaxInt64
		} else {
			return 0, false
		}
	}
	if neg {
		v = -v
	}
	return v, true
}

// parseLocaleDecimal parses the MegaBytes/min figure, printed with three
// decimals in the locale's format: "339.447", "3,350.047", "5411,154"
// (tr), "95,627" (ru), "109,600.625". The last '.' or ',' followed by
// exactly three digits at the end is the decimal separator; every other
// separator groups thousands.
func parseLocaleDecimal(s string) (float64, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, false
	}
	last := strings.LastIndexAny(s, ".,")
	intPart, frac := s, ""
	if last >= 0 && len(s)-last-1 == 3 && allDigits(s[last+1:]) {
		intPart, frac = s[:last], s[last+1:]
	}
	iv, ok := parseGroupedInt(intPart)
	if !ok {
		if intPart != "" {
			return 0, false
		}
		iv = 0
	}
	f, err := strconv.ParseFloat(strconv.FormatInt(iv, 10)+"."+frac+"0", 64)
	if err != nil {
		return 0, false
	}
	return f, true
}

// ParseElapsed converts a Times field ("1:20:59", "0:00:05", or the 1.x
// form "0:16.914") into a duration.
func ParseElapsed(s string) (time.Duration, bool) {
	parts := strings.Split(strings.TrimSpace(s), ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, false
	}
	var h, m int
	if len(parts) == 3 {
		if !allDigits(parts[0]) || parts[0] == "" || len(parts[0]) > 6 {
			return 0, false
		}
		h, _ = strconv.Atoi(parts[0])
		parts = parts[1:]
	}
	if !allDigits(parts[0]) || parts[0] == "" || len(parts[0]) > 6 {
		return 0, false
	}
	m, _ = strconv.Atoi(parts[0])
	sec := parts[1]
	if sec == "" || sec[0] < '0' || sec[0] > '9' {
		return 0, false
	}
	f, err := strconv.ParseFloat(sec, 64)
	if err != nil || f >= 1e9 {
		return 0, false
	}
	return time.Duration(h)*time.Hour + time.Duration(m)*time.Minute + time.Duration(f*float64(time.Second)), true
}
