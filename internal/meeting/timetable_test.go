package meeting

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// The evening of the timetable tests: Ms Smith sees the Joneses at 18:00,
// the Patels at 18:10 and the Browns at 18:20, ten minutes each, with two
// minutes' grace.
var evening = time.Date(2026, 11, 23, 18, 0, 0, 0, time.UTC)

func at(min, sec int) time.Time {
	return evening.Add(time.Duration(min)*time.Minute + time.Duration(sec)*time.Second)
}

var (
	jonesPhone  = Arrival{ID: "jones-phone", Name: "Mr Jones", Role: RoleParticipant, InviteeID: "inv-1", InviteeName: "Mr Jones", Identity: "inv-1"}
	jonesSecond = Arrival{ID: "jones-2", Name: "Mrs Jones", Role: RoleParticipant, InviteeID: "inv-1b", InviteeName: "Mrs Jones", Identity: "inv-1b"}
	brown       = Arrival{ID: "brown", Name: "Mr Brown", Role: RoleParticipant, InviteeID: "inv-3", InviteeName: "Mr Brown", Identity: "inv-3"}
)

func slot(booking string, startMin int, family, students string, invitees ...string) Appointment {
	return Appointment{Booking: booking, StartsAt: at(startMin, 0), EndsAt: at(startMin+10, 0), Invitees: invitees, Family: family, Students: students}
}

func eveningTimetable() *Timetable {
	return &Timetable{Teacher: "Ms Smith", Grace: 2 * time.Minute, Appointments: []Appointment{
		slot("b-jones", 0, "Mr Jones, Mrs Jones", "Amy Jones", "inv-1", "inv-1b"),
		slot("b-patel", 10, "Mrs Patel", "Ravi Patel", "inv-2"),
		slot("b-brown", 20, "Mr Brown", "Tom Brown", "inv-3"),
	}}
}

// newEvening is an evening room whose lobby policy would let invitees in
// by themselves: the timetable overrides it.
func newEvening(tt *Timetable) *State {
	return newStateWith(Options{AutoAdmitInvitees: true, Grace: time.Minute, Policy: Policy{Unmute: "self", ScreenShare: "hosts", Chat: true}, Timetable: tt})
}

func joinAt(t *testing.T, s *State, now time.Time, a Arrival) []Effect {
	t.Helper()
	fx, err := s.Join(now, a)
	if err != nil {
		t.Fatalf("join %s: %v", a.ID, err)
	}
	return fx
}

func handleAt(t *testing.T, s *State, now time.Time, from string, m ClientMessage) []Effect {
	t.Helper()
	fx, err := s.Handle(now, from, m)
	if err != nil {
		t.Fatalf("%s %T: %v", from, m, err)
	}
	return fx
}

// lastSent is the last message of type T sent to one participant, or nil.
func lastSent[T ServerMessage](fx []Effect, to string) T {
	var v T
	for _, m := range sent(fx, to) {
		if x, ok := m.(T); ok {
			v = x
		}
	}
	return v
}

func closedWith(fx []Effect, who string) string {
	for _, e := range fx {
		if c, ok := e.(Close); ok && c.Who == who {
			return c.Reason
		}
	}
	return ""
}

