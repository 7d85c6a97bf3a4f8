package gopeers

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
	"classmeet/internal/testserver"
)

// The tests here play families on a parents' evening who lie to get into
// the teacher's call out of turn: early, after their time, with a
// cancelled booking's link, as the teacher, on another family's booking.
// Each checks where the effect lands: packets counted at the others, the
// booking's row in the database, the socket closed.

// eveningRoom is a parents' evening of the test server's teacher, seeded
// through the store: her room and the appointment times of her slots.
type eveningRoom struct {
	s       *testserver.Server
	evening store.Evening
	room    string // the teacher's room for the evening: a meeting id
	slots   []store.Slot
}

// family is a household booked into one of the teacher's slots.
type family struct {
	name, child string // the first guardian's, the child's
	household   store.Household
	booking     uuid.UUID
	links       []string // one personal join link per guardian, /j/...
	slot        store.Slot
}

// seedEvening stores an evening of the teacher's with these appointment
// times (relative to the test clock's now), and grace after each end.
func seedEvening(t *testing.T, s *testserver.Server, grace time.Duration, times ...store.Times) *eveningRoom {
	t.Helper()
	ctx := context.Background()
	now := testclock.Now()
	plan := store.EveningPlan{
		Name: "Year 7 parents' evening", TimeZone: "Europe/London",
		StartsAt: now.Add(-10 * time.Minute), EndsAt: now.Add(2 * time.Hour), SlotMinutes: 10,
		BookingOpensAt: now.Add(-24 * time.Hour), BookingClosesAt: now.Add(2 * time.Hour), SplitPolicy: "each_household",
		GraceSeconds: int(grace / time.Second), RecordingPolicy: store.RecordingNotAllowed,
		Teachers: []store.EveningTeacherPlan{{TeacherID: s.Teacher.ID, Slots: times}},
	}
	ev, err := s.Store.CreateEvening(ctx, s.Teacher.ID, plan, now)
	if err != nil {
		t.Fatal(err)
	}
	teachers, err := s.Store.EveningTeachers(ctx, ev.ID)
	if err != nil || len(teachers) != 1 {
		t.Fatalf("evening teachers: %v, %v", teachers, err)
	}
	slots, err := s.Store.Slots(ctx, ev.ID, s.Teacher.ID)
	if err != nil || len(slots) != len(times) {
		t.Fatalf("slots: %v, %v", slots, err)
	}
	return &eveningRoom{s: s, evening: ev, room: teachers[0].MeetingID.String(), slots: slots}
}

// from is an appointment time from a to b after the test clock's now.
func from(a, b time.Duration) store.Times {
	now := testclock.Now()
	return store.Times{StartsAt: now.Add(a), EndsAt: now.Add(b)}
}

// household stores a household whose child the teacher teaches, with
// these guardians.
func (ev *eveningRoom) household(t *testing.T, child string, guardians ...string) store.Family {
	t.Helper()
	ctx := context.Background()
	key := "H-" + child
	hh := store.RosterHousehold{Key: key}
	for _, g := range guardians {
		hh.Guardians = append(hh.Guardians, store.RosterGuardian{Name: g, Email: strings.ReplaceAll(strings.ToLower(g), " ", ".") + "@home.example"})
	}
	roster := store.Roster{Households: []store.RosterHousehold{hh}, Students: []store.RosterStudent{{
		ExternalID: "S-" + child, Name: child, ClassName: "7B", Households: []string{key},
		Teachers: []store.RosterTeacher{{Email: ev.s.Teacher.Email}},
	}}}
	id, err := ev.s.Store.SaveFamily(ctx, uuid.Nil, roster, auth.NewLinkNonce, testclock.Now())
	if err != nil {
		t.Fatal(err)
	}
	f, err := ev.s.Store.Family(ctx, id)
	if err != nil || len(f.Students) != 1 {
		t.Fatalf("family %s: %+v, %v", key, f, err)
	}
	return f
}

