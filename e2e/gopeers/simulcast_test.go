package gopeers

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testserver"
)

// TestSimulcastThroughTheServer: a parent sends the camera in three layers;
// the host shows it as a thumbnail and another parent large, each telling
// the server with video_size. Each receives the layer its tile needs,
// measured from what arrives (the width of the keyframes, the bytes), and
// a flood of size reports is cut off by the rate limit without harm.
func TestSimulcastThroughTheServer(t *testing.T) {
	s := testserver.Start(t, nil)
	host, ps := s.AdmittedRoom(t, []string{"jones", "patel"}, map[string]testclient.Options{"jones": {Simulcast: true}})
	jones, patel := ps[0], ps[1]
	waitFor(t, "jones's camera at both", 60*time.Second, func() bool {
		return host.Received(jones.ID(), sfu.SourceCamera).Keyframes.Load() > 0 && patel.Received(jones.ID(), sfu.SourceCamera).Keyframes.Load() > 0
	})
	small, large := host.Received(jones.ID(), sfu.SourceCamera), patel.Received(jones.ID(), sfu.SourceCamera)
	if err := host.SizeVideo(jones.ID(), sfu.SourceCamera, 80, 60); err != nil {
		t.Fatal(err)
	}
	if err := patel.SizeVideo(jones.ID(), sfu.SourceCamera, 1280, 720); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the thumbnail's layer", 20*time.Second, func() bool { return small.Width.Load() == 80 })
	waitFor(t, "the large tile's layer", 20*time.Second, func() bool { return large.Width.Load() == 320 })
	bs, bl, sent := small.Bytes.Load(), large.Bytes.Load(), jones.Sent(sfu.SourceCamera)
	waitFor(t, "600 more camera packets sent", 60*time.Second, func() bool { return jones.Sent(sfu.SourceCamera) >= sent+600 })
	if ds, dl := small.Bytes.Load()-bs, large.Bytes.Load()-bl; dl == 0 || ds*2 > dl {
		t.Errorf("the thumbnail received %d bytes while the large tile received %d", ds, dl)
	}

	// A flood of sizes flipping between large and small: refused past the
	// budget; the last word (small) holds, the connection stays.
	for i := range 100 {
		w, h := 1280, 720
		if i%2 == 1 {
			w, h = 80, 60
		}
		if err := host.SizeVideo(jones.ID(), sfu.SourceCamera, w, h); err != nil {
			t.Fatal(err)
		}
	}
	msg(t, host, func(e *meeting.Error) bool { return e.Code == "rate_limited" })
	// Reports of nothing it receives: its own camera, nobody; absurd sizes.
	for _, m := range []*meeting.VideoSize{
		{Participant: host.ID(), Source: "camera", Width: 10, Height: 10},
		{Participant: "nobody", Source: "camera", Width: 10, Height: 10},
	} {
		if err := host.Send(m); err != nil {
			t.Fatal(err)
		}
	}
	if err := host.SendRaw([]byte(`{"type":"video_size","seq":` + strconv.FormatUint(host.NextSeq(), 10) + `,"participant":"x","source":"camera","width":99999999,"height":1}`)); err != nil {
		t.Fatal(err)
	}
	msg(t, host, func(e *meeting.Error) bool { return e.Code == "bad_message" })
	keys := small.Keyframes.Load()
	waitFor(t, "three more keyframes at the thumbnail", 60*time.Second, func() bool { return small.Keyframes.Load() >= keys+3 })
	if w := small.Width.Load(); w != 80 {
		t.Errorf("after the flood the thumbnail gets keyframes %d wide", w)
	}
	if host.Closed() != nil {
		t.Errorf("the host's connection closed: %v", host.Closed())
	}
}

// TestRecordingTakesTheBestLayer: a parent sending the camera in three
// layers is recorded in the top one (320×240), whole and clean.
func TestRecordingTakesTheBestLayer(t *testing.T) {
	t.Parallel() // real time, little CPU
	s, _ := s3Server(t)
	sent, rec, files := recordParent(t, s, testclient.Options{Simulcast: true}, func(p *testclient.Client) { p.Play(t, 6*time.Second) })
	if rec.State != store.RecordingAvailable {
		t.Fatalf("recording %s", rec.State)
	}
	dir := t.TempDir()
	var video string
	for _, f := range files {
		if f.Kind == store.FileVideo {
			video = fetch(t, s, f, dir)
		}
	}
	if video == "" {
		t.Fatalf("no video file: %+v", files)
	}
	probeClean(t, video, "video")
	if size := probe(t, video, "-select_streams", "v:0", "-show_entries", "stream=width,height"); strings.Fields(size)[0] != "320" || strings.Fields(size)[1] != "240" {
		t.Errorf("recorded at %q, want the top layer's 320×240", size)
	}
	frames, _ := strconv.Atoi(probe(t, video, "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames"))
	cam := sent[sfu.SourceCamera]
	t.Logf("video: %d of %d top-layer frames sent", frames, cam.Frames)
	if cam.Frames == 0 || float64(frames) < 0.95*float64(cam.Frames) {
		t.Errorf("the IVF holds %d frames of the %d the top layer sent", frames, cam.Frames)
	}
}
