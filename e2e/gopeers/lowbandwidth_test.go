package gopeers

import (
	"testing"
	"time"

	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
	"classmeet/internal/testserver"
)

// TestAudioOnlyThroughTheServer: a parent on a weak link asks for audio
// only (receive_video off). The host's camera and screen stop arriving at
// that parent while the host's voice goes on, and another parent keeps
// receiving the video. Turned back on, the camera resumes at a keyframe of
// the layer the parent's tile needs now, with no gap in sequence numbers.
// A parent flooding on/off toggles is cut off by the rate limit and
// changes nothing for anyone else.
func TestAudioOnlyThroughTheServer(t *testing.T) {
	s := testserver.Start(t, nil)
	all := []sfu.Source{sfu.SourceMicrophone, sfu.SourceCamera, sfu.SourceScreen}
	host, ps := s.AdmittedRoom(t, []string{"jones", "patel"}, map[string]testclient.Options{
		"host": {Simulcast: true, Publish: all},
	})
	jones, patel := ps[0], ps[1]
	var cam, screen, voice, other *testclient.Received
	waitFor(t, "the host's camera, screen and voice at jones, camera at patel", 60*time.Second, func() bool {
		cam, screen, voice = jones.Received(host.ID(), sfu.SourceCamera), jones.Received(host.ID(), sfu.SourceScreen), jones.Received(host.ID(), sfu.SourceMicrophone)
		other = patel.Received(host.ID(), sfu.SourceCamera)
		return cam.Keyframes.Load() > 0 && screen.Keyframes.Load() > 0 && voice.Packets.Load() > 0 && other.Keyframes.Load() > 0
	})

	if err := jones.ReceiveVideo(false); err != nil {
		t.Fatal(err)
	}
	settled(t, "jones's video stops", voice, cam, screen)
	// While off, jones's tile shrinks to a thumbnail: the camera comes back
	// in the layer that fits it.
	if err := jones.SizeVideo(host.ID(), sfu.SourceCamera, 80, 60); err != nil {
		t.Fatal(err)
	}
	c, sc, o, a := cam.Packets.Load(), screen.Packets.Load(), other.Packets.Load(), voice.Packets.Load()
	waitFor(t, "3 s more of the host's voice at jones", 60*time.Second, func() bool { return voice.Packets.Load() >= a+150 })
	if dc, ds := cam.Packets.Load()-c, screen.Packets.Load()-sc; dc != 0 || ds != 0 {
		t.Errorf("audio only: jones still received %d camera and %d screen packets", dc, ds)
	}
	if other.Packets.Load() <= o+50 {
		t.Errorf("patel received %d camera packets meanwhile", other.Packets.Load()-o)
	}

	// Patel floods toggles: refused past the budget; jones stays on audio
	// only, the host's media flows, nobody's connection closes.
	for i := range 60 {
		if err := patel.ReceiveVideo(i%2 == 1); err != nil {
			t.Fatal(err)
		}
	}
	msg(t, patel, func(e *meeting.Error) bool { return e.Code == "rate_limited" })
	c, a = cam.Packets.Load(), voice.Packets.Load()
	waitFor(t, "patel's camera back on once its budget refills", 20*time.Second, func() bool {
		o := other.Packets.Load()
		_ = patel.ReceiveVideo(true)
		return testclock.Poll(2*time.Second, func() bool { return other.Packets.Load() > o+20 })
	})
	waitFor(t, "more of the host's voice at jones", 60*time.Second, func() bool { return voice.Packets.Load() >= a+50 })
	if d := cam.Packets.Load() - c; d != 0 {
		t.Errorf("after patel's flood jones received %d camera packets", d)
	}

	if err := jones.ReceiveVideo(true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "jones's camera and screen resume", 20*time.Second, func() bool {
		return cam.Resumes.Load() > 0 && screen.Resumes.Load() > 0
	})
	if !cam.ResumedOnKey.Load() || !screen.ResumedOnKey.Load() {
		t.Errorf("resumed on a keyframe: camera %v, screen %v", cam.ResumedOnKey.Load(), screen.ResumedOnKey.Load())
	}
	if g, gs := cam.ResumeSeqGap.Load(), screen.ResumeSeqGap.Load(); g != 1 || gs != 1 {
		t.Errorf("sequence numbers jumped by %d (camera) and %d (screen) across the pause, want 1", g, gs)
	}
	if w := cam.Width.Load(); w != 80 {
		t.Errorf("the camera resumed %d wide, want the thumbnail layer's 80", w)
	}
	for _, c := range []*testclient.Client{host, jones, patel} {
		if err := c.Closed(); err != nil {
			t.Errorf("%s's connection closed: %v", c.Name, err)
		}
	}
}

// settled waits until the given video has stopped arriving: nothing of it
// while 50 audio packets (a second) came.
func settled(t *testing.T, what string, audio *testclient.Received, video ...*testclient.Received) {
	t.Helper()
	sum := func() (n uint64) {
		for _, v := range video {
			n += v.Packets.Load()
		}
		return n
	}
	v, a := sum(), audio.Packets.Load()
	waitFor(t, what, 20*time.Second, func() bool {
		if n := sum(); n != v {
			v, a = n, audio.Packets.Load()
			return false
		}
		return audio.Packets.Load() >= a+50
	})
}
