package web

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/templates"
)

// pick is the child and teacher whose free times the booking page shows.
type pick struct{ Evening, Student, Teacher uuid.UUID }

// pickOf reads the pick from the page's query; anything malformed picks nothing.
func pickOf(q url.Values) pick {
	var p pick
	p.Evening, _ = uuid.Parse(q.Get("evening"))
	p.Student, _ = uuid.Parse(q.Get("student"))
	p.Teacher, _ = uuid.Parse(q.Get("teacher"))
	return p
}

// bookingView is a household's booking page: its evenings, children and
// their teachers, the free times of the teacher picked, and its appointments.
func (h *handler) bookingView(ctx context.Context, f store.Family, p pick) (templates.BookingView, error) {
	entries, fes, err := h.householdEntries(ctx, f)
	if err != nil {
		return templates.BookingView{}, err
	}
	v := templates.BookingView{Link: h.householdPath(f.Household)}
	for _, fe := range fes {
		ev, err := h.bookingEveningView(ctx, fe, v.Link, p)
		if err != nil {
			return templates.BookingView{}, err
		}
		v.Evenings = append(v.Evenings, ev)
	}
	for _, c := range entries {
		v.Appointments = append(v.Appointments, h.appointmentView(c, fes, v.Link))
	}
	return v, nil
}

func (h *handler) bookingEveningView(ctx context.Context, fe familyEvening, link string, p pick) (templates.BookingEvening, error) {
	e, now := fe.Evening, h.now()
	v := templates.BookingEvening{Name: e.Name, When: eveningTime(e, fe.Zone), Zone: e.TimeZone, Open: e.BookingOpen(now)}
	if now.Before(e.BookingOpensAt) {
		v.Status = "Booking opens on " + templates.When(e.BookingOpensAt, fe.Zone) + "."
	} else if !v.Open {
		v.Status = "Booking closed on " + templates.When(e.BookingClosesAt, fe.Zone) + "."
	}
	for _, s := range fe.Family.Students {
		c := templates.BookingChild{Name: s.Name, Class: s.ClassName}
		for _, st := range fe.Family.Teachers {
			if _, _, err := fe.checkPair(s.ID, st.TeacherID); err != nil || st.StudentID != s.ID {
				continue
			}
			t, err := h.teacherView(ctx, fe, link, st, p)
			if err != nil {
				return v, err
			}
			c.Teachers = append(c.Teachers, t)
		}
		if len(c.Teachers) > 0 {
			v.Children = append(v.Children, c)
		}
	}
	return v, nil
}

func (h *handler) teacherView(ctx context.Context, fe familyEvening, link string, st store.StudentTeacher, p pick) (templates.BookingTeacher, error) {
	t := templates.BookingTeacher{Name: st.TeacherName, Subject: st.Subject,
		PickURL: fmt.Sprintf("%s?evening=%s&student=%s&teacher=%s", link, fe.Evening.ID, st.StudentID, st.TeacherID)}
	if i := slices.IndexFunc(fe.Booked, func(b store.BookingDetail) bool {
		return b.StudentID == st.StudentID && b.TeacherID == st.TeacherID
	}); i >= 0 {
		t.Booked = appointmentTime(fe.Booked[i].Booking, fe.Zone)
		return t, nil
	}
	t.Picked = p == pick{fe.Evening.ID, st.StudentID, st.TeacherID} && fe.Evening.BookingOpen(h.now())
	if !t.Picked {
		return t, nil
	}
	slots, err := h.offered(ctx, fe, st.TeacherID, st.StudentID, uuid.Nil)
	t.Slots = slotViews(slots, fe, link+"/book", st.StudentID)
	return t, err
}

// slotViews are forms booking each slot for a child (or moving to it).
func slotViews(slots []store.Slot, fe familyEvening, action string, studentID uuid.UUID) []templates.BookingSlot {
	out := make([]templates.BookingSlot, len(slots))
	for i, s := range slots {
		out[i] = templates.BookingSlot{Action: action, Label: clock(s.StartsAt, s.EndsAt, fe.Zone),
			Evening: fe.Evening.ID.String(), Student: studentID.String(), Teacher: s.TeacherID.String(), Slot: s.ID.String()}
	}
	return out
}

func (h *handler) appointmentView(c calendarEntry, fes []familyEvening, link string) templates.BookingAppointment {
	b := c.Booking
	a := templates.BookingAppointment{ID: b.ID.String(), Evening: c.Evening.Name, When: appointmentTime(b.Booking, c.Zone),
		Teacher: b.TeacherName, Child: childLabel(b)}
	for _, inv := range c.Invitees {
		if inv.RevokedAt == nil {
			a.JoinLinks = append(a.JoinLinks, templates.JoinLink{Name: inv.Name, URL: h.joinURL(h.links.Token(inv.ID, inv.LinkNonce))})
		}
	}
	for _, fe := range fes {
		if t, ok := fe.teacher(b.TeacherID); ok && fe.Evening.ID == b.EveningID && t.LateMinutes > 0 {
			a.Late = runningLate(t)
		}
	}
	if c.Evening.BookingOpen(h.now()) && b.StartsAt.After(h.now()) && b.StartedAt == nil {
		base := link + "/appointments/" + b.ID.String()
		a.MoveURL, a.CancelURL = base+"/move", base+"/cancel"
	}
	return a
}

func runningLate(t store.EveningTeacher) string {
	return fmt.Sprintf("%s is running about %d minutes late.", t.TeacherName, t.LateMinutes)
}

// clock is a slot's time of day in loc: "18:10–18:20".
func clock(start, end time.Time, loc *time.Location) string {
	return start.In(loc).Format("15:04") + "–" + end.In(loc).Format("15:04")
}

// eveningTime is an evening's date and hours: "Thursday 4 December 2026, 17:00–20:00 GMT".
func eveningTime(e store.Evening, loc *time.Location) string {
	return e.StartsAt.In(loc).Format("Monday 2 January 2006, 15:04") + "–" + e.EndsAt.In(loc).Format("15:04 MST")
}

// nearest are up to n of the offered slots nearest to want.
func nearest(offered []store.Slot, want time.Time, n int) []store.Slot {
	spans := make([]schedule.Span, len(offered))
	byStart := map[time.Time]store.Slot{}
	for i, s := range offered {
		spans[i] = schedule.Span{Start: s.StartsAt, End: s.EndsAt}
		byStart[s.StartsAt] = s
	}
	var out []store.Slot
	for _, sp := range schedule.Nearest(spans, want, n) {
		out = append(out, byStart[sp.Start])
	}
	return out
}
