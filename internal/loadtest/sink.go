package loadtest

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
)

// trackSink reads one received track as a light subscriber does: pion
// decrypts, the sink counts, follows sequence numbers and reads the stamp.
// Only its reader goroutine touches the fields below the atomics.
type trackSink struct {
	video   bool
	packets atomic.Uint64
	bytes   atomic.Uint64
	keyed   atomic.Bool // a keyframe arrived

	seq     seqTracker
	latency histogram
}

// sinkSet is what one participant receives.
type sinkSet struct {
	since func() int64
	mu    sync.Mutex
	all   []*trackSink
	wg    sync.WaitGroup

	firstRTP, firstKey atomic.Int64 // run clock, 0 until then
	audioOnly          bool         // first "frame" is the first audio packet
	total              *env         // the run's counters
}

func (s *sinkSet) add(t *trackSink) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.all = append(s.all, t)
}

func (s *sinkSet) tracks() []*trackSink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*trackSink(nil), s.all...)
}

// keyed counts the tracks that reached a keyframe (audio: any packet, in
// an audio-only run).
func (s *sinkSet) keyed() int {
	n := 0
	for _, t := range s.tracks() {
		if t.keyed.Load() {
			n++
		}
	}
	return n
}

// counts adds up the packets and bytes received so far.
func (s *sinkSet) counts() (packets, bytes uint64) {
	for _, t := range s.tracks() {
		packets += t.packets.Load()
		bytes += t.bytes.Load()
	}
	return packets, bytes
}

// onTrack reads a track until it ends. Video sinks ask for a keyframe
// (PLI) each second until one arrives, as a browser's decoder does.
func (s *sinkSet) onTrack(ctx context.Context, pc *webrtc.PeerConnection, track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	t := &trackSink{video: track.Kind() == webrtc.RTPCodecTypeVideo}
	s.add(t)
	s.wg.Add(1)
	defer s.wg.Done()
	go func() { // pion's interceptors see sender reports only when RTCP is read
		for {
			if _, _, err := recv.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	if t.video {
		go askKeyframes(ctx, pc, t, uint32(track.SSRC()))
	}
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		now := s.since()
		t.packets.Add(1)
		t.bytes.Add(uint64(len(pkt.Payload)))
		s.total.packets.Add(1)
		s.total.bytes.Add(uint64(len(pkt.Payload)))
		t.seq.add(pkt.SequenceNumber)
		s.firstRTP.CompareAndSwap(0, now)
		if (t.video && vp8Keyframe(pkt.Payload)) || (!t.video && s.audioOnly) {
			t.keyed.Store(true)
			s.firstKey.CompareAndSwap(0, now)
		}
		if sent, ok := readStamp(pkt.Payload); ok && now >= sent {
			t.latency.add(time.Duration(now - sent))
		}
	}
}

func askKeyframes(ctx context.Context, pc *webrtc.PeerConnection, t *trackSink, ssrc uint32) {
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for !t.keyed.Load() {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if !t.keyed.Load() && t.packets.Load() > 0 {
			if err := pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: ssrc}}); err != nil {
				return
			}
		}
	}
}

// vp8Keyframe: the first packet of partition 0 whose frame header has P=0
// (RFC 7741 §4.2, RFC 6386 §9.1), the rule the SFU starts forwarding by;
// pion parses the payload descriptor.
func vp8Keyframe(p []byte) bool {
	var vp codecs.VP8Packet
	if _, err := vp.Unmarshal(p); err != nil {
		return false
	}
	return vp.S == 1 && vp.PID == 0 && len(vp.Payload) > 0 && vp.Payload[0]&0x01 == 0
}
