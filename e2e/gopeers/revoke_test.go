package gopeers

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/auth"
	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testserver"
)

// scene is a meeting with the teacher hosting, P speaking and Q listening
// in the room, and W waiting in the lobby.
type scene struct {
	mid            string
	host, p, q, w  *testclient.Client
	spareHostToken string // a host join token fetched before anything happened
}

func hostedScene(t *testing.T, s *testserver.Server) scene {
	t.Helper()
	mid, links := s.Meeting(t, store.LobbyEveryoneWaits, "P", "Q", "W")
	sc := scene{mid: mid}
	sc.host = s.Host(t, mid, testclient.Options{Publish: []sfu.Source{}})
	sc.p = s.Parent(t, links[0], "P", testclient.Options{Publish: []sfu.Source{sfu.SourceMicrophone}})
	sc.q = s.Parent(t, links[1], "Q", testclient.Options{Publish: []sfu.Source{}})
	msg(t, sc.host, func(l *meeting.Lobby) bool { return len(l.Entries) == 2 })
	_ = sc.host.Send(&meeting.AdmitAll{})
	msg[*meeting.Admitted](t, sc.p, nil)
	msg[*meeting.Admitted](t, sc.q, nil)
	sc.w = s.Parent(t, links[2], "W", testclient.Options{Publish: []sfu.Source{}})
	msg(t, sc.host, func(l *meeting.Lobby) bool { return len(l.Entries) == 1 })
	waitFor(t, "Q to hear P", 60*time.Second, func() bool { return sc.q.Received(sc.p.ID(), sfu.SourceMicrophone).Packets.Load() > 0 })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var err error
	if sc.spareHostToken, _, err = sc.host.JoinToken(ctx, "/meetings/"+mid+"/join"); err != nil {
		t.Fatal(err)
	}
	return sc
}

// hostRevoked checks that the host's connection ended with a reason
// containing why, and that nothing it tries afterwards has any effect: its
// admit and mute, resuming, and joining with a token fetched before.
func hostRevoked(t *testing.T, s *testserver.Server, sc scene, why string) {
	t.Helper()
	e := msg(t, sc.host, func(e *meeting.Error) bool { return e.Code == "revoked" })
	if !strings.Contains(e.Message, why) {
		t.Errorf("the host is told %q, want it to say %q", e.Message, why)
	}
	waitFor(t, "the host's socket to close", 10*time.Second, func() bool { return sc.host.Closed() != nil })
	msg(t, sc.w, func(l *meeting.LobbyStatus) bool { return !l.HostPresent })
	heard := sc.q.Received(sc.p.ID(), sfu.SourceMicrophone).Packets.Load()

	// The lying client: the same socket, a resumed one, a pre-fetched token.
	_ = sc.host.Send(&meeting.Admit{Participant: sc.w.ID()})
	_ = sc.host.Send(&meeting.Mute{Participant: sc.p.ID(), Kind: meeting.KindAudio})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	again, _ := testclient.New(s.URL, "host again", testclient.Options{Publish: []sfu.Source{}})
	defer again.Close()
	if err := again.Connect(ctx, "/meetings/"+sc.mid+"/ws"); err != nil {
		t.Fatal(err)
	}
	_ = again.Send(&meeting.Resume{Resume: sc.host.Welcome().Resume, KeepMedia: true})
	msg(t, again, func(e *meeting.Error) bool { return e.Code == "resume_expired" })
	third, _ := testclient.New(s.URL, "host third", testclient.Options{Publish: []sfu.Source{}})
	defer third.Close()
	if err := third.Connect(ctx, "/meetings/"+sc.mid+"/ws"); err != nil {
		t.Fatal(err)
	}
	_ = third.Send(&meeting.Join{Token: sc.spareHostToken})
	msg(t, third, func(e *meeting.Error) bool { return e.Code == "revoked" })
	_ = third.Send(&meeting.Admit{Participant: sc.w.ID()})

	// P is still heard by Q (nobody muted P); W never got in.
	waitFor(t, "Q to go on hearing P", 60*time.Second, func() bool {
		return sc.q.Received(sc.p.ID(), sfu.SourceMicrophone).Packets.Load() > heard+100
	})
	for _, m := range sc.w.Messages() {
		if _, ok := m.(*meeting.Admitted); ok {
			t.Error("W was admitted after the host's sign-in ended")
		}
	}
	for _, m := range sc.p.Messages() {
		if y, ok := m.(*meeting.You); ok && y.AudioBlocked {
			t.Error("P was muted after the host's sign-in ended")
		}
	}
	s.Drained(t, 10*time.Second)
	rows, err := s.Store.MeetingAttendance(ctx, uuid.MustParse(sc.mid))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rows {
		if a.ParticipantID.String() == sc.host.ID() && a.LeftAt == nil {
			t.Error("the host's attendance is still open")
		}
	}
}

