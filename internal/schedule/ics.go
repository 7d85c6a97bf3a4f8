package schedule

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	ics "github.com/arran4/golang-ical"

	"classmeet/internal/store"
)

// Event is what an iCalendar invitation says about one meeting.
type Event struct {
	Meeting   store.Meeting
	Host      store.User
	JoinURL   string          // where this file's reader joins
	Attendees []store.Invitee // those with an email become ATTENDEEs, in REQUEST and CANCEL only
	Domain    string          // makes the UID globally unique: the public host
}

const icsLocal = "20060102T150405"

// ICS renders the event as an iCalendar object with the iTIP method of
// its use: PUBLISH for a download, REQUEST or CANCEL only in a mail that
// invites or cancels. A cancelled meeting, or a CANCEL, is
// STATUS:CANCELLED. The UID is stable across edits, and SEQUENCE grows
// with each, so calendars update the one entry instead of adding another.
func ICS(e Event, method CalendarMethod, now time.Time) ([]byte, error) {
	m := e.Meeting
	if !method.valid() {
		return nil, fmt.Errorf("schedule: ics for %s, method %q: %w", m.ID, method, ErrCalendarMethod)
	}
	loc, err := LoadZone(m.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("schedule: ics for %s: %w", m.ID, err)
	}
	cal := ics.NewCalendarFor("classmeet")
	cal.SetCalscale("GREGORIAN")
	status := ics.ObjectStatusConfirmed
	if m.Cancelled() || method == MethodCancel {
		status = ics.ObjectStatusCancelled
	}
	cal.SetMethod(ics.Method(method))
	cal.AddVTimezone(vtimezone(loc, m.StartsAt, m.EndsAt()))

	ev := cal.AddEvent(m.ID.String() + "@" + e.Domain)
	ev.SetDtStampTime(now.UTC())
	ev.SetSequence(m.Sequence)
	ev.SetStatus(status)
	setTime(ev, ics.ComponentPropertyDtStart, m.StartsAt, loc)
	setTime(ev, ics.ComponentPropertyDtEnd, m.EndsAt(), loc)
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
		if a.Email != "" && method.hasAttendees() {
			ev.AddAttendee("mailto:"+a.Email, ics.WithCN(a.Name), ics.CalendarUserTypeIndividual,
				ics.ParticipationRoleReqParticipant, ics.WithRSVP(false))
		}
	}
	b, err := serialize(cal)
	if err != nil {
		return nil, fmt.Errorf("schedule: ics for %s: %w", m.ID, err)
	}
	return b, nil
}

// setTime sets a DATE-TIME property to t as local time in loc with its
// TZID, except in the hour that happens twice when clocks go back: RFC 5545
// (3.3.5) reads such a local time as its first occurrence, so an instant in
// the second is written in UTC instead.
func setTime(ev *ics.VEvent, p ics.ComponentProperty, t time.Time, loc *time.Location) {
	if secondOccurrence(t, loc) {
		ev.SetProperty(p, t.UTC().Format(icsLocal+"Z"))
		return
	}
	ev.SetProperty(p, t.In(loc).Format(icsLocal), ics.WithTZID(loc.String()))
}

// secondOccurrence says whether t's wall-clock time in loc already happened
// once, before the clocks went back.
func secondOccurrence(t time.Time, loc *time.Location) bool {
	u := t.In(loc)
	start, _ := u.ZoneBounds()
	if start.IsZero() {
		return false
	}
	_, before := start.Add(-time.Second).Zone()
	_, after := u.Zone()
	back := time.Duration(before-after) * time.Second
	return back > 0 && u.Sub(start) < back
}

