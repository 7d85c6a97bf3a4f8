package testclient

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/rtp/codecs"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media/ivfreader"
	"github.com/pion/webrtc/v4/pkg/media/oggreader"
	"github.com/pion/webrtc/v4/pkg/media/samplebuilder"

	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
	"classmeet/internal/testclock"
)

// Key names a received track: whose, and which source.
type Key struct {
	Participant string
	Source      sfu.Source
}

// Received counts what arrived on one track.
type Received struct {
	Packets   atomic.Uint64
	Bytes     atomic.Uint64
	FirstAt   atomic.Int64 // unix nanoseconds of the first packet, by the test clock
	Keyframes atomic.Uint64
	// Width is the picture width of the latest keyframe (which simulcast
	// layer arrives).
	Width atomic.Uint32
	// FirstFrameKey is set when the first complete video frame was a keyframe.
	FirstFrameKey atomic.Bool
	Frames        atomic.Uint64
	// Resumes counts video streams resuming after a second or more with no
	// packet (paused by the server), once their first frame is complete;
	// ResumeSeqGap is the first packet's sequence number minus the one
	// before the pause (1 for a continuous stream) and ResumedOnKey whether
	// that first frame was a keyframe.
	Resumes      atomic.Uint64
	ResumeSeqGap atomic.Uint32
	ResumedOnKey atomic.Bool
	kind         atomic.Uint32 // the media that really arrived (webrtc.RTPCodecType)
}

// media is the client's two PeerConnections, each on a UDP socket of its
// own as in a browser (a server tells ICE sessions apart by address).
type media struct {
	c        *Client
	recvLoss float64 // of the RTP packets arriving at every PeerConnection
	// answerRole is the DTLS role the PeerConnections take when they
	// answer: the client's, as browsers answer, unless set.
	answerRole webrtc.DTLSRole
	udp        []*blockableConn
	pub        *webrtc.PeerConnection
	sub        *webrtc.PeerConnection
	stop       context.CancelFunc
	ctx        context.Context // the publishing connection's life

	mu       sync.Mutex
	tracks   map[string]meeting.TrackInfo // mid -> whose, from the latest server offer
	received map[Key]*Received
	sent     map[sfu.Source]*atomic.Uint64
	sentLog  map[sfu.Source]*SentMedia
	pubTrack map[sfu.Source]*webrtc.TrackLocalStaticRTP
	pacers   map[sfu.Source]context.CancelFunc
	labels   map[sfu.Source]sfu.Source // a liar's labels for its tracks
	sim      *Simulcast                // the camera's layers, with Options.Simulcast

	// audioMu is held while an audio packet is sent, so that pausing
	// returns only once no packet is on its way out.
	audioMu        sync.Mutex
	audioPaused    bool
	keyframeWanted atomic.Bool
	wg             sync.WaitGroup
}

func newMedia(c *Client) *media {
	return &media{c: c, tracks: map[string]meeting.TrackInfo{}, received: map[Key]*Received{}, sent: map[sfu.Source]*atomic.Uint64{}, sentLog: map[sfu.Source]*SentMedia{}, pubTrack: map[sfu.Source]*webrtc.TrackLocalStaticRTP{}, pacers: map[sfu.Source]context.CancelFunc{}}
}

// newPC makes a PeerConnection on loopback only, with its own UDP socket,
// which drops loss of what it sends.
func (m *media) newPC(loss float64) (*webrtc.PeerConnection, error) {
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	se := webrtc.SettingEngine{LoggerFactory: quiet}
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes(m.c.opts.Networks)
	// Browsers answer "a=setup:active"; pion, answering a server that is
	// ICE-lite, would take the DTLS server's role.
	role := webrtc.DTLSRoleClient
	if m.answerRole != 0 {
		role = m.answerRole
	}
	if err := se.SetAnsweringDTLSRole(role); err != nil {
		return nil, err
	}
	for _, nt := range m.c.opts.Networks {
		if nt == webrtc.NetworkTypeUDP4 {
			conn, err := net.ListenPacket("udp4", "127.0.0.1:0")
			if err != nil {
				return nil, err
			}
			b := &blockableConn{PacketConn: conn, loss: loss, recvLoss: m.recvLoss}
			m.mu.Lock()
			m.udp = append(m.udp, b)
			m.mu.Unlock()
			se.SetICEUDPMux(webrtc.NewICEUDPMux(quiet.NewLogger("udpmux"), b))
		}
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, err
	}
	api := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se))
	return api.NewPeerConnection(m.c.rtcConfiguration())
}

