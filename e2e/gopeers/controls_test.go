package gopeers

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/meeting"
	"classmeet/internal/pgtest"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testserver"
)

// TestMuteIsEnforcedByTheServer: 500 ms after the host mutes P, nobody
// receives another audio packet from P although P's client keeps sending;
// under ask-to-speak P cannot unmute until a host allows it.
func TestMuteIsEnforcedByTheServer(t *testing.T) {
	s := testserver.Start(t, nil)
	plan := testserver.Plan(store.LobbyEveryoneWaits)
	plan.UnmutePolicy = store.UnmuteAsk
	mid, links := s.MeetingWith(t, plan, store.NewInvitee{Name: "P"}, store.NewInvitee{Name: "Q"})
	host := s.Host(t, mid, testclient.Options{})
	p := s.Parent(t, links[0], "P", testclient.Options{})
	q := s.Parent(t, links[1], "Q", testclient.Options{})
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 2 })
	_ = host.Send(&meeting.AdmitAll{})
	testclient.HearEachOther(t, []*testclient.Client{host, p, q})

	if err := host.Send(&meeting.Mute{Participant: p.ID(), Kind: meeting.KindAudio}); err != nil {
		t.Fatal(err)
	}
	you := msg(t, p, func(y *meeting.You) bool { return y.AudioBlocked })
	if you.MayUnmute || you.By != "host" {
		t.Errorf("P is told %+v", you)
	}
	// Packets already on their way may still land; then P's client sends
	// on and nobody receives any of them.
	heard := func(c *testclient.Client) func() uint64 {
		return func() uint64 { return c.Received(p.ID(), sfu.SourceMicrophone).Packets.Load() }
	}
	waitSilenced(t, "P's audio to stop reaching the host and Q", func() uint64 { return p.Sent(sfu.SourceMicrophone) }, 80, heard(host), heard(q))
	qHeard := heard(q)()
	if q.Received(p.ID(), sfu.SourceCamera).Packets.Load() == 0 {
		t.Error("muting stopped the video too")
	}

	// Ask to speak: P cannot unmute until allowed.
	_ = p.Send(&meeting.MediaState{Audio: true, Video: true})
	msg(t, p, func(e *meeting.Error) bool {
		return e.Code == "not_allowed" && strings.Contains(e.Message, "raise your hand")
	})
	sent := p.Sent(sfu.SourceMicrophone)
	waitFor(t, "P to send 25 more audio packets", 60*time.Second, func() bool { return p.Sent(sfu.SourceMicrophone) >= sent+25 })
	if n := heard(q)() - qHeard; n != 0 {
		t.Errorf("a refused unmute let %d packets through", n)
	}
	_ = p.Send(&meeting.RaiseHand{})
	msg(t, host, func(h *meeting.Hands) bool { return len(h.Queue) == 1 && h.Queue[0].Participant == p.ID() })
	_ = host.Send(&meeting.Allow{Participant: p.ID(), Kind: meeting.KindAudio})
	msg(t, p, func(y *meeting.You) bool { return y.AudioBlocked && y.MayUnmute })
	_ = p.Send(&meeting.MediaState{Audio: true, Video: true})
	waitFor(t, "P to be heard again", 60*time.Second, func() bool {
		return q.Received(p.ID(), sfu.SourceMicrophone).Packets.Load() > qHeard+20
	})
}

