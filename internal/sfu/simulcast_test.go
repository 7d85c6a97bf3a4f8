package sfu

import (
	"encoding/binary"
	"testing"
	"time"

	"github.com/pion/rtp"
	rtpcodecs "github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"

	"classmeet/internal/testclock"
)

// Simulcast without a network: three layers, each numbering its packets,
// timestamps and VP8 pictures on its own, handed to down tracks frame by
// frame on a clock the test moves.

func testSimulcast(t *testing.T) (*Publication, [MaxLayers]*simLayer) {
	t.Helper()
	p := &Publication{
		ID: "p/camera", Participant: "p", Source: SourceCamera, Kind: webrtc.RTPCodecTypeVideo, done: make(chan struct{}),
		Codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, PayloadType: 96},
	}
	p.init()
	var ls [MaxLayers]*simLayer
	for i, rid := range []string{"q", "h", "f"} {
		l := p.addLayer(rid, nil)
		if l == nil {
			t.Fatalf("layer %q refused", rid)
		}
		// Each layer starts its numbers far from the others'.
		ls[i] = &simLayer{l: l, seq: uint16(1000 + 20000*i), ts: uint32(5_000_000 * (i + 1)), pic: uint16(100 + 9000*i), tl0: uint8(7 + 80*i),
			width: uint16(320 << i), height: uint16(180 << i)}
	}
	return p, ls
}

// simLayer is one layer's encoder as the SFU sees it.
type simLayer struct {
	l             *layer
	seq           uint16
	ts            uint32
	pic           uint16
	tl0           uint8
	width, height uint16
}

// frame sends one frame of two packets on the layer at `at`: a keyframe
// (its picture size in the first) or not. The last payload byte names the
// layer, so the test can tell which one a packet came from.
func (s *simLayer) frame(t *testing.T, pub *Publication, key bool, at time.Time) {
	t.Helper()
	s.pic = (s.pic + 1) & 0x7fff
	s.tl0++
	s.ts += 3000
	for part := range 2 {
		p := make([]byte, 0, 40)
		b0 := byte(0x80) // X
		if part == 0 {
			b0 |= 0x10 // S: the start of partition 0
		}
		p = append(p, b0, 0xc0, 0x80|byte(s.pic>>8), byte(s.pic), s.tl0)
		if part == 0 {
			tag := byte(0x01) // P=1: an interframe
			if key {
				tag = 0
			}
			p = append(p, tag, 0, 0, 0x9d, 0x01, 0x2a)
			p = binary.LittleEndian.AppendUint16(p, s.width)
			p = binary.LittleEndian.AppendUint16(p, s.height)
		}
		p = append(p, make([]byte, 20)...)
		p = append(p, byte(s.l.index))
		raw, err := (&rtp.Packet{Header: rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: s.seq, Timestamp: s.ts, SSRC: uint32(10 + s.l.index), Marker: part == 1}, Payload: p}).Marshal()
		if err != nil {
			t.Fatal(err)
		}
		s.seq++
		stored := s.l.ring.store(raw, at)
		if stored == nil {
			t.Fatal("packet not stored")
		}
		pub.deliver(s.l, stored, webrtc.MimeTypeVP8, 96)
	}
}

// outPacket is one written packet, read back.
type outPacket struct {
	seq        uint16
	ts         uint32
	layer      int
	start, key bool
	pic        uint16
	tl0        uint8
}

func readBack(t *testing.T, ws []written) []outPacket {
	t.Helper()
	out := make([]outPacket, 0, len(ws))
	for _, w := range ws {
		var v rtpcodecs.VP8Packet
		data, err := v.Unmarshal(w.payload)
		if err != nil {
			t.Fatalf("packet %d: %v", w.seq, err)
		}
		start := v.S == 1 && v.PID == 0
		out = append(out, outPacket{
			seq: w.seq, ts: w.ts, layer: int(w.payload[len(w.payload)-1]), start: start, key: start && data[0]&0x01 == 0,
			pic: v.PictureID, tl0: v.TL0PICIDX,
		})
	}
	return out
}

