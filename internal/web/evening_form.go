package web

import (
	"errors"
	"net/http"
	"slices"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
	"classmeet/templates"
)

var eveningFields = []string{"name", "date", "start", "end", "time_zone", "slot_minutes", "gap_minutes", "travel_minutes",
	"breaks", "booking_opens", "booking_closes", "second_guardian", "split_policy", "reminder_minutes", "grace_seconds", "recording_policy"}

// teacherFields are the overrides each teacher row of the form may carry.
var teacherFields = []string{"start", "end", "slot_minutes", "breaks"}

// eveningForm is what the evening form needs besides what was typed.
type eveningForm struct {
	staff   []store.User // who may take part
	classes []string     // the students' classes
	choose  bool         // the person may pick teachers (else they run their own)
}

// loadEveningForm reads the choices the form offers to me.
func (h *handler) loadEveningForm(r *http.Request, me auth.Identity) (eveningForm, error) {
	ef := eveningForm{choose: auth.Can(me.User.Role, auth.ManageEvenings), staff: []store.User{me.User}}
	if ef.choose {
		users, err := h.store.Users(r.Context())
		if err != nil {
			return ef, err
		}
		ef.staff = slices.DeleteFunc(users, func(u store.User) bool { return u.DisabledAt != nil })
	}
	var err error
	ef.classes, err = h.store.StudentClasses(r.Context())
	return ef, err
}

// view is the form page's view of f with these choices.
func (ef eveningForm) view(f templates.Form, chosenClasses []string, action string, edit bool) templates.EveningFormView {
	v := templates.EveningFormView{Form: f, Action: action, Edit: edit, ChooseTeachers: ef.choose}
	for _, u := range ef.staff {
		v.Staff = append(v.Staff, templates.StaffChoice{ID: u.ID.String(), Name: u.Name})
	}
	for _, c := range ef.classes {
		v.Classes = append(v.Classes, templates.ClassChoice{Name: c, Chosen: slices.Contains(chosenClasses, c)})
	}
	return v
}

// readEvening reads and checks the evening form; when it is wrong, it has
// already answered with the form and its errors. kept is who teaches on an
// evening being changed by someone who does not choose its teachers (a
// teacher running it): they stay as they are. Nil: a new evening, whose
// teacher is whoever creates it.
func (h *handler) readEvening(w http.ResponseWriter, r *http.Request, me auth.Identity, action string, edit bool, kept []schedule.TeacherInput) (store.EveningPlan, eveningForm, bool) {
	ef, err := h.loadEveningForm(r, me)
	var f templates.Form
	if err == nil {
		f, err = readForm(w, r, eveningFields...)
	}
	if err != nil {
		h.fail(w, r, err)
		return store.EveningPlan{}, ef, false
	}
	in := eveningInput(f, r)
	in.KnownClasses = ef.classes
	for _, u := range ef.staff {
		in.Staff = append(in.Staff, u.ID)
	}
	switch {
	case ef.choose:
	case kept != nil:
		// A teacher changing the evening they run keeps the colleagues an
		// administrator added, with their own hours.
		in.Teachers = kept
		for _, t := range kept {
			if id, err := uuid.Parse(t.ID); err == nil {
				in.Staff = append(in.Staff, id)
			}
		}
	default:
		// A teacher runs an evening of their own: they are its only teacher.
		in.Teachers = []schedule.TeacherInput{{ID: me.User.ID.String()}}
	}
	plan, err := schedule.ParseEvening(in, h.now())
	if err != nil {
		h.render(w, r, http.StatusUnprocessableEntity, templates.EveningFormPage(page(r, "Parents' evening"), ef.view(withErrors(f, err), in.Classes, action, edit)))
		return store.EveningPlan{}, ef, false
	}
	return plan, ef, true
}

// eveningInput is the schedule's input from the posted form; it also puts
// the teachers' rows into f, to show them again.
func eveningInput(f templates.Form, r *http.Request) schedule.EveningInput {
	v := f.Value
	in := schedule.EveningInput{
		Name: v("name"), Date: v("date"), Start: v("start"), End: v("end"), TimeZone: v("time_zone"),
		SlotMinutes: v("slot_minutes"), GapMinutes: v("gap_minutes"), TravelMinutes: v("travel_minutes"),
		Breaks: v("breaks"), BookingOpens: v("booking_opens"), BookingCloses: v("booking_closes"),
		Classes: r.PostForm["classes"], SecondGuardian: v("second_guardian"), SplitPolicy: v("split_policy"),
		ReminderMinutes: v("reminder_minutes"), GraceSeconds: v("grace_seconds"), RecordingPolicy: v("recording_policy"),
	}
	for _, id := range r.PostForm["teachers"] {
		if _, err := uuid.Parse(id); err != nil {
			in.Teachers = append(in.Teachers, schedule.TeacherInput{ID: id})
			continue
		}
		get := func(what string) string {
			key := schedule.TeacherField(id, what)
			f.Values[key] = r.PostForm.Get(key)
			return f.Values[key]
		}
		f.Values["teacher_"+id] = "on"
		in.Teachers = append(in.Teachers, schedule.TeacherInput{ID: id, Start: get("start"), End: get("end"),
			SlotMinutes: get("slot_minutes"), Breaks: get("breaks")})
	}
	return in
}

// orphanLines names the booked appointments a change would leave without
// a slot, for the form.
func orphanLines(err error, e store.Evening) []string {
	var oe *store.OrphanError
	if !errors.As(err, &oe) {
		return nil
	}
	loc := eveningZone(e)
	lines := make([]string, len(oe.Bookings))
	for i, b := range oe.Bookings {
		lines[i] = b.TeacherName + ", " + b.StartsAt.In(loc).Format("15:04") + "–" + b.EndsAt.In(loc).Format("15:04")
	}
	return lines
}