// TestParticipantCannotModerate: every host-only command from a
// participant is refused and changes nothing.
func TestParticipantCannotModerate(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, links := s.Meeting(t, store.LobbyEveryoneWaits, "P", "Q", "waiting")
	host := s.Host(t, mid, testclient.Options{Publish: []sfu.Source{}})
	p := s.Parent(t, links[0], "P", testclient.Options{Publish: []sfu.Source{}})
	q := s.Parent(t, links[1], "Q", testclient.Options{Publish: []sfu.Source{}})
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 2 })
	_ = host.Send(&meeting.AdmitAll{})
	waiting := s.Parent(t, links[2], "waiting", testclient.Options{Publish: []sfu.Source{}})
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 1 })

	for _, m := range []meeting.ClientMessage{
		&meeting.Mute{Participant: q.ID(), Kind: meeting.KindAudio},
		&meeting.MuteAll{Kind: meeting.KindAudio},
		&meeting.Admit{Participant: waiting.ID()},
		&meeting.AdmitAll{},
		&meeting.Deny{Participant: waiting.ID()},
		&meeting.EndMeeting{},
		&meeting.Remove{Participant: q.ID(), Ban: true},
		&meeting.SendToLobby{Participant: q.ID()},
		&meeting.Lock{Locked: true},
		&meeting.SetRole{Participant: p.ID(), Role: meeting.RoleCohost},
		&meeting.LowerAllHands{},
	} {
		if err := p.Send(m); err != nil {
			t.Fatal(err)
		}
		seq := p.NextSeq() - 1 // the seq Send used
		msg(t, p, func(e *meeting.Error) bool { return e.Code == "not_allowed" && e.InReplyTo == seq })
	}
	// The room handles P's messages in order: once Q has P's chat, sent
	// after them all, whatever they could have done to Q is done.
	_ = p.Send(&meeting.Chat{Text: "done", To: "everyone"})
	msg(t, q, func(c *meeting.ChatMessage) bool { return c.Message.Text == "done" })
	if waiting.Welcome().Presence != meeting.PresenceLobby || q.Closed() != nil || host.Closed() != nil {
		t.Error("a participant's command took effect")
	}
	for _, m := range q.Messages() {
		if y, ok := m.(*meeting.You); ok && y.AudioBlocked {
			t.Error("a participant muted Q")
		}
	}
}

// TestChatSenderIsWhoTheServerKnows: a chat message claiming another sender
// is refused; the sender shown is always the true one.
func TestChatSenderIsWhoTheServerKnows(t *testing.T) {
	s := testserver.Start(t, nil)
	host, ps := s.AdmittedRoom(t, []string{"P"}, map[string]testclient.Options{"host": {Publish: []sfu.Source{}}, "P": {Publish: []sfu.Source{}}})
	p := ps[0]
	for _, raw := range []string{
		fmt.Sprintf(`{"type":"chat","seq":90,"text":"I am the teacher","to":"everyone","from":%q}`, host.ID()),
		`{"type":"chat","seq":91,"text":"hi","to":"everyone","from_name":"Ms Smith"}`,
		`{"type":"chat","seq":92,"text":"hi","to":"everyone","role":"host"}`,
		`{"type":"raise_hand","seq":93,"participant":"someone"}`,
	} {
		_ = p.SendRaw([]byte(raw))
		msg(t, p, func(e *meeting.Error) bool {
			return e.Code == "bad_message" && strings.Contains(e.Message, "unknown key")
		})
	}
	_ = p.SendRaw([]byte(`{"type":"chat","seq":94,"text":"Ms Smith says: come in","to":"everyone"}`))
	c := msg(t, host, func(m *meeting.ChatMessage) bool { return true })
	if c.Message.From != p.ID() || c.Message.FromName != "P" || c.Message.FromRole != meeting.RoleParticipant {
		t.Errorf("the host sees the message as from %+v", c.Message)
	}
	for _, m := range host.Messages() {
		if c, ok := m.(*meeting.ChatMessage); ok && c.Message.FromName != "P" {
			t.Errorf("a spoofed message got through: %+v", c.Message)
		}
	}
}

