package live

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/meeting"
	"classmeet/internal/store"
)

// The driver's side of a parents' evening room: it loads the timetable as
// the room opens and again every little while, and lets the state machine
// keep time once a second. The rules are meeting's (timetable.go).

// Timetables finds the timetable of an evening room; ok is false for an
// ordinary meeting.
type Timetables interface {
	RoomTimetable(ctx context.Context, meetingID uuid.UUID) (tt store.RoomTimetable, ok bool, err error)
}

// reloadTimeout bounds one reload: a slow database delays the next reload,
// never the meeting.
const reloadTimeout = 10 * time.Second

// timetable loads a room's timetable; nil for an ordinary meeting.
func (h *Hub) timetable(ctx context.Context, id uuid.UUID) (*meeting.Timetable, error) {
	if h.cfg.Timetables == nil {
		return nil, nil
	}
	tt, ok, err := h.cfg.Timetables.RoomTimetable(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("meeting: timetable of %s: %w", id, err)
	}
	if !ok {
		return nil, nil
	}
	return toTimetable(tt), nil
}

func toTimetable(tt store.RoomTimetable) *meeting.Timetable {
	out := &meeting.Timetable{Teacher: tt.TeacherName, Grace: tt.Grace, Late: time.Duration(tt.LateMinutes) * time.Minute}
	for _, a := range tt.Appointments {
		ma := meeting.Appointment{
			Booking: a.BookingID.String(), StartsAt: a.StartsAt, EndsAt: a.EndsAt,
			Family: a.Family, Students: a.Students,
		}
		for _, id := range a.InviteeIDs {
			ma.Invitees = append(ma.Invitees, meeting.InviteeIdentity(id.String()))
		}
		if a.StartedAt != nil {
			ma.StartedAt = *a.StartedAt
		}
		if a.EndedAt != nil {
			ma.EndedAt = *a.EndedAt
		}
		out.Appointments = append(out.Appointments, ma)
	}
	return out
}

// tick lets the evening's time pass in the room.
func (r *room) tick() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.dead {
		r.apply(r.state.Tick(r.hub.cfg.Now()))
	}
}

// reloadTimetable takes the bookings made or cancelled since the room
// opened. On failure the room keeps the timetable it has.
func (r *room) reloadTimetable() {
	ctx, cancel := context.WithTimeout(context.Background(), reloadTimeout)
	defer cancel()
	r.reload(ctx)
}

func (r *room) reload(ctx context.Context) {
	tt, err := r.hub.timetable(ctx, r.uuid)
	if err != nil || tt == nil {
		r.log.Warn("timetable not reloaded", "err", err)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.dead {
		r.apply(r.state.SetTimetable(r.hub.cfg.Now(), tt))
	}
}

// learnBookings reloads the timetable of an evening room that does not
// know the identity arriving: they may have booked since the last reload.
func (r *room) learnBookings(ctx context.Context, identity string) {
	r.mu.Lock()
	stale := !r.dead && r.state.Expects(identity)
	r.mu.Unlock()
	if !stale {
		return
	}
	r.reload(ctx)
}
