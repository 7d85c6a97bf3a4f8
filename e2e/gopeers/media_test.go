package gopeers

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
	"classmeet/internal/testserver"
)

type counts map[string]uint64

// snapshot counts, per sender and source, what was sent and what each
// client received.
func snapshot(cs []*testclient.Client) (sent, recv counts) {
	sent, recv = counts{}, counts{}
	for _, a := range cs {
		for _, src := range []sfu.Source{sfu.SourceMicrophone, sfu.SourceCamera} {
			sent[a.Name+"/"+string(src)] = a.Sent(src)
			for _, b := range cs {
				if a != b {
					recv[b.Name+"<-"+a.Name+"/"+string(src)] = b.Received(a.ID(), src).Packets.Load()
				}
			}
		}
	}
	return sent, recv
}

// TestFourPeopleMeet: a host and three parents; everyone receives >= 95 %
// of everyone else's audio and video packets over 10 s, and every video
// track decodes from its first keyframe.
func TestFourPeopleMeet(t *testing.T) {
	dir := t.TempDir()
	s := testserver.Start(t, nil)
	opts := map[string]testclient.Options{}
	for _, n := range []string{"host", "jones", "patel", "okafor"} {
		opts[n] = testclient.Options{RecordDir: dir}
	}
	host, ps := s.AdmittedRoom(t, []string{"jones", "patel", "okafor"}, opts)
	all := append([]*testclient.Client{host}, ps...)
	testclient.HearEachOther(t, all)

	// Past the start (the first keyframe everywhere), count over a stretch
	// in which every source sends at least 300 packets (about 10 s); then
	// give the receivers time to catch up with what was sent in it. Loss
	// is what never arrives, however long the machine takes.
	waitFor(t, "everyone past the first second of everyone", 60*time.Second, func() bool {
		_, recv := snapshot(all)
		for _, n := range recv {
			if n < 50 {
				return false
			}
		}
		return true
	})
	sent0, recv0 := snapshot(all)
	waitFor(t, "300 packets from every source", 60*time.Second, func() bool {
		sent, _ := snapshot(all)
		for k, n := range sent {
			if n-sent0[k] < 300 {
				return false
			}
		}
		return true
	})
	sent1, _ := snapshot(all)
	delta := func(a *testclient.Client, src sfu.Source) uint64 {
		k := a.Name + "/" + string(src)
		return sent1[k] - sent0[k]
	}
	waitFor(t, "every receiver to get 95% of what was sent", 60*time.Second, func() bool {
		_, recv := snapshot(all)
		for _, a := range all {
			for _, src := range []sfu.Source{sfu.SourceMicrophone, sfu.SourceCamera} {
				for _, b := range all {
					k := b.Name + "<-" + a.Name + "/" + string(src)
					if a != b && float64(recv[k]-recv0[k]) < 0.95*float64(delta(a, src)) {
						return false
					}
				}
			}
		}
		return true
	})
	// Nothing arrives twice: what arrived is no more than what was sent
	// since the count began (read after the receipts, so it is the larger).
	_, recv1 := snapshot(all)
	sent2, _ := snapshot(all)

	worst := 2.0
	for _, a := range all {
		for _, src := range []sfu.Source{sfu.SourceMicrophone, sfu.SourceCamera} {
			sent := delta(a, src)
			sentSince := sent2[a.Name+"/"+string(src)] - sent0[a.Name+"/"+string(src)]
			for _, b := range all {
				if a == b {
					continue
				}
				k := b.Name + "<-" + a.Name + "/" + string(src)
				got := recv1[k] - recv0[k]
				worst = min(worst, float64(got)/float64(sent))
				if float64(got) > 1.02*float64(sentSince) {
					t.Errorf("%s: %d packets received of %d sent", k, got, sentSince)
				}
			}
		}
	}
	t.Logf("worst of 24 sender->receiver tracks: %.1f%% of the packets sent in the stretch", 100*worst)
	for _, a := range all {
		for _, b := range all {
			if a != b && !a.Received(b.ID(), sfu.SourceCamera).FirstFrameKey.Load() {
				t.Errorf("%s's first frame of %s's video was not a keyframe", a.Name, b.Name)
			}
		}
	}
	for _, c := range all {
		c.Leave()
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.ivf"))
	if len(files) != 12 {
		t.Fatalf("%d recorded video tracks, want 12", len(files))
	}
	for _, f := range files {
		out, err := exec.Command("ffmpeg", "-v", "error", "-i", f, "-f", "null", "-").CombinedOutput()
		if err != nil || len(strings.TrimSpace(string(out))) > 0 {
			t.Errorf("%s does not decode cleanly: %v\n%s", filepath.Base(f), err, out)
		}
	}
}

// TestLobbyAndDeniedGetNoMedia: nobody in the lobby, nor anyone denied,
// ever gets a PeerConnection or a packet; an offer from the lobby is refused.
func TestLobbyAndDeniedGetNoMedia(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, links := s.Meeting(t, store.LobbyEveryoneWaits, "waiting", "denied")
	host := s.Host(t, mid, testclient.Options{})
	waiting := s.Parent(t, links[0], "waiting", testclient.Options{})
	denied := s.Parent(t, links[1], "denied", testclient.Options{})
	msg(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 2 })

	offer := handMadeOffer(t)
	seq := waiting.NextSeq()
	if err := waiting.Send(&meeting.Offer{PC: sfu.PCPublish, SDP: offer, Tracks: map[string]string{"0": "camera"}}); err != nil {
		t.Fatal(err)
	}
	e := msg(t, waiting, func(e *meeting.Error) bool { return e.Code == "not_admitted" })
	if e.InReplyTo <= seq {
		t.Errorf("refusal answers seq %d", e.InReplyTo)
	}
	_ = waiting.Send(&meeting.Candidate{PC: sfu.PCSubscribe, Candidate: meeting.CandidateInit{Candidate: "candidate:1 1 udp 1 127.0.0.1 9 typ host"}})
	msg(t, waiting, func(e *meeting.Error) bool { return e.Code == "not_admitted" && e.InReplyTo > seq+1 })

	if err := host.Send(&meeting.Deny{Participant: denied.ID(), Message: "not today"}); err != nil {
		t.Fatal(err)
	}
	if d := msg[*meeting.Denied](t, denied, nil); d.Message != "not today" {
		t.Errorf("denied with %q", d.Message)
	}
	waitFor(t, "the denied socket to close", 15*time.Second, func() bool { return denied.Closed() != nil })

	// The host publishes meanwhile: 60 video packets, about 2 s.
	hostSent := host.Sent(sfu.SourceCamera)
	waitFor(t, "the host to publish on", 60*time.Second, func() bool { return host.Sent(sfu.SourceCamera) >= hostSent+60 })
	for _, c := range []*testclient.Client{waiting, denied} {
		if n := s.MediaJoins(c.ID()); n != 0 {
			t.Errorf("%s got %d media peers", c.Name, n)
		}
		if tracks := c.ReceivedTracks(); len(tracks) != 0 {
			t.Errorf("%s received %v", c.Name, tracks)
		}
		for _, m := range c.Messages() {
			if _, ok := m.(*meeting.ServerOffer); ok {
				t.Errorf("%s was offered media", c.Name)
			}
		}
	}
	if s.MediaJoins(host.ID()) != 1 {
		t.Error("the host got no media peer")
	}
}

