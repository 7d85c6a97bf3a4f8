package sfu

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"classmeet/internal/testclock"
)

// The forwarding path without a network: a publication whose packets are
// handed in by the test, and down tracks that write to recorders.

func testPublication() *Publication {
	p := &Publication{
		ID: "p/camera", Participant: "p", Source: SourceCamera, Kind: webrtc.RTPCodecTypeVideo, done: make(chan struct{}),
		Codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96},
	}
	p.init()
	p.addLayer("", nil) // no track, no PeerConnection to ask for keyframes
	return p
}

// writer records what a down track writes; hold, when set, makes it slow.
type writer struct {
	mu     sync.Mutex
	first  []byte
	n      atomic.Uint64
	hold   chan struct{}
	copied bool
	log    []written // with copied: every packet
}

type written struct {
	seq     uint16
	ts      uint32
	payload []byte
}

func (w *writer) WriteRTP(h *rtp.Header, payload []byte) (int, error) {
	if w.hold != nil {
		<-w.hold
	}
	if w.n.Add(1) == 1 && w.copied {
		w.mu.Lock()
		w.first = append([]byte(nil), payload...)
		w.mu.Unlock()
	}
	if w.copied {
		w.mu.Lock()
		w.log = append(w.log, written{h.SequenceNumber, h.Timestamp, append([]byte(nil), payload...)})
		w.mu.Unlock()
	}
	return len(payload), nil
}

func (w *writer) written() []written {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]written(nil), w.log...)
}

func (w *writer) Write(b []byte) (int, error) { return len(b), nil }

// subscribe makes a connected, bound down track of pub writing to w, on a
// link of its own that numbers its packets for TWCC, as every subscriber's.
func subscribe(pub *Publication, w *writer) *DownTrack {
	d := newDownTrack(pub, newLink(), nil)
	d.bound, d.ssrc, d.pt, d.writer, d.twccID = true, 1234, 96, w, 3
	d.connected.Store(true)
	return d
}

// vp8 is a VP8 payload: the first packet of a keyframe, or of another frame.
func vp8(key bool) []byte {
	p := make([]byte, 1100)
	p[0] = 0x10 // S=1, partition 0
	if !key {
		p[1] = 0x01 // P=1: an interframe
	}
	return p
}

func packet(seq int, key bool) *Packet {
	return &Packet{
		Header:  rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(seq), Timestamp: uint32(seq * 3000), SSRC: 1},
		Payload: vp8(key), Arrival: testclock.Now(),
	}
}