func TestFamilyWaitsForItsTimeAndIsLetInAtTheStart(t *testing.T) {
	s := newEvening(eveningTimetable())
	joinAt(t, s, at(-10, 0), host)
	fx := joinAt(t, s, at(-4, 0), jones)
	if got := s.Presence("jones"); got != PresenceLobby {
		t.Fatalf("a family 4 minutes early is in the %s, want the lobby whatever the lobby policy", got)
	}
	a := lastSent[*AppointmentStatus](fx, "jones")
	want := AppointmentStatus{Status: ApptWaiting, Teacher: "Ms Smith", StartsAt: "2026-11-23T18:00:00Z", ExpectedAt: "2026-11-23T18:00:00Z", EndsAt: "2026-11-23T18:10:00Z", Now: "2026-11-23T17:56:00Z"}
	if a == nil || *a != want {
		t.Fatalf("the family was told %+v, want %+v", a, want)
	}
	if fx := s.Tick(at(-1, 0)); len(sent(fx, "jones")) > 0 || s.Presence("jones") != PresenceLobby {
		t.Fatalf("a minute early: %v, %+v", s.Presence("jones"), sent(fx, "jones"))
	}
	fx = s.Tick(at(0, 0))
	if s.Presence("jones") != PresenceRoom {
		t.Fatal("not admitted at the start of the appointment")
	}
	if !has(fx, AppointmentStarted{BookingID: "b-jones", At: at(0, 0)}) {
		t.Error("the start is not recorded")
	}
	if a := lastSent[*AppointmentStatus](fx, "jones"); a == nil || a.Status != ApptRunning || a.EndsAt != "2026-11-23T18:10:00Z" {
		t.Errorf("in the call the family was told %+v", a)
	}
	tt := lastSent[*TimetableStatus](fx, "host")
	if tt == nil || tt.Current == nil || tt.Current.Booking != "b-jones" || tt.Current.Students != "Amy Jones" || tt.Current.EndsAt != "2026-11-23T18:10:00Z" {
		t.Fatalf("the teacher's timetable: %+v", tt)
	}
	if len(tt.Next) != 2 || tt.Next[0].Booking != "b-patel" || tt.CanExtend {
		t.Errorf("next: %+v, can extend %v", tt.Next, tt.CanExtend)
	}
	if fx := s.Tick(at(0, 1)); len(sent(fx, "jones"))+len(sent(fx, "host")) > 0 {
		t.Errorf("a tick that changed nothing sent %d messages", len(fx))
	}
}

// TestFamiliesInTheLobbySeeNothingOfEachOther: whatever two waiting
// families are sent, neither sees the other's names, children or booking;
// the teacher sees both waiting.
func TestFamiliesInTheLobbySeeNothingOfEachOther(t *testing.T) {
	s := newEvening(eveningTimetable())
	var all []Effect
	all = append(all, joinAt(t, s, at(-10, 0), host)...)
	all = append(all, joinAt(t, s, at(-5, 0), jones)...)
	all = append(all, joinAt(t, s, at(-4, 0), patel)...)
	all = append(all, handleAt(t, s, at(-3, 0), "host", &RunningLateBy{Minutes: 5})...)
	for _, now := range []time.Time{at(-2, 0), at(5, 0), at(9, 0)} {
		all = append(all, s.Tick(now)...)
	}
	for who, others := range map[string][]string{
		"jones": {"Patel", "Priya", "Ravi", "b-patel", "patel"},
		"patel": {"Jones", "Amy", "b-jones", `"jones"`},
	} {
		for _, m := range sent(all, who) {
			b, _ := json.Marshal(m)
			for _, o := range others {
				if strings.Contains(string(b), o) && !(who == "jones" && o == "Jones") {
					t.Errorf("%s was sent %s, which mentions %q", who, b, o)
				}
			}
		}
	}
	tt := lastSent[*TimetableStatus](all, "host")
	if tt == nil || tt.Current == nil || tt.Current.Booking != "b-jones" || len(tt.Next) < 1 || !tt.Next[0].Waiting {
		t.Fatalf("the teacher does not see who waits: %+v", tt)
	}
}

