package metrics_test

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"classmeet/internal/meeting"
	"classmeet/internal/metrics"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
	"classmeet/internal/testserver"
)

// scrape is one reading of /metrics: the text and its parsed families.
type scrape struct {
	text     string
	families map[string]*dto.MetricFamily
}

func scrapeAt(t *testing.T, url string) scrape {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return scrape{text: string(body), families: fams}
}

// value is the sample of name whose labels include want (name=value pairs);
// histograms give their count.
func (s scrape) value(name string, want ...string) float64 {
	f := s.families[name]
	if f == nil {
		return -1
	}
	for _, m := range f.GetMetric() {
		if hasLabels(m, want) {
			switch {
			case m.Counter != nil:
				return m.GetCounter().GetValue()
			case m.Gauge != nil:
				return m.GetGauge().GetValue()
			case m.Histogram != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return -1
}

func hasLabels(m *dto.Metric, want []string) bool {
	for i := 0; i+1 < len(want); i += 2 {
		found := false
		for _, l := range m.GetLabel() {
			found = found || (l.GetName() == want[i] && l.GetValue() == want[i+1])
		}
		if !found {
			return false
		}
	}
	return true
}

// TestMetricsDuringMeeting scrapes /metrics on its own listener while a host
// and a parent exchange media through the real SFU: the forwarding counters
// move between two scrapes, the census counts the two in the room, a parent's
// host-only command shows as a refusal, and no label carries a name, title,
// id or token.
func TestMetricsDuringMeeting(t *testing.T) {
	s := testserver.Start(t, nil)
	reg := metrics.NewRegistry(metrics.Sources{
		SFU: s.SFU.Counters(), Meetings: s.Hub, Signals: s.Signals, Database: s.Store, Journal: s.Outbox, Spool: s.Recorder, Log: s.Log,
	})
	srv, err := metrics.Listen("127.0.0.1:0", reg, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = srv.Close(context.Background()) })
	url := "http://" + srv.Addr().String() + "/metrics"

	const parentName = "Zebedee Quartermaine"
	mid, links := s.Meeting(t, store.LobbyEveryoneWaits, parentName)
	host := s.Host(t, mid, testclient.Options{})
	parent := s.Parent(t, links[0], parentName, testclient.Options{})
	testclient.Expect(t, host, func(l *meeting.Lobby) bool { return len(l.Entries) == 1 })
	if err := host.Send(&meeting.AdmitAll{}); err != nil {
		t.Fatal(err)
	}
	testclient.Expect[*meeting.Admitted](t, parent, nil)
	testclient.HearEachOther(t, []*testclient.Client{host, parent})

	first := scrapeAt(t, url)
	packets0, bytes0 := first.value("classmeet_forwarded_packets_total"), first.value("classmeet_forwarded_bytes_total")
	var now scrape
	testclock.WaitFor(t, "forwarded packets and bytes to grow between scrapes", 20*time.Second, func() bool {
		now = scrapeAt(t, url)
		return now.value("classmeet_forwarded_packets_total") > packets0 && now.value("classmeet_forwarded_bytes_total") > bytes0
	})
	if packets0 <= 0 || bytes0 <= 0 {
		t.Errorf("media flowed before the first scrape, yet it counted %v packets, %v bytes", packets0, bytes0)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"classmeet_rooms", nil, 1},
		{"classmeet_participants", []string{"presence", "room"}, 2},
		{"classmeet_participants", []string{"presence", "lobby"}, 0},
		{"classmeet_tracks_published", []string{"kind", "audio"}, 2},
		{"classmeet_tracks_published", []string{"kind", "video"}, 2},
		{"classmeet_join_to_first_frame_seconds", nil, 2}, // one per peer
	} {
		if got := now.value(c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	for _, name := range []string{"classmeet_recordings", "classmeet_mail_queue", "classmeet_spool_free_bytes", "classmeet_journal_pending", "go_goroutines", "process_resident_memory_bytes"} {
		if now.families[name] == nil {
			t.Errorf("no %s in /metrics", name)
		}
	}
	if now.value("classmeet_signaling_messages_total", "direction", "in", "type", "offer") < 2 ||
		now.value("classmeet_signaling_messages_total", "direction", "out", "type", "welcome") < 2 {
		t.Errorf("signaling messages not counted:\n%s", grep(now.text, "classmeet_signaling_messages_total"))
	}

	// A parent may not mute everyone: the refusal is counted by its reason.
	refused0 := max(0, now.value("classmeet_signaling_refusals_total", "reason", "not_allowed"))
	if err := parent.Send(&meeting.MuteAll{Kind: "audio"}); err != nil {
		t.Fatal(err)
	}
	testclient.Expect(t, parent, func(e *meeting.Error) bool { return e.Code == "not_allowed" })
	testclock.WaitFor(t, "the refusal to be counted", 20*time.Second, func() bool {
		now = scrapeAt(t, url)
		return now.value("classmeet_signaling_refusals_total", "reason", "not_allowed") >= refused0+1
	})

	// Nothing that says who or which: names, the title, ids, links, the
	// secret; a join token (a JWT: capitals, digits, dots) could not pass
	// the shape every label value has below.
	secrets := []string{
		parentName, "Quartermaine", s.Teacher.Name, testserver.Plan(store.LobbyEveryoneWaits).Title, mid,
		host.ID(), parent.ID(), strings.TrimPrefix(links[0], "/j/"), testserver.Secret,
	}
	for _, secret := range secrets {
		if strings.Contains(now.text, secret) {
			t.Errorf("/metrics contains %q", secret)
		}
	}
	fixed := regexp.MustCompile(`^[a-z][a-z_]*$`)
	for name, f := range now.families {
		if !strings.HasPrefix(name, "classmeet_") {
			continue
		}
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if !fixed.MatchString(l.GetValue()) {
					t.Errorf("%s{%s=%q}: a label value outside the fixed sets' shape", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}

func grep(text, prefix string) string {
	var b strings.Builder
	for line := range strings.Lines(text) {
		if strings.HasPrefix(line, prefix) {
			b.WriteString(line)
		}
	}
	return b.String()
}
