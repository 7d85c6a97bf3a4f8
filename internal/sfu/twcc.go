package sfu

import (
	"encoding/binary"
	"sync"
	"time"

	"github.com/pion/sdp/v3"
)

// transportCCURI is the RTP header extension that numbers every packet a
// subscriber's PeerConnection is sent, whatever its track, so that the
// subscriber's transport-wide congestion control feedback can say which
// arrived and when.
const transportCCURI = sdp.TransportCCURI

// A link remembers the packets it sent, by transport-wide sequence number,
// for at least linkSpan, in which honest feedback comes back, and for as
// long as feedback on them may still come: until the subscriber reports on
// a later one (what it skipped, in a message that was lost, it never
// reports), or for maxFeedbackAge. It starts with room for linkHistoryMin
// (4 KiB of records, two seconds at 256 packets/s) and doubles whenever
// the packet a new one would replace is one it must still remember, up to
// linkHistory (32 KiB, two seconds at 2000 packets/s). Both are powers of
// two.
const (
	linkHistoryMin = 512
	linkHistory    = 4096
	linkSpan       = 2 * time.Second
)

// wireOverhead is what a packet carries on the wire besides its RTP payload:
// the RTP header with the transport-wide extension, the SRTP tag, UDP and IP.
const wireOverhead = 12 + 8 + 16 + 8 + 20

// link is a subscriber's connection, shared by all its down tracks: it
// numbers each packet sent for transport-wide congestion control, remembers
// when each left and how large it was, and estimates from the subscriber's
// feedback what the link carries (estimator).
type link struct {
	// What stamp reads and writes for every packet comes first, in the
	// first cache line (see DownTrack): all but sent's capacity.
	mu   sync.Mutex
	next uint16
	// heard is the latest packet feedback has reported on, if heardAny.
	heard    uint16
	heardAny bool
	bitsOut  uint64       // in the packets numbered on the link, ever (a probe counts from it)
	born     time.Time    // what sentRecord.at counts from
	sent     []sentRecord // a ring: a packet's record is at its number modulo its length
	est      estimator
	// feedbacks is the feedback messages the link may still read now:
	// maxFeedbackRate a second, at most that many at once.
	feedbacks float64
	fedAt     time.Time
}

// maxFeedbackRate bounds the feedback messages a link reads a second. A
// browser sends 10 to 20; one message can describe thousands of packets
// in a few bytes, so a flood of them would be CPU for nothing.
const maxFeedbackRate = 100

// sentRecord is one packet the link sent, in 8 bytes.
type sentRecord struct {
	at   uint32 // when it left: µs since the link was made, wrapping every 71 minutes
	seq  uint16
	bits uint16 // its size on the wire (sentSize) and the flags below
}

const (
	sentSize  = 1<<13 - 1 // bigger packets are counted this big; none is (mtu)
	sentValid = 1 << 13
	// sentReported: the feedback said it arrived.
	sentReported = 1 << 14
	// sentMissed: the feedback said it had not arrived (yet). A packet
	// that comes late, after those sent behind it, is reported missing
	// first and received later, when the receiver reports again from it.
	sentMissed = 1 << 15
)

func (r *sentRecord) reported() bool { return r.bits&sentReported != 0 }

func newLink() *link {
	l := &link{born: time.Now(), sent: make([]sentRecord, linkHistoryMin)}
	l.est.init()
	return l
}

// sentAt is when a packet recorded at (µs since the link was made, as
// sentRecord keeps it) left, in Unix ns; now is later, by less than the
// 71 minutes at takes to wrap.
func (l *link) sentAt(at uint32, now time.Time) int64 {
	nowUs := now.Sub(l.born).Microseconds()
	return l.born.UnixNano() + (nowUs-int64(uint32(nowUs)-at))*int64(time.Microsecond)
}

// stamp numbers a packet of size bytes (on the wire) sent at at.
func (l *link) stamp(size int, at time.Time) uint16 {
	seq, _ := l.stampNext(size, at)
	return seq
}

// stampNext is stamp, and says where the next packet's record will be: a
// hint for the fan-out to prefetch (prefetchAhead), never dereferenced.
func (l *link) stampNext(size int, at time.Time) (uint16, uintptr) {
	l.mu.Lock()
	seq := l.next
	l.next++
	l.bitsOut += uint64(size * 8)
	atUs := uint32(at.Sub(l.born).Microseconds())
	r := l.record(seq)
	if len(l.sent) < linkHistory && l.keep(r, atUs) {
		l.grow()
		r = l.record(seq)
	}
	*r = sentRecord{at: atUs, seq: seq, bits: uint16(min(size, sentSize)) | sentValid}
	next := hint(l.record(l.next))
	l.mu.Unlock()
	return seq, next
}

// keep says whether the link must still remember the packet r records,
// at atUs: sent less than linkSpan ago, or not yet reported on and sent
// after anything feedback reported (within maxFeedbackAge).
func (l *link) keep(r *sentRecord, atUs uint32) bool {
	if r.bits&sentValid == 0 {
		return false
	}
	age := atUs - r.at
	if age < uint32(linkSpan.Microseconds()) {
		return true
	}
	awaited := r.bits&(sentReported|sentMissed) == 0 && (!l.heardAny || int16(r.seq-l.heard) > 0)
	return awaited && age < maxFeedbackAge
}