// TestTimedCallWrapsUpEndsAndLetsTheNextIn: the whole call of a family on
// two devices and with its second guardian: a minute's notice to both
// sides, the overrun shown to the next family as lateness, every device
// moved out at the end plus grace, and the next family let in with its
// full ten minutes.
func TestTimedCallWrapsUpEndsAndLetsTheNextIn(t *testing.T) {
	s := newEvening(eveningTimetable())
	joinAt(t, s, at(-10, 0), host)
	joinAt(t, s, at(-2, 0), jones)
	joinAt(t, s, at(-1, 0), jonesPhone)
	s.Tick(at(0, 0))
	fx := joinAt(t, s, at(3, 0), jonesSecond)
	if s.Presence("jones-2") != PresenceRoom || s.Presence("jones-phone") != PresenceRoom {
		t.Fatalf("the second guardian is in the %s, the phone in the %s: want both in the call", s.Presence("jones-2"), s.Presence("jones-phone"))
	}
	if a := lastSent[*AppointmentStatus](fx, "jones-2"); a == nil || a.Status != ApptRunning {
		t.Errorf("the second guardian was told %+v", a)
	}
	joinAt(t, s, at(5, 0), patel)
	if fx := s.Tick(at(8, 59)); lastSent[*WrapUp](fx, "jones") != nil {
		t.Fatal("wrap-up notice early")
	}
	fx = s.Tick(at(9, 0))
	for _, who := range []string{"jones", "jones-phone", "jones-2", "host"} {
		if w := lastSent[*WrapUp](fx, who); w == nil || w.EndsAt != "2026-11-23T18:10:00Z" {
			t.Errorf("%s got no wrap-up notice: %+v", who, w)
		}
	}
	if w := lastSent[*WrapUp](fx, "patel"); w != nil {
		t.Error("the waiting family was told to wrap up")
	}
	if fx := s.Tick(at(9, 30)); lastSent[*WrapUp](fx, "jones") != nil {
		t.Error("the wrap-up notice came twice")
	}

	fx = s.Tick(at(10, 1)) // the Joneses overrun
	if a := lastSent[*AppointmentStatus](fx, "patel"); a == nil || a.ExpectedAt != "2026-11-23T18:11:00Z" {
		t.Errorf("the next family was not told the overrun: %+v", a)
	}
	if !has(fx, RunningLate{Minutes: 1, At: at(10, 1)}) {
		t.Error("the lateness is not recorded")
	}
	if s.Presence("patel") != PresenceLobby {
		t.Fatal("the next family was let in while the Joneses were still in")
	}
	fx = s.Tick(at(11, 59))
	if s.Presence("jones") != PresenceRoom {
		t.Fatal("moved out before the grace was over")
	}
	fx = s.Tick(at(12, 0))
	for _, who := range []string{"jones", "jones-phone", "jones-2"} {
		if r := closedWith(fx, who); r != "appointment_over" {
			t.Errorf("%s: closed %q, want appointment_over", who, r)
		}
		if a := lastSent[*AppointmentStatus](fx, who); a == nil || a.Status != ApptOver {
			t.Errorf("%s was told %+v, want over", who, a)
		}
		if s.Presence(who) != "" {
			t.Errorf("%s is still in the %s", who, s.Presence(who))
		}
	}
	if !has(fx, AppointmentEnded{BookingID: "b-jones", At: at(12, 0), How: HowHeld}) {
		t.Error("the end is not recorded as held")
	}
	if s.Presence("patel") != PresenceRoom || !has(fx, AppointmentStarted{BookingID: "b-patel", At: at(12, 0)}) {
		t.Fatal("the next family was not let in")
	}
	if a := lastSent[*AppointmentStatus](fx, "patel"); a == nil || a.EndsAt != "2026-11-23T18:22:00Z" {
		t.Errorf("the Patels, kept waiting two minutes, get %+v: want their full ten minutes", a)
	}
	if tt := lastSent[*TimetableStatus](fx, "host"); tt == nil || tt.Current == nil || tt.Current.Booking != "b-patel" || tt.MinutesLate != 2 {
		t.Errorf("the teacher's timetable: %+v", tt)
	}
}

