package meeting

import (
	"strings"
	"unicode"
)

// LooksLike reports whether two display names would look the same to the
// people in a meeting: it ignores case, spaces, punctuation, accents,
// invisible characters and letters of other scripts (or digits) that look
// like Latin ones. It is the rule that keeps a participant from taking the
// name of a host ("Ms Smith", "ms. smith", "Мs Smіth" in Cyrillic).
func LooksLike(a, b string) bool {
	ka, kb := nameSkeleton(a), nameSkeleton(b)
	return ka != "" && ka == kb
}

// nameSkeleton reduces a name to what the eye tells apart.
func nameSkeleton(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsSpace(r), unicode.IsPunct(r), unicode.IsSymbol(r),
			unicode.Is(unicode.Cf, r), unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r):
			continue
		case r >= 0xFF01 && r <= 0xFF5E: // fullwidth forms of ASCII
			r -= 0xFEE0
		}
		r = unicode.ToLower(r)
		if base, ok := lookalikes[r]; ok {
			r = base
		}
		b.WriteRune(r)
	}
	return b.String()
}

// lookalikes maps letters (and digits) to the Latin letter they are
// mistaken for. Letters easily confused with each other (i, l, 1) share one.
var lookalikes = func() map[rune]rune {
	m := map[rune]rune{}
	for base, runes := range map[rune]string{
		'a': "àáâãäåāăąǎаα@4",
		'b': "ъьвβ",
		'c': "çćĉċčсϲ",
		'd': "ďđԁ",
		'e': "èéêëēĕėęěеёєε3",
		'g': "ĝğġģɡ",
		'h': "ĥħһн",
		'l': "ìíîïĩīĭįıiіїιlĺļľŀł1|ǐ",
		'j': "ĵјϳ",
		'k': "ķкκ",
		'm': "мμ",
		'n': "ñńņňŉпηη",
		'o': "òóôõöøōŏőоοσ0ǒ",
		'p': "рρ",
		'r': "ŕŗřг",
		's': "śŝşšѕ5$",
		't': "ţťŧтτ7",
		'u': "ùúûüũūŭůűųυ",
		'v': "ν",
		'w': "ŵѡω",
		'x': "хχ",
		'y': "ýÿŷуγ",
		'z': "źżžᴢ2",
	} {
		for _, r := range runes {
			m[r] = base
		}
	}
	return m
}()
