package gopeers

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"

	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testserver"
)

// The tests here play a participant who lies to get round a host's
// decision: it relabels its tracks, removes and re-adds them, reconnects,
// rejoins with its link, joins on a second device. Each checks where the
// effect lands: the packets that reach the other participants.

var (
	audio = webrtc.RTPCodecTypeAudio
	video = webrtc.RTPCodecTypeVideo
)

// unheard checks that while liar sends at least 100 more packets from src,
// none of its media of that kind reaches any of others, whatever the label.
func unheard(t *testing.T, what string, liar *testclient.Client, src sfu.Source, kind webrtc.RTPCodecType, others ...*testclient.Client) {
	t.Helper()
	// Packets already on their way when the rule took effect may still
	// land: let the liar send a few more first, then count.
	settled := liar.Sent(src) + 10
	waitFor(t, what+": packets in flight to land", 60*time.Second, func() bool { return liar.Sent(src) >= settled })
	before := make([]uint64, len(others))
	for i, o := range others {
		before[i] = o.ReceivedOfKind(liar.ID(), kind)
	}
	sent := liar.Sent(src)
	waitFor(t, what+": the liar sends on", 60*time.Second, func() bool { return liar.Sent(src) >= sent+100 })
	for i, o := range others {
		if n := o.ReceivedOfKind(liar.ID(), kind) - before[i]; n != 0 {
			t.Errorf("%s: %s received %d %s packets from %s", what, o.Name, n, kind, liar.Name)
		}
	}
}

// heard waits until each of others receives media of kind from c again.
func heard(t *testing.T, what string, c *testclient.Client, kind webrtc.RTPCodecType, others ...*testclient.Client) {
	t.Helper()
	for _, o := range others {
		got := o.ReceivedOfKind(c.ID(), kind)
		waitFor(t, what+": "+o.Name+" receives "+c.Name, 60*time.Second, func() bool { return o.ReceivedOfKind(c.ID(), kind) > got+20 })
	}
}

// told waits until what c was last told it may do satisfies pred.
func told(t *testing.T, c *testclient.Client, pred func(*meeting.You) bool) {
	t.Helper()
	waitFor(t, c.Name+" to be told", 10*time.Second, func() bool {
		ms := c.Messages()
		for i := len(ms) - 1; i >= 0; i-- {
			if y, ok := ms[i].(*meeting.You); ok {
				return pred(y)
			}
		}
		return false
	})
}

// republish renegotiates c's sending connection and waits for the server's
// word on it: its answer, or its refusal.
func republish(t *testing.T, c *testclient.Client, sources ...sfu.Source) meeting.ServerMessage {
	t.Helper()
	seen := len(c.Messages())
	if err := c.Republish(sources); err != nil {
		t.Fatal(err)
	}
	var reply meeting.ServerMessage
	waitFor(t, c.Name+"'s offer to be answered", 15*time.Second, func() bool {
		for _, m := range c.Messages()[seen:] {
			switch m := m.(type) {
			case *meeting.ServerAnswer:
				reply = m
				return true
			case *meeting.Error:
				if m.Code == "media_failed" {
					reply = m
					return true
				}
			}
		}
		return false
	})
	return reply
}

// hostileRoom is a host, an honest parent Q and the liar P, all in the room,
// in a meeting where everyone may share a screen.
func hostileRoom(t *testing.T, s *testserver.Server, plan store.MeetingPlan) (host, q, p *testclient.Client, pLink string) {
	t.Helper()
	plan.ScreenShare = store.ScreenShareEveryone
	mid, links := s.MeetingWith(t, plan, store.NewInvitee{Name: "Q"}, store.NewInvitee{Name: "P"})
	host = s.Host(t, mid, testclient.Options{})
	q = s.Parent(t, links[0], "Q", testclient.Options{})
	p = s.Parent(t, links[1], "P", testclient.Options{})
	if plan.LobbyPolicy == store.LobbyEveryoneWaits {
		msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 2 })
		_ = host.Send(&meeting.AdmitAll{})
	}
	testclient.HearEachOther(t, []*testclient.Client{host, q, p})
	return host, q, p, links[1]
}

