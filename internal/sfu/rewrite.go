package sfu

import "time"

// rewriter maps one incoming RTP stream's sequence numbers and timestamps
// onto an outgoing stream that stays continuous when the source pauses,
// resumes or changes: the receiver sees one unbroken stream, with no gap
// to ask retransmissions for and timestamps that advance with the clock.
type rewriter struct {
	clockRate uint32

	started    bool
	seqOffset  uint16
	tsOffset   uint32
	lastOutSeq uint16
	lastOutTS  uint32
	lastOutAt  time.Time
	// resyncSeq is the first incoming sequence number after the latest
	// resync; older packets (late retransmissions) are dropped.
	resyncSeq uint16
}

// resyncTrail is how far behind the newest packet the mapping's start
// mark may fall: far more than any packet comes late, and under half the
// sequence space.
const resyncTrail = 1 << 12

func newRewriter(clockRate uint32, firstSeq uint16, firstTS uint32) *rewriter {
	return &rewriter{clockRate: clockRate, lastOutSeq: firstSeq - 1, lastOutTS: firstTS}
}

// rewrite returns the outgoing sequence number and timestamp of a packet
// that arrived at `at`, and false if the packet must be dropped. resync
// starts a new mapping at this packet: the first packet ever, or the first
// after a pause or a switch of source.
func (r *rewriter) rewrite(seq uint16, ts uint32, at time.Time, resync bool) (uint16, uint32, bool) {
	switch {
	case !r.started || resync:
		outSeq := r.lastOutSeq + 1
		outTS := r.lastOutTS
		if r.started {
			outTS += r.elapsed(at)
		}
		r.seqOffset, r.tsOffset = outSeq-seq, outTS-ts
		r.resyncSeq, r.started = seq, true
	case int16(seq-r.resyncSeq) < 0:
		return 0, 0, false // older than the current mapping
	case seq-r.resyncSeq > resyncTrail:
		// The mark follows a long stream, so that it stays within half
		// the sequence space of what arrives: left behind, after 32,768
		// packets every one would look older than the mapping.
		r.resyncSeq = seq - resyncTrail
	}
	outSeq, outTS := seq+r.seqOffset, ts+r.tsOffset
	if int16(outSeq-r.lastOutSeq) > 0 {
		r.lastOutSeq, r.lastOutTS, r.lastOutAt = outSeq, outTS, at
	}
	return outSeq, outTS, true
}

// elapsed is the wall time since the last packet out, in RTP clock ticks,
// at least one tick so that timestamps never repeat across a resync.
func (r *rewriter) elapsed(at time.Time) uint32 {
	d := at.Sub(r.lastOutAt)
	if r.lastOutAt.IsZero() || d <= 0 {
		return 1
	}
	ticks := uint64(d) * uint64(r.clockRate) / uint64(time.Second)
	if ticks == 0 {
		return 1
	}
	return uint32(ticks)
}

// skip takes the next outgoing sequence number for a packet of the
// server's own (padding), with the latest timestamp: the packets that
// follow continue after it.
func (r *rewriter) skip() (uint16, uint32) {
	r.lastOutSeq++
	if r.started {
		r.seqOffset++
	}
	return r.lastOutSeq, r.lastOutTS
}

// drop takes out an incoming packet that is not forwarded (padding): if it
// is the next in order, the packets after it are numbered one less.
func (r *rewriter) drop(seq uint16) {
	if r.started && int16(seq-r.resyncSeq) >= 0 && seq+r.seqOffset == r.lastOutSeq+1 {
		r.seqOffset--
	}
}