// arrive is packet seq as the read loop has it: stored in the ring, so a
// NACK can be answered from there, then fanned out.
func arrive(t testing.TB, pub *Publication, seq int, key bool) {
	t.Helper()
	p := packet(seq, key)
	raw, err := (&rtp.Packet{Header: p.Header, Payload: p.Payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	pub.arrived(pub.layers[0].Load(), raw, p.Arrival, webrtc.MimeTypeVP8, 96)
}

// arrivePadding is a padding-only packet seq (a browser's uplink probe).
func arrivePadding(t testing.TB, pub *Publication, seq int) {
	t.Helper()
	h := packet(seq, false).Header
	h.Padding, h.PaddingSize = true, 5
	raw, err := (&rtp.Packet{Header: h}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	pub.arrived(pub.layers[0].Load(), raw, testclock.Now(), webrtc.MimeTypeVP8, 96)
}

// arriveWithPadding is 30 packets from the publisher, every third only
// padding; it returns how many carried media.
func arriveWithPadding(t *testing.T, pub *Publication) (media int) {
	t.Helper()
	for i := range 30 {
		if i%3 == 2 {
			arrivePadding(t, pub, i)
			continue
		}
		arrive(t, pub, i, i == 0)
		media++
	}
	return media
}

// TestPublishersPaddingLeavesNoGap: the publisher's padding-only packets
// (its browser probing its uplink) are not forwarded, and the subscriber's
// stream has no gap where they were: nothing for it to ask again, or to
// count as lost. A subscriber on a queued (TCP) link too.
func TestPublishersPaddingLeavesNoGap(t *testing.T) {
	pub := testPublication()
	w, wq := &writer{copied: true}, &writer{copied: true}
	subscribe(pub, w)
	dq := subscribe(pub, wq)
	dq.setQueued(true)
	t.Cleanup(dq.stop)
	sent := arriveWithPadding(t, pub)
	testclock.WaitFor(t, "the queued subscriber's packets", 60*time.Second, func() bool { return len(wq.written()) == sent })
	for name, got := range map[string][]written{"direct": w.written(), "queued": wq.written()} {
		if len(got) != sent {
			t.Fatalf("%s: %d packets written, want the %d with media", name, len(got), sent)
		}
		for i := 1; i < len(got); i++ {
			if got[i].seq != got[i-1].seq+1 {
				t.Errorf("%s: sequence number %d follows %d", name, got[i].seq, got[i-1].seq)
			}
		}
	}
}

// TestSlowSubscriberDoesNotHoldUpOthers: one subscriber, whose link can
// block (ICE over TCP, so its packets are queued), stops taking packets; the
// publisher's fan-out never waits for it, the others get every packet, and
// the slow one's losses are counted as drops.
func TestSlowSubscriberDoesNotHoldUpOthers(t *testing.T) {
	pub := testPublication()
	slow := &writer{hold: make(chan struct{})}
	defer close(slow.hold)
	fast := []*writer{{}, {}}
	sd := subscribe(pub, slow)
	sd.setConnected(true, true)
	defer sd.stop()
	for _, w := range fast {
		subscribe(pub, w)
	}
	// Packets come as a publisher sends them, in bursts the fast ones keep
	// up with; the hand-off returns although the slow one never reads.
	const n = 3000
	for i := range n {
		pub.deliver(pub.layers[0].Load(), packet(i, i%30 == 0), webrtc.MimeTypeVP8, 96)
		if i%100 == 99 {
			for _, w := range fast {
				testclock.WaitFor(t, "the fast subscribers to keep up", 60*time.Second, func() bool { return w.n.Load() == uint64(i+1) })
			}
		}
	}
	if sd.Stats().Dropped == 0 {
		t.Error("the slow subscriber's queue overflowed without a drop counted")
	}
}

// TestSubscriberStartsAtAKeyframe: a video down track writes nothing until
// a keyframe comes, so the subscriber can decode from its first packet.
func TestSubscriberStartsAtAKeyframe(t *testing.T) {
	pub := testPublication()
	w := &writer{copied: true}
	d := subscribe(pub, w)
	for i := range 10 {
		pub.deliver(pub.layers[0].Load(), packet(i, false), webrtc.MimeTypeVP8, 96)
	}
	pub.deliver(pub.layers[0].Load(), packet(10, true), webrtc.MimeTypeVP8, 96)
	pub.deliver(pub.layers[0].Load(), packet(11, false), webrtc.MimeTypeVP8, 96)
	testclock.WaitFor(t, "the keyframe and what follows", 60*time.Second, func() bool { return w.n.Load() == 2 })
	w.mu.Lock()
	defer w.mu.Unlock()
	if !vp8Keyframe(w.first) {
		t.Error("the first packet written is not a keyframe's")
	}
	if d.skipped.Load() != 10 {
		t.Errorf("%d packets skipped before the keyframe, want 10", d.skipped.Load())
	}
}

// BenchmarkDeliver: one publisher packet stored in the ring and written to N
// down tracks, each rewriting it and writing it on (to a counter here:
// `classmeet loadtest` measures the whole path, pion and the network, and
// internal/floor the cost of the encryption and the send alone); ns/op and
// allocs/op are per publisher packet.
func BenchmarkDeliver(b *testing.B) {
	for _, n := range []int{1, 10, 100} {
		b.Run(fmt.Sprintf("subscribers=%d", n), func(b *testing.B) {
			pub := testPublication()
			ws := make([]*writer, n)
			for i := range ws {
				ws[i] = &writer{}
				subscribe(pub, ws[i])
			}
			raws := rawPackets(b, 1024)
			at := testclock.Now()
			warmUp(pub, raws, at)
			var before uint64
			for _, w := range ws {
				before += w.n.Load()
			}
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				pub.arrived(pub.layers[0].Load(), raws[i%len(raws)], at, webrtc.MimeTypeVP8, 96)
			}
			b.StopTimer()
			var after uint64
			for _, w := range ws {
				after += w.n.Load()
			}
			if got := after - before; got != uint64(b.N*n) {
				b.Fatalf("%d packets written, want %d", got, b.N*n)
			}
		})
	}
}

// TestFanOutAllocatesNothing: once each subscriber's link has grown its
// records, a packet read and written to ten down tracks allocates nothing
// (the forwarding benchmarks say the same; this runs with every test).
func TestFanOutAllocatesNothing(t *testing.T) {
	pub := testPublication()
	for range 10 {
		subscribe(pub, &writer{})
	}
	raws := rawPackets(t, 1024)
	at := testclock.Now()
	warmUp(pub, raws, at)
	i := 0
	if n := testing.AllocsPerRun(2*len(raws), func() {
		pub.arrived(pub.layers[0].Load(), raws[i%len(raws)], at, webrtc.MimeTypeVP8, 96)
		i++
	}); n != 0 {
		t.Errorf("%.2f allocations per packet fanned out to 10", n)
	}
}

// warmUp delivers raws five times over before a benchmark is timed: each
// subscriber's link grows its records to what the rate needs (packets
// stamped at one instant need the most) once, at the start, and what is
// timed is the steady fan-out.
func warmUp(pub *Publication, raws [][]byte, at time.Time) {
	for i := range 5 * len(raws) {
		pub.arrived(pub.layers[0].Load(), raws[i%len(raws)], at, webrtc.MimeTypeVP8, 96)
	}
}

// rawPackets are n packets of a keyframe as they come off the wire.
func rawPackets(b testing.TB, n int) [][]byte {
	raws := make([][]byte, n)
	for i := range raws {
		p := packet(i, true)
		raw, err := (&rtp.Packet{Header: p.Header, Payload: p.Payload}).Marshal()
		if err != nil {
			b.Fatal(err)
		}
		raws[i] = raw
	}
	return raws
}

// TestNackAnsweredFromTheRing: two subscribers, who started at different
// keyframes and so number their streams differently, each ask again for
// a packet; each gets it from the publication's one ring, under its own
// sequence number and timestamp, with the payload it first had. A number
// never sent (skipped before the keyframe) or older than the ring gets
// nothing.
func TestNackAnsweredFromTheRing(t *testing.T) {
	pub := testPublication()
	a, b := &writer{copied: true}, &writer{copied: true}
	da := subscribe(pub, a)
	arrive(t, pub, 0, true)
	db := subscribe(pub, b)
	for i := 1; i < 100; i++ {
		arrive(t, pub, i, i == 40)
	}
	for _, c := range []struct {
		name string
		d    *DownTrack
		w    *writer
	}{{"a", da, a}, {"b", db, b}} {
		sent := c.w.written()
		want := sent[len(sent)-10]
		c.d.resend(want.seq)
		got := c.w.written()
		if len(got) != len(sent)+1 {
			t.Fatalf("%s: %d packets resent, want 1", c.name, len(got)-len(sent))
		}
		if r := got[len(got)-1]; r.seq != want.seq || r.ts != want.ts || string(r.payload) != string(want.payload) {
			t.Errorf("%s: resent seq %d ts %d, want seq %d ts %d (same payload: %v)", c.name, r.seq, r.ts, want.seq, want.ts, string(r.payload) == string(want.payload))
		}
	}
	// b's stream starts at packet 40: its numbers before that carried nothing.
	before := len(b.written())
	db.resend(b.written()[0].seq - 1)
	// Packets that have left the ring are not sent again.
	for i := 100; i < 100+videoRing; i++ {
		arrive(t, pub, i, false)
	}
	first := a.written()[0].seq
	n := len(a.written())
	da.resend(first)
	if len(b.written()) != before+videoRing || len(a.written()) != n {
		t.Error("a packet never sent, or no longer in the ring, was sent again")
	}
}

// TestNacksCannotMultiplyTraffic: a subscriber that asks for everything
// again and again gets at most two resends of a packet, and never more
// resends than half of what it was forwarded.
func TestNacksCannotMultiplyTraffic(t *testing.T) {
	pub := testPublication()
	w := &writer{copied: true}
	d := subscribe(pub, w)
	for i := range 200 {
		arrive(t, pub, i, i == 0)
	}
	sent := w.written()
	for range 5 {
		for _, p := range sent {
			d.resend(p.seq)
		}
	}
	resent := len(w.written()) - len(sent)
	if resent == 0 || resent > len(sent)/2 {
		t.Errorf("%d resends for %d packets forwarded, want some and at most half", resent, len(sent))
	}
	count := map[uint16]int{}
	for _, p := range w.written() {
		count[p.seq]++
	}
	for seq, c := range count {
		if c > 3 {
			t.Errorf("packet %d sent %d times", seq, c)
		}
	}
}

// TestReconnectedSubscriberStreamStaysContinuous: a subscriber whose
// connection comes back restarts at a keyframe, and that keyframe follows
// the last packet it was sent with the next sequence number: the packets
// skipped meanwhile are not a gap for it to ask again for.
func TestReconnectedSubscriberStreamStaysContinuous(t *testing.T) {
	pub := testPublication()
	w := &writer{copied: true}
	d := subscribe(pub, w)
	for i := range 10 {
		arrive(t, pub, i, i == 0)
	}
	d.setConnected(false, false)
	d.setConnected(true, false)
	for i := 10; i < 20; i++ {
		arrive(t, pub, i, i == 15)
	}
	got := w.written()
	if len(got) != 15 {
		t.Fatalf("%d packets written, want 10 before and 5 from the keyframe after", len(got))
	}
	if !vp8Keyframe(got[10].payload) {
		t.Error("after the reconnect the stream did not start at a keyframe")
	}
	for i := 1; i < len(got); i++ {
		if got[i].seq != got[i-1].seq+1 {
			t.Errorf("sequence number %d follows %d", got[i].seq, got[i-1].seq)
		}
		if int32(got[i].ts-got[i-1].ts) <= 0 {
			t.Errorf("timestamp %d follows %d", got[i].ts, got[i-1].ts)
		}
	}
}

// TestLongStreamKeepsFlowing: a subscriber's stream runs past half the
// sequence-number space (32,768 packets: 11 minutes of audio, under four
// of a camera) and round it, with no pause or layer switch to start a new
// mapping: every packet is still written, numbered one after the other.
// Counted at the track's writer.
func TestLongStreamKeepsFlowing(t *testing.T) {
	pub := testPublication()
	w := &writer{}
	d := subscribe(pub, w)
	last := uint16(0)
	const n = 70_000
	for i := range n {
		arrive(t, pub, 1000+i, i == 0)
		if got := w.n.Load(); got != uint64(i+1) {
			t.Fatalf("packet %d of the stream was not written", i)
		}
		d.mu.Lock()
		seq := d.h.SequenceNumber
		d.mu.Unlock()
		if i > 0 && seq != last+1 {
			t.Fatalf("packet %d went out as %d after %d", i, seq, last)
		}
		last = seq
	}
}

// TestPublishersPaddingLeavesTheRecorderNoGap: the recorder, a subscriber
// like any other, takes a publication's packets through a subscription;
// the publisher's padding-only packets are not in it, and leave no gap in
// its sequence numbers either: its jitter buffer would wait for each,
// count it lost, and drop the video until the next keyframe.
func TestPublishersPaddingLeavesTheRecorderNoGap(t *testing.T) {
	pub := testPublication()
	sub := pub.Subscribe(64)
	sent := arriveWithPadding(t, pub)
	var prev uint16
	for i := range sent {
		p, ok := sub.Recv()
		if !ok {
			t.Fatal("the subscription ended")
		}
		if i > 0 && p.Header.SequenceNumber != prev+1 {
			t.Errorf("sequence number %d follows %d", p.Header.SequenceNumber, prev)
		}
		prev = p.Header.SequenceNumber
	}
}
