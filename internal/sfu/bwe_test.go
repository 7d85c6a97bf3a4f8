package sfu

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/rtcp"
)

// simLink is a link with a token-bucket rate and a drop-tail queue of
// queue's worth of traffic, as tc's tbf makes one, and a fixed delay: it
// says when each packet sent arrives, or that it was dropped.
type simLink struct {
	rate  float64 // bit/s
	queue time.Duration
	delay time.Duration
	free  time.Time // when the link has sent all it holds
	drops int
	// read, if set, is when the receiver reads a packet that would arrive
	// at at: a packet held up on the way, or read late by a busy receiver
	// (which stamps its arrival then).
	read func(at time.Time) time.Time
}

func (s *simLink) send(at time.Time, size int) (time.Time, bool) {
	if s.free.Before(at) {
		s.free = at
	}
	if s.free.Sub(at) > s.queue {
		s.drops++
		return time.Time{}, false
	}
	s.free = s.free.Add(time.Duration(float64(size*8) / s.rate * float64(time.Second)))
	at = s.free.Add(s.delay)
	if s.read != nil {
		at = s.read(at)
	}
	return at, true
}

// linkRun drives a link (the server's side of one subscriber) through a
// simulated network, in simulated time: packets go out at a rate, arrive
// or are dropped by the simLink, and the receiver sends TWCC feedback
// every 100 ms, built by pion's own recorder, as a browser would.
type linkRun struct {
	t       *testing.T
	l       *link
	net     *simLink
	rec     *twcc.Recorder
	now     time.Time
	next    time.Time // the next feedback
	pending []arrival
	sentBit float64 // of media, carried over between steps
}

type arrival struct {
	seq uint16
	at  time.Time
}

func newLinkRun(t *testing.T, rate float64) *linkRun {
	start := time.Unix(1_700_000_000, 0)
	return &linkRun{
		t: t, l: newLink(), net: &simLink{rate: rate, queue: 300 * time.Millisecond, delay: 20 * time.Millisecond},
		rec: twcc.NewRecorder(1), now: start, next: start.Add(100 * time.Millisecond),
	}
}

// send sends one packet of size bytes on the wire now.
func (r *linkRun) send(size int) {
	seq := r.l.stamp(size, r.now)
	if at, ok := r.net.send(r.now, size); ok {
		r.pending = append(r.pending, arrival{seq, at})
	}
}

// run sends media at rate bit/s in 1200-byte packets (and, if pad is set,
// padding at pad bit/s) for d, with feedback as it falls due.
func (r *linkRun) run(d time.Duration, rate float64, pad func() float64) {
	const step = 5 * time.Millisecond
	padBit := 0.0
	for end := r.now.Add(d); r.now.Before(end); r.now = r.now.Add(step) {
		for r.sentBit += rate * step.Seconds(); r.sentBit >= 1200*8; r.sentBit -= 1200 * 8 {
			r.send(1200)
		}
		if pad != nil {
			for padBit += pad() * step.Seconds(); padBit >= padBits; padBit -= padBits {
				r.send(padBits / 8)
			}
		}
		if !r.now.Before(r.next) {
			r.feedback()
			r.next = r.next.Add(100 * time.Millisecond)
		}
	}
}

// feedback reports every packet that arrived by now.
func (r *linkRun) feedback() {
	kept := r.pending[:0]
	for _, a := range r.pending {
		if a.at.After(r.now) {
			kept = append(kept, a)
			continue
		}
		r.rec.Record(1, a.seq, a.at.UnixMicro())
	}
	r.pending = kept
	for _, p := range r.rec.BuildFeedbackPacket() {
		if fb, ok := p.(*rtcp.TransportLayerCC); ok {
			feed(r.t, r.l, fb, r.now)
		}
	}
}

// feed gives l the feedback as a subscriber sends it: marshalled by pion.
func feed(t testing.TB, l *link, fb *rtcp.TransportLayerCC, now time.Time) {
	t.Helper()
	raw, err := fb.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	l.feedback(raw, now)
}

// rawFeedback is a TWCC feedback message as a liar may write it: any
// count, chunks and deltas.
func rawFeedback(base, count uint16, chunks []uint16, deltas []byte) []byte {
	b := make([]byte, 20, 20+2*len(chunks)+len(deltas)+3)
	b[0], b[1] = 0x80|rtcpFormatTWCC, rtcpTransportFeedback
	binary.BigEndian.PutUint16(b[12:], base)
	binary.BigEndian.PutUint16(b[14:], count)
	for _, c := range chunks {
		b = binary.BigEndian.AppendUint16(b, c)
	}
	b = append(b, deltas...)
	for len(b)%4 != 0 {
		b = append(b, 0)
	}
	binary.BigEndian.PutUint16(b[2:], uint16(len(b)/4-1))
	return b
}

