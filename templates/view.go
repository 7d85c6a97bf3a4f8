// Package templates renders classmeet's pages with templ. Components take
// plain view structs; formatting helpers live beside them.
package templates

import (
	"fmt"
	"time"

	"classmeet/internal/store"
)

// Page is what every page's layout needs.
type Page struct {
	Title string
	User  *store.User // the signed-in staff member, if any
	Wide  bool        // use the full width (the meeting room)
}

// Form carries what was typed and what is wrong with it back to the page.
type Form struct {
	Values map[string]string
	Errors map[string]string
	Error  string // a message about the whole form
}

// Value is what was typed into field name.
func (f Form) Value(name string) string { return f.Values[name] }

// Err is what is wrong with field name, or "".
func (f Form) Err(name string) string { return f.Errors[name] }

// IsAdmin reports whether the page's user is an administrator.
func (p Page) IsAdmin() bool { return p.User != nil && p.User.Role == store.RoleAdmin }

// When formats an instant in loc, e.g. "Fri 20 Mar 2026, 16:30 GMT".
func When(t time.Time, loc *time.Location) string {
	return t.In(loc).Format("Mon 2 Jan 2006, 15:04 MST")
}

// Span formats a meeting's time in loc, e.g. "Fri 20 Mar 2026, 16:30–16:45 GMT".
func Span(m store.Meeting, loc *time.Location) string {
	start, end := m.StartsAt.In(loc), m.EndsAt().In(loc)
	if start.YearDay() == end.YearDay() && start.Year() == end.Year() {
		return fmt.Sprintf("%s, %s–%s %s", start.Format("Mon 2 Jan 2006"), start.Format("15:04"), end.Format("15:04"), end.Format("MST"))
	}
	return When(start, loc) + " – " + When(end, loc)
}

// ISO is an instant in RFC 3339, for <time datetime>.
func ISO(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func zone(name string) *time.Location {
	if loc, err := time.LoadLocation(name); err == nil {
		return loc
	}
	return time.UTC
}

func fieldID(name string) string { return "f-" + name }
func errorID(name string) string { return "f-" + name + "-error" }
func invalid(f Form, name string) string {
	if f.Err(name) != "" {
		return "true"
	}
	return "false"
}

func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

func lobbyText(p store.LobbyPolicy) string {
	if p == store.LobbyInviteesAdmitted {
		return "Invitees come straight in; anyone else waits in the lobby."
	}
	return "Everyone waits in the lobby until you admit them."
}

func recordingText(p store.RecordingPolicy) string {
	if p == store.RecordingHostMayRecord {
		return "You may record it."
	}
	return "It may not be recorded."
}