// book stores a household with these guardians and books it into slot i:
// each guardian gets a join link.
func (ev *eveningRoom) book(t *testing.T, i int, child string, guardians ...string) family {
	t.Helper()
	f := ev.household(t, child, guardians...)
	nb := store.NewBooking{
		ID: uuid.New(), EveningID: ev.evening.ID, SlotID: ev.slots[i].ID, HouseholdID: f.Household.ID, StudentID: f.Students[0].ID,
		ShareKey: f.Students[0].ID.String(), BookedBy: "family", ChildName: child,
	}
	for _, g := range f.Guardians {
		nb.Guardians = append(nb.Guardians, store.BookingGuardian{InviteeID: uuid.New(), Name: g.Name, Email: g.Email, LinkNonce: auth.NewLinkNonce()})
	}
	b, err := ev.s.Store.Book(context.Background(), nb, func(store.Slot, []store.Booking) error { return nil }, nil, testclock.Now())
	if err != nil {
		t.Fatal(err)
	}
	fam := family{name: guardians[0], child: child, household: f.Household, booking: b.ID, slot: ev.slots[i]}
	for _, g := range nb.Guardians {
		fam.links = append(fam.links, "/j/"+ev.s.LinkToken(store.Invitee{ID: g.InviteeID, LinkNonce: g.LinkNonce}))
	}
	return fam
}

// bookingRow is the booking as the database holds it.
func (ev *eveningRoom) bookingRow(t *testing.T, f family) store.Booking {
	t.Helper()
	d, err := ev.s.Store.BookingDetail(context.Background(), f.booking)
	if err != nil {
		t.Fatal(err)
	}
	return d.Booking
}

// inCall joins the teacher and a family whose appointment is running, and
// waits until they hear and see each other.
func (ev *eveningRoom) inCall(t *testing.T, f family) (host, parent *testclient.Client) {
	t.Helper()
	host = ev.s.Host(t, ev.room, testclient.Options{})
	parent = ev.s.Parent(t, f.links[0], f.name, testclient.Options{})
	msg[*meeting.Admitted](t, parent, nil)
	testclient.HearEachOther(t, []*testclient.Client{host, parent})
	return host, parent
}

// refused sends m from c and waits for the server's refusal of it.
func refused(t *testing.T, c *testclient.Client, m meeting.ClientMessage, code string) {
	t.Helper()
	if err := c.Send(m); err != nil {
		t.Fatal(err)
	}
	seq := m.Sequence()
	e := msg(t, c, func(e *meeting.Error) bool { return e.InReplyTo == seq })
	if e.Code != code {
		t.Errorf("%s's %T was answered %s (%s), want %s", c.Name, m, e.Code, e.Message, code)
	}
}

// untouched checks that while each of senders (in the room) sends at
// least 100 more microphone packets, nothing of any of them reaches any of
// receivers, and that none of receivers was let in.
func untouched(t *testing.T, what string, senders, receivers []*testclient.Client) {
	t.Helper()
	// Packets already on their way may still land: let the senders send a
	// few more first, then count.
	for _, s := range senders {
		settled := s.Sent(sfu.SourceMicrophone) + 10
		waitFor(t, what+": packets in flight to land", 60*time.Second, func() bool { return s.Sent(sfu.SourceMicrophone) >= settled })
	}
	before := map[[2]int]uint64{}
	for i, s := range senders {
		for j, r := range receivers {
			before[[2]int{i, j}] = receivedFrom(r, s)
		}
	}
	for _, s := range senders {
		sent := s.Sent(sfu.SourceMicrophone)
		waitFor(t, what+": "+s.Name+" sends on", 60*time.Second, func() bool { return s.Sent(sfu.SourceMicrophone) >= sent+100 })
	}
	for i, s := range senders {
		for j, r := range receivers {
			if n := receivedFrom(r, s) - before[[2]int{i, j}]; n != 0 {
				t.Errorf("%s: %s received %d packets from %s", what, r.Name, n, s.Name)
			}
		}
	}
	for _, r := range receivers {
		if admittedEver(r) {
			t.Errorf("%s: %s was let in", what, r.Name)
		}
	}
}