// blockUDP makes the network silent (true) or lets it through again.
func (m *media) blockUDP(blocked bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.udp {
		b.blocked.Store(blocked)
	}
}

// publish offers the client's microphone and camera from the fixtures and,
// once connected, sends them at real pace.
func (m *media) publish(sources []sfu.Source) error {
	pc, err := m.newPC(m.c.opts.SendLoss)
	if err != nil {
		return err
	}
	m.mu.Lock()
	if m.pub != nil {
		_ = m.pub.Close()
	}
	m.pub = pc
	m.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	m.stop, m.ctx = cancel, ctx
	for _, s := range sources {
		if err := m.addTrack(pc, s); err != nil {
			return err
		}
	}
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() { m.startPacing(ctx, sources) })
		}
	})
	return m.offer(pc, nil)
}

// addTrack adds a track of the source's media to the publishing connection.
func (m *media) addTrack(pc *webrtc.PeerConnection, s sfu.Source) error {
	if s == sfu.SourceCamera && m.c.opts.Simulcast {
		return m.addSimulcast(pc)
	}
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	if s == sfu.SourceMicrophone || s == sfu.SourceScreenAudio {
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	}
	tr, err := webrtc.NewTrackLocalStaticRTP(codec, string(s), "classmeet-testclient")
	if err != nil {
		return err
	}
	sender, err := pc.AddTrack(tr)
	if err != nil {
		return err
	}
	go m.readRTCP(sender)
	m.mu.Lock()
	m.pubTrack[s] = tr
	if m.sent[s] == nil {
		m.sent[s] = &atomic.Uint64{}
	}
	m.mu.Unlock()
	return nil
}

// offer sends an offer of the publishing connection, with its tracks
// labelled as Options.Labels says (a liar's labels) or by their source.
func (m *media) offer(pc *webrtc.PeerConnection, opts *webrtc.OfferOptions) error {
	if last := pc.CurrentRemoteDescription(); last != nil && pc.SignalingState() == webrtc.SignalingStateHaveLocalOffer {
		// The server refused the last offer. A browser would roll it back;
		// pion cannot, so the previous answer closes it instead.
		if err := pc.SetRemoteDescription(*last); err != nil {
			return err
		}
	}
	offer, err := pc.CreateOffer(opts)
	if err != nil {
		return err
	}
	if err := setLocal(pc, offer); err != nil {
		return err
	}
	return m.c.Send(&meeting.Offer{PC: sfu.PCPublish, SDP: pc.LocalDescription().SDP, Tracks: m.sources(pc)})
}

// sources maps each sending m-line's mid to its source, as the server wants.
func (m *media) sources(pc *webrtc.PeerConnection) map[string]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	tracks := map[string]string{}
	for _, t := range pc.GetTransceivers() {
		if t.Sender() == nil || t.Mid() == "" {
			continue
		}
		if tr := t.Sender().Track(); tr != nil {
			label := sfu.Source(tr.ID())
			if lie, ok := m.labels[label]; ok {
				label = lie
			}
			tracks[t.Mid()] = string(label)
		}
	}
	return tracks
}

// renegotiate offers again on the same publishing connection with exactly
// these sources: a track no longer listed is removed, a new one is added
// and sent at real pace.
func (m *media) renegotiate(sources []sfu.Source) error {
	m.mu.Lock()
	pc := m.pub
	m.mu.Unlock()
	if pc == nil || m.ctx == nil {
		return errors.New("testclient: nothing published to renegotiate")
	}
	want := map[sfu.Source]bool{}
	for _, s := range sources {
		want[s] = true
	}
	for _, t := range pc.GetTransceivers() {
		if t.Sender() == nil || t.Sender().Track() == nil {
			continue
		}
		src := sfu.Source(t.Sender().Track().ID())
		if want[src] {
			delete(want, src) // already sent
			continue
		}
		if err := pc.RemoveTrack(t.Sender()); err != nil {
			return err
		}
		m.stopPacing(src)
	}
	var added []sfu.Source
	for _, s := range sources {
		if want[s] {
			if err := m.addTrack(pc, s); err != nil {
				return err
			}
			added = append(added, s)
		}
	}
	m.startPacing(m.ctx, added)
	return m.offer(pc, nil)
}

