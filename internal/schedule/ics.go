package schedule

import (
	"bytes"
	"fmt"
	"time"

	ics "github.com/arran4/golang-ical"

	"classmeet/internal/store"
)

// Event is what an iCalendar invitation says about one meeting.
type Event struct {
	Meeting   store.Meeting
	Host      store.User
	JoinURL   string          // where this file's reader joins
	Attendees []store.Invitee // those with an email become ATTENDEEs
	Domain    string          // makes the UID globally unique: the public host
}

const icsLocal = "20060102T150405"

// ICS renders the event as an iCalendar object: METHOD:REQUEST while the
// meeting stands, METHOD:CANCEL once it is cancelled. The UID is stable
// across edits, and SEQUENCE grows with each, so calendars update the one
// entry instead of adding another.
func ICS(e Event, now time.Time) ([]byte, error) {
	m := e.Meeting
	loc, err := LoadZone(m.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("schedule: ics for %s: %w", m.ID, err)
	}
	cal := ics.NewCalendarFor("classmeet")
	cal.SetCalscale("GREGORIAN")
	method, status := ics.MethodRequest, ics.ObjectStatusConfirmed
	if m.Cancelled() {
		method, status = ics.MethodCancel, ics.ObjectStatusCancelled
	}
	cal.SetMethod(method)
	cal.AddVTimezone(vtimezone(loc, m.StartsAt))

	ev := cal.AddEvent(m.ID.String() + "@" + e.Domain)
	ev.SetDtStampTime(now.UTC())
	ev.SetSequence(m.Sequence)
	ev.SetStatus(status)
	ev.SetProperty(ics.ComponentPropertyDtStart, m.StartsAt.In(loc).Format(icsLocal), ics.WithTZID(m.TimeZone))
	ev.SetProperty(ics.ComponentPropertyDtEnd, m.EndsAt().In(loc).Format(icsLocal), ics.WithTZID(m.TimeZone))
	ev.SetSummary(m.Title)
	desc := "Join: " + e.JoinURL
	if m.Description != "" {
		desc = m.Description + "\n\n" + desc
	}
	ev.SetDescription(desc)
	ev.SetLocation(e.JoinURL)
	ev.SetURL(e.JoinURL)
	ev.SetOrganizer("mailto:"+e.Host.Email, ics.WithCN(e.Host.Name))
	for _, a := range e.Attendees {
		if a.Email != "" {
			ev.AddAttendee("mailto:"+a.Email, ics.WithCN(a.Name), ics.CalendarUserTypeIndividual,
				ics.ParticipationRoleReqParticipant, ics.WithRSVP(false))
		}
	}
	var buf bytes.Buffer
	if err := cal.SerializeTo(&buf); err != nil {
		return nil, fmt.Errorf("schedule: ics for %s: %w", m.ID, err)
	}
	return buf.Bytes(), nil
}

// vtimezone describes loc for the year around `around`: one observance from
// the start of that window and one for every transition inside it, taken
// from the Go time zone database, so any calendar can place the meeting
// correctly even if it does not know the IANA name.
func vtimezone(loc *time.Location, around time.Time) *ics.VTimezone {
	tz := ics.NewTimezone(loc.String())
	start := time.Date(around.In(loc).Year()-1, 1, 1, 0, 0, 0, 0, loc)
	stop := start.AddDate(3, 0, 0)

	name, offset := start.Zone()
	addObservance(tz, start, start.IsDST(), name, offset, offset)
	for t := start; ; {
		_, end := t.ZoneBounds()
		if end.IsZero() || !end.Before(stop) {
			break
		}
		_, before := t.Zone()
		name, after := end.Zone()
		addObservance(tz, end, end.IsDST(), name, before, after)
		t = end
	}
	return tz
}

func addObservance(tz *ics.VTimezone, at time.Time, dst bool, name string, from, to int) {
	var c *ics.ComponentBase
	if dst {
		d := &ics.Daylight{ComponentBase: ics.NewComponent("")}
		tz.Components = append(tz.Components, d)
		c = &d.ComponentBase
	} else {
		c = &tz.AddStandard().ComponentBase
	}
	// DTSTART of an observance is local time as it was before the change.
	c.SetProperty(ics.ComponentPropertyDtStart, at.In(time.FixedZone("", from)).Format(icsLocal))
	c.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetfrom), utcOffset(from))
	c.SetProperty(ics.ComponentProperty(ics.PropertyTzoffsetto), utcOffset(to))
	c.SetProperty(ics.ComponentProperty(ics.PropertyTzname), name)
}

func utcOffset(seconds int) string {
	sign := '+'
	if seconds < 0 {
		sign, seconds = '-', -seconds
	}
	return fmt.Sprintf("%c%02d%02d", sign, seconds/3600, seconds%3600/60)
}
