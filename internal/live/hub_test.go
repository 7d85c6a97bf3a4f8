package live

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/uuid"
	"github.com/pion/webrtc/v4"

	"classmeet/internal/meeting"
	"classmeet/internal/recorder"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

type fakeConn struct {
	mu     sync.Mutex
	msgs   []meeting.ServerMessage
	closed string
}

func (c *fakeConn) Send(m meeting.ServerMessage) {
	c.mu.Lock()
	c.msgs = append(c.msgs, m)
	c.mu.Unlock()
}
func (c *fakeConn) Close(r string) { c.mu.Lock(); c.closed = r; c.mu.Unlock() }
func (c *fakeConn) all() []meeting.ServerMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]meeting.ServerMessage(nil), c.msgs...)
}

type fakeMedia struct {
	mu    sync.Mutex
	peers map[string]*fakePeer
}

type fakePeer struct {
	mu      sync.Mutex
	offers  int
	closed  bool
	stuck   chan struct{}       // when set, offers wait on it: slow media work
	stopped map[sfu.Source]bool // what SetForwarding last said of each source
	quality sfu.Quality
}

func (p *fakePeer) setQuality(q sfu.Quality) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.quality = q
}

func (m *fakeMedia) Join(id string, _ func(sfu.Signal)) (MediaPeer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := &fakePeer{}
	m.peers[id] = p
	return p, nil
}
func (m *fakeMedia) Close()                            {}
func (m *fakeMedia) Watch(func(recorder.Track)) func() { return func() {} }
func (m *fakeMedia) peer(id string) *fakePeer {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.peers[id]
}

func (p *fakePeer) HandleOffer(string, map[string]sfu.Source) error {
	p.mu.Lock()
	p.offers++
	stuck := p.stuck
	p.mu.Unlock()
	if stuck != nil {
		<-stuck
	}
	return nil
}
func (p *fakePeer) HandleAnswer(string) error                             { return nil }
func (p *fakePeer) HandleCandidate(string, webrtc.ICECandidateInit) error { return nil }
func (p *fakePeer) RestartICE()                                           {}
func (p *fakePeer) SetVideoSize(string, sfu.Source, int, int) error       { return nil }
func (p *fakePeer) SetReceiveVideo(bool)                                  {}
func (p *fakePeer) SetForwarding(src sfu.Source, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped == nil {
		p.stopped = map[sfu.Source]bool{}
	}
	p.stopped[src] = !on
}
func (p *fakePeer) isStopped(src sfu.Source) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stopped[src]
}
func (p *fakePeer) Quality() sfu.Quality { p.mu.Lock(); defer p.mu.Unlock(); return p.quality }
func (p *fakePeer) Close()               { p.mu.Lock(); p.closed = true; p.mu.Unlock() }
func (p *fakePeer) isClosed() bool       { p.mu.Lock(); defer p.mu.Unlock(); return p.closed }

type oneMeeting struct{ m store.MeetingWithHost }

func (o oneMeeting) MeetingWithHost(context.Context, uuid.UUID) (store.MeetingWithHost, error) {
	return o.m, nil
}

func (o oneMeeting) Chat(context.Context, uuid.UUID) ([]store.ChatMessage, error) { return nil, nil }

func (o oneMeeting) Decisions(context.Context, uuid.UUID) ([]store.Decision, error) { return nil, nil }

func newTestHub(media *fakeMedia) (*Hub, uuid.UUID) {
	id := uuid.New()
	m := store.MeetingWithHost{Meeting: store.Meeting{ID: id, Title: "T", LobbyPolicy: store.LobbyEveryoneWaits}, HostName: "H"}
	return NewHub(HubConfig{
		Meetings: oneMeeting{m}, NewMedia: func(string) MediaRoom { return media },
		Grace: 60 * time.Second, Log: discardLog(),
	}), id
}

func lastOf[T meeting.ServerMessage](c *fakeConn) (T, bool) {
	msgs := c.all()
	for i := len(msgs) - 1; i >= 0; i-- {
		if v, ok := msgs[i].(T); ok {
			return v, true
		}
	}
	var zero T
	return zero, false
}

// inRoom is a meeting on the test hub with its host and Mr Jones, admitted.
type inRoom struct {
	media                *fakeMedia
	hub                  *Hub
	mid                  uuid.UUID
	hs, ps               *Session
	hostConn, parentConn *fakeConn
}

func hostAndParent(t *testing.T) inRoom {
	t.Helper()
	r := inRoom{media: &fakeMedia{peers: map[string]*fakePeer{}}, hostConn: &fakeConn{}, parentConn: &fakeConn{}}
	r.hub, r.mid = newTestHub(r.media)
	ctx := context.Background()
	var err error
	if r.hs, err = r.hub.Join(ctx, r.mid, host, r.hostConn); err != nil {
		t.Fatal(err)
	}
	if r.ps, err = r.hub.Join(ctx, r.mid, jones, r.parentConn); err != nil {
		t.Fatal(err)
	}
	r.hs.Handle(&meeting.Admit{Header: meeting.Header{Seq: 1}, Participant: "jones"})
	return r
}

