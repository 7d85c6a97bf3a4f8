package live

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/meeting"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

// The evening room tests run the real hub, its ticker and its reloads, on
// synctest's fake clock: minutes pass at once and exactly.

// fakeTimetables is the database's timetable of one room; a test changes it
// as bookings come and go.
type fakeTimetables struct {
	mu sync.Mutex
	tt store.RoomTimetable
}

func (f *fakeTimetables) RoomTimetable(context.Context, uuid.UUID) (store.RoomTimetable, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	tt := f.tt
	tt.Appointments = append([]store.RoomAppointment(nil), f.tt.Appointments...)
	return tt, true, nil
}

func (f *fakeTimetables) set(apps ...store.RoomAppointment) {
	f.mu.Lock()
	f.tt.Appointments = apps
	f.mu.Unlock()
}

// keptJournal is the record the hub keeps, as the driver hands it over.
type keptJournal struct {
	mu sync.Mutex
	fx []meeting.Effect
}

func (j *keptJournal) Keep(_ uuid.UUID, e meeting.Effect) {
	j.mu.Lock()
	j.fx = append(j.fx, e)
	j.mu.Unlock()
}

func (j *keptJournal) has(want meeting.Effect) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	for _, e := range j.fx {
		if e == want {
			return true
		}
	}
	return false
}

// eveningRig is an evening room: Ms Smith and her families, whose links
// are their identities.
type eveningRig struct {
	hub     *Hub
	mid     uuid.UUID
	tts     *fakeTimetables
	journal *keptJournal
	start   time.Time // of the first appointment
}

// newEveningRig starts a hub whose clock reads dates from the test clock
// (given from outside the bubble) and advances with the bubble's fake time.
func newEveningRig(origin time.Time) *eveningRig {
	epoch := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC) // where every synctest bubble's clock starts
	origin = origin.Truncate(time.Second)                // the ticker's seconds fall on whole seconds
	now := func() time.Time { return origin.Add(time.Since(epoch)) }
	r := &eveningRig{tts: &fakeTimetables{}, journal: &keptJournal{}, start: origin.Truncate(time.Minute).Add(10 * time.Minute)}
	r.tts.tt = store.RoomTimetable{TeacherName: "Ms Smith", Grace: 2 * time.Minute}
	r.mid = uuid.New()
	m := store.MeetingWithHost{Meeting: store.Meeting{ID: r.mid, Title: "Parents' evening", LobbyPolicy: store.LobbyInviteesAdmitted}, HostName: "Ms Smith"}
	r.hub = NewHub(HubConfig{
		Meetings: oneMeeting{m}, NewMedia: func(string) MediaRoom { return &fakeMedia{peers: map[string]*fakePeer{}} },
		Journal: r.journal, Timetables: r.tts, Grace: time.Minute, Log: discardLog(), Now: now,
	})
	return r
}

// booking is a ten-minute appointment startMin minutes after the first.
func (r *eveningRig) booking(startMin int, family meeting.Arrival) store.RoomAppointment {
	s := r.start.Add(time.Duration(startMin) * time.Minute)
	return store.RoomAppointment{
		BookingID: uuid.New(), StartsAt: s, EndsAt: s.Add(10 * time.Minute),
		InviteeIDs: []uuid.UUID{uuid.MustParse(family.InviteeID)}, Family: family.InviteeName, Students: "a child",
	}
}

// sleepUntil lets the fake clock run to an offset from the first
// appointment's start, and everything due by then happen.
func (r *eveningRig) sleepUntil(offset time.Duration) {
	time.Sleep(r.start.Add(offset).Sub(r.hub.cfg.Now()))
	synctest.Wait()
}

func (r *eveningRig) join(t *testing.T, a meeting.Arrival) (*Session, *fakeConn) {
	t.Helper()
	c := &fakeConn{}
	s, err := r.hub.Join(context.Background(), r.mid, a, c)
	if err != nil {
		t.Fatalf("join %s: %v", a.ID, err)
	}
	return s, c
}

func family(id, name string) meeting.Arrival {
	inv := uuid.NewString()
	return meeting.Arrival{ID: id, Name: name, Role: meeting.RoleParticipant, InviteeID: inv, InviteeName: name, Identity: meeting.InviteeIdentity(inv)}
}

func (c *fakeConn) closedWith() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func admitted(c *fakeConn) bool { _, ok := lastOf[*meeting.Admitted](c); return ok }