func (r *linkRun) estimate() float64 {
	bps, _ := r.l.estimate()
	return bps
}

// TestClearLinkIsNotCapped: 1.5 Mbit/s through a 10 Mbit/s link, with a
// 100 ms delay: no congestion, so no estimate caps anything.
func TestClearLinkIsNotCapped(t *testing.T) {
	r := newLinkRun(t, 10e6)
	r.net.delay = 100 * time.Millisecond
	r.run(5*time.Second, 1.5e6, nil)
	if bps, capped := r.l.estimate(); capped {
		t.Fatalf("a clear link got an estimate of %.0f bit/s", bps)
	}
}

// TestEstimateFallsToWhatTheLinkCarries: 1.5 Mbit/s into a 300 kbit/s
// link: within a second the estimate is under what the link carries, and
// near it; sending that much from then on, the queue drains and the
// estimate holds.
func TestEstimateFallsToWhatTheLinkCarries(t *testing.T) {
	r := newLinkRun(t, 300e3)
	r.run(time.Second, 1.5e6, nil)
	bps, capped := r.l.estimate()
	if !capped || bps > 300e3 || bps < 150e3 {
		t.Fatalf("after a second of 1.5 Mbit/s into 300 kbit/s the estimate is %.0f (capped %v)", bps, capped)
	}
	drops := r.net.drops
	r.run(5*time.Second, 0.8*bps, nil)
	if got := r.estimate(); got < 0.9*bps || got > 300e3 {
		t.Errorf("sending %.0f bit/s the estimate went from %.0f to %.0f", 0.8*bps, bps, got)
	}
	if r.net.drops > drops+5 {
		t.Errorf("the link dropped %d packets after the estimate", r.net.drops-drops)
	}
}

// TestProbeFindsTheLinkWasLifted: capped at 300 kbit/s, the link's limit is
// lifted; a probe for 800 kbit/s gets through and the estimate rises to it.
func TestProbeFindsTheLinkWasLifted(t *testing.T) {
	probeLiftedLink(t, "a receiver reading at once", nil)
}

// TestProbeThroughABusyReceiver: the same, but the receiver stalls for 40
// ms every 300 ms and then reads, in a burst, what arrived meanwhile (a
// browser on a busy machine does); nothing queues in the link. A late read
// is no queue building: the probe gets through.
func TestProbeThroughABusyReceiver(t *testing.T) {
	probeLiftedLink(t, "a receiver stalling 40 ms in 300", func(since time.Duration) time.Duration {
		const every, stall = 300 * time.Millisecond, 40 * time.Millisecond
		if phase := since % every; phase < stall {
			return stall - phase
		}
		return 0
	})
}

// probeLiftedLink caps a link at 300 kbit/s, lifts the cap to 5 Mbit/s and
// probes it for 800 kbit/s from 200, with the receiver reading each packet
// late by stall(time since the cap was lifted) (nil: at once): the
// estimate must rise to the probe's rate.
func probeLiftedLink(t *testing.T, receiver string, stall func(since time.Duration) time.Duration) {
	t.Helper()
	r := newLinkRun(t, 300e3)
	r.run(time.Second, 1.5e6, nil)
	r.run(3*time.Second, 200e3, nil) // the queue drains
	r.net.rate = 5e6
	if stall != nil {
		lifted := r.now
		r.net.read = func(at time.Time) time.Time { return at.Add(stall(at.Sub(lifted))) }
	}
	r.run(2*time.Second, 200e3, nil)
	stop, ok := r.l.startProbe(r.now, 200e3, 800e3)
	if !ok {
		t.Fatalf("no probe on a clear link, %s (estimate %.0f)", receiver, r.estimate())
	}
	r.probe(stop, 200e3, 600e3)
	if got := r.estimate(); got < 0.85*800e3 {
		t.Errorf("after a probe for 800 kbit/s through 5 Mbit/s, %s, the estimate is %.0f", receiver, got)
	}
}

