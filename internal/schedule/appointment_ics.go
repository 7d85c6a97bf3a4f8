package schedule

import (
	"fmt"
	"slices"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"
)

// AppointmentEvent is what a household's calendar file says about one
// appointment.
type AppointmentEvent struct {
	UID       string         // stable across moves: the booking id + "@" + the public host
	Sequence  int            // grows with each move or cancellation
	Span                     // when
	Zone      *time.Location // the evening's zone: DTSTART/DTEND carry its TZID, with a VTIMEZONE
	Summary   string         // e.g. "Parents' evening: Ms Novak (Tom, 7B)"
	JoinURL   string         // the personal join link of this appointment
	ManageURL string         // where to cancel or move it
	Cancelled bool
	// Organizer is the address invitations come from (the school's mail
	// sender). iTIP (RFC 5546) wants one in REQUEST and CANCEL, and mail
	// programs show those as invitations only with it; optional otherwise.
	Organizer string
	Attendees []string // the household's addresses, written for REQUEST and CANCEL only
}

// CalendarMethod is the iTIP method of a calendar file.
type CalendarMethod string

const (
	MethodPublish CalendarMethod = "PUBLISH" // a download
	MethodRequest CalendarMethod = "REQUEST" // a mail invitation
	MethodCancel  CalendarMethod = "CANCEL"  // a mail cancelling
)

func (m CalendarMethod) valid() bool {
	return m == MethodPublish || m == MethodRequest || m == MethodCancel
}

// hasAttendees says whether a file of method m lists ATTENDEEs: iTIP (RFC
// 5546, 3.2.1) has none in PUBLISH, which invites nobody; a download that
// named the household would read as an invitation to some calendars.
func (m CalendarMethod) hasAttendees() bool {
	return m != MethodPublish
}

// Appointments renders one VCALENDAR with one VEVENT per appointment and one
// VTIMEZONE per zone used. With CANCEL, every event is STATUS:CANCELLED.
func Appointments(evs []AppointmentEvent, m CalendarMethod, now time.Time) ([]byte, error) {
	if err := checkAppointments(evs, m); err != nil {
		return nil, err
	}
	cal := ics.NewCalendarFor("classmeet")
	cal.SetCalscale("GREGORIAN")
	cal.SetMethod(ics.Method(m))
	for _, tz := range zonesOf(evs) {
		cal.AddVTimezone(tz)
	}
	for _, e := range evs {
		if !m.hasAttendees() {
			e.Attendees = nil
		}
		addAppointment(cal, e, m == MethodCancel, now)
	}
	b, err := serialize(cal)
	if err != nil {
		return nil, fmt.Errorf("schedule: appointments calendar: %w", err)
	}
	return b, nil
}

func checkAppointments(evs []AppointmentEvent, m CalendarMethod) error {
	if len(evs) == 0 {
		return fmt.Errorf("schedule: appointments calendar: %w", ErrNoAppointments)
	}
	if !m.valid() {
		return fmt.Errorf("schedule: appointments calendar %q: %w", m, ErrCalendarMethod)
	}
	uids := map[string]bool{}
	for i, e := range evs {
		var why string
		switch {
		case strings.TrimSpace(e.UID) == "":
			why = "no UID"
		case uids[e.UID]:
			why = "the same UID twice" // one VEVENT per appointment, or calendars merge them
		case e.Zone == nil || e.Zone == time.Local || e.Zone.String() == "" || e.Zone.String() == "Local":
			why = "no named time zone (the machine's own means different things on different servers)"
		case !e.Start.Before(e.End):
			why = "it ends before it starts"
		case e.Sequence < 0:
			why = "negative SEQUENCE"
		}
		if why != "" {
			return fmt.Errorf("schedule: appointments calendar, event %d: %w: %s", i, ErrBadAppointment, why)
		}
		uids[e.UID] = true
	}
	return nil
}

// zonesOf describes each zone the events use, in order of first use, over
// the time the events span in it.
func zonesOf(evs []AppointmentEvent) []*ics.VTimezone {
	type window struct {
		loc      *time.Location
		from, to time.Time
	}
	var order []string
	windows := map[string]*window{}
	for _, e := range evs {
		name := e.Zone.String()
		w, ok := windows[name]
		if !ok {
			w = &window{e.Zone, e.Start, e.End}
			windows[name] = w
			order = append(order, name)
		}
		w.from, w.to = minTime(w.from, e.Start), maxTime(w.to, e.End)
	}
	tzs := make([]*ics.VTimezone, 0, len(order))
	for _, name := range order {
		w := windows[name]
		tzs = append(tzs, vtimezone(w.loc, w.from, w.to))
	}
	return tzs
}

func addAppointment(cal *ics.Calendar, e AppointmentEvent, cancelling bool, now time.Time) {
	ev := cal.AddEvent(e.UID)
	ev.SetDtStampTime(now.UTC())
	ev.SetSequence(e.Sequence)
	status := ics.ObjectStatusConfirmed
	if cancelling || e.Cancelled {
		status = ics.ObjectStatusCancelled
	}
	ev.SetStatus(status)
	setTime(ev, ics.ComponentPropertyDtStart, e.Start, e.Zone)
	setTime(ev, ics.ComponentPropertyDtEnd, e.End, e.Zone)
	ev.SetSummary(e.Summary)
	ev.SetDescription(appointmentDescription(e))
	ev.SetLocation(e.JoinURL)
	ev.SetURL(e.JoinURL)
	if e.Organizer != "" {
		ev.SetOrganizer("mailto:" + e.Organizer)
	}
	for _, a := range slices.Compact(slices.Sorted(slices.Values(e.Attendees))) {
		if a != "" {
			ev.AddAttendee("mailto:"+a, ics.ParticipationRoleReqParticipant, ics.WithRSVP(false))
		}
	}
}

func appointmentDescription(e AppointmentEvent) string {
	var lines []string
	if e.JoinURL != "" {
		lines = append(lines, "Join: "+e.JoinURL)
	}
	if e.ManageURL != "" {
		lines = append(lines, "Cancel or move: "+e.ManageURL)
	}
	return strings.Join(lines, "\n")
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}