// record is where the link keeps what it knows of packet seq: a record of
// seq, or of an earlier packet in its place, or nothing.
func (l *link) record(seq uint16) *sentRecord {
	return &l.sent[int(seq)&(len(l.sent)-1)]
}

// grow doubles the link's records, each kept: at twice the length, no two
// land in the same place.
func (l *link) grow() {
	old := l.sent
	l.sent = make([]sentRecord, 2*len(old))
	for _, r := range old {
		if r.bits&sentValid != 0 {
			*l.record(r.seq) = r
		}
	}
}

// maxFeedbackAge is how old (µs) a packet may be when feedback on it is
// read: honest feedback comes within a second or two. An older record is
// one whose number was not sent again since (a link that has sent little),
// and reading it would skew the estimate (past the 71 minutes its clock
// takes to wrap, an age cannot be told: a client reporting on a number
// that old and not sent since lies, and only to its own estimate).
const maxFeedbackAge = 30_000_000

// maxFeedbackPackets bounds the packets one feedback message may describe:
// more than a link ever remembers is a lie.
const maxFeedbackPackets = linkHistory

// feedback takes one TWCC feedback message from the subscriber, as it
// came (the RTCP packet, header included), read where it lies: nothing is
// allocated for it. Packets it was never sent, or has heard of already,
// are ignored, and a message that says more than it holds is read as far
// as it holds: a lying client can only make its own estimate wrong, never
// the server send it more than the top layer and the probes it bounds.
func (l *link) feedback(b []byte, now time.Time) {
	// Header (4), sender and media SSRC (8), base sequence number (2),
	// status count (2), reference time (3), feedback count (1), then the
	// chunks, 2 bytes each, and the receive deltas.
	if len(b) < 20 {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.feedbacks = min(l.feedbacks+now.Sub(l.fedAt).Seconds()*maxFeedbackRate, maxFeedbackRate); l.feedbacks < 1 {
		l.fedAt = now
		return
	}
	l.feedbacks--
	l.fedAt = now
	nowUs := now.Sub(l.born).Microseconds()
	base := binary.BigEndian.Uint16(b[12:])
	count := int(binary.BigEndian.Uint16(b[14:]))
	// The reference time counts 64 ms units; the deltas, 250 µs ones.
	arrival := int64(uint32(b[16])<<16|uint32(b[17])<<8|uint32(b[18])) * int64(64*time.Millisecond)
	chunks := b[20:]
	// The deltas start after the chunks that hold count statuses.
	n, deltas := 0, 0
	for ; n < count && deltas+2 <= len(chunks); deltas += 2 {
		n += chunkLen(binary.BigEndian.Uint16(chunks[deltas:]))
	}
	d := chunks[deltas:]
	seq, left := base, min(count, maxFeedbackPackets)
	status := func(symbol uint16) bool {
		if left == 0 {
			return false
		}
		left--
		s := seq
		seq++
		var received bool
		switch symbol {
		case tccSmallDelta:
			if len(d) < 1 {
				return false // malformed: fewer deltas than packets received
			}
			arrival += int64(d[0]) * tccDeltaUnit
			d, received = d[1:], true
		case tccLargeDelta:
			if len(d) < 2 {
				return false
			}
			arrival += int64(int16(binary.BigEndian.Uint16(d))) * tccDeltaUnit
			d, received = d[2:], true
		}
		r := l.record(s)
		if r.bits&sentValid == 0 || r.seq != s || r.bits&sentReported != 0 || (!received && r.bits&sentMissed != 0) ||
			uint32(nowUs)-r.at > maxFeedbackAge {
			return true
		}
		late := r.bits&sentMissed != 0
		if !l.heardAny || int16(s-l.heard) > 0 {
			l.heard, l.heardAny = s, true
		}
		r.bits &^= sentMissed
		if received {
			r.bits |= sentReported
		} else {
			r.bits |= sentMissed
		}
		l.est.packet(s, received, late, l.sentAt(r.at, now), arrival, int(r.bits&sentSize))
		return true
	}
chunks:
	for i := 0; i+2 <= deltas; i += 2 {
		c := binary.BigEndian.Uint16(chunks[i:])
		switch {
		case c&0x8000 == 0: // run length: a symbol (2 bits) and how many (13)
			for range int(c & 0x1fff) {
				if !status(c >> 13 & 3) {
					break chunks
				}
			}
		case c&0x4000 == 0: // a vector of 14 one-bit symbols
			for k := 13; k >= 0; k-- {
				if !status(c >> k & 1) {
					break chunks
				}
			}
		default: // a vector of 7 two-bit symbols
			for k := 12; k >= 0; k -= 2 {
				if !status(c >> k & 3) {
					break chunks
				}
			}
		}
	}
	l.est.feedbackDone(now, l.next, len(l.sent))
}

// The receive-delta symbols of TWCC feedback, and the deltas' unit.
const (
	tccSmallDelta = 1
	tccLargeDelta = 2
	tccDeltaUnit  = int64(250 * time.Microsecond)
)

// chunkLen is how many packet statuses a TWCC chunk holds.
func chunkLen(c uint16) int {
	switch {
	case c&0x8000 == 0:
		return int(c & 0x1fff)
	case c&0x4000 == 0:
		return 14
	default:
		return 7
	}
}

// estimate is the link's estimate in bit/s now; false while the link has
// shown no sign of congestion, and nothing needs capping.
func (l *link) estimate() (float64, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.est.bps, l.est.bps > 0
}
