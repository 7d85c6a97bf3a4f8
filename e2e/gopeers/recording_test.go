package gopeers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/blobtest"
	"classmeet/internal/meeting"
	"classmeet/internal/recorder"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testserver"
)

// s3Server starts versitygw and a classmeet recording into it.
func s3Server(t *testing.T) (*testserver.Server, *blobtest.S3Server) {
	t.Helper()
	s3 := blobtest.StartS3(t)
	c := s3.Config
	s := testserver.Start(t, map[string]string{
		"CLASSMEET_S3_ENDPOINT": c.Endpoint, "CLASSMEET_S3_BUCKET": c.Bucket, "CLASSMEET_S3_ACCESS_KEY": c.AccessKey,
		"CLASSMEET_S3_SECRET_KEY": c.SecretKey, "CLASSMEET_S3_PATH_STYLE": "true", "CLASSMEET_S3_TLS": "false",
	})
	return s, s3
}

// recordedMeeting is a meeting the host may record, invitees admitted as
// they arrive.
func recordedMeeting(t *testing.T, s *testserver.Server, parents ...string) (string, []string) {
	t.Helper()
	plan := testserver.Plan(store.LobbyInviteesAdmitted)
	plan.RecordingPolicy = store.RecordingHostMayRecord
	var nis []store.NewInvitee
	for _, p := range parents {
		nis = append(nis, store.NewInvitee{Name: p})
	}
	return s.MeetingWith(t, plan, nis...)
}

// startRecording has the host start recording and returns its id.
func startRecording(t *testing.T, s *testserver.Server, host *testclient.Client, mid string) uuid.UUID {
	t.Helper()
	if err := host.Send(&meeting.StartRecording{}); err != nil {
		t.Fatal(err)
	}
	msg(t, host, func(r *meeting.Recording) bool { return r.Active })
	var id uuid.UUID
	waitFor(t, "the recording row", 15*time.Second, func() bool {
		recs, err := s.Store.MeetingRecordings(context.Background(), uuid.MustParse(mid))
		if err == nil && len(recs) > 0 {
			id = recs[0].ID
		}
		return id != uuid.Nil
	})
	return id
}

// stored waits for a recording to be finished and returns it with its files.
// mediaFlows waits until to has received n more video packets from from:
// a stretch of meeting measured in media, not in wall-clock time.
func mediaFlows(t *testing.T, to, from *testclient.Client, n uint64) {
	t.Helper()
	before := to.Received(from.ID(), sfu.SourceCamera).Packets.Load()
	waitFor(t, fmt.Sprintf("%d video packets from %s to %s", n, from.Name, to.Name), 60*time.Second, func() bool {
		return to.Received(from.ID(), sfu.SourceCamera).Packets.Load()-before >= n
	})
}

func stored(t *testing.T, s *testserver.Server, id uuid.UUID, within time.Duration) (store.Recording, []store.RecordingFile) {
	t.Helper()
	var rec store.Recording
	waitFor(t, "the recording to be stored", within, func() bool {
		var err error
		rec, err = s.Store.RecordingByID(context.Background(), id)
		return err == nil && rec.State != store.RecordingActive && rec.State != store.RecordingUploading
	})
	files, err := s.Store.RecordingFiles(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return rec, files
}

// fetch downloads a stored file into dir, checking it against its checksum.
func fetch(t *testing.T, s *testserver.Server, f store.RecordingFile, dir string) string {
	t.Helper()
	obj, err := s.Recorder.Open(context.Background(), f)
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	path := filepath.Join(dir, f.ID.String()+filepath.Ext(f.ObjectKey))
	out, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), obj); err != nil {
		t.Fatal(err)
	}
	out.Close()
	if hex.EncodeToString(h.Sum(nil)) != f.SHA256 {
		t.Errorf("%s: the stored copy does not match its checksum", f.Kind)
	}
	return path
}

// probeClean runs ffprobe -v error (which must print nothing) and decodes
// every frame with ffmpeg (which must report no error).
// Frames keep their own timestamps (-enc_time_base -1): a camera's frames
// come at irregular intervals, and rounded to a guessed frame rate two can
// fall on one tick, which ffmpeg's null output reports although every frame
// decoded.
func probeClean(t *testing.T, path, what string) {
	t.Helper()
	if out, err := exec.Command("ffprobe", "-v", "error", path).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("ffprobe -v error on %s: %v\n%s", what, err, out)
	}
	if out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-enc_time_base", "-1", "-f", "null", "-").CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("decoding %s: %v\n%s", what, err, out)
	}
}

