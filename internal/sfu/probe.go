package sfu

import (
	"sync/atomic"
	"time"
)

// A probe finds out whether a subscriber's link carries more than it is
// sent: for probeLength, padding packets on one of its video tracks raise
// what it is sent to the rate the next layer up would need. The feedback
// on the probe's packets decides: all (nearly) there, at the rate sent and
// with no queue building, and the estimate rises to that rate. A probe that
// sees loss or a queue building stops at once; the next waits twice as
// long (up to probeMaxBackoff), so a link that is full is rarely disturbed.
// The queue is read per feedback message, from the last few of the
// probe's packets it reports: a queue building delays each packet more
// than the one before, while a receiver that stalls now and then (a
// browser on a busy machine) reads what arrived meanwhile in one burst,
// the first sent having waited longest and the last hardly at all: no
// reason to stop.
const (
	probeLength    = 500 * time.Millisecond
	maxProbeLength = 1500 * time.Millisecond
	// probeBytes is the least a probe sends: more than a shaped link lets
	// through at once (tc's burst), so that a probe meets the rate cap.
	probeBytes      = 15000
	probeMinBackoff = time.Second
	probeMaxBackoff = 4 * time.Second
	// probeQueueRise is the queuing delay a probe may add before it stops:
	// a deep buffer fills long before it drops.
	probeQueueRise = float64(30 * time.Millisecond)
	// probeTrust is how long congestion after a probe said yes counts
	// against it.
	probeTrust = 5 * time.Second
	// probeWait is how long after it stopped a probe's feedback may take.
	probeWait = time.Second
	// maxProbeRate bounds the padding a probe adds, bit/s.
	maxProbeRate = 3_000_000.0
	// padSize is a padding packet's RTP padding, in bytes (at most 255).
	padSize = 255
)

type probeState int

const (
	probeIdle    probeState = iota
	probeSending            // padding goes out
	probeWaiting            // stopped; the feedback on it is still coming
)

// probe is one link's probing; its fields are the link's (under its mu),
// but for stop, which the padding goroutine reads.
type probe struct {
	state        probeState
	first, end   uint16 // transport-wide sequence numbers of the probe: [first, end)
	target       float64
	queueAtStart float64
	recv, lost   int
	bytes        int
	arrFirst     int64
	arrLast      int64
	maxQueue     float64    // the highest of the feedback messages' tail queues (settle)
	tail         [3]float64 // the queuing delays of the current message's last packets, a ring
	tailN        int        // packets of the current message, received, so far
	failed       bool
	stoppedAt    time.Time
	backoff      time.Duration
	next         time.Time // no probe before
	stop         *atomic.Bool
	bitsAtStart  uint64 // the link's bitsOut when it started
	// sentBits is what went on the wire from its start to its end, media
	// and padding: set by stopProbe, 0 while it sends (probeSent counts
	// then).
	sentBits  float64
	base      float64 // what the link was sent when it started, bit/s
	startedAt time.Time
	okAt      time.Time // when the latest probe said yes
}

// in is whether the packet numbered seq belongs to the probe.
func (p *probe) in(seq uint16) bool {
	switch p.state {
	case probeSending:
		return int16(seq-p.first) >= 0
	case probeWaiting:
		return uint16(seq-p.first) < uint16(p.end-p.first)
	}
	return false
}

// packet counts one packet's fate if it was sent during the probe, and
// the queuing delay it met; late: it was counted lost before.
func (p *probe) packet(seq uint16, received, late bool, arrival int64, size int, queue float64) {
	if !p.in(seq) {
		return
	}
	if !received {
		p.lost++
		return
	}
	if late {
		p.lost--
	}
	if p.recv == 0 || arrival < p.arrFirst {
		p.arrFirst = arrival
	}
	p.arrLast = max(p.arrLast, arrival)
	p.recv++
	p.bytes += size
	p.tail[p.tailN%len(p.tail)] = queue
	p.tailN++
}

// queued is whether the probe met a queue building: the last packets of a
// feedback message, or the media's smoothed queue, delayed by
// probeQueueRise more than when it began.
func (p *probe) queued(e *estimator) bool {
	return max(p.maxQueue, e.queue)-p.queueAtStart > probeQueueRise
}

// settle closes what one feedback message said of the probe's queue: the
// least queuing delay of its last few packets.
func (p *probe) settle() {
	if p.tailN == 0 {
		return
	}
	q := p.tail[0]
	for _, v := range p.tail[1:min(p.tailN, len(p.tail))] {
		q = min(q, v)
	}
	p.maxQueue = max(p.maxQueue, q)
	p.tailN = 0
}

