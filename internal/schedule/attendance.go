package schedule

import (
	"time"

	"github.com/google/uuid"

	"classmeet/internal/store"
)

// AttendanceLine is one person's attendance of a meeting: every visit of
// theirs (reconnecting after the grace window, joining twice) added up.
type AttendanceLine struct {
	Name      string // as they called themselves (the last visit's name)
	InvitedAs string // the name on their invitation, or ""
	Role      string
	Joined    *time.Time // first arrival
	Left      *time.Time // last departure; nil while still there
	InRoom    time.Duration
	Visits    int
	Came      bool // false for an invitee who never arrived
}

// Attendance adds up a meeting's visits per person (an invitee's link, a
// teacher's account) and lists invitees who did not come, in order of
// first arrival, then of invitation.
func Attendance(invitees []store.Invitee, visits []store.Attendance, now time.Time) []AttendanceLine {
	byKey := map[string]*AttendanceLine{}
	var order []string
	invitedAs := map[uuid.UUID]string{}
	for _, inv := range invitees {
		invitedAs[inv.ID] = inv.Name
	}
	for _, v := range visits {
		key := "p:" + v.ParticipantID.String()
		switch {
		case v.InviteeID != nil:
			key = "i:" + v.InviteeID.String()
		case v.UserID != nil:
			key = "u:" + v.UserID.String()
		}
		l := byKey[key]
		if l == nil {
			l = &AttendanceLine{Came: true, Joined: &v.JoinedAt}
			if v.InviteeID != nil {
				l.InvitedAs = invitedAs[*v.InviteeID]
			}
			byKey[key] = l
			order = append(order, key)
		}
		l.Name, l.Role, l.Visits = v.Name, v.Role, l.Visits+1
		l.InRoom += v.InRoom(now)
		switch {
		case v.LeftAt == nil:
			l.Left = nil
		case l.Visits == 1 || (l.Left != nil && v.LeftAt.After(*l.Left)):
			l.Left = v.LeftAt
		}
	}
	lines := make([]AttendanceLine, 0, len(order)+len(invitees))
	for _, k := range order {
		lines = append(lines, *byKey[k])
	}
	for _, inv := range invitees {
		if byKey["i:"+inv.ID.String()] == nil {
			lines = append(lines, AttendanceLine{Name: inv.Name, InvitedAs: inv.Name, Role: string(inv.Role)})
		}
	}
	return lines
}
