// Package rostertest makes school roster files for tests.
package rostertest

import (
	"fmt"
	"strings"

	"classmeet/internal/roster"
)

// CSV is a roster file of n students, brothers and sisters two by two in
// one household with two guardians; every tenth student also lives in a
// second household of their own (a split household). Each student has
// three of teachers (emails), the first with a subject.
func CSV(n int, teachers []string) string {
	var b strings.Builder
	b.WriteString(roster.Columns + "\n")
	for i := range n {
		home := fmt.Sprintf("HH%05d", i/2)
		ts := teacherField(i, teachers)
		for g := range 2 {
			writeRow(&b, i, home, g, ts)
		}
		if i%10 == 0 {
			writeRow(&b, i, fmt.Sprintf("HS%05d", i), 2, ts)
		}
	}
	return b.String()
}

func writeRow(b *strings.Builder, i int, home string, g int, teachers string) {
	fmt.Fprintf(b, "S%05d,Student %05d,%d%c,Guardian %d of %s,g%d.%s@home.example,+44 7700 %s%d,%s,\"%s\"\n",
		i, i, 7+i%5, 'A'+rune(i%3), g, home, g, strings.ToLower(home), home[2:], g, home, teachers)
}

func teacherField(i int, teachers []string) string {
	var picks []string
	for k := range min(3, len(teachers)) {
		t := teachers[(i+k)%len(teachers)]
		if k == 0 {
			t += ":Subject " + fmt.Sprint(i%4)
		}
		picks = append(picks, t)
	}
	return strings.Join(picks, ";")
}
