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
		case unicode.IsSpace(r), unicode.IsPunct(r), unicode.IsSymbol(r), invisible[r],
			unicode.Is(unicode.Cf, r), unicode.Is(unicode.Mn, r), unicode.Is(unicode.Me, r):
			continue
		case r >= 0xFF01 && r <= 0xFF5E: // fullwidth forms of ASCII
			r -= 0xFEE0
		case r >= 0x1D400 && r <= 0x1D6A3: // bold, italic, script... Latin letters
			r = rune("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"[(r-0x1D400)%52])
		case r >= 0x1D7CE && r <= 0x1D7FF: // mathematical digits
			r = '0' + (r-0x1D7CE)%10
		}
		r = unicode.ToLower(r)
		if base, ok := lookalikes[r]; ok {
			r = base
		}
		b.WriteRune(r)
	}
	return b.String()
}

// invisible are letters that show as nothing: Hangul fillers, the blank
// Braille pattern, Khmer inherent vowels.
var invisible = map[rune]bool{0x115F: true, 0x1160: true, 0x3164: true, 0xFFA0: true, 0x2800: true, 0x17B4: true, 0x17B5: true, 0x180E: true}

// lookalikes maps letters (and digits) to the Latin letter they are
// mistaken for. Letters easily confused with each other (i, l, 1) share one.
var lookalikes = func() map[rune]rune {
	m := map[rune]rune{}
	for base, runes := range map[rune]string{
		'a': "ᴀàáâãäåāăąǎаα@4",
		'b': "ʙℬъьвβ",
		'c': "ᴄℂçćĉċčсϲ",
		'd': "ᴅďđԁ",
		'e': "ᴇℰℯèéêëēĕėęěеёєε3",
		'g': "ɢℊĝğġģɡ",
		'h': "ʜℋℌℍℎĥħһн",
		'l': "ɪʟℐℑℓìíîïĩīĭįıiіїιlĺļľŀł1|ǐ",
		'j': "ᴊĵјϳ",
		'k': "ᴋķкκ",
		'm': "ᴍℳмμ",
		'n': "ɴℕñńņňŉпηη",
		'o': "ᴏℴòóôõöøōŏőоοσ0ǒ",
		'p': "ᴘℙрρ",
		'r': "ʀℛℜℝŕŗřг",
		's': "ꜱśŝşšѕ5$",
		't': "ᴛţťŧтτ7",
		'u': "ᴜùúûüũūŭůűųυ",
		'v': "ᴠν",
		'w': "ᴡŵѡω",
		'f': "ꜰℱ",
		'q': "ǫℚ",
		'x': "хχ",
		'y': "ʏýÿŷуγ",
		'z': "ℤźżžᴢ2",
	} {
		for _, r := range runes {
			m[r] = base
		}
	}
	return m
}()
