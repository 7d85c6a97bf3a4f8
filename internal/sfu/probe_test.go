package sfu

import (
	"classmeet/internal/testclock"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
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
		stop, ok := p.link.startProbe(time.Now(), 0, target)
		if !ok {
			t.Fatal("no probe")
		}
		p.probing.Store(true)
		p.sendProbe(d, 0, target, stop)
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

// TestProbePadsOnlyBetweenFrames: a probe's padding never takes a sequence
// number between two packets of one frame (a receiver assembles a frame
// from consecutive numbers; one taken by padding leaves it undecodable
// until the next keyframe): while a frame is half sent it waits, and after
// the frame's last packet it goes out, numbered next, the media after it
// numbered on.
func TestProbePadsOnlyBetweenFrames(t *testing.T) {
	pub := testPublication()
	w := &writer{copied: true}
	d := subscribe(pub, w)
	arrive(t, pub, 0, true) // the first packet of a frame (no marker)
	if !d.pad(testclock.Now()) {
		t.Fatal("the track refused to pad")
	}
	if n := len(w.written()); n != 1 {
		t.Fatalf("%d packets written in the middle of a frame, want only the frame's first", n)
	}
	last := packet(1, false)
	last.Header.Marker = true
	raw, err := (&rtp.Packet{Header: last.Header, Payload: last.Payload}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	pub.arrived(pub.layers[0].Load(), raw, last.Arrival, webrtc.MimeTypeVP8, 96)
	d.pad(testclock.Now())
	arrive(t, pub, 2, false)
	got := w.written()
	if len(got) != 4 {
		t.Fatalf("%d packets written, want the frame's two, the padding and the next", len(got))
	}
	for i := 1; i < len(got); i++ {
		if got[i].seq != got[i-1].seq+1 {
			t.Errorf("sequence number %d follows %d", got[i].seq, got[i-1].seq)
		}
	}
	if len(got[2].payload) != padSize || got[2].payload[padSize-1] != padSize {
		t.Errorf("the third packet is not the padding: %d bytes", len(got[2].payload))
	}
}
