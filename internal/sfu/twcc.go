package sfu

import (
	"sync"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/sdp/v3"
)

// transportCCURI is the RTP header extension that numbers every packet a
// subscriber's PeerConnection is sent, whatever its track, so that the
// subscriber's transport-wide congestion control feedback can say which
// arrived and when.
const transportCCURI = sdp.TransportCCURI

// linkHistory is how many packets sent a link remembers, by transport-wide
// sequence number (a power of two): about two seconds at 2000 packets/s,
// longer than feedback takes to come back.
const linkHistory = 4096

// wireOverhead is what a packet carries on the wire besides its RTP payload:
// the RTP header with the transport-wide extension, the SRTP tag, UDP and IP.
const wireOverhead = 12 + 8 + 16 + 8 + 20

// link is a subscriber's connection, shared by all its down tracks: it
// numbers each packet sent for transport-wide congestion control, remembers
// when each left and how large it was, and estimates from the subscriber's
// feedback what the link carries (estimator).
type link struct {
	mu   sync.Mutex
	next uint16
	sent [linkHistory]sentRecord
	est  estimator
	// feedbacks is the feedback messages the link may still read now:
	// maxFeedbackRate a second, at most that many at once.
	feedbacks float64
	fedAt     time.Time
}

// maxFeedbackRate bounds the feedback messages a link reads a second. A
// browser sends 10 to 20; one message can describe thousands of packets
// in a few bytes, so a flood of them would be CPU for nothing.
const maxFeedbackRate = 100

// sentRecord is one packet the link sent.
type sentRecord struct {
	at       int64 // Unix ns
	size     uint16
	seq      uint16
	valid    bool
	reported bool // the feedback said it arrived
	// missed: the feedback said it had not arrived (yet). A packet that
	// comes late, after those sent behind it, is reported missing first
	// and received later, when the receiver reports again from it.
	missed bool
}

func newLink() *link {
	l := &link{}
	l.est.init()
	return l
}

// stamp numbers a packet of size bytes (on the wire) sent at at.
func (l *link) stamp(size int, at time.Time) uint16 {
	l.mu.Lock()
	seq := l.next
	l.next++
	if l.est.probe.state == probeSending {
		l.est.probe.sentBits += float64(size * 8)
	}
	l.sent[seq%linkHistory] = sentRecord{at: at.UnixNano(), size: uint16(min(size, 0xffff)), seq: seq, valid: true}
	l.mu.Unlock()
	return seq
}

// maxFeedbackPackets bounds the packets one feedback message may describe:
// more than the link remembers is a lie.
const maxFeedbackPackets = linkHistory

// feedback takes one TWCC feedback message from the subscriber. Packets it
// was never sent, or has heard of already, are ignored: a lying client can
// only make its own estimate wrong, never the server send it more than the
// top layer and the probes it bounds.
func (l *link) feedback(fb *rtcp.TransportLayerCC, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.feedbacks = min(l.feedbacks+now.Sub(l.fedAt).Seconds()*maxFeedbackRate, maxFeedbackRate); l.feedbacks < 1 {
		l.fedAt = now
		return
	}
	l.feedbacks--
	l.fedAt = now
	// The reference time counts 64 ms units; the deltas are in µs.
	arrival := int64(fb.ReferenceTime) * int64(64*time.Millisecond)
	seq, left, deltas := fb.BaseSequenceNumber, min(int(fb.PacketStatusCount), maxFeedbackPackets), fb.RecvDeltas
	status := func(symbol uint16) {
		if left == 0 {
			return
		}
		left--
		s := seq
		seq++
		received := symbol == rtcp.TypeTCCPacketReceivedSmallDelta || symbol == rtcp.TypeTCCPacketReceivedLargeDelta
		if received {
			if len(deltas) == 0 || deltas[0] == nil {
				left = 0 // malformed: fewer deltas than packets received
				return
			}
			arrival += deltas[0].Delta * int64(time.Microsecond)
			deltas = deltas[1:]
		}
		r := &l.sent[s%linkHistory]
		if !r.valid || r.seq != s || r.reported || (!received && r.missed) {
			return
		}
		late := r.missed
		r.reported, r.missed = received, !received
		l.est.packet(s, received, late, r.at, arrival, int(r.size))
	}
	for _, chunk := range fb.PacketChunks {
		switch c := chunk.(type) {
		case *rtcp.RunLengthChunk:
			for i := 0; i < int(c.RunLength) && left > 0; i++ {
				status(c.PacketStatusSymbol)
			}
		case *rtcp.StatusVectorChunk:
			for _, symbol := range c.SymbolList {
				status(symbol)
			}
		}
	}
	l.est.feedbackDone(now, l.next)
}

// estimate is the link's estimate in bit/s now; false while the link has
// shown no sign of congestion, and nothing needs capping.
func (l *link) estimate() (float64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.est.bps, l.est.bps > 0
}