// TestBannedParentCannotRejoin: removed with a ban, the personal link stops
// opening the meeting, from any browser.
func TestBannedParentCannotRejoin(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, links := s.Meeting(t, store.LobbyEveryoneWaits, "P")
	host := s.Host(t, mid, testclient.Options{Publish: []sfu.Source{}})
	p := s.Parent(t, links[0], "P", testclient.Options{Publish: []sfu.Source{}})
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 1 })
	_ = host.Send(&meeting.Admit{Participant: p.ID()})
	msg[*meeting.Admitted](t, p, nil)
	_ = host.Send(&meeting.Remove{Participant: p.ID(), Ban: true})
	if r := msg[*meeting.Removed](t, p, nil); !r.Banned {
		t.Error("not told of the ban")
	}
	waitFor(t, "the socket to close", 15*time.Second, func() bool { return p.Closed() != nil })

	// Straight away (the ban is also in memory) and once it reached the database.
	other, _ := testclient.New(s.URL, "P again", testclient.Options{})
	defer other.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := other.JoinLink(ctx, links[0]); err == nil {
		t.Fatal("a banned parent joined again")
	}
	s.Drained(t, 5*time.Second)
	if _, _, err := other.JoinToken(ctx, links[0]+"/join"); err == nil || !strings.Contains(err.Error(), "removed") {
		t.Errorf("join token for a banned link: %v", err)
	}
	resp, err := http.Get(s.URL + links[0])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("the banned link's page answers %d", resp.StatusCode)
	}
}

// TestObserverCannotPublish: an observer invitee sees and hears; its offer
// is refused and nobody receives anything from it.
func TestObserverCannotPublish(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, links := s.MeetingWith(t, testserver.Plan(store.LobbyEveryoneWaits), store.NewInvitee{Name: "Head", Role: store.InviteeObserver})
	host := s.Host(t, mid, testclient.Options{})
	obs := s.Parent(t, links[0], "Head", testclient.Options{})
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 1 })
	_ = host.Send(&meeting.Admit{Participant: obs.ID()})
	msg(t, obs, func(e *meeting.Error) bool {
		return e.Code == "not_allowed" && strings.Contains(e.Message, "observers")
	})
	waitFor(t, "the observer to receive the host", 60*time.Second, func() bool {
		return obs.Received(host.ID(), sfu.SourceCamera).Packets.Load() > 0
	})
	mediaFlows(t, obs, host, 30) // time for anything the observer sent to arrive
	if tracks := host.ReceivedTracks(); len(tracks) != 0 {
		t.Errorf("the host receives %v from an observer", tracks)
	}
	if j := msg[*meeting.ParticipantJoined](t, host, nil); j.Participant.Role != meeting.RoleObserver {
		t.Errorf("observer shown as %q", j.Participant.Role)
	}
}

// TestThousandChatMessages: 10 senders write 100 messages each; every
// participant receives all 1,000, in order per sender, none lost or twice;
// all 1,000 are in PostgreSQL; someone arriving later gets the same history.
func TestThousandChatMessages(t *testing.T) {
	s := testserver.Start(t, nil)
	names := make([]string, 10)
	opts := map[string]testclient.Options{"host": {Publish: []sfu.Source{}}}
	for i := range names {
		names[i] = fmt.Sprintf("s%d", i)
		opts[names[i]] = testclient.Options{Publish: []sfu.Source{}}
	}
	host, senders := s.AdmittedRoom(t, names, opts)
	var wg sync.WaitGroup
	for i, c := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 100 {
				if err := c.Send(&meeting.Chat{Text: fmt.Sprintf("%s #%03d", names[i], n), To: "everyone"}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	for _, c := range append([]*testclient.Client{host}, senders...) {
		waitFor(t, c.Name+" to receive 1000 messages", 15*time.Second, func() bool { return len(chatOf(c)) >= 1000 })
		checkPerSenderOrder(t, c.Name, chatOf(c))
	}
	s.Drained(t, 10*time.Second)
	stored, err := s.Store.Chat(context.Background(), uuid.MustParse(senders[0].Welcome().Meeting.ID))
	if err != nil || len(stored) != 1000 {
		t.Fatalf("%d messages in PostgreSQL, want 1000 (%v)", len(stored), err)
	}

	lateLink := addInvitee(t, s, senders[0].Welcome().Meeting.ID, "late")
	late := s.Parent(t, lateLink, "late", testclient.Options{Publish: []sfu.Source{}})
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 1 })
	_ = host.Send(&meeting.Admit{Participant: late.ID()})
	h := msg[*meeting.ChatHistory](t, late, nil)
	live := chatOf(host)
	if len(h.Messages) != len(live) {
		t.Fatalf("late history has %d messages, the host saw %d", len(h.Messages), len(live))
	}
	for i := range live {
		if h.Messages[i].ID != live[i].ID || h.Messages[i].Text != live[i].Text {
			t.Fatalf("history differs at %d: %+v vs %+v", i, h.Messages[i], live[i])
		}
	}
}