// TestEveningRoomLetsInWarnsAndMovesOut: a family early waits with its
// appointment shown, is let in at its start by the hub's own ticker, gets
// the wrap-up notice a minute before the end, and is moved out at the end
// plus grace; the next family, waiting, comes in then.
func TestEveningRoomLetsInWarnsAndMovesOut(t *testing.T) {
	origin := testclock.Now()
	synctest.Test(t, func(t *testing.T) {
		r := newEveningRig(origin)
		defer r.hub.Close()
		jonesF, patelF := family("jones", "Mr Jones"), family("patel", "Mrs Patel")
		jb, pb := r.booking(0, jonesF), r.booking(10, patelF)
		r.tts.set(jb, pb)
		_, hostConn := r.join(t, host)
		r.sleepUntil(-4 * time.Minute)
		_, jonesConn := r.join(t, jonesF)
		a, ok := lastOf[*meeting.AppointmentStatus](jonesConn)
		if !ok || a.Status != meeting.ApptWaiting || a.Teacher != "Ms Smith" || a.StartsAt != jb.StartsAt.UTC().Format(time.RFC3339) {
			t.Fatalf("the family waiting was told %+v", a)
		}
		r.sleepUntil(-time.Second)
		if admitted(jonesConn) {
			t.Fatal("let in before the start, though the lobby policy lets invitees in")
		}
		r.sleepUntil(time.Second)
		if !admitted(jonesConn) {
			t.Fatal("not let in at the start")
		}
		if !r.journal.has(meeting.AppointmentStarted{BookingID: jb.BookingID.String(), At: jb.StartsAt}) {
			t.Error("the start is not in the record")
		}
		if tt, ok := lastOf[*meeting.TimetableStatus](hostConn); !ok || tt.Current == nil || tt.Current.Booking != jb.BookingID.String() {
			t.Errorf("the teacher's timetable: %+v", tt)
		}
		_, patelConn := r.join(t, patelF)

		r.sleepUntil(9*time.Minute - time.Second)
		if _, ok := lastOf[*meeting.WrapUp](jonesConn); ok {
			t.Fatal("wrap-up notice early")
		}
		r.sleepUntil(9*time.Minute + time.Second)
		for who, c := range map[string]*fakeConn{"family": jonesConn, "teacher": hostConn} {
			if w, ok := lastOf[*meeting.WrapUp](c); !ok || w.EndsAt != jb.EndsAt.UTC().Format(time.RFC3339) {
				t.Errorf("the %s got no wrap-up notice: %+v", who, w)
			}
		}
		r.sleepUntil(12*time.Minute - time.Second)
		if jonesConn.closedWith() != "" || admitted(patelConn) {
			t.Fatal("the call ended before the end plus grace")
		}
		r.sleepUntil(12*time.Minute + time.Second)
		if got := jonesConn.closedWith(); got != "appointment_over" {
			t.Fatalf("the family's connection closed with %q, want appointment_over", got)
		}
		if a, _ := lastOf[*meeting.AppointmentStatus](jonesConn); a == nil || a.Status != meeting.ApptOver {
			t.Errorf("the family was told %+v", a)
		}
		if !r.journal.has(meeting.AppointmentEnded{BookingID: jb.BookingID.String(), At: jb.EndsAt.Add(2 * time.Minute), How: meeting.HowHeld}) {
			t.Error("the end is not in the record")
		}
		if !admitted(patelConn) {
			t.Fatal("the next family was not let in")
		}
	})
}