// receivedFrom counts the packets of every kind r received from c.
func receivedFrom(r, c *testclient.Client) uint64 {
	return r.ReceivedOfKind(c.ID(), audio) + r.ReceivedOfKind(c.ID(), video)
}

// nothingFrom checks that none of others ever received anything from c.
func nothingFrom(t *testing.T, what string, c *testclient.Client, others ...*testclient.Client) {
	t.Helper()
	for _, o := range others {
		if n := receivedFrom(o, c); n != 0 {
			t.Errorf("%s: %s received %d packets from %s", what, o.Name, n, c.Name)
		}
	}
}

func admittedEver(c *testclient.Client) bool {
	for _, m := range c.Messages() {
		if _, ok := m.(*meeting.Admitted); ok {
			return true
		}
	}
	return c.Welcome() != nil && c.Welcome().Presence == meeting.PresenceRoom
}

// learnsNothingOf checks that nothing c was sent names another family or
// child, and that c never had the teacher's timetable.
func learnsNothingOf(t *testing.T, c *testclient.Client, names ...string) {
	t.Helper()
	for _, m := range c.Messages() {
		if _, ok := m.(*meeting.TimetableStatus); ok {
			t.Errorf("%s was sent the teacher's timetable", c.Name)
		}
		b, err := meeting.EncodeServer(m, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range names {
			if strings.Contains(string(b), n) {
				t.Errorf("%s was told %q: %s", c.Name, n, b)
			}
		}
	}
}

// TestEveningFamilyWaitsForItsTime: a family whose appointment is later
// arrives during another family's call. It stays in the lobby; nothing of
// the teacher's or the other family's reaches it, nothing of its own
// reaches them (its offer, chat, hand and reactions from the lobby are
// refused), and it learns nothing of the other family.
func TestEveningFamilyWaitsForItsTime(t *testing.T) {
	s := testserver.Start(t, nil)
	ev := seedEvening(t, s, 5*time.Second, from(-time.Minute, 10*time.Minute), from(10*time.Minute, 20*time.Minute))
	amber := ev.book(t, 0, "Alice Amber", "Mr Amber")
	birch := ev.book(t, 1, "Ben Birch", "Mrs Birch")
	host, a := ev.inCall(t, amber)

	b := ev.s.Parent(t, birch.links[0], birch.name, testclient.Options{})
	if w := b.Welcome(); w.Presence != meeting.PresenceLobby {
		t.Fatalf("the later family entered %q", w.Presence)
	}
	st := msg[*meeting.AppointmentStatus](t, b, nil)
	if st.Status != meeting.ApptWaiting || st.ExpectedAt != birch.slot.StartsAt.UTC().Format(time.RFC3339) {
		t.Errorf("the later family was told %+v", st)
	}
	_ = a.Send(&meeting.Chat{Text: "about Alice's maths", To: "everyone"})

	// From the lobby: its own media offered, chat, a hand, a reaction, a
	// restart of ICE, its microphone turned on.
	if err := b.StartMedia(); err != nil {
		t.Fatal(err)
	}
	msg(t, b, func(e *meeting.Error) bool { return e.Code == "not_admitted" })
	for _, m := range []meeting.ClientMessage{
		&meeting.Chat{Text: "let us in", To: "everyone"}, &meeting.RaiseHand{}, &meeting.React{Reaction: "wave"},
		&meeting.RestartICE{}, &meeting.MediaState{Audio: true, Video: true},
	} {
		refused(t, b, m, "not_admitted")
	}
	untouched(t, "the later family in the lobby", []*testclient.Client{host, a}, []*testclient.Client{b})
	// The lobby client received nothing, so its own count is total.
	for _, c := range []*testclient.Client{host, a} {
		if n := receivedFrom(b, c); n != 0 {
			t.Errorf("the family in the lobby received %d packets from %s", n, c.Name)
		}
	}
	nothingFrom(t, "the family in the lobby", b, host, a)
	if n := len(chatOf(a)); n != 1 {
		t.Errorf("the family in the call has %d chat messages, want its own only", n)
	}
	learnsNothingOf(t, b, amber.name, amber.child, "about Alice's maths")
	learnsNothingOf(t, a, birch.name, birch.child)
}

// resumeWith opens a new connection and resumes with secret; it returns
// the client and the first answer: a welcome or an error.
func resumeWith(t *testing.T, s *testserver.Server, name, socket, secret string) (*testclient.Client, meeting.ServerMessage) {
	t.Helper()
	c, _ := testclient.New(s.URL, name, testclient.Options{})
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx, socket); err != nil {
		t.Fatal(err)
	}
	_ = c.Send(&meeting.Resume{Resume: secret, KeepMedia: true})
	m, err := c.WaitFor(ctx, func(m meeting.ServerMessage) bool {
		switch m.(type) {
		case *meeting.Welcome, *meeting.Error:
			return true
		}
		return false
	})
	if err != nil {
		t.Fatal(err)
	}
	return c, m
}

