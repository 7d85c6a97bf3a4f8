package loadtest

import (
	"context"
	"encoding/binary"
	"sync/atomic"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Synthetic media. Every payload ends with a stamp: stampMagic and the send
// time in nanoseconds since the run's start (monotonic), so a sink on the
// same clock measures what the server added.
const (
	stampMagic    = "CMLT"
	stampLen      = 12
	videoFPS      = 30
	videoClock    = 90000
	keyframeEvery = 2 * time.Second
	opusBitrate   = 32_000
	opusFrame     = 20 * time.Millisecond
	maxChunk      = 1100 // VP8 bytes per packet: 1200-byte packets with headers
	minChunk      = 32   // room for a frame header and the stamp
	lateTick      = 5 * time.Millisecond
)

func stamp(payload []byte, ns int64) {
	tail := payload[len(payload)-stampLen:]
	copy(tail, stampMagic)
	binary.BigEndian.PutUint64(tail[4:], uint64(ns))
}

// readStamp returns the send time carried by a payload, if any.
func readStamp(payload []byte) (int64, bool) {
	if len(payload) < stampLen {
		return 0, false
	}
	tail := payload[len(payload)-stampLen:]
	if string(tail[:4]) != stampMagic {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(tail[4:])), true
}

// schedule counts how late the send ticks of every source fire: a
// generator that cannot keep its schedule measures itself, not the server.
type schedule struct {
	ticks, late atomic.Uint64
	maxLag      atomic.Int64
}

func (s *schedule) note(lag time.Duration) {
	s.ticks.Add(1)
	if lag > lateTick {
		s.late.Add(1)
	}
	for {
		m := s.maxLag.Load()
		if int64(lag) <= m || s.maxLag.CompareAndSwap(m, int64(lag)) {
			return
		}
	}
}

// pace calls send every interval until ctx ends, noting each tick's lag.
func pace(ctx context.Context, interval time.Duration, sched *schedule, send func()) {
	t := time.NewTimer(interval)
	defer t.Stop()
	next := time.Now().Add(interval)
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sched.note(time.Since(next))
		send()
		next = next.Add(interval)
		if d := time.Until(next); d > 0 {
			t.Reset(d)
		} else {
			next = time.Now() // too late: do not burst to catch up
			t.Reset(0)
		}
	}
}

// vp8Sender sends a synthetic VP8 stream at a bitrate, single layer:
// frames split into packets with a valid payload descriptor (RFC 7741,
// 15-bit picture id) and a frame header whose P bit marks keyframes, so the
// SFU sees keyframes where a real encoder would make them.
type vp8Sender struct {
	track     *webrtc.TrackLocalStaticRTP
	since     func() int64
	frameSize int
	keyWanted atomic.Bool // a PLI arrived
	seq       uint16
	picture   uint16
	frame     uint32
	lastKey   int
	pkts      []*rtp.Packet
	sent      *atomic.Uint64
}

func newVP8Sender(track *webrtc.TrackLocalStaticRTP, bitrate int, since func() int64, sent *atomic.Uint64) *vp8Sender {
	return &vp8Sender{track: track, since: since, sent: sent, frameSize: max(bitrate/8/videoFPS, minChunk)}
}

func (v *vp8Sender) run(ctx context.Context, sched *schedule) {
	pace(ctx, time.Second/videoFPS, sched, v.sendFrame)
}

func (v *vp8Sender) sendFrame() {
	for _, p := range v.packets(v.since()) {
		if v.track.WriteRTP(p) == nil {
			v.sent.Add(1)
		}
	}
}

// packets makes the next frame's packets, stamped now. They live until the
// next call (the buffers are reused: WriteRTP has sent them by then).
func (v *vp8Sender) packets(now int64) []*rtp.Packet {
	key := v.frame == 0 || v.keyWanted.Swap(false) || int(v.frame)-v.lastKey >= int(keyframeEvery*videoFPS/time.Second)
	size := v.frameSize
	if key {
		v.lastKey = int(v.frame)
		size *= 3 // keyframes are larger, as an encoder's are
	}
	n := (size + maxChunk - 1) / maxChunk
	chunk := max(size/n, minChunk)
	for len(v.pkts) < n {
		v.pkts = append(v.pkts, &rtp.Packet{Payload: make([]byte, 4+maxChunk)})
	}
	pkts := v.pkts[:n]
	for i, pkt := range pkts {
		p := pkt.Payload[:4+chunk]
		clear(p)
		// X=1, S on the first packet, partition 0; I=1 with a 15-bit picture id.
		p[0] = 0x80
		if i == 0 {
			p[0] |= 0x10
			vp8FrameHeader(p[4:], key, chunk)
		}
		p[1], p[2], p[3] = 0x80, 0x80|byte(v.picture>>8&0x7f), byte(v.picture)
		stamp(p, now)
		pkt.Header = rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: v.seq,
			Timestamp: v.frame * videoClock / videoFPS, Marker: i == n-1}
		pkt.Payload = p
		v.seq++
	}
	v.picture = (v.picture + 1) & 0x7fff
	v.frame++
	return pkts
}

// vp8FrameHeader writes a frame tag (RFC 6386 §9.1): P=0 for a keyframe,
// shown, with the start code and a 640x360 size on keyframes.
func vp8FrameHeader(b []byte, key bool, size int) {
	tag := uint32(size)<<5 | 1<<4 // first partition size, show_frame
	if !key {
		tag |= 1
	}
	b[0], b[1], b[2] = byte(tag), byte(tag>>8), byte(tag>>16)
	if key {
		copy(b[3:], []byte{0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01})
	}
}

// opusSender sends 20 ms Opus packets at 32 kbit/s.
type opusSender struct {
	track *webrtc.TrackLocalStaticRTP
	since func() int64
	seq   uint16
	ts    uint32
	buf   []byte
	sent  *atomic.Uint64
}

func newOpusSender(track *webrtc.TrackLocalStaticRTP, since func() int64, sent *atomic.Uint64) *opusSender {
	return &opusSender{track: track, since: since, sent: sent, buf: make([]byte, opusBitrate/8/int(time.Second/opusFrame))}
}

func (o *opusSender) run(ctx context.Context, sched *schedule) {
	pace(ctx, opusFrame, sched, o.send)
}

func (o *opusSender) send() {
	clear(o.buf)
	o.buf[0] = 0xfc // TOC: CELT fullband 20 ms, one frame
	stamp(o.buf, o.since())
	pkt := rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 111, SequenceNumber: o.seq, Timestamp: o.ts}, Payload: o.buf}
	if o.track.WriteRTP(&pkt) == nil {
		o.sent.Add(1)
	}
	o.seq++
	o.ts += uint32(48000 * opusFrame / time.Second)
}