// restartPublishing sends a new offer with fresh ICE credentials.
func (m *media) restartPublishing() error {
	m.mu.Lock()
	pc := m.pub
	m.mu.Unlock()
	if pc == nil {
		return nil
	}
	return m.offer(pc, &webrtc.OfferOptions{ICERestart: true})
}

func setLocal(pc *webrtc.PeerConnection, sd webrtc.SessionDescription) error {
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(sd); err != nil {
		return err
	}
	select {
	case <-gathered:
		return nil
	case <-time.After(5 * time.Second):
		return errors.New("testclient: ICE gathering did not finish")
	}
}

// readRTCP notes keyframe requests, as an encoder would.
func (m *media) readRTCP(s *webrtc.RTPSender) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, p := range pkts {
			switch p.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				m.keyframeWanted.Store(true)
			}
		}
	}
}

func (m *media) handleAnswer(a *meeting.ServerAnswer) error {
	m.mu.Lock()
	pc := m.pub
	m.mu.Unlock()
	if pc == nil {
		return errors.New("testclient: an answer but no offer")
	}
	return pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: a.SDP})
}

// handleOffer answers the server's offer on the receiving PeerConnection,
// trickling candidates as a browser does.
func (m *media) handleOffer(o *meeting.ServerOffer) error {
	m.mu.Lock()
	for mid, info := range o.Tracks {
		m.tracks[mid] = info
	}
	pc := m.sub
	m.mu.Unlock()
	if pc == nil {
		var err error
		if pc, err = m.newPC(0); err != nil {
			return err
		}
		pc.OnTrack(m.onTrack)
		pc.OnICECandidate(func(c *webrtc.ICECandidate) {
			if c == nil {
				return
			}
			init := c.ToJSON()
			_ = m.c.Send(&meeting.Candidate{PC: sfu.PCSubscribe, Candidate: meeting.CandidateInit{
				Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex, UsernameFragment: init.UsernameFragment,
			}})
		})
		m.mu.Lock()
		m.sub = pc
		m.mu.Unlock()
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}); err != nil {
		return err
	}
	answer, err := pc.CreateAnswer(nil)
	if err != nil {
		return err
	}
	if err := pc.SetLocalDescription(answer); err != nil {
		return err
	}
	return m.c.Send(&meeting.Answer{PC: sfu.PCSubscribe, SDP: answer.SDP})
}