// readd removes one of c's tracks and adds it again on a new m-line,
// offered under label (a liar's) or its own name.
func readd(t *testing.T, c *testclient.Client, src, label sfu.Source, others ...sfu.Source) meeting.ServerMessage {
	t.Helper()
	c.Relabel(nil)
	republish(t, c, others...)
	c.Relabel(map[sfu.Source]sfu.Source{src: label})
	return republish(t, c, append(others, src)...)
}

func TestRelabellingDoesNotUnmute(t *testing.T) {
	s := testserver.Start(t, nil)
	plan := testserver.Plan(store.LobbyEveryoneWaits)
	plan.UnmutePolicy = store.UnmuteAsk
	host, q, p, _ := hostileRoom(t, s, plan)
	mic, cam := sfu.SourceMicrophone, sfu.SourceCamera
	_ = host.Send(&meeting.Mute{Participant: p.ID(), Kind: meeting.KindAudio})
	msg(t, p, func(y *meeting.You) bool { return y.AudioBlocked })
	unheard(t, "muted", p, mic, audio, host, q)

	// The microphone offered again as the screen's sound: audio all the same.
	readd(t, p, mic, sfu.SourceScreenAudio, cam)
	unheard(t, "microphone labelled screen_audio", p, mic, audio, host, q)

	// The microphone and the camera swap labels: the offer is refused.
	p.Relabel(map[sfu.Source]sfu.Source{mic: cam, cam: mic})
	if e, ok := republish(t, p, mic, cam).(*meeting.Error); !ok || !strings.Contains(e.Message, "do not match") {
		t.Errorf("labels swapped between audio and video were answered: %+v", e)
	}
	unheard(t, "microphone labelled camera", p, mic, audio, host, q)

	// A camera the host stopped, offered again as a screen share: video all the same.
	_ = host.Send(&meeting.Mute{Participant: p.ID(), Kind: meeting.KindVideo})
	msg(t, p, func(y *meeting.You) bool { return y.VideoBlocked })
	readd(t, p, cam, sfu.SourceScreen, mic)
	unheard(t, "stopped camera labelled screen", p, cam, video, host, q)
	unheard(t, "still muted", p, mic, audio, host, q)

	// Allowed back, and honest: heard and seen again, so the counts above
	// would have seen a leak.
	_ = host.Send(&meeting.Allow{Participant: p.ID(), Kind: meeting.KindAudio})
	_ = host.Send(&meeting.Allow{Participant: p.ID(), Kind: meeting.KindVideo})
	told(t, p, func(y *meeting.You) bool { return y.MayUnmute && y.MayVideo })
	_ = p.Send(&meeting.MediaState{Audio: true, Video: true})
	readd(t, p, mic, mic)
	readd(t, p, cam, cam, mic)
	heard(t, "allowed back", p, audio, host, q)
	heard(t, "allowed back", p, video, host, q)
}