// probe sends media at rate and the probe's padding on top until it stops
// (at its length, or told to), then lets its feedback come in.
func (r *linkRun) probe(stop interface{ Load() bool }, rate, pad float64) {
	r.run(probeLength, rate, func() float64 {
		if stop.Load() {
			return 0
		}
		return pad
	})
	r.l.stopProbe(r.now)
	r.run(probeWait, rate, nil)
}

// TestProbeOfAFullLinkStopsEarly: a probe for 800 kbit/s on a link that
// carries 300 stops at the first sign of a queue, before the link drops a
// packet; the estimate stays, and the next probe waits longer.
func TestProbeOfAFullLinkStopsEarly(t *testing.T) {
	r := newLinkRun(t, 300e3)
	r.run(time.Second, 1.5e6, nil)
	r.run(3*time.Second, 200e3, nil)
	before, drops := r.estimate(), r.net.drops
	stop, ok := r.l.startProbe(r.now, 200e3, 800e3)
	if !ok {
		t.Fatal("no probe on a clear link")
	}
	padded := 0.0
	start := r.now
	r.run(probeLength, 200e3, func() float64 {
		if stop.Load() {
			return 0
		}
		padded = r.now.Sub(start).Seconds()
		return 600e3
	})
	r.l.stopProbe(r.now)
	r.run(probeWait, 200e3, nil)
	if !stop.Load() || padded >= probeLength.Seconds()*0.9 {
		t.Errorf("the probe padded for %.2f s of %v", padded, probeLength)
	}
	if r.net.drops != drops {
		t.Errorf("the probe made the link drop %d packets", r.net.drops-drops)
	}
	if got := r.estimate(); got > before*1.05 || got > 300e3 {
		t.Errorf("a failed probe moved the estimate from %.0f to %.0f", before, got)
	}
	if _, ok := r.l.startProbe(r.now, 200e3, 800e3); ok {
		t.Error("a probe again at once after one failed")
	}
}

// TestFeedbackFromALiar: feedback for packets never sent, the same packets
// twice, more statuses than deltas, and a count beyond all it holds change
// nothing and break nothing.
func TestFeedbackFromALiar(t *testing.T) {
	r := newLinkRun(t, 300e3)
	r.run(time.Second, 1.5e6, nil)
	bps := r.estimate()
	runOf := func(symbol, n uint16) uint16 { return symbol<<13 | n }
	lies := [][]byte{
		// 1000 packets never sent, all received at once: a huge rate
		rawFeedback(r.l.next+100, 1000, []uint16{runOf(1, 1000)}, make([]byte, 1000)),
		// statuses without their deltas
		rawFeedback(r.l.next-50, 50, []uint16{runOf(2, 50)}, nil),
		// a count far beyond what the chunks hold
		rawFeedback(0, 65535, []uint16{0x8000 | 0x7}, []byte{1, 1}),
		// chunks that claim more statuses than the message has room for
		rawFeedback(r.l.next-20, 8000, []uint16{runOf(2, 8000)}, []byte{0x7f, 0xff}),
		// cut short: not even a whole header
		rawFeedback(r.l.next-20, 20, nil, nil)[:17],
	}
	for _, fb := range lies {
		r.l.feedback(fb, r.now)
	}
	r.feedback() // and the real feedback again, on packets reported already
	if got := r.estimate(); got > bps*1.05 {
		t.Errorf("lies moved the estimate from %.0f to %.0f", bps, got)
	}
}