// checkContinuous asserts what a decoder needs of one stream: sequence
// numbers +1, timestamps advancing with each frame, picture ids +1 and
// TL0PICIDX +1 per frame (every frame here is in the base temporal
// layer), and a change of layer only at the first packet of a keyframe.
// It returns the layers the stream went through.
func checkContinuous(t *testing.T, out []outPacket) []int {
	t.Helper()
	layers := []int{out[0].layer}
	if !out[0].key {
		t.Error("the stream does not start at a keyframe")
	}
	for i := 1; i < len(out); i++ {
		a, b := out[i-1], out[i]
		if b.seq != a.seq+1 {
			t.Fatalf("packet %d: seq %d after %d", i, b.seq, a.seq)
		}
		if b.start {
			if int32(b.ts-a.ts) <= 0 {
				t.Fatalf("packet %d: a new frame's timestamp %d after %d", i, b.ts, a.ts)
			}
			if b.pic != (a.pic+1)&0x7fff || b.tl0 != a.tl0+1 {
				t.Fatalf("packet %d: picture id %d, TL0PICIDX %d after %d, %d", i, b.pic, b.tl0, a.pic, a.tl0)
			}
		} else if b.ts != a.ts || b.pic != a.pic || b.tl0 != a.tl0 {
			t.Fatalf("packet %d: a frame's second packet changed its timestamp or ids", i)
		}
		if b.layer != a.layer {
			if !b.key {
				t.Fatalf("packet %d: switched from layer %d to %d on a packet that does not start a keyframe", i, a.layer, b.layer)
			}
			layers = append(layers, b.layer)
		}
	}
	return layers
}

// TestDownTrackSwitchesLayersAtKeyframes: a down track starts on the
// middle layer, follows the tile size the subscriber reports (the first
// report at once, later ones after they held 2 s, a hidden tile at once),
// ignores a size that flips back and forth, and every switch lands on a
// keyframe of the new layer with the outgoing stream continuous.
func TestDownTrackSwitchesLayersAtKeyframes(t *testing.T) {
	pub, ls := testSimulcast(t)
	w := &writer{copied: true}
	d := subscribe(pub, w)
	t0 := testclock.Now()
	frameAt := func(n int) time.Time { return t0.Add(time.Duration(n) * time.Second / 30) }
	sizes := map[int][2]uint32{
		50:  {1280, 720}, // the first report: the top layer at once
		100: {160, 90},   // a thumbnail: the lowest, after 2 s
		250: {1280, 720}, // large again: the top after 2 s
		400: {0, 0},      // hidden: the lowest at once
		500: {1280, 720}, // shown again, large: at once
	}
	for n := 600; n < 700; n += 10 { // then resized back and forth
		sizes[n] = [2]uint32{160 + 1120*uint32(n/10%2), 90 + 630*uint32(n/10%2)}
	}
	switchedAt := map[int]int{} // the frame at which the written layer changed
	last := -1
	for n := range 760 {
		if s, ok := sizes[n]; ok {
			d.setTileSize(s[0], s[1])
		}
		for i := MaxLayers - 1; i >= 0; i-- { // the top layer's packets first
			// Keyframes every 60 frames, each layer at its own moment.
			ls[i].frame(t, pub, (n+20*i)%60 == 0, frameAt(n))
		}
		if cur := d.Layer(); cur != last {
			switchedAt[n], last = cur, cur
		}
	}
	got := checkContinuous(t, readBack(t, w.written()))
	want := []int{1, 2, 0, 2, 0, 2}
	if len(got) != len(want) {
		t.Fatalf("layers %v, want %v (switched at %v)", got, want, switchedAt)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("layers %v, want %v (switched at %v)", got, want, switchedAt)
		}
	}
	// When: each at the first keyframe of the new layer once the target
	// moved (f's keyframes come at frames 20, 80, ...; q's at 0, 60, ...).
	for frame, layer := range map[int]int{40: 1, 80: 2, 180: 0, 320: 2, 420: 0, 500: 2} {
		if switchedAt[frame] != layer {
			t.Errorf("switch to layer %d expected at frame %d; switches: %v", layer, frame, switchedAt)
		}
	}
}

