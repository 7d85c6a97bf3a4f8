package web

import (
	"fmt"
	"strings"
	"time"

	"classmeet/internal/schedule"
	"classmeet/internal/store"
)

// Mail kinds this part queues; the mail worker sends them.
const (
	mailConfirmation = store.MailConfirmation
	mailChange       = store.MailChange
	mailCancellation = store.MailCancellation
	mailReminder     = store.MailReminder
)

// appointmentMails are the mails about one appointment (changed, the last of
// entries) to each of its guardians with an email address: the household's
// whole evening as an invitation (REQUEST) for a booking or a move, and a
// reminder keyed to the booking, so a move replaces it and a cancellation
// withdraws it; or just the cancelled appointment (CANCEL).
func (h *handler) appointmentMails(kind string, f store.Family, entries []calendarEntry) ([]store.NewMail, error) {
	changed := entries[len(entries)-1]
	manage := h.householdURL(f.Household)
	method, cal := schedule.MethodRequest, entries
	if kind == mailCancellation {
		method, cal = schedule.MethodCancel, entries[len(entries)-1:]
	}
	var out []store.NewMail
	for i, inv := range changed.Invitees {
		if inv.Email == "" {
			continue
		}
		ics, err := h.calendar(cal, inv.Name, manage, method)
		if err != nil {
			return nil, err
		}
		m := h.appointmentMail(kind, f, changed, inv, manage)
		m.AttachmentName, m.AttachmentType, m.Attachment = "appointments.ics", "text/calendar; method="+string(method)+"; charset=utf-8", ics
		out = append(out, m)
		if r, ok := h.reminderMail(f, changed, inv, i, manage); ok && kind != mailCancellation {
			out = append(out, r)
		}
	}
	return out, nil
}

func (h *handler) appointmentMail(kind string, f store.Family, c calendarEntry, inv store.Invitee, manage string) store.NewMail {
	what := map[string]string{mailConfirmation: "booked", mailChange: "moved", mailCancellation: "cancelled", mailReminder: "soon"}[kind]
	when := appointmentTime(c.Booking.Booking, c.Zone)
	var body strings.Builder
	fmt.Fprintf(&body, "Dear %s,\n\nYour appointment with %s about %s at %s is %s:\n%s\n\n",
		inv.Name, c.Booking.TeacherName, c.Booking.StudentName, c.Evening.Name, what, when)
	if kind != mailCancellation {
		fmt.Fprintf(&body, "At that time, join the call from your personal link (please do not share it):\n%s\n\n", h.joinLink(c.Invitees, inv.Name))
	}
	fmt.Fprintf(&body, "To see, move or cancel your appointments, or book others:\n%s\n", manage)
	return store.NewMail{
		Kind: kind, ToName: inv.Name, ToAddr: inv.Email,
		Subject:   fmt.Sprintf("Appointment %s: %s, %s", what, c.Booking.TeacherName, when),
		Body:      body.String(),
		EveningID: &c.Evening.ID, HouseholdID: &f.Household.ID,
	}
}

// reminderMail is the reminder before an appointment, if the evening sends
// them and it is not due already. Its key ends in the booking's id, so a
// move replaces it and a cancellation withdraws it; the first guardian's
// is reminder:<booking id>, another's carries their invitee id too (the
// queue keeps one pending mail per key).
func (h *handler) reminderMail(f store.Family, c calendarEntry, inv store.Invitee, i int, manage string) (store.NewMail, bool) {
	minutes := c.Evening.ReminderMinutes
	at := c.Booking.StartsAt.Add(-time.Duration(minutes) * time.Minute)
	if minutes <= 0 || !at.After(h.now()) {
		return store.NewMail{}, false
	}
	m := h.appointmentMail(mailReminder, f, c, inv, manage)
	m.Subject = fmt.Sprintf("Reminder: your appointment with %s, %s", c.Booking.TeacherName, appointmentTime(c.Booking.Booking, c.Zone))
	m.DedupeKey = "reminder:" + c.Booking.ID.String()
	if i > 0 {
		m.DedupeKey = "reminder:" + inv.ID.String() + ":" + c.Booking.ID.String()
	}
	m.SendAfter = at
	return m, true
}

// appointmentTime is when an appointment is, in its evening's zone:
// "Thu 4 Dec 2026, 18:10–18:20 GMT".
func appointmentTime(b store.Booking, loc *time.Location) string {
	start, end := b.StartsAt.In(loc), b.EndsAt.In(loc)
	return start.Format("Mon 2 Jan 2006, 15:04") + "–" + end.Format("15:04 MST")
}
