package meeting

import (
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// The timetable of a parents' evening room: one teacher, one family after
// another. Every rule of the timed lobby and the timed calls is here: who
// is due, when a family is let in, when they are warned and moved out, how
// late the teacher runs, and what each side is told. The rest of the state
// machine calls keepTime after each command; the driver calls Tick about
// once a second.

// Timetable is the evening's appointments in a teacher's room.
type Timetable struct {
	Teacher      string
	Grace        time.Duration // after the end, before the family is moved out
	Appointments []Appointment // in start order, cancelled ones left out
	// Late is how late the teacher said they run when the room opens (the
	// room restarted mid-evening); a timetable that replaces another
	// leaves the lateness as it is.
	Late time.Duration
}

// Appointment is one booking: who may come, and when.
type Appointment struct {
	Booking          string
	StartsAt, EndsAt time.Time // planned
	Invitees         []string  // the family's identities: InviteeIdentity of each guardian's invitee id
	Family           string    // guardian name(s), for the teacher
	Students         string    // child name(s), for the teacher only
	// StartedAt and EndedAt are what the record already holds (the meeting
	// restarted mid-evening); zero if not.
	StartedAt, EndedAt time.Time
}

// How an appointment ended.
const (
	HowHeld       = "held"
	HowEndedEarly = "ended_early"
	HowNoShow     = "no_show"
)

// Statuses of an appointment, as its family is told.
const (
	ApptWaiting = "waiting"
	ApptRunning = "running"
	ApptOver    = "over"
)

// Extension is what "extend" adds to a running appointment.
const Extension = 5 * time.Minute

// wrapUpBefore is when, before the end, both sides are told to wrap up.
const wrapUpBefore = time.Minute

// maxLate is the most a host may say they are running late.
const maxLate = 3 * time.Hour

// appointment is an Appointment and how it is going.
type appointment struct {
	Appointment
	started, ended time.Time
	shift          time.Duration // lateness it came in with, not the family's own: added to its end
	extended       time.Duration
	warned         bool      // told to wrap up
	seen           time.Time // the family was last in the room
	// cancelled: its booking left the timetable while the call ran. Its
	// links no longer let anyone in, so once its family is out it is over.
	cancelled bool
}

func (a *appointment) inProgress() bool { return !a.started.IsZero() && a.ended.IsZero() }
func (a *appointment) pending() bool    { return a.started.IsZero() && a.ended.IsZero() }
func (a *appointment) length() time.Duration {
	return a.EndsAt.Sub(a.StartsAt)
}

// end is when a call in progress ends: its planned end, moved by the
// lateness it started with and by extensions.
func (a *appointment) end() time.Time { return a.EndsAt.Add(a.shift + a.extended) }

func (a *appointment) has(identity string) bool {
	return identity != "" && slices.Contains(a.Invitees, identity)
}

// timekeeper is the timetable of a room and what it said last.
type timekeeper struct {
	teacher  string
	grace    time.Duration
	appts    []*appointment
	late     time.Duration     // what the host announced
	lateSaid int               // the minutes late last recorded
	told     map[string]string // by participant: the last view sent
}

func newTimekeeper(tt *Timetable) *timekeeper {
	tk := &timekeeper{told: map[string]string{}, late: min(max(0, tt.Late), maxLate)}
	tk.lateSaid = ceilMinutes(tk.late)
	tk.load(tt)
	return tk
}

// load takes a new timetable, keeping how each known appointment is going.
// A running appointment whose booking disappeared (cancelled) runs on while
// its family is in it, and ends as soon as nobody of it is: held to its
// planned end, it would keep the teacher from the next family.
func (tk *timekeeper) load(tt *Timetable) {
	old := map[string]*appointment{}
	for _, a := range tk.appts {
		old[a.Booking] = a
	}
	tk.teacher, tk.grace = tt.Teacher, tt.Grace
	var appts []*appointment
	for _, in := range tt.Appointments {
		a := &appointment{Appointment: in, started: in.StartedAt, ended: in.EndedAt}
		if o := old[in.Booking]; o != nil {
			a.started, a.ended, a.shift, a.extended, a.warned, a.seen = o.started, o.ended, o.shift, o.extended, o.warned, o.seen
			delete(old, in.Booking)
		} else if !a.started.IsZero() {
			a.shift = max(0, a.started.Sub(a.StartsAt))
		}
		appts = append(appts, a)
	}
	for _, o := range old {
		if o.inProgress() {
			o.cancelled = true
			appts = append(appts, o)
		}
	}
	slices.SortStableFunc(appts, func(a, b *appointment) int { return a.StartsAt.Compare(b.StartsAt) })
	tk.appts = appts
}

// SetTimetable replaces the timetable (bookings change during the evening).
func (s *State) SetTimetable(now time.Time, tt *Timetable) []Effect {
	if tt == nil {
		return nil
	}
	if s.tk == nil {
		s.tk = newTimekeeper(tt)
	} else {
		s.tk.load(tt)
	}
	var fx effects
	s.keepTime(&fx, now)
	return fx
}

// Tick lets time pass: families are admitted when due, warned, moved out.
func (s *State) Tick(now time.Time) []Effect {
	var fx effects
	s.keepTime(&fx, now)
	return fx
}

// keepTime applies the timetable's rules as of now.
func (s *State) keepTime(fx *effects, now time.Time) {
	if s.tk == nil {
		return
	}
	s.endDue(fx, now)
	s.noShows(fx, now)
	s.admitDue(fx, now)
	s.tellTime(fx, now)
}

// retell makes the next keepTime tell p again: a resumed client may be a
// reloaded page that knows nothing.
func (s *State) retell(p *participant) {
	if s.tk != nil {
		delete(s.tk.told, p.ID)
	}
}

// appointmentOf is the appointment an identity comes for: the first of
// theirs not over.
func (s *State) appointmentOf(identity string) *appointment {
	if s.tk == nil {
		return nil
	}
	for _, a := range s.tk.appts {
		if a.ended.IsZero() && a.has(identity) {
			return a
		}
	}
	return nil
}

// Expects reports whether the meeting keeps a timetable that does not know
// identity: the driver then reloads it before the join, so that a family
// that has just booked waits for its time too.
func (s *State) Expects(identity string) bool { return s.tk != nil && !s.tk.knows(identity) }

// timed reports whether p is of a family with an appointment: they wait in
// the lobby for its time, whatever the meeting's lobby policy; after it (a
// no-show come late, a family back after the end) a host lets them in.
func (s *State) timed(p *participant) bool { return s.tk != nil && s.tk.knows(p.Identity) }

// knows reports whether identity is of a family on the timetable.
func (tk *timekeeper) knows(identity string) bool {
	return slices.ContainsFunc(tk.appts, func(a *appointment) bool { return a.has(identity) })
}

// family lists everyone here for a.
func (s *State) family(a *appointment) []*participant {
	return s.peopleOf(func(p *participant) bool { return a.has(p.Identity) })
}

func (s *State) familyIn(a *appointment) bool {
	return slices.ContainsFunc(s.family(a), func(p *participant) bool { return p.admitted })
}

func (s *State) familyWaiting(a *appointment) []*participant {
	var ps []*participant
	for _, p := range s.family(a) {
		if p.presence == PresenceLobby && !p.person.waits {
			ps = append(ps, p)
		}
	}
	return ps
}

// startAppointment starts the appointment of someone just admitted, if it
// has not started. The family gets its full length unless they came late:
// the lateness they are not to blame for moves its end.
func (s *State) startAppointment(fx *effects, now time.Time, p *participant) {
	a := s.appointmentOf(p.Identity)
	if a == nil || !a.started.IsZero() {
		return
	}
	arrived := p.arrivedAt
	for _, q := range s.family(a) {
		if q.arrivedAt.Before(arrived) {
			arrived = q.arrivedAt
		}
	}
	a.started, a.seen = now, now
	a.shift = max(0, now.Sub(later(a.StartsAt, arrived)))
	fx.add(AppointmentStarted{BookingID: a.Booking, At: now})
}

// leftCall notes when someone of a call in progress left it: if nobody of
// the family comes back, the call ended then.
func (s *State) leftCall(now time.Time, p *participant) {
	if a := s.appointmentOf(p.Identity); a != nil && a.inProgress() && p.admitted {
		a.seen = now
	}
}

// endDue warns the calls about to end, and ends those over: at the end if
// the family has gone (at once if it was cancelled: they cannot come
// back), at the end plus grace by moving them out.
func (s *State) endDue(fx *effects, now time.Time) {
	for _, a := range s.tk.appts {
		if !a.inProgress() {
			continue
		}
		in := s.familyIn(a)
		if in {
			a.seen = now
		}
		switch {
		case !in && (a.cancelled || !now.Before(a.end())):
			a.ended = later(a.started, a.seen) // when the family was last seen in it
			how := HowHeld
			if a.cancelled && a.ended.Before(a.end()) {
				how = HowEndedEarly
			}
			fx.add(AppointmentEnded{BookingID: a.Booking, At: a.ended, How: how})
		case !now.Before(a.end().Add(s.tk.grace)):
			s.finish(fx, now, a, HowHeld)
		case in && !a.warned && !now.Before(a.end().Add(-wrapUpBefore)):
			a.warned = true
			s.wrapUp(fx, a)
		}
	}
}

// wrapUp tells the family in the call and the teacher that a minute is left.
func (s *State) wrapUp(fx *effects, a *appointment) {
	at := stamp(a.end())
	for _, p := range s.family(a) {
		if p.presence == PresenceRoom {
			fx.add(Send{To: p.ID, Msg: &WrapUp{EndsAt: at}})
		}
	}
	for _, h := range s.timekeepers() {
		fx.add(Send{To: h.ID, Msg: &WrapUp{EndsAt: at, Booking: a.Booking}})
	}
}

// finish ends an appointment and moves its family out, every device of
// theirs: the client turns the reason into a thank-you page.
func (s *State) finish(fx *effects, now time.Time, a *appointment, how string) {
	a.ended = now
	fx.add(AppointmentEnded{BookingID: a.Booking, At: now, How: how})
	for _, p := range s.family(a) {
		s.audit(fx, now, nil, "appointment over: moved out", p, "")
		if p.presence != PresenceAway {
			fx.add(Send{To: p.ID, Msg: s.appointmentView(a, now, ApptOver)}, Close{Who: p.ID, Reason: "appointment_over"})
		}
		s.remove(fx, now, p, "appointment over")
		delete(s.tk.told, p.ID)
	}
	s.emptied(fx, now)
}

// noShows ends the appointments whose expected end passed with nobody of
// them here.
func (s *State) noShows(fx *effects, now time.Time) {
	expected := s.expectedStarts(now)
	for _, a := range s.tk.appts {
		if !a.pending() || len(s.family(a)) > 0 {
			continue
		}
		if end := expected[a].Add(a.length()); !now.Before(end) {
			a.ended = end
			fx.add(AppointmentEnded{BookingID: a.Booking, At: end, How: HowNoShow})
		}
	}
}

// admitDue lets families in while a host is here: into a call of theirs in
// progress, or, once no other family is in, for the first appointment due
// with someone waiting.
func (s *State) admitDue(fx *effects, now time.Time) {
	if !s.hostPresent() {
		return
	}
	for _, a := range s.tk.appts {
		if a.inProgress() {
			for _, p := range s.familyWaiting(a) {
				s.admit(fx, now, nil, p)
			}
		}
	}
	// Any family in counts, not only that of the call in progress: one a
	// host let back in after its time is in the call too, and the next
	// family must not walk in on them.
	if slices.ContainsFunc(s.tk.appts, s.familyIn) {
		return
	}
	expected := s.expectedStarts(now)
	for _, a := range s.tk.appts {
		waiting := s.familyWaiting(a)
		if !a.pending() || len(waiting) == 0 || now.Before(expected[a]) {
			continue
		}
		for _, p := range waiting {
			s.admit(fx, now, nil, p)
		}
		return
	}
}

// expectedStarts is when each appointment not started is expected to
// start: at its planned time, moved by what the host announced, and after
// the calls before it: one overrunning pushes the rest back, a gap or a
// break lets the teacher catch up. A family not here holds only its own
// slot, so a missed appointment delays nobody; it is not pushed by calls
// after it either, so it becomes a no-show at its own end.
func (s *State) expectedStarts(now time.Time) map[*appointment]time.Time {
	out := map[*appointment]time.Time{}
	var free time.Time // when the teacher is free of the calls before
	for _, a := range s.tk.appts {
		switch {
		case a.inProgress():
			free = later(free, projectedEnd(a, now))
		case a.pending():
			slot := a.StartsAt.Add(s.tk.late)
			at := later(slot, free)
			out[a] = at
			if len(s.familyWaiting(a)) > 0 {
				free = at.Add(a.length())
			} else {
				free = later(free, slot.Add(a.length()))
			}
		}
	}
	return out
}

// projectedEnd is when a call in progress is expected to end: its end, or
// now rounded up to the minute once it overruns, so that those waiting are
// told of it a minute at a time.
func projectedEnd(a *appointment, now time.Time) time.Time {
	over := now.Sub(a.end())
	if over <= 0 {
		return a.end()
	}
	return a.end().Add((over + time.Minute - 1).Truncate(time.Minute))
}

// minutesLate is how late the appointments to come are expected to start
// (the latest of them), or what the host announced when none is left.
func (s *State) minutesLate(now time.Time) int {
	late := s.tk.late
	for a, at := range s.expectedStarts(now) {
		late = max(late, at.Sub(a.StartsAt))
	}
	return ceilMinutes(late)
}

func ceilMinutes(d time.Duration) int {
	if d <= 0 {
		return 0
	}
	return int((d + time.Minute - 1) / time.Minute)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// current is the first call in progress, or nil.
func (s *State) current() *appointment {
	for _, a := range s.tk.appts {
		if a.inProgress() {
			return a
		}
	}
	return nil
}

// canExtend reports whether a's end may move by Extension without delaying
// any appointment still to come: the next slot is free.
func (s *State) canExtend(a *appointment) bool {
	newEnd := a.end().Add(Extension)
	for _, b := range s.tk.appts {
		if b != a && b.pending() && b.StartsAt.Add(s.tk.late).Before(newEnd) && !b.StartsAt.Before(a.StartsAt) {
			return false
		}
	}
	return true
}

// timekeepers are the hosts in the room who keep the evening's time.
func (s *State) timekeepers() []*participant {
	return s.peopleOf(func(p *participant) bool { return p.presence == PresenceRoom && p.role.Can(ActKeepTime) })
}

// extend gives the call in progress Extension more, if nobody after it waits for it.
func (s *State) extend(fx *effects, now time.Time, host *participant) error {
	a, err := s.timekeeping(host)
	if err != nil {
		return err
	}
	if !s.canExtend(a) {
		return refuse("next_appointment", "the next appointment would be delayed: extending is possible only when the next slot is free")
	}
	a.extended += Extension
	a.warned = false
	s.audit(fx, now, host, "extended appointment", nil, "+5 min")
	return nil
}

// endAppointment ends the call in progress early; the next family comes in
// when due, at once if it is already past its time.
func (s *State) endAppointment(fx *effects, now time.Time, host *participant) error {
	a, err := s.timekeeping(host)
	if err != nil {
		return err
	}
	how := HowHeld
	if now.Before(a.end()) {
		how = HowEndedEarly
	}
	s.audit(fx, now, host, "ended appointment", nil, how)
	s.finish(fx, now, a, how)
	return nil
}

// runningLate moves the expected start of every appointment to come.
func (s *State) runningLate(fx *effects, now time.Time, host *participant, minutes int) error {
	if s.tk == nil {
		return refuse("no_timetable", "this meeting has no timetable")
	}
	if err := s.may(host, ActKeepTime, "only the teacher keeps the timetable"); err != nil {
		return err
	}
	s.tk.late = min(max(0, s.tk.late+time.Duration(minutes)*time.Minute), maxLate)
	s.audit(fx, now, host, "running late", nil, fmt.Sprintf("%d min", ceilMinutes(s.tk.late)))
	return nil
}

// timekeeping checks that host keeps time and finds the call in progress.
func (s *State) timekeeping(host *participant) (*appointment, error) {
	if s.tk == nil {
		return nil, refuse("no_timetable", "this meeting has no timetable")
	}
	if err := s.may(host, ActKeepTime, "only the teacher keeps the timetable"); err != nil {
		return nil, err
	}
	a := s.current()
	if a == nil {
		return nil, refuse("no_appointment", "no appointment is in progress")
	}
	return a, nil
}

// tellTime sends each family waiting or in a call its appointment, each
// timekeeper the timetable, and records how late the evening runs: each
// only when it changed.
func (s *State) tellTime(fx *effects, now time.Time) {
	for id := range s.tk.told {
		if s.people[id] == nil {
			delete(s.tk.told, id)
		}
	}
	for _, id := range s.order {
		p := s.people[id]
		if p.presence == PresenceAway {
			continue
		}
		var msg ServerMessage
		switch {
		case p.presence == PresenceRoom && p.role.Can(ActKeepTime):
			msg = s.timetableView(now)
		default:
			if a := s.appointmentOf(p.Identity); a != nil {
				msg = s.appointmentView(a, now, "")
			}
		}
		if msg != nil {
			s.tell(fx, p, msg, now)
		}
	}
	if late := s.minutesLate(now); late != s.tk.lateSaid {
		s.tk.lateSaid = late
		fx.add(RunningLate{Minutes: late, At: now})
	}
}

// tell sends p msg unless p was last sent the same. The server's time goes
// with it (so a client counts down by it, whatever its own clock says) but
// does not count as a change.
func (s *State) tell(fx *effects, p *participant, msg ServerMessage, now time.Time) {
	key, _ := json.Marshal(msg)
	if s.tk.told[p.ID] == string(key) {
		return
	}
	s.tk.told[p.ID] = string(key)
	switch m := msg.(type) {
	case *AppointmentStatus:
		m.Now = stamp(now)
	case *TimetableStatus:
		m.Now = stamp(now)
	}
	fx.add(Send{To: p.ID, Msg: msg})
}

// appointmentView is what a family sees of its appointment: its own, never
// anything of another family's.
func (s *State) appointmentView(a *appointment, now time.Time, status string) *AppointmentStatus {
	v := &AppointmentStatus{Status: status, Teacher: s.tk.teacher, StartsAt: stamp(a.StartsAt), ExpectedAt: stamp(a.StartsAt), EndsAt: stamp(a.EndsAt)}
	switch {
	case status != "":
	case a.inProgress():
		v.Status, v.ExpectedAt, v.EndsAt = ApptRunning, stamp(a.started), stamp(a.end())
	default:
		at := s.expectedStarts(now)[a]
		v.Status, v.ExpectedAt, v.EndsAt = ApptWaiting, stamp(at), stamp(at.Add(a.length()))
	}
	return v
}

// timetableView is what the teacher sees: the call in progress, who is
// waiting, what comes next, the no-shows, how late they run.
func (s *State) timetableView(now time.Time) *TimetableStatus {
	v := &TimetableStatus{Next: []TimetableEntry{}, NoShows: []TimetableEntry{}, MinutesLate: s.minutesLate(now)}
	expected := s.expectedStarts(now)
	for _, a := range s.tk.appts {
		e := TimetableEntry{
			Booking: a.Booking, Family: a.Family, Students: a.Students,
			StartsAt: stamp(a.StartsAt), EndsAt: stamp(a.EndsAt), Waiting: len(s.familyWaiting(a)) > 0,
		}
		switch {
		case a.inProgress() && v.Current == nil:
			e.ExpectedAt, e.StartedAt, e.EndsAt = stamp(a.started), stamp(a.started), stamp(a.end())
			v.Current, v.CanExtend = &e, s.canExtend(a)
		case a.pending():
			e.ExpectedAt = stamp(expected[a])
			v.Next = append(v.Next, e)
		case a.started.IsZero():
			v.NoShows = append(v.NoShows, e)
		}
	}
	return v
}

func stamp(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}