func chatOf(c *testclient.Client) []meeting.ChatEntry {
	var out []meeting.ChatEntry
	for _, m := range c.Messages() {
		if cm, ok := m.(*meeting.ChatMessage); ok {
			out = append(out, cm.Message)
		}
	}
	return out
}

func checkPerSenderOrder(t *testing.T, who string, msgs []meeting.ChatEntry) {
	t.Helper()
	next := map[string]int{}
	seen := map[string]bool{}
	for _, m := range msgs {
		if seen[m.ID] {
			t.Errorf("%s got message %s twice", who, m.ID)
		}
		seen[m.ID] = true
		var sender string
		var n int
		if _, err := fmt.Sscanf(m.Text, "%s #%d", &sender, &n); err != nil || sender != m.FromName {
			t.Errorf("%s: message %q from %q", who, m.Text, m.FromName)
			continue
		}
		if n != next[sender] {
			t.Errorf("%s: %s's message %d came when %d was due", who, sender, n, next[sender])
		}
		next[sender] = n + 1
	}
	for sender, n := range next {
		if n != 100 {
			t.Errorf("%s got %d of %s's 100 messages", who, n, sender)
		}
	}
}

// waitSilenced waits for a stretch in which sent() rose by n while none of
// got() moved: what was in flight may land first, but then nothing more
// may. It fails if that never happens within a generous deadline.
func waitSilenced(t *testing.T, what string, sent func() uint64, n uint64, got ...func() uint64) {
	t.Helper()
	read := func() (uint64, []uint64) {
		gs := make([]uint64, len(got))
		for i, g := range got {
			gs[i] = g()
		}
		return sent(), gs
	}
	s0, g0 := read()
	waitFor(t, what, 30*time.Second, func() bool {
		s1, g1 := read()
		if !slices.Equal(g0, g1) {
			s0, g0 = s1, g1 // something arrived: start the stretch again
			return false
		}
		return s1 >= s0+n
	})
}

