package e2e

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"classmeet/internal/blob"
	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
)

// attendanceClosed waits until everyone's attendance in a meeting is closed
// in the database: the server writes it after the fact.
func (s *server) attendanceClosed(t *testing.T, meetingID string) {
	t.Helper()
	st := s.openStore(t)
	testclock.WaitFor(t, "attendance to be closed", 20*time.Second, func() bool {
		rows, err := st.MeetingAttendance(context.Background(), uuid.MustParse(meetingID))
		if err != nil || len(rows) == 0 {
			return false
		}
		for _, r := range rows {
			if r.LeftAt == nil {
				return false
			}
		}
		return true
	})
}

// openStore opens the server's database.
func (s *server) openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), s.DB, 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(st.Close)
	return st
}

// ffcheck fails the test if ffprobe -v error says anything about a file or
// ffmpeg cannot decode every frame of it; it returns the duration.
// Frames keep their own timestamps (-enc_time_base -1): a camera's frames
// come at irregular intervals, and rounded to a guessed frame rate two can
// fall on one tick, which ffmpeg's null output reports although every frame
// decoded.
func ffcheck(t *testing.T, path, what string) float64 {
	t.Helper()
	if out, err := exec.Command("ffprobe", "-v", "error", path).CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("ffprobe -v error on %s: %v\n%s", what, err, out)
	}
	if out, err := exec.Command("ffmpeg", "-v", "error", "-i", path, "-enc_time_base", "-1", "-f", "null", "-").CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "" {
		t.Errorf("decoding %s: %v\n%s", what, err, out)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "default=nw=1:nk=1", path).Output()
	if err != nil {
		t.Fatalf("ffprobe duration of %s: %v", what, err)
	}
	d, _ := strconv.ParseFloat(strings.TrimSpace(string(out)), 64)
	return d
}