// TestFitLayersAudioFirst: the budget left after audio goes first to every
// video's lowest layer, a screen share before cameras and large tiles before
// small ones, then upward; a video that cannot have its lowest is paused.
// Climbing above the layer a video had (or resuming) takes a 20 % margin.
func TestFitLayersAudioFirst(t *testing.T) {
	three := layerSet{live: [MaxLayers]bool{true, true, true}}
	camera := func(area uint64, want int) videoFit {
		return videoFit{set: three, rates: [MaxLayers]float64{150e3, 500e3, 1500e3}, want: want, area: area, had: MaxLayers - 1}
	}
	had := func(f videoFit, layer int) videoFit { f.had = layer; return f }
	screen := videoFit{set: layerSet{live: [MaxLayers]bool{true}}, rates: [MaxLayers]float64{1000e3}, screen: true, had: MaxLayers - 1}
	for _, c := range []struct {
		name   string
		budget float64
		fits   []videoFit
		want   []int // given, in the order fit sorts them
	}{
		{"one camera, room for the top", 2e6, []videoFit{camera(1, 2)}, []int{2}},
		{"one camera, room for the middle", 600e3, []videoFit{camera(1, 2)}, []int{1}},
		{"one camera, room for the lowest", 200e3, []videoFit{camera(1, 2)}, []int{0}},
		{"one camera, no room: paused", 100e3, []videoFit{camera(1, 2)}, []int{-1}},
		{"a thumbnail never climbs past its want", 5e6, []videoFit{camera(1, 0)}, []int{0}},
		{"the large tile climbs first", 800e3, []videoFit{camera(10, 2), camera(1000, 2)}, []int{1, 0}},
		{"everyone's lowest before anyone climbs", 320e3, []videoFit{camera(1000, 2), camera(10, 2)}, []int{0, 0}},
		{"the share before the cameras", 1100e3, []videoFit{camera(1000, 2), screen}, []int{0, -1}},
		{"a climb needs a margin", 550e3, []videoFit{had(camera(1, 2), 0)}, []int{0}},
		{"and gets there with it", 610e3, []videoFit{had(camera(1, 2), 0)}, []int{1}},
		{"a resume needs a margin", 160e3, []videoFit{had(camera(1, 2), -1)}, []int{-1}},
		{"staying needs none", 160e3, []videoFit{had(camera(1, 2), 0)}, []int{0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			fit(c.budget, c.fits)
			for i, f := range c.fits {
				if f.given != c.want[i] {
					t.Errorf("video %d (screen %v, area %d) got layer %d, want %d", i, f.screen, f.area, f.given, c.want[i])
				}
			}
		})
	}
}

// TestFeedbackFloodIsBounded: a subscriber sending feedback far faster than
// a browser does (each message can describe thousands of packets in a few
// bytes) has at most maxFeedbackRate of them read a second.
func TestFeedbackFloodIsBounded(t *testing.T) {
	l := newLink()
	now := time.Unix(1_700_000_000, 0)
	for range 300 {
		l.stamp(1200, now)
	}
	one := func(seq uint16) []byte {
		return rawFeedback(seq, 1, []uint16{tccSmallDelta<<13 | 1}, []byte{1})
	}
	read := func() (n int) {
		for i := range 300 {
			if l.sent[i].reported() {
				n++
			}
		}
		return n
	}
	for seq := range 200 {
		l.feedback(one(uint16(seq)), now)
	}
	if n := read(); n != maxFeedbackRate {
		t.Errorf("%d of 200 feedback messages at once were read, want %d", n, maxFeedbackRate)
	}
	now = now.Add(500 * time.Millisecond)
	for seq := 200; seq < 300; seq++ {
		l.feedback(one(uint16(seq)), now)
	}
	if n := read(); n != maxFeedbackRate+maxFeedbackRate/2 {
		t.Errorf("half a second later, %d read in all, want %d", n, maxFeedbackRate+maxFeedbackRate/2)
	}
}

// TestReorderedPacketsAreNotLost: a link that delivers every fifth packet
// 150 ms late, after the ones sent behind it (as a path over two radio
// carriers can), but loses none. The receiver's feedback (pion's, as
// Chrome's) first reports a late packet missing, then, when it comes,
// received: it was not lost, and a clear link is no congestion.
func TestReorderedPacketsAreNotLost(t *testing.T) {
	r := newLinkRun(t, 10e6)
	n := 0
	r.net.read = func(at time.Time) time.Time {
		if n++; n%5 == 0 {
			return at.Add(150 * time.Millisecond)
		}
		return at
	}
	r.run(5*time.Second, 1.5e6, nil)
	if bps, capped := r.l.estimate(); capped {
		t.Fatalf("a clear link that reorders got an estimate of %.0f bit/s", bps)
	}
}

// TestHoldEndsAfterAFeedbackOutage: after a decrease the estimate holds
// until the feedback speaks of packets sent after it. When the feedback
// stops for longer than half the transport-wide sequence space (the
// client's uplink was gone for minutes while media kept flowing to it),
// the packets it then reports are still after the decrease, and a link
// congested again is cut again.
func TestHoldEndsAfterAFeedbackOutage(t *testing.T) {
	r := newLinkRun(t, 300e3)
	r.run(time.Second, 1.5e6, nil)
	if !r.l.est.holding {
		t.Fatal("no decrease to hold after")
	}
	for range 40_000 { // sent, and nothing heard of them
		r.l.stamp(100, r.now)
	}
	r.pending = nil
	r.net.free = r.now
	r.next = r.now.Add(100 * time.Millisecond)
	before := r.estimate()
	r.net.rate = 100e3
	r.run(2*time.Second, 1.5e6, nil)
	if got := r.estimate(); got >= before {
		t.Errorf("congested again after a feedback outage, the estimate stayed at %.0f", got)
	}
}

