package recorder

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func fixture(name string) string { return filepath.Join("..", "testclient", "testdata", name) }

// ffprobe returns what ffprobe prints of a file's streams, failing the test
// on any error it reports.
func ffprobe(t *testing.T, path string, entries string) string {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", entries, "-of", "default=nw=1", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	return string(out)
}

// decodesCleanly decodes every frame with ffmpeg; any error message fails.
// Frames keep their own timestamps (-enc_time_base -1): a camera's frames
// come at irregular intervals, and rounded to a guessed frame rate two can
// fall on one tick, which ffmpeg's null output reports although every frame
// decoded.
func decodesCleanly(t *testing.T, path string) {
	t.Helper()
	out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-enc_time_base", "-1", "-f", "null", "-").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("%s does not decode cleanly: %v\n%s", filepath.Base(path), err, out)
	}
}

// countFrames is how many video frames ffprobe decodes.
func countFrames(t *testing.T, path string) int {
	t.Helper()
	out, err := exec.Command("ffprobe", "-v", "error", "-count_frames", "-select_streams", "v:0",
		"-show_entries", "stream=nb_read_frames", "-of", "default=nw=1:nk=1", path).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %s: %v\n%s", path, err, out)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(out)))
	if err != nil {
		t.Fatalf("frames %q", out)
	}
	return n
}

func field(t *testing.T, out, key string) float64 {
	t.Helper()
	for _, line := range strings.Split(out, "\n") {
		if v, ok := strings.CutPrefix(line, key+"="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s=%q", key, v)
			}
			return f
		}
	}
	t.Fatalf("no %s in %q", key, out)
	return 0
}

func writeFixtureIVF(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := newIVF(f, "VP80", 320, 240)
	if err != nil {
		t.Fatal(err)
	}
	frames := videoFrames(t, fixture("video.ivf"))
	for n, frame := range frames {
		if err := w.write(frame, uint64(n*3000)); err != nil {
			t.Fatal(err)
		}
		if n%30 == 29 {
			_ = w.sync()
		}
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	return len(frames)
}

func TestIVFWriterAndRepair(t *testing.T) {
	path := filepath.Join(t.TempDir(), "v.ivf")
	n := writeFixtureIVF(t, path)
	out := ffprobe(t, path, "format=duration:stream=codec_name,width,height")
	if !strings.Contains(out, "codec_name=vp8") || !strings.Contains(out, "width=320") || countFrames(t, path) != n {
		t.Errorf("ffprobe: %s, %d frames of %d", out, countFrames(t, path), n)
	}
	sameLength(t, path, n)
	decodesCleanly(t, path)

	// Cut it mid-frame, as a crash would, and repair it.
	st, _ := os.Stat(path)
	if err := os.Truncate(path, st.Size()*2/3); err != nil {
		t.Fatal(err)
	}
	frames, last, err := repairFile(t, path, repairIVF)
	if err != nil || frames == 0 || frames >= uint32(n) || last != uint64(frames-1)*3000 {
		t.Fatalf("repair: %d frames, last pts %d, %v", frames, last, err)
	}
	if got := countFrames(t, path); got != int(frames) {
		t.Errorf("after repair ffmpeg decodes %d frames, the repair kept %d", got, frames)
	}
	sameLength(t, path, int(frames))
	decodesCleanly(t, path)
}

// sameLength checks that ffprobe reads an IVF file of n frames, sent at 30
// a second, as lasting n/30 s, within a frame.
func sameLength(t *testing.T, path string, n int) {
	t.Helper()
	sent := float64(n) / 30
	if d := field(t, ffprobe(t, path, "format=duration"), "duration"); d < sent-1.0/30 || d > sent+1.0/30 {
		t.Errorf("ffprobe reads %.3f s, %d frames were sent: %.3f s", d, n, sent)
	}
}

// writeFixtureOgg writes the Opus fixture's packets, leaving out those whose
// time falls in [gapFrom, gapTo) seconds, as a sender that sent nothing then.
func writeFixtureOgg(t *testing.T, path string, gapFrom, gapTo float64) (sentSeconds float64) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := newOgg(f, 2)
	if err != nil {
		t.Fatal(err)
	}
	var pos uint64 // samples since the start
	for _, page := range opusPackets(t) {
		d := uint64(opusSamples(page))
		if s := float64(pos) / 48000; s < gapFrom || s >= gapTo {
			if err := w.write(page, opusPreSkip+pos+d); err != nil {
				t.Fatal(err)
			}
		}
		pos += d
	}
	if err := w.close(); err != nil {
		t.Fatal(err)
	}
	return float64(pos) / 48000
}

