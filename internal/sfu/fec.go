package sfu

import (
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// A publisher's Opus encoder adds in-band FEC (LBRR) only when the
// receiver reports it hears say packets are lost, and sizes it by how many.
// The SFU's own reports describe the publisher's link to the SFU, which is
// usually clean; the loss is on the links to subscribers. So the receiver
// reports the SFU sends a publisher for an audio track carry the worse of
// its own figure and the worst its subscribers report (as LiveKit does).
//
// Only the fraction lost is raised, never the cumulative count: browsers'
// send-side bandwidth estimates read the cumulative counts, their Opus
// encoders the fraction (libwebrtc's ChannelSend). So the publisher's
// encoder protects the audio, and its sending rate is not cut for loss its
// own link does not have.

// maxReportedLoss caps the subscribers' figure passed on (as a fraction
// of 256: 20 %). Chrome's Opus wrapper takes at most 20 % from reports,
// and libopus stops scaling its FEC decision at 25 %: beyond that, more
// only takes bits from the signal itself. It also bounds what one
// subscriber lying about its loss can make everyone else's encoder do.
const maxReportedLoss = 256 / 5

// lossExpiry is how long a subscriber's report counts without another:
// longer than the 5 s (±50 %) at which Chrome reports on audio it receives.
const lossExpiry = 10 * time.Second

// downLoss is what the subscribers of one audio publication report losing:
// for each, the worse of its last two reports (so a loss that comes and
// goes between reports is not forgotten the moment one interval is clean).
// It is written once per receiver report and read once a second: a mutex
// costs nothing next to that, and nothing here runs per media packet.
type downLoss struct {
	ssrc uint32 // the publisher's
	mu   sync.Mutex
	subs map[*DownTrack]lossReports
}

type lossReports struct {
	latest, previous uint8
	at               time.Time
}

// report takes one receiver report's fraction lost from d's subscriber
// (about d's own stream: the caller checked the SSRC). Nil is no audio.
func (l *downLoss) report(d *DownTrack, fractionLost uint8, now time.Time) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	r := l.subs[d]
	r.previous, r.latest, r.at = r.latest, fractionLost, now
	l.subs[d] = r
}

// worst is the highest fraction lost a subscriber still here reported
// lately, as a fraction of 256; it forgets subscribers that left or went
// quiet.
func (l *downLoss) worst(now time.Time) uint8 {
	l.mu.Lock()
	defer l.mu.Unlock()
	var w uint8
	for d, r := range l.subs {
		if d.stopped.Load() || now.Sub(r.at) > lossExpiry {
			delete(l.subs, d)
			continue
		}
		w = max(w, r.latest, r.previous)
	}
	return w
}

// lossFeedback is the interceptor on one publishing PeerConnection that
// raises the fraction lost in its receiver reports about audio SSRCs to
// what that audio's subscribers report; reports about any other SSRC
// (video above all) pass untouched. It is its own factory: each peer's
// publishing PeerConnection is built with its own.
type lossFeedback struct {
	interceptor.NoOp
	now     func() time.Time // the clock the subscribers' reports are dated by
	mu      sync.Mutex
	streams map[uint32]*downLoss // by the publisher's audio SSRC
}

func newLossFeedback() *lossFeedback {
	return &lossFeedback{now: time.Now, streams: map[uint32]*downLoss{}}
}

// NewInterceptor makes it an interceptor.Factory of itself.
func (f *lossFeedback) NewInterceptor(string) (interceptor.Interceptor, error) { return f, nil }

// watch starts passing on the subscribers' loss for a publication's
// track; nil for anything but audio.
func (f *lossFeedback) watch(ssrc uint32, kind webrtc.RTPCodecType) *downLoss {
	if f == nil || kind != webrtc.RTPCodecTypeAudio {
		return nil
	}
	l := &downLoss{ssrc: ssrc, subs: map[*DownTrack]lossReports{}}
	f.mu.Lock()
	f.streams[ssrc] = l
	f.mu.Unlock()
	return l
}

// forget stops passing on l when its publication ended, unless a later
// publication took its SSRC (a track removed and added again may keep it).
func (f *lossFeedback) forget(l *downLoss) {
	if l == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.streams[l.ssrc] == l {
		delete(f.streams, l.ssrc)
	}
}

// BindRTCPWriter sees every RTCP packet the PeerConnection sends, receiver
// reports from pion's report interceptor among them (registered after
// this one, it writes through what this returns).
func (f *lossFeedback) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	return interceptor.RTCPWriterFunc(func(pkts []rtcp.Packet, a interceptor.Attributes) (int, error) {
		for _, pkt := range pkts {
			if rr, ok := pkt.(*rtcp.ReceiverReport); ok {
				f.raise(rr.Reports, f.now())
			}
		}
		return w.Write(pkts, a)
	})
}

// raise rewrites report blocks in place: the report interceptor builds a
// fresh packet for every report it writes.
func (f *lossFeedback) raise(reports []rtcp.ReceptionReport, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i := range reports {
		if l := f.streams[reports[i].SSRC]; l != nil {
			reports[i].FractionLost = max(reports[i].FractionLost, min(l.worst(now), maxReportedLoss))
		}
	}
}

// chainFactory makes the interceptors of a shared registry for one
// PeerConnection, as one interceptor.
type chainFactory struct{ r *interceptor.Registry }

func (c chainFactory) NewInterceptor(id string) (interceptor.Interceptor, error) {
	return c.r.Build(id)
}