// TestRandomFeedbackIsReadSafely: feedback of random bytes, whatever its
// counts and chunks say, is read within what it holds (no panic, nothing
// read past its end) and reports no packet twice.
func TestRandomFeedbackIsReadSafely(t *testing.T) {
	l := newLink()
	now := time.Unix(1_700_000_000, 0)
	for range 3000 {
		l.stamp(1200, now)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		now = now.Add(20 * time.Millisecond)
		b := make([]byte, 20+rng.IntN(200))
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		b[0], b[1] = 0x80|rtcpFormatTWCC, rtcpTransportFeedback
		binary.BigEndian.PutUint16(b[12:], uint16(rng.IntN(3000)))
		l.feedback(b[:rng.IntN(len(b)+1)], now)
	}
}

// TestLinkKeepsSendTimesPastTheWrap: a link records when a packet left in
// 32 bits of microseconds, which wrap every 71 minutes; a lesson runs
// longer, and the send time read back for feedback is still the one
// recorded, to the microsecond.
func TestLinkKeepsSendTimesPastTheWrap(t *testing.T) {
	l := newLink()
	for _, after := range []time.Duration{0, 70 * time.Minute, 72 * time.Minute, 3*time.Hour + 17*time.Second} {
		at := l.born.Add(after + 123456789*time.Nanosecond)
		seq := l.stamp(1200, at)
		r := l.record(seq)
		for _, later := range []time.Duration{0, time.Millisecond, 2 * time.Second, 10 * time.Minute} {
			got := l.sentAt(r.at, at.Add(later))
			if want := l.born.UnixNano() + at.Sub(l.born).Truncate(time.Microsecond).Nanoseconds(); got != want {
				t.Errorf("sent %v after the link was made, read %v later: %d, want %d", after, later, got, want)
			}
		}
	}
}

// TestFeedbackOnLongAgoPacketsIsIgnored: feedback on a packet sent longer
// ago than any honest receiver takes to report (its number not sent again
// since) is not read: it would skew the estimate. (Past the 71 minutes
// the link's clock takes to wrap, an age cannot be told; only a client
// reporting on a number sent that long ago, and not since, could tell
// one, and only its own estimate would suffer.)
func TestFeedbackOnLongAgoPacketsIsIgnored(t *testing.T) {
	for _, later := range []time.Duration{2 * time.Second, 31 * time.Second, 10 * time.Minute, 70 * time.Minute} {
		l := newLink()
		sent := l.born.Add(time.Minute)
		for range 10 {
			l.stamp(1200, sent)
		}
		l.feedback(rawFeedback(0, 10, []uint16{tccSmallDelta<<13 | 10}, bytes.Repeat([]byte{4}, 10)), sent.Add(later))
		if got, want := l.sent[0].reported(), later < maxFeedbackAge*time.Microsecond; got != want {
			t.Errorf("feedback %v after the packets left: read %v, want %v", later, got, want)
		}
	}
}

// TestLinkRemembersItsLastTwoSeconds: a link keeps the record of every
// packet sent in the last linkSpan, whatever its rate, up to linkHistory
// records, and, its subscriber reporting every 100 ms, no more room than
// that takes: a lecture's subscriber keeps the smallest ring. Here every
// packet is reported missing at first, and the oldest within the span
// arrives late: that feedback is read.
func TestLinkRemembersItsLastTwoSeconds(t *testing.T) {
	for _, c := range []struct {
		rate int // packets a second
		want int // records at the end
	}{{200, linkHistoryMin}, {400, 1024}, {1500, linkHistory}, {6000, linkHistory}} {
		l := newLink()
		gap := time.Second / time.Duration(c.rate)
		at := l.born
		var seq uint16
		each := c.rate / 10
		for i := range 4 * c.rate { // four seconds
			at = at.Add(gap)
			seq = l.stamp(1200, at)
			if i%each == each-1 { // a run of "not received" (symbol 0)
				l.feedback(rawFeedback(seq-uint16(each-1), uint16(each), []uint16{uint16(each)}, nil), at.Add(20*time.Millisecond))
			}
		}
		if len(l.sent) != c.want {
			t.Errorf("%d packets/s: %d records, want %d", c.rate, len(l.sent), c.want)
		}
		// Every packet of the last span (all that fit, at the fastest).
		kept := min(int(linkSpan/gap), linkHistory) - 1
		for back := range kept {
			s := seq - uint16(back)
			if r := l.record(s); r.seq != s || r.bits&sentValid == 0 {
				t.Fatalf("%d packets/s: packet %d, sent %v before the last, is forgotten", c.rate, s, time.Duration(back)*gap)
			}
		}
		oldest := seq - uint16(kept-1)
		l.feedback(rawFeedback(oldest, 1, []uint16{tccSmallDelta<<13 | 1}, []byte{4}), at.Add(50*time.Millisecond))
		if !l.record(oldest).reported() {
			t.Errorf("%d packets/s: feedback on a packet sent %v ago was not read", c.rate, time.Duration(kept-1)*gap)
		}
	}
}

