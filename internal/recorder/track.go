package recorder

import (
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/pion/rtp/codecs"

	"classmeet/internal/sfu"
)

// Track is a published track the recorder can subscribe to: in classmeet an
// SFU publication, in tests anything that yields RTP packets. The recorder
// is a subscriber like any other.
type Track interface {
	Participant() string // the participant's id
	Source() string      // microphone, camera, screen or screen_audio
	Kind() string        // audio or video
	Codec() string       // MIME type: audio/opus, video/VP8, video/VP9
	ClockRate() uint32
	// Subscribe attaches a subscriber with a queue of n packets.
	Subscribe(n int) Subscription
	// RequestKeyframe asks the sender for a keyframe (the track throttles).
	RequestKeyframe()
	// SenderReport is the sender's latest RTCP sender report: the RTP time
	// it carried and when it arrived here. ok is false before the first.
	SenderReport() (rtpTime uint32, at time.Time, ok bool)
	// Done is closed when the track ends.
	Done() <-chan struct{}
}

// Subscription is the recorder's queue of a track's packets. Packets is
// closed when the track ends; when the queue is full, packets are dropped
// and counted, so the recorder never slows anyone down.
type Subscription interface {
	Packets() <-chan *sfu.Packet
	Dropped() uint64
	Close()
}

// codec is what the recorder can write.
type codec int

const (
	codecOpus codec = iota + 1
	codecVP8
	codecVP9
)

func codecOf(mime string) (codec, error) {
	switch strings.ToLower(mime) {
	case "audio/opus":
		return codecOpus, nil
	case "video/vp8":
		return codecVP8, nil
	case "video/vp9":
		return codecVP9, nil
	}
	return 0, fmt.Errorf("%w: %s", errNotRecordable, mime)
}

func (c codec) String() string {
	switch c {
	case codecOpus:
		return "opus"
	case codecVP8:
		return "vp8"
	case codecVP9:
		return "vp9"
	}
	return "unknown"
}

func (c codec) ext() string {
	if c == codecOpus {
		return ".ogg"
	}
	return ".ivf"
}

// Queue sizes and waits: a recorder's queue holds about ten seconds of a
// camera; a missing video packet is waited for long enough for a NACK's
// retransmission to come, an audio one (no NACK) only for reordering.
const (
	queuePackets = 1024
	videoSlots   = 512
	audioSlots   = 64
	videoWait    = 500 * time.Millisecond
	audioWait    = 80 * time.Millisecond
	syncEvery    = time.Second
)

// trackStats is what a writer counted, kept with its file.
type trackStats struct {
	Packets          uint64 `json:"packets"`
	Dropped          uint64 `json:"dropped"`   // the queue was full
	Lost             uint64 `json:"lost"`      // never came, or came too late
	Late             uint64 `json:"late"`      // came after their place was given up
	Duplicate        uint64 `json:"duplicate"` // came twice
	Frames           int    `json:"frames"`
	FramesDiscarded  int    `json:"frames_discarded"` // incomplete, or waiting for a keyframe
	KeyframeRequests int    `json:"keyframe_requests"`
	// Clock says how the first sample was placed on the wall clock: by the
	// sender's RTCP report ("sender_report") or by its arrival ("arrival").
	Clock string `json:"clock"`
}

// writer records one track into one spool file: it reorders the packets,
// assembles whole frames, starts video at a keyframe, and keeps the
// timeline. It runs on its own goroutine, off the forwarding path.
type writer struct {
	t     Track
	sub   Subscription
	file  *os.File
	codec codec
	clock uint32
	stop  chan struct{}
	once  sync.Once
	done  chan struct{}

	jb  *jitter
	ivf *ivfWriter
	ogg *oggWriter
	err error

	// The timeline: RTP timestamps extended to 64 bits.
	started      bool
	firstExt     uint64
	lastExt      uint64
	lastRaw      uint32
	endExt       uint64 // where the last written sample ends
	firstArrival time.Time

	// Video frame assembly.
	frame          []byte
	frameTS        uint32
	frameAt        time.Time // when the frame's first packet arrived
	inFrame        bool
	frameBad       bool
	needKey        bool
	lastFrame      uint64 // extended timestamp of the last frame written
	lastKeyRequest time.Time
	vp8            codecs.VP8Packet
	vp9            codecs.VP9Packet

	stats trackStats
}

// result is what a writer leaves behind.
type result struct {
	start    time.Time // the wall-clock time of the first sample
	duration time.Duration
	stats    trackStats
	empty    bool // nothing was written
	err      error
}