func TestStoppedScreenStaysStoppedWhenReAdded(t *testing.T) {
	s := testserver.Start(t, nil)
	host, q, p, _ := hostileRoom(t, s, testserver.Plan(store.LobbyEveryoneWaits))
	republish(t, p, sfu.SourceMicrophone, sfu.SourceCamera, sfu.SourceScreen)
	waitFor(t, "Q to see P's screen", 60*time.Second, func() bool { return q.Received(p.ID(), sfu.SourceScreen).Packets.Load() > 0 })
	_ = host.Send(&meeting.Mute{Participant: p.ID(), Kind: meeting.KindScreen})
	msg(t, p, func(y *meeting.You) bool { return y.ScreenBlocked })
	seen := q.Received(p.ID(), sfu.SourceScreen).Packets.Load()

	republish(t, p, sfu.SourceMicrophone, sfu.SourceCamera)
	republish(t, p, sfu.SourceMicrophone, sfu.SourceCamera, sfu.SourceScreen)
	msg(t, p, func(e *meeting.Error) bool {
		return e.Code == "not_allowed" && strings.Contains(e.Message, "screen share")
	})
	sent := p.Sent(sfu.SourceScreen)
	waitFor(t, "P to send its screen again", 60*time.Second, func() bool { return p.Sent(sfu.SourceScreen) > sent+100 })
	if n := q.Received(p.ID(), sfu.SourceScreen).Packets.Load() - seen; n != 0 {
		t.Errorf("Q received %d packets of a screen the host stopped, re-added", n)
	}

	// Allowed, a new share is seen.
	_ = host.Send(&meeting.Allow{Participant: p.ID(), Kind: meeting.KindScreen})
	told(t, p, func(y *meeting.You) bool { return y.MayShare })
	republish(t, p, sfu.SourceMicrophone, sfu.SourceCamera)
	republish(t, p, sfu.SourceMicrophone, sfu.SourceCamera, sfu.SourceScreen)
	waitFor(t, "Q to see the allowed share", 60*time.Second, func() bool { return q.Received(p.ID(), sfu.SourceScreen).Packets.Load() > seen+20 })
}

// TestMuteOutlastsEveryWayBackIn: in a meeting that admits invitees by
// itself, a muted parent resumes after a network drop, rejoins with the same
// link, and joins on a second device; no host does anything, and nobody
// hears them.
func TestMuteOutlastsEveryWayBackIn(t *testing.T) {
	s := testserver.Start(t, nil)
	plan := testserver.Plan(store.LobbyInviteesAdmitted)
	plan.UnmutePolicy = store.UnmuteAsk
	host, q, p, link := hostileRoom(t, s, plan)
	_ = host.Send(&meeting.Mute{Participant: p.ID(), Kind: meeting.KindAudio})
	msg(t, p, func(y *meeting.You) bool { return y.AudioBlocked })
	_ = host.Send(&meeting.Mute{Participant: q.ID(), Kind: meeting.KindAudio}) // Q is not the subject: keep its count clean
	unheard(t, "muted", p, sfu.SourceMicrophone, audio, host, q)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Drop(ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	_ = p.Send(&meeting.MediaState{Audio: true, Video: true})
	msg(t, p, func(e *meeting.Error) bool { return e.Code == "not_allowed" })
	unheard(t, "resumed", p, sfu.SourceMicrophone, audio, host, q)

	second := s.Parent(t, link, "P's phone", testclient.Options{})
	msg[*meeting.Welcome](t, second, func(w *meeting.Welcome) bool { return w.Presence == meeting.PresenceRoom })
	waitFor(t, "the phone's camera at Q", 60*time.Second, func() bool { return q.ReceivedOfKind(second.ID(), video) > 0 })
	unheard(t, "second device", second, sfu.SourceMicrophone, audio, host, q)

	p.Leave()
	second.Leave()
	back := s.Parent(t, link, "P again", testclient.Options{})
	msg(t, back, func(y *meeting.You) bool { return y.AudioBlocked && !y.MayUnmute })
	waitFor(t, "the rejoined camera at Q", 60*time.Second, func() bool { return q.ReceivedOfKind(back.ID(), video) > 0 })
	unheard(t, "rejoined", back, sfu.SourceMicrophone, audio, host, q)
}

// TestNobodyPassesForTheHost: a parent cannot take the teacher's name (nor
// a co-host's) under any spelling, and the chat shows each sender's role.
func TestNobodyPassesForTheHost(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, links := s.Meeting(t, store.LobbyEveryoneWaits, "Mrs Patel", "Mr Jones", "Mr Other")
	host := s.Host(t, mid, testclient.Options{Publish: []sfu.Source{}})
	patel := s.Parent(t, links[0], "Mrs Patel", testclient.Options{Publish: []sfu.Source{}})
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 1 })
	_ = host.Send(&meeting.AdmitAll{})
	msg[*meeting.Admitted](t, patel, nil)
	_ = host.Send(&meeting.SetRole{Participant: patel.ID(), Role: meeting.RoleCohost})
	msg(t, patel, func(y *meeting.You) bool { return y.Role == meeting.RoleCohost })

	for _, tc := range []struct{ link, name string }{
		{links[1], "Ms Smith"}, {links[1], "ms.  SMITH"}, {links[1], "Мs Smіth"}, {links[1], "Ms Smi\u200bth"},
		{links[2], "MRS PATEL"}, {links[2], "Mrs Pаtel"},
	} {
		c, err := testclient.New(s.URL, tc.name, testclient.Options{Publish: []sfu.Source{}})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = c.JoinLink(ctx, tc.link)
		cancel()
		c.Close()
		if err == nil {
			t.Errorf("a parent joined as %q", tc.name)
		}
	}
	for _, m := range host.Messages() {
		if l, ok := m.(*meeting.Lobby); ok {
			for _, e := range l.Entries {
				if e.ID != patel.ID() {
					t.Errorf("a poser reached the lobby as %q", e.Name)
				}
			}
		}
	}

	jones := s.Parent(t, links[1], "Mr Jones", testclient.Options{Publish: []sfu.Source{}})
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 1 })
	_ = host.Send(&meeting.AdmitAll{})
	msg[*meeting.Admitted](t, jones, nil)
	_ = host.Send(&meeting.Chat{Text: "Welcome", To: "everyone"})
	_ = jones.Send(&meeting.Chat{Text: "Hello", To: "everyone"})
	roles := map[string]meeting.Role{}
	waitFor(t, "both messages at Patel", 10*time.Second, func() bool {
		for _, e := range chatOf(patel) {
			roles[e.Text] = e.FromRole
		}
		return len(roles) == 2
	})
	if roles["Welcome"] != meeting.RoleHost || roles["Hello"] != meeting.RoleParticipant {
		t.Errorf("chat roles: %v", roles)
	}
}

