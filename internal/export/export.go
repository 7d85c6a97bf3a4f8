// Package export writes what a meeting leaves for its teacher to download:
// attendance as CSV, the chat as text.
package export

import (
	"encoding/csv"
	"io"
	"strconv"
	"strings"
	"time"

	"classmeet/internal/schedule"
	"classmeet/internal/store"
)

// WriteAttendanceCSV writes the lines as CSV, times in loc. Cells a
// spreadsheet would take for a formula are neutralised.
func WriteAttendanceCSV(w io.Writer, lines []schedule.AttendanceLine, loc *time.Location) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"Name", "Invited as", "Role", "Came", "Joined", "Left", "Minutes in the room", "Visits"})
	for _, l := range lines {
		came := "no"
		if l.Came {
			came = "yes"
		}
		rec := []string{l.Name, l.InvitedAs, l.Role, came, csvTime(l.Joined, loc), csvTime(l.Left, loc),
			strconv.Itoa(int(l.InRoom.Round(time.Minute) / time.Minute)), strconv.Itoa(l.Visits)}
		if l.Came && l.Left == nil {
			rec[5] = "still there"
		}
		for i := range rec {
			rec[i] = NeutraliseCell(rec[i])
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func csvTime(t *time.Time, loc *time.Location) string {
	if t == nil {
		return ""
	}
	return t.In(loc).Format("2006-01-02 15:04")
}

// NeutraliseCell stops a spreadsheet from reading text as a formula (CSV
// injection): a cell starting with = + - @, a tab or a carriage return is
// prefixed with an apostrophe.
func NeutraliseCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// roleTag names a sender's role after their name, so a parent who typed
// the teacher's name is never mistaken for the teacher.
func roleTag(role string) string {
	switch role {
	case "host":
		return " (host)"
	case "cohost":
		return " (co-host)"
	case "observer":
		return " (observer)"
	case "":
		return ""
	}
	return " (participant)"
}

// WriteChat writes a meeting's chat as plain text, one message a line block:
// "[2026-03-20 16:31] Mr Jones (participant) (to the hosts): text", with
// each sender's role. Times in loc.
func WriteChat(w io.Writer, title string, msgs []store.ChatMessage, loc *time.Location) error {
	var b strings.Builder
	b.WriteString("Chat of " + title + "\n\n")
	for _, m := range msgs {
		to := ""
		if m.Recipients == "hosts" {
			to = " (to the hosts)"
		}
		b.WriteString("[" + m.SentAt.In(loc).Format("2006-01-02 15:04") + "] " + m.SenderName + roleTag(m.SenderRole) + to + ": ")
		b.WriteString(strings.ReplaceAll(m.Body, "\n", "\n    ") + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}