// TestRecordingSurvivesKill9: the server is killed (SIGKILL) 10 s into a
// recording and started again. Within 60 s the recording is listed as
// partial, and what it holds decodes and lasts at least 7 s.
func TestRecordingSurvivesKill9(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	mid, links := srv.seedMeeting(t, "smith@school.example", store.LobbyInviteesAdmitted, "Mrs Parent")
	host := goHost(t, srv, mid)
	if err := host.Send(&meeting.StartRecording{}); err != nil {
		t.Fatal(err)
	}
	parent, err := testclient.New(srv.URL, "Mrs Parent", testclient.Options{Logf: t.Logf, AutoConsent: "accept"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(parent.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
	defer cancel()
	if err := parent.JoinLink(ctx, links[0]); err != nil {
		t.Fatal(err)
	}
	st := srv.openStore(t)
	var id uuid.UUID
	testclock.WaitFor(t, "the recording row", 60*time.Second, func() bool {
		recs, _ := st.MeetingRecordings(context.Background(), uuid.MustParse(mid))
		if len(recs) > 0 {
			id = recs[0].ID
		}
		return id != uuid.Nil
	})
	testclock.WaitFor(t, "the parent's video", 60*time.Second, func() bool { return parent.SentMedia(sfu.SourceCamera).Frames > 0 })
	// 10 s recorded before the kill, by the sender's own media clock.
	testclock.WaitFor(t, "10 s of the parent's video sent", 60*time.Second, func() bool {
		v := parent.SentMedia(sfu.SourceCamera)
		return v.LastTS-v.FirstTS >= 10*90000
	})

	if err := srv.cmd.Process.Kill(); err != nil { // SIGKILL: nothing is flushed, nothing closed
		t.Fatal(err)
	}
	_ = srv.cmd.Wait()
	killed := time.Now()
	host.Close()
	parent.Close()
	if rec, err := st.RecordingByID(context.Background(), id); err != nil || rec.State != store.RecordingActive {
		t.Fatalf("after the kill: %+v %v", rec, err)
	}

	srv.start(t)
	var rec store.Recording
	testclock.WaitFor(t, "the recording to be recovered", 60*time.Second, func() bool {
		rec, err = st.RecordingByID(context.Background(), id)
		return err == nil && rec.State != store.RecordingActive && rec.State != store.RecordingUploading
	})
	t.Logf("recovered as %s %v after the kill", rec.State, time.Since(killed).Round(100*time.Millisecond))
	if rec.State != store.RecordingPartial || !rec.Recovered {
		t.Fatalf("recovered recording: %s recovered=%v", rec.State, rec.Recovered)
	}

	// The recordings page lists it as partial.
	teacher, err := testclient.New(srv.URL, "teacher", testclient.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	if err := teacher.Login(context.Background(), "smith@school.example", teacherPW); err != nil {
		t.Fatal(err)
	}
	page, err := teacher.Get(context.Background(), "/meetings/"+mid+"/recordings")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(page, `data-testid="recording-state">partial<`) {
		t.Errorf("the recordings page does not list it as partial:\n%s", page)
	}

	files, err := st.RecordingFiles(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	store, err := blob.OpenDir(filepath.Join(srv.DataDir, "recordings"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	kinds := map[string]int{}
	for _, f := range files {
		kinds[f.Kind]++
		obj, err := store.Open(context.Background(), f.ObjectKey)
		if err != nil {
			t.Fatalf("%s: %v", f.Kind, err)
		}
		path := filepath.Join(dir, f.ID.String()+filepath.Ext(f.ObjectKey))
		out, _ := os.Create(path)
		_, _ = io.Copy(out, obj)
		out.Close()
		obj.Close()
		if f.Kind == "manifest" {
			continue
		}
		d := ffcheck(t, path, f.Kind+" "+f.Source) // the IVF header holds its length, as ffprobe reads it
		t.Logf("%s %s: %.2f s", f.Kind, f.Source, d)
		if d < 7 {
			t.Errorf("%s %s holds %.2f s of media, want at least 7", f.Kind, f.Source, d)
		}
	}
	if kinds["audio"] < 2 || kinds["video"] < 2 || kinds["webm"] < 2 || kinds["manifest"] != 1 {
		t.Errorf("files of the recovered recording: %v", kinds)
	}
}

// fetchFile downloads a link of the person's page with their cookies, as
// clicking it would, and saves it.
func (p *person) fetchFile(href, path string) {
	p.t.Helper()
	b64 := eval[string](p, fmt.Sprintf(`fetch(%q, {credentials: 'same-origin'}).then(async r => {
		if (!r.ok) throw new Error('download: ' + r.status);
		const bytes = new Uint8Array(await r.arrayBuffer());
		let s = ''; for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
		return btoa(s);
	})`, href))
	data, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		p.t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o600); err != nil {
		p.t.Fatal(err)
	}
}

// TestBrowserRecording: the teacher records 5 s with a parent, both in
// Chromium. Both see REC; the parent is asked and agrees; someone opening
// the link meanwhile is told before joining. The teacher downloads the
// parent's WebM, which ffprobe decodes, and the playback page plays.
func TestBrowserRecording(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	mid, links := srv.seedMeeting(t, "smith@school.example", store.LobbyInviteesAdmitted, "Mr Jones", "Mrs Patel")
	chromium := newChromium(t)

	teacher := newPerson(t, chromium, "teacher")
	teacher.login(srv, "smith@school.example", teacherPW)
	teacher.enterRoom(srv.URL + "/meetings/" + mid + "/room")
	jones := newPerson(t, chromium, "Mr Jones")
	jones.enterRoom(srv.URL + links[0])
	jones.waitFor("see the teacher", playing(remoteVideo("Ms Smith")))
	teacher.waitFor("see the parent", playing(remoteVideo("Mr Jones")))

	teacher.do("record", chromedp.Click(tid("toggle-recording")))
	clicked := time.Now()
	jones.waitFor("see REC", `!document.querySelector('[data-testid="rec-indicator"]').hidden`)
	t.Logf("REC shown to the parent %v after the teacher clicked", time.Since(clicked).Round(time.Millisecond))
	teacher.waitFor("see REC", `!document.querySelector('[data-testid="rec-indicator"]').hidden`)
	if !strings.Contains(teacher.text(tid("toggle-recording")), "Stop recording") {
		t.Errorf("the record button says %q", teacher.text(tid("toggle-recording")))
	}
	jones.waitFor("be asked", `!document.querySelector('[data-testid="consent-dialog"]').hidden`)
	teacher.do("open the people panel", chromedp.Click(tid("people-toggle")))
	teacher.waitFor("see Mr Jones has not answered", `[...document.querySelectorAll('[data-testid="consent-entry"]')].some(e => e.textContent.includes('Mr Jones') && e.dataset.answer === 'pending')`)
	jones.do("agree", chromedp.Click(tid("consent-accept")))
	teacher.waitFor("see Mr Jones agreed", `[...document.querySelectorAll('[data-testid="consent-entry"]')].some(e => e.textContent.includes('Mr Jones') && e.dataset.answer === 'accepted')`)
	jones.waitFor("be told they are recorded", `document.querySelector('[data-testid="consent-status"]').textContent.includes('You agreed')`)

	// Someone opening their link now is told before they join.
	patel := newPerson(t, chromium, "Mrs Patel")
	patel.do("open the link", chromedp.Navigate(srv.URL+links[1]), chromedp.WaitVisible(tid("recording-now")))

	time.Sleep(5 * time.Second)
	teacher.do("stop recording",
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true`),
		chromedp.Click(tid("toggle-recording")),
	)
	jones.waitFor("see REC go", `document.querySelector('[data-testid="rec-indicator"]').hidden`)

	teacher.do("open the recordings", chromedp.Navigate(srv.URL+"/meetings/"+mid+"/recordings"), chromedp.WaitVisible(tid("recording")))
	testclock.WaitFor(t, "the recording to be available", 60*time.Second, func() bool {
		if teacher.text(tid("recording-state")) == "available" {
			return true
		}
		teacher.do("reload", chromedp.Reload(), chromedp.WaitVisible(tid("recording")))
		return false
	})
	href := eval[string](teacher, `[...document.querySelectorAll('[data-testid="recorded-person"]')].find(p => p.querySelector('[data-testid="recorded-name"]').textContent === 'Mr Jones').querySelector('[data-testid="download-webm"]').href`)
	webm := filepath.Join(t.TempDir(), "jones.webm")
	teacher.fetchFile(href, webm)
	d := ffcheck(t, webm, "Mr Jones's WebM")
	out, _ := exec.Command("ffprobe", "-v", "error", "-show_entries", "stream=codec_name", "-of", "default=nw=1:nk=1", webm).Output()
	t.Logf("Mr Jones's WebM: %.2f s, streams %s", d, strings.Fields(string(out)))
	if d < 4.5 || !strings.Contains(string(out), "opus") || !strings.Contains(string(out), "vp8") {
		t.Errorf("Mr Jones's WebM: %.2f s, streams %q", d, out)
	}

	// Chromium's own tracks, as recorded: clean too.
	for _, kind := range []string{"video", "audio"} {
		href := eval[string](teacher, `[...document.querySelectorAll('[data-testid="recorded-person"]')].find(p => p.querySelector('[data-testid="recorded-name"]').textContent === 'Mr Jones').querySelector('[data-testid="download-`+kind+`"]').href`)
		path := filepath.Join(t.TempDir(), "jones-"+kind)
		teacher.fetchFile(href, path)
		ffcheck(t, path, "Mr Jones's "+kind)
	}

	teacher.do("open the playback page", chromedp.Click(tid("play-recording")), chromedp.WaitVisible(tid("playback")))
	if n := eval[int](teacher, `document.querySelectorAll('[data-testid="playback-video"]').length`); n != 2 {
		t.Errorf("%d videos on the playback page, want the teacher's and Mr Jones's", n)
	}
	teacher.do("play", chromedp.Click(tid("playback-play")))
	teacher.waitFor("the recording plays", `[...document.querySelectorAll('[data-testid="playback-video"]')].every(v => v.currentTime > 1.5 && !v.paused && v.videoWidth > 0)`)
	resp, err := http.Get(href) // not signed in
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Errorf("the download link without a session: %d", resp.StatusCode)
	}
}
