package testclient

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"

	"classmeet/internal/sfu"
)

// SimulcastRIDs are the layers a browser sends a camera in, lowest first,
// as classmeet's client asks for them (scaleResolutionDownBy 4, 2, 1).
var SimulcastRIDs = [3]string{"q", "h", "f"}

// simulcastFixtures are what each layer sends: the same test pattern at
// 80×60, 160×120 and 320×240.
var simulcastFixtures = [3]string{"video_q.ivf", "video_h.ivf", "video.ivf"}

// Simulcast is a camera published in three VP8 layers on one m-line.
type Simulcast struct {
	Tracks [3]*webrtc.TrackLocalStaticRTP
	Sender *webrtc.RTPSender
	// Sent counts each layer's packets; keyframe is set when the SFU asks
	// that layer for one.
	Sent     [3]atomic.Uint64
	keyframe [3]atomic.Bool
}

// AddSimulcastCamera adds a camera to pc as a browser offers one with three
// sendEncodings: one transceiver, three rids. Send starts the media.
func AddSimulcastCamera(pc *webrtc.PeerConnection, streamID string) (*Simulcast, error) {
	s := &Simulcast{}
	for i, rid := range SimulcastRIDs {
		tr, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
			"camera", streamID, webrtc.WithRTPStreamID(rid))
		if err != nil {
			return nil, err
		}
		s.Tracks[i] = tr
	}
	var err error
	if s.Sender, err = pc.AddTrack(s.Tracks[0]); err != nil {
		return nil, err
	}
	for _, tr := range s.Tracks[1:] {
		if err := s.Sender.AddEncoding(tr); err != nil {
			return nil, err
		}
	}
	for i, rid := range SimulcastRIDs {
		go s.readRTCP(i, rid)
	}
	return s, nil
}

// readRTCP hears the SFU's keyframe requests for one layer, as that
// layer's encoder would.
func (s *Simulcast) readRTCP(i int, rid string) {
	for {
		pkts, _, err := s.Sender.ReadSimulcastRTCP(rid)
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				s.keyframe[i].Store(true)
			}
		}
	}
}

// Send paces each layer's fixture at its frame rate, looping, until ctx
// ends; run it once pc is connected. Like a browser, it marks every packet
// with its m-line's mid and its layer's rid (pion does not), which is how
// the receiver tells the layers apart.
func (s *Simulcast) Send(ctx context.Context, pc *webrtc.PeerConnection) { s.send(ctx, pc, nil, nil) }

// send is Send, also counting every layer's packets in total and telling
// topFrame each frame of the top layer, if set.
func (s *Simulcast) send(ctx context.Context, pc *webrtc.PeerConnection, total *atomic.Uint64, topFrame func(ts uint32)) {
	midID, ridID := extensionID(pc, sdp.SDESMidURI), extensionID(pc, sdp.SDESRTPStreamIDURI)
	mid := ""
	for _, t := range pc.GetTransceivers() {
		if t.Sender() == s.Sender {
			mid = t.Mid()
		}
	}
	for i := range s.Tracks {
		mark := func(p *rtp.Packet) {
			_ = p.SetExtension(midID, []byte(mid))
			_ = p.SetExtension(ridID, []byte(SimulcastRIDs[i]))
			if total != nil {
				total.Add(1)
			}
		}
		var frame func(uint32)
		if i == len(s.Tracks)-1 {
			frame = topFrame
		}
		go func() { _ = paceIVF(ctx, simulcastFixtures[i], s.Tracks[i], &s.Sent[i], &s.keyframe[i], frame, mark) }()
	}
}

// extensionID is the id the local description gives a header extension.
func extensionID(pc *webrtc.PeerConnection, uri string) uint8 {
	prefix := "a=extmap:"
	for line := range strings.Lines(pc.LocalDescription().SDP) {
		rest, ok := strings.CutPrefix(strings.TrimRight(line, "\r\n"), prefix)
		if !ok {
			continue
		}
		id, u, _ := strings.Cut(rest, " ")
		id, _, _ = strings.Cut(id, "/")
		if n, err := strconv.Atoi(id); err == nil && u == uri {
			return uint8(n)
		}
	}
	return 0
}

// addSimulcast adds the client's camera in three layers.
func (m *media) addSimulcast(pc *webrtc.PeerConnection) error {
	sim, err := AddSimulcastCamera(pc, "classmeet-testclient")
	if err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sim = sim
	m.pubTrack[sfu.SourceCamera] = sim.Tracks[len(sim.Tracks)-1]
	if m.sent[sfu.SourceCamera] == nil {
		m.sent[sfu.SourceCamera] = &atomic.Uint64{}
	}
	return nil
}
