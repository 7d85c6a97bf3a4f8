// Package schedule holds the rules of scheduling: what a valid meeting and
// invitee are, local times across daylight-saving changes, whether a personal
// link still works, and the iCalendar files sent to people. No HTTP here.
package schedule

import (
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"classmeet/internal/store"
	"classmeet/internal/textrule"
)

// Limits on what people type.
const (
	MaxTitleLen       = 200
	MaxDescriptionLen = 5000
	MaxEmailLen       = 254
	MinDuration       = 5
	MaxDuration       = 720
)

// FieldErrors maps a form field to what is wrong with it.
type FieldErrors map[string]string

func (fe FieldErrors) Error() string {
	parts := make([]string, 0, len(fe))
	for f, msg := range fe {
		parts = append(parts, f+": "+msg)
	}
	return "schedule: " + strings.Join(parts, "; ")
}

// PlanInput is a meeting as typed into the form: strings, not yet trusted.
type PlanInput struct {
	Title, Description string
	Date               string // YYYY-MM-DD
	Time               string // HH:MM, 24-hour
	Duration           string // minutes
	TimeZone           string // IANA
	LobbyPolicy        string
	RecordingPolicy    string
	RecordingAccess    string // "host" or "invitees": who may download recordings
	UnmutePolicy       string // "self" or "ask"
	ScreenShare        string // "hosts" or "everyone"
}

// ParsePlan validates a meeting. The date and time are wall-clock time in
// the meeting's zone; a meeting must not have ended already.
func ParsePlan(in PlanInput, now time.Time) (store.MeetingPlan, error) {
	fe := FieldErrors{}
	p := store.MeetingPlan{
		Title:           strings.TrimSpace(in.Title),
		Description:     strings.TrimSpace(in.Description),
		TimeZone:        strings.TrimSpace(in.TimeZone),
		LobbyPolicy:     store.LobbyPolicy(in.LobbyPolicy),
		RecordingPolicy: store.RecordingPolicy(in.RecordingPolicy),
		RecordingAccess: store.RecordingAccess(in.RecordingAccess),
		UnmutePolicy:    store.UnmutePolicy(in.UnmutePolicy),
		ScreenShare:     store.ScreenSharePolicy(in.ScreenShare),
	}
	checkLine(fe, "title", p.Title, MaxTitleLen, true)
	checkText(fe, "description", p.Description, MaxDescriptionLen, false)

	loc, err := LoadZone(p.TimeZone)
	if err != nil {
		fe["time_zone"] = err.Error()
	}
	d, err := strconv.Atoi(strings.TrimSpace(in.Duration))
	switch {
	case err != nil:
		fe["duration"] = "must be a number of minutes"
	case d < MinDuration || d > MaxDuration:
		fe["duration"] = fmt.Sprintf("must be from %d to %d minutes", MinDuration, MaxDuration)
	}
	p.DurationMinutes = d
	if loc != nil {
		p.StartsAt, err = LocalTime(strings.TrimSpace(in.Date), strings.TrimSpace(in.Time), loc)
		switch {
		case err != nil:
			fe["start"] = err.Error()
		case fe["duration"] == "" && !p.StartsAt.Add(time.Duration(d)*time.Minute).After(now):
			fe["start"] = "is in the past: the meeting would already have ended"
		}
	}
	if p.LobbyPolicy != store.LobbyEveryoneWaits && p.LobbyPolicy != store.LobbyInviteesAdmitted {
		fe["lobby_policy"] = "choose who waits in the lobby"
	}
	if p.RecordingPolicy != store.RecordingNotAllowed && p.RecordingPolicy != store.RecordingHostMayRecord {
		fe["recording_policy"] = "choose whether the meeting may be recorded"
	}
	if p.RecordingAccess == "" {
		p.RecordingAccess = store.RecordingAccessHost
	}
	if p.RecordingAccess != store.RecordingAccessHost && p.RecordingAccess != store.RecordingAccessInvitees {
		fe["recording_access"] = "choose who may download the recordings"
	}
	if p.UnmutePolicy != store.UnmuteSelf && p.UnmutePolicy != store.UnmuteAsk {
		fe["unmute_policy"] = "choose whether people you mute may unmute themselves"
	}
	if p.ScreenShare != store.ScreenShareHosts && p.ScreenShare != store.ScreenShareEveryone {
		fe["screen_share_policy"] = "choose who may share their screen"
	}
	if len(fe) > 0 {
		return store.MeetingPlan{}, fe
	}
	return p, nil
}

