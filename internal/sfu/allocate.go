package sfu

import (
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pion/webrtc/v4"
)

// allocInterval is how often each subscriber's video is fitted to its link.
const allocInterval = 250 * time.Millisecond

// headroom is the margin a layer needs over its measured rate to be given
// to a link: keyframes come in bursts.
const headroom = 1.15

// defaultLayerRate is a layer's rate, bit/s, until it is measured: what the
// browser client asks of each (static/peers.js).
var defaultLayerRate = [MaxLayers]float64{150_000, 500_000, 1_500_000}

// videoFit is one video a subscriber receives, as the allocation sees it.
type videoFit struct {
	d      *DownTrack
	set    layerSet
	rates  [MaxLayers]float64 // what each layer needs, bit/s
	want   int                // the layer its tile wants
	given  int                // the highest the link can take; -1: paused
	had    int                // what it had before: climbing above it takes a margin
	area   uint64             // the tile's, device pixels
	screen bool
}

// allocate fits the subscriber's video to its link's estimate, audio first:
// every video gets its lowest layer if the link carries it, in order of
// importance (screen shares, then the largest tiles), then each climbs
// towards the layer its tile wants while the estimate allows. A video that
// cannot have even its lowest layer is paused, and the client told. When a
// video has less than its tile wants, the link is probed for the next step.
// Called from the SFU's periodic goroutine only.
func (p *Peer) allocate(now time.Time) {
	est, capped := p.link.estimate()
	audio, fits := 0.0, []videoFit(nil)
	for _, d := range p.DownTracks() {
		if !d.flows(now) {
			continue // none of it goes out: it takes nothing of the link
		}
		if d.kind == webrtc.RTPCodecTypeAudio {
			audio += d.pub.layerRate(0) * headroom
			continue
		}
		if d.videoOff.Load() {
			continue
		}
		f := videoFit{d: d, set: d.pub.layerSet(now), screen: d.pub.Source == SourceScreen, had: int(d.capLayer.Load())}
		if f.want, f.area = d.wanted(f.set); f.want < 0 {
			continue // nothing live to send
		}
		for i := range MaxLayers {
			f.rates[i] = d.pub.layerRate(i) * headroom
		}
		fits = append(fits, f)
	}
	if !capped {
		for _, f := range fits {
			f.d.setCap(MaxLayers - 1)
		}
		p.tellPaused(nil)
		return
	}
	budget := fit(est-audio, fits)
	var paused []TrackInfo
	var short *videoFit
	for i := range fits {
		f := &fits[i]
		f.d.setCap(f.given)
		if f.given < 0 {
			paused = append(paused, TrackInfo{Participant: f.d.pub.Participant, Source: f.d.pub.Source})
		}
		if short == nil && f.given < f.want {
			short = f
		}
	}
	p.tellPaused(paused)
	if short != nil {
		p.probeFor(now, short, est-budget, est)
	}
}

// fit gives each video the highest layer the budget (bit/s) allows, audio
// already taken out: first every video its lowest layer, in order of
// importance (screen shares, then the largest tiles), then each in turn up
// towards the layer its tile wants. A video the budget cannot give even its
// lowest layer gets -1 (paused). It sorts fits, and returns what is left.
func fit(budget float64, fits []videoFit) float64 {
	slices.SortStableFunc(fits, func(a, b videoFit) int {
		switch {
		case a.screen != b.screen:
			if a.screen {
				return -1
			}
			return 1
		case a.area > b.area:
			return -1
		case a.area < b.area:
			return 1
		}
		return 0
	})
	for i := range fits {
		f := &fits[i]
		f.given = -1
		if low := f.lowest(); low >= 0 && f.rates[low]*f.margin(low) <= budget {
			f.given, budget = low, budget-f.rates[low]
		}
	}
	for i := range fits {
		f := &fits[i]
		for l := f.given + 1; f.given >= 0 && l <= f.want; l++ {
			if !f.set.live[l] {
				continue
			}
			extra := f.rates[l] - f.rates[f.given]
			if f.rates[l]*f.margin(l)-f.rates[f.given] > budget {
				break
			}
			f.given, budget = l, budget-extra
		}
	}
	return budget
}

// probeGrowth bounds a probe's target, as a multiple of what the link is
// known to carry (pausedProbeGrowth while a video is paused): a probe many
// times what the link carries fills its queue at once, and the audio waits
// behind the padding until the feedback stops it.
const (
	probeGrowth       = 2.0
	pausedProbeGrowth = 1.5
)

// probeMargin is how much more than the next layer a probe asks of the
// link: more than upMargin, so that a probe that succeeds lets it climb.
const probeMargin = 1.3