// TestEveningRoomExtendsOnlyIntoAFreeSlot: with the next family booked
// straight after, extend is refused; with the next slot free, the call
// runs five minutes longer and ends then.
func TestEveningRoomExtendsOnlyIntoAFreeSlot(t *testing.T) {
	origin := testclock.Now()
	synctest.Test(t, func(t *testing.T) {
		r := newEveningRig(origin)
		defer r.hub.Close()
		jonesF, patelF := family("jones", "Mr Jones"), family("patel", "Mrs Patel")
		jb, pb := r.booking(0, jonesF), r.booking(10, patelF)
		r.tts.set(jb, pb)
		hs, hostConn := r.join(t, host)
		_, jonesConn := r.join(t, jonesF)
		r.sleepUntil(time.Second)
		if tt, _ := lastOf[*meeting.TimetableStatus](hostConn); tt == nil || tt.CanExtend {
			t.Fatalf("extend offered with the next slot booked: %+v", tt)
		}
		hs.Handle(&meeting.Extend{Header: meeting.Header{Seq: 1}})
		synctest.Wait()
		if e, _ := lastOf[*meeting.Error](hostConn); e == nil || e.Code != "next_appointment" || e.InReplyTo != 1 {
			t.Fatalf("extend with the next slot booked: %+v", e)
		}

		pb.StartsAt, pb.EndsAt = pb.StartsAt.Add(10*time.Minute), pb.EndsAt.Add(10*time.Minute)
		r.tts.set(jb, pb)              // the Patels moved to a later slot
		r.sleepUntil(30 * time.Second) // the room reloads its timetable
		if tt, _ := lastOf[*meeting.TimetableStatus](hostConn); tt == nil || !tt.CanExtend {
			t.Fatalf("extend not offered with the next slot free: %+v", tt)
		}
		hs.Handle(&meeting.Extend{Header: meeting.Header{Seq: 2}})
		synctest.Wait()
		if a, _ := lastOf[*meeting.AppointmentStatus](jonesConn); a == nil || a.EndsAt != r.start.Add(15*time.Minute).UTC().Format(time.RFC3339) {
			t.Fatalf("after extend the family was told %+v", a)
		}
		r.sleepUntil(12*time.Minute + time.Second)
		if jonesConn.closedWith() != "" {
			t.Fatal("moved out at the old end")
		}
		r.sleepUntil(17*time.Minute + time.Second)
		if got := jonesConn.closedWith(); got != "appointment_over" {
			t.Fatalf("at the extended end plus grace the connection closed with %q", got)
		}
	})
}

// TestEveningRoomRunningLate: the teacher's "running late" and an overrun
// both reach the waiting family as a later expected start, and the record.
func TestEveningRoomRunningLate(t *testing.T) {
	origin := testclock.Now()
	synctest.Test(t, func(t *testing.T) {
		r := newEveningRig(origin)
		defer r.hub.Close()
		jonesF, patelF := family("jones", "Mr Jones"), family("patel", "Mrs Patel")
		pb := r.booking(10, patelF)
		r.tts.set(r.booking(0, jonesF), pb)
		hs, _ := r.join(t, host)
		r.join(t, jonesF)
		r.sleepUntil(time.Second)
		_, patelConn := r.join(t, patelF)
		r.sleepUntil(10*time.Minute + 30*time.Second) // the Joneses overrun
		if a, _ := lastOf[*meeting.AppointmentStatus](patelConn); a == nil || a.ExpectedAt != pb.StartsAt.Add(time.Minute).UTC().Format(time.RFC3339) {
			t.Fatalf("the overrun was not shown to the next family: %+v", a)
		}
		hs.Handle(&meeting.RunningLateBy{Header: meeting.Header{Seq: 1}, Minutes: 5})
		synctest.Wait()
		if a, _ := lastOf[*meeting.AppointmentStatus](patelConn); a == nil || a.ExpectedAt != pb.StartsAt.Add(5*time.Minute).UTC().Format(time.RFC3339) {
			t.Fatalf("the teacher's running late was not shown to the next family: %+v", a)
		}
		if !r.journal.has(meeting.RunningLate{Minutes: 5, At: r.start.Add(10*time.Minute + 30*time.Second)}) {
			t.Error("the lateness is not in the record")
		}
		r.sleepUntil(12*time.Minute + time.Second) // the Joneses are moved out; the Patels are not due yet
		if admitted(patelConn) {
			t.Fatal("let in before the expected start")
		}
		r.sleepUntil(15*time.Minute + time.Second)
		if !admitted(patelConn) {
			t.Fatal("not let in at the expected start")
		}
	})
}

// TestEveningRoomSeesNewBookings: a family that booked while the room was
// live and joins at once, before the room's next reload, waits for its
// time all the same (the room's lobby policy would let an invitee in).
func TestEveningRoomSeesNewBookings(t *testing.T) {
	origin := testclock.Now()
	synctest.Test(t, func(t *testing.T) {
		r := newEveningRig(origin)
		defer r.hub.Close()
		jonesF, brownF := family("jones", "Mr Jones"), family("brown", "Mr Brown")
		jb := r.booking(0, jonesF)
		r.tts.set(jb)
		r.join(t, host)
		r.sleepUntil(-8 * time.Minute)
		r.tts.set(jb, r.booking(10, brownF))
		_, brownConn := r.join(t, brownF)
		if a, ok := lastOf[*meeting.AppointmentStatus](brownConn); !ok || a.Status != meeting.ApptWaiting {
			t.Fatalf("the family that just booked was told %+v", a)
		}
		if admitted(brownConn) {
			t.Fatal("a family that just booked got in before its time")
		}
		r.sleepUntil(10*time.Minute + time.Second)
		if !admitted(brownConn) {
			t.Fatal("not let in at the start")
		}
	})
}