// LoadZone loads an IANA time zone, refusing "Local" and the empty name,
// which mean different things on different machines.
func LoadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, fmt.Errorf("choose a time zone such as Europe/London")
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, fmt.Errorf("%q is not a known time zone", name)
	}
	return loc, nil
}

// LocalTime turns a wall-clock date and time in loc into an instant. A time
// skipped when clocks go forward is refused; a time that happens twice when
// clocks go back means its first occurrence.
func LocalTime(date, clock string, loc *time.Location) (time.Time, error) {
	d, err := time.Parse("2006-01-02", date)
	if err != nil {
		return time.Time{}, fmt.Errorf("needs a date such as 2026-03-14")
	}
	c, err := time.Parse("15:04", clock)
	if err != nil {
		return time.Time{}, fmt.Errorf("needs a time such as 16:30")
	}
	t := time.Date(d.Year(), d.Month(), d.Day(), c.Hour(), c.Minute(), 0, 0, loc)
	if t.Hour() != c.Hour() || t.Minute() != c.Minute() {
		return time.Time{}, fmt.Errorf("%s %s does not exist in %s: the clocks go forward then", date, clock, loc)
	}
	// time.Date may pick either side of a repeated hour; take the earlier.
	if earlier := t.Add(-time.Hour); earlier.Hour() == t.Hour() && earlier.Minute() == t.Minute() && earlier.Day() == t.Day() {
		t = earlier
	}
	return t, nil
}

// InviteeInput is an invitee as typed into the form.
type InviteeInput struct {
	Name, Email, ChildName string
	Role                   string // "participant" or "observer"
}

// ParseInvitee validates an invitee; only the name is required.
func ParseInvitee(in InviteeInput) (store.NewInvitee, error) {
	fe := FieldErrors{}
	ni := store.NewInvitee{
		Name:      strings.TrimSpace(in.Name),
		Email:     strings.TrimSpace(in.Email),
		ChildName: strings.TrimSpace(in.ChildName),
		Role:      store.InviteeRole(in.Role),
	}
	if ni.Role == "" {
		ni.Role = store.InviteeParticipant
	}
	if ni.Role != store.InviteeParticipant && ni.Role != store.InviteeObserver {
		fe["role"] = "must be participant or observer"
	}
	checkName(fe, "name", &ni.Name, true)
	checkName(fe, "child_name", &ni.ChildName, false)
	if ni.Email != "" {
		if err := CheckEmail(ni.Email); err != nil {
			fe["email"] = err.Error()
		}
	}
	if len(fe) > 0 {
		return store.NewInvitee{}, fe
	}
	return ni, nil
}

// CheckEmail accepts a bare address such as ann@school.example.
func CheckEmail(email string) error {
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email || len(email) > MaxEmailLen {
		return fmt.Errorf("is not an email address such as name@school.example")
	}
	return nil
}

// checkLine refuses empty required text, text over max characters, and
// control characters.
func checkLine(fe FieldErrors, field, v string, max int, required bool) {
	checkText(fe, field, v, max, required)
	switch {
	case fe[field] != "":
	case strings.ContainsAny(v, "\n\r\t"):
		fe[field] = "must be one line"
	case textrule.HasBidiControl(v):
		fe[field] = "must not contain text-direction control characters"
	}
}

// checkName checks a person's name with the one rule for names; an optional
// one may be left empty.
func checkName(fe FieldErrors, field string, v *string, required bool) {
	if *v == "" && !required {
		return
	}
	name, err := textrule.Name(*v)
	if err != nil {
		fe[field] = err.Error()
	}
	*v = name
}

// checkText is checkLine for text that may span lines.
func checkText(fe FieldErrors, field, v string, max int, required bool) {
	switch {
	case required && v == "":
		fe[field] = "is required"
	case !utf8.ValidString(v):
		fe[field] = "is not valid text"
	case utf8.RuneCountInString(v) > max:
		fe[field] = fmt.Sprintf("must be at most %d characters", max)
	case strings.ContainsFunc(v, func(r rune) bool { return (r < 0x20 && r != '\n' && r != '\r' && r != '\t') || r == 0x7f }):
		fe[field] = "must not contain control characters"
	}
}
