package sfu

import (
	"math"
	"time"
)

// The send-side bandwidth estimate of one subscriber's link, from its TWCC
// feedback. It is loss- and delay-based, as GCC is, kept simple:
//
//   - Until the link shows congestion there is no estimate, and nothing is
//     capped: a good link never waits for a probe.
//   - Congestion is over 15 % of the packets of the last second (at least
//     the last 100) lost, or a queuing delay (one-way delay above its
//     floor) over 200 ms. Random loss of a few per cent, and the jitter of
//     a busy receiver, are not congestion. The estimate then falls to 85 %
//     of what the link delivered.
//   - While the link is clear (under 5 % loss, under 25 ms of queue) the
//     estimate follows what it delivers, if more.
//   - To find out whether it can carry more than it is sent, the link is
//     probed (see probe): padding on top of the media for half a second,
//     stopped early at the first sign of a queue, and the estimate rises to
//     what the probe got through.
const (
	feedbackWindow = time.Second
	windowPackets  = 100
	maxWindow      = 3 * time.Second
	overuseLoss    = 0.15
	clearLoss      = 0.05
	overuseDelay   = float64(200 * time.Millisecond)
	clearDelay     = float64(25 * time.Millisecond)
	minEstimate    = 30_000.0     // bit/s: audio must stay possible
	maxEstimate    = 50_000_000.0 // bit/s: what a lying client can claim
	// floorPeriod: the one-way delay's floor is the lowest of the current
	// and the previous period, so clock drift and route changes wash out.
	floorPeriod = 10 * time.Second
)

// feedbackSummary is what one feedback message said.
type feedbackSummary struct {
	at          time.Time
	recv, lost  int
	late        int   // received, of those reported missing before
	bytes       int   // received, on the wire
	first, last int64 // the arrival times of the first and last received (receiver's clock, ns)
	queueSum    int64 // queuing delay summed over the received packets, ns
}

type estimator struct {
	bps float64 // bit/s; 0: no congestion seen, nothing capped

	cur  feedbackSummary
	hist [32]feedbackSummary // recent feedback, a ring
	head int

	floor, floorPrev int64 // lowest one-way delay (arrival minus send, clocks apart), ns
	floorSince       time.Time
	queue            float64 // smoothed queuing delay, ns

	lastDecrease time.Time
	// After a decrease the estimate holds until the feedback speaks of
	// packets sent after it (holdSeq on): what came before no longer says
	// anything about the rate sent now.
	holding bool
	holdSeq uint16
	probe   probe
}

func (e *estimator) init() {
	e.floor, e.floorPrev = math.MaxInt64, math.MaxInt64
	e.probe.backoff = probeMinBackoff
}

// packet takes one packet's fate from a feedback message; late: it was
// reported missing before, and counted lost, which it was not.
func (e *estimator) packet(seq uint16, received, late bool, sentAt, arrival int64, size int) {
	if e.holding && int16(seq-e.holdSeq) >= 0 {
		e.holding, e.hist = false, [len(e.hist)]feedbackSummary{}
	}
	if !received {
		e.probe.packet(seq, false, false, arrival, size, 0)
		e.cur.lost++
		return
	}
	if e.cur.recv == 0 || arrival < e.cur.first {
		e.cur.first = arrival
	}
	e.cur.last = max(e.cur.last, arrival)
	e.cur.recv++
	if late {
		e.cur.late++
	}
	e.cur.bytes += size
	owd := arrival - sentAt
	e.floor = min(e.floor, owd)
	queue := owd - min(e.floor, e.floorPrev)
	e.cur.queueSum += queue
	e.probe.packet(seq, true, late, arrival, size, float64(queue))
}

// feedbackDone closes one feedback message and updates the estimate; next
// is the number the next packet sent will have, and remembered how many
// packets sent the link keeps records of.
func (e *estimator) feedbackDone(now time.Time, next uint16, remembered int) {
	c := e.cur
	e.cur = feedbackSummary{}
	if c.recv+c.lost == 0 {
		return
	}
	if e.holding && int(uint16(next-e.holdSeq)) > remembered {
		// More sent since the decrease than the link remembers: what the
		// feedback can name came after it, though holdSeq, half the
		// sequence space behind, may look ahead of it (feedback that
		// stopped for minutes).
		e.holding, e.hist = false, [len(e.hist)]feedbackSummary{}
	}
	c.at = now
	e.head = (e.head + 1) % len(e.hist)
	e.hist[e.head] = c
	if now.Sub(e.floorSince) >= floorPeriod {
		e.floorPrev, e.floor, e.floorSince = e.floor, math.MaxInt64, now
	}
	if c.recv > 0 {
		e.queue = 0.7*e.queue + 0.3*float64(c.queueSum)/float64(c.recv)
	}
	loss, reported, rate := e.window(now)
	switch {
	case e.holding, e.probe.state != probeIdle:
		// (A probe that overloads the link stops itself; what it caused
		// is forgotten once it is judged, and says nothing of the media.)
	case (loss > overuseLoss && reported >= windowPackets) || e.queue > overuseDelay:
		if rate > 0 {
			if target := max(0.85*rate, minEstimate); e.bps == 0 || target < e.bps {
				e.bps = target
			}
			e.lastDecrease, e.holding, e.holdSeq = now, true, next
			// Congestion soon after a probe said yes: it was wrong, and
			// the next one waits longer.
			if p := &e.probe; !p.okAt.IsZero() && now.Sub(p.okAt) < probeTrust {
				p.backoff, p.okAt = min(2*p.backoff, probeMaxBackoff), time.Time{}
				p.next = now.Add(p.backoff)
			}
		}
	case e.bps > 0 && e.clear(loss) && rate > e.bps && e.probe.state == probeIdle:
		// (A probe's padding is no media: only the probe's verdict,
		// once its feedback is all in, may raise the estimate.)
		e.bps = min(rate, maxEstimate)
	}
	if e.probe.check(now, e) {
		e.holding, e.holdSeq = true, next
	}
}

// clear is whether the link shows no congestion: little loss, no queue.
func (e *estimator) clear(loss float64) bool {
	return loss < clearLoss && e.queue < clearDelay
}

// window is the loss, the packets reported and the rate delivered (bit/s)
// in the recent feedback: the last feedbackWindow, or as far back as it
// takes to count windowPackets (random loss on a few packets is not
// congestion).
func (e *estimator) window(now time.Time) (loss float64, reported int, rate float64) {
	var recv, lost, late, bytes int
	var first, last int64
	for k := range len(e.hist) {
		s := &e.hist[(e.head-k+len(e.hist))%len(e.hist)]
		if s.at.IsZero() || (now.Sub(s.at) > feedbackWindow && recv+lost >= windowPackets) || now.Sub(s.at) > maxWindow {
			break
		}
		recv, lost, late = recv+s.recv, lost+s.lost, late+s.late
		if s.recv == 0 {
			continue
		}
		if bytes == 0 || s.first < first {
			first = s.first
		}
		last = max(last, s.last)
		bytes += s.bytes
	}
	// A late packet was counted twice, once lost (perhaps before the
	// window) and once received.
	lost = max(lost-late, 0)
	if recv+lost == 0 {
		return 0, 0, 0
	}
	loss = float64(lost) / float64(recv+lost)
	if span := last - first; span >= int64(100*time.Millisecond) {
		rate = float64(bytes) * 8 / (float64(span) / float64(time.Second))
	}
	return loss, recv + lost, rate
}
