package sfu_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"classmeet/internal/sfu"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
)

// The loss a publisher's Opus encoder hears of, as the fraction lost (of
// 256) in the receiver reports the SFU sends it: these tests read them at
// the publisher, as its encoder would.

// reportCap is the most the SFU passes on of its subscribers' loss (20 %).
const reportCap = 51

// rrLog is the fraction lost of every receiver report block a publisher
// received about one of its tracks, in order.
type rrLog struct {
	mu   sync.Mutex
	lost []uint8
}

func (l *rrLog) add(f uint8) {
	l.mu.Lock()
	l.lost = append(l.lost, f)
	l.mu.Unlock()
}

func (l *rrLog) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.lost)
}

// since is what arrived after the first n.
func (l *rrLog) since(n int) []uint8 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]uint8(nil), l.lost[n:]...)
}

// next waits for n more reports after the first from and returns them.
func (l *rrLog) next(t *testing.T, what string, from, n int) []uint8 {
	t.Helper()
	testclock.WaitFor(t, what, time.Duration(n+10)*2*time.Second, func() bool { return l.count() >= from+n })
	return l.since(from)[:n]
}

func mean(fs []uint8) float64 {
	sum := 0
	for _, f := range fs {
		sum += int(f)
	}
	return float64(sum) / float64(len(fs)) / 256
}

// publisherLogs are the SFU's reports about a publisher's tracks, and the
// SSRCs it sends them with.
type publisherLogs struct {
	audio, video         *rrLog
	audioSSRC, videoSSRC uint32
}

// publishMicAndCamera sends 20 ms Opus packets as the microphone and the
// VP8 fixture as the camera until the test ends, logging what the SFU
// reports receiving of each.
func (g *goPeer) publishMicAndCamera() *publisherLogs {
	g.t.Helper()
	g.newPublisher()
	mic, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}, string(sfu.SourceMicrophone), "p")
	if err != nil {
		g.t.Fatal(err)
	}
	cam, err := webrtc.NewTrackLocalStaticRTP(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, string(sfu.SourceCamera), "p")
	if err != nil {
		g.t.Fatal(err)
	}
	ms, err := g.pub.AddTrack(mic)
	if err != nil {
		g.t.Fatal(err)
	}
	cs, err := g.pub.AddTrack(cam)
	if err != nil {
		g.t.Fatal(err)
	}
	logs := &publisherLogs{
		audio: &rrLog{}, video: &rrLog{},
		audioSSRC: uint32(ms.GetParameters().Encodings[0].SSRC), videoSSRC: uint32(cs.GetParameters().Encodings[0].SSRC),
	}
	var keyframe atomic.Bool
	go readReceiverReports(ms, logs.audioSSRC, logs.audio, nil)
	go readReceiverReports(cs, logs.videoSSRC, logs.video, &keyframe)

	offer, err := g.pub.CreateOffer(nil)
	if err != nil || gathered(g.pub, offer) != nil {
		g.t.Fatal("publisher offer", err)
	}
	labels := map[string]sfu.Source{}
	for _, tr := range g.pub.GetTransceivers() {
		labels[tr.Mid()] = sfu.Source(tr.Sender().Track().ID())
	}
	if err := g.peer.HandleOffer(g.pub.LocalDescription().SDP, labels); err != nil {
		g.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.t.Cleanup(cancel)
	var once sync.Once
	g.pub.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		if s == webrtc.PeerConnectionStateConnected {
			once.Do(func() {
				go sendOpus(ctx, mic, silence)
				go func() { _ = testclient.Camera(ctx, cam, &atomic.Uint64{}, &keyframe, nil) }()
			})
		}
	})
	return logs
}

// readReceiverReports logs the fraction lost of every report block about
// ssrc, and notes keyframe requests.
func readReceiverReports(s *webrtc.RTPSender, ssrc uint32, log *rrLog, keyframe *atomic.Bool) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p := p.(type) {
			case *rtcp.ReceiverReport:
				for _, r := range p.Reports {
					if r.SSRC == ssrc {
						log.add(r.FractionLost)
					}
				}
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if keyframe != nil {
					keyframe.Store(true)
				}
			}
		}
	}
}