func TestExtendOnlyWhenTheNextSlotIsFree(t *testing.T) {
	s := newEvening(eveningTimetable())
	joinAt(t, s, at(-10, 0), host)
	joinAt(t, s, at(-1, 0), jones)
	s.Tick(at(0, 0))
	_, err := s.Handle(at(8, 0), "host", &Extend{})
	var r *Refusal
	if !errors.As(err, &r) || r.Code != "next_appointment" {
		t.Fatalf("extend with the Patels at 18:10: %v", err)
	}

	tt := eveningTimetable()
	tt.Appointments[1] = slot("b-patel", 20, "Mrs Patel", "Ravi Patel", "inv-2")
	tt.Appointments = tt.Appointments[:2]
	s = newEvening(tt)
	joinAt(t, s, at(-10, 0), host)
	joinAt(t, s, at(-1, 0), jones)
	fx := s.Tick(at(0, 0))
	if v := lastSent[*TimetableStatus](fx, "host"); v == nil || !v.CanExtend {
		t.Fatalf("the next slot is free, and the teacher is not offered to extend: %+v", v)
	}
	fx = handleAt(t, s, at(8, 0), "host", &Extend{})
	if a := lastSent[*AppointmentStatus](fx, "jones"); a == nil || a.EndsAt != "2026-11-23T18:15:00Z" {
		t.Errorf("after extend the family was told %+v", a)
	}
	handleAt(t, s, at(9, 0), "host", &Extend{}) // to 18:20, when the Patels start
	fx, err = s.Handle(at(9, 1), "host", &Extend{})
	if !errors.As(err, &r) || r.Code != "next_appointment" {
		t.Fatalf("a third extension would delay the Patels: %v", err)
	}
	if fx := s.Tick(at(19, 0)); lastSent[*WrapUp](fx, "jones") == nil {
		t.Error("no wrap-up before the new end")
	}
	s.Tick(at(21, 59))
	if s.Presence("jones") != PresenceRoom {
		t.Fatal("moved out at the old end")
	}
	fx = s.Tick(at(22, 0))
	if closedWith(fx, "jones") != "appointment_over" {
		t.Fatal("not moved out at the extended end plus grace")
	}
}

func TestEndAppointmentEarly(t *testing.T) {
	s := newEvening(eveningTimetable())
	joinAt(t, s, at(-10, 0), host)
	joinAt(t, s, at(-1, 0), jones)
	joinAt(t, s, at(-1, 0), patel)
	s.Tick(at(0, 0))
	fx := handleAt(t, s, at(6, 0), "host", &EndAppointment{})
	if closedWith(fx, "jones") != "appointment_over" || !has(fx, AppointmentEnded{BookingID: "b-jones", At: at(6, 0), How: HowEndedEarly}) {
		t.Fatalf("ending early: %+v", fx)
	}
	if s.Presence("patel") != PresenceLobby {
		t.Fatal("the next family was let in before its time")
	}
	if s.Tick(at(10, 0)); s.Presence("patel") != PresenceRoom {
		t.Fatal("the next family was not let in at its time")
	}

	// The Patels came late, at 18:12: their call still ends at 18:20. The
	// teacher ends it in its grace; the Browns, due, come in at once.
	s = newEvening(eveningTimetable())
	joinAt(t, s, at(-10, 0), host)
	joinAt(t, s, at(12, 0), patel)
	joinAt(t, s, at(15, 0), brown)
	if fx := s.Tick(at(19, 0)); lastSent[*WrapUp](fx, "patel") == nil {
		t.Fatal("a family that came late keeps the time it was given")
	}
	fx = handleAt(t, s, at(20, 30), "host", &EndAppointment{})
	if !has(fx, AppointmentEnded{BookingID: "b-patel", At: at(20, 30), How: HowHeld}) {
		t.Error("an appointment ended after its time is held, not ended early")
	}
	if s.Presence("brown") != PresenceRoom {
		t.Fatal("the next family, past its start, was not let in at once")
	}
}

