package loadtest_test

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"strings"
	"testing"
	"time"

	"classmeet/internal/loadtest"
	"classmeet/internal/testclock"
	"classmeet/internal/testserver"
)

// runAgainst runs a scenario against a fresh test server in this process,
// whose CPU and memory are the server's (and the generator's: one process).
func runAgainst(t *testing.T, cfg loadtest.Config) *loadtest.Report {
	t.Helper()
	srv := testserver.Start(t, nil)
	cfg.URL, cfg.Email, cfg.Password = srv.URL, srv.Teacher.Email, testserver.TeacherPassword
	cfg.ServerPID, cfg.Now, cfg.Duration = os.Getpid(), testclock.Now, 5*time.Second
	if os.Getenv("CLASSMEET_TEST_LOG") != "" {
		cfg.Log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	rep, err := loadtest.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var table bytes.Buffer
	if err := rep.WriteTable(&table); err != nil {
		t.Fatal(err)
	}
	t.Log("\n" + table.String())
	return rep
}

// checkComplete checks every figure of a report is there and plausible:
// media reached each timed participant, joins went through their phases in
// order, nothing stayed lost once NACKs had their chance, and the server's
// cost was read. Not a speed assertion.
func checkComplete(t *testing.T, rep *loadtest.Report, sinks int) {
	t.Helper()
	if len(rep.PacketsPerSink) != sinks || rep.Subscribers != sinks {
		t.Fatalf("%d sinks reported (%d timed), want %d", len(rep.PacketsPerSink), rep.Subscribers, sinks)
	}
	for i, n := range rep.PacketsPerSink {
		if n == 0 {
			t.Errorf("sink %d received nothing", i)
		}
	}
	if rep.SentPackets == 0 || rep.DeliveredPPS <= 0 || rep.DeliveredMbps <= 0 || rep.WindowS <= 0 {
		t.Errorf("no throughput: sent %d, %.1f packets/s, %.2f Mbit/s over %.1f s", rep.SentPackets, rep.DeliveredPPS, rep.DeliveredMbps, rep.WindowS)
	}
	if rep.Expected == 0 || rep.LossAfterNACK > 0.001 || rep.LossBeforeNACK < rep.LossAfterNACK {
		t.Errorf("loss: %.5f before NACK, %.5f after, of %d expected", rep.LossBeforeNACK, rep.LossAfterNACK, rep.Expected)
	}
	if len(rep.JoinPhases) != 5 {
		t.Fatalf("join phases: %+v", rep.JoinPhases)
	}
	for i, ph := range rep.JoinPhases {
		if ph.P50ms <= 0 || ph.P95ms < ph.P50ms {
			t.Errorf("phase %s: p50 %.1f ms, p95 %.1f ms", ph.Name, ph.P50ms, ph.P95ms)
		}
		if i > 0 && ph.P50ms < rep.JoinPhases[i-1].P50ms {
			t.Errorf("phase %s (p50 %.1f ms) before %s (%.1f ms)", ph.Name, ph.P50ms, rep.JoinPhases[i-1].Name, rep.JoinPhases[i-1].P50ms)
		}
	}
	if rep.LatencyP50ms <= 0 || rep.LatencyP99ms < rep.LatencyP50ms {
		t.Errorf("latency: p50 %.2f ms, p99 %.2f ms", rep.LatencyP50ms, rep.LatencyP99ms)
	}
	s := rep.Server
	if s == nil || s.CPUUsPerPacket <= 0 || s.CPUSecondsPerGbit <= 0 || s.RSSBeforeMiB <= 0 || s.RSSDuringMiB <= 0 || s.ThreadsDuring <= 0 {
		t.Errorf("server cost: %+v", s)
	}
	if g := rep.Generator; g.GOMAXPROCS <= 0 || g.Ticks == 0 || !g.SelfIsServerPID {
		t.Errorf("generator: %+v", g)
	}
	b, err := json.Marshal(rep)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"delivered_mbps", "loss_after_nack", "join_to_first_frame", "first_keyframe", "latency_p99_ms", "cpu_us_per_packet", "rss_per_participant_mib", "gomaxprocs"} {
		if !strings.Contains(string(b), `"`+key+`"`) {
			t.Errorf("JSON report lacks %s: %s", key, b)
		}
	}
}

// TestLectureReportIsComplete runs `classmeet loadtest lecture` briefly: a
// host publishing camera and microphone, three subscribers admitted from
// the lobby, 5 s of media.
func TestLectureReportIsComplete(t *testing.T) {
	rep := runAgainst(t, loadtest.Config{Scenario: loadtest.Lecture, M: 3})
	checkComplete(t, rep, 3)
	if rep.Participants != 4 || rep.Publishers != 1 {
		t.Errorf("%d participants, %d publishing; want 4 and 1", rep.Participants, rep.Publishers)
	}
}

// TestMeetingReportIsComplete: three participants all to all.
func TestMeetingReportIsComplete(t *testing.T) {
	rep := runAgainst(t, loadtest.Config{Scenario: loadtest.Meeting, N: 3})
	checkComplete(t, rep, 2)
	if rep.Participants != 3 || rep.Publishers != 3 {
		t.Errorf("%d participants, %d publishing; want 3 and 3", rep.Participants, rep.Publishers)
	}
}