// TestGraceWindow runs the real hub on a fake clock: a participant who comes
// back within 60 s resumes in the room; one who stays away longer is gone,
// and its media peer with it.
func TestGraceWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := hostAndParent(t)
		media, hub, mid, hs, ps, hostConn, parentConn := r.media, r.hub, r.mid, r.hs, r.ps, r.hostConn, r.parentConn
		w, _ := lastOf[*meeting.Welcome](parentConn)
		secret := w.Resume

		ps.Disconnected()
		time.Sleep(59 * time.Second)
		again := &fakeConn{}
		ps2, err := hub.Resume(mid, secret, true, again)
		if err != nil {
			t.Fatalf("resume after 59 s: %v", err)
		}
		if w, _ := lastOf[*meeting.Welcome](again); w.Presence != meeting.PresenceRoom {
			t.Errorf("resumed into %q", w.Presence)
		}
		// The stale expiry from the first disconnect fires now and must not matter.
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if _, left := lastOf[*meeting.ParticipantLeft](hostConn); left {
			t.Fatal("the resumed participant was removed by an old timer")
		}

		ps2.Disconnected()
		time.Sleep(61 * time.Second)
		synctest.Wait()
		if l, ok := lastOf[*meeting.ParticipantLeft](hostConn); !ok || l.ParticipantID != "jones" {
			t.Fatal("the host was not told the participant left after the grace window")
		}
		if !media.peer("jones").isClosed() {
			t.Error("the media peer outlived its participant")
		}
		if _, err := hub.Resume(mid, secret, true, &fakeConn{}); !isRefusal(err, "resume_expired") {
			t.Errorf("resume after 61 s: %v", err)
		}

		hs.Handle(&meeting.Leave{Header: meeting.Header{Seq: 2}})
		synctest.Wait()
		if m, p := hub.Live(); m != 0 || p != 0 {
			t.Errorf("%d meetings, %d participants live after everyone left", m, p)
		}
		if !media.peer("host").isClosed() {
			t.Error("the host's media peer outlived the host")
		}
	})
}

func TestMediaMessagesReachThePeerInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		media := &fakeMedia{peers: map[string]*fakePeer{}}
		hub, mid := newTestHub(media)
		c := &fakeConn{}
		s, err := hub.Join(context.Background(), mid, host, c)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			s.Handle(&meeting.Offer{Header: meeting.Header{Seq: uint64(i + 1)}, PC: "pub", SDP: "v=0"})
		}
		synctest.Wait()
		if p := media.peer("host"); p == nil || p.offers != 3 {
			t.Fatalf("peer got %v offers", p)
		}
		s.Handle(&meeting.Leave{Header: meeting.Header{Seq: 4}})
		synctest.Wait() // the worker and its peer are gone, or synctest reports a leak
	})
}

