package recorder

import (
	"bytes"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pion/rtp/codecs"

	"classmeet/internal/blob"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

// recordedAt is when the recordings of these tests start: a fixed time
// before the recorder's start, which is all the recorder cares about.
var recordedAt = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// smallDisk mounts a tmpfs of size (mount's syntax, e.g. "4m") in a
// temporary directory, unmounted when the test ends. It needs root.
func smallDisk(t *testing.T, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a spool on a small filesystem needs root to mount a tmpfs")
	}
	dir := t.TempDir()
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", dir).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "--lazy", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", dir, err, out)
		}
	})
	return dir
}

// fillDisk writes a ballast file in dir until only about leave bytes are
// free, and returns its path: removing it frees the space.
func fillDisk(t *testing.T, dir string, leave int64) string {
	t.Helper()
	path := filepath.Join(dir, "ballast")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		free, err := freeSpace(dir)
		if err != nil {
			t.Fatal(err)
		}
		if free <= leave {
			return path
		}
		n := min(int64(len(chunk)), free-leave)
		if _, err := f.Write(chunk[:n]); err != nil {
			return path // full already
		}
	}
}

// logBuf collects a recorder's log, to wait for what it says.
type logBuf struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuf) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuf) has(s string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Contains(b.buf.String(), s)
}

// diskRig is a recorder whose spool (and, with local, whose store of
// recordings too, as in the default setup) is a small filesystem.
func diskRig(t *testing.T, size string, local bool, logs io.Writer) (*rig, string) {
	t.Helper()
	disk := smallDisk(t, size)
	st, meetingID := rigMeeting(t)
	g := &rig{st: st, spool: filepath.Join(disk, "spool"), meeting: meetingID}
	var err error
	if local {
		g.blob, err = blob.OpenDir(filepath.Join(disk, "recordings"))
	} else {
		g.blob, err = blob.OpenDir(t.TempDir())
	}
	if err != nil {
		t.Fatal(err)
	}
	g.rec = g.newRecorderLogging(t, slog.New(slog.NewTextHandler(logs, nil)))
	return g, disk
}

// cameraAndMic starts a recording of Anna's camera and microphone and
// feeds ten seconds of sound, then seconds of video at once.
func cameraAndMic(t *testing.T, g *rig, seconds int) (uuid.UUID, *Session) {
	t.Helper()
	id := uuid.New()
	s, err := g.rec.Start(bg, id, g.meeting, "Ms T", recordedAt)
	if err != nil {
		t.Fatal(err)
	}
	anna := uuid.NewString()
	cam, mic := newTestTrack(anna, "camera", "video/VP8"), newTestTrack(anna, "microphone", "audio/opus")
	s.Consent(anna, "Anna", true, recordedAt)
	s.Offer(cam)
	s.Offer(mic)
	<-cam.subscribed
	<-mic.subscribed
	base := time.Unix(1_700_000_000, 0)
	// Ten seconds of sound reach the disk (a sync) before the video floods it.
	mic.feed(audioPackets(t, 10, -1, -1), base)
	testclock.WaitFor(t, "the microphone's file on disk", 60*time.Second, func() bool {
		for _, p := range spoolFiles(t, filepath.Join(g.spool, id.String())) {
			if st, err := os.Stat(p); err == nil && filepath.Ext(p) == ".ogg" && st.Size() > 4096 {
				return true
			}
		}
		return false
	})
	cam.feed(videoPackets(videoFrames(t, fixture("video.ivf")), seconds*30, &codecs.VP8Payloader{}, 96), base)
	return id, s
}