// TestSubscriptionTakesTheBestLayer: a queued subscriber (the recorder)
// receives the top layer; when the publisher stops sending it, the next
// best from that layer's next keyframe on, and the top again once it is
// back, all as one stream with sequence numbers +1 and timestamps rising.
func TestSubscriptionTakesTheBestLayer(t *testing.T) {
	pub, ls := testSimulcast(t)
	sub := pub.Subscribe(4096)
	t0 := testclock.Now()
	for n := range 400 {
		for i := MaxLayers - 1; i >= 0; i-- {
			if i == 2 && n >= 100 && n < 250 {
				continue // the top layer stops for 5 s
			}
			ls[i].frame(t, pub, (n+20*i)%60 == 0, t0.Add(time.Duration(n)*time.Second/30))
		}
	}
	var got []written
	for len(sub.ch) > 0 {
		p := <-sub.ch
		got = append(got, written{seq: p.Header.SequenceNumber, ts: p.Header.Timestamp, payload: p.Payload})
	}
	out := readBack(t, got)
	for i := 1; i < len(out); i++ {
		a, b := out[i-1], out[i]
		if b.seq != a.seq+1 || int32(b.ts-a.ts) < 0 {
			t.Fatalf("packet %d: seq %d ts %d after seq %d ts %d", i, b.seq, b.ts, a.seq, a.ts)
		}
		if b.layer != a.layer && !b.key {
			t.Fatalf("packet %d: layer %d to %d without a keyframe", i, a.layer, b.layer)
		}
	}
	var layers []int
	for i, p := range out {
		if i == 0 || p.layer != out[i-1].layer {
			layers = append(layers, p.layer)
		}
	}
	// f's keyframes come at 20, 80, ..., 260; h's at 40, 100, 160: gone at
	// 100, f is given up a second later, h taken at 160, f again at 260.
	if len(layers) != 3 || layers[0] != 2 || layers[1] != 1 || layers[2] != 2 {
		t.Errorf("layers recorded %v, want [2 1 2]", layers)
	}
	if sub.Dropped() != 0 {
		t.Errorf("%d dropped", sub.Dropped())
	}
}

// TestNackAfterALayerSwitch: a packet resent after a switch carries the
// same rewritten picture id it first went out with, from its own layer's
// ring.
func TestNackAfterALayerSwitch(t *testing.T) {
	pub, ls := testSimulcast(t)
	w := &writer{copied: true}
	d := subscribe(pub, w)
	d.setTileSize(100, 60) // the lowest; then large: the top
	t0 := testclock.Now()
	for n := range 200 {
		if n == 10 {
			d.setTileSize(1280, 720)
		}
		for i := MaxLayers - 1; i >= 0; i-- {
			ls[i].frame(t, pub, (n+20*i)%60 == 0, t0.Add(time.Duration(n)*time.Second/30))
		}
	}
	sent := w.written()
	layers := checkContinuous(t, readBack(t, sent))
	if len(layers) < 2 {
		t.Fatalf("no switch: %v", layers)
	}
	for _, back := range []int{5, 60} {
		want := sent[len(sent)-back]
		d.resend(want.seq)
		all := w.written()
		if r := all[len(all)-1]; len(all) != len(sent)+1 || r.seq != want.seq || r.ts != want.ts || string(r.payload) != string(want.payload) {
			t.Fatalf("resend of %d: not what was first sent", want.seq)
		}
		sent = all
	}
}

// TestLayersALiarCannotAdd: a fourth layer, a layer twice, an unknown rid,
// a rid on audio, or a plain track mixed into simulcast are refused, and
// what such a track would carry has nowhere to go.
func TestLayersALiarCannotAdd(t *testing.T) {
	pub, _ := testSimulcast(t)
	for _, rid := range []string{"q", "h", "f", "", "x", "f2"} {
		if pub.addLayer(rid, nil) != nil {
			t.Errorf("a layer %q added to a publication of three", rid)
		}
	}
	if n := pub.Layers(); n != 3 {
		t.Errorf("%d layers", n)
	}
	mic := &Publication{ID: "p/microphone", Source: SourceMicrophone, Kind: webrtc.RTPCodecTypeAudio, done: make(chan struct{}),
		Codec: webrtc.RTPCodecParameters{RTPCodecCapability: webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000}, PayloadType: 111}}
	mic.init()
	for _, rid := range []string{"q", "h", "f"} {
		if mic.addLayer(rid, nil) != nil {
			t.Errorf("a simulcast layer %q added to a microphone", rid)
		}
	}
	if mic.addLayer("", nil) == nil || mic.addLayer("", nil) != nil {
		t.Error("a microphone's one track: refused, or taken twice")
	}
	plain := testPublication()
	if plain.addLayer("h", nil) != nil {
		t.Error("a simulcast layer mixed into a plain track")
	}
}
