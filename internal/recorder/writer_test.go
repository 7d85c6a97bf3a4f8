package recorder

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"

	"classmeet/internal/sfu"
)

func TestJitter(t *testing.T) {
	base := arrival()
	pkt := func(seq uint16, ms int) *sfu.Packet {
		return &sfu.Packet{Header: rtp.Header{SequenceNumber: seq}, Arrival: base.Add(time.Duration(ms) * time.Millisecond)}
	}
	seqs := func(out []released) (s []int, lost int) {
		for _, r := range out {
			s = append(s, int(r.pkt.Header.SequenceNumber))
			lost += r.lost
		}
		return s, lost
	}
	j := newJitter(16, 100*time.Millisecond)
	var out []released
	// In order across the wrap, one pair swapped, one duplicate.
	for i, seq := range []uint16{65534, 0, 65535, 1, 1, 2} {
		out = j.push(pkt(seq, i), out)
	}
	if s, lost := seqs(out); len(s) != 5 || s[0] != 65534 || s[1] != 65535 || s[2] != 0 || s[4] != 2 || lost != 0 || j.duplicate != 1 {
		t.Errorf("reordered: %v lost %d dup %d", s, lost, j.duplicate)
	}
	// 3 is missing: 4 and 5 wait for it until 100 ms have passed.
	out = j.push(pkt(4, 10), out[:0])
	out = j.push(pkt(5, 50), out)
	if len(out) != 0 {
		t.Fatalf("released past a gap too soon: %v", out)
	}
	out = j.push(pkt(3, 60), out) // the retransmission came
	if s, _ := seqs(out); len(s) != 3 || s[0] != 3 || s[2] != 5 {
		t.Errorf("after the retransmission: %v", s)
	}
	// 6 never comes: given up once 7 has waited 100 ms.
	out = j.push(pkt(7, 100), out[:0])
	out = j.expire(base.Add(150*time.Millisecond), out)
	if len(out) != 0 {
		t.Fatal("gave up too soon")
	}
	out = j.expire(base.Add(201*time.Millisecond), out)
	if s, lost := seqs(out); len(s) != 1 || s[0] != 7 || lost != 1 {
		t.Errorf("gave up on 6: %v lost %d", s, lost)
	}
	// Late: 6 after its place was given up.
	if out = j.push(pkt(6, 210), out[:0]); len(out) != 0 || j.late != 1 {
		t.Errorf("late packet: %v late %d", out, j.late)
	}
	// A jump far ahead (a pause): everything held goes, then on from there.
	out = j.push(pkt(9, 220), out[:0])
	out = j.push(pkt(500, 230), out)
	if s, lost := seqs(out); len(s) != 2 || s[0] != 9 || s[1] != 500 || lost != 1+490 {
		t.Errorf("jump: %v lost %d", s, lost)
	}
	out = j.push(pkt(501, 240), out[:0])
	if s, _ := seqs(out); len(s) != 1 || s[0] != 501 {
		t.Errorf("after the jump: %v", s)
	}
}

// record runs a writer over packets fed to a test track and returns the
// file and what the writer said.
func record(t *testing.T, tr *testTrack, ps []timed, base time.Time) (string, result) {
	t.Helper()
	c, err := codecOf(tr.mime)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "track"+c.ext())
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := newWriter(tr, c, f)
	tr.feed(ps, base)
	tr.end()
	res := w.run()
	if res.err != nil {
		t.Fatal(res.err)
	}
	return path, res
}