func newWriter(t Track, c codec, f *os.File) *writer {
	w := &writer{t: t, codec: c, file: f, clock: t.ClockRate(), stop: make(chan struct{}), done: make(chan struct{})}
	if c == codecOpus {
		w.jb = newJitter(audioSlots, audioWait)
		w.clock = 48000
	} else {
		w.jb = newJitter(videoSlots, videoWait)
		w.needKey = true
	}
	if w.clock == 0 {
		w.clock = 90000
	}
	return w
}

// halt tells the writer to stop.
func (w *writer) halt() { w.once.Do(func() { close(w.stop) }) }

// run records until the track ends or stop is closed, then closes the file.
func (w *writer) run() result {
	defer close(w.done)
	if w.sub == nil {
		w.sub = w.t.Subscribe(queuePackets)
	}
	defer w.sub.Close()
	if w.codec != codecOpus {
		w.requestKeyframe(time.Now())
	}
	tick := time.NewTicker(syncEvery)
	defer tick.Stop()
	var out []released
	pkts := w.sub.Packets()
	for w.err == nil {
		select {
		case p, ok := <-pkts:
			if !ok {
				return w.finish()
			}
			out = w.jb.push(p, out[:0])
			w.take(out)
		case now := <-tick.C:
			out = w.jb.expire(now, out[:0])
			w.take(out)
			w.sync()
		case <-w.stop:
			// What arrived before the stop is recorded; nothing after.
			for len(pkts) > 0 {
				p, ok := <-pkts
				if !ok {
					break
				}
				out = w.jb.push(p, out[:0])
				w.take(out)
			}
			return w.finish()
		}
	}
	return w.finish()
}

// requestKeyframe asks for a keyframe, at most every 300 ms.
func (w *writer) requestKeyframe(now time.Time) {
	if now.Sub(w.lastKeyRequest) < 300*time.Millisecond {
		return
	}
	w.lastKeyRequest = now
	w.stats.KeyframeRequests++
	w.t.RequestKeyframe()
}

// take handles packets released in order by the jitter buffer.
func (w *writer) take(out []released) {
	for _, r := range out {
		if w.err != nil {
			return
		}
		w.stats.Packets++
		if r.lost > 0 && w.codec != codecOpus {
			w.frameBad = true // a packet of this or an earlier frame is gone
			if w.started {
				w.needKey = true
			}
		}
		if w.codec == codecOpus {
			w.audio(r.pkt)
		} else {
			w.video(r.pkt)
		}
	}
}

// extend turns an RTP timestamp into one that does not wrap; the
// timeline has begun.
func (w *writer) extend(ts uint32) uint64 {
	ext := int64(w.lastExt) + int64(int32(ts-w.lastRaw))
	if ext < 0 {
		ext = 0
	}
	if uint64(ext) > w.lastExt {
		w.lastExt, w.lastRaw = uint64(ext), ts
	}
	return uint64(ext)
}

// begin anchors the timeline at the first sample written: its RTP
// timestamp, and when it arrived.
func (w *writer) begin(ts uint32, arrival time.Time) {
	w.started, w.firstArrival = true, arrival
	// Start the extended clock far from zero, so a sample a little older
	// than the first never goes negative.
	w.firstExt = 1 << 32
	w.lastExt, w.lastRaw = w.firstExt, ts
}

// audio writes one Opus packet; its granule position comes from its RTP
// timestamp, so a stretch without packets keeps its duration.
func (w *writer) audio(p *sfu.Packet) {
	samples := opusSamples(p.Payload)
	if samples == 0 {
		return
	}
	if !w.started {
		f, err := newOgg(w.file, 2)
		if err != nil {
			w.err = err
			return
		}
		w.ogg = f
		w.begin(p.Header.Timestamp, p.Arrival)
	}
	ext := w.extend(p.Header.Timestamp)
	if ext < w.firstExt || ext < w.endExt {
		return // older than what is written: its place has passed
	}
	end := ext + uint64(samples)
	granule := end - w.firstExt + opusPreSkip
	w.err = w.ogg.write(p.Payload, granule) // packets are never reused or changed: no copy
	w.endExt = end
	w.stats.Frames++
}

// video assembles frames from packets in order and writes whole frames,
// starting at a keyframe and again at one after any loss.
func (w *writer) video(p *sfu.Packet) {
	if w.inFrame && p.Header.Timestamp != w.frameTS {
		w.discard() // the frame's last packet never came
	}
	head, data, err := w.depacketize(p.Payload)
	if err != nil {
		w.frameBad = true
	}
	if !w.inFrame {
		w.inFrame, w.frameTS, w.frameAt, w.frame = true, p.Header.Timestamp, p.Arrival, w.frame[:0]
		if !head {
			w.frameBad = true // it does not start at the frame's start
		}
	}
	w.frame = append(w.frame, data...)
	if p.Header.Marker {
		w.complete(p)
	}
}

