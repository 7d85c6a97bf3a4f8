package recorder

import (
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"

	"classmeet/internal/sfu"
	"classmeet/internal/testclock"
)

// testTrack is a track fed by the test: packets it pushes arrive at the
// recorder as they would from the SFU, with their arrival times.
type testTrack struct {
	participant, source, kind, mime string
	clock                           uint32
	ch                              chan *sfu.Packet
	subscribed                      chan struct{}
	once                            sync.Once
	keyframes                       atomic.Int32
	srRTP                           atomic.Uint32
	srAt                            atomic.Pointer[time.Time]
	done                            chan struct{}
}

func newTestTrack(participant, source, mime string) *testTrack {
	kind, clock := "video", uint32(90000)
	if strings.HasPrefix(mime, "audio/") {
		kind, clock = "audio", 48000
	}
	return &testTrack{
		participant: participant, source: source, kind: kind, mime: mime, clock: clock,
		ch: make(chan *sfu.Packet, 100000), subscribed: make(chan struct{}), done: make(chan struct{}),
	}
}

func (t *testTrack) Participant() string { return t.participant }
func (t *testTrack) Source() string      { return t.source }
func (t *testTrack) Kind() string        { return t.kind }
func (t *testTrack) Codec() string       { return t.mime }
func (t *testTrack) ClockRate() uint32   { return t.clock }
func (t *testTrack) RequestKeyframe()    { t.keyframes.Add(1) }
func (t *testTrack) Done() <-chan struct{} {
	return t.done
}

func (t *testTrack) Subscribe(int) Subscription {
	t.once.Do(func() { close(t.subscribed) })
	return testSub{t}
}

func (t *testTrack) SenderReport() (uint32, time.Time, bool) {
	at := t.srAt.Load()
	if at == nil {
		return 0, time.Time{}, false
	}
	return t.srRTP.Load(), *at, true
}

// report sets the sender report: RTP time rtpTime was sent at.
func (t *testTrack) report(rtpTime uint32, at time.Time) {
	t.srRTP.Store(rtpTime)
	t.srAt.Store(&at)
}

// taken reports whether the recorder has taken every packet fed so far.
func (t *testTrack) taken() bool { return len(t.ch) == 0 }

// waitTaken waits until the recorder has taken every packet fed to tracks.
func waitTaken(t testing.TB, tracks ...*testTrack) {
	t.Helper()
	testclock.WaitFor(t, "the recorder to take what was fed", 60*time.Second, func() bool {
		for _, tr := range tracks {
			if !tr.taken() {
				return false
			}
		}
		return true
	})
}

// settle waits until the session has carried out everything asked of it
// so far: its queue runs in order.
func settle(s *Session) {
	done := make(chan struct{})
	s.q.do(func() { close(done) })
	<-done
}

// end ends the track, as a publisher leaving does.
func (t *testTrack) end() {
	close(t.ch)
	close(t.done)
}

type testSub struct{ t *testTrack }

func (s testSub) Packets() <-chan *sfu.Packet { return s.t.ch }
func (s testSub) Dropped() uint64             { return 0 }
func (s testSub) Close()                      {}

// timed is a packet and when the sender sent it.
type timed struct {
	pkt *rtp.Packet
	at  time.Duration // from the start of sending
}

// videoFrames reads the VP8 fixture's frames.
func videoFrames(t *testing.T, path string) [][]byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := ivfreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var frames [][]byte
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			return frames
		}
		if err != nil {
			t.Fatal(err)
		}
		frames = append(frames, append([]byte(nil), frame...))
	}
}

// videoPackets packetizes n frames of video at 30 a second, looping the
// fixture; payloader is VP8 or VP9.
func videoPackets(frames [][]byte, n int, payloader rtp.Payloader, payloadType uint8) []timed {
	pz := rtp.NewPacketizer(1200, payloadType, 1234, payloader, rtp.NewFixedSequencer(65000), 90000)
	var out []timed
	for i := range n {
		for _, p := range pz.Packetize(frames[i%len(frames)], 3000) {
			out = append(out, timed{pkt: p, at: time.Duration(i) * time.Second / 30})
		}
	}
	return out
}

// opusPackets reads the Opus fixture's packets (one a page, 20 ms each).
func opusPackets(t *testing.T) [][]byte {
	t.Helper()
	f, err := os.Open(fixture("audio.ogg"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, _, err := oggreader.NewWith(f)
	if err != nil {
		t.Fatal(err)
	}
	var packets [][]byte
	for {
		page, _, err := r.ParseNextPage()
		if errors.Is(err, io.EOF) {
			return packets
		}
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(page), "Opus") { // OpusHead, OpusTags
			packets = append(packets, page)
		}
	}
}

// audioPackets packetizes seconds of the Opus fixture, 20 ms a packet,
// leaving out those in [gapFrom, gapTo) seconds (timestamps run on, as a
// muted microphone's do).
func audioPackets(t *testing.T, seconds, gapFrom, gapTo float64) []timed {
	t.Helper()
	pages := opusPackets(t)
	pz := rtp.NewPacketizer(1200, 111, 5678, &codecs.OpusPayloader{}, rtp.NewFixedSequencer(65500), 48000)
	var out []timed
	for i := 0; float64(i)*0.02 < seconds; i++ {
		ps := pz.Packetize(pages[i%len(pages)], 960)
		if s := float64(i) * 0.02; s >= gapFrom && s < gapTo {
			continue
		}
		for _, p := range ps {
			out = append(out, timed{pkt: p, at: time.Duration(i) * 20 * time.Millisecond})
		}
	}
	return out
}

// impair reorders neighbours, duplicates some packets and loses a
// fraction, as a bad network would after NACK recovery gave up.
func impair(in []timed, loss float64, seed uint64) []timed {
	rng := rand.New(rand.NewPCG(seed, seed))
	var out []timed
	for _, p := range in {
		if rng.Float64() < loss {
			continue
		}
		out = append(out, p)
		if rng.Float64() < 0.02 {
			out = append(out, p)
		}
	}
	for i := 1; i < len(out); i++ {
		if rng.Float64() < 0.05 {
			out[i-1], out[i] = out[i], out[i-1]
		}
	}
	return out
}

// arrival is the time a packet reaching the recorder now is stamped with.
// The SFU stamps packets with the real clock, not the test clock the
// recording's dates come from; the recorder maps one onto the other.
func arrival() time.Time { return time.Now() }

// feed pushes packets into the track, arriving from base on.
func (t *testTrack) feed(ps []timed, base time.Time) {
	for _, p := range ps {
		t.ch <- &sfu.Packet{Header: p.pkt.Header, Payload: p.pkt.Payload, Arrival: base.Add(p.at)}
	}
}