// TestMuteDoesNotWaitBehindMediaWork: a participant whose media work is
// stuck behind a flood of its own offers is muted at once all the same.
func TestMuteDoesNotWaitBehindMediaWork(t *testing.T) {
	media := &fakeMedia{peers: map[string]*fakePeer{}}
	hub, mid := newTestHub(media)
	ctx := context.Background()
	hs, err := hub.Join(ctx, mid, host, &fakeConn{})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := hub.Join(ctx, mid, jones, &fakeConn{})
	if err != nil {
		t.Fatal(err)
	}
	hs.Handle(&meeting.Admit{Header: meeting.Header{Seq: 1}, Participant: "jones"})
	testclock.WaitFor(t, "jones's media peer", 10*time.Second, func() bool { return media.peer("jones") != nil })
	jp := media.peer("jones")
	jp.mu.Lock()
	jp.stuck = make(chan struct{})
	jp.mu.Unlock()
	defer close(jp.stuck)
	// One offer the media work is stuck on, then candidates enough to fill
	// its queue.
	ps.Handle(&meeting.Offer{Header: meeting.Header{Seq: 1}, PC: "pub", SDP: "v=0", Tracks: map[string]string{"0": "microphone"}})
	for i := range 400 {
		ps.Handle(&meeting.Candidate{Header: meeting.Header{Seq: uint64(i + 2)}, PC: "pub", Candidate: meeting.CandidateInit{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"}})
	}
	hs.Handle(&meeting.Mute{Header: meeting.Header{Seq: 2}, Participant: "jones", Kind: meeting.KindAudio})
	testclock.WaitFor(t, "the mute to reach the media", 10*time.Second, func() bool { return jp.isStopped(sfu.SourceMicrophone) })
}

// TestEmptiedMeetingRemembersItsEndAndBans: the database has not heard yet
// (the fake store never does) that the host ended the meeting or banned
// someone; a join token fetched before arrives after the room emptied and
// is refused all the same, until the host opens the meeting again.
func TestEmptiedMeetingRemembersItsEndAndBans(t *testing.T) {
	media := &fakeMedia{peers: map[string]*fakePeer{}}
	hub, mid := newTestHub(media)
	ctx := context.Background()
	hs, err := hub.Join(ctx, mid, host, &fakeConn{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hub.Join(ctx, mid, patel, &fakeConn{}); err != nil {
		t.Fatal(err)
	}
	hs.Handle(&meeting.Remove{Header: meeting.Header{Seq: 1}, Participant: "patel", Ban: true})
	hs.Handle(&meeting.Leave{Header: meeting.Header{Seq: 2}})
	testclock.WaitFor(t, "the meeting to be put away", 10*time.Second, func() bool { n, _ := hub.Live(); return n == 0 })
	again := patel
	again.ID = "patel-2"
	if _, err := hub.Join(ctx, mid, again, &fakeConn{}); !isRefusal(err, "removed") {
		t.Fatalf("a banned parent, the room rebuilt: %v", err)
	}

	hs, err = hub.Join(ctx, mid, meeting.Arrival{ID: "host-2", Name: "Ms Smith", Role: meeting.RoleHost, Identity: "user-1"}, &fakeConn{})
	if err != nil {
		t.Fatal(err)
	}
	hs.Handle(&meeting.EndMeeting{Header: meeting.Header{Seq: 1}})
	testclock.WaitFor(t, "the ended meeting to be put away", 10*time.Second, func() bool { n, _ := hub.Live(); return n == 0 })
	if _, err := hub.Join(ctx, mid, jones, &fakeConn{}); !isRefusal(err, "meeting_ended") {
		t.Fatalf("a parent after the end: %v", err)
	}
	if _, err := hub.Join(ctx, mid, meeting.Arrival{ID: "host-3", Name: "Ms Smith", Role: meeting.RoleHost, Identity: "user-1"}, &fakeConn{}); err != nil {
		t.Fatalf("the host opens it again: %v", err)
	}
	if _, err := hub.Join(ctx, mid, jones, &fakeConn{}); err != nil {
		t.Errorf("a parent after the host opened it again: %v", err)
	}
}

func count[T meeting.ServerMessage](c *fakeConn) int {
	n := 0
	for _, m := range c.all() {
		if _, ok := m.(T); ok {
			n++
		}
	}
	return n
}

// TestQualityIsSentWhenItChanges: everyone's levels reach a participant when
// they change and otherwise only every qualityRefresh ticks (N² entries a
// tick would be a lecture's largest signaling cost); the host gets the
// figures at every tick.
func TestQualityIsSentWhenItChanges(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		r := hostAndParent(t)
		media, hs, ps, hostConn, parentConn := r.media, r.hs, r.ps, r.hostConn, r.parentConn
		synctest.Wait()
		good := sfu.Quality{Known: true, RTT: 20 * time.Millisecond}
		media.peer("host").setQuality(good)
		media.peer("jones").setQuality(good)

		every := 2 * time.Second // the hub's default QualityEvery
		time.Sleep(every + time.Millisecond)
		synctest.Wait()
		if count[*meeting.Quality](parentConn) != 1 || count[*meeting.Quality](hostConn) != 1 {
			t.Fatalf("after the first tick: parent %d, host %d quality messages, want 1 each", count[*meeting.Quality](parentConn), count[*meeting.Quality](hostConn))
		}
		time.Sleep(2 * every)
		synctest.Wait()
		if n := count[*meeting.Quality](parentConn); n != 1 {
			t.Errorf("levels unchanged for two ticks, yet the parent got %d messages", n)
		}
		if n := count[*meeting.Quality](hostConn); n != 3 {
			t.Errorf("the host got %d messages in three ticks, want 3 (the figures move)", n)
		}
		media.peer("jones").setQuality(sfu.Quality{Known: true, Loss: 0.2})
		time.Sleep(every)
		synctest.Wait()
		q, _ := lastOf[*meeting.Quality](parentConn)
		if count[*meeting.Quality](parentConn) != 2 || q.Levels["jones"] == "good" {
			t.Errorf("a changed level did not reach the parent at the next tick: %v", q.Levels)
		}
		time.Sleep(time.Duration(qualityRefresh) * every)
		synctest.Wait()
		if n := count[*meeting.Quality](parentConn); n != 3 {
			t.Errorf("the parent got %d messages; want one more as a refresh after %d quiet ticks", n, qualityRefresh)
		}
		ps.Handle(&meeting.Leave{Header: meeting.Header{Seq: 1}})
		hs.Handle(&meeting.Leave{Header: meeting.Header{Seq: 2}})
		synctest.Wait()
	})
}
