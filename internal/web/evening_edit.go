package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"classmeet/internal/auth"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/templates"
)

// editEvening shows the evening's form filled in as it is planned.
func (h *handler) editEvening(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	a, err := h.managedEvening(r, me)
	if err == nil && a.evening.CancelledAt != nil {
		err = store.ErrNotFound
	}
	var ef eveningForm
	var breaks []store.EveningBreak
	if err == nil {
		ef, err = h.loadEveningForm(r, me)
	}
	if err == nil {
		breaks, err = h.store.EveningBreaks(r.Context(), a.evening.ID)
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	f := eveningValues(a.evening, a.teachers, breaks)
	v := ef.view(f, a.evening.Classes, "/evenings/"+a.evening.ID.String(), true)
	h.render(w, r, http.StatusOK, templates.EveningFormPage(page(r, "Change the parents' evening"), v))
}

// updateEvening changes an evening; a change that leaves booked
// appointments without their time is refused with the list of them.
func (h *handler) updateEvening(w http.ResponseWriter, r *http.Request, me auth.Identity) {
	a, err := h.managedEvening(r, me)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	action := "/evenings/" + a.evening.ID.String()
	breaks, err := h.store.EveningBreaks(r.Context(), a.evening.ID)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	plan, ef, ok := h.readEvening(w, r, me, action, true, teachersAsPlanned(a.evening, a.teachers, breaks))
	if !ok {
		return
	}
	if _, err := h.store.UpdateEvening(r.Context(), a.evening.ID, plan, h.now()); errors.Is(err, store.ErrBookingsOrphaned) {
		f, _ := readForm(w, r, eveningFields...)
		in := eveningInput(f, r)
		v := ef.view(f, in.Classes, action, true)
		v.Orphans = orphanLines(err, a.evening)
		v.Form.Error = "Booked appointments would lose their time: nothing was changed."
		h.render(w, r, http.StatusConflict, templates.EveningFormPage(page(r, "Change the parents' evening"), v))
		return
	} else if err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("evening changed", "evening_id", a.evening.ID)
	redirect(w, r, action)
}

// eveningValues is the form's fields for an evening as planned, in its zone.
func eveningValues(e store.Evening, ts []store.EveningTeacher, breaks []store.EveningBreak) templates.Form {
	loc := eveningZone(e)
	local := func(t time.Time, layout string) string { return t.In(loc).Format(layout) }
	yesNo := map[bool]string{true: "yes", false: "no"}
	f := templates.Form{Values: map[string]string{
		"name": e.Name, "date": local(e.StartsAt, "2006-01-02"), "start": local(e.StartsAt, "15:04"), "end": local(e.EndsAt, "15:04"),
		"time_zone": e.TimeZone, "slot_minutes": strconv.Itoa(e.SlotMinutes), "gap_minutes": strconv.Itoa(e.GapMinutes),
		"travel_minutes": strconv.Itoa(e.TravelMinutes), "breaks": breakList(breaks, nil, loc),
		"booking_opens": local(e.BookingOpensAt, "2006-01-02T15:04"), "booking_closes": local(e.BookingClosesAt, "2006-01-02T15:04"),
		"second_guardian": yesNo[e.SecondGuardian], "split_policy": e.SplitPolicy, "reminder_minutes": strconv.Itoa(e.ReminderMinutes),
		"grace_seconds": strconv.Itoa(e.GraceSeconds), "recording_policy": string(e.RecordingPolicy),
	}, Errors: map[string]string{}}
	for _, t := range ts {
		id := t.TeacherID.String()
		f.Values["teacher_"+id] = "on"
		if t.StartsAt != nil {
			f.Values[schedule.TeacherField(id, "start")] = local(*t.StartsAt, "15:04")
		}
		if t.EndsAt != nil {
			f.Values[schedule.TeacherField(id, "end")] = local(*t.EndsAt, "15:04")
		}
		if t.SlotMinutes != nil {
			f.Values[schedule.TeacherField(id, "slot_minutes")] = strconv.Itoa(*t.SlotMinutes)
		}
		f.Values[schedule.TeacherField(id, "breaks")] = breakList(breaks, &t, loc)
	}
	return f
}

// teachersAsPlanned is an evening's teachers as the form gives them: each
// with their own hours, length and breaks, if any.
func teachersAsPlanned(e store.Evening, ts []store.EveningTeacher, breaks []store.EveningBreak) []schedule.TeacherInput {
	f := eveningValues(e, ts, breaks)
	in := make([]schedule.TeacherInput, 0, len(ts))
	for _, t := range ts {
		id := t.TeacherID.String()
		v := func(what string) string { return f.Value(schedule.TeacherField(id, what)) }
		in = append(in, schedule.TeacherInput{ID: id, Start: v("start"), End: v("end"), SlotMinutes: v("slot_minutes"), Breaks: v("breaks")})
	}
	return in
}

// breakList writes the breaks of everyone (t nil) or of one teacher as the form takes them.
func breakList(breaks []store.EveningBreak, t *store.EveningTeacher, loc *time.Location) string {
	var parts []string
	for _, b := range breaks {
		if (t == nil && b.TeacherID == nil) || (t != nil && b.TeacherID != nil && *b.TeacherID == t.TeacherID) {
			parts = append(parts, b.StartsAt.In(loc).Format("15:04")+"-"+b.EndsAt.In(loc).Format("15:04"))
		}
	}
	return strings.Join(parts, ", ")
}