func TestRunningLateTellsEveryWaitingFamily(t *testing.T) {
	s := newEvening(eveningTimetable())
	joinAt(t, s, at(-10, 0), host)
	joinAt(t, s, at(-6, 0), jones)
	joinAt(t, s, at(-5, 0), patel)
	fx := handleAt(t, s, at(-4, 0), "host", &RunningLateBy{Minutes: 10})
	for who, want := range map[string]string{"jones": "2026-11-23T18:10:00Z", "patel": "2026-11-23T18:20:00Z"} {
		if a := lastSent[*AppointmentStatus](fx, who); a == nil || a.ExpectedAt != want || a.StartsAt == want {
			t.Errorf("%s was told %+v, want expected %s", who, a, want)
		}
	}
	if !has(fx, RunningLate{Minutes: 10, At: at(-4, 0)}) {
		t.Error("the lateness is not recorded")
	}
	if v := lastSent[*TimetableStatus](fx, "host"); v == nil || v.MinutesLate != 10 {
		t.Errorf("the teacher's timetable: %+v", v)
	}
	if s.Tick(at(0, 0)); s.Presence("jones") != PresenceLobby {
		t.Fatal("admitted at the planned time though the teacher runs late")
	}
	fx = s.Tick(at(10, 0))
	if a := lastSent[*AppointmentStatus](fx, "jones"); s.Presence("jones") != PresenceRoom || a == nil || a.EndsAt != "2026-11-23T18:20:00Z" {
		t.Fatalf("at the expected start: %s, %+v", s.Presence("jones"), a)
	}
	fx = handleAt(t, s, at(11, 0), "host", &RunningLateBy{Minutes: -5})
	if a := lastSent[*AppointmentStatus](fx, "patel"); a != nil && a.ExpectedAt != "2026-11-23T18:20:00Z" {
		t.Errorf("the teacher caught up 5 minutes, but the Patels wait behind the Joneses' call all the same: %+v", a)
	}
}

// TestTeacherLateFamilyKeepsItsTime: the family waited from 17:58, the
// teacher came at 18:03: the call runs to 18:13, and the next family is
// told.
func TestTeacherLateFamilyKeepsItsTime(t *testing.T) {
	s := newEvening(eveningTimetable())
	joinAt(t, s, at(-2, 0), jones)
	joinAt(t, s, at(1, 0), patel)
	fx := joinAt(t, s, at(3, 0), host)
	if s.Presence("jones") != PresenceRoom {
		t.Fatal("the waiting family was not let in when the teacher came")
	}
	if a := lastSent[*AppointmentStatus](fx, "jones"); a == nil || a.EndsAt != "2026-11-23T18:13:00Z" {
		t.Errorf("the family was told %+v", a)
	}
	if a := lastSent[*AppointmentStatus](fx, "patel"); a == nil || a.ExpectedAt != "2026-11-23T18:13:00Z" {
		t.Errorf("the next family was told %+v", a)
	}
}

func TestNoShow(t *testing.T) {
	s := newEvening(eveningTimetable())
	joinAt(t, s, at(-10, 0), host)
	joinAt(t, s, at(5, 0), patel)
	if fx := s.Tick(at(9, 59)); has(fx, AppointmentEnded{BookingID: "b-jones", At: at(10, 0), How: HowNoShow}) {
		t.Fatal("a no-show before the end of the appointment")
	}
	fx := s.Tick(at(10, 0))
	if !has(fx, AppointmentEnded{BookingID: "b-jones", At: at(10, 0), How: HowNoShow}) {
		t.Fatal("the no-show is not recorded")
	}
	if s.Presence("patel") != PresenceRoom {
		t.Error("the next family was not let in")
	}
	v := lastSent[*TimetableStatus](fx, "host")
	if v == nil || len(v.NoShows) != 1 || v.NoShows[0].Booking != "b-jones" {
		t.Errorf("the teacher's no-shows: %+v", v)
	}
	// The Joneses come after all: they wait for the teacher to let them in.
	if joinAt(t, s, at(14, 0), jones); s.Presence("jones") != PresenceLobby {
		t.Error("a family after its appointment got in by itself")
	}
}

