package e2e

import (
	"context"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
)

func median(ds []time.Duration) time.Duration {
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

// host joins a meeting of the teacher's as its host, from Go.
func goHost(t *testing.T, srv *server, meetingID string) *testclient.Client {
	t.Helper()
	h, err := testclient.New(srv.URL, "host", testclient.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(h.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := h.Login(ctx, "smith@school.example", teacherPW); err != nil {
		t.Fatal(err)
	}
	if err := h.JoinAsHost(ctx, meetingID); err != nil {
		t.Fatal(err)
	}
	return h
}

// TestGoJoinToFirstFrame: parents arrive one after another at a meeting
// whose invitees come straight in; each must receive the host's video. The
// median time from asking to join to the first whole video frame is logged.
func TestGoJoinToFirstFrame(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	names := []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7"}
	mid, links := srv.seedMeeting(t, "smith@school.example", store.LobbyInviteesAdmitted, names...)
	host := goHost(t, srv, mid)
	var times []time.Duration
	for i, name := range names {
		c, err := testclient.New(srv.URL, name, testclient.Options{Logf: t.Logf})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		start := time.Now() // a measurement, not a date
		if err := c.JoinLink(ctx, links[i]); err != nil {
			t.Fatal(err)
		}
		testclock.WaitFor(t, name+"'s first video frame", 60*time.Second, func() bool {
			return c.Received(host.ID(), sfu.SourceCamera).Frames.Load() > 0
		})
		times = append(times, time.Since(start))
		cancel()
		c.Leave()
	}
	t.Logf("join to first remote video frame, %d Go joins: median %v (all: %v)", len(times), median(times).Round(time.Millisecond), times)
}

// TestServerCost: ten Go participants publishing and receiving in one
// meeting. Logged: the server's resident memory per participant once
// steady; then, in the same run, its CPU over 10 s without recording and
// 10 s recording all 20 tracks, and the memory the recording added per track
// (RSS moves in steps of the GC's heap goal: BenchmarkMemoryPerTrack in
// internal/recorder is the precise figure). Every
// participant must receive everyone's video, and every track be recorded.
func TestServerCost(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	names := []string{"p1", "p2", "p3", "p4", "p5", "p6", "p7", "p8", "p9"}
	mid, links := srv.seedMeeting(t, "smith@school.example", store.LobbyInviteesAdmitted, names...)
	time.Sleep(time.Second)
	idle := rss(t, srv.Pid())
	host := goHost(t, srv, mid)
	all := []*testclient.Client{host}
	for i, name := range names {
		c, err := testclient.New(srv.URL, name, testclient.Options{Logf: t.Logf, AutoConsent: "accept"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(c.Close)
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		if err := c.JoinLink(ctx, links[i]); err != nil {
			t.Fatal(err)
		}
		cancel()
		all = append(all, c)
	}
	testclock.WaitFor(t, "everyone's video at everyone", 60*time.Second, func() bool {
		for _, a := range all {
			for _, b := range all {
				if a != b && a.Received(b.ID(), sfu.SourceCamera).Frames.Load() == 0 {
					return false
				}
			}
		}
		return true
	})
	// Steady state: each forwarded video stream's NACK cache (512 packets)
	// fills within 20 s at the fixture's rate; memory is flat after that.
	time.Sleep(25 * time.Second)
	busy := rss(t, srv.Pid())
	t.Logf("server RSS: %d MiB idle, %d MiB with 10 participants each sending audio+video and receiving 18 tracks: %.1f MiB per participant",
		idle>>20, busy>>20, float64(busy-idle)/10/(1<<20))

	const span = 10 * time.Second
	off := cpuOver(t, srv.Pid(), span)
	if err := host.Send(&meeting.StartRecording{}); err != nil {
		t.Fatal(err)
	}
	st := srv.openStore(t)
	testclock.WaitFor(t, "every track to be written", 60*time.Second, func() bool {
		recs, _ := st.MeetingRecordings(context.Background(), uuid.MustParse(mid))
		if len(recs) != 1 {
			return false
		}
		files, _ := st.RecordingFiles(context.Background(), recs[0].ID)
		return len(files) >= 20
	})
	on := cpuOver(t, srv.Pid(), span)
	recording := rss(t, srv.Pid())
	t.Logf("server CPU, 10 participants publishing: %.1f%% of a core not recording, %.1f%% recording 20 tracks: the recorder adds %.1f%% (%.2f%% per track); RSS %d MiB, %+.0f KiB per recorded track",
		100*off, 100*on, 100*(on-off), 100*(on-off)/20, recording>>20, float64(recording-busy)/20/1024)
	if err := host.Send(&meeting.StopRecording{}); err != nil {
		t.Fatal(err)
	}
	var files []store.RecordingFile
	testclock.WaitFor(t, "the recording to be stored", 60*time.Second, func() bool {
		recs, _ := st.MeetingRecordings(context.Background(), uuid.MustParse(mid))
		if len(recs) == 1 && recs[0].State == store.RecordingAvailable {
			files, _ = st.RecordingFiles(context.Background(), recs[0].ID)
			return true
		}
		return false
	})
	tracks := 0
	for _, f := range files {
		if f.Kind == store.FileAudio || f.Kind == store.FileVideo {
			tracks++
		}
	}
	if tracks != 20 {
		t.Errorf("%d tracks recorded, want 20", tracks)
	}
	for _, c := range all {
		c.Leave()
	}
}

// cpuOver is the share of one core a process used over d.
func cpuOver(t *testing.T, pid int, d time.Duration) float64 {
	t.Helper()
	before := cpuTicks(t, pid)
	start := time.Now()
	time.Sleep(d)
	used := time.Duration(cpuTicks(t, pid)-before) * 10 * time.Millisecond // USER_HZ is 100 on Linux
	return used.Seconds() / time.Since(start).Seconds()
}

// cpuTicks is a process's user and system time in clock ticks.
func cpuTicks(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		t.Fatal(err)
	}
	// Fields after the command name (which may hold spaces) in parentheses.
	f := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+2:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	return utime + stime
}

// rss reads a process's resident set size in bytes.
func rss(t *testing.T, pid int) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb << 10
		}
	}
	t.Fatal("no VmRSS")
	return 0
}

// TestBrowserJoinToFirstFrame: a parent in Chromium joins a meeting (its
// invitees come straight in) five times; the median time from pressing Join
// to the first decoded frame of the host's video is logged.
func TestBrowserJoinToFirstFrame(t *testing.T) {
	srv := startServer(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	mid, links := srv.seedMeeting(t, "smith@school.example", store.LobbyInviteesAdmitted, "Mr Jones")
	goHost(t, srv, mid)
	chromium := newChromium(t)
	parent := newPerson(t, chromium, "parent")
	var times []time.Duration
	for range 5 {
		parent.do("open the link", chromedp.Navigate(srv.URL+links[0]), chromedp.WaitEnabled(tid("join")))
		parent.waitFor("the camera to start", `document.querySelector('[data-testid="preview"]').videoWidth > 0`)
		parent.do("press Join", chromedp.Evaluate[chromedp.Void](`window.t0 = performance.now(); document.querySelector('[data-testid="join"]').click()`))
		parent.waitFor("the host's first frame", `(() => {
			const v = `+remoteVideo("host")+`;
			if (v && v.videoWidth > 0 && !window.t1) window.t1 = performance.now();
			return !!window.t1;
		})()`)
		ms := eval[float64](parent, `window.t1 - window.t0`)
		times = append(times, time.Duration(ms*float64(time.Millisecond)))
		parent.do("leave", chromedp.Click(tid("leave")), chromedp.WaitVisible(tid("finished")))
	}
	t.Logf("join to first remote video frame, %d browser joins: median %v (all: %v)", len(times), median(times).Round(time.Millisecond), times)
}
