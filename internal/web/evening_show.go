package web

import (
	"net/http"
	"strings"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/store"
	"classmeet/templates"
)

// showEvening is an evening's page: for those who run it, the timetable of
// every teacher with moves, cancellations and booking on a family's behalf;
// for a teacher taking part, their appointments with their notes and room.
func (h *handler) showEvening(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	a, err := h.eveningFor(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v, err := h.eveningView(r, a)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, templates.EveningPage(page(r, a.evening.Name), v))
}

func (h *handler) eveningView(r *http.Request, a eveningAccess) (templates.EveningView, error) {
	ctx, e := r.Context(), a.evening
	v := templates.EveningView{Evening: e, Zone: eveningZone(e), Manage: a.manage, Teachers: a.teachers, Me: a.me, UpdatedAt: h.now()}
	slots, err := h.store.Slots(ctx, e.ID, a.scope())
	if err != nil {
		return v, err
	}
	bookings, err := h.store.EveningBookings(ctx, e.ID, a.scope())
	if err != nil {
		return v, err
	}
	if a.me != nil {
		if v.Appointments, err = h.appointments(r, e, a.me.TeacherID, bookings); err != nil {
			return v, err
		}
	}
	if !a.manage {
		return v, nil
	}
	breaks, err := h.store.EveningBreaks(ctx, e.ID)
	if err != nil {
		return v, err
	}
	v.Rows = timetableRows(a.teachers, slots, bookings, breaks, v.Zone)
	v.Query = strings.TrimSpace(r.URL.Query().Get("q"))
	if v.Searched = v.Query != ""; v.Searched {
		students, err := h.store.EveningStudents(ctx, e.ID, v.Query)
		if err != nil {
			return v, err
		}
		v.Found = behalfRows(students, a.teachers, slots, v.Zone)
	}
	return v, nil
}

// appointments are a teacher's bookings with their notes.
func (h *handler) appointments(r *http.Request, e store.Evening, teacherID uuid.UUID, bookings []store.BookingDetail) ([]templates.Appointment, error) {
	notes, err := h.store.Notes(r.Context(), e.ID, teacherID)
	if err != nil {
		return nil, err
	}
	var out []templates.Appointment
	for _, b := range bookings {
		if b.TeacherID == teacherID {
			out = append(out, templates.Appointment{Booking: b, Note: notes[b.ID].Body})
		}
	}
	return out, nil
}