func TestTimekeepingIsTheTeachers(t *testing.T) {
	s := newEvening(eveningTimetable())
	joinAt(t, s, at(-10, 0), host)
	joinAt(t, s, at(-1, 0), jones)
	s.Tick(at(0, 0))
	for _, m := range []ClientMessage{&Extend{}, &EndAppointment{}, &RunningLateBy{Minutes: 5}} {
		_, err := s.Handle(at(1, 0), "jones", m)
		var r *Refusal
		if !errors.As(err, &r) || r.Code != "not_allowed" {
			t.Errorf("a parent's %T: %v", m, err)
		}
	}
	if got := lastSent[*TimetableStatus](s.Tick(at(1, 0)), "jones"); got != nil {
		t.Error("a parent was sent the timetable")
	}
	// An invitee with no appointment follows the lobby policy as ever.
	if joinAt(t, s, at(2, 0), outsid); s.Presence("guest") != PresenceLobby {
		t.Error("a guest got in by itself")
	}
	other := Arrival{ID: "other", Name: "Mr Other", Role: RoleParticipant, InviteeID: "inv-9", Identity: "inv-9"}
	if joinAt(t, s, at(2, 0), other); s.Presence("other") != PresenceRoom {
		t.Error("an invitee without an appointment was held back")
	}

	plain := newTestState(false)
	mustJoin(t, plain, host)
	_, err := plain.Handle(t0, "host", &Extend{})
	var r *Refusal
	if !errors.As(err, &r) || r.Code != "no_timetable" {
		t.Errorf("extend in an ordinary meeting: %v", err)
	}
}

// TestNewBookingsReachTheLobby: a booking made during the evening makes a
// family already waiting an appointment's family.
func TestNewBookingsReachTheLobby(t *testing.T) {
	tt := eveningTimetable()
	tt.Appointments = tt.Appointments[:2]
	s := newEvening(tt)
	s.opts.AutoAdmitInvitees = false
	joinAt(t, s, at(-10, 0), host)
	if fx := joinAt(t, s, at(15, 0), brown); lastSent[*AppointmentStatus](fx, "brown") != nil {
		t.Fatal("told of an appointment that does not exist")
	}
	fx := s.SetTimetable(at(16, 0), eveningTimetable())
	if a := lastSent[*AppointmentStatus](fx, "brown"); a == nil || a.StartsAt != "2026-11-23T18:20:00Z" {
		t.Fatalf("the new booking's family was told %+v", a)
	}
	if s.Tick(at(20, 0)); s.Presence("brown") != PresenceRoom {
		t.Error("not let in at the new appointment's start")
	}
}

// TestResumedFamilyIsToldAgain: a reloaded page knows nothing; it is told
// its appointment again.
func TestResumedFamilyIsToldAgain(t *testing.T) {
	s := newEvening(eveningTimetable())
	joinAt(t, s, at(-10, 0), host)
	fx := joinAt(t, s, at(-5, 0), jones)
	secret := first[*Welcome](t, sent(fx, "jones")).Resume
	s.Disconnected(at(-4, 0), "jones")
	_, fx, err := s.Resume(at(-4, 30), secret, false)
	if err != nil {
		t.Fatal(err)
	}
	if a := lastSent[*AppointmentStatus](fx, "jones"); a == nil || a.Status != ApptWaiting {
		t.Errorf("resumed, the family was told %+v", a)
	}
}

// TestFamilyThatLeftEndsItsAppointmentAtItsTime: a family that leaves
// early may come back (a reloaded page) until the end; then the
// appointment ends when they were last in it, and the next family comes in.
func TestFamilyThatLeftEndsItsAppointmentAtItsTime(t *testing.T) {
	s := newEvening(eveningTimetable())
	joinAt(t, s, at(-10, 0), host)
	joinAt(t, s, at(-1, 0), jones)
	s.Tick(at(0, 0))
	joinAt(t, s, at(5, 0), patel)
	handleAt(t, s, at(6, 0), "jones", &Leave{})
	again := jones
	again.ID = "jones-again"
	if joinAt(t, s, at(7, 0), again); s.Presence("jones-again") != PresenceRoom {
		t.Fatal("back within its appointment, the family waits")
	}
	handleAt(t, s, at(8, 0), "jones-again", &Leave{})
	if fx := s.Tick(at(9, 59)); s.Presence("patel") != PresenceLobby || has(fx, AppointmentEnded{BookingID: "b-jones", At: at(8, 0), How: HowHeld}) {
		t.Fatal("the appointment ended before its time")
	}
	fx := s.Tick(at(10, 0))
	if !has(fx, AppointmentEnded{BookingID: "b-jones", At: at(8, 0), How: HowHeld}) {
		t.Error("the end is not recorded at the time the family left")
	}
	if s.Presence("patel") != PresenceRoom {
		t.Error("the next family was not let in")
	}
}

