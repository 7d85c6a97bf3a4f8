package sfu

import (
	"testing"
	"time"

	"classmeet/internal/testclock"
)

func threeLayers() layerSet {
	return layerSet{live: [MaxLayers]bool{true, true, true}, width: [MaxLayers]uint32{320, 640, 1280}, height: [MaxLayers]uint32{180, 360, 720}}
}

func TestChooseLayer(t *testing.T) {
	all := threeLayers()
	noTop := all
	noTop.live[2] = false
	onlyTop := layerSet{live: [MaxLayers]bool{false, false, true}, width: [MaxLayers]uint32{0, 0, 1280}, height: [MaxLayers]uint32{0, 0, 720}}
	unknownSizes := layerSet{live: [MaxLayers]bool{true, true, true}}
	topOnlyKnown := layerSet{live: [MaxLayers]bool{true, true, true}, width: [MaxLayers]uint32{0, 0, 1280}, height: [MaxLayers]uint32{0, 0, 720}}
	size := func(w, h uint32) tileSize { return tileSize{width: w, height: h, reported: true} }
	for _, tc := range []struct {
		name   string
		tile   tileSize
		layers layerSet
		max    int
		want   int
	}{
		{"before a report: the middle", tileSize{}, all, 2, 1},
		{"a thumbnail", size(160, 90), all, 2, 0},
		{"exactly the lowest", size(320, 180), all, 2, 0},
		{"a little more than the lowest", size(321, 180), all, 2, 1},
		{"a medium tile", size(600, 340), all, 2, 1},
		{"a large tile", size(1000, 560), all, 2, 2},
		{"larger than any layer", size(3840, 2160), all, 2, 2},
		{"hidden", size(0, 0), all, 2, 0},
		{"hidden by one side", size(640, 0), all, 2, 0},
		{"large, top not live", size(1280, 720), noTop, 2, 1},
		{"small, only the top live", size(100, 60), onlyTop, 2, 2},
		{"nothing live", size(100, 60), layerSet{}, 2, -1},
		{"sizes unknown: the top for a large tile", size(1280, 720), unknownSizes, 2, 2},
		{"sizes from the top's: a thumbnail", size(300, 170), topOnlyKnown, 2, 0},
		{"sizes from the top's: medium", size(600, 340), topOnlyKnown, 2, 1},
		{"capped by the link (a later input)", size(1280, 720), all, 0, 0},
	} {
		if got := chooseLayer(layerInputs{tile: tc.tile, layers: tc.layers, maxLayer: tc.max}); got != tc.want {
			t.Errorf("%s: layer %d, want %d", tc.name, got, tc.want)
		}
	}
}

// TestSelectorHysteresis: a choice is followed once it held for holdFor;
// one that flips back and forth faster is never followed; a forced change
// (a hidden tile, a layer gone) is followed at once.
func TestSelectorHysteresis(t *testing.T) {
	t0 := testclock.Now()
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	s := newSelector()
	if got := s.update(1, false, at(0)); got != 1 {
		t.Fatalf("first choice %d, want 1 at once", got)
	}
	if got := s.update(2, false, at(100)); got != 1 {
		t.Errorf("a new choice was followed at once: %d", got)
	}
	if got := s.update(2, false, at(2000)); got != 1 {
		t.Errorf("followed after 1.9 s: %d", got)
	}
	if got := s.update(2, false, at(2100)); got != 2 {
		t.Errorf("not followed after holding 2 s: %d", got)
	}
	// A tile resized back and forth every 500 ms for a minute: no switch.
	for ms := 2200; ms < 62200; ms += 500 {
		want := 1
		if (ms/500)%2 == 0 {
			want = 2
		}
		if got := s.update(want, false, at(ms)); got != 2 {
			t.Fatalf("oscillating choice followed at %d ms: %d", ms, got)
		}
	}
	// An interrupted candidate starts its wait again.
	s.update(0, false, at(70000))
	s.update(2, false, at(71000))
	if got := s.update(0, false, at(72500)); got != 2 {
		t.Errorf("a candidate interrupted by the current choice was followed: %d", got)
	}
	if got := s.update(0, true, at(72600)); got != 0 {
		t.Errorf("a forced change was not followed at once: %d", got)
	}
	if got := s.update(-1, false, at(80000)); got != 0 {
		t.Errorf("nothing live changed the target to %d", got)
	}
}
