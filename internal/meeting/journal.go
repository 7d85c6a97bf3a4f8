package meeting

import "time"

// Effects that keep a record of the meeting: attendance, the audit log, the
// chat, the lock and bans. The driver hands them to its Journal.

// Arrived: someone arrived (lobby or room).
type Arrived struct {
	Who, Name         string
	Role              Role
	InviteeID, UserID string
	At                time.Time
}

// EnteredRoom: someone was let into the room.
type EnteredRoom struct {
	Who string
	At  time.Time
}

// Departed: someone left, was denied, removed, lost, or the meeting ended.
type Departed struct {
	Who    string
	At     time.Time
	Reason string
}

// StillThere: everyone in the meeting was still there at At. The driver
// records it every half minute, so that visits a crash leaves open are
// closed at the last time they were known to be going.
type StillThere struct{ At time.Time }

// RoleChanged: someone's role changed.
type RoleChanged struct {
	Who  string
	Role Role
}

// Audited: an entry for the audit log.
type Audited struct {
	At                   time.Time
	ActorID, ActorName   string
	Action               string
	TargetID, TargetName string
	Detail               string
}

// ChatSaved: a chat message to keep.
type ChatSaved struct{ Entry ChatEntry }

// ChatRemoved: a chat message a host deleted.
type ChatRemoved struct {
	ID, By string
	At     time.Time
}

// LockSaved: the meeting was locked or unlocked.
type LockSaved struct{ Locked bool }

// Banned: an invitee was removed for good from this meeting.
type Banned struct{ InviteeID string }

// EndSaved: the host ended the meeting for everyone; it stays ended (no
// invitee may join) until the host opens it again.
type EndSaved struct{ At time.Time }

func (Arrived) effect()     {}
func (EnteredRoom) effect() {}
func (Departed) effect()    {}
func (RoleChanged) effect() {}
func (StillThere) effect()  {}
func (Audited) effect()     {}
func (ChatSaved) effect()   {}
func (ChatRemoved) effect() {}
func (LockSaved) effect()   {}
func (Banned) effect()      {}
func (EndSaved) effect()    {}

// audit records that actor did action (to target, if any). A nil actor is
// classmeet itself (automatic admission, say).
func (s *State) audit(fx *effects, now time.Time, actor *participant, action string, target *participant, detail string) {
	a := Audited{At: now, Action: action, Detail: detail, ActorName: "classmeet"}
	if actor != nil {
		a.ActorID, a.ActorName = actor.ID, actor.Name
	}
	if target != nil {
		a.TargetID, a.TargetName = target.ID, target.Name
	}
	fx.add(a)
}