// TestGrowingLinkKeepsItsRecords: the records a link has when it grows are
// all still there after, and feedback on them is read.
func TestGrowingLinkKeepsItsRecords(t *testing.T) {
	l := newLink()
	at := l.born.Add(time.Second)
	for range linkHistoryMin + 1 { // the last replaces a packet sent at once before it
		l.stamp(1200, at)
	}
	if len(l.sent) != 2*linkHistoryMin {
		t.Fatalf("%d records after %d packets at once, want %d", len(l.sent), linkHistoryMin+1, 2*linkHistoryMin)
	}
	for s := range uint16(linkHistoryMin + 1) {
		if r := l.record(s); r.seq != s || r.bits&sentValid == 0 || r.bits&sentSize != 1200 {
			t.Fatalf("packet %d lost its record as the link grew: %+v", s, *r)
		}
	}
	l.feedback(rawFeedback(0, 3, []uint16{tccSmallDelta<<13 | 3}, []byte{4, 4, 4}), at.Add(50*time.Millisecond))
	for s := range uint16(3) {
		if !l.record(s).reported() {
			t.Errorf("feedback on packet %d, recorded before the link grew, was not read", s)
		}
	}
}

// TestLinkAwaitsLateFeedback: a subscriber whose feedback stops (a stalled
// Wi-Fi link) has what it was sent remembered until it reports again, for
// up to maxFeedbackAge and linkHistory records, and the late feedback is
// read; one whose feedback messages are only sometimes lost (it never
// reports again on what they named) keeps the smallest ring.
func TestLinkAwaitsLateFeedback(t *testing.T) {
	const rate = 200 // packets a second
	gap := time.Second / rate
	run := func(l *link, seconds int, report func(i int) bool) (at time.Time, last uint16) {
		at = l.born
		for i := range seconds * rate {
			at = at.Add(gap)
			last = l.stamp(1200, at)
			if i%20 == 19 && report(i) { // feedback on the last 20, every 100 ms
				l.feedback(rawFeedback(last-19, 20, []uint16{tccSmallDelta<<13 | 20}, bytes.Repeat([]byte{4}, 20)), at.Add(20*time.Millisecond))
			}
		}
		return at, last
	}

	lossy := newLink()
	run(lossy, 20, func(i int) bool { return i%200 != 199 }) // one message in ten lost
	if len(lossy.sent) != linkHistoryMin {
		t.Errorf("feedback messages sometimes lost: %d records, want %d", len(lossy.sent), linkHistoryMin)
	}

	stalled := newLink()
	stall := 0
	at, last := run(stalled, 12, func(i int) bool {
		if i >= 2*rate { // silent after two seconds
			stall++
		}
		return i < 2*rate
	})
	if len(stalled.sent) != 2048 {
		t.Errorf("feedback silent for 10 s at %d packets/s: %d records, want 2048", rate, len(stalled.sent))
	}
	first := last - uint16(stall) + 1 // the first packet sent into the stall
	for s := first; s != last+1; s++ {
		if r := stalled.record(s); r.seq != s || r.bits&sentValid == 0 {
			t.Fatalf("packet %d, sent in the stall, is forgotten", s)
		}
	}
	stalled.feedback(rawFeedback(first, 20, []uint16{tccSmallDelta<<13 | 20}, bytes.Repeat([]byte{4}, 20)), at.Add(time.Second))
	if !stalled.record(first).reported() {
		t.Error("late feedback on the first packet of the stall was not read")
	}

	silent := newLink()
	run(silent, 60, func(int) bool { return false })
	if len(silent.sent) != linkHistory {
		t.Errorf("no feedback ever: %d records, want %d", len(silent.sent), linkHistory)
	}
}