// TestDisabledTeacherLosesTheMeeting: an administrator disables the
// teacher's account while they host: their connection ends at once and
// nothing they send afterwards takes effect.
func TestDisabledTeacherLosesTheMeeting(t *testing.T) {
	s := testserver.Start(t, nil)
	sc := hostedScene(t, s)
	admin := signedInAdmin(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := admin.PostForm(ctx, "/admin/users/"+s.Teacher.ID.String()+"/disable", nil); err != nil {
		t.Fatal(err)
	}
	hostRevoked(t, s, sc, "disabled")
}

// TestSignOutEndsTheMeetingConnection: signing out ends the connections
// opened with that sign-in.
func TestSignOutEndsTheMeetingConnection(t *testing.T) {
	s := testserver.Start(t, nil)
	sc := hostedScene(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := sc.host.PostForm(ctx, "/logout", nil); err != nil {
		t.Fatal(err)
	}
	hostRevoked(t, s, sc, "signed out")
}

// TestPasswordChangeEndsOtherSignInsConnections: the teacher changes their
// password from another sign-in; the meeting connection the old sign-in
// opened (a stolen session, say) ends.
func TestPasswordChangeEndsOtherSignInsConnections(t *testing.T) {
	s := testserver.Start(t, nil)
	sc := hostedScene(t, s)
	other, _ := testclient.New(s.URL, "teacher elsewhere", testclient.Options{})
	defer other.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := other.Login(ctx, s.Teacher.Email, testserver.TeacherPassword); err != nil {
		t.Fatal(err)
	}
	err := other.PostForm(ctx, "/account/password", url.Values{
		"current_password": {testserver.TeacherPassword}, "password": {"a brand new password"}, "password_confirm": {"a brand new password"},
	})
	if err != nil {
		t.Fatal(err)
	}
	hostRevoked(t, s, sc, "password")
}

func signedInAdmin(t *testing.T, s *testserver.Server) *testclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	const pw = "admin password 123"
	hash, err := auth.NewPasswords(1).Hash(ctx, pw)
	if err != nil {
		t.Fatal(err)
	}
	u, err := s.Store.CreateUser(ctx, store.NewUser{Email: "admin@school.example", Name: "Admin", Role: store.RoleAdmin, PasswordHash: hash, TimeZone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := testclient.New(s.URL, "admin", testclient.Options{})
	t.Cleanup(c.Close)
	if err := c.Login(ctx, u.Email, pw); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestBanHoldsAtEveryWayIn: in a meeting that admits invitees by itself,
// a parent on two devices is banned: both devices go; the second cannot
// resume; once the room has emptied and been rebuilt from the database, a
// join token fetched before the ban is refused, and Q never receives
// anything from the banned parent again.
func TestBanHoldsAtEveryWayIn(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, links := s.Meeting(t, store.LobbyInviteesAdmitted, "P", "Q")
	host := s.Host(t, mid, testclient.Options{Publish: []sfu.Source{}})
	pa := s.Parent(t, links[0], "P", testclient.Options{Publish: []sfu.Source{sfu.SourceMicrophone}})
	pb := s.Parent(t, links[0], "P", testclient.Options{Publish: []sfu.Source{sfu.SourceMicrophone}})
	q := s.Parent(t, links[1], "Q", testclient.Options{Publish: []sfu.Source{}})
	for _, c := range []*testclient.Client{pa, pb} {
		waitFor(t, "Q to hear "+c.ID(), 60*time.Second, func() bool { return q.Received(c.ID(), sfu.SourceMicrophone).Packets.Load() > 0 })
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	spare, _ := testclient.New(s.URL, "P", testclient.Options{Publish: []sfu.Source{sfu.SourceMicrophone}})
	defer spare.Close()
	token, socket, err := spare.JoinToken(ctx, links[0]+"/join")
	if err != nil {
		t.Fatal(err)
	}

	_ = host.Send(&meeting.Remove{Participant: pa.ID(), Ban: true})
	for _, c := range []*testclient.Client{pa, pb} {
		if r := msg[*meeting.Removed](t, c, nil); !r.Banned {
			t.Errorf("%s not told of the ban", c.ID())
		}
		waitFor(t, "the banned device's socket to close", 10*time.Second, func() bool { return c.Closed() != nil })
	}
	resumer, _ := testclient.New(s.URL, "P", testclient.Options{})
	defer resumer.Close()
	if err := resumer.Connect(ctx, socket); err != nil {
		t.Fatal(err)
	}
	_ = resumer.Send(&meeting.Resume{Resume: pb.Welcome().Resume, KeepMedia: true})
	msg(t, resumer, func(e *meeting.Error) bool { return e.Code == "resume_expired" || e.Code == "removed" })

	// Everyone leaves; the host comes back to a room rebuilt from the database.
	q.Leave()
	host.Leave()
	waitFor(t, "the meeting to be put away", 10*time.Second, func() bool { m, _ := s.Hub.Live(); return m == 0 })
	s.Drained(t, 10*time.Second)
	host = s.Host(t, mid, testclient.Options{Publish: []sfu.Source{}})
	q = s.Parent(t, links[1], "Q", testclient.Options{Publish: []sfu.Source{}})
	msg[*meeting.ParticipantJoined](t, host, func(j *meeting.ParticipantJoined) bool { return j.Participant.ID == q.ID() })

	if err := spare.Connect(ctx, socket); err != nil {
		t.Fatal(err)
	}
	_ = spare.Send(&meeting.Join{Token: token})
	if e := msg(t, spare, func(e *meeting.Error) bool { return true }); e.Code != "removed" {
		t.Errorf("a pre-ban token at join: %s %s", e.Code, e.Message)
	}
	if _, n := s.Hub.Live(); n != 2 {
		t.Errorf("%d participants in the meeting, want the host and Q", n)
	}
	for _, m := range host.Messages() {
		if j, ok := m.(*meeting.ParticipantJoined); ok && j.Participant.ID != q.ID() {
			t.Errorf("%s (%s) got into the room", j.Participant.Name, j.Participant.ID)
		}
	}
}

// joinWith opens a new connection and joins with token; it returns the
// client and the first answer: a welcome or an error.
func joinWith(t *testing.T, s *testserver.Server, name, socket, token string) (*testclient.Client, meeting.ServerMessage) {
	t.Helper()
	c, _ := testclient.New(s.URL, name, testclient.Options{Publish: []sfu.Source{}})
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Connect(ctx, socket); err != nil {
		t.Fatal(err)
	}
	_ = c.Send(&meeting.Join{Token: token})
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

// TestJoinTokenIsGoodForOneJoin: a participant's and a host's join tokens,
// replayed after their holders left, are refused; the database holds them
// as used.
func TestJoinTokenIsGoodForOneJoin(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, links := s.Meeting(t, store.LobbyEveryoneWaits, "P")
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	teacher, _ := testclient.New(s.URL, "teacher", testclient.Options{})
	defer teacher.Close()
	if err := teacher.Login(ctx, s.Teacher.Email, testserver.TeacherPassword); err != nil {
		t.Fatal(err)
	}
	hostToken, socket, err := teacher.JoinToken(ctx, "/meetings/"+mid+"/join")
	if err != nil {
		t.Fatal(err)
	}
	parent, _ := testclient.New(s.URL, "P", testclient.Options{})
	defer parent.Close()
	pToken, _, err := parent.JoinToken(ctx, links[0]+"/join")
	if err != nil {
		t.Fatal(err)
	}
	host, m := joinWith(t, s, "host", socket, hostToken)
	if _, ok := m.(*meeting.Welcome); !ok {
		t.Fatalf("the host's first join: %+v", m)
	}
	p, m := joinWith(t, s, "P", socket, pToken)
	if _, ok := m.(*meeting.Welcome); !ok {
		t.Fatalf("P's first join: %+v", m)
	}
	_ = host.Send(&meeting.Admit{Participant: p.ID()})
	msg[*meeting.Admitted](t, p, nil)
	hostID, pID := host.ID(), p.ID()
	p.Leave()
	msg(t, host, func(l *meeting.ParticipantLeft) bool { return l.ParticipantID == pID })

	if _, m := joinWith(t, s, "P again", socket, pToken); !isError(m, "already_joined") {
		t.Errorf("P's token replayed after P left: %+v", m)
	}
	host.Leave()
	waitFor(t, "the meeting to be put away", 10*time.Second, func() bool { n, _ := s.Hub.Live(); return n == 0 })
	if _, m := joinWith(t, s, "host again", socket, hostToken); !isError(m, "already_joined") {
		t.Errorf("the host's token replayed after the host left: %+v", m)
	}
	for _, id := range []string{hostID, pID} {
		if err := s.Store.UseJoinToken(ctx, uuid.MustParse(id), time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, store.ErrTokenUsed) {
			t.Errorf("token %s is not recorded as used: %v", id, err)
		}
	}
}

func isError(m meeting.ServerMessage, code string) bool {
	e, ok := m.(*meeting.Error)
	return ok && e.Code == code
}

// TestEndedMeetingStaysEnded: after "End meeting for everyone" a parent's
// link says the meeting has ended (with the recordings they may have), no
// join token is issued and one fetched before is refused, attendance is
// closed and the meeting is under Past on the dashboard; the host coming
// back opens it again.
func TestEndedMeetingStaysEnded(t *testing.T) {
	s := testserver.Start(t, nil)
	plan := testserver.Plan(store.LobbyInviteesAdmitted)
	plan.RecordingAccess = store.RecordingAccessInvitees
	mid, links := s.MeetingWith(t, plan, store.NewInvitee{Name: "P"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	seedFinishedRecording(t, s, mid)
	host := s.Host(t, mid, testclient.Options{Publish: []sfu.Source{}})
	p := s.Parent(t, links[0], "P", testclient.Options{Publish: []sfu.Source{}})
	msg[*meeting.ParticipantJoined](t, host, nil)
	spare, _ := testclient.New(s.URL, "P", testclient.Options{Publish: []sfu.Source{}})
	defer spare.Close()
	token, socket, err := spare.JoinToken(ctx, links[0]+"/join")
	if err != nil {
		t.Fatal(err)
	}

	_ = host.Send(&meeting.EndMeeting{})
	msg[*meeting.Ended](t, p, nil)
	waitFor(t, "the meeting to be put away", 10*time.Second, func() bool { n, _ := s.Hub.Live(); return n == 0 })
	s.Drained(t, 10*time.Second)

	page, err := spare.Get(ctx, links[0])
	if err != nil || !strings.Contains(page, `data-testid="meeting-ended"`) || !strings.Contains(page, `data-testid="invitee-recordings"`) {
		t.Errorf("the link's page after the end (%v) says:\n%s", err, page)
	}
	if _, _, err := spare.JoinToken(ctx, links[0]+"/join"); err == nil || !strings.Contains(err.Error(), "410") || !strings.Contains(err.Error(), "ended") {
		t.Errorf("a join token after the end: %v", err)
	}
	if _, m := joinWith(t, s, "P", socket, token); !isError(m, "meeting_ended") {
		t.Errorf("a token fetched before the end: %+v", m)
	}
	if n, _ := s.Hub.Live(); n != 0 {
		t.Error("the ended meeting came back to life")
	}
	rows, err := s.Store.MeetingAttendance(ctx, uuid.MustParse(mid))
	if err != nil || len(rows) != 2 {
		t.Fatalf("attendance: %d rows, %v", len(rows), err)
	}
	for _, a := range rows {
		if a.LeftAt == nil {
			t.Errorf("%s is still there after the end", a.Name)
		}
	}
	dash, err := host.Get(ctx, "/")
	if err != nil {
		t.Fatal(err)
	}
	past := strings.Index(dash, `data-testid="past"`)
	if past < 0 || !strings.Contains(dash[past:], "/meetings/"+mid) || !strings.Contains(dash, `data-testid="upcoming-empty"`) {
		t.Error("the ended meeting is not under Past, or still under Upcoming")
	}

	// The host comes back: the meeting is open again, P may join.
	host = s.Host(t, mid, testclient.Options{Publish: []sfu.Source{}})
	if w := host.Welcome(); w.Presence != meeting.PresenceRoom {
		t.Fatalf("the host came back to %q", w.Presence)
	}
	m, err := s.Store.MeetingWithHost(ctx, uuid.MustParse(mid))
	if err != nil || m.Ended() {
		t.Errorf("reopened meeting: ended=%v %v", m.Ended(), err)
	}
	again := s.Parent(t, links[0], "P", testclient.Options{Publish: []sfu.Source{}})
	if again.Welcome().Presence != meeting.PresenceRoom {
		t.Errorf("after reopening P is in the %s", again.Welcome().Presence)
	}
}

func seedFinishedRecording(t *testing.T, s *testserver.Server, mid string) {
	t.Helper()
	ctx := context.Background()
	m, err := s.Store.MeetingWithHost(ctx, uuid.MustParse(mid))
	if err != nil {
		t.Fatal(err)
	}
	rec := store.Recording{ID: uuid.New(), MeetingID: m.ID, StartedBy: "Ms Smith", StartedAt: m.StartsAt, State: store.RecordingActive}
	if err := s.Store.CreateRecording(ctx, rec); err != nil {
		t.Fatal(err)
	}
	stop := m.StartsAt.Add(time.Minute)
	if err := s.Store.SetRecordingState(ctx, rec.ID, store.RecordingAvailable, &stop, false); err != nil {
		t.Fatal(err)
	}
}