// TestCheapFloodsAreCapped: one personal link opened again and again holds
// a few places at most, and an admitted client cannot make the server keep
// ICE candidates without end.
func TestCheapFloodsAreCapped(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, links := s.Meeting(t, store.LobbyEveryoneWaits, "P")
	host := s.Host(t, mid, testclient.Options{Publish: []sfu.Source{}})
	var in []*testclient.Client
	refused := 0
	for i := range meeting.MaxDevices + 3 {
		c, err := testclient.New(s.URL, "P", testclient.Options{Publish: []sfu.Source{sfu.SourceMicrophone}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err = c.JoinLink(ctx, links[0])
		cancel()
		switch {
		case err == nil:
			in = append(in, c)
		case strings.Contains(err.Error(), "too_many_devices") || hasError(c, "too_many_devices"):
			refused++
		default:
			t.Fatalf("join %d: %v", i, err)
		}
	}
	if len(in) != meeting.MaxDevices || refused != 3 {
		t.Fatalf("%d joined, %d refused", len(in), refused)
	}
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == meeting.MaxDevices })

	p := in[0]
	_ = host.Send(&meeting.Admit{Participant: p.ID()})
	msg[*meeting.Admitted](t, p, nil)
	msg[*meeting.ServerAnswer](t, p, nil)
	// Candidates for the publishing connection, each new, paced under the
	// message rate so none is refused for rate.
	pace := rate.NewLimiter(25, 1)
	for i := range sfu.MaxCandidates + 20 {
		if err := pace.Wait(context.Background()); err != nil {
			t.Fatal(err)
		}
		c := &meeting.Candidate{PC: sfu.PCPublish, Candidate: meeting.CandidateInit{
			Candidate: fmt.Sprintf("candidate:%d 1 udp 2130706431 127.0.0.1 %d typ host", i, 20000+i),
		}}
		if err := p.Send(c); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, "candidates beyond the cap refused", 20*time.Second, func() bool { return countErrors(p, "too many ICE candidates") >= 20 })
	if n := countErrors(p, "too many ICE candidates"); n != 20 {
		t.Errorf("%d candidates refused for the cap, want 20", n)
	}
	if n := countErrors(p, "rate_limited"); n != 0 {
		t.Errorf("%d refused for rate: the test sent too fast to prove the cap", n)
	}
}

