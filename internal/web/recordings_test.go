package web_test

import (
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"classmeet/internal/recorder"
	"classmeet/internal/schedule"
	"classmeet/internal/store"
)

// seedRecording stores a finished recording of a meeting with one file, as
// the recorder leaves one: rows in the database, the object in the store.
func (e *env) seedRecording(meetingID uuid.UUID, content []byte) (store.Recording, store.RecordingFile) {
	e.t.Helper()
	ctx := context.Background()
	start := e.clock.Now().Add(-time.Hour)
	stop := start.Add(10 * time.Minute)
	rec := store.Recording{ID: uuid.New(), MeetingID: meetingID, StartedBy: "Name of a@school.example", StartedAt: start, State: store.RecordingActive}
	if err := e.store.CreateRecording(ctx, rec); err != nil {
		e.t.Fatal(err)
	}
	pid := uuid.New()
	f := store.RecordingFile{
		ID: uuid.New(), RecordingID: rec.ID, ParticipantID: &pid, ParticipantName: "Mrs Parent", Kind: store.FileWebM,
		Source: "camera", Codec: "webm", Segment: 1, State: store.FileWriting, StartedAt: &start,
		SpoolName: rec.ID.String() + "/x.webm",
	}
	f.ObjectKey = "recordings/" + meetingID.String() + "/" + rec.ID.String() + "/" + f.ID.String() + ".webm"
	if err := e.store.AddRecordingFile(ctx, f); err != nil {
		e.t.Fatal(err)
	}
	src := filepath.Join(e.t.TempDir(), "f.webm")
	if err := os.WriteFile(src, content, 0o600); err != nil {
		e.t.Fatal(err)
	}
	info, err := e.blob.Put(ctx, f.ObjectKey, src, "video/webm")
	if err != nil {
		e.t.Fatal(err)
	}
	f.State, f.SizeBytes, f.SHA256, f.DurationMS = store.FileUploaded, info.Size, info.SHA256, 600_000
	if err := e.store.UpdateRecordingFile(ctx, f); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.SetConsent(ctx, store.Consent{RecordingID: rec.ID, ParticipantID: uuid.New(), ParticipantName: "Mr Declined", AnsweredAt: start}); err != nil {
		e.t.Fatal(err)
	}
	m, _ := json.Marshal(recorder.Manifest{
		Version: 1, RecordingID: rec.ID.String(), MeetingID: meetingID.String(), StartedAt: start, StoppedAt: stop, DurationMS: 600_000,
		Participants: []recorder.ManifestParticipant{{ID: pid.String(), Name: "Mrs Parent", Playable: []recorder.ManifestFile{{
			FileID: f.ID.String(), File: "Mrs Parent.webm", Kind: "webm", Source: "camera", DurationMS: 600_000,
		}}}},
	})
	if err := e.store.SetRecordingManifest(ctx, rec.ID, m); err != nil {
		e.t.Fatal(err)
	}
	if err := e.store.SetRecordingState(ctx, rec.ID, store.RecordingAvailable, &stop, false); err != nil {
		e.t.Fatal(err)
	}
	rec.State, rec.StoppedAt = store.RecordingAvailable, &stop
	return rec, f
}

// setAccess changes who may download the meeting's recordings, through the form.
func (b *browser) setAccess(meetingPath, access string) {
	b.e.t.Helper()
	start := b.e.clock.Now().Add(48 * time.Hour).In(mustZone("Europe/London"))
	p := b.post(meetingPath, url.Values{
		"title": {"Parents' evening"}, "date": {start.Format("2006-01-02")}, "time": {"16:30"}, "duration": {"30"},
		"time_zone": {"Europe/London"}, "lobby_policy": {"everyone_waits"}, "recording_policy": {"host_may_record"},
		"recording_access": {access}, "unmute_policy": {"self"}, "screen_share_policy": {"hosts"},
	})
	if p.status != http.StatusSeeOther {
		b.e.t.Fatalf("set recording access: %d %s", p.status, p.doc.Find(".error").Text())
	}
}

