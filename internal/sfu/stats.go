package sfu

import (
	"math"
	"sync/atomic"
	"time"

	"github.com/pion/rtcp"
)

// floatBox is a float64 readable and writable from different goroutines.
type floatBox struct{ bits atomic.Uint64 }

func (f *floatBox) load() float64   { return math.Float64frombits(f.bits.Load()) }
func (f *floatBox) store(v float64) { f.bits.Store(math.Float64bits(v)) }

// inbound measures a publisher's stream as it arrives: loss from sequence
// numbers, interarrival jitter as RFC 3550 §6.4.1 defines it. Only the
// publication's read loop writes it.
type inbound struct {
	clockRate           uint32
	started             bool
	highest             uint32 // extended highest sequence number
	received, expected0 uint64
	lastExpected        uint64
	lastReceived        uint64
	transit             float64
	jitter              floatBox // in seconds
	loss                floatBox // fraction lost over the last report interval
	lastReport          time.Time
}

func (in *inbound) packet(seq uint16, ts uint32, at time.Time) {
	in.received++
	if !in.started {
		in.started, in.highest, in.expected0, in.lastReport = true, uint32(seq), uint64(seq), at
	} else if d := int16(seq - uint16(in.highest)); d > 0 {
		in.highest += uint32(d)
	}
	// Jitter: the variation of transit time (arrival minus RTP time).
	arrival := float64(at.UnixNano()) / 1e9
	transit := arrival - float64(ts)/float64(in.clockRate)
	if in.received > 1 {
		d := math.Abs(transit - in.transit)
		j := in.jitter.load()
		in.jitter.store(j + (d-j)/16)
	}
	in.transit = transit
	if at.Sub(in.lastReport) >= time.Second {
		expected := uint64(in.highest) - in.expected0 + 1
		de, dr := expected-in.lastExpected, in.received-in.lastReceived
		if de > 0 && dr <= de {
			in.loss.store(float64(de-dr) / float64(de))
		} else {
			in.loss.store(0)
		}
		in.lastExpected, in.lastReceived, in.lastReport = expected, in.received, at
	}
}

// outbound is what a subscriber reports of the stream it receives.
type outbound struct {
	loss   floatBox // fraction lost, from its receiver reports
	jitter floatBox // seconds
	rtt    floatBox // seconds; 0 until known
}

// report takes one RTCP receiver report block about our stream.
func (o *outbound) report(r rtcp.ReceptionReport, clockRate uint32, now time.Time) {
	o.loss.store(float64(r.FractionLost) / 256)
	if clockRate > 0 {
		o.jitter.store(float64(r.Jitter) / float64(clockRate))
	}
	if r.LastSenderReport != 0 {
		// Round trip: now - LSR - DLSR, in the middle 32 bits of NTP time.
		rtt := ntpMiddle(now) - r.LastSenderReport - r.Delay
		if rtt < 1<<31 { // not negative (clock skew, or a stale report)
			o.rtt.store(float64(rtt) / 65536)
		}
	}
}

// ntpTime is the 64-bit NTP timestamp of t.
func ntpTime(t time.Time) uint64 {
	secs := uint64(t.Unix()) + 2208988800
	frac := uint64(t.Nanosecond()) << 32 / 1e9
	return secs<<32 | frac
}

// ntpMiddle is the middle 32 bits of the NTP timestamp of t.
func ntpMiddle(t time.Time) uint32 { return uint32(ntpTime(t) >> 16) }

// Quality is a peer's connection, the worse direction of each figure.
type Quality struct {
	Loss   float64       // fraction of packets lost, 0..1
	Jitter time.Duration // interarrival jitter
	RTT    time.Duration // round trip; 0 until known
	Known  bool          // some figure has arrived
}

// Level summarises q as "good", "weak" or "bad".
func (q Quality) Level() string {
	switch {
	case q.Loss > 0.10 || q.RTT > 500*time.Millisecond || q.Jitter > 100*time.Millisecond:
		return "bad"
	case q.Loss > 0.03 || q.RTT > 250*time.Millisecond || q.Jitter > 40*time.Millisecond:
		return "weak"
	}
	return "good"
}

// Quality measures the peer's connection: loss and jitter of what it sends
// (as we receive it) and of what it receives (as it reports), and the round trip.
func (p *Peer) Quality() Quality {
	var q Quality
	worse := func(loss, jitter, rtt float64) {
		q.Known = true
		q.Loss = max(q.Loss, loss)
		q.Jitter = max(q.Jitter, time.Duration(jitter*float64(time.Second)))
		q.RTT = max(q.RTT, time.Duration(rtt*float64(time.Second)))
	}
	for _, pub := range p.Publications() {
		for i := range pub.layers {
			if l := pub.layers[i].Load(); l != nil && l.received.Load() > 0 {
				worse(l.stats.loss.load(), l.stats.jitter.load(), 0)
			}
		}
	}
	for _, d := range p.DownTracks() {
		if d.out.rtt.load() > 0 || d.out.jitter.load() > 0 {
			worse(d.out.loss.load(), d.out.jitter.load(), d.out.rtt.load())
		}
	}
	return q
}