// TestCancelledCallEndsWhenItsFamilyIsOut: the teacher arrives three
// minutes late, so the Joneses' call runs to 18:13 and the Patels, due at
// 18:10, wait. At 18:11 the Joneses' appointment is cancelled: its link
// takes them out, and the reloaded timetable no longer holds it. It ends
// then (early), and the Patels come in at once rather than at 18:13. A
// cancelled call whose family is still in (their links were not
// withdrawn) runs on to its end.
func TestCancelledCallEndsWhenItsFamilyIsOut(t *testing.T) {
	s := newEvening(eveningTimetable())
	joinAt(t, s, at(-1, 0), jones)
	joinAt(t, s, at(3, 0), host)
	if s.Presence("jones") != PresenceRoom {
		t.Fatal("the Joneses were not let in when the teacher came")
	}
	joinAt(t, s, at(9, 0), patel)
	if s.Tick(at(10, 30)); s.Presence("patel") != PresenceLobby {
		t.Fatal("the Patels were let in during the Joneses' call")
	}
	s.WithdrawLink(at(11, 0), "inv-1")
	cancelled := eveningTimetable()
	cancelled.Appointments = cancelled.Appointments[1:]
	fx := s.SetTimetable(at(11, 5), cancelled)
	if !has(fx, AppointmentEnded{BookingID: "b-jones", At: at(11, 0), How: HowEndedEarly}) {
		t.Errorf("the cancelled call's end is not recorded when its family was taken out: %+v", fx)
	}
	if s.Presence("patel") != PresenceRoom {
		t.Error("the Patels wait for a cancelled call")
	}

	// Cancelled with its family still in the call: it runs to its end.
	s = newEvening(eveningTimetable())
	joinAt(t, s, at(-10, 0), host)
	joinAt(t, s, at(-1, 0), jones)
	s.Tick(at(0, 0))
	joinAt(t, s, at(5, 0), patel)
	if fx := s.SetTimetable(at(6, 0), cancelled); s.Presence("jones") != PresenceRoom || s.Presence("patel") != PresenceLobby || len(ended(fx)) > 0 {
		t.Fatalf("a cancelled call with its family in it was cut: %+v", fx)
	}
	fx = s.Tick(at(12, 0)) // its end plus grace
	if closedWith(fx, "jones") != "appointment_over" || !has(fx, AppointmentEnded{BookingID: "b-jones", At: at(12, 0), How: HowHeld}) {
		t.Errorf("at its end plus grace: %+v", fx)
	}
}

func ended(fx []Effect) []AppointmentEnded {
	var out []AppointmentEnded
	for _, e := range fx {
		if a, ok := e.(AppointmentEnded); ok {
			out = append(out, a)
		}
	}
	return out
}

// TestNextFamilyWaitsWhileAnotherIsIn: the teacher ends the Joneses' call
// early and lets them back in for a last word. The Patels' time comes
// meanwhile: they wait (another family is in the call), and come in as
// soon as the Joneses have left.
func TestNextFamilyWaitsWhileAnotherIsIn(t *testing.T) {
	s := newEvening(eveningTimetable())
	joinAt(t, s, at(-10, 0), host)
	joinAt(t, s, at(-1, 0), jones)
	s.Tick(at(0, 0))
	handleAt(t, s, at(5, 0), "host", &EndAppointment{})
	again := jones
	again.ID = "jones-again"
	if joinAt(t, s, at(6, 0), again); s.Presence("jones-again") != PresenceLobby {
		t.Fatal("after its appointment the family came in by itself")
	}
	handleAt(t, s, at(6, 10), "host", &Admit{Participant: "jones-again"})
	joinAt(t, s, at(9, 0), patel)
	if s.Tick(at(10, 0)); s.Presence("patel") != PresenceLobby {
		t.Fatal("the Patels were let in while the teacher had the Joneses in the call")
	}
	handleAt(t, s, at(11, 0), "jones-again", &Leave{})
	if s.Presence("patel") != PresenceRoom {
		t.Error("the Patels were not let in once the Joneses had left")
	}
}
