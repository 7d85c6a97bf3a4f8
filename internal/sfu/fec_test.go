package sfu

import (
	"testing"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"

	"classmeet/internal/testclock"
)

// TestLossFeedbackRaisesAudioReports: the fraction lost in a receiver
// report about an audio track becomes the worse of the SFU's own figure and
// its subscribers' (the worse of each one's last two reports), capped;
// reports about video, and subscribers that left or went quiet, change
// nothing.
func TestLossFeedbackRaisesAudioReports(t *testing.T) {
	const audio, video = 1111, 2222
	type report struct {
		sub  int // which subscriber
		lost uint8
		ago  time.Duration
	}
	cases := []struct {
		name    string
		reports []report
		stopped int // a subscriber that left (0: none)
		own     uint8
		want    uint8 // for the audio SSRC; video always keeps own
	}{
		{name: "no subscriber reports", own: 3, want: 3},
		{name: "a lossy subscriber", reports: []report{{1, 13, time.Second}}, want: 13},
		{name: "the worst subscriber", reports: []report{{1, 13, time.Second}, {2, 40, time.Second}, {3, 0, 0}}, want: 40},
		{name: "own loss worse", reports: []report{{1, 13, time.Second}}, own: 30, want: 30},
		{name: "the worse of the last two", reports: []report{{1, 30, 2 * time.Second}, {1, 0, time.Second}}, want: 30},
		{name: "two clean reports forget", reports: []report{{1, 30, 3 * time.Second}, {1, 0, 2 * time.Second}, {1, 0, time.Second}}, want: 0},
		{name: "capped", reports: []report{{1, 255, time.Second}}, want: maxReportedLoss},
		{name: "own loss is not capped", reports: []report{{1, 255, time.Second}}, own: 200, want: 200},
		{name: "quiet too long", reports: []report{{1, 40, lossExpiry + time.Second}}, want: 0},
		{name: "left", reports: []report{{1, 40, time.Second}, {2, 10, time.Second}}, stopped: 1, want: 10},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			now := testclock.Now()
			f := newLossFeedback()
			f.now = func() time.Time { return now }
			loss := f.watch(audio, webrtc.RTPCodecTypeAudio)
			if f.watch(video, webrtc.RTPCodecTypeVideo) != nil {
				t.Fatal("video is watched")
			}
			subs := map[int]*DownTrack{}
			for _, r := range c.reports {
				if subs[r.sub] == nil {
					subs[r.sub] = &DownTrack{}
				}
				loss.report(subs[r.sub], r.lost, now.Add(-r.ago))
			}
			if c.stopped != 0 {
				subs[c.stopped].stopped.Store(true)
			}
			rr := &rtcp.ReceiverReport{Reports: []rtcp.ReceptionReport{
				{SSRC: audio, FractionLost: c.own, TotalLost: 7},
				{SSRC: video, FractionLost: c.own, TotalLost: 7},
			}}
			w := f.BindRTCPWriter(interceptor.RTCPWriterFunc(func(p []rtcp.Packet, _ interceptor.Attributes) (int, error) {
				return len(p), nil
			}))
			if _, err := w.Write([]rtcp.Packet{rr}, nil); err != nil {
				t.Fatal(err)
			}
			if got := rr.Reports[0].FractionLost; got != c.want {
				t.Errorf("audio: fraction lost %d, want %d", got, c.want)
			}
			if got := rr.Reports[1].FractionLost; got != c.own {
				t.Errorf("video: fraction lost %d, want its own %d", got, c.own)
			}
			if rr.Reports[0].TotalLost != 7 {
				t.Errorf("the cumulative count changed to %d", rr.Reports[0].TotalLost)
			}
		})
	}
}

// TestLossFeedbackForgetsEndedPublications: once an audio publication
// ends, reports about its SSRC are left as they are, unless a new
// publication took the same SSRC: its subscribers' loss still counts.
func TestLossFeedbackForgetsEndedPublications(t *testing.T) {
	now := testclock.Now()
	f := newLossFeedback()
	old := f.watch(5, webrtc.RTPCodecTypeAudio)
	old.report(&DownTrack{}, 40, now)
	f.forget(old)
	reports := []rtcp.ReceptionReport{{SSRC: 5}}
	f.raise(reports, now)
	if reports[0].FractionLost != 0 {
		t.Errorf("fraction lost %d after the publication ended", reports[0].FractionLost)
	}

	old = f.watch(5, webrtc.RTPCodecTypeAudio)
	f.watch(5, webrtc.RTPCodecTypeAudio).report(&DownTrack{}, 30, now)
	f.forget(old)
	f.raise(reports, now)
	if reports[0].FractionLost != 30 {
		t.Errorf("fraction lost %d: the ended publication's forgetting took the new one's SSRC", reports[0].FractionLost)
	}
}
