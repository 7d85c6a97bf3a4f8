package icstest

import (
	"strings"
	"testing"
)

const good = "BEGIN:VCALENDAR\r\n" +
	"VERSION:2.0\r\n" +
	"PRODID:-//classmeet//EN\r\n" +
	"METHOD:REQUEST\r\n" +
	"BEGIN:VTIMEZONE\r\n" +
	"TZID:Europe/London\r\n" +
	"BEGIN:STANDARD\r\n" +
	"DTSTART:20251026T020000\r\n" +
	"TZOFFSETFROM:+0100\r\n" +
	"TZOFFSETTO:+0000\r\n" +
	"END:STANDARD\r\n" +
	"END:VTIMEZONE\r\n" +
	"BEGIN:VEVENT\r\n" +
	"UID:a@x\r\n" +
	"DTSTAMP:20260101T000000Z\r\n" +
	"DTSTART;TZID=Europe/London:20260402T170000\r\n" +
	"SUMMARY:Parents' evening\\, Year 7\r\n" +
	"ORGANIZER;CN=\"Ann O'Brien, Head\":mailto:ann@school.example\r\n" +
	"ATTENDEE;CN=Bob;ROLE=REQ-PARTICIPANT:mailto:b\r\n" +
	"  ob@home.example\r\n" +
	"END:VEVENT\r\n" +
	"END:VCALENDAR\r\n"

func TestProblems(t *testing.T) {
	if p := Problems([]byte(good)); len(p) != 0 {
		t.Fatalf("a conforming file: %q", p)
	}
	long := "DESCRIPTION:" + strings.Repeat("x", 70) + "\r\n"
	tests := []struct {
		name, old, new, want string
	}{
		{"LF line end", "VERSION:2.0\r\n", "VERSION:2.0\n", "bare CR or LF"},
		{"no CRLF at the end", "END:VCALENDAR\r\n", "END:VCALENDAR", "does not end in CRLF"},
		{"long line", "UID:a@x\r\n", "UID:a@x\r\n" + long, "over 75"},
		{"empty value", "UID:a@x\r\n", "UID:a@x\r\nLOCATION:\r\n", "empty value"},
		{"empty parameter", "CN=Bob;", "CN=;", "empty value"},
		{"escaped parameter", `CN="Ann O'Brien, Head"`, `CN=Ann O\'Brien\, Head`, "backslash"},
		{"DQUOTE in a parameter", `CN=Bob;`, `CN=B"ob;`, "DQUOTE"},
		{"unbalanced", "END:STANDARD\r\n", "", "does not close"},
		{"no UID", "UID:a@x\r\n", "", "0 UID"},
		{"no DTSTAMP", "DTSTAMP:20260101T000000Z\r\n", "", "0 DTSTAMP"},
		{"no PRODID", "PRODID:-//classmeet//EN\r\n", "", "0 PRODID"},
		{"no VERSION", "VERSION:2.0\r\n", "", "0 VERSION"},
		{"TZID without VTIMEZONE", "TZID:Europe/London\r\n", "TZID:Europe/Paris\r\n", "TZID=Europe/London has no VTIMEZONE"},
		{"no colon", "SUMMARY:", "SUMMARY;", "parameter"},
		{"ATTENDEE under PUBLISH", "METHOD:REQUEST", "METHOD:PUBLISH", "ATTENDEE in a METHOD:PUBLISH"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(good, tt.old) {
				t.Fatalf("%q not in the sample", tt.old)
			}
			probs := Problems([]byte(strings.Replace(good, tt.old, tt.new, 1)))
			if !strings.Contains(strings.Join(probs, "\n"), tt.want) {
				t.Errorf("problems %q, want one with %q", probs, tt.want)
			}
		})
	}
}
