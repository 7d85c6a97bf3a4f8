package web

import (
	"slices"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/store"
	"classmeet/templates"
)

// grid is what the timetable's cells are made from, indexed once: a large
// evening has hundreds of slots and bookings.
type grid struct {
	slots  map[uuid.UUID]map[time.Time]store.Slot // teacher -> start (UTC) -> slot
	booked map[uuid.UUID]*store.BookingDetail     // slot -> its booking
	free   map[uuid.UUID][]templates.SlotChoice   // teacher -> free slots
	breaks []store.EveningBreak
}

func newGrid(slots []store.Slot, bookings []store.BookingDetail, breaks []store.EveningBreak, loc *time.Location) grid {
	g := grid{slots: map[uuid.UUID]map[time.Time]store.Slot{}, booked: map[uuid.UUID]*store.BookingDetail{},
		free: map[uuid.UUID][]templates.SlotChoice{}, breaks: breaks}
	for i := range bookings {
		g.booked[bookings[i].SlotID] = &bookings[i]
	}
	for _, s := range slots {
		if g.slots[s.TeacherID] == nil {
			g.slots[s.TeacherID] = map[time.Time]store.Slot{}
		}
		g.slots[s.TeacherID][s.StartsAt.UTC()] = s
		if g.booked[s.ID] == nil && !s.Taken {
			g.free[s.TeacherID] = append(g.free[s.TeacherID], slotChoice(s, "", loc))
		}
	}
	return g
}

// timetableRows lays an evening out as rows of start times (of slots and
// breaks) across its teachers: each cell a free or booked slot, a break, or
// nothing.
func timetableRows(ts []store.EveningTeacher, slots []store.Slot, bookings []store.BookingDetail, breaks []store.EveningBreak, loc *time.Location) []templates.TimetableRow {
	var starts []time.Time
	seen := map[time.Time]bool{}
	add := func(at time.Time) {
		if !seen[at.UTC()] {
			seen[at.UTC()] = true
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
	g := newGrid(slots, bookings, breaks, loc)
	rows := make([]templates.TimetableRow, len(starts))
	for i, at := range starts {
		rows[i].At = at
		for _, t := range ts {
			rows[i].Cells = append(rows[i].Cells, g.cell(t.TeacherID, at))
		}
	}
	return rows
}

// cell is a teacher's cell at the start time at.
func (g grid) cell(teacherID uuid.UUID, at time.Time) templates.Cell {
	if s, ok := g.slots[teacherID][at.UTC()]; ok {
		if b := g.booked[s.ID]; b != nil {
			return templates.Cell{Kind: "booked", Slot: s, Booking: b, MoveTo: g.free[teacherID]}
		}
		return templates.Cell{Kind: "free", Slot: s}
	}
	onBreak := slices.ContainsFunc(g.breaks, func(b store.EveningBreak) bool {
		return (b.TeacherID == nil || *b.TeacherID == teacherID) && !at.Before(b.StartsAt) && at.Before(b.EndsAt)
	})
	if onBreak {
		return templates.Cell{Kind: "break"}
	}
	return templates.Cell{}
}

// slotChoice is a slot in a list, labelled with its time (and the
// teacher's name, when given).
func slotChoice(s store.Slot, name string, loc *time.Location) templates.SlotChoice {
	label := s.StartsAt.In(loc).Format("15:04") + "–" + s.EndsAt.In(loc).Format("15:04")
	if name != "" {
		label = name + ", " + label
	}
	return templates.SlotChoice{ID: s.ID.String(), Label: label}
}

// behalfRows offers, for each child found, the free slots of their
// teachers on the evening.
func behalfRows(students []store.EveningStudent, ts []store.EveningTeacher, slots []store.Slot, loc *time.Location) []templates.BehalfRow {
	out := make([]templates.BehalfRow, len(students))
	for i, st := range students {
		out[i].Student = st
		for _, t := range ts {
			if !slices.Contains(st.TeacherIDs, t.TeacherID) {
				continue
			}
			for _, s := range slots {
				if s.TeacherID == t.TeacherID && !s.Taken {
					out[i].Slots = append(out[i].Slots, slotChoice(s, t.TeacherName, loc))
				}
			}
		}
	}
	return out
}