// storedFilesDecode checks that every stored media file decodes and
// returns how many of each kind there are.
func storedFilesDecode(t *testing.T, g *rig, id uuid.UUID) map[string]int {
	t.Helper()
	files, err := g.st.RecordingFiles(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kinds := map[string]int{}
	for _, f := range files {
		if f.State != store.FileUploaded {
			t.Errorf("%s file %s", f.Kind, f.State)
			continue
		}
		kinds[f.Kind]++
		path := g.download(t, f, dir)
		if f.Kind != store.FileManifest {
			decodesCleanly(t, path)
		}
	}
	return kinds
}

// TestSpoolFullStopsRecording: the spool's filesystem fills while a camera
// and a microphone are recorded. The session stops itself, saying why;
// what was written is repaired, stored, decodes, and the recording is
// partial.
func TestSpoolFullStopsRecording(t *testing.T) {
	g, disk := diskRig(t, "4m", false, io.Discard)
	fillDisk(t, disk, 300<<10)
	id, s := cameraAndMic(t, g, 40) // far more than 300 KiB

	select {
	case <-s.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the recording went on with its spool full")
	}
	if err := s.Err(); !errors.Is(err, ErrSpoolFull) {
		t.Fatalf("the session stopped with %v, want ErrSpoolFull", err)
	}
	rec := g.waitState(t, id, 30*time.Second)
	if rec.State != store.RecordingPartial || rec.StoppedAt == nil {
		t.Fatalf("recording %s, stopped %v; want partial", rec.State, rec.StoppedAt)
	}
	kinds := storedFilesDecode(t, g, id)
	if kinds[store.FileVideo] != 1 || kinds[store.FileAudio] != 1 || kinds[store.FileManifest] != 1 {
		t.Errorf("stored: %v", kinds)
	}
	s.Stop(testclock.Now()) // the host's stop, after the failure: nothing happens
}

// TestSpoolFullRefusesToStart: with less free space than the minimum, a
// recording is refused and leaves no row behind.
func TestSpoolFullRefusesToStart(t *testing.T) {
	g, disk := diskRig(t, "2m", false, io.Discard)
	g.rec.minFree = 1 << 20
	fillDisk(t, disk, 512<<10)
	_, err := g.rec.Start(bg, uuid.New(), g.meeting, "Ms T", recordedAt)
	if !errors.Is(err, ErrSpoolFull) {
		t.Fatalf("start on a full spool: %v", err)
	}
	if recs, err := g.st.MeetingRecordings(bg, g.meeting); err != nil || len(recs) != 0 {
		t.Fatalf("recordings after a refused start: %d, %v", len(recs), err)
	}
}

// TestStuckFinishingIsRetriedAndDeletable: the recordings are stored on
// the spool's filesystem (the default setup) and it is full, so nothing
// can be finished. The finishing is tried again until space is freed,
// then completes; and an administrator can delete a recording stuck so.
func TestStuckFinishingIsRetriedAndDeletable(t *testing.T) {
	logs := &logBuf{}
	g, disk := diskRig(t, "4m", true, logs)
	ballast := fillDisk(t, disk, 300<<10)
	stuck, s1 := cameraAndMic(t, g, 40)
	<-s1.Done()
	testclock.WaitFor(t, "a failed finishing to be tried again", 20*time.Second, func() bool { return logs.has("retrying") })
	if rec, _ := g.st.RecordingByID(bg, stuck); rec.State != store.RecordingUploading {
		t.Fatalf("with no space to store it the recording is %s", rec.State)
	}

	// The administrator deletes it while it is being finished.
	if err := g.rec.Delete(bg, stuck); err != nil {
		t.Fatalf("deleting a stuck recording: %v", err)
	}
	if _, err := g.st.RecordingByID(bg, stuck); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("after the delete the recording is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(g.spool, stuck.String())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("after the delete its spool is still there: %v", err)
	}
	if g.rec.Busy(stuck) {
		t.Error("after the delete its finishing goes on")
	}

	// Another fills the disk again; freeing the space lets it finish.
	fillDisk(t, disk, 300<<10)
	id, s2 := cameraAndMic(t, g, 40)
	<-s2.Done()
	if rec, _ := g.st.RecordingByID(bg, id); rec.State != store.RecordingUploading {
		t.Fatalf("with no space to store it the recording is %s", rec.State)
	}
	if err := os.Remove(ballast); err != nil {
		t.Fatal(err)
	}
	rec := g.waitState(t, id, 60*time.Second)
	if rec.State != store.RecordingPartial {
		t.Fatalf("after space was freed: %s", rec.State)
	}
	if kinds := storedFilesDecode(t, g, id); kinds[store.FileVideo] != 1 || kinds[store.FileAudio] != 1 {
		t.Errorf("stored: %v", kinds)
	}
}

// TestRecoverChecksSpooledFiles: a recording that was being uploaded when
// the server stopped has a spooled video file that ends mid-frame (as a
// failed write leaves it). At the next start it is repaired, decodes, and
// the recording is partial, not available.
func TestRecoverChecksSpooledFiles(t *testing.T) {
	st, meetingID := rigMeeting(t)
	g := &rig{st: st, spool: t.TempDir(), meeting: meetingID}
	var err error
	if g.blob, err = blob.OpenDir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	id, fileID := uuid.New(), uuid.New()
	stopped, anna := recordedAt.Add(10*time.Second), uuid.New()
	if err := st.CreateRecording(bg, store.Recording{ID: id, MeetingID: meetingID, StartedBy: "Ms T", StartedAt: recordedAt, State: store.RecordingActive}); err != nil {
		t.Fatal(err)
	}
	if err := st.SetRecordingState(bg, id, store.RecordingUploading, &stopped, false); err != nil {
		t.Fatal(err)
	}
	name := id.String() + "/" + fileID.String() + ".ivf"
	if err := os.MkdirAll(filepath.Join(g.spool, id.String()), 0o750); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(g.spool, filepath.FromSlash(name))
	n := writeFixtureIVF(t, path)
	info, _ := os.Stat(path)
	if err := os.Truncate(path, info.Size()-700); err != nil { // mid-frame
		t.Fatal(err)
	}
	f := store.RecordingFile{
		ID: fileID, RecordingID: id, ParticipantID: &anna, ParticipantName: "Anna", Kind: store.FileVideo, Source: "camera",
		Codec: "vp8", Segment: 1, ObjectKey: objectKey(meetingID, id, fileID, ".ivf"), SpoolName: name, State: store.FileWriting,
		StartedAt: &recordedAt,
	}
	if err := st.AddRecordingFile(bg, f); err != nil {
		t.Fatal(err)
	}
	f.State, f.Frames, f.DurationMS, f.SizeBytes = store.FileSpooled, n, int64(n)*1000/30, info.Size()
	if err := st.UpdateRecordingFile(bg, f); err != nil {
		t.Fatal(err)
	}

	g.rec = g.newRecorder(t)
	if err := g.rec.Recover(bg); err != nil {
		t.Fatal(err)
	}
	rec := g.waitState(t, id, 30*time.Second)
	if rec.State != store.RecordingPartial {
		t.Fatalf("a recording with a file cut mid-frame is %s", rec.State)
	}
	files, _ := st.RecordingFiles(bg, id)
	for _, f := range files {
		if f.Kind == store.FileVideo && (f.Frames >= n || f.Frames == 0) {
			t.Errorf("the repaired file holds %d frames of %d", f.Frames, n)
		}
	}
	storedFilesDecode(t, g, id)
}
