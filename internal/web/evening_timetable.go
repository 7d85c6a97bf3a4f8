package web

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/store"
	"classmeet/templates"
)

// timetableRows lays an evening out as rows of start times (of slots and
// breaks) across its teachers: each cell a free or booked slot, a break, or
// nothing.
func timetableRows(ts []store.EveningTeacher, slots []store.Slot, bookings []store.BookingDetail, breaks []store.EveningBreak, loc *time.Location) []templates.TimetableRow {
	var starts []time.Time
	add := func(at time.Time) {
		if !slices.ContainsFunc(starts, at.Equal) {
			starts = append(starts, at)
		}
	}
	for _, s := range slots {
		add(s.StartsAt)
	}
	for _, b := range breaks {
		add(b.StartsAt) // so a break shows even where no slot starts in it
	}
	slices.SortFunc(starts, time.Time.Compare)
	rows := make([]templates.TimetableRow, len(starts))
	for i, at := range starts {
		rows[i].At = at
		for _, t := range ts {
			rows[i].Cells = append(rows[i].Cells, cellAt(t, at, slots, bookings, breaks, loc))
		}
	}
	return rows
}

// cellAt is teacher t's cell at the start time at.
func cellAt(t store.EveningTeacher, at time.Time, slots []store.Slot, bookings []store.BookingDetail, breaks []store.EveningBreak, loc *time.Location) templates.Cell {
	i := slices.IndexFunc(slots, func(s store.Slot) bool { return s.TeacherID == t.TeacherID && s.StartsAt.Equal(at) })
	if i >= 0 {
		return slotCell(slots[i], slots, bookings, loc)
	}
	onBreak := slices.ContainsFunc(breaks, func(b store.EveningBreak) bool {
		return (b.TeacherID == nil || *b.TeacherID == t.TeacherID) && !at.Before(b.StartsAt) && at.Before(b.EndsAt)
	})
	if onBreak {
		return templates.Cell{Kind: "break"}
	}
	return templates.Cell{}
}

// slotCell is a slot, free or with its booking and where it may move to.
func slotCell(s store.Slot, slots []store.Slot, bookings []store.BookingDetail, loc *time.Location) templates.Cell {
	j := slices.IndexFunc(bookings, func(b store.BookingDetail) bool { return b.SlotID == s.ID })
	if j < 0 {
		return templates.Cell{Kind: "free", Slot: s}
	}
	return templates.Cell{Kind: "booked", Slot: s, Booking: &bookings[j], MoveTo: freeSlots(slots, bookings, s.TeacherID, "", loc)}
}

// freeSlots are a teacher's slots nobody booked, labelled with their time
// (and the teacher's name, when given).
func freeSlots(slots []store.Slot, bookings []store.BookingDetail, teacherID uuid.UUID, name string, loc *time.Location) []templates.SlotChoice {
	var out []templates.SlotChoice
	for _, s := range slots {
		if s.TeacherID != teacherID || s.Taken || slices.ContainsFunc(bookings, func(b store.BookingDetail) bool { return b.SlotID == s.ID }) {
			continue
		}
		label := s.StartsAt.In(loc).Format("15:04") + "–" + s.EndsAt.In(loc).Format("15:04")
		if name != "" {
			label = name + ", " + label
		}
		out = append(out, templates.SlotChoice{ID: s.ID.String(), Label: label})
	}
	return out
}

// behalfRows offers, for each child found, the free slots of their
// teachers on the evening.
func behalfRows(students []store.EveningStudent, ts []store.EveningTeacher, slots []store.Slot, loc *time.Location) []templates.BehalfRow {
	out := make([]templates.BehalfRow, len(students))
	for i, s := range students {
		out[i].Student = s
		for _, t := range ts {
			if slices.Contains(s.TeacherIDs, t.TeacherID) {
				out[i].Slots = append(out[i].Slots, freeSlots(slots, nil, t.TeacherID, t.TeacherName, loc)...)
			}
		}
	}
	return out
}
