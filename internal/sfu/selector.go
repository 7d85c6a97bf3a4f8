package sfu

import "time"

// holdFor is how long a new layer choice must hold before a down track
// follows it: a tile resized back and forth does not make the stream
// switch each time.
const holdFor = 2 * time.Second

// tileSize is how large a subscriber shows a video, in device pixels.
type tileSize struct {
	width, height uint32
	reported      bool // false until the client said
}

func (t tileSize) hidden() bool { return t.reported && (t.width == 0 || t.height == 0) }

// layerInputs is what a layer choice depends on. The bandwidth estimate
// (a later input) caps the choice through maxLayer.
type layerInputs struct {
	tile     tileSize
	layers   layerSet
	maxLayer int // the highest layer the subscriber's link can take
}

// chooseLayer picks the layer a subscriber should receive: the smallest
// live one whose picture covers the tile (a thumbnail never gets the top
// layer, a hidden tile the lowest), the middle one before the client
// reported a size; never above maxLayer if a lower one is live. -1 if no
// layer is live.
func chooseLayer(in layerInputs) int {
	want := 1
	switch {
	case in.tile.hidden():
		want = 0
	case in.tile.reported:
		want = coveringLayer(in.tile, in.layers)
	}
	want = min(want, in.maxLayer)
	for i := want; i >= 0; i-- { // the nearest live layer below ...
		if in.layers.live[i] {
			return i
		}
	}
	for i := want + 1; i < MaxLayers; i++ { // ... or else above
		if in.layers.live[i] {
			return i
		}
	}
	return -1
}

// coveringLayer is the smallest live layer at least as large as the tile
// in both dimensions, or the largest live one. A layer whose size is not
// known yet is taken to be half the next one's (the browser's 4/2/1).
func coveringLayer(t tileSize, s layerSet) int {
	w, h := s.sizes()
	top := -1
	for i := range MaxLayers {
		if !s.live[i] {
			continue
		}
		top = i
		if w[i] != 0 && w[i] >= t.width && h[i] >= t.height {
			return i
		}
	}
	if top < 0 {
		return MaxLayers - 1
	}
	return top
}

// sizes fills in the sizes not seen yet from the nearest known layer.
func (s layerSet) sizes() (w, h [MaxLayers]uint32) {
	w, h = s.width, s.height
	for i := range MaxLayers {
		if w[i] != 0 {
			continue
		}
		for j := range MaxLayers {
			if s.width[j] == 0 {
				continue
			}
			if j > i {
				w[i], h[i] = s.width[j]>>(j-i), s.height[j]>>(j-i)
			} else {
				w[i], h[i] = s.width[j]<<(i-j), s.height[j]<<(i-j)
			}
			break
		}
	}
	return w, h
}

// selector is a down track's layer choice with hysteresis: a new choice
// becomes the target once it has held for holdFor, at once when it must
// (the first choice, the first size report, a hidden tile, a target layer
// that stopped).
type selector struct {
	target    int // -1 until the first choice
	candidate int
	since     time.Time
}

func newSelector() selector { return selector{target: -1, candidate: -1} }

// update takes the latest choice and returns the target now.
func (s *selector) update(want int, immediate bool, now time.Time) int {
	switch {
	case want < 0:
	case want == s.target || s.target < 0 || immediate:
		s.target, s.candidate = want, want
	case want != s.candidate:
		s.candidate, s.since = want, now
	case now.Sub(s.since) >= holdFor:
		s.target = want
	}
	return s.target
}