// silence is a 20 ms Opus frame of silence.
var silence = []byte{0xf8, 0xff, 0xfe}

// sendOpus sends frame as a 20 ms Opus frame (the SFU does not decode) at
// real pace until ctx ends.
func sendOpus(ctx context.Context, tr *webrtc.TrackLocalStaticSample, frame []byte) {
	every(ctx, 20*time.Millisecond, func() { _ = tr.WriteSample(media.Sample{Data: frame, Duration: 20 * time.Millisecond}) })
}

// every runs do at each tick of period until ctx ends: a client's pace.
func every(ctx context.Context, period time.Duration, do func()) {
	tick := time.NewTicker(period)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			do()
		}
	}
}

// ssrcOf is the SSRC the SFU sends g a publication's track with, 0 until
// it arrives.
func (g *goPeer) ssrcOf(from string, source sfu.Source) uint32 {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, tr := range g.sub.GetTransceivers() {
		if g.tracks[tr.Mid()] == (sfu.TrackInfo{Participant: from, Source: source}) && tr.Receiver() != nil {
			if track := tr.Receiver().Track(); track != nil {
				return uint32(track.SSRC())
			}
		}
	}
	return 0
}

// opusFEC reports whether an SDP's Opus format takes in-band FEC.
func opusFEC(sdp string) bool {
	pt := ""
	for line := range strings.Lines(sdp) {
		line = strings.TrimSpace(line)
		if rest, ok := strings.CutPrefix(line, "a=rtpmap:"); ok && strings.Contains(strings.ToLower(rest), " opus/48000") {
			pt, _, _ = strings.Cut(rest, " ")
		}
		if rest, ok := strings.CutPrefix(line, "a=fmtp:"+pt+" "); ok && pt != "" && strings.Contains(rest, "useinbandfec=1") {
			return true
		}
	}
	return false
}

// TestSubscribersLossReachesThePublisher: the link from the SFU to one of
// two subscribers loses 5 % of the RTP; the receiver reports the publisher
// gets about its audio say about as much (so its encoder adds FEC), those
// about its video stay clean, and once the lossy subscriber leaves the
// audio's fall back to nothing lost.
func TestSubscribersLossReachesThePublisher(t *testing.T) {
	room := newSFURoom(t)
	p := joinRoom(t, room, "p", false)
	clean := joinRoom(t, room, "clean", false)
	logs := p.publishMicAndCamera()
	testclock.WaitFor(t, "audio at the clean subscriber", 60*time.Second, func() bool {
		return clean.received("p", sfu.SourceMicrophone).packets.Load() > 50
	})

	// FEC is negotiated both ways: the answer to the publisher asks for it,
	// and the offer to a subscriber says the stream may carry it.
	for who, sdp := range map[string]string{"publisher": p.pub.RemoteDescription().SDP, "subscriber": clean.sub.RemoteDescription().SDP} {
		if !opusFEC(sdp) {
			t.Errorf("the SDP the SFU sent the %s does not negotiate Opus with useinbandfec=1", who)
		}
	}

	calm := logs.audio.next(t, "reports with only a clean subscriber", logs.audio.count(), 5)
	if m := mean(calm); m >= 0.02 {
		t.Errorf("with no lossy subscriber the audio's reports say %.1f %% lost (%v)", m*100, calm)
	}

	lossy := joinLossy(t, room, "lossy", false, 0.05)
	testclock.WaitFor(t, "audio at the lossy subscriber", 60*time.Second, func() bool {
		return lossy.received("p", sfu.SourceMicrophone).packets.Load() > 50
	})
	testclock.WaitFor(t, "a report of loss at the publisher", 60*time.Second, func() bool {
		fs := logs.audio.since(0)
		return len(fs) > 0 && fs[len(fs)-1] > 0
	})
	videoFrom := logs.video.count()
	lossyReports := logs.audio.next(t, "ten reports with a lossy subscriber", logs.audio.count(), 10)
	t.Logf("fraction lost (of 256) reported to the publisher: clean %v, lossy %v", calm, lossyReports)
	if m := mean(lossyReports); m < 0.02 || m > 0.15 {
		t.Errorf("the audio's reports say %.1f %% lost on average (%v); the lossy subscriber loses 5 %%", m*100, lossyReports)
	}
	for _, f := range lossyReports {
		if f > reportCap {
			t.Errorf("a report says %d/256 lost, above the cap", f)
		}
	}
	if v := logs.video.since(videoFrom); len(v) == 0 || mean(v) >= 0.02 {
		t.Errorf("the video's reports were raised, or never came: %v", v)
	}

	lossy.peer.Close()
	testclock.WaitFor(t, "three clean reports after the lossy subscriber left", 30*time.Second, func() bool {
		fs := logs.audio.since(0)
		return len(fs) >= 3 && fs[len(fs)-1] == 0 && fs[len(fs)-2] == 0 && fs[len(fs)-3] == 0
	})
}

