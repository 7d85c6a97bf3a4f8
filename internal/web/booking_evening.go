package web

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/schedule"
	"classmeet/internal/store"
)

// familyEvening is what booking for a household on one evening needs:
// the evening, its teachers and the household's live appointments.
type familyEvening struct {
	Family   store.Family
	Evening  store.Evening
	Zone     *time.Location
	Teachers []store.EveningTeacher
	Booked   []store.BookingDetail // the household's, that evening
}

// loadFamilyEvening reads an evening for a household. An evening that is
// cancelled, or not for any of its children, is errNotBookable.
func (h *handler) loadFamilyEvening(ctx context.Context, f store.Family, eveningID uuid.UUID) (familyEvening, error) {
	e, err := h.store.Evening(ctx, eveningID)
	if err != nil {
		return familyEvening{}, err
	}
	if e.CancelledAt != nil {
		return familyEvening{}, errNotBookable
	}
	fe := familyEvening{Family: f, Evening: e}
	if fe.Zone, err = schedule.LoadZone(e.TimeZone); err != nil {
		return familyEvening{}, err
	}
	if fe.Teachers, err = h.store.EveningTeachers(ctx, e.ID); err != nil {
		return familyEvening{}, err
	}
	if fe.Booked, err = h.store.HouseholdBookings(ctx, e.ID, f.Household.ID); err != nil {
		return familyEvening{}, err
	}
	return fe, nil
}

// teacher returns a teacher taking part in the evening.
func (fe familyEvening) teacher(id uuid.UUID) (store.EveningTeacher, bool) {
	i := slices.IndexFunc(fe.Teachers, func(t store.EveningTeacher) bool { return t.TeacherID == id })
	if i < 0 {
		return store.EveningTeacher{}, false
	}
	return fe.Teachers[i], true
}

// student returns the household's child if the evening is for their class.
func (fe familyEvening) student(id uuid.UUID) (store.Student, bool) {
	i := slices.IndexFunc(fe.Family.Students, func(s store.Student) bool { return s.ID == id })
	if i < 0 || !fe.Evening.ForClass(fe.Family.Students[i].ClassName) {
		return store.Student{}, false
	}
	return fe.Family.Students[i], true
}

// checkPair says whether the household may book its child with a teacher
// that evening: the child is theirs and the evening is for the child's
// class, the teacher teaches the child and takes part.
func (fe familyEvening) checkPair(studentID, teacherID uuid.UUID) (store.Student, store.EveningTeacher, error) {
	s, ok := fe.student(studentID)
	if !ok {
		return store.Student{}, store.EveningTeacher{}, errNotBookable
	}
	t, ok := fe.teacher(teacherID)
	teaches := slices.ContainsFunc(fe.Family.Teachers, func(st store.StudentTeacher) bool {
		return st.StudentID == studentID && st.TeacherID == teacherID
	})
	if !ok || !teaches {
		return store.Student{}, store.EveningTeacher{}, errNotBookable
	}
	return s, t, nil
}

// travel is the evening's travel gap between appointments with different teachers.
func (fe familyEvening) travel() time.Duration {
	return time.Duration(fe.Evening.TravelMinutes) * time.Minute
}

// appointments are the household's bookings as the schedule rules see
// them, leaving out the one being moved.
func appointments(bs []store.Booking, except uuid.UUID) []schedule.Appointment {
	out := make([]schedule.Appointment, 0, len(bs))
	for _, b := range bs {
		if b.ID != except {
			out = append(out, schedule.Appointment{ID: b.ID, TeacherID: b.TeacherID, StudentID: b.StudentID,
				Span: schedule.Span{Start: b.StartsAt, End: b.EndsAt}})
		}
	}
	return out
}

func bookingsOf(ds []store.BookingDetail) []store.Booking {
	out := make([]store.Booking, len(ds))
	for i, d := range ds {
		out[i] = d.Booking
	}
	return out
}

// fitCheck is the household rule the store runs inside the booking's
// transaction, on the household's bookings as they are then.
func (fe familyEvening) fitCheck(studentID, moving uuid.UUID) store.FitCheck {
	return func(slot store.Slot, booked []store.Booking) error {
		c := schedule.Appointment{ID: moving, TeacherID: slot.TeacherID, StudentID: studentID,
			Span: schedule.Span{Start: slot.StartsAt, End: slot.EndsAt}}
		return schedule.Fits(appointments(booked, uuid.Nil), c, fe.travel())
	}
}

// offered lists a teacher's free slots that fit the household, in the order
// schedule.Offer gives (back to back with its other appointments first),
// leaving out slots that have begun and the appointment being moved.
func (h *handler) offered(ctx context.Context, fe familyEvening, teacherID, studentID, moving uuid.UUID) ([]store.Slot, error) {
	slots, err := h.store.Slots(ctx, fe.Evening.ID, teacherID)
	if err != nil {
		return nil, err
	}
	now := h.now()
	byStart := map[time.Time]store.Slot{}
	var free []schedule.Span
	for _, s := range slots {
		if !s.Taken && s.StartsAt.After(now) {
			byStart[s.StartsAt] = s
			free = append(free, schedule.Span{Start: s.StartsAt, End: s.EndsAt})
		}
	}
	spans := schedule.Offer(free, appointments(bookingsOf(fe.Booked), moving), teacherID, studentID, fe.travel())
	out := make([]store.Slot, len(spans))
	for i, sp := range spans {
		out[i] = byStart[sp.Start]
	}
	return out, nil
}