// onTrack counts what arrives and, for video, checks it decodes from a keyframe.
func (m *media) onTrack(track *webrtc.TrackRemote, recv *webrtc.RTPReceiver) {
	m.mu.Lock()
	var info meeting.TrackInfo
	for _, t := range m.sub.GetTransceivers() {
		if t.Receiver() == recv {
			info = m.tracks[t.Mid()]
		}
	}
	k := Key{Participant: info.Participant, Source: sfu.Source(info.Source)}
	r := m.received[k]
	if r == nil {
		r = &Received{}
		m.received[k] = r
	}
	r.kind.Store(uint32(track.Kind()))
	m.mu.Unlock()
	if m.c.opts.StopReading {
		return // misbehave: never read, let buffers overflow
	}
	// Reading RTCP is what lets pion's interceptors see the sender reports
	// (and answer with round-trip figures), as a browser does.
	go func() {
		for {
			if _, _, err := recv.ReadRTCP(); err != nil {
				return
			}
		}
	}()
	m.wg.Add(1)
	defer m.wg.Done()
	var sb *samplebuilder.SampleBuilder
	var ivf *ivfFile
	var firstTS uint32
	var gaps gapWatch
	if track.Kind() == webrtc.RTPCodecTypeVideo {
		sb = samplebuilder.New(256, &codecs.VP8Packet{}, 90000)
		if dir := m.c.opts.RecordDir; dir != "" {
			var err error
			if ivf, err = createIVF(filepath.Join(dir, fmt.Sprintf("%s-%s-%s.ivf", m.c.Name, k.Participant, k.Source))); err == nil {
				defer ivf.close()
			}
		}
	}
	for {
		pkt, _, err := track.ReadRTP()
		if err != nil {
			return
		}
		r.Packets.Add(1)
		r.Bytes.Add(uint64(len(pkt.Payload)))
		r.FirstAt.CompareAndSwap(0, testclock.Now().UnixNano())
		gaps.packet(r, pkt.SequenceNumber, pkt.Timestamp)
		if sb == nil {
			continue
		}
		sb.Push(pkt)
		for s := sb.Pop(); s != nil; s = sb.Pop() {
			key := len(s.Data) > 0 && s.Data[0]&0x01 == 0
			gaps.frame(r, s.PacketTimestamp, key)
			if r.Frames.Add(1) == 1 {
				r.FirstFrameKey.Store(key)
			}
			if key {
				r.Keyframes.Add(1)
				if len(s.Data) >= 10 { // the VP8 frame header's picture size
					r.Width.Store(uint32(binary.LittleEndian.Uint16(s.Data[6:]) & 0x3fff))
				}
			}
			if ivf != nil && (ivf.frames > 0 || key) {
				if ivf.frames == 0 {
					firstTS = s.PacketTimestamp
				}
				_ = ivf.write(s.Data, s.PacketTimestamp-firstTS)
			}
		}
	}
}

// gapWatch notices a stream resuming after a pause, for Received.
type gapWatch struct {
	seen      bool
	lastSeq   uint16
	lastAt    time.Time
	waitFrame bool
	resumeTS  uint32 // the first frame after the pause (the sample builder still holds the last before)
}

// pauseGap is how long without packets counts as a pause: far longer than
// any gap between the frames of a running stream.
const pauseGap = time.Second

func (g *gapWatch) packet(r *Received, seq uint16, ts uint32) {
	now := testclock.Now()
	if g.seen && now.Sub(g.lastAt) >= pauseGap {
		r.ResumeSeqGap.Store(uint32(seq - g.lastSeq))
		g.waitFrame, g.resumeTS = true, ts
	}
	g.seen, g.lastSeq, g.lastAt = true, seq, now
}

func (g *gapWatch) frame(r *Received, ts uint32, key bool) {
	if g.waitFrame && ts == g.resumeTS {
		r.ResumedOnKey.Store(key)
		r.Resumes.Add(1)
		g.waitFrame = false
	}
}

// startPacing sends the fixtures at real pace, looping, until stopped.
func (m *media) startPacing(ctx context.Context, sources []sfu.Source) {
	for _, s := range sources {
		ctx, cancel := context.WithCancel(ctx)
		m.mu.Lock()
		tr, sent := m.pubTrack[s], m.sent[s]
		m.pacers[s] = cancel
		m.mu.Unlock()
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			var err error
			m.mu.Lock()
			sim, pc := m.sim, m.pub
			m.mu.Unlock()
			switch {
			case s == sfu.SourceCamera && sim != nil:
				sim.send(ctx, pc, sent, func(ts uint32) { m.logSent(s, ts, true) })
				<-ctx.Done()
			case tr.Kind() == webrtc.RTPCodecTypeVideo:
				err = m.paceVideo(ctx, tr, sent)
			default:
				err = m.paceAudio(ctx, tr, sent)
			}
			if err != nil && !errors.Is(err, context.Canceled) {
				m.c.logf("pacing %s: %v", s, err)
			}
		}()
	}
}

// stopPacing stops sending a source's media.
func (m *media) stopPacing(s sfu.Source) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if cancel := m.pacers[s]; cancel != nil {
		cancel()
		delete(m.pacers, s)
	}
}

func fixture(name string) string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "testdata", name)
}

// paceVideo sends the VP8 fixture at its frame rate, looping. Asked for a
// keyframe, it skips ahead to the fixture's next one, as an encoder would
// make one.
func (m *media) paceVideo(ctx context.Context, tr *webrtc.TrackLocalStaticRTP, sent *atomic.Uint64) error {
	return Camera(ctx, tr, sent, &m.keyframeWanted, func(ts uint32) { m.logSent(sfu.Source(tr.ID()), ts, true) })
}