func (w *writer) depacketize(payload []byte) (head bool, data []byte, err error) {
	if w.codec == codecVP9 {
		data, err = w.vp9.Unmarshal(payload)
		return w.vp9.B, data, err
	}
	data, err = w.vp8.Unmarshal(payload)
	return w.vp8.S == 1 && w.vp8.PID == 0, data, err
}

func (w *writer) discard() {
	w.stats.FramesDiscarded++
	w.inFrame, w.frameBad = false, false
}

// complete writes the frame just finished, if it is whole and decodable.
func (w *writer) complete(p *sfu.Packet) {
	bad := w.frameBad
	w.inFrame, w.frameBad = false, false
	if bad || len(w.frame) == 0 {
		w.stats.FramesDiscarded++
		w.needKey = true
		w.requestKeyframe(p.Arrival)
		return
	}
	key := videoKeyframe(w.codec == codecVP9, w.frame)
	if w.needKey && !key {
		w.stats.FramesDiscarded++
		w.requestKeyframe(p.Arrival)
		return
	}
	if !w.started {
		width, height := frameSize(w.codec, w.frame)
		fourcc := "VP80"
		if w.codec == codecVP9 {
			fourcc = "VP90"
		}
		f, err := newIVF(w.file, fourcc, width, height)
		if err != nil {
			w.err = err
			return
		}
		w.ivf = f
		w.begin(w.frameTS, w.frameAt)
	}
	ext := w.extend(w.frameTS)
	if ext < w.firstExt || (w.stats.Frames > 0 && ext <= w.lastFrame) {
		w.stats.FramesDiscarded++
		return
	}
	w.needKey = false
	w.err = w.ivf.write(w.frame, ext-w.firstExt)
	w.lastFrame = ext
	w.stats.Frames++
}

// frameSize reads a keyframe's picture size.
func frameSize(c codec, frame []byte) (uint16, uint16) {
	if c == codecVP9 {
		if wd, ht, ok := vp9Size(frame); ok {
			return wd, ht
		}
		return 0, 0
	}
	wd, ht, _ := vp8Size(frame)
	return wd, ht
}

// container is the file being written, once the first sample came.
func (w *writer) container() interface {
	sync() error
	close() error
} {
	switch {
	case w.ivf != nil:
		return w.ivf
	case w.ogg != nil:
		return w.ogg
	}
	return nil
}

func (w *writer) sync() {
	if c := w.container(); c != nil {
		if err := c.sync(); err != nil && w.err == nil {
			w.err = err
		}
	}
}

// finish lets out what the jitter buffer holds and closes the file.
func (w *writer) finish() result {
	w.take(w.jb.drain(nil))
	w.stats.Lost, w.stats.Late, w.stats.Duplicate = w.jb.lost, w.jb.late, w.jb.duplicate
	w.stats.Dropped = w.sub.Dropped()
	res := result{stats: w.stats, err: w.err}
	var cerr error
	if c := w.container(); c != nil {
		cerr = c.close()
	} else {
		cerr = w.file.Close()
		res.empty = true
	}
	if res.err == nil {
		res.err = cerr
	}
	if !w.started {
		return res
	}
	res.start, res.stats.Clock = w.wallStart()
	if w.codec == codecOpus {
		res.duration = samplesToDuration(w.endExt-w.firstExt, 48000)
	} else if w.stats.Frames > 0 {
		span := w.lastFrame - w.firstExt
		per := uint64(w.clock / 30)
		if w.stats.Frames > 1 {
			per = span / uint64(w.stats.Frames-1)
		}
		res.duration = samplesToDuration(span+per, w.clock)
	}
	return res
}

// wallStart places the first sample on the server's clock. The sender's
// RTCP report ties an RTP time to the moment it arrived here; the first
// sample is that far before or after it. Without a report, the first
// packet's arrival is used.
func (w *writer) wallStart() (time.Time, string) {
	rtpTime, at, ok := w.t.SenderReport()
	if !ok || at.IsZero() {
		return w.firstArrival, "arrival"
	}
	srExt := int64(w.lastExt) + int64(int32(rtpTime-w.lastRaw))
	diff := int64(w.firstExt) - srExt
	return at.Add(time.Duration(diff) * time.Second / time.Duration(w.clock)), "sender_report"
}

func samplesToDuration(n uint64, rate uint32) time.Duration {
	return time.Duration(n) * time.Second / time.Duration(rate)
}
