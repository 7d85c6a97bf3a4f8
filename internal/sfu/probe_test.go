package sfu

import (
	"testing"
	"testing/synctest"
	"time"
)

// TestProbeOnAnUnnumberedTrackIsBounded: a client may answer with
// transport-wide numbering on its audio only (a lying one, or one that
// negotiates it per m-line); its feedback on the audio can cap the link,
// and the probe for its paused video then pads on a track whose packets
// the link never counts. What the probe sends stays within what it aims
// for: at most target bit/s for the probe's length, counted where it
// lands, at the track's writer.
func TestProbeOnAnUnnumberedTrackIsBounded(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pub := testPublication()
		w := &writer{}
		d := subscribe(pub, w)
		d.twccID = 0 // the client's answer left the extension off this m-line
		p := &Peer{link: d.link}
		d.link.est.bps = 100_000 // the audio's feedback showed congestion
		const target = 400_000.0
		stop, ok := p.link.startProbe(time.Now(), target)
		if !ok {
			t.Fatal("no probe")
		}
		p.probing.Store(true)
		p.sendProbe(d, target, stop)
		most := target*probeDuration(target).Seconds()/padBits + 1
		if n := w.n.Load(); float64(n) > most {
			t.Errorf("a probe for %.0f bit/s over %v sent %d padding packets, at most %.0f fit", target, probeDuration(target), n, most)
		}
	})
}

// TestProbeOfAWeakLinkIsBoundedByItsEstimate: a subscriber whose link is
// estimated at 100 kbit/s, paused, wants a screen share of 2.5 Mbit/s. Its
// probe adds at most as much again as the link is estimated to carry: a
// probe many times the link's rate fills its queue at once, and its audio
// (audio first) waits behind the padding until the feedback stops it. The
// padding is counted at the track's writer.
func TestProbeOfAWeakLinkIsBoundedByItsEstimate(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		pub := testPublication()
		w := &writer{}
		d := subscribe(pub, w)
		p := &Peer{link: d.link}
		const est = 100_000.0
		d.link.est.bps = est
		screen := &videoFit{d: d, set: layerSet{live: [MaxLayers]bool{true}}, rates: [MaxLayers]float64{2_500_000}, given: -1, screen: true}
		p.probeFor(time.Now(), screen, 0, est)
		time.Sleep(2 * maxProbeLength)
		synctest.Wait()
		if p.probing.Load() {
			t.Fatal("the probe did not end")
		}
		padded := float64(w.n.Load()) * padBits
		if most := probeGrowth * est * maxProbeLength.Seconds(); padded > most {
			t.Errorf("a probe of a link estimated at %.0f bit/s padded %.0f bits, more than %.0f", est, padded, most)
		}
	})
}