// TestEveningFamilyAfterItsTimeWaitsForTheTeacher: a family whose
// appointment the teacher ended comes back: resuming its old connection,
// joining again with its link, on a second device, with a join token
// fetched during the call. None of it is let in by itself or exchanges
// media with anyone; the teacher may let them in.
func TestEveningFamilyAfterItsTimeWaitsForTheTeacher(t *testing.T) {
	s := testserver.Start(t, nil)
	ev := seedEvening(t, s, 5*time.Second, from(-time.Minute, 10*time.Minute), from(10*time.Minute, 20*time.Minute))
	amber := ev.book(t, 0, "Alice Amber", "Mr Amber")
	host, a := ev.inCall(t, amber)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	spare, _ := testclient.New(s.URL, "Mr Amber", testclient.Options{})
	defer spare.Close()
	token, socket, err := spare.JoinToken(ctx, amber.links[0]+"/join")
	if err != nil {
		t.Fatal(err)
	}
	secret := a.Welcome().Resume

	_ = host.Send(&meeting.EndAppointment{})
	msg(t, a, func(st *meeting.AppointmentStatus) bool { return st.Status == meeting.ApptOver })
	waitFor(t, "the family's socket to close", 10*time.Second, func() bool { return a.Closed() != nil })
	s.Drained(t, 10*time.Second)
	if b := ev.bookingRow(t, amber); b.Outcome != meeting.HowEndedEarly || b.EndedAt == nil {
		t.Fatalf("the booking's row after the teacher ended it: %+v", b)
	}
	unheard(t, "moved out", a, sfu.SourceMicrophone, audio, host)

	if _, m := resumeWith(t, s, "Mr Amber resuming", socket, secret); !isError(m, "resume_expired") {
		t.Errorf("the old connection resumed: %+v", m)
	}
	again := s.Parent(t, amber.links[0], "Mr Amber", testclient.Options{})
	phone := s.Parent(t, amber.links[0], "Mr Amber's phone", testclient.Options{})
	early, m := joinWith(t, s, "Mr Amber's tablet", socket, token)
	if w, ok := m.(*meeting.Welcome); !ok || w.Presence != meeting.PresenceLobby {
		t.Errorf("the token fetched during the call: %+v", m)
	}
	back := []*testclient.Client{again, phone, early}
	for _, c := range back {
		if w := c.Welcome(); w == nil || w.Presence != meeting.PresenceLobby {
			t.Fatalf("%s came back into %+v", c.Name, w)
		}
	}
	untouched(t, "back after the appointment", []*testclient.Client{host}, back)
	for _, c := range back {
		nothingFrom(t, "back after the appointment", c, host)
	}

	// The teacher may let them in: then they are heard, so the counts above
	// would have seen a leak.
	_ = host.Send(&meeting.Admit{Participant: again.ID()})
	msg[*meeting.Admitted](t, again, nil)
	testclient.HearEachOther(t, []*testclient.Client{host, again})
	if admittedEver(phone) || admittedEver(early) {
		t.Error("the family's other devices came in with the one the teacher admitted")
	}
}

