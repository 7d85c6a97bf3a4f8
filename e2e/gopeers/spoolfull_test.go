package gopeers

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"golang.org/x/sys/unix"

	"classmeet/internal/meeting"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testserver"
)

// smallSpool makes dataDir/spool a tmpfs of size (mount's syntax), so
// the recorder's spool can fill up; it needs root.
func smallSpool(t *testing.T, dataDir, size string) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("a spool on a small filesystem needs root to mount a tmpfs")
	}
	spool := filepath.Join(dataDir, "spool")
	if err := os.MkdirAll(spool, 0o750); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size, "tmpfs", spool).CombinedOutput(); err != nil {
		t.Fatalf("mount tmpfs: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", "--lazy", spool).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v\n%s", spool, err, out)
		}
	})
	return spool
}

// fill writes a ballast file in dir until about leave bytes are free.
func fill(t *testing.T, dir, name string, leave int64) {
	t.Helper()
	f, err := os.Create(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		var st unix.Statfs_t
		if err := unix.Statfs(dir, &st); err != nil {
			t.Fatal(err)
		}
		free := int64(st.Bavail) * int64(st.Bsize)
		if free <= leave {
			return
		}
		if _, err := f.Write(chunk[:min(int64(len(chunk)), free-leave)]); err != nil {
			return
		}
	}
}

// TestSpoolFullDuringMeeting: a parent's camera and microphone are
// recorded in a live meeting whose spool fills up. The recording stops of
// itself: the host is told why, REC goes off for everyone, and what was
// written is stored as partial and decodes. With the spool (almost) full,
// a new recording is refused with a message, and leaves nothing behind.
func TestSpoolFullDuringMeeting(t *testing.T) {
	dataDir := t.TempDir()
	spool := smallSpool(t, dataDir, "2m")
	s := testserver.Start(t, map[string]string{"CLASSMEET_DATA_DIR": dataDir, "CLASSMEET_SPOOL_MIN_FREE": "64KiB"})
	fill(t, spool, "ballast", 200<<10)

	mid, links := recordedMeeting(t, s, "Mrs Parent")
	host := s.Host(t, mid, testclient.Options{})
	id := startRecording(t, s, host, mid)
	parent := s.Parent(t, links[0], "Mrs Parent", testclient.Options{AutoConsent: "accept"})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	m, err := host.WaitFor(ctx, func(m meeting.ServerMessage) bool {
		e, ok := m.(*meeting.Error)
		return ok && e.Code == "recording_failed"
	})
	if err != nil {
		t.Fatalf("the host was not told the recording failed: %v", err)
	}
	failed := m.(*meeting.Error)
	if !strings.Contains(failed.Message, "space") {
		t.Errorf("the host is told %q", failed.Message)
	}
	for _, c := range []*testclient.Client{host, parent} {
		msg(t, c, func(r *meeting.Recording) bool { return !r.Active })
	}
	if on, _ := s.Hub.Recording(uuid.MustParse(mid)); on {
		t.Error("the pre-join page still says the meeting is recorded")
	}
	rec, files := stored(t, s, id, 60*time.Second)
	if rec.State != store.RecordingPartial {
		t.Fatalf("a recording cut short by a full spool is %s", rec.State)
	}
	dir, media := t.TempDir(), 0
	for _, f := range files {
		if f.State != store.FileUploaded {
			t.Errorf("%s: %s", f.Kind, f.State)
			continue
		}
		path := fetch(t, s, f, dir)
		if f.Kind != store.FileManifest {
			media++
			probeClean(t, path, f.Kind)
		}
	}
	if media == 0 {
		t.Error("nothing of what was written before the spool filled was kept")
	}

	fill(t, spool, "more ballast", 32<<10)
	if err := host.Send(&meeting.StartRecording{}); err != nil {
		t.Fatal(err)
	}
	refused := msg(t, host, func(e *meeting.Error) bool { return e.Code == "recording_failed" && e != failed })
	if !strings.Contains(refused.Message, "almost full") {
		t.Errorf("a refused start says %q", refused.Message)
	}
	waitFor(t, "REC off again for the parent", 10*time.Second, func() bool {
		off := 0
		for _, m := range parent.Messages() {
			if r, ok := m.(*meeting.Recording); ok && !r.Active {
				off++
			}
		}
		return off >= 2
	})
	waitFor(t, "the refused recording to be gone", 10*time.Second, func() bool {
		recs, err := s.Store.MeetingRecordings(context.Background(), rec.MeetingID)
		if err != nil || len(recs) != 1 {
			return false
		}
		return !s.Recorder.Busy(recs[0].ID)
	})
}