// handMadeOffer is a real publishing offer from a pion PeerConnection.
func handMadeOffer(t *testing.T) string {
	t.Helper()
	pc, err := webrtc.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	tr, _ := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "v", "s")
	if _, err := pc.AddTrack(tr); err != nil {
		t.Fatal(err)
	}
	o, err := pc.CreateOffer(nil)
	if err != nil {
		t.Fatal(err)
	}
	return o.SDP
}

// TestSlowSubscriberDoesNotHurtOthers: a participant that stops reading its
// media does not reduce what the others receive.
func TestSlowSubscriberDoesNotHurtOthers(t *testing.T) {
	s := testserver.Start(t, nil)
	host, ps := s.AdmittedRoom(t, []string{"jones", "asleep"}, map[string]testclient.Options{"asleep": {StopReading: true}})
	jones := ps[0]
	testclient.HearEachOther(t, []*testclient.Client{host, jones})
	mediaFlows(t, jones, host, 30) // past the start
	before := host.Sent(sfu.SourceCamera)
	got0 := jones.Received(host.ID(), sfu.SourceCamera).Packets.Load()
	// While the host sends 150 packets (about 5 s) the sleeper's queue
	// fills; jones still gets 95% of them, however long delivery takes.
	waitFor(t, "the host to send 150 packets", 60*time.Second, func() bool { return host.Sent(sfu.SourceCamera) >= before+150 })
	sent := host.Sent(sfu.SourceCamera) - before
	waitFor(t, fmt.Sprintf("jones to get 95%% of %d packets beside a sleeping subscriber", sent), 60*time.Second, func() bool {
		return float64(jones.Received(host.ID(), sfu.SourceCamera).Packets.Load()-got0) >= 0.95*float64(sent)
	})
}