// TestEveningFamilyCannotKeepTheTeachersTime: a family in its call sends
// the teacher's commands (extend, end, running late, admit, admit all,
// promote itself, mute the teacher), and a family in the lobby admits
// itself and says the teacher runs late. Each is refused, and nothing
// changes where it would show: the call ends on time (the booking's row),
// the waiting family's expected start stays, the room is not recorded as
// running late, and the waiting family is not let in.
func TestEveningFamilyCannotKeepTheTeachersTime(t *testing.T) {
	t.Parallel() // waits for a call's real time, with little CPU
	s := testserver.Start(t, nil)
	const grace = 3 * time.Second
	ev := seedEvening(t, s, grace, from(-time.Minute, 45*time.Second), from(10*time.Minute, 20*time.Minute))
	amber := ev.book(t, 0, "Alice Amber", "Mr Amber")
	birch := ev.book(t, 1, "Ben Birch", "Mrs Birch")
	host, a := ev.inCall(t, amber)
	b := ev.s.Parent(t, birch.links[0], birch.name, testclient.Options{})
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 1 })

	for _, m := range []meeting.ClientMessage{
		&meeting.Extend{}, &meeting.EndAppointment{}, &meeting.RunningLateBy{Minutes: 30}, &meeting.RunningLateBy{Minutes: -30},
		&meeting.Admit{Participant: b.ID()}, &meeting.AdmitAll{}, &meeting.SetRole{Participant: a.ID(), Role: meeting.RoleCohost},
		&meeting.Mute{Participant: host.ID(), Kind: meeting.KindAudio}, &meeting.EndMeeting{},
		&meeting.Deny{Participant: b.ID()}, &meeting.Remove{Participant: b.ID(), Ban: true}, &meeting.Lock{Locked: true},
	} {
		refused(t, a, m, "not_allowed")
	}
	for _, m := range []meeting.ClientMessage{
		&meeting.Admit{Participant: b.ID()}, &meeting.AdmitAll{}, &meeting.Extend{}, &meeting.RunningLateBy{Minutes: -30},
	} {
		refused(t, b, m, "not_admitted")
	}
	heard(t, "the teacher after the family's mute", host, audio, a)

	end := amber.slot.EndsAt
	waitFor(t, "the call to end", end.Sub(testclock.Now())+60*time.Second, func() bool {
		return slices.ContainsFunc(a.Messages(), func(m meeting.ServerMessage) bool {
			st, ok := m.(*meeting.AppointmentStatus)
			return ok && st.Status == meeting.ApptOver
		})
	})
	if st := lastStatus(t, a, meeting.ApptRunning); st.EndsAt != end.UTC().Format(time.RFC3339) {
		t.Errorf("the family's call was to end at %s, not %s", st.EndsAt, end.UTC().Format(time.RFC3339))
	}
	waitFor(t, "the family's socket to close", 10*time.Second, func() bool { return a.Closed() != nil })
	s.Drained(t, 10*time.Second)
	row := ev.bookingRow(t, amber)
	if row.Outcome != meeting.HowHeld || row.EndedAt == nil || row.EndedAt.Before(end.Add(grace)) || !row.EndedAt.Before(end.Add(meeting.Extension)) {
		t.Errorf("the call's row: outcome %q, ended at %v; planned end %v", row.Outcome, row.EndedAt, end)
	}
	if st := lastStatus(t, b, meeting.ApptWaiting); st.ExpectedAt != birch.slot.StartsAt.UTC().Format(time.RFC3339) {
		t.Errorf("the waiting family now expects %s, not %s", st.ExpectedAt, birch.slot.StartsAt.UTC().Format(time.RFC3339))
	}
	teachers, err := s.Store.EveningTeachers(context.Background(), ev.evening.ID)
	if err != nil || teachers[0].LateMinutes != 0 {
		t.Errorf("the room is recorded as running %d minutes late (%v)", teachers[0].LateMinutes, err)
	}
	if admittedEver(b) || ev.bookingRow(t, birch).StartedAt != nil {
		t.Error("the waiting family was let in")
	}
}