func TestWriterVideo(t *testing.T) {
	frames := videoFrames(t, fixture("video.ivf"))
	sent := videoPackets(frames, 300, &codecs.VP8Payloader{EnablePictureID: true}, 96)

	t.Run("clean", func(t *testing.T) {
		tr := newTestTrack("p1", "camera", "video/VP8")
		path, res := record(t, tr, sent, arrival())
		if res.stats.Frames != 300 || res.stats.FramesDiscarded != 0 {
			t.Errorf("frames %d discarded %d", res.stats.Frames, res.stats.FramesDiscarded)
		}
		if got := countFrames(t, path); got != 300 {
			t.Errorf("ffprobe counts %d frames", got)
		}
		if d := res.duration; d < 9990*time.Millisecond || d > 10010*time.Millisecond {
			t.Errorf("duration %v, want 10 s", d)
		}
		decodesCleanly(t, path)
		if tr.keyframes.Load() == 0 {
			t.Error("no keyframe asked for on attaching")
		}
	})

	t.Run("reordered, duplicated, lossy", func(t *testing.T) {
		tr := newTestTrack("p1", "camera", "video/VP8")
		path, res := record(t, tr, impair(sent, 0.01, 1), arrival())
		if res.stats.Lost == 0 || res.stats.Duplicate == 0 || res.stats.FramesDiscarded == 0 {
			t.Errorf("impairment not seen: %+v", res.stats)
		}
		// After a loss the recording waits for a keyframe (one a second in
		// the fixture): frames are missing, but every one decodes.
		if res.stats.Frames < 60 || res.stats.Frames >= 300 {
			t.Errorf("frames %d", res.stats.Frames)
		}
		decodesCleanly(t, path)
		if tr.keyframes.Load() < 2 {
			t.Errorf("keyframe requests %d: the writer must ask after a loss", tr.keyframes.Load())
		}
	})

	t.Run("starts at a keyframe", func(t *testing.T) {
		tr := newTestTrack("p1", "camera", "video/VP8")
		// Join mid-stream: the first 10 frames are not keyframes.
		var mid []timed
		for _, p := range sent {
			if p.at >= 10*time.Second/30 {
				mid = append(mid, p)
			}
		}
		path, res := record(t, tr, mid, arrival())
		if res.stats.Frames != 300-30 || res.stats.FramesDiscarded != 20 {
			t.Errorf("frames %d discarded %d", res.stats.Frames, res.stats.FramesDiscarded)
		}
		decodesCleanly(t, path)
	})
}

func TestWriterVP9(t *testing.T) {
	src := filepath.Join(t.TempDir(), "vp9.ivf")
	out, err := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=30", "-t", "3",
		"-c:v", "libvpx-vp9", "-b:v", "300k", "-g", "30", "-deadline", "realtime", "-cpu-used", "8",
		"-auto-alt-ref", "0", "-lag-in-frames", "0", "-f", "ivf", src).CombinedOutput()
	if err != nil {
		t.Fatalf("making a VP9 fixture: %v\n%s", err, out)
	}
	frames := videoFrames(t, src)
	if w, h, ok := vp9Size(frames[0]); !ok || w != 320 || h != 240 {
		t.Fatalf("vp9 size %dx%d %v", w, h, ok)
	}
	tr := newTestTrack("p1", "camera", "video/VP9")
	path, res := record(t, tr, videoPackets(frames, len(frames), &codecs.VP9Payloader{}, 98), arrival())
	if res.stats.Frames != len(frames) {
		t.Errorf("frames %d of %d", res.stats.Frames, len(frames))
	}
	if info := ffprobe(t, path, "stream=codec_name,width"); !strings.Contains(info, "codec_name=vp9") || !strings.Contains(info, "width=320") {
		t.Errorf("ffprobe: %s", info)
	}
	decodesCleanly(t, path)

	webm := filepath.Join(filepath.Dir(path), "out.webm")
	root, err := os.OpenRoot(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if _, err := writeWebM(root, "out.webm", muxInput{video: []muxSegment{{name: filepath.Base(path)}}, videoCodec: codecVP9}); err != nil {
		t.Fatal(err)
	}
	if info := ffprobe(t, webm, "stream=codec_name"); !strings.Contains(info, "codec_name=vp9") {
		t.Errorf("webm: %s", info)
	}
	decodesCleanly(t, webm)
}

