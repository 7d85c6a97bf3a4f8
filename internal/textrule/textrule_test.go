package textrule

import (
	"errors"
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		err      error
	}{
		{"  Mrs   Patel ", "Mrs Patel", nil},
		{"", "", ErrNameMissing},
		{"   ", "", ErrNameMissing},
		{"Mr\nJones", "", ErrNameNotPlain},
		{"Mr\tJones", "", ErrNameNotPlain},
		{"Ms \u202eSmith", "", ErrNameNotPlain},
		{"\xff", "", ErrNameNotPlain},
		{strings.Repeat("x", MaxName), strings.Repeat("x", MaxName), nil},
		{strings.Repeat("é", MaxName+1), "", ErrNameTooLong},
	} {
		got, err := Name(tc.in)
		if got != tc.want || !errors.Is(err, tc.err) {
			t.Errorf("Name(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestFileName(t *testing.T) {
	for in, want := range map[string]string{
		"Year 7: parents' evening": "Year 7 parents' evening",
		`..\..\etc/passwd`:         "etc passwd",
		"Mme Dupré-Léger":          "Mme Dupré-Léger",
		"\u202eevil\u202c":         "evil",
		"???":                      "fallback",
		"":                         "fallback",
	} {
		if got := FileName(in, "fallback"); got != want {
			t.Errorf("FileName(%q) = %q, want %q", in, got, want)
		}
	}
}