func addInvitee(t *testing.T, s *testserver.Server, meetingID, name string) string {
	t.Helper()
	host, err := testclient.New(s.URL, "teacher-admin", testclient.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer host.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := host.Login(ctx, s.Teacher.Email, testserver.TeacherPassword); err != nil {
		t.Fatal(err)
	}
	if err := host.PostForm(ctx, "/meetings/"+meetingID+"/invitees", url.Values{"name": {name}}); err != nil {
		t.Fatal(err)
	}
	invs, _ := s.Store.Invitees(ctx, uuid.MustParse(meetingID))
	last := invs[len(invs)-1]
	return "/j/" + s.LinkToken(last)
}

// TestDatabaseOutageMidMeeting: PostgreSQL stops for 10 s during a meeting;
// media and chat go on, a new join is told to retry (503), and the chat
// written during the outage is in the database once it is back.
func TestDatabaseOutageMidMeeting(t *testing.T) {
	cluster := pgtest.NewCluster(t)
	s := testserver.StartOn(t, cluster.Store(), nil)
	mid, links := s.Meeting(t, store.LobbyEveryoneWaits, "P", "late")
	host := s.Host(t, mid, testclient.Options{})
	p := s.Parent(t, links[0], "P", testclient.Options{})
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 1 })
	_ = host.Send(&meeting.Admit{Participant: p.ID()})
	testclient.HearEachOther(t, []*testclient.Client{host, p})
	_ = p.Send(&meeting.Chat{Text: "before", To: "everyone"})
	s.Drained(t, 5*time.Second)

	cluster.Stop()
	before := host.Received(p.ID(), sfu.SourceCamera).Packets.Load()
	for i := range 20 {
		_ = p.Send(&meeting.Chat{Text: fmt.Sprintf("during %d", i), To: "everyone"})
	}
	waitFor(t, "the chat to reach the host live", 15*time.Second, func() bool { return len(chatOf(host)) == 21 })
	late, _ := testclient.New(s.URL, "late", testclient.Options{})
	defer late.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if _, _, err := late.JoinToken(ctx, links[1]+"/join"); err == nil || !strings.Contains(err.Error(), "503") {
		t.Errorf("a join during the outage: %v", err)
	}
	waitFor(t, "video to go on without the database", 30*time.Second, func() bool {
		return host.Received(p.ID(), sfu.SourceCamera).Packets.Load()-before >= 200
	})
	if s.Outbox.Pending() == 0 {
		t.Error("nothing waited for the database")
	}
	cluster.Start()
	s.Drained(t, 30*time.Second)
	stored, err := s.Store.Chat(context.Background(), uuid.MustParse(mid))
	if err != nil || len(stored) != 21 {
		t.Fatalf("%d messages stored after the outage, want 21 (%v)", len(stored), err)
	}
	ctx2, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	if err := late.JoinLink(ctx2, links[1]); err != nil {
		t.Errorf("joining after the outage: %v", err)
	}
}

// TestConnectionQuality: everyone is told everyone's connection level from
// the SFU's RTCP figures; only hosts get the figures themselves.
func TestConnectionQuality(t *testing.T) {
	s := testserver.Start(t, nil)
	host, ps := s.AdmittedRoom(t, []string{"P"}, nil)
	p := ps[0]
	testclient.HearEachOther(t, []*testclient.Client{host, p})
	q := msg(t, host, func(q *meeting.Quality) bool { _, ok := q.Details[p.ID()]; return ok && q.Details[p.ID()].RTTMs > 0 })
	d := q.Details[p.ID()]
	if d.Level != "good" || d.Loss > 0.01 || d.RTTMs > 100 || q.Levels[p.ID()] != "good" {
		t.Errorf("on loopback P's connection is %+v", d)
	}
	pq := msg(t, p, func(q *meeting.Quality) bool { return q.Levels[host.ID()] != "" })
	if pq.Details != nil {
		t.Errorf("a participant got the figures: %+v", pq.Details)
	}
}

// TestRaisedHandReachesEveryTile: a hand going up, then down, reaches the
// host and the other parent as an update of the person, which is what their
// tiles are drawn from.
func TestRaisedHandReachesEveryTile(t *testing.T) {
	s := testserver.Start(t, nil)
	quiet := testclient.Options{Publish: []sfu.Source{}}
	host, ps := s.AdmittedRoom(t, []string{"P", "Q"}, map[string]testclient.Options{"host": quiet, "P": quiet, "Q": quiet})
	p, q := ps[0], ps[1]
	if err := p.Send(&meeting.RaiseHand{}); err != nil {
		t.Fatal(err)
	}
	_ = msg(t, p, func(y *meeting.You) bool { return y.HandRaised })
	if err := p.Send(&meeting.LowerHand{}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*testclient.Client{host, q} {
		up := false // the hand goes up, and later down, in that order
		msg(t, c, func(u *meeting.ParticipantUpdated) bool {
			if u.Participant.ID != p.ID() {
				return false
			}
			if u.Participant.HandRaisedAt != "" {
				up = true
				return false
			}
			return up
		})
	}
}