func TestWriterAudioKeepsSilence(t *testing.T) {
	tr := newTestTrack("p1", "microphone", "audio/opus")
	// 10 s, of which 5 s (2 s to 7 s) nothing was sent.
	sent := audioPackets(t, 10, 2, 7)
	path, res := record(t, tr, impair(sent, 0, 7), arrival())
	want := 10.0
	if d := res.duration.Seconds(); d < want-0.04 || d > want+0.04 {
		t.Errorf("writer says %.3f s, sent %.3f s", d, want)
	}
	if d := field(t, ffprobe(t, path, "format=duration"), "duration"); d < want-0.04 || d > want+0.04 {
		t.Errorf("ffprobe says %.3f s, sent %.3f s", d, want)
	}
	if res.stats.Frames != 250 || res.stats.Duplicate == 0 {
		t.Errorf("packets written %d (want 250), duplicates %d", res.stats.Frames, res.stats.Duplicate)
	}
	decodesCleanly(t, path)
}

func TestWallClockFromSenderReport(t *testing.T) {
	tr := newTestTrack("p1", "microphone", "audio/opus")
	sent := audioPackets(t, 1, -1, -1)
	base := arrival()
	// The first packet is held up 300 ms on its way (arrival says base+300ms),
	// but the sender's report ties its RTP time to base.
	first := sent[0].pkt.Timestamp
	tr.report(first+48000/2, base.Add(500*time.Millisecond)) // half a second in, arriving at base+500ms
	ps := append([]timed{}, sent...)
	ps[0].at += 300 * time.Millisecond
	_, res := record(t, tr, ps, base)
	if res.stats.Clock != "sender_report" {
		t.Fatalf("clock %q", res.stats.Clock)
	}
	if d := res.start.Sub(base); d < -time.Millisecond || d > time.Millisecond {
		t.Errorf("start is %v from when it was sent", d)
	}

	tr = newTestTrack("p1", "microphone", "audio/opus")
	_, res = record(t, tr, ps, base)
	if res.stats.Clock != "arrival" || !res.start.Equal(base.Add(300*time.Millisecond)) {
		t.Errorf("without a report: %s %v", res.stats.Clock, res.start.Sub(base))
	}
}

func TestWebM(t *testing.T) {
	frames := videoFrames(t, fixture("video.ivf"))
	base := arrival()
	video, _ := record(t, newTestTrack("p1", "camera", "video/VP8"), videoPackets(frames, 300, &codecs.VP8Payloader{}, 96), base)
	// The microphone starts 1 s after the camera and is silent from 4 s to 6 s.
	audio, _ := record(t, newTestTrack("p1", "microphone", "audio/opus"), audioPackets(t, 9, 3, 5), base)
	dir := t.TempDir()
	for _, p := range []string{video, audio} {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, filepath.Base(p)), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	d, err := writeWebM(root, "p1.webm", muxInput{
		video: []muxSegment{{name: "track.ivf"}}, audio: []muxSegment{{name: "track.ogg", offset: time.Second}}, videoCodec: codecVP8,
	})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "p1.webm")
	info := ffprobe(t, path, "format=duration:stream=codec_name,width")
	if !strings.Contains(info, "codec_name=vp8") || !strings.Contains(info, "codec_name=opus") || !strings.Contains(info, "width=320") {
		t.Errorf("streams: %s", info)
	}
	if got := field(t, info, "duration"); got < 9.9 || got > 10.1 || d < 9900*time.Millisecond {
		t.Errorf("duration %.3f (%v), want 10 s", got, d)
	}
	decodesCleanly(t, path)
	// The audio starts 1 s in and lasts to the end, the silence filled.
	out, err := exec.Command("ffprobe", "-v", "error", "-select_streams", "a:0", "-show_entries", "stream=start_time,duration",
		"-of", "default=nw=1", path).CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if s := field(t, string(out), "start_time"); s < 0.99 || s > 1.01 {
		t.Errorf("audio starts at %.3f, want 1.0", s)
	}
	// Seeking works: cues lead to a keyframe near 6 s.
	out, err = exec.Command("ffmpeg", "-v", "error", "-ss", "6", "-i", path, "-frames:v", "1", "-f", "null", "-").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("seek: %v %s", err, out)
	}
	checkCues(t, path, 9000)
}