// check is run after each feedback message: it stops a probe that hurts,
// and judges one whose feedback is all in. It says whether the probe
// failed just now: what the feedback said during it is then not the
// media's.
func (p *probe) check(now time.Time, e *estimator) (failed bool) {
	p.settle()
	switch p.state {
	case probeSending:
		if p.lost >= 3 || p.queued(e) {
			p.failed = true
			p.stop.Store(true)
		}
	case probeWaiting:
		if p.recv+p.lost < int(uint16(p.end-p.first)) && now.Sub(p.stoppedAt) < probeWait {
			return false
		}
		return !p.judge(now, e)
	}
	return false
}

// judge ends a probe: the estimate rises to what it got through, or the
// next probe waits longer. It says which.
func (p *probe) judge(now time.Time, e *estimator) (ok bool) {
	p.settle()
	rate := 0.0
	if span := p.arrLast - p.arrFirst; span >= int64(100*time.Millisecond) {
		rate = float64(p.bytes) * 8 / (float64(span) / float64(time.Second))
	}
	lossy := p.recv+p.lost == 0 || float64(p.lost)/float64(p.recv+p.lost) >= clearLoss
	took := p.stoppedAt.Sub(p.startedAt)
	planned := probePlan(p.base, p.target, probeDuration(p.target), took)
	full := took >= probeDuration(p.target)*9/10 // it held the target, not stopped early
	if !p.failed && !lossy && full && p.sentBits >= 0.9*planned && rate >= 0.85*planned/took.Seconds() && !p.queued(e) {
		// Carried whole, with no queue, the target held to the end: the
		// link takes the target (the rate measured over half a second is
		// the rougher figure).
		// The next may follow at once: a climb far above goes on in
		// steps, each as large as the link has shown it carries.
		e.bps = max(e.bps, min(p.target, maxEstimate))
		p.backoff, p.okAt, p.next, ok = max(p.backoff/2, probeMinBackoff), now, now, true
	} else {
		p.backoff = min(2*p.backoff, probeMaxBackoff)
		p.next = now.Add(p.backoff)
	}
	p.state = probeIdle
	return ok
}

// startProbe begins a probe of target bit/s if the link is due one: it has
// an estimate, shows no congestion and waited out the backoff. The caller
// sends the padding until stop is set or probeLength is over, then calls
// stopProbe.
func (l *link) startProbe(now time.Time, base, target float64) (stop *atomic.Bool, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := &l.est
	p := &e.probe
	if p.state == probeWaiting && now.Sub(p.stoppedAt) >= probeWait && !p.judge(now, e) {
		e.holding, e.holdSeq = true, l.next // the feedback on it never came
	}
	if _, reported, _ := e.window(now); reported == 0 {
		e.queue = 0 // nothing sent for a while: whatever was queued has gone
	}
	if p.state != probeIdle || now.Before(p.next) || e.bps == 0 || target <= e.bps {
		return nil, false
	}
	if loss, _, _ := e.window(now); !e.clear(loss) {
		return nil, false
	}
	*p = probe{
		state: probeSending, first: l.next, base: base, target: target, queueAtStart: e.queue, startedAt: now,
		backoff: p.backoff, next: p.next, okAt: p.okAt, stop: &atomic.Bool{}, bitsAtStart: l.bitsOut,
	}
	return p.stop, true
}

// stopProbe marks the end of the probe's packets.
func (l *link) stopProbe(now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	p := &l.est.probe
	if p.state == probeSending {
		p.state, p.end, p.stoppedAt = probeWaiting, l.next, now
		p.sentBits = float64(l.bitsOut - p.bitsAtStart)
	}
}

// probeSent is what the link sent since the probe started (until it
// stopped), bit.
func (l *link) probeSent() float64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if p := &l.est.probe; p.state == probeSending {
		return float64(l.bitsOut - p.bitsAtStart)
	}
	return l.est.probe.sentBits
}

// probeDuration is how long a probe of target bit/s pads: probeLength, or
// long enough to send probeBytes, which a link's burst cannot swallow.
func probeDuration(target float64) time.Duration {
	d := time.Duration(probeBytes * 8 / target * float64(time.Second))
	return min(max(d, probeLength), maxProbeLength)
}

// probePlan is what a probe from base to target bit/s, length long, has
// sent after elapsed, in bits: it ramps from base to target over its first
// half and holds the target for the second, so that a link that cannot
// carry the target shows a queue while the excess is still small.
func probePlan(base, target float64, length, elapsed time.Duration) float64 {
	ramp := (length / 2).Seconds()
	t := min(elapsed, length).Seconds()
	if t <= ramp {
		return base*t + (target-base)*t*t/(2*ramp)
	}
	return base*ramp + (target-base)*ramp/2 + target*(t-ramp)
}
