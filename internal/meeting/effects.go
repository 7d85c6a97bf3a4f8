package meeting

// Every effect a command of the state machine can have, in one place: what
// the driver must do (send, close, start or stop media, forward, expire),
// and what it must keep a record of.

import "time"

// Effect is something the caller must do.
type Effect interface{ effect() }

// Send a message to a participant's connection.
type Send struct {
	To  string
	Msg ServerMessage
}

// Close a participant's connection (after the messages sent before it).
type Close struct {
	Who    string
	Reason string
}

// StartMedia makes the participant's media peer: it has been admitted.
type StartMedia struct{ Who string }

// StopMedia closes the participant's media peer.
type StopMedia struct{ Who string }

// ToMedia passes a media message (offer, answer, candidate, restart) to the
// participant's media peer.
type ToMedia struct {
	Who string
	Msg ClientMessage
}

// Forward starts or stops forwarding one kind (audio, video, screen) of a
// participant's media to everyone.
type Forward struct {
	Who  string
	Kind string
	On   bool
}

// ExpireAfter asks for Expire(Who) to be called After from now.
type ExpireAfter struct {
	Who   string
	After time.Duration
}

// Emptied says nobody is left: the meeting can be put away.
type Emptied struct{}

func (Send) effect() {}

func (Close) effect() {}

func (StartMedia) effect() {}

func (StopMedia) effect() {}

func (ToMedia) effect() {}

func (Forward) effect() {}

func (ExpireAfter) effect() {}

func (Emptied) effect() {}

// effects collects what a command does.
type effects []Effect

func (e *effects) add(x ...Effect) { *e = append(*e, x...) }

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
	ActorRole            string // the actor's role in the meeting, or "system" for classmeet itself
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

func (Arrived) effect() {}

func (EnteredRoom) effect() {}

func (Departed) effect() {}

func (RoleChanged) effect() {}

func (StillThere) effect() {}

func (Audited) effect() {}

func (ChatSaved) effect() {}

func (ChatRemoved) effect() {}

func (LockSaved) effect() {}

func (Banned) effect() {}

func (EndSaved) effect() {}

// RecordingStarted: start recording the meeting.
type RecordingStarted struct {
	ID         string
	By, ByName string
	At         time.Time
}

// RecordingStopped: stop the recording.
type RecordingStopped struct {
	ID string
	At time.Time
}

// ConsentGiven: a participant answered; record their media only if Accepted.
type ConsentGiven struct {
	RecordingID string
	Who, Name   string
	Accepted    bool
	At          time.Time
}

func (RecordingStarted) effect() {}

func (RecordingStopped) effect() {}

func (ConsentGiven) effect() {}

// Decided: what hosts decided about a person changed. The record keeps it,
// so it holds for the rest of the meeting even across a restart of the
// server; a meeting loads what was decided as it starts (Options.Decisions).
type Decided struct {
	Identity         string
	Stopped, Allowed []string // kinds of media
	Role             Role     // the role a host gave, or ""
	Waits            bool     // sent to the lobby: only a host admits them
	At               time.Time
}

func (Decided) effect() {}

// AppointmentStarted: the call of a booking on a parents' evening started
// (its family was let in).
type AppointmentStarted struct {
	BookingID string
	At        time.Time
}

// AppointmentEnded: the call of a booking ended, How: held, ended_early
// (the teacher ended it before its time) or no_show.
type AppointmentEnded struct {
	BookingID string
	At        time.Time
	How       string
}

// RunningLate: how many minutes late the teacher's next appointment is
// expected to start changed (announced by the teacher, or an overrun).
type RunningLate struct {
	Minutes int
	At      time.Time
}

func (AppointmentStarted) effect() {}

func (AppointmentEnded) effect() {}

func (RunningLate) effect() {}
