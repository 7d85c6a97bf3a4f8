package loadtest

import (
	"testing"
	"time"
)

func TestSeqTracker(t *testing.T) {
	cases := []struct {
		name                   string
		seqs                   []uint16
		expected, gaps, missed uint64
		dups                   uint64
	}{
		{"in order", []uint16{10, 11, 12}, 3, 0, 0, 0},
		{"repaired by a retransmission", []uint16{10, 12, 11, 13}, 4, 1, 0, 0},
		{"lost for good", []uint16{10, 13, 14}, 5, 2, 2, 0},
		{"across the wrap", []uint16{65534, 65535, 1, 0, 2}, 5, 1, 0, 0},
		{"duplicate", []uint16{5, 6, 6, 7}, 3, 0, 0, 1},
		{"late from before the start", []uint16{100, 99, 101}, 2, 0, 0, 0},
	}
	for _, c := range cases {
		var s seqTracker
		for _, q := range c.seqs {
			s.add(q)
		}
		if s.expected() != c.expected || s.gaps != c.gaps || s.missing() != c.missed || s.dups != c.dups {
			t.Errorf("%s: expected %d gaps %d missing %d dups %d; want %d %d %d %d", c.name,
				s.expected(), s.gaps, s.missing(), s.dups, c.expected, c.gaps, c.missed, c.dups)
		}
	}
}

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 100; i++ {
		h.add(time.Duration(i) * time.Millisecond)
	}
	var h2 histogram
	h2.merge(&h)
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}} {
		got := h2.quantile(c.q)
		if got < c.want || float64(got) > 1.03*float64(c.want) {
			t.Errorf("q%.2f = %v, want %v within 3 %%", c.q, got, c.want)
		}
	}
}

// TestSyntheticVP8 checks the generator's stream by the rules the SFU and
// the sinks read it with: keyframes where due, a stamp in every packet.
func TestSyntheticVP8(t *testing.T) {
	v := &vp8Sender{frameSize: 1_500_000 / 8 / videoFPS}
	var keys, firsts int
	for f := range 4 * videoFPS {
		if f == 45 {
			v.keyWanted.Store(true) // a PLI
		}
		for i, p := range v.packets(int64(f)) {
			if ns, ok := readStamp(p.Payload); !ok || ns != int64(f) {
				t.Fatalf("frame %d packet %d: stamp %d %v", f, i, ns, ok)
			}
			if len(p.Payload) > 1200 {
				t.Fatalf("frame %d packet %d: %d bytes", f, i, len(p.Payload))
			}
			if i == 0 {
				firsts++
			}
			if vp8Keyframe(p.Payload) {
				keys++
				if i != 0 || (f != 0 && f != 45 && f != 105) {
					t.Errorf("keyframe at frame %d packet %d", f, i)
				}
			}
		}
	}
	if keys != 3 || firsts != 4*videoFPS {
		t.Errorf("%d keyframes (want 3: the start, a PLI, %v after it), %d frames", keys, keyframeEvery, firsts)
	}
}
