// Package textrule holds the rules for the text people type and the names
// classmeet makes of it: a person's name, text free of direction tricks, a
// name fit for a file.
package textrule

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxName is the longest name a person may have, in characters.
const MaxName = 100

// Name checks a person's name as typed: it must be there, be one line of
// plain text (no control or direction-changing characters) and be at most
// MaxName characters. It returns the name with its spaces tidied: none
// around it, one between words.
func Name(s string) (string, error) {
	if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) || HasBidiControl(s) {
		return "", ErrNameNotPlain
	}
	name := strings.Join(strings.Fields(s), " ")
	switch {
	case name == "":
		return "", ErrNameMissing
	case utf8.RuneCountInString(name) > MaxName:
		return "", ErrNameTooLong
	}
	return name, nil
}

// HasBidiControl reports whether s holds Unicode direction embeddings,
// overrides or isolates (U+202A–U+202E, U+2066–U+2069): a name or a title
// never needs them, and they make text display as something it is not.
func HasBidiControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool { return (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069) })
}

// FileName makes text (a meeting's title, a person's name) fit to name a
// file or folder on any system: letters, digits and a little punctuation,
// spaces tidied; fallback when nothing is left.
func FileName(s, fallback string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r) || strings.ContainsRune(" -_'.,()&", r) {
			b.WriteRune(r)
		} else {
			b.WriteRune(' ')
		}
	}
	name := strings.Trim(strings.Join(strings.Fields(b.String()), " "), ". ")
	if name == "" {
		return fallback
	}
	return name
}