// checkCues reads a WebM's seek head and cues as a player does, and checks
// that they lead where they say: the seek head to Info, Tracks and Cues,
// each cue to a cluster that starts at its time with a video keyframe, and
// the last cue no earlier than lastKey ms (a small file plays without cues,
// so ffmpeg seeking in one does not prove them).
func checkCues(t *testing.T, path string, lastKey uint64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Segment webm.Segment `ebml:"Segment"`
	}
	var start uint64 // of the segment's data: the seek head comes first
	hook := func(e *ebml.Element) {
		if e.Name == "SeekHead" {
			start = e.Position
		}
	}
	if err := ebml.Unmarshal(bytes.NewReader(b), &file, ebml.WithElementReadHooks(hook), ebml.WithIgnoreUnknown(true)); err != nil {
		t.Fatal(err)
	}
	seg := file.Segment
	if seg.SeekHead == nil || len(seg.SeekHead.Seek) != 3 || seg.Cues == nil || len(seg.Cues.CuePoint) == 0 {
		t.Fatalf("seek head %+v, cues %+v", seg.SeekHead, seg.Cues)
	}
	for _, s := range seg.SeekHead.Seek {
		if at := b[start+s.SeekPosition:]; !bytes.HasPrefix(at, s.SeekID) {
			t.Errorf("seek head: %x at %d is not there", s.SeekID, s.SeekPosition)
		}
	}
	for _, c := range seg.Cues.CuePoint {
		var at struct {
			Cluster []webm.Cluster `ebml:"Cluster"`
		}
		pos := start + c.CueTrackPositions[0].CueClusterPosition
		if err := ebml.Unmarshal(bytes.NewReader(b[pos:]), &at, ebml.WithIgnoreUnknown(true)); err != nil || len(at.Cluster) == 0 {
			t.Fatalf("cue at %d ms: no cluster at %d: %v", c.CueTime, pos, err)
		}
		cl := at.Cluster[0]
		if cl.Timecode != c.CueTime || len(cl.SimpleBlock) == 0 || cl.SimpleBlock[0].TrackNumber != trackVideo || !cl.SimpleBlock[0].Keyframe {
			t.Errorf("cue at %d ms leads to a cluster at %d ms, not starting with a video keyframe", c.CueTime, cl.Timecode)
		}
	}
	if last := seg.Cues.CuePoint[len(seg.Cues.CuePoint)-1].CueTime; last < lastKey {
		t.Errorf("the last cue is at %d ms, the last keyframe at %d ms", last, lastKey)
	}
}

// TestWebMFramesCloseTogether: two frames less than a millisecond apart
// (a sender's quick keyframe) get distinct, increasing WebM timestamps.
func TestWebMFramesCloseTogether(t *testing.T) {
	frames := videoFrames(t, fixture("video.ivf"))
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, "v.ivf"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := newIVF(f, "VP80", 320, 240)
	if err != nil {
		t.Fatal(err)
	}
	pts := []uint64{0, 3000, 3045, 6000}
	for i := range 60 {
		p := uint64(i) * 3000
		if i < len(pts) {
			p = pts[i]
		}
		if err := w.write(frames[i], p); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if _, err := writeWebM(root, "o.webm", muxInput{video: []muxSegment{{name: "v.ivf"}}, videoCodec: codecVP8}); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "packet=pts", "-of", "csv=p=0", filepath.Join(dir, "o.webm")).Output()
	if err != nil {
		t.Fatal(err)
	}
	got := strings.Fields(string(out))
	if len(got) != 60 || got[1] != "33" || got[2] != "34" {
		t.Errorf("webm timestamps %v", got[:min(5, len(got))])
	}
	decodesCleanly(t, filepath.Join(dir, "o.webm"))
}