func TestRecordingAccess(t *testing.T) {
	e := newEnv(t)
	e.user("a@school.example", store.RoleTeacher)
	e.user("b@school.example", store.RoleTeacher)
	e.user("admin@school.example", store.RoleAdmin)
	a := e.login("a@school.example")
	meeting := a.meeting("Parents' evening")
	parentLink := a.invite(meeting, "Mrs Parent")
	otherMeeting := a.meeting("Another meeting")
	otherParentLink := a.invite(otherMeeting, "Mr Other")
	mid := uuid.MustParse(strings.TrimPrefix(meeting, "/meetings/"))
	content := bytes.Repeat([]byte("classmeet recording "), 5000)
	rec, file := e.seedRecording(mid, content)
	list := meeting + "/recordings"
	filePath := list + "/" + rec.ID.String() + "/files/" + file.ID.String()
	zipPath := list + "/" + rec.ID.String() + "/download"

	// The teacher: the list, the file (whole and ranged), the zip, playback.
	p := a.get(list)
	if p.status != http.StatusOK || p.doc.Find(tid("recording")).Length() != 1 || !strings.Contains(p.text(tid("declined")), "Mr Declined") ||
		p.text(tid("recorded-name")) != "Mrs Parent" || p.text(tid("recording-state")) != "available" {
		t.Fatalf("list: %d %q", p.status, p.text(tid("recording")))
	}
	if a.get(meeting).doc.Find(tid("recordings-link")).Length() != 1 {
		t.Error("the meeting page does not link to its recordings")
	}
	got := a.get(filePath + "?download=1")
	if sum := sha256.Sum256([]byte(got.body)); got.status != http.StatusOK || hex.EncodeToString(sum[:]) != file.SHA256 ||
		!strings.Contains(got.header.Get("Content-Disposition"), "Mrs Parent.webm") || got.header.Get("Content-Type") != "video/webm" {
		t.Errorf("download: %d %s %q", got.status, got.header.Get("Content-Disposition"), got.header.Get("Content-Type"))
	}
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+filePath, nil)
	req.Header.Set("Range", "bytes=20-39")
	if r := a.do(req); r.status != http.StatusPartialContent || r.body != string(content[20:40]) {
		t.Errorf("range: %d %q", r.status, r.body)
	}
	z := a.get(zipPath)
	zr, err := zip.NewReader(bytes.NewReader([]byte(z.body)), int64(len(z.body)))
	if err != nil || z.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("zip: %d %v", z.status, err)
	}
	if len(zr.File) != 1 || !strings.HasSuffix(zr.File[0].Name, "/Mrs Parent.webm") || zr.File[0].Method != zip.Store {
		t.Errorf("zip entries: %+v", zr.File)
	}
	if rc, err := zr.File[0].Open(); err == nil {
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(rc)
		if !bytes.Equal(buf.Bytes(), content) {
			t.Error("zip entry differs from the recording")
		}
	}

	// An administrator may see it too.
	if p := e.login("admin@school.example").get(list); p.status != http.StatusOK {
		t.Errorf("admin: %d", p.status)
	}

	// Another teacher, an anonymous visitor, the invitee while only the
	// host may download, another meeting's parent: all "not found".
	b := e.login("b@school.example")
	anon := e.browser()
	for name, tc := range map[string]struct {
		b    *browser
		path string
	}{
		"another teacher's list":        {b, list},
		"another teacher's download":    {b, filePath},
		"another teacher's zip":         {b, zipPath},
		"anonymous download":            {anon, filePath},
		"anonymous zip":                 {anon, zipPath},
		"invitee before access":         {anon, parentLink + "/recordings"},
		"invitee download before":       {anon, parentLink + "/recordings/" + rec.ID.String() + "/files/" + file.ID.String()},
		"forged link":                   {anon, "/j/" + strings.Repeat("A", 43) + "/recordings/" + rec.ID.String() + "/files/" + file.ID.String()},
		"recording of another meeting":  {a, otherMeeting + "/recordings/" + rec.ID.String() + "/files/" + file.ID.String()},
		"file id of another recording":  {a, list + "/" + uuid.NewString() + "/files/" + file.ID.String()},
		"unknown file":                  {a, list + "/" + rec.ID.String() + "/files/" + uuid.NewString()},
		"object key as an id":           {a, list + "/" + rec.ID.String() + "/files/" + url.PathEscape(file.ObjectKey)},
		"another meeting's parent":      {anon, otherParentLink + "/recordings/" + rec.ID.String() + "/files/" + file.ID.String()},
		"another meeting's parent list": {anon, otherParentLink + "/recordings"},
	} {
		if p := tc.b.get(tc.path); p.status != http.StatusNotFound && !(p.status == http.StatusBadRequest && name == "object key as an id") {
			t.Errorf("%s: %d, want 404", name, p.status)
		}
	}
	if p := b.post(list+"/"+rec.ID.String()+"/delete", nil); p.status != http.StatusNotFound {
		t.Errorf("another teacher deletes: %d", p.status)
	}

	// Once the meeting lets invitees download, their link does; the other
	// meeting's parent still cannot.
	a.setAccess(meeting, "invitees")
	parent := e.browser()
	if p := parent.get(parentLink); p.doc.Find(tid("invitee-recordings")).Length() != 1 {
		t.Error("the invitee's page does not link to the recordings")
	}
	if p := parent.get(parentLink + "/recordings"); p.status != http.StatusOK || p.doc.Find(tid("delete-recording")).Length() != 0 {
		t.Errorf("invitee list: %d", p.status)
	}
	inviteeFile := parentLink + "/recordings/" + rec.ID.String() + "/files/" + file.ID.String()
	if p := parent.get(inviteeFile + "?download=1"); p.status != http.StatusOK || p.body != string(content) {
		t.Errorf("invitee download: %d", p.status)
	}
	if p := parent.get(parentLink + "/recordings/" + rec.ID.String()); p.status != http.StatusOK || p.attr(tid("playback-video"), "src") != inviteeFile {
		t.Errorf("invitee playback: %d, video %q", p.status, p.attr(tid("playback-video"), "src"))
	}
	if p := anon.get(otherParentLink + "/recordings/" + rec.ID.String() + "/files/" + file.ID.String()); p.status != http.StatusNotFound {
		t.Errorf("another meeting's parent after access: %d", p.status)
	}

	// Path traversal in every id: refused before anything is looked up.
	for _, bad := range []string{"..%2f..%2fetc%2fpasswd", "%2e%2e%2f", "..%5c..%5cwin.ini", "x%00", "../../../etc/passwd"} {
		for _, path := range []string{
			"/meetings/" + bad + "/recordings",
			list + "/" + bad,
			list + "/" + bad + "/files/" + file.ID.String(),
			list + "/" + rec.ID.String() + "/files/" + bad,
			list + "/" + rec.ID.String() + "/" + bad,
			"/j/" + bad + "/recordings",
			parentLink + "/recordings/" + bad + "/files/" + file.ID.String(),
			parentLink + "/recordings/" + rec.ID.String() + "/files/" + bad,
		} {
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
			req.URL.RawPath = "" // send the path as written
			req.URL.Opaque = strings.TrimPrefix(e.srv.URL+path, "http:")
			if p := a.do(req); p.status != http.StatusBadRequest && p.status != http.StatusNotFound {
				t.Errorf("%s: %d, want 400 or 404", path, p.status)
			}
		}
	}

	// An expired link stops working. The clock moves to just past the
	// meeting's own link expiry, not a fixed step: the meeting starts at a
	// wall-clock time, so a fixed step would expire it only at some hours.
	m, err := e.store.MeetingWithHost(context.Background(), mid)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(schedule.LinkExpiry(m.Meeting, e.cfg.LinkValidity).Add(time.Minute))
	if p := parent.get(inviteeFile); p.status != http.StatusNotFound {
		t.Errorf("expired link: %d", p.status)
	}

	// The teacher deletes it: the object goes, and the audit log says who
	// downloaded and who deleted. Days have passed: the teacher's session
	// has expired, so they sign in again.
	a = e.login("a@school.example")
	if p := a.post(list+"/"+rec.ID.String()+"/delete", nil); p.status != http.StatusSeeOther {
		t.Fatalf("delete: %d", p.status)
	}
	if _, err := e.blob.Open(context.Background(), file.ObjectKey); err == nil {
		t.Error("the object survived deletion")
	}
	if p := a.get(filePath); p.status != http.StatusNotFound {
		t.Errorf("download after delete: %d", p.status)
	}
	events, err := e.store.MeetingAudit(context.Background(), mid)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, ev := range events {
		action := ev.Action
		if strings.HasSuffix(action, ".zip") {
			action = "downloaded the zip" // named by the meeting and the hour it was recorded
		}
		seen[action+" by "+ev.ActorName]++
	}
	if seen["downloaded Mrs Parent.webm by Name of a@school.example"] != 1 || seen["downloaded the zip by Name of a@school.example"] != 1 ||
		seen["downloaded Mrs Parent.webm by Mrs Parent"] != 1 || seen["deleted recording by Name of a@school.example"] != 1 {
		t.Errorf("audit: %v", seen)
	}
}