// upMargin is how much more than a layer needs the estimate must allow
// before a video climbs to it (or resumes): layers' rates swing with
// keyframes, and a video must not go up and down with each swing.
const upMargin = 1.2

// margin is what layer l must fit with: upMargin above what the video had.
func (f *videoFit) margin(l int) float64 {
	if l > f.had {
		return upMargin
	}
	return 1
}

// lowest is the lowest live layer.
func (f *videoFit) lowest() int {
	for i := range MaxLayers {
		if f.set.live[i] {
			return i
		}
	}
	return -1
}

// probeFor probes the link for what f needs to climb one layer, on top of
// the sending bit/s given now (of the estimate est), or for probeGrowth
// times what the link is known to carry if less: a link far below what its
// video needs climbs in steps.
func (p *Peer) probeFor(now time.Time, f *videoFit, sending, est float64) {
	next := f.given + 1
	for next < MaxLayers && !f.set.live[next] {
		next++
	}
	if next >= MaxLayers {
		return
	}
	need := f.rates[next] * probeMargin
	if f.given >= 0 {
		need -= f.rates[f.given]
	}
	if need <= 0 || !p.probing.CompareAndSwap(false, true) {
		return
	}
	// Probed for more than the climb needs (upMargin and some), so that
	// a probe that succeeds is enough to climb; but never for more than
	// probeGrowth times what the link is known to carry, so that a probe
	// of a full link overloads it little before it stops (a climb far
	// above takes a few probes).
	growth := probeGrowth
	if f.given < 0 {
		growth = pausedProbeGrowth // the link carries audio only: every loss is heard
	}
	target := min(sending+min(need, maxProbeRate), growth*max(sending, est))
	stop, ok := p.link.startProbe(now, sending, target)
	if !ok {
		p.probing.Store(false)
		return
	}
	go p.sendProbe(f.d, sending, target, stop)
}

// padBits is one padding packet on the wire.
const padBits = (padSize + wireOverhead) * 8

// sendProbe pads on d so that the link is sent what probePlan says, from
// base up to target bit/s, for the probe's duration, or until the feedback
// stops the probe.
func (p *Peer) sendProbe(d *DownTrack, base, target float64, stop *atomic.Bool) {
	defer p.probing.Store(false)
	start := time.Now()
	length := probeDuration(target)
	defer func() { p.link.stopProbe(time.Now()) }()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for now := range tick.C {
		elapsed := now.Sub(start)
		if stop.Load() || elapsed >= length || d.stopped.Load() {
			return
		}
		for due := probePlan(base, target, length, elapsed) - p.link.probeSent(); due >= padBits; due -= padBits {
			if !d.pad(now) {
				return
			}
		}
	}
}

// tellPaused tells the client which videos are paused for its weak link,
// when that changes.
func (p *Peer) tellPaused(paused []TrackInfo) {
	slices.SortFunc(paused, func(a, b TrackInfo) int {
		return strings.Compare(a.Participant+"/"+string(a.Source), b.Participant+"/"+string(b.Source))
	})
	if slices.Equal(paused, p.paused) {
		return
	}
	p.paused = paused
	p.signal(Signal{Type: "video_paused", Paused: paused})
}

// flows is whether the publication's packets go out to the subscriber at
// all: connected, not stopped by a host (a muted participant's browser
// still sends), and sending. A muted microphone's last measured rate must
// not take a subscriber's video off it.
func (d *DownTrack) flows(now time.Time) bool {
	return d.connected.Load() && !d.pub.Paused() && d.pub.bestLayer(now) >= 0
}

// wanted is the layer the subscriber's tile wants of set (the link
// aside), and the tile's area.
func (d *DownTrack) wanted(set layerSet) (int, uint64) {
	d.mu.Lock()
	tile := d.tile
	d.mu.Unlock()
	return chooseLayer(layerInputs{tile: tile, layers: set, maxLayer: MaxLayers - 1}), uint64(tile.width) * uint64(tile.height)
}

// setCap sets the highest layer the subscriber's link can take; -1
// pauses the video. A video resumed starts again at a keyframe.
func (d *DownTrack) setCap(c int) {
	old := d.capLayer.Swap(int32(c))
	switch {
	case old < 0 && c >= 0:
		d.restart.Store(true)
		d.pub.RequestKeyframe()
	case c > int(old):
		d.capRaised.Store(true)
	}
}

// layerRate is what layer i needs on the wire, bit/s: measured, or the
// browser's default until it is.
func (p *Publication) layerRate(i int) float64 {
	if l := p.layers[i].Load(); l != nil {
		if bps := l.bps.Load(); bps > 0 {
			return float64(bps)
		}
	}
	if p.Kind == webrtc.RTPCodecTypeAudio {
		return 50_000
	}
	return defaultLayerRate[i]
}
