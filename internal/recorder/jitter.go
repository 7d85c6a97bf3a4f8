package recorder

import (
	"time"

	"classmeet/internal/sfu"
)

// jitter puts a track's packets back in sequence order, drops duplicates
// and packets that come too late, and waits a while for a missing packet
// (a retransmission answering a NACK) before giving it up as lost.
type jitter struct {
	slots []*sfu.Packet // indexed by sequence number modulo len
	out   []int32       // the sequence numbers last released, likewise; -1 for none
	mask  uint16
	wait  time.Duration // how long a missing packet is waited for

	started bool
	next    uint16 // the next sequence number to release
	held    int    // packets in slots

	late, duplicate, lost uint64
}

// released is a packet let out of the buffer; lost counts the packets
// given up on just before it.
type released struct {
	pkt  *sfu.Packet
	lost int
}

// newJitter makes a buffer of size slots (a power of two).
func newJitter(size int, wait time.Duration) *jitter {
	j := &jitter{slots: make([]*sfu.Packet, size), out: make([]int32, size), mask: uint16(size - 1), wait: wait}
	for i := range j.out {
		j.out[i] = -1
	}
	return j
}

// push adds a packet and appends to out what can be released now.
func (j *jitter) push(p *sfu.Packet, out []released) []released {
	seq := p.Header.SequenceNumber
	if !j.started {
		j.started, j.next = true, seq
	}
	ahead := int(int16(seq - j.next))
	switch {
	case ahead < 0:
		if j.out[seq&j.mask] == int32(seq) {
			j.duplicate++ // already let out
		} else {
			j.late++ // its place was given up
		}
		return j.release(p.Arrival, out)
	case ahead >= len(j.slots):
		// Far ahead (a pause, or a long loss): let out everything held, in
		// order, and carry on from this packet.
		out = j.drain(out)
		jump := int(seq - j.next)
		j.lost += uint64(jump)
		j.next = seq + 1
		j.out[seq&j.mask] = int32(seq)
		return append(out, released{pkt: p, lost: jump})
	}
	i := seq & j.mask
	if j.slots[i] != nil {
		j.duplicate++
		return j.release(p.Arrival, out)
	}
	j.slots[i] = p
	j.held++
	return j.release(p.Arrival, out)
}

// release lets out packets in order, skipping a missing one once the
// packet after it has waited long enough.
func (j *jitter) release(now time.Time, out []released) []released {
	return j.letOut(out, func(waiting *sfu.Packet) bool { return now.Sub(waiting.Arrival) >= j.wait })
}

// expire releases what has waited long enough, when no packet comes to do it.
func (j *jitter) expire(now time.Time, out []released) []released {
	return j.release(now, out)
}

// drain lets out everything held, in order, counting what is missing.
func (j *jitter) drain(out []released) []released {
	return j.letOut(out, func(*sfu.Packet) bool { return true })
}

// letOut releases held packets in order; at a gap, giveUp says whether to
// stop waiting for the missing packets, given the first one held after it.
func (j *jitter) letOut(out []released, giveUp func(waiting *sfu.Packet) bool) []released {
	lost := 0
	for j.held > 0 {
		i := j.next & j.mask
		if p := j.slots[i]; p != nil {
			j.slots[i] = nil
			j.out[i] = int32(j.next)
			j.held--
			j.next++
			out = append(out, released{pkt: p, lost: lost})
			lost = 0
			continue
		}
		waiting := j.oldestHeld()
		if waiting == nil || !giveUp(waiting) {
			break
		}
		n := int(waiting.Header.SequenceNumber - j.next)
		j.next = waiting.Header.SequenceNumber
		j.lost += uint64(n)
		lost += n
	}
	return out
}

// oldestHeld is the first packet held after the gap at next.
func (j *jitter) oldestHeld() *sfu.Packet {
	for k := uint16(1); int(k) < len(j.slots); k++ {
		if p := j.slots[(j.next+k)&j.mask]; p != nil {
			return p
		}
	}
	return nil
}