// probe reads one ffprobe value.
func probe(t *testing.T, path string, args ...string) string {
	t.Helper()
	out, err := exec.Command("ffprobe", append(append([]string{"-v", "error"}, args...), "-of", "default=nw=1:nk=1", path)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ffprobe %v: %v\n%s", args, err, out)
	}
	return strings.TrimSpace(string(out))
}

func probeFloat(t *testing.T, path string, args ...string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(strings.Fields(probe(t, path, args...) + " x")[0], 64)
	if err != nil {
		t.Fatalf("ffprobe %v: %v", args, err)
	}
	return v
}

// recordParent records a parent publishing for the stretch play runs, and
// returns what the parent sent and the stored recording.
func recordParent(t *testing.T, s *testserver.Server, opts testclient.Options, play func(parent *testclient.Client)) (map[sfu.Source]testclient.SentMedia, store.Recording, []store.RecordingFile) {
	t.Helper()
	mid, links := recordedMeeting(t, s, "Mrs Parent")
	host := s.Host(t, mid, testclient.Options{HoldMedia: true})
	id := startRecording(t, s, host, mid)
	opts.HoldMedia, opts.AutoConsent = true, "accept"
	parent := s.Parent(t, links[0], "Mrs Parent", opts)
	msg(t, host, func(c *meeting.Consents) bool {
		return len(c.Entries) == 2 && c.Entries[1].Answer == meeting.ConsentAccepted
	})
	if err := parent.StartMedia(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the parent's media", 60*time.Second, func() bool { return parent.Sent(sfu.SourceCamera) > 0 })
	play(parent)
	// The parent leaves: their tracks end with everything they sent.
	sent := map[sfu.Source]testclient.SentMedia{
		sfu.SourceCamera: parent.SentMedia(sfu.SourceCamera), sfu.SourceMicrophone: parent.SentMedia(sfu.SourceMicrophone),
	}
	parent.Leave()
	msg(t, host, func(l *meeting.ParticipantLeft) bool { return true })
	waitFor(t, "the parent's files to be closed", 20*time.Second, func() bool {
		files, _ := s.Store.RecordingFiles(context.Background(), id)
		closed := 0
		for _, f := range files {
			if f.State == store.FileWriting {
				return false
			}
			closed++
		}
		return closed >= 2
	})
	if err := host.Send(&meeting.StopRecording{}); err != nil {
		t.Fatal(err)
	}
	rec, files := stored(t, s, id, 60*time.Second)
	return sent, rec, files
}

// TestRecordingTwentySeconds is the recorder's main proof: 20 s of the
// VP8 and Opus fixtures through a live meeting, recorded to S3 (versitygw),
// with 5 s in which the microphone sent nothing.
func TestRecordingTwentySeconds(t *testing.T) {
	t.Parallel() // real time, little CPU: these run two at a time
	s, _ := s3Server(t)
	sent, rec, files := recordParent(t, s, testclient.Options{}, func(p *testclient.Client) {
		p.Play(t, 5*time.Second)
		p.PauseAudio(true)
		p.Play(t, 5*time.Second)
		p.PauseAudio(false)
		p.Play(t, 10*time.Second)
		p.PauseAudio(true) // the last audio packet is known
	})
	if rec.State != store.RecordingAvailable {
		t.Fatalf("recording %s", rec.State)
	}
	dir := t.TempDir()
	var video, audio, webm string
	for _, f := range files {
		path := fetch(t, s, f, dir)
		if f.Kind == store.FileManifest {
			continue
		}
		probeClean(t, path, f.Kind)
		switch f.Kind {
		case store.FileVideo:
			video = path
		case store.FileAudio:
			audio = path
		case store.FileWebM:
			webm = path
		}
	}
	if video == "" || audio == "" || webm == "" {
		t.Fatalf("files: %+v", files)
	}

	cam := sent[sfu.SourceCamera]
	frames, _ := strconv.Atoi(probe(t, video, "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames"))
	t.Logf("video: %d of %d frames sent (%.2f%%)", frames, cam.Frames, 100*float64(frames)/float64(cam.Frames))
	if float64(frames) < 0.99*float64(cam.Frames) {
		t.Errorf("the IVF holds %d frames of %d sent", frames, cam.Frames)
	}

	mic := sent[sfu.SourceMicrophone]
	want := float64(mic.LastTS-mic.FirstTS)/48000 + 0.020
	got := probeFloat(t, audio, "-show_entries", "format=duration")
	t.Logf("audio: %.3f s in the Ogg, %.3f s sent (5 s of it nothing)", got, want)
	if got < want-0.040 || got > want+0.040 {
		t.Errorf("the Ogg lasts %.3f s, the sender sent %.3f s", got, want)
	}

	streams := probe(t, webm, "-show_entries", "stream=codec_name")
	webmDur := probeFloat(t, webm, "-show_entries", "format=duration")
	var videoDur float64 // the recorder's figure for the video track
	for _, f := range files {
		if f.Kind == store.FileVideo {
			videoDur = float64(f.DurationMS) / 1000
		}
	}
	t.Logf("webm: %s, %.3f s (video %.3f s)", strings.ReplaceAll(streams, "\n", " "), webmDur, videoDur)
	if !strings.Contains(streams, "vp8") || !strings.Contains(streams, "opus") {
		t.Errorf("webm streams: %q", streams)
	}
	if webmDur < max(videoDur, want)-0.1 || webmDur > max(videoDur, want)+0.1 {
		t.Errorf("webm lasts %.3f s, its tracks %.3f s", webmDur, max(videoDur, want))
	}
}

// TestRecordingWithLoss: 5% of the packets the parent sends are lost. NACKs
// recover most; the recording waits for a keyframe after any that are
// not, so every file still decodes without error.
func TestRecordingWithLoss(t *testing.T) {
	t.Parallel() // real time, little CPU: these run two at a time
	s, _ := s3Server(t)
	var lost, of uint64
	sent, _, files := recordParent(t, s, testclient.Options{SendLoss: 0.05}, func(p *testclient.Client) {
		p.Play(t, 15*time.Second)
		lost, of = p.LostSent()
	})
	t.Logf("the network lost %d of the %d packets the parent sent", lost, of)
	// The loss is in effect: its share within five standard deviations
	// of 5 % (about 1,500 packets in 15 s: 2.8 points either side; a run
	// outside that is under one in 500,000).
	if of < 1000 {
		t.Fatalf("the parent sent %d packets in 15 s, want over 1,000", of)
	}
	if share, sd := float64(lost)/float64(of), math.Sqrt(0.05*0.95/float64(of)); math.Abs(share-0.05) > 5*sd {
		t.Fatalf("%d of %d packets lost: the 5 %% loss is not in effect", lost, of)
	}
	dir := t.TempDir()
	for _, f := range files {
		path := fetch(t, s, f, dir)
		if f.Kind == store.FileManifest {
			continue
		}
		probeClean(t, path, f.Kind)
		if f.Kind == store.FileVideo {
			frames, _ := strconv.Atoi(probe(t, path, "-count_frames", "-select_streams", "v:0", "-show_entries", "stream=nb_read_frames"))
			cam := sent[sfu.SourceCamera]
			t.Logf("with 5%% loss: %d of %d frames (%.2f%%), stats %s", frames, cam.Frames, 100*float64(frames)/float64(cam.Frames), f.Stats)
			if float64(frames) < 0.97*float64(cam.Frames) {
				t.Errorf("%d frames of %d sent", frames, cam.Frames)
			}
		}
	}
}

// TestRecordingAlignment: two parents start their media 3 s apart; on the
// manifest's timeline each track starts when its first packet reached the
// server, so they start 3 s apart too.
func TestRecordingAlignment(t *testing.T) {
	s := testserver.Start(t, nil)
	mid, links := recordedMeeting(t, s, "Anna", "Ben")
	host := s.Host(t, mid, testclient.Options{HoldMedia: true})
	id := startRecording(t, s, host, mid)
	var firstAt []time.Time
	var ps []*testclient.Client
	for i, name := range []string{"Anna", "Ben"} {
		p := s.Parent(t, links[i], name, testclient.Options{HoldMedia: true, AutoConsent: "accept"})
		msg(t, host, func(c *meeting.Consents) bool {
			for _, e := range c.Entries {
				if e.Participant == p.ID() && e.Answer == meeting.ConsentAccepted {
					return true
				}
			}
			return false
		})
		if i == 1 { // Ben starts 3 s after Anna (the spacing is the test's subject), by her media clock
			waitFor(t, "Anna to have sent 3 s of audio", 60*time.Second, func() bool {
				m := ps[0].SentMedia(sfu.SourceMicrophone)
				return m.LastTS-m.FirstTS >= 3*48000
			})
		}
		if err := p.StartMedia(); err != nil {
			t.Fatal(err)
		}
		waitFor(t, "the host to hear "+name, 60*time.Second, func() bool {
			return host.Received(p.ID(), sfu.SourceMicrophone).FirstAt.Load() != 0 && host.Received(p.ID(), sfu.SourceCamera).FirstAt.Load() != 0
		})
		firstAt = append(firstAt, p.SentMedia(sfu.SourceMicrophone).FirstAt)
		ps = append(ps, p)
	}
	ps[1].Play(t, 3*time.Second) // Ben, the later one, has sent 3 s
	if err := host.Send(&meeting.StopRecording{}); err != nil {
		t.Fatal(err)
	}
	rec, _ := stored(t, s, id, 60*time.Second)
	var m recorder.Manifest
	if err := json.Unmarshal(rec.Manifest, &m); err != nil {
		t.Fatal(err)
	}
	starts := map[string]map[string]int64{}
	for _, p := range m.Participants {
		starts[p.ID] = map[string]int64{}
		for _, tr := range p.Tracks {
			starts[p.ID][tr.Source] = tr.StartMS
		}
	}
	// Each track's first packet reached the server after it was sent and
	// before the host received it through the server: the recording must
	// place the track's start in that span (give or take 100 ms for the
	// sender's report, which it may go by). The span is as wide as the
	// machine was slow, so a busy machine does not fail the test; a wrong
	// offset does.
	span := func(p *testclient.Client, src sfu.Source) (from, to int64) {
		heard := time.Unix(0, host.Received(p.ID(), src).FirstAt.Load())
		return p.SentMedia(src).FirstAt.Sub(rec.StartedAt).Milliseconds() - 100, heard.Sub(rec.StartedAt).Milliseconds() + 100
	}
	for _, p := range ps {
		for _, src := range []sfu.Source{sfu.SourceMicrophone, sfu.SourceCamera} {
			got, ok := starts[p.ID()][string(src)]
			from, to := span(p, src)
			t.Logf("%s %s: starts at %d ms on the timeline, sent and heard within [%d, %d] ms", p.Name, src, got, from, to)
			if !ok || got < from || got > to {
				t.Errorf("%s's %s starts at %d ms; it was sent and heard within [%d, %d] ms", p.Name, src, got, from, to)
			}
		}
	}
	gap := starts[ps[1].ID()]["microphone"] - starts[ps[0].ID()]["microphone"]
	sentGap := firstAt[1].Sub(firstAt[0]).Milliseconds()
	t.Logf("started %d ms apart; %d ms apart on playback", sentGap, gap)
	if sentGap < 2900 {
		t.Errorf("the two started only %d ms apart", sentGap)
	}
}

// TestRecordingSurvivesStorageOutage: S3 is down for 20 s in the middle of
// a recording. The meeting goes on; the recording finishes once S3 is back,
// every file checked.
func TestRecordingSurvivesStorageOutage(t *testing.T) {
	t.Parallel() // real time, little CPU: these run two at a time
	s, s3 := s3Server(t)
	mid, links := recordedMeeting(t, s, "Mrs Parent")
	host := s.Host(t, mid, testclient.Options{})
	id := startRecording(t, s, host, mid)
	parent := s.Parent(t, links[0], "Mrs Parent", testclient.Options{AutoConsent: "accept"})
	testclient.HearEachOther(t, []*testclient.Client{host, parent})
	parent.Play(t, 3*time.Second)

	s3.Stop()
	before := host.Received(parent.ID(), sfu.SourceCamera).Packets.Load()
	parent.Play(t, 10*time.Second)                              // 10 s recorded while S3 is down
	if err := host.Send(&meeting.StopRecording{}); err != nil { // stopped while S3 is down
		t.Fatal(err)
	}
	// The meeting goes on while the recording waits for S3: video keeps
	// reaching the host (about 10 s of it more).
	waitFor(t, "the meeting's video to go on during the outage", 60*time.Second, func() bool {
		return host.Received(parent.ID(), sfu.SourceCamera).Packets.Load()-before >= 600
	})
	if r, _ := s.Store.RecordingByID(context.Background(), id); r.State != store.RecordingUploading {
		t.Errorf("with S3 down the recording is %s", r.State)
	}
	s3.Start()
	rec, files := stored(t, s, id, 60*time.Second)
	if rec.State != store.RecordingAvailable {
		t.Fatalf("after S3 came back: %s", rec.State)
	}
	dir := t.TempDir()
	for _, f := range files {
		if f.State != store.FileUploaded {
			t.Errorf("%s: %s", f.Kind, f.State)
			continue
		}
		path := fetch(t, s, f, dir) // checks the checksum
		if f.Kind != store.FileManifest {
			probeClean(t, path, f.Kind)
		}
	}
}

// TestNothingRecordedWithoutConsentOrRecording: a meeting never recorded
// writes nothing; a parent who declines has no track in the recording;
// after the stop, nothing more is written.
func TestNothingRecordedWithoutConsentOrRecording(t *testing.T) {
	s := testserver.Start(t, nil)
	spool, storage := s.Config.Recording.SpoolDir(), s.Config.Recording.LocalDir()
	size := func() (n int64) {
		for _, dir := range []string{spool, storage} {
			_ = filepath.Walk(dir, func(_ string, info os.FileInfo, err error) error {
				if err == nil && !info.IsDir() {
					n += info.Size()
				}
				return nil
			})
		}
		return n
	}

	// A meeting that is never recorded.
	mid, links := recordedMeeting(t, s, "Anna", "Ben")
	host := s.Host(t, mid, testclient.Options{})
	anna := s.Parent(t, links[0], "Anna", testclient.Options{AutoConsent: "accept"})
	testclient.HearEachOther(t, []*testclient.Client{host, anna})
	mediaFlows(t, host, anna, 60)
	if n := size(); n != 0 {
		t.Errorf("%d bytes written for a meeting never recorded", n)
	}
	if recs, _ := s.Store.MeetingRecordings(context.Background(), uuid.MustParse(mid)); len(recs) != 0 {
		t.Errorf("recordings of a meeting never recorded: %d", len(recs))
	}

	// Recorded, with Ben declining.
	id := startRecording(t, s, host, mid)
	ben := s.Parent(t, links[1], "Ben", testclient.Options{AutoConsent: "decline"})
	msg(t, host, func(c *meeting.Consents) bool {
		for _, e := range c.Entries {
			if e.Participant == ben.ID() && e.Answer == meeting.ConsentDeclined {
				return true
			}
		}
		return false
	})
	testclient.HearEachOther(t, []*testclient.Client{host, anna, ben})
	host.Play(t, 3*time.Second)
	if err := host.Send(&meeting.StopRecording{}); err != nil {
		t.Fatal(err)
	}
	msg(t, anna, func(r *meeting.Recording) bool { return !r.Active })
	rec, files := stored(t, s, id, 60*time.Second)
	afterStop := size()
	mediaFlows(t, host, anna, 90) // the meeting goes on, unrecorded
	if n := size(); n != afterStop {
		t.Errorf("%d bytes written after the recording stopped", n-afterStop)
	}
	if rec.State != store.RecordingAvailable {
		t.Fatalf("recording %s", rec.State)
	}
	who := map[string]int{}
	for _, f := range files {
		if f.ParticipantID != nil {
			who[f.ParticipantName]++
			if f.ParticipantID.String() == ben.ID() {
				t.Errorf("a file of Ben, who declined: %s %s", f.Kind, f.Source)
			}
		}
	}
	if who["Anna"] != 3 || who[host.Welcome().You.Name] != 3 {
		t.Errorf("files by participant: %v (want Anna's and the host's audio, video and webm)", who)
	}
	var m recorder.Manifest
	if err := json.Unmarshal(rec.Manifest, &m); err != nil || len(m.Declined) != 1 || m.Declined[0].Name != "Ben" {
		t.Errorf("manifest declined: %v %+v", err, m.Declined)
	}
}