// TestLyingSubscribersCannotInflateAudioLoss: a subscriber that reports
// losing everything of SSRCs it does not receive as audio (the video it
// does receive, the publisher's own, one it made up) moves nothing; one
// that reports losing all of its audio makes the publisher hear of no
// more than the cap.
func TestLyingSubscribersCannotInflateAudioLoss(t *testing.T) {
	room := newSFURoom(t)
	p := joinRoom(t, room, "p", false)
	liar := joinRoom(t, room, "liar", false)
	logs := p.publishMicAndCamera()
	var audioSSRC, videoSSRC uint32
	testclock.WaitFor(t, "audio and video at the liar", 60*time.Second, func() bool {
		audioSSRC, videoSSRC = liar.ssrcOf("p", sfu.SourceMicrophone), liar.ssrcOf("p", sfu.SourceCamera)
		return audioSSRC != 0 && videoSSRC != 0 && liar.received("p", sfu.SourceMicrophone).packets.Load() > 50
	})

	lie := func(ctx context.Context, ssrcs ...uint32) {
		var blocks []rtcp.ReceptionReport
		for _, s := range ssrcs {
			blocks = append(blocks, rtcp.ReceptionReport{SSRC: s, FractionLost: 255, TotalLost: 1 << 20})
		}
		every(ctx, 200*time.Millisecond, func() {
			_ = liar.sub.WriteRTCP([]rtcp.Packet{&rtcp.ReceiverReport{SSRC: 1, Reports: blocks}})
		})
	}

	ctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go lie(ctx, videoSSRC, logs.audioSSRC, logs.videoSSRC, 0xdeadbeef)
	from, videoFrom := logs.audio.count(), logs.video.count()
	others := logs.audio.next(t, "reports while the liar speaks of other SSRCs", from+2, 6)
	if m := mean(others); m >= 0.02 {
		t.Errorf("reports about other SSRCs raised the audio's to %.1f %% (%v)", m*100, others)
	}
	if v := logs.video.since(videoFrom); len(v) == 0 || mean(v) >= 0.02 {
		t.Errorf("a subscriber's claim to lose all video raised the publisher's video reports: %v", v)
	}
	stop()

	ctx, stop = context.WithCancel(context.Background())
	t.Cleanup(stop)
	go lie(ctx, audioSSRC)
	testclock.WaitFor(t, "a report of loss at the publisher", 60*time.Second, func() bool {
		fs := logs.audio.since(0)
		return len(fs) > 0 && fs[len(fs)-1] > 0
	})
	capped := logs.audio.next(t, "reports while the liar claims to lose all audio", logs.audio.count(), 5)
	if slices.Max(capped) != reportCap {
		t.Errorf("reports say %v/256 lost; a subscriber claiming 100 %% must bring them to the cap, %d", capped, reportCap)
	}
	for _, f := range capped {
		if f > reportCap {
			t.Errorf("a report says %d/256 lost, above the cap", f)
		}
	}
}