// lastStatus is the last appointment status of this kind c was sent.
func lastStatus(t *testing.T, c *testclient.Client, status string) *meeting.AppointmentStatus {
	t.Helper()
	ms := c.Messages()
	for i := len(ms) - 1; i >= 0; i-- {
		if st, ok := ms[i].(*meeting.AppointmentStatus); ok && st.Status == status {
			return st
		}
	}
	t.Fatalf("%s was never told its appointment is %s", c.Name, status)
	return nil
}

// TestEveningCancelledAppointmentLetsNobodyStay: an admin cancels the
// appointment of a family waiting in the lobby: it is taken out (told,
// socket closed), its link gives no new join token, and a token fetched
// before the cancellation is refused. A family cannot cancel the
// appointment it is in the call of.
func TestEveningCancelledAppointmentLetsNobodyStay(t *testing.T) {
	s := testserver.Start(t, nil)
	ev := seedEvening(t, s, 5*time.Second, from(-time.Minute, 10*time.Minute), from(10*time.Minute, 20*time.Minute))
	amber := ev.book(t, 0, "Alice Amber", "Mr Amber")
	birch := ev.book(t, 1, "Ben Birch", "Mrs Birch")
	host, a := ev.inCall(t, amber)
	b := ev.s.Parent(t, birch.links[0], birch.name, testclient.Options{})
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	tokens := map[string]string{}
	var socket string
	for _, f := range []family{amber, birch} {
		c, _ := testclient.New(s.URL, f.name, testclient.Options{})
		defer c.Close()
		tok, sock, err := c.JoinToken(ctx, f.links[0]+"/join")
		if err != nil {
			t.Fatal(err)
		}
		tokens[f.name], socket = tok, sock
	}

	admin := signedInAdmin(t, s)
	if err := admin.PostForm(ctx, "/evenings/"+ev.evening.ID.String()+"/bookings/"+birch.booking.String()+"/cancel", nil); err != nil {
		t.Fatal(err)
	}
	takenOut(t, s, birch, b, socket, tokens[birch.name])
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 0 })

	// The family's own cancel, from its booking page, during the call, is
	// refused: an appointment that has begun stays (it is on the report),
	// and the family stays in its call.
	home, _ := testclient.New(s.URL, "the Ambers' booking page", testclient.Options{})
	defer home.Close()
	page := "/b/" + auth.NewBookingLinks([]byte(testserver.Secret)).Token(amber.household.ID, amber.household.LinkNonce)
	if err := home.PostForm(ctx, page+"/appointments/"+amber.booking.String()+"/cancel", nil); err == nil || !strings.Contains(err.Error(), "409") {
		t.Errorf("a family cancelling its appointment during the call: %v, want 409", err)
	}
	testclient.HearEachOther(t, []*testclient.Client{host, a})
	if row := ev.bookingRow(t, amber); row.CancelledAt != nil {
		t.Error("the appointment in progress was cancelled")
	}
	if row := ev.bookingRow(t, birch); row.CancelledAt == nil {
		t.Error("the Birches' booking is not cancelled in the database")
	}
}

