package metrics

import (
	"context"
	"maps"
	"slices"

	"github.com/prometheus/client_golang/prometheus"

	"classmeet/internal/sfu"
)

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("classmeet_"+name, help, labels, nil)
}

var (
	descRooms        = desc("rooms", "Meetings live now.")
	descParticipants = desc("participants", "Participants of live meetings, by presence (lobby, room, away: reconnecting).", "presence")
	descSFURooms     = desc("sfu_rooms", "Media rooms open in the SFU.")
	descTracks       = desc("tracks_published", "Tracks being published, by kind.", "kind")
	descPackets      = desc("forwarded_packets_total", "RTP packets written to subscribers.")
	descBytes        = desc("forwarded_bytes_total", "RTP bytes (header and payload) written to subscribers.")
	descDrops        = desc("dropped_packets_total", "Packets not forwarded to a subscriber, by reason (queue_full, waiting_for_keyframe).", "reason")
	descNACKs        = desc("nacks_received_total", "RTCP NACK messages received from subscribers.")
	descRetransmits  = desc("retransmitted_packets_total", "Packets resent to subscribers in answer to their NACKs.")
	descPLIsSent     = desc("plis_sent_total", "Keyframe requests (PLI) sent to publishers.")
	descPLIsReceived = desc("plis_received_total", "Keyframe requests (PLI, FIR) received from subscribers.")
	descFeedback     = desc("twcc_feedback_total", "Transport-wide congestion control feedback messages from subscribers, by what read them: the server's own SRTCP path (wire) or pion's.", "read_by")
	descFirstFrame   = desc("join_to_first_frame_seconds", "From a peer joining its media room to the first media packet written to it.")
	descMessages     = desc("signaling_messages_total", "Signaling messages, by direction (in, out) and type.", "direction", "type")
	descRefusals     = desc("signaling_refusals_total", "Error messages sent to clients (refused or failed requests), by reason.", "reason")
	descJournal      = desc("journal_pending", "Meeting journal writes (attendance, chat, audit) waiting for the database.")
	descMail         = desc("mail_queue", "Mail not sent yet, by state (waiting, failed).", "state")
	descRecordings   = desc("recordings", "Recordings, by state.", "state")
	descSpoolFree    = desc("spool_free_bytes", "Bytes recordings may still write to the spool's disk.")
)

// collector reads every source at scrape time.
type collector struct{ src Sources }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		descRooms, descParticipants, descSFURooms, descTracks, descPackets, descBytes, descDrops, descNACKs, descRetransmits,
		descPLIsSent, descPLIsReceived, descFeedback, descFirstFrame, descMessages, descRefusals, descJournal, descMail, descRecordings, descSpoolFree,
	} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	if c.src.Meetings != nil {
		c.meetings(ch)
	}
	if c.src.SFU != nil {
		c.media(ch, c.src.SFU)
	}
	if c.src.Signals != nil {
		c.signals(ch)
	}
	if c.src.Journal != nil {
		ch <- gauge(descJournal, float64(c.src.Journal.Pending()))
	}
	if c.src.Database != nil {
		c.database(ch)
	}
	if c.src.Spool != nil {
		if free, err := c.src.Spool.SpoolFree(); err == nil {
			ch <- gauge(descSpoolFree, float64(free))
		} else {
			c.src.Log.Warn("metrics: spool free space", "err", err)
		}
	}
}

func gauge(d *prometheus.Desc, v float64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
}

func counter(d *prometheus.Desc, v uint64, labels ...string) prometheus.Metric {
	return prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
}

func (c *collector) meetings(ch chan<- prometheus.Metric) {
	n, people := c.src.Meetings.Census()
	ch <- gauge(descRooms, float64(n))
	for presence, count := range people {
		ch <- gauge(descParticipants, float64(count), presence)
	}
}

func (c *collector) media(ch chan<- prometheus.Metric, s *sfu.Counters) {
	ch <- gauge(descSFURooms, float64(s.Rooms.Load()))
	ch <- gauge(descTracks, float64(s.AudioTracks.Load()), "audio")
	ch <- gauge(descTracks, float64(s.VideoTracks.Load()), "video")
	ch <- counter(descPackets, s.PacketsSent.Load())
	ch <- counter(descBytes, s.BytesSent.Load())
	ch <- counter(descDrops, s.DroppedFull.Load(), "queue_full")
	ch <- counter(descDrops, s.DroppedWaitKey.Load(), "waiting_for_keyframe")
	ch <- counter(descNACKs, s.NACKsReceived.Load())
	ch <- counter(descRetransmits, s.Retransmissions.Load())
	ch <- counter(descPLIsSent, s.PLIsSent.Load())
	ch <- counter(descPLIsReceived, s.PLIsReceived.Load())
	ch <- counter(descFeedback, s.FeedbackOnWire.Load(), "wire")
	ch <- counter(descFeedback, s.FeedbackViaPion.Load(), "pion")
	ch <- firstFrame(&s.FirstFrame)
}

// firstFrame turns the SFU's bucket counts into a cumulative histogram.
func firstFrame(h *sfu.FirstFrameHistogram) prometheus.Metric {
	buckets := make(map[float64]uint64, len(sfu.FirstFrameBuckets))
	var cum uint64
	for i, le := range sfu.FirstFrameBuckets {
		cum += h.Buckets[i].Load()
		buckets[le] = cum
	}
	// Read apart from the buckets: a frame timed meanwhile may be in one
	// and not the other, never more in the buckets than in the count.
	count := max(h.Count.Load(), cum)
	return prometheus.MustNewConstHistogram(descFirstFrame, count, float64(h.SumMicro.Load())/1e6, buckets)
}

func (c *collector) signals(ch chan<- prometheus.Metric) {
	in, out, refusals := c.src.Signals.Snapshot()
	for _, typ := range sortedKeys(in) {
		ch <- counter(descMessages, in[typ], "in", typ)
	}
	for _, typ := range sortedKeys(out) {
		ch <- counter(descMessages, out[typ], "out", typ)
	}
	for _, reason := range sortedKeys(refusals) {
		ch <- counter(descRefusals, refusals[reason], reason)
	}
}

func sortedKeys(m map[string]uint64) []string { return slices.Sorted(maps.Keys(m)) }

// database runs the scrape's queries; without the database their metrics
// are left out of this scrape (and the gap shows on the dashboard).
func (c *collector) database(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), c.src.QueryTimeout)
	defer cancel()
	if waiting, failed, err := c.src.Database.MailQueueDepth(ctx); err == nil {
		ch <- gauge(descMail, float64(waiting), "waiting")
		ch <- gauge(descMail, float64(failed), "failed")
	} else {
		c.src.Log.Warn("metrics: mail queue depth", "err", err)
	}
	if states, err := c.src.Database.RecordingsByState(ctx); err == nil {
		for state, n := range states {
			ch <- gauge(descRecordings, float64(n), state)
		}
	} else {
		c.src.Log.Warn("metrics: recordings by state", "err", err)
	}
}