func TestOggWriterKeepsGaps(t *testing.T) {
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.ogg")
	sent := writeFixtureOgg(t, whole, -1, -1)
	out := ffprobe(t, whole, "format=duration:stream=codec_name,channels")
	if d := field(t, out, "duration"); d < sent-0.04 || d > sent+0.04 || !strings.Contains(out, "codec_name=opus") {
		t.Errorf("duration %.3f, sent %.3f: %s", d, sent, out)
	}
	decodesCleanly(t, whole)

	gappy := filepath.Join(dir, "gappy.ogg")
	writeFixtureOgg(t, gappy, 1, 3) // two seconds of nothing
	if d := field(t, ffprobe(t, gappy, "format=duration"), "duration"); d < sent-0.04 || d > sent+0.04 {
		t.Errorf("with a 2 s gap the duration is %.3f, want %.3f", d, sent)
	}
	decodesCleanly(t, gappy)
}

func TestRepairOgg(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.ogg")
	writeFixtureOgg(t, path, -1, -1)
	st, _ := os.Stat(path)
	if err := os.Truncate(path, st.Size()/2+7); err != nil { // mid-page
		t.Fatal(err)
	}
	last, _, err := repairFile(t, path, repairOgg)
	if err != nil || last == 0 {
		t.Fatalf("repair: %d %v", last, err)
	}
	d := field(t, ffprobe(t, path, "format=duration"), "duration")
	if want := float64(last-opusPreSkip) / 48000; d < want-0.04 || d > want+0.04 {
		t.Errorf("repaired duration %.3f, last granule says %.3f", d, want)
	}
	decodesCleanly(t, path)
}

func TestOpusSamples(t *testing.T) {
	for _, tt := range []struct {
		packet []byte
		want   int
	}{
		{[]byte{0xfc}, 960},        // CELT FB 20 ms, one frame
		{[]byte{0x78}, 960},        // SILK WB 20 ms
		{[]byte{0xf8 | 1}, 1920},   // two CELT 20 ms frames
		{[]byte{0xfb, 0x03}, 2880}, // three frames, code 3
		{[]byte{0xe0}, 120},        // CELT NB 2.5 ms
		{[]byte{0x18}, 2880},       // SILK NB 60 ms
		{nil, 0},
	} {
		if got := opusSamples(tt.packet); got != tt.want {
			t.Errorf("%x: %d, want %d", tt.packet, got, tt.want)
		}
	}
}

func TestVideoKeyframe(t *testing.T) {
	for _, tt := range []struct {
		vp9   bool
		frame []byte
		want  bool
	}{
		{false, []byte{0x50, 0x42}, true},
		{false, []byte{0x51}, false},
		{true, []byte{0x82, 0x49}, true}, // profile 0, not show-existing, key
		{true, []byte{0x86}, false},      // profile 0, inter
		{true, []byte{0x8a}, false},      // show existing frame
		{true, []byte{0x42}, false},      // bad frame marker
		{true, []byte{0xb0}, true},       // profile 3, key
	} {
		if got := videoKeyframe(tt.vp9, tt.frame); got != tt.want {
			t.Errorf("vp9=%v %x: %v", tt.vp9, tt.frame, got)
		}
	}
}

// repairFile opens path and runs a repair on it.
func repairFile[A, B any](t *testing.T, path string, repair func(*os.File) (A, B, error)) (A, B, error) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return repair(f)
}
