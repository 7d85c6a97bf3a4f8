package loadtest

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"
)

// Report is what a run measured. Durations are in milliseconds, rates per
// second over the measured window.
type Report struct {
	Scenario     string  `json:"scenario"`
	Participants int     `json:"participants"` // everyone, host included
	Publishers   int     `json:"publishers"`
	Subscribers  int     `json:"subscribers"` // those whose join is timed
	WindowS      float64 `json:"window_s"`
	Recording    bool    `json:"recording"`

	DeliveredMbps float64 `json:"delivered_mbps"`
	DeliveredPPS  float64 `json:"delivered_pps"`
	SentPackets   uint64  `json:"sent_packets"`
	// PacketsPerSink: what each timed subscriber received in the whole run.
	PacketsPerSink []uint64 `json:"packets_per_sink"`

	Expected       uint64  `json:"expected_packets"` // by sequence numbers, all receivers
	LossBeforeNACK float64 `json:"loss_before_nack"` // fraction: gaps on first arrival
	LossAfterNACK  float64 `json:"loss_after_nack"`  // fraction: never arrived
	Duplicates     uint64  `json:"duplicates"`

	JoinPhases   []Phase `json:"join_to_first_frame"`
	LatencyP50ms float64 `json:"latency_p50_ms"`
	LatencyP99ms float64 `json:"latency_p99_ms"`

	Joins    int `json:"joins"`     // churn: joins that reached first media
	JoinFail int `json:"join_fail"` // joins that did not

	Server    *ServerCost `json:"server,omitempty"`
	Generator Generator   `json:"generator"`
	Invalid   string      `json:"invalid,omitempty"` // why the result is not to be trusted
}

// Phase is one step of joining, from asking to join, over the subscribers.
type Phase struct {
	Name  string  `json:"phase"`
	P50ms float64 `json:"p50_ms"`
	P95ms float64 `json:"p95_ms"`
}

// phaseNames are the join phases, in order.
func phaseNames() []string {
	return []string{"signaling", "ice_connected", "dtls_connected", "first_rtp", "first_keyframe"}
}

// ServerCost is what the server process spent, read from /proc.
type ServerCost struct {
	CPUUsPerPacket       float64 `json:"cpu_us_per_packet"`
	CPUSecondsPerGbit    float64 `json:"cpu_s_per_gbit"` // also cores per Gbit/s
	CPUPercent           float64 `json:"cpu_percent"`    // of one core
	RSSBeforeMiB         float64 `json:"rss_before_mib"`
	RSSDuringMiB         float64 `json:"rss_during_mib"`
	RSSPerParticipantMiB float64 `json:"rss_per_participant_mib"`
	ThreadsBefore        int     `json:"threads_before"`
	ThreadsDuring        int     `json:"threads_during"`
	GoroutinesBefore     int     `json:"goroutines_before,omitempty"`
	GoroutinesDuring     int     `json:"goroutines_during,omitempty"`
	// AllocsPerPacket is the server's heap allocations (of all its work)
	// per packet delivered, from go_memstats_mallocs_total (--metrics-url).
	AllocsPerPacket float64 `json:"allocs_per_packet,omitempty"`
}

// Generator is the load generator's own state: saturated, it measures itself.
type Generator struct {
	GOMAXPROCS      int     `json:"gomaxprocs"`
	CPUPercent      float64 `json:"cpu_percent"` // of what GOMAXPROCS allows
	Ticks           uint64  `json:"send_ticks"`
	LateTicks       uint64  `json:"late_ticks"` // > 5 ms behind schedule
	MaxLagMs        float64 `json:"max_lag_ms"`
	SelfIsServerPID bool    `json:"self_is_server,omitempty"` // in-process: CPU counts both
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// WriteTable writes the report for people.
func (r *Report) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	p := func(k, f string, a ...any) { fmt.Fprintf(tw, "%s\t"+f+"\n", append([]any{k}, a...)...) }
	p("scenario", "%s (%d participants, %d publishing, %d timed joins, recording %v)", r.Scenario, r.Participants, r.Publishers, r.Subscribers, r.Recording)
	p("window", "%.1f s", r.WindowS)
	p("delivered", "%.2f Mbit/s, %.0f packets/s", r.DeliveredMbps, r.DeliveredPPS)
	p("loss before NACK", "%.4f %%", 100*r.LossBeforeNACK)
	p("loss after NACK", "%.4f %% (%d expected, %d duplicates)", 100*r.LossAfterNACK, r.Expected, r.Duplicates)
	for _, ph := range r.JoinPhases {
		p("join: "+ph.Name, "p50 %.0f ms, p95 %.0f ms", ph.P50ms, ph.P95ms)
	}
	if r.Joins+r.JoinFail > 0 {
		p("joins", "%d reached media, %d failed", r.Joins, r.JoinFail)
	}
	p("added latency", "p50 %.2f ms, p99 %.2f ms", r.LatencyP50ms, r.LatencyP99ms)
	if s := r.Server; s != nil {
		p("server CPU", "%.2f us/packet, %.2f s/Gbit, %.0f %% of a core", s.CPUUsPerPacket, s.CPUSecondsPerGbit, s.CPUPercent)
		p("server RSS", "%.1f MiB before, %.1f MiB during: %.2f MiB per participant", s.RSSBeforeMiB, s.RSSDuringMiB, s.RSSPerParticipantMiB)
		p("server threads", "%d before, %d during", s.ThreadsBefore, s.ThreadsDuring)
		if s.GoroutinesBefore > 0 {
			p("server goroutines", "%d before, %d during", s.GoroutinesBefore, s.GoroutinesDuring)
			p("server allocations", "%.2f per packet delivered", s.AllocsPerPacket)
		}
	}
	g := r.Generator
	p("generator", "%.0f %% of %d CPUs, %d of %d send ticks late, max lag %.1f ms", g.CPUPercent, g.GOMAXPROCS, g.LateTicks, g.Ticks, g.MaxLagMs)
	if r.Invalid != "" {
		p("RESULT INVALID", "%s", r.Invalid)
	}
	return tw.Flush()
}