// Camera sends the VP8 fixture on tr at its frame rate, looping, until ctx
// ends, counting packets in sent. Asked for a keyframe (keyframe set), it
// skips ahead to the fixture's next one, as an encoder would make one.
// frame, if set, hears each frame's RTP timestamp.
func Camera(ctx context.Context, tr *webrtc.TrackLocalStaticRTP, sent *atomic.Uint64, keyframe *atomic.Bool, frame func(ts uint32)) error {
	return paceIVF(ctx, "video.ivf", tr, sent, keyframe, frame, nil)
}

// paceIVF sends a VP8 fixture on tr as Camera does; mark, if set, changes
// each packet before it goes (header extensions).
func paceIVF(ctx context.Context, file string, tr *webrtc.TrackLocalStaticRTP, sent *atomic.Uint64, keyframe *atomic.Bool, frame func(ts uint32), mark func(*rtp.Packet)) error {
	frames, frameDur, err := loadIVF(fixture(file))
	if err != nil {
		return err
	}
	pz := rtp.NewPacketizer(1200, 96, 0, &codecs.VP8Payloader{EnablePictureID: true}, rtp.NewRandomSequencer(), 90000)
	next := time.Now()
	for i := 0; ; i = (i + 1) % len(frames) {
		if keyframe.Swap(false) {
			for !vp8Key(frames[i]) {
				i = (i + 1) % len(frames)
			}
		}
		pkts := pz.Packetize(frames[i], uint32(frameDur*90000/time.Second))
		for _, p := range pkts {
			if mark != nil {
				mark(p)
			}
			if tr.WriteRTP(p) == nil {
				sent.Add(1)
			}
		}
		if frame != nil {
			frame(pkts[0].Timestamp)
		}
		next = next.Add(frameDur)
		if err := sleepUntil(ctx, next); err != nil {
			return err
		}
	}
}

// LoopbackPeerConnection is a PeerConnection as the client makes them
// (loopback only, a UDP socket of its own, pion's default codecs and
// interceptors), for tests that talk to the SFU without signaling; closeAll
// closes it and its socket.
func LoopbackPeerConnection() (pc *webrtc.PeerConnection, closeAll func(), err error) {
	return LossyLoopbackPeerConnection(0)
}

// LossyLoopbackPeerConnection is LoopbackPeerConnection on a link that loses
// recvLoss of the RTP packets that arrive (not RTCP, ICE or DTLS): what the
// sender's retransmissions must repair.
func LossyLoopbackPeerConnection(recvLoss float64) (pc *webrtc.PeerConnection, closeAll func(), err error) {
	return loopbackPeerConnection(recvLoss, 0)
}

// DTLSServerLoopbackPeerConnection is a loopback PeerConnection that, when
// it answers, takes the DTLS server's role ("a=setup:passive"), which a
// browser never does and a client may.
func DTLSServerLoopbackPeerConnection() (pc *webrtc.PeerConnection, closeAll func(), err error) {
	return loopbackPeerConnection(0, webrtc.DTLSRoleServer)
}

func loopbackPeerConnection(recvLoss float64, answerRole webrtc.DTLSRole) (pc *webrtc.PeerConnection, closeAll func(), err error) {
	m := newMedia(&Client{opts: Options{Networks: []webrtc.NetworkType{webrtc.NetworkTypeUDP4}}})
	m.recvLoss, m.answerRole = recvLoss, answerRole
	if pc, err = m.newPC(0); err != nil {
		return nil, nil, err
	}
	return pc, func() {
		_ = pc.Close()
		for _, b := range m.udp {
			_ = b.Close()
		}
	}, nil
}

func vp8Key(frame []byte) bool { return len(frame) > 0 && frame[0]&0x01 == 0 }