// TestGoroutinesReturnToBaseline: after everyone leaves, no goroutine of the
// meeting, its media or its sockets is left.
func TestGoroutinesReturnToBaseline(t *testing.T) {
	s := testserver.Start(t, nil)
	warm, _ := s.Meeting(t, store.LobbyEveryoneWaits)
	h := s.Host(t, warm, testclient.Options{})
	h.Leave()
	waitFor(t, "the warm-up meeting to empty", 15*time.Second, func() bool { m, _ := s.Hub.Live(); return m == 0 })
	// The warm-up's goroutines wind down: the count stops falling.
	last := -1
	testclock.Poll(10*time.Second, func() bool { n := runtime.NumGoroutine(); settled := n == last; last = n; return settled })
	baseline := runtime.NumGoroutine()

	host, ps := s.AdmittedRoom(t, []string{"jones", "patel"}, nil)
	all := append([]*testclient.Client{host}, ps...)
	testclient.HearEachOther(t, all)
	during := runtime.NumGoroutine()
	for _, c := range all {
		c.Leave()
	}
	waitFor(t, "the meeting to empty", 15*time.Second, func() bool { m, p := s.Hub.Live(); return m == 0 && p == 0 })
	testclock.Poll(30*time.Second, func() bool { return runtime.NumGoroutine() <= baseline+2 })
	if n := runtime.NumGoroutine(); n > baseline+2 {
		buf := make([]byte, 1<<20)
		n2 := runtime.Stack(buf, true)
		t.Errorf("%d goroutines after everyone left; baseline %d, during %d\n%s", n, baseline, during, buf[:n2])
	}
	t.Logf("goroutines: baseline %d, during a 3-person meeting %d, after %d", baseline, during, runtime.NumGoroutine())
}

// TestICEOverTCP: a participant whose network blocks UDP still meets.
func TestICEOverTCP(t *testing.T) {
	s := testserver.Start(t, nil)
	tcpOnly := testclient.Options{Networks: []webrtc.NetworkType{webrtc.NetworkTypeTCP4}}
	host, ps := s.AdmittedRoom(t, []string{"firewalled"}, map[string]testclient.Options{"firewalled": tcpOnly})
	testclient.HearEachOther(t, []*testclient.Client{host, ps[0]})
}

// TestReconnectWithoutLobby: a parent's WebSocket and UDP die for 3 s; it
// comes back without the lobby, media flows again, and the host still sees
// one tile for it.
func TestReconnectWithoutLobby(t *testing.T) {
	s := testserver.Start(t, nil)
	host, ps := s.AdmittedRoom(t, []string{"jones"}, nil)
	jones := ps[0]
	testclient.HearEachOther(t, []*testclient.Client{host, jones})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := jones.Drop(ctx, 3*time.Second); err != nil {
		t.Fatal(err)
	}
	if w := jones.Welcome(); w.Presence != meeting.PresenceRoom {
		t.Fatalf("resumed into %q", w.Presence)
	}
	for _, m := range jones.Messages() {
		if _, ok := m.(*meeting.LobbyStatus); ok {
			t.Error("the reconnecting parent was put in the lobby")
		}
	}
	hostGot := host.Received(jones.ID(), sfu.SourceCamera).Packets.Load()
	jonesGot := jones.Received(host.ID(), sfu.SourceCamera).Packets.Load()
	waitFor(t, "media from jones again", 60*time.Second, func() bool { return host.Received(jones.ID(), sfu.SourceCamera).Packets.Load() > hostGot+30 })
	waitFor(t, "media to jones again", 60*time.Second, func() bool { return jones.Received(host.ID(), sfu.SourceCamera).Packets.Load() > jonesGot+30 })

	// The host's view of the room, replayed from its messages: one jones.
	tiles := map[string]string{}
	for _, m := range host.Messages() {
		switch m := m.(type) {
		case *meeting.ParticipantJoined:
			tiles[m.Participant.ID] = m.Participant.Name
		case *meeting.ParticipantLeft:
			delete(tiles, m.ParticipantID)
		}
	}
	var names []string
	for _, n := range tiles {
		names = append(names, n)
	}
	sort.Strings(names)
	if strings.Join(names, ",") != "jones" {
		t.Errorf("the host sees %v", names)
	}
	if _, ok := msg(t, host, func(u *meeting.ParticipantUpdated) bool { return u.Participant.Presence == meeting.PresenceAway }).Participant, true; !ok {
		t.Error("the host was not told jones was reconnecting")
	}
}