func hasError(c *testclient.Client, code string) bool {
	for _, m := range c.Messages() {
		if e, ok := m.(*meeting.Error); ok && e.Code == code {
			return true
		}
	}
	return false
}

func countErrors(c *testclient.Client, text string) int {
	n := 0
	for _, m := range c.Messages() {
		if e, ok := m.(*meeting.Error); ok && (e.Code == text || strings.Contains(e.Message, text)) {
			n++
		}
	}
	return n
}

// TestWithdrawnLinkAndCancelledMeetingReachTheRoom: the teacher replaces a
// leaked link (whoever came in through it leaves, and is no longer heard),
// then cancels the meeting (everyone is told it ended).
func TestWithdrawnLinkAndCancelledMeetingReachTheRoom(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, links := s.Meeting(t, store.LobbyEveryoneWaits, "P", "Q")
	host := s.Host(t, mid, testclient.Options{})
	p := s.Parent(t, links[0], "P", testclient.Options{})
	q := s.Parent(t, links[1], "Q", testclient.Options{})
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 2 })
	_ = host.Send(&meeting.AdmitAll{})
	testclient.HearEachOther(t, []*testclient.Client{host, p, q})

	invs, err := s.Store.Invitees(context.Background(), testserver.MeetingUUID(mid))
	if err != nil {
		t.Fatal(err)
	}
	var pInvitee string
	for _, inv := range invs {
		if inv.Name == "P" {
			pInvitee = inv.ID.String()
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	// Whoever holds the leaked link fetched a token in advance.
	leaker, _ := testclient.New(s.URL, "Leaker", testclient.Options{})
	defer leaker.Close()
	spare, socket, err := leaker.JoinToken(ctx, links[0]+"/join")
	if err != nil {
		t.Fatal(err)
	}
	if err := host.PostForm(ctx, "/meetings/"+mid+"/invitees/"+pInvitee+"/renew", nil); err != nil {
		t.Fatal(err)
	}
	if e := msg(t, p, func(e *meeting.Error) bool { return e.Code == "link_withdrawn" }); e.Message == "" {
		t.Error("P is not told why")
	}
	waitFor(t, "P's socket to close", 10*time.Second, func() bool { return p.Closed() != nil })
	msg(t, q, func(l *meeting.ParticipantLeft) bool { return l.ParticipantID == p.ID() })
	unheard(t, "withdrawn link", p, sfu.SourceMicrophone, audio, host, q)
	if _, m := joinWith(t, s, "Leaker", socket, spare); !isError(m, "link_withdrawn") {
		t.Errorf("a token fetched through the replaced link: %+v", m)
	}

	if err := host.PostForm(ctx, "/meetings/"+mid+"/cancel", nil); err != nil {
		t.Fatal(err)
	}
	for _, c := range []*testclient.Client{host, q} {
		msg(t, c, func(e *meeting.Ended) bool { return strings.Contains(e.Reason, "cancelled") })
	}
}

// TestDemotionAndLobbyHoldAgainstEveryWayBack: a parent the host made an
// observer stays one (nothing of theirs is forwarded) after a network drop
// and a rejoin with the same link, and on a second device; a parent sent
// back to the lobby is neither heard nor seen, and resuming puts them back
// in the lobby, not the room.
func TestDemotionAndLobbyHoldAgainstEveryWayBack(t *testing.T) {
	s := testserver.Start(t, nil)
	host, q, p, link := hostileRoom(t, s, testserver.Plan(store.LobbyInviteesAdmitted))
	_ = host.Send(&meeting.SetRole{Participant: p.ID(), Role: meeting.RoleObserver})
	told(t, p, func(y *meeting.You) bool { return y.Role == meeting.RoleObserver })
	unheard(t, "observer", p, sfu.SourceMicrophone, audio, host, q)
	unheard(t, "observer", p, sfu.SourceCamera, video, host, q)

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := p.Drop(ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	unheard(t, "observer resumed", p, sfu.SourceMicrophone, audio, host, q)
	p.Leave()
	back := s.Parent(t, link, "P again", testclient.Options{})
	if w := msg[*meeting.Welcome](t, back, nil); w.You.Role != meeting.RoleObserver {
		t.Errorf("P rejoined as %s", w.You.Role)
	}
	second := s.Parent(t, link, "P's phone", testclient.Options{})
	if w := msg[*meeting.Welcome](t, second, nil); w.You.Role != meeting.RoleObserver {
		t.Errorf("P's second device joined as %s", w.You.Role)
	}
	// Their clients publish as soon as they are in the room; the offers are
	// refused, so their media never even connects.
	for _, c := range []*testclient.Client{back, second} {
		msg(t, c, func(e *meeting.Error) bool { return e.Code == "not_allowed" })
		for _, k := range []webrtc.RTPCodecType{audio, video} {
			if n := q.ReceivedOfKind(c.ID(), k) + host.ReceivedOfKind(c.ID(), k); n != 0 {
				t.Errorf("%d %s packets from %s", n, k, c.Name)
			}
		}
	}

	// Q is sent back to the lobby: their media stops, and a resume keeps
	// them there.
	_ = host.Send(&meeting.SendToLobby{Participant: q.ID()})
	msg[*meeting.SentToLobby](t, q, nil)
	unheard(t, "sent to lobby", q, sfu.SourceMicrophone, audio, host)
	if err := q.Drop(ctx, 2*time.Second); err != nil {
		t.Fatal(err)
	}
	if w := q.Welcome(); w.Presence != meeting.PresenceLobby {
		t.Errorf("Q resumed into %q", w.Presence)
	}
	unheard(t, "resumed into the lobby", q, sfu.SourceMicrophone, audio, host)
}

// TestStopsOutlastARestart: the server restarts mid-meeting (a deploy);
// everyone joins again, and whom the host muted is still muted.
func TestStopsOutlastARestart(t *testing.T) {
	s := testserver.Start(t, nil)
	plan := testserver.Plan(store.LobbyInviteesAdmitted)
	plan.UnmutePolicy = store.UnmuteAsk
	host, q, p, link := hostileRoom(t, s, plan)
	mid := host.Welcome().Meeting.ID
	_ = host.Send(&meeting.Mute{Participant: p.ID(), Kind: meeting.KindAudio})
	msg(t, p, func(y *meeting.You) bool { return y.AudioBlocked })
	s.Drained(t, 10*time.Second)
	for _, c := range []*testclient.Client{host, q, p} {
		c.Close()
	}
	s.Hub.Close()

	s2 := testserver.StartOn(t, s.Store, nil)
	host2 := s2.Host(t, mid, testclient.Options{})
	q2 := s2.Parent(t, qLink(t, s, mid), "Q", testclient.Options{})
	p2 := s2.Parent(t, link, "P", testclient.Options{})
	msg(t, p2, func(y *meeting.You) bool { return y.AudioBlocked && !y.MayUnmute })
	waitFor(t, "P's camera after the restart", 60*time.Second, func() bool { return q2.ReceivedOfKind(p2.ID(), video) > 0 })
	unheard(t, "after a restart", p2, sfu.SourceMicrophone, audio, host2, q2)
}

// qLink is the personal link of the invitee named Q.
func qLink(t *testing.T, s *testserver.Server, mid string) string {
	t.Helper()
	invs, err := s.Store.Invitees(context.Background(), testserver.MeetingUUID(mid))
	if err != nil {
		t.Fatal(err)
	}
	for _, inv := range invs {
		if inv.Name == "Q" {
			return "/j/" + s.LinkToken(inv)
		}
	}
	t.Fatal("no invitee Q")
	return ""
}
