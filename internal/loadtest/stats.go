package loadtest

import (
	"math"
	"slices"
	"time"
)

// histogram counts durations in logarithmic buckets (2 % wide), so a long
// run keeps percentiles in constant memory.
type histogram struct {
	counts []uint64
	n      uint64
}

const histGrowth = 1.02

func (h *histogram) add(d time.Duration) {
	us := float64(d) / float64(time.Microsecond)
	i := 0
	if us > 1 {
		i = int(math.Log(us)/math.Log(histGrowth)) + 1
	}
	if i >= len(h.counts) {
		h.counts = append(h.counts, make([]uint64, i+1-len(h.counts))...)
	}
	h.counts[i]++
	h.n++
}

func (h *histogram) merge(o *histogram) {
	if len(o.counts) > len(h.counts) {
		h.counts = append(h.counts, make([]uint64, len(o.counts)-len(h.counts))...)
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	h.n += o.n
}

// quantile is the upper edge of the bucket holding the q-th sample.
func (h *histogram) quantile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(math.Ceil(q * float64(h.n)))
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank && c > 0 {
			return time.Duration(math.Pow(histGrowth, float64(i)) * float64(time.Microsecond))
		}
	}
	return 0
}

// percentile of a few exact samples (join phases: one per participant).
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(i, 0)]
}

// seqTracker follows one track's RTP sequence numbers: gaps seen when a
// packet first arrives (loss before NACK) and numbers never seen at all
// (loss after NACK), in a bitmap of every number since the first.
type seqTracker struct {
	started     bool
	first, high int64 // unwrapped
	seen        []uint64
	gaps        uint64 // packets missing when a later one arrived
	dups        uint64
}

func (s *seqTracker) add(seq uint16) {
	if !s.started {
		s.started, s.first, s.high = true, int64(seq), int64(seq)
		s.mark(0)
		return
	}
	// Unwrap relative to the highest number seen: the nearest candidate.
	delta := int64(int16(seq - uint16(s.high)))
	n := s.high + delta
	if n < s.first {
		return // from before the track started for us
	}
	if n > s.high {
		s.gaps += uint64(n - s.high - 1)
		s.high = n
	}
	if s.mark(n - s.first) {
		s.dups++
	}
}

// mark sets bit i and reports whether it was set already.
func (s *seqTracker) mark(i int64) bool {
	w := int(i / 64)
	if w >= len(s.seen) {
		s.seen = append(s.seen, make([]uint64, w+1-len(s.seen))...)
	}
	bit := uint64(1) << (i % 64)
	was := s.seen[w]&bit != 0
	s.seen[w] |= bit
	return was
}

// expected is how many packets the track should have had.
func (s *seqTracker) expected() uint64 {
	if !s.started {
		return 0
	}
	return uint64(s.high - s.first + 1)
}

// missing counts the numbers never seen.
func (s *seqTracker) missing() uint64 {
	var have uint64
	for _, w := range s.seen {
		for ; w != 0; w &= w - 1 {
			have++
		}
	}
	return s.expected() - have
}
