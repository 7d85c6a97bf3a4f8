package web

import (
	"net/http"
	"slices"

	"classmeet/internal/auth"
	"classmeet/internal/export"
	"classmeet/internal/store"
	"classmeet/templates"
)

// teacherSchedule is one teacher's evening on a page to print: every slot,
// with the family, child and class of those booked. Teachers see their
// own, those who run the evening anyone's.
func (h *handler) teacherSchedule(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	a, t, bookings, err := h.scheduleOf(r, me)
	var slots []store.Slot
	if err == nil {
		slots, err = h.store.Slots(r.Context(), a.evening.ID, t.TeacherID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := templates.TeacherScheduleView{Evening: a.evening, Zone: eveningZone(a.evening), Teacher: t}
	for _, s := range slots {
		c := templates.Cell{Kind: "free", Slot: s}
		if i := slices.IndexFunc(bookings, func(b store.BookingDetail) bool { return b.SlotID == s.ID }); i >= 0 {
			c.Kind, c.Booking = "booked", &bookings[i]
		}
		v.Slots = append(v.Slots, c)
	}
	h.render(w, r, http.StatusOK, templates.TeacherSchedulePage(page(r, t.TeacherName+": "+a.evening.Name), v))
}

// teacherScheduleCSV is the teacher's appointments as a spreadsheet.
func (h *handler) teacherScheduleCSV(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	a, _, bookings, err := h.scheduleOf(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="schedule.csv"`)
	_ = export.WriteTeacherScheduleCSV(w, bookings, eveningZone(a.evening))
}

func (h *handler) scheduleOf(r *http.Request, me auth.Identity) (eveningAccess, store.EveningTeacher, []store.BookingDetail, error) {
	a, err := h.eveningFor(r, me)
	if err != nil {
		return a, store.EveningTeacher{}, nil, err
	}
	t, err := a.teacher(r)
	if err != nil {
		return a, t, nil, err
	}
	bookings, err := h.store.EveningBookings(r.Context(), a.evening.ID, t.TeacherID)
	return a, t, bookings, err
}
