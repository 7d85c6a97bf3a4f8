package recorder

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/pion/rtp/codecs"

	"classmeet/internal/blob"
	"classmeet/internal/blobtest"
	"classmeet/internal/pgtest"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

var bg = context.Background()

func quietLog() *slog.Logger {
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// rig is a recorder on a real database and a real S3 server.
type rig struct {
	st      *store.Store
	s3      *blobtest.S3Server
	blob    blob.Store
	spool   string
	rec     *Recorder
	meeting uuid.UUID
}

func newRig(t *testing.T) *rig {
	t.Helper()
	st, meetingID := rigMeeting(t)
	s3 := blobtest.StartS3(t)
	g := &rig{st: st, s3: s3, blob: s3.Store(), spool: t.TempDir(), meeting: meetingID}
	g.rec = g.newRecorder(t)
	return g
}

// rigMeeting is a database with a meeting the host may record.
func rigMeeting(t *testing.T) (*store.Store, uuid.UUID) {
	t.Helper()
	st := pgtest.NewStore(t)
	u, err := st.CreateUser(bg, store.NewUser{Email: "t@school.example", Name: "Ms T", PasswordHash: "h", TimeZone: "UTC", Role: store.RoleTeacher})
	if err != nil {
		t.Fatal(err)
	}
	m, err := st.CreateMeeting(bg, u.ID, store.MeetingPlan{
		Title: "Parents", StartsAt: testclock.Now(), DurationMinutes: 30, TimeZone: "UTC",
		LobbyPolicy: store.LobbyEveryoneWaits, RecordingPolicy: store.RecordingHostMayRecord,
	})
	if err != nil {
		t.Fatal(err)
	}
	return st, m.ID
}

func (g *rig) newRecorder(t *testing.T) *Recorder {
	t.Helper()
	return g.newRecorderLogging(t, quietLog())
}

// newRecorderLogging is newRecorder with its log going to log.
func (g *rig) newRecorderLogging(t *testing.T, log *slog.Logger) *Recorder {
	t.Helper()
	rec, err := New(Config{Store: g.st, Blob: g.blob, SpoolDir: g.spool, Log: log, Now: testclock.Now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(bg, 5*time.Second)
		defer cancel()
		rec.Close(ctx)
	})
	return rec
}

// waitState waits for a recording to reach a final state.
func (g *rig) waitState(t *testing.T, id uuid.UUID, within time.Duration) store.Recording {
	t.Helper()
	var rec store.Recording
	testclock.WaitFor(t, "the recording to be finished", within, func() bool {
		var err error
		if rec, err = g.st.RecordingByID(bg, id); err != nil {
			t.Fatal(err)
		}
		switch rec.State {
		case store.RecordingAvailable, store.RecordingPartial, store.RecordingFailed:
			return true
		}
		return false
	})
	return rec
}

// download fetches a stored file into dir.
func (g *rig) download(t *testing.T, f store.RecordingFile, dir string) string {
	t.Helper()
	obj, err := g.rec.Open(bg, f)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	path := filepath.Join(dir, f.ID.String()+filepath.Ext(f.ObjectKey))
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	if _, err := io.Copy(out, obj); err != nil {
		t.Fatal(err)
	}
	return path
}

// durableMS is how much media a spool file holds on disk, torn ends cut off
// as the recovery would: read from a copy, the writer's file untouched.
func durableMS(t *testing.T, path string) int64 {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	cp := filepath.Join(t.TempDir(), filepath.Base(path))
	if err := os.WriteFile(cp, b, 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(cp, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	switch filepath.Ext(path) {
	case ".ivf":
		_, pts, err := repairIVF(f)
		if err != nil {
			return 0
		}
		return int64(pts / 90)
	case ".ogg":
		granule, _, err := repairOgg(f)
		if err != nil {
			return 0
		}
		return int64(granule / 48)
	}
	return 0
}

func spoolFiles(t *testing.T, dir string) []string {
	t.Helper()
	var files []string
	_ = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return nil
	})
	return files
}

// micSession starts a recording at at in which Anna, who agreed, sends her
// microphone: the packets fed to the returned track are recorded.
func (g *rig) micSession(t *testing.T, at time.Time) (uuid.UUID, *Session, *testTrack) {
	t.Helper()
	id := uuid.New()
	s, err := g.rec.Start(bg, id, g.meeting, "Ms T", at)
	if err != nil {
		t.Fatal(err)
	}
	anna := uuid.NewString()
	mic := newTestTrack(anna, "microphone", "audio/opus")
	s.Consent(anna, "Anna", true, at)
	s.Offer(mic)
	<-mic.subscribed
	return id, s, mic
}

// TestSessionRecordsWhoConsented records two participants, one of whom
// declines, and follows the files to S3: the decliner has no file, the
// other has audio, video and a playable WebM, all checked.
func TestSessionRecordsWhoConsented(t *testing.T) {
	g := newRig(t)
	frames := videoFrames(t, fixture("video.ivf"))
	anna, ben := uuid.NewString(), uuid.NewString()
	id := uuid.New()
	start := testclock.Now()
	s, err := g.rec.Start(bg, id, g.meeting, "Ms T", start)
	if err != nil {
		t.Fatal(err)
	}
	annaCam, annaMic := newTestTrack(anna, "camera", "video/VP8"), newTestTrack(anna, "microphone", "audio/opus")
	benCam := newTestTrack(ben, "camera", "video/VP8")
	s.Consent(anna, "Anna Parent", true, start)
	s.Consent(ben, "Ben Parent", false, start)
	for _, tr := range []*testTrack{annaCam, annaMic, benCam} {
		s.Offer(tr)
	}
	<-annaCam.subscribed
	<-annaMic.subscribed
	annaCam.feed(videoPackets(frames, 90, &codecs.VP8Payloader{}, 96), arrival())
	annaMic.feed(audioPackets(t, 3, -1, -1), arrival())
	benCam.feed(videoPackets(frames, 90, &codecs.VP8Payloader{}, 96), arrival())
	waitTaken(t, annaCam, annaMic)
	s.Stop(testclock.Now())
	rec := g.waitState(t, id, 30*time.Second)
	if rec.State != store.RecordingAvailable || rec.Recovered || rec.StoppedAt == nil {
		t.Fatalf("recording %+v", rec)
	}
	select {
	case <-benCam.subscribed:
		t.Error("the recorder subscribed to a track of someone who declined")
	default:
	}
	files, err := g.st.RecordingFiles(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	kinds := map[string]int{}
	dir := t.TempDir()
	for _, f := range files {
		if f.ParticipantID != nil && f.ParticipantID.String() == ben {
			t.Errorf("a file of the participant who declined: %+v", f)
		}
		if f.State != store.FileUploaded || f.SHA256 == "" || f.SizeBytes == 0 {
			t.Errorf("file %s %s: %s, %d bytes", f.Kind, f.Source, f.State, f.SizeBytes)
		}
		kinds[f.Kind]++
		path := g.download(t, f, dir)
		if f.Kind != store.FileManifest {
			decodesCleanly(t, path)
		}
		if f.Kind == store.FileVideo && f.Frames != 90 {
			t.Errorf("video frames %d, want 90", f.Frames)
		}
	}
	if kinds[store.FileAudio] != 1 || kinds[store.FileVideo] != 1 || kinds[store.FileWebM] != 1 || kinds[store.FileManifest] != 1 {
		t.Errorf("files: %v", kinds)
	}
	var m Manifest
	if err := json.Unmarshal(rec.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	if len(m.Participants) != 1 || m.Participants[0].Name != "Anna Parent" || len(m.Participants[0].Tracks) != 2 ||
		len(m.Participants[0].Playable) != 1 || len(m.Declined) != 1 || m.Declined[0].Name != "Ben Parent" {
		t.Errorf("manifest: %+v", m)
	}
	for _, tr := range m.Participants[0].Tracks {
		if tr.StartMS < -50 || tr.StartMS > 50 || tr.SHA256 == "" {
			t.Errorf("track %s starts at %d ms, sha %q", tr.Source, tr.StartMS, tr.SHA256)
		}
	}
	consents, _ := g.st.Consents(bg, id)
	if len(consents) != 2 {
		t.Errorf("consents stored: %+v", consents)
	}
	if left := spoolFiles(t, g.spool); len(left) != 0 {
		t.Errorf("spool not emptied: %v", left)
	}

	// Deleting removes objects, spool and rows.
	if err := g.rec.Delete(bg, id); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := g.blob.Open(bg, f.ObjectKey); err != blob.ErrNotFound {
			t.Errorf("object %s after delete: %v", f.ObjectKey, err)
		}
	}
	if _, err := g.st.RecordingByID(bg, id); err == nil {
		t.Error("recording row after delete")
	}
}

// TestConsentLaterAndWithdrawn: a participant who accepts late is recorded
// from then; one who withdraws stops being recorded, in a new segment if
// they accept again.
func TestConsentLaterAndWithdrawn(t *testing.T) {
	g := newRig(t)
	anna := uuid.NewString()
	id := uuid.New()
	s, err := g.rec.Start(bg, id, g.meeting, "Ms T", testclock.Now())
	if err != nil {
		t.Fatal(err)
	}
	mic := newTestTrack(anna, "microphone", "audio/opus")
	s.Offer(mic)
	s.Offer(mic) // offered twice: still one track
	settle(s)
	select {
	case <-mic.subscribed:
		t.Fatal("recorded before any answer")
	default:
	}
	s.Consent(anna, "Anna", true, testclock.Now())
	<-mic.subscribed
	mic.feed(audioPackets(t, 1, -1, -1), arrival())
	waitTaken(t, mic)
	s.Consent(anna, "Anna", false, testclock.Now())
	s.Stop(testclock.Now())
	g.waitState(t, id, 30*time.Second)
	files, _ := g.st.RecordingFiles(bg, id)
	audio := 0
	for _, f := range files {
		if f.Kind == store.FileAudio {
			audio++
			if f.Frames != 50 {
				t.Errorf("audio packets %d, want 50", f.Frames)
			}
		}
	}
	if audio != 1 {
		t.Errorf("audio files %d", audio)
	}
	consents, _ := g.st.Consents(bg, id)
	if len(consents) != 1 || consents[0].Accepted {
		t.Errorf("the latest answer counts: %+v", consents)
	}
}

// TestNothingWrittenAfterStop: a recorder that records nothing
// writes nothing, and a stopped session takes no more media.
func TestNothingWrittenAfterStop(t *testing.T) {
	g := newRig(t)
	if files := spoolFiles(t, g.spool); len(files) != 0 {
		t.Errorf("spool before any recording: %v", files)
	}
	id, s, mic := g.micSession(t, testclock.Now())
	sent := audioPackets(t, 2, -1, -1)
	mic.feed(sent[:50], arrival())
	waitTaken(t, mic)
	s.Stop(testclock.Now())
	mic.feed(sent[50:], arrival()) // after the stop
	s.Offer(newTestTrack(mic.participant, "camera", "video/VP8"))
	g.waitState(t, id, 30*time.Second)
	files, _ := g.st.RecordingFiles(bg, id)
	for _, f := range files {
		if f.Kind == store.FileAudio && f.Frames != 50 {
			t.Errorf("audio packets %d: written after the stop", f.Frames)
		}
		if f.Kind == store.FileVideo {
			t.Error("a track offered after the stop was recorded")
		}
	}
}

// TestRecoverAfterCrash: the server dies mid-recording (nothing more
// reaches the database; the spool holds what was synced, a frame torn).
// The next start repairs, uploads and marks the recording partial.
func TestRecoverAfterCrash(t *testing.T) {
	g := newRig(t)
	frames := videoFrames(t, fixture("video.ivf"))
	anna := uuid.NewString()
	id := uuid.New()
	start := testclock.Now()
	s, err := g.rec.Start(bg, id, g.meeting, "Ms T", start)
	if err != nil {
		t.Fatal(err)
	}
	cam, mic := newTestTrack(anna, "camera", "video/VP8"), newTestTrack(anna, "microphone", "audio/opus")
	s.Consent(anna, "Anna", true, start)
	s.Offer(cam)
	s.Offer(mic)
	<-cam.subscribed
	<-mic.subscribed
	cam.feed(videoPackets(frames, 90, &codecs.VP8Payloader{}, 96), arrival())
	mic.feed(audioPackets(t, 3, -1, -1), arrival())
	// The writers have made more than 2 s of each track durable: what a
	// crash now leaves in the spool is worth recovering.
	testclock.WaitFor(t, "2 s of each track synced to the spool", 60*time.Second, func() bool {
		kinds := map[string]bool{}
		for _, p := range spoolFiles(t, g.spool) {
			if durableMS(t, p) < 2200 {
				return false
			}
			kinds[filepath.Ext(p)] = true
		}
		return kinds[".ivf"] && kinds[".ogg"]
	})

	// The crash: the spool as it is on disk now, and no more database.
	snapshot := t.TempDir()
	if err := os.CopyFS(snapshot, os.DirFS(g.spool)); err != nil {
		t.Fatal(err)
	}
	g.rec.cancel()
	s.Stop(testclock.Now())
	for _, p := range spoolFiles(t, snapshot) {
		if filepath.Ext(p) == ".ivf" {
			st, _ := os.Stat(p)
			if err := os.Truncate(p, st.Size()-100); err != nil { // a torn last frame
				t.Fatal(err)
			}
		}
	}
	if rec, _ := g.st.RecordingByID(bg, id); rec.State != store.RecordingActive {
		t.Fatalf("state after the crash: %s", rec.State)
	}

	g.spool = snapshot
	g.rec = g.newRecorder(t)
	if err := g.rec.Recover(bg); err != nil {
		t.Fatal(err)
	}
	rec := g.waitState(t, id, 30*time.Second)
	if rec.State != store.RecordingPartial || !rec.Recovered || rec.StoppedAt == nil {
		t.Fatalf("recovered recording: %+v", rec)
	}
	files, _ := g.st.RecordingFiles(bg, id)
	dir := t.TempDir()
	kinds := map[string]int{}
	for _, f := range files {
		kinds[f.Kind]++
		if f.State != store.FileUploaded {
			t.Errorf("%s: %s", f.Kind, f.State)
			continue
		}
		path := g.download(t, f, dir)
		if f.Kind == store.FileManifest {
			continue
		}
		decodesCleanly(t, path)
		if (f.Kind == store.FileAudio || f.Kind == store.FileVideo) && f.DurationMS < 2000 {
			t.Errorf("%s holds %d ms", f.Kind, f.DurationMS)
		}
	}
	if kinds[store.FileAudio] != 1 || kinds[store.FileVideo] != 1 || kinds[store.FileWebM] != 1 || kinds[store.FileManifest] != 1 {
		t.Errorf("files: %v", kinds)
	}
	var m Manifest
	if err := json.Unmarshal(rec.Manifest, &m); err != nil || !m.Recovered {
		t.Errorf("manifest: %v %+v", err, m)
	}
	audit, err := g.st.MeetingAudit(bg, g.meeting)
	if err != nil {
		t.Fatal(err)
	}
	if len(audit) != 1 || audit[0].Action != "recording stopped (server restart)" || audit[0].TargetID != id.String() || !audit[0].At.Equal(*rec.StoppedAt) {
		t.Errorf("audit after the restart: %+v", audit)
	}
}

// TestUploadWaitsForStorage: S3 is down when the recording stops; the
// files wait in the spool and are uploaded, and checked, once it is back.
func TestUploadWaitsForStorage(t *testing.T) {
	g := newRig(t)
	id, s, mic := g.micSession(t, testclock.Now())
	mic.feed(audioPackets(t, 2, -1, -1), arrival())
	waitTaken(t, mic)
	g.s3.Stop()
	s.Stop(testclock.Now())
	testclock.WaitFor(t, "the recording to wait for its uploads", 60*time.Second, func() bool {
		rec, _ := g.st.RecordingByID(bg, id)
		return rec.State == store.RecordingUploading
	})
	// The uploads now meet a stopped S3: for a while they keep failing, and
	// the recording must keep waiting rather than give up. A window with
	// nothing to wait for; only a broken recorder would make it fail.
	time.Sleep(3 * time.Second)
	if rec, _ := g.st.RecordingByID(bg, id); rec.State != store.RecordingUploading {
		t.Fatalf("with S3 down the recording is %s", rec.State)
	}
	if len(spoolFiles(t, g.spool)) == 0 {
		t.Fatal("the spool is empty while S3 is down")
	}
	g.s3.Start()
	if rec := g.waitState(t, id, 60*time.Second); rec.State != store.RecordingAvailable {
		t.Fatalf("after S3 came back: %s", rec.State)
	}
	files, _ := g.st.RecordingFiles(bg, id)
	dir := t.TempDir()
	for _, f := range files {
		path := g.download(t, f, dir)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if sum := sha256.Sum256(b); hex.EncodeToString(sum[:]) != f.SHA256 || int64(len(b)) != f.SizeBytes {
			t.Errorf("%s: stored copy does not match its checksum", f.Kind)
		}
	}
}

// TestRetention: recordings that stopped before the cutoff are deleted,
// objects and rows, and the audit log says so; newer ones stay; a live one
// cannot be deleted.
func TestRetention(t *testing.T) {
	g := newRig(t)
	record := func(at time.Time) uuid.UUID {
		id, s, mic := g.micSession(t, at)
		mic.feed(audioPackets(t, 1, -1, -1), arrival())
		waitTaken(t, mic)
		s.Stop(at.Add(time.Minute))
		g.waitState(t, id, 30*time.Second)
		return id
	}
	old := record(testclock.Now().Add(-40 * 24 * time.Hour))
	recent := record(testclock.Now().Add(-time.Hour))
	oldFiles, _ := g.st.RecordingFiles(bg, old)

	live := uuid.New()
	s, err := g.rec.Start(bg, live, g.meeting, "Ms T", testclock.Now().Add(-50*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := g.rec.Delete(bg, live); err != ErrBusy {
		t.Errorf("deleting a live recording: %v", err)
	}

	n, err := g.rec.Sweep(bg, testclock.Now().Add(-30*24*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("sweep: %d %v", n, err)
	}
	if _, err := g.st.RecordingByID(bg, old); err == nil {
		t.Error("the expired recording is still there")
	}
	for _, f := range oldFiles {
		if _, err := g.blob.Open(bg, f.ObjectKey); err != blob.ErrNotFound {
			t.Errorf("object %s survived: %v", f.ObjectKey, err)
		}
	}
	if _, err := g.st.RecordingByID(bg, recent); err != nil {
		t.Errorf("a recent recording went: %v", err)
	}
	if _, err := g.st.RecordingByID(bg, live); err != nil {
		t.Errorf("the live recording went: %v", err)
	}
	events, _ := g.st.MeetingAudit(bg, g.meeting)
	if len(events) != 1 || events[0].Action != "recording deleted" || events[0].ActorName != "retention" || events[0].TargetID != old.String() {
		t.Errorf("audit: %+v", events)
	}
	s.Stop(testclock.Now())
}

// TestSegmentsAndScreenShare: a participant whose tracks end and come back
// (a reconnect with new connections) gets a second segment; their camera
// and microphone segments make one WebM, their screen share another.
func TestSegmentsAndScreenShare(t *testing.T) {
	g := newRig(t)
	frames := videoFrames(t, fixture("video.ivf"))
	anna := uuid.NewString()
	id := uuid.New()
	start := testclock.Now()
	s, err := g.rec.Start(bg, id, g.meeting, "Ms T", start)
	if err != nil {
		t.Fatal(err)
	}
	s.Consent(anna, "Anna", true, start)
	// Each connection's media arrives as it would in real time: the second
	// after the first has gone.
	closed := 0 // files of connections that went
	session := func(base time.Time, sources ...string) {
		var tracks []*testTrack
		for _, src := range sources {
			mime := "video/VP8"
			if src == "microphone" || src == "screen_audio" {
				mime = "audio/opus"
			}
			tr := newTestTrack(anna, src, mime)
			s.Offer(tr)
			<-tr.subscribed
			if mime == "audio/opus" {
				tr.feed(audioPackets(t, 1, -1, -1), base)
			} else {
				tr.feed(videoPackets(frames, 30, &codecs.VP8Payloader{}, 96), base)
			}
			tracks = append(tracks, tr)
		}
		waitTaken(t, tracks...)
		for _, tr := range tracks {
			tr.end() // the connection went
		}
		closed += len(tracks)
		testclock.WaitFor(t, "the connection's files to be closed", 60*time.Second, func() bool {
			files, _ := g.st.RecordingFiles(bg, id)
			n := 0
			for _, f := range files {
				if f.State == store.FileSpooled {
					n++
				}
			}
			return n >= closed
		})
	}
	first := arrival()
	session(first, "microphone", "camera", "screen")
	session(first.Add(1500*time.Millisecond), "microphone", "camera") // reconnected
	s.Stop(testclock.Now())
	rec := g.waitState(t, id, 30*time.Second)
	if rec.State != store.RecordingAvailable {
		t.Fatalf("recording %s", rec.State)
	}
	files, _ := g.st.RecordingFiles(bg, id)
	segments := map[string][]int{}
	webms := map[string]int{}
	dir := t.TempDir()
	for _, f := range files {
		switch f.Kind {
		case store.FileAudio, store.FileVideo:
			segments[f.Source] = append(segments[f.Source], f.Segment)
		case store.FileWebM:
			webms[f.Source]++
			path := g.download(t, f, dir)
			decodesCleanly(t, path)
			if f.Source == "camera" && (f.DurationMS < 2400 || f.DurationMS > 2600) {
				t.Errorf("the camera WebM lasts %d ms; the segments span 2.5 s", f.DurationMS)
			}
		}
	}
	if len(segments["microphone"]) != 2 || len(segments["camera"]) != 2 || len(segments["screen"]) != 1 {
		t.Errorf("segments: %v", segments)
	}
	if webms["camera"] != 1 || webms["screen"] != 1 {
		t.Errorf("webms: %v", webms)
	}
}
