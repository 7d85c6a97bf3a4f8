package web

import (
	"net/http"

	"classmeet/internal/auth"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/templates"
)

// newEvening shows an empty evening form: in two weeks, 16:00 to 19:00,
// 10-minute appointments, booking open from now until noon that day.
func (h *handler) newEvening(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	ef, err := h.loadEveningForm(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	now := h.now().In(userZone(me))
	day := now.AddDate(0, 0, 14).Format("2006-01-02")
	f := templates.Form{Values: map[string]string{
		"date": day, "start": "16:00", "end": "19:00", "time_zone": me.User.TimeZone, "slot_minutes": "10",
		"gap_minutes": "0", "travel_minutes": "5", "booking_opens": now.Format("2006-01-02T15:04"),
		"booking_closes": day + "T12:00", "second_guardian": "yes", "split_policy": string(schedule.SplitEachHousehold),
		"reminder_minutes": "60", "grace_seconds": "60", "recording_policy": string(store.RecordingNotAllowed),
	}, Errors: map[string]string{}}
	h.render(w, r, http.StatusOK, templates.EveningFormPage(page(r, "Plan a parents' evening"), ef.view(f, nil, "/evenings", false)))
}

// createEvening plans an evening: an administrator's with the teachers
// they chose, a teacher's with themselves as its only teacher.
func (h *handler) createEvening(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	plan, _, ok := h.readEvening(w, r, me, "/evenings", false, nil)
	if !ok {
		return
	}
	e, err := h.store.CreateEvening(r.Context(), me.User.ID, plan, h.now())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("evening planned", "evening_id", e.ID, "teachers", len(plan.Teachers))
	h.auditEvening(r, me, e, "created parents' evening")
	redirect(w, r, "/evenings/"+e.ID.String())
}