// loadIVF reads every frame of an IVF file and its frame duration.
func loadIVF(path string) ([][]byte, time.Duration, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, err
	}
	defer f.Close()
	r, hdr, err := ivfreader.NewWith(f)
	if err != nil {
		return nil, 0, err
	}
	var frames [][]byte
	for {
		frame, _, err := r.ParseNextFrame()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, err
		}
		frames = append(frames, append([]byte(nil), frame...)) // the reader reuses its buffer
	}
	if len(frames) == 0 || !vp8Key(frames[0]) {
		return nil, 0, fmt.Errorf("testclient: %s must start with a keyframe", path)
	}
	return frames, time.Second * time.Duration(hdr.TimebaseNumerator) / time.Duration(hdr.TimebaseDenominator), nil
}

// paceAudio sends the Opus fixture in 20 ms packets; while paused it sends
// nothing, but the timestamps keep advancing as a muted microphone's would.
func (m *media) paceAudio(ctx context.Context, tr *webrtc.TrackLocalStaticRTP, sent *atomic.Uint64) error {
	pz := rtp.NewPacketizer(1200, 111, 0, &codecs.OpusPayloader{}, rtp.NewRandomSequencer(), 48000)
	next := time.Now()
	for {
		f, err := os.Open(fixture("audio.ogg"))
		if err != nil {
			return err
		}
		r, _, err := oggreader.NewWith(f)
		if err != nil {
			f.Close()
			return err
		}
		for {
			page, _, err := r.ParseNextPage()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				f.Close()
				return err
			}
			if len(page) < 2 || string(page[:4]) == "Opus" {
				continue // OpusHead / OpusTags
			}
			pkts := pz.Packetize(page, 960)
			m.audioMu.Lock()
			if !m.audioPaused {
				for _, p := range pkts {
					if tr.WriteRTP(p) == nil {
						sent.Add(1)
					}
				}
				m.logSent(sfu.Source(tr.ID()), pkts[0].Timestamp, false)
			}
			m.audioMu.Unlock()
			next = next.Add(20 * time.Millisecond)
			if err := sleepUntil(ctx, next); err != nil {
				f.Close()
				return err
			}
		}
		f.Close()
	}
}

// logSent notes a frame or packet sent from a source.
func (m *media) logSent(source sfu.Source, ts uint32, frame bool) {
	now := testclock.Now() // compared with the dates of recordings
	m.mu.Lock()
	defer m.mu.Unlock()
	s := m.sentLog[source]
	if s == nil {
		s = &SentMedia{FirstTS: ts, FirstAt: now}
		m.sentLog[source] = s
	}
	s.LastTS, s.LastAt = ts, now
	if frame {
		s.Frames++
	}
}

func sleepUntil(ctx context.Context, t time.Time) error {
	d := time.Until(t)
	if d <= 0 {
		return ctx.Err()
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

func (m *media) close() {
	if m.stop != nil {
		m.stop()
	}
	m.mu.Lock()
	pub, sub := m.pub, m.sub
	m.mu.Unlock()
	if pub != nil {
		_ = pub.Close()
	}
	if sub != nil {
		_ = sub.Close()
	}
	m.wg.Wait()
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.udp {
		_ = b.Close()
	}
}

// blockableConn is a UDP socket that can pretend the network is gone, or
// lose some of what it sends.
type blockableConn struct {
	net.PacketConn
	blocked  atomic.Bool
	loss     float64
	lost     atomic.Uint64 // packets dropped by loss
	offered  atomic.Uint64 // packets loss was drawn for, lost or not
	recvLoss float64       // of the RTP packets that arrive
}

func (b *blockableConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := b.PacketConn.ReadFrom(p)
		if err != nil {
			return n, addr, err
		}
		if b.blocked.Load() || b.recvLoss > 0 && isRTP(p[:n]) && rand.Float64() < b.recvLoss {
			continue
		}
		return n, addr, err
	}
}

// isRTP tells (S)RTP from RTCP, STUN and DTLS on a shared port (RFC 7983,
// RFC 5761).
func isRTP(b []byte) bool {
	return len(b) >= 12 && b[0] >= 128 && b[0] <= 191 && (b[1]&0x7f < 64 || b[1]&0x7f > 95)
}

func (b *blockableConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if b.blocked.Load() {
		return len(p), nil // lost in the network
	}
	if b.loss > 0 {
		b.offered.Add(1)
		if rand.Float64() < b.loss {
			b.lost.Add(1)
			return len(p), nil
		}
	}
	return b.PacketConn.WriteTo(p, addr)
}
