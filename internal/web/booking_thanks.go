package web

import (
	"context"
	"net/http"
	"slices"

	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/templates"
)

// appointmentThanks is GET /j/{token}/thanks, where the room sends a family
// when its appointment is over: thanks, and its household's booking page
// for a follow-up. Only links of evening appointments have one.
func (h *handler) appointmentThanks(w http.ResponseWriter, r *http.Request) {
	inv, err := h.invitation(r)
	if err == nil && inv.Invitee.BookingID == nil {
		err = errUnknownLink
	}
	var d store.BookingDetail
	if err == nil {
		d, err = h.store.BookingDetail(r.Context(), *inv.Invitee.BookingID)
	}
	var hh store.Household
	if err == nil {
		hh, err = h.store.Household(r.Context(), d.HouseholdID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.ThanksView{Teacher: d.TeacherName, BookingURL: h.householdPath(hh)}
	h.render(w, r, http.StatusOK, templates.ThanksPage(page(r, "Thank you"), v))
}

// prejoinAppointment is what the pre-join page of an evening appointment
// says: its time with the teacher, and whether the teacher is running
// late. Nil for an ordinary meeting, or if it cannot be read (the page
// works without it).
func (h *handler) prejoinAppointment(ctx context.Context, inv store.Invitation) *templates.PrejoinAppointment {
	if inv.Invitee.BookingID == nil {
		return nil
	}
	d, err := h.store.BookingDetail(ctx, *inv.Invitee.BookingID)
	if err != nil {
		return nil
	}
	e, err := h.store.Evening(ctx, d.EveningID)
	if err != nil {
		return nil
	}
	loc, err := schedule.LoadZone(e.TimeZone)
	if err != nil {
		return nil
	}
	a := &templates.PrejoinAppointment{When: appointmentTime(d.Booking, loc), Teacher: d.TeacherName}
	ts, err := h.store.EveningTeachers(ctx, e.ID)
	if i := slices.IndexFunc(ts, func(t store.EveningTeacher) bool { return t.TeacherID == d.TeacherID }); err == nil && i >= 0 && ts[i].LateMinutes > 0 {
		a.Late = runningLate(ts[i])
	}
	return a
}