// serialize writes cal as RFC 5545 asks and golang-ical does not by
// default: CRLF line endings (its default is the platform's), no property
// or parameter with an empty value, which strict readers refuse, and
// parameter values quoted rather than backslash-escaped (see inlineParams).
// The library folds lines at 75 octets.
func serialize(cal *ics.Calendar) ([]byte, error) {
	for i := range cal.CalendarProperties {
		tidy(&cal.CalendarProperties[i].BaseProperty)
	}
	cal.CalendarProperties = slices.DeleteFunc(cal.CalendarProperties, func(p ics.CalendarProperty) bool { return p.Value == "" })
	for _, c := range cal.Components {
		pruneEmpty(c)
	}
	var buf bytes.Buffer
	if err := cal.SerializeTo(&buf, ics.WithNewLineWindows); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// pruneEmpty tidies the properties of c and everything inside it (see
// tidy) and removes the empty ones.
func pruneEmpty(c ics.Component) {
	cb := componentBase(c)
	if cb == nil {
		return
	}
	for i := range cb.Properties {
		tidy(&cb.Properties[i].BaseProperty)
	}
	cb.Properties = slices.DeleteFunc(cb.Properties, func(p ics.IANAProperty) bool { return p.Value == "" })
	for _, sub := range cb.Components {
		pruneEmpty(sub)
	}
}

// tidy removes p's empty parameters and writes the others as RFC 5545 asks.
func tidy(p *ics.BaseProperty) {
	for k, vs := range p.ICalParameters {
		vs = slices.DeleteFunc(vs, func(v string) bool { return paramValue(v) == "" })
		if len(vs) == 0 {
			delete(p.ICalParameters, k)
		} else {
			p.ICalParameters[k] = vs
		}
	}
	inlineParams(p)
}

// inlineParams writes the parameters of p after its name itself when
// golang-ical would write one of them wrong: it escapes , ; : ' " and \
// with backslashes (CN=Ann O\'Brien\, Head), which RFC 5545 (3.1) does
// not have, and writes control characters as they are. The value keeps
// the type the property name gave it.
func inlineParams(p *ics.BaseProperty) {
	if !slices.ContainsFunc(slices.Collect(maps.Values(p.ICalParameters)), func(vs []string) bool {
		return slices.ContainsFunc(vs, escapedWrongly)
	}) {
		return
	}
	typ := p.GetValueType()
	var b strings.Builder
	b.WriteString(p.IANAToken)
	for _, k := range slices.Sorted(maps.Keys(p.ICalParameters)) {
		b.WriteString(";" + k + "=")
		for i, v := range p.ICalParameters[k] {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(paramValue(v))
		}
	}
	p.IANAToken, p.ICalParameters = b.String(), map[string][]string{}
	if typ != ics.ValueDataTypeText && p.GetValueType() == ics.ValueDataTypeText && ics.ToText(p.Value) != p.Value {
		// golang-ical picks TEXT escaping for a name it does not know.
		p.ICalParameters[string(ics.ParameterValue)] = []string{string(typ)}
	}
}

// escapedWrongly says whether golang-ical would not write v as paramValue.
func escapedWrongly(v string) bool {
	return paramValue(v) != v || strings.ContainsRune(v, '\'')
}

// paramValue is v as an RFC 5545 param-value: a DQUOTE cannot appear in
// one, nor can control characters, and a value with , ; or : is quoted.
func paramValue(v string) string {
	v = strings.Map(func(r rune) rune {
		if r == '"' || r != '\t' && (r < 0x20 || r == 0x7f) {
			return -1
		}
		return r
	}, v)
	if strings.ContainsAny(v, `,;:\`) {
		return `"` + v + `"`
	}
	return v
}

func componentBase(c ics.Component) *ics.ComponentBase {
	switch c := c.(type) {
	case *ics.VEvent:
		return &c.ComponentBase
	case *ics.VTimezone:
		return &c.ComponentBase
	case *ics.Standard:
		return &c.ComponentBase
	case *ics.Daylight:
		return &c.ComponentBase
	case *ics.VAlarm:
		return &c.ComponentBase
	}
	return nil
}

// vtimezone describes loc from the year before `from` to the year after
// `to`: one observance from the start of that window and one for every
// transition inside it, taken from the Go time zone database, so any
// calendar can place the events correctly even if it does not know the
// IANA name.
func vtimezone(loc *time.Location, from, to time.Time) *ics.VTimezone {
	tz := ics.NewTimezone(loc.String())
	start := time.Date(from.In(loc).Year()-1, 1, 1, 0, 0, 0, 0, loc)
	stop := time.Date(to.In(loc).Year()+2, 1, 1, 0, 0, 0, 0, loc)

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
		// Not ics.NewComponent: it adds a UID, empty here and out of place.
		d := &ics.Daylight{}
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