// takenOut checks that c, who came in through f's link, was told its link
// was withdrawn and its socket closed, that the link gives no new join
// token, and that a token fetched before is refused.
func takenOut(t *testing.T, s *testserver.Server, f family, c *testclient.Client, socket, token string) {
	t.Helper()
	msg(t, c, func(e *meeting.Error) bool { return e.Code == "link_withdrawn" })
	waitFor(t, c.Name+"'s socket to close", 10*time.Second, func() bool { return c.Closed() != nil })
	again, _ := testclient.New(s.URL, f.name, testclient.Options{})
	defer again.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, _, err := again.JoinToken(ctx, f.links[0]+"/join"); err == nil {
		t.Errorf("%s's cancelled link still gives join tokens", f.name)
	}
	if _, m := joinWith(t, s, f.name+" with an earlier token", socket, token); !isError(m, "bad_token") {
		t.Errorf("%s's token fetched before the cancellation: %+v", f.name, m)
	}
}

// TestEveningSecondGuardianJoinsTheCall: the second guardian of the
// booking in progress joins from their own link and goes straight into the
// call; a guardian of another family, whose appointment is later, joining
// at the same moment waits in the lobby with nothing sent to or from them.
func TestEveningSecondGuardianJoinsTheCall(t *testing.T) {
	s := testserver.Start(t, nil)
	ev := seedEvening(t, s, 5*time.Second, from(-time.Minute, 10*time.Minute), from(10*time.Minute, 20*time.Minute))
	amber := ev.book(t, 0, "Alice Amber", "Mr Amber", "Mrs Amber")
	cedar := ev.book(t, 1, "Cara Cedar", "Ms Cedar")
	host, a := ev.inCall(t, amber)

	second := s.Parent(t, amber.links[1], "Mrs Amber", testclient.Options{})
	other := s.Parent(t, cedar.links[0], cedar.name, testclient.Options{})
	msg[*meeting.Admitted](t, second, nil)
	testclient.HearEachOther(t, []*testclient.Client{host, a, second})
	untouched(t, "another family's guardian", []*testclient.Client{host, a, second}, []*testclient.Client{other})
	nothingFrom(t, "another family's guardian", other, host, a, second)
	learnsNothingOf(t, other, amber.name, "Mrs Amber", amber.child)
}

// TestEveningNextFamilyWaitsWhileTheTeacherHasAnother: the teacher ends a
// call and lets the family back in for a last word. The next family's time
// comes meanwhile: they wait in the lobby (another family is in the call),
// with nothing sent to or from them, and come in once the other family has
// left.
func TestEveningNextFamilyWaitsWhileTheTeacherHasAnother(t *testing.T) {
	t.Parallel() // waits for a call's real time, with little CPU
	s := testserver.Start(t, nil)
	ev := seedEvening(t, s, 2*time.Second, from(-time.Minute, 20*time.Second), from(20*time.Second, 10*time.Minute))
	amber := ev.book(t, 0, "Alice Amber", "Mr Amber")
	birch := ev.book(t, 1, "Ben Birch", "Mrs Birch")
	host, a := ev.inCall(t, amber)
	_ = host.Send(&meeting.EndAppointment{}) // refused if the call already ended by itself: over either way
	waitFor(t, "the family to be moved out", 30*time.Second, func() bool { return a.Closed() != nil })

	again := s.Parent(t, amber.links[0], "Mr Amber", testclient.Options{})
	_ = host.Send(&meeting.Admit{Participant: again.ID()})
	msg[*meeting.Admitted](t, again, nil)
	testclient.HearEachOther(t, []*testclient.Client{host, again})
	b := s.Parent(t, birch.links[0], birch.name, testclient.Options{})
	start := birch.slot.StartsAt
	waitFor(t, "the next family's time", start.Sub(testclock.Now())+20*time.Second, func() bool {
		return testclock.Now().After(start.Add(2 * time.Second))
	})
	untouched(t, "the next family while another is in", []*testclient.Client{host, again}, []*testclient.Client{b})
	nothingFrom(t, "the next family while another is in", b, host, again)
	learnsNothingOf(t, b, amber.name, amber.child)

	again.Leave()
	msg[*meeting.Admitted](t, b, nil)
	testclient.HearEachOther(t, []*testclient.Client{host, b})
}
