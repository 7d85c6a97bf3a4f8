package loadtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
	"golang.org/x/time/rate"

	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
)

// peer is one participant: a WebSocket, a publishing and a receiving
// PeerConnection, as a browser has.
type peer struct {
	name    string
	web     *web
	env     *env
	publish []sfu.Source
	host    bool // admits everyone from the lobby
	log     *slog.Logger

	ws     *websocket.Conn
	wsMu   sync.Mutex
	seq    uint64
	ctx    context.Context // the peer's life
	cancel context.CancelFunc
	done   chan struct{} // the read loop ended

	mu          sync.Mutex
	pub, sub    *webrtc.PeerConnection
	publishing  bool
	stopSending context.CancelFunc
	sinks       sinkSet
	sent        atomic.Uint64

	// The join's phases, on the run clock (0: not yet).
	start, signaled, iceAt, dtlsAt atomic.Int64
	inRoom                         chan struct{} // closed once in the room
	pubUp                          chan struct{} // closed once the publishing connection is up
	admit                          chan struct{} // the lobby changed (hosts)
	failed                         atomic.Pointer[error]
	leaving                        sync.Once
	recording                      atomic.Bool
	refused                        atomic.Pointer[meeting.Error] // the latest refusal
}

func newPeer(e *env, w *web, name string, publish []sfu.Source, host bool) *peer {
	p := &peer{name: name, web: w, env: e, publish: publish, host: host, log: e.log.With("peer", name),
		inRoom: make(chan struct{}), pubUp: make(chan struct{}), admit: make(chan struct{}, 1)}
	p.sinks.since = e.since
	p.sinks.audioOnly = e.audioOnly
	p.sinks.total = e
	return p
}

// join asks for a join token at path, opens the WebSocket and sends join.
func (p *peer) join(ctx context.Context, path string) error {
	p.start.Store(p.env.since())
	token, socket, err := p.web.joinToken(ctx, path, p.name)
	if err != nil {
		return err
	}
	u := "ws" + strings.TrimPrefix(p.web.base, "http") + socket
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {p.web.base}}})
	if err != nil {
		return fmt.Errorf("loadtest: dial %s: %w", socket, err)
	}
	ws.SetReadLimit(1 << 20)
	p.ws = ws
	p.ctx, p.cancel = context.WithCancel(context.Background())
	p.done = make(chan struct{})
	go p.readLoop()
	if p.host {
		go p.admitLoop()
	}
	return p.send(&meeting.Join{Token: token})
}

func (p *peer) send(m meeting.ClientMessage) error {
	p.wsMu.Lock()
	defer p.wsMu.Unlock()
	p.seq++
	// The header is the meeting package's own; its seq is set as JSON.
	if err := json.Unmarshal(fmt.Appendf(nil, `{"seq":%d}`, p.seq), m); err != nil {
		return fmt.Errorf("loadtest: seq: %w", err)
	}
	b, err := meeting.EncodeClient(m)
	if err != nil {
		return fmt.Errorf("loadtest: encode: %w", err)
	}
	ctx, cancel := context.WithTimeout(p.ctx, 10*time.Second)
	defer cancel()
	if err := p.ws.Write(ctx, websocket.MessageText, b); err != nil {
		return fmt.Errorf("loadtest: send: %w", err)
	}
	return nil
}

func (p *peer) readLoop() {
	defer close(p.done)
	for {
		_, data, err := p.ws.Read(p.ctx)
		if err != nil {
			p.fail(fmt.Errorf("loadtest: %s: connection closed: %w", p.name, err))
			return
		}
		m, err := meeting.DecodeServer(data)
		if err != nil {
			continue // a message this build does not know
		}
		if err := p.handle(m); err != nil {
			p.fail(fmt.Errorf("loadtest: %s: %T: %w", p.name, m, err))
		}
	}
}

func (p *peer) fail(err error) {
	p.failed.CompareAndSwap(nil, &err)
}

func (p *peer) err() error {
	if e := p.failed.Load(); e != nil {
		return *e
	}
	return nil
}

func (p *peer) handle(m meeting.ServerMessage) error {
	switch m := m.(type) {
	case *meeting.Welcome:
		if m.Presence == meeting.PresenceRoom {
			return p.enterRoom()
		}
	case *meeting.Admitted:
		return p.enterRoom()
	case *meeting.Lobby:
		if len(m.Entries) > 0 {
			select {
			case p.admit <- struct{}{}:
			default: // an admission is due already
			}
		}
	case *meeting.Recording:
		p.recording.Store(m.Active)
		if m.Active && m.Consent == meeting.ConsentPending {
			go func() { _ = p.send(&meeting.Consent{Accept: true}) }() // not from the read loop
		}
	case *meeting.ServerOffer:
		return p.answer(m)
	case *meeting.ServerAnswer:
		return p.pubPC().SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeAnswer, SDP: m.SDP})
	case *meeting.Error:
		p.refused.Store(m)
		p.log.Debug("loadtest: server refused a message", "code", m.Code, "in_reply_to", m.InReplyTo)
	case *meeting.Ended, *meeting.Removed, *meeting.Denied:
		return fmt.Errorf("%w: %T", ErrRefused, m)
	}
	return nil
}

// admitLoop lets everyone in from the lobby as soon as someone waits, at
// most admitRate times a second once a burst of admitBurst is spent (the
// server allows a connection 40 messages a second, in bursts of 120). It
// paused 50 ms after each admission before: that pause was in many joins'
// signaling time, and it was the generator's, not the server's.
func (p *peer) admitLoop() {
	limit := rate.NewLimiter(admitRate, admitBurst)
	for {
		select {
		case <-p.ctx.Done():
			return
		case <-p.admit:
		}
		if limit.Wait(p.ctx) != nil {
			return
		}
		if err := p.send(&meeting.AdmitAll{}); err != nil {
			return
		}
	}
}

// The host's admissions: three quarters of what the server allows its
// connection, which sends little else.
const (
	admitRate  = 30
	admitBurst = 10
)

func (p *peer) enterRoom() error {
	p.mu.Lock()
	if p.signaled.Load() != 0 {
		p.mu.Unlock()
		return nil
	}
	p.signaled.Store(p.env.since())
	p.mu.Unlock()
	close(p.inRoom)
	if len(p.publish) == 0 {
		close(p.pubUp)
		return nil
	}
	return p.startPublishing()
}

func (p *peer) pubPC() *webrtc.PeerConnection {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.pub
}

// startPublishing offers the peer's sources and sends synthetic media once
// connected.
func (p *peer) startPublishing() error {
	pc, err := p.env.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return fmt.Errorf("loadtest: publishing connection: %w", err)
	}
	ctx, stop := context.WithCancel(p.ctx)
	p.mu.Lock()
	p.pub, p.stopSending = pc, stop
	p.mu.Unlock()
	var senders []func(context.Context, *schedule)
	for _, src := range p.publish {
		run, err := p.addSource(pc, src)
		if err != nil {
			return err
		}
		senders = append(senders, run)
	}
	var once sync.Once
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected {
			once.Do(func() {
				close(p.pubUp)
				for _, run := range senders {
					go run(ctx, &p.env.sched)
				}
			})
		}
	})
	offer, err := pc.CreateOffer(nil)
	if err != nil {
		return fmt.Errorf("loadtest: offer: %w", err)
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(offer); err != nil {
		return fmt.Errorf("loadtest: offer: %w", err)
	}
	<-gathered // the server takes no trickled candidates for pub in one go; send them in the SDP
	tracks := map[string]string{}
	for _, t := range pc.GetTransceivers() {
		if t.Sender() != nil && t.Sender().Track() != nil {
			tracks[t.Mid()] = t.Sender().Track().ID()
		}
	}
	return p.send(&meeting.Offer{PC: sfu.PCPublish, SDP: pc.LocalDescription().SDP, Tracks: tracks})
}

// addSource adds a track for src and returns what sends on it.
func (p *peer) addSource(pc *webrtc.PeerConnection, src sfu.Source) (func(context.Context, *schedule), error) {
	video := src == sfu.SourceCamera || src == sfu.SourceScreen
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	if video {
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: videoClock}
	}
	track, err := webrtc.NewTrackLocalStaticRTP(codec, string(src), "loadtest-"+p.name)
	if err != nil {
		return nil, fmt.Errorf("loadtest: track: %w", err)
	}
	sender, err := pc.AddTrack(track)
	if err != nil {
		return nil, fmt.Errorf("loadtest: track: %w", err)
	}
	if !video {
		go drainRTCP(sender, nil)
		return newOpusSender(track, p.env.since, &p.sent).run, nil
	}
	v := newVP8Sender(track, p.env.cfg.Bitrate, p.env.since, &p.sent)
	go drainRTCP(sender, &v.keyWanted)
	return v.run, nil
}

// drainRTCP reads what subscribers' feedback the server sends back (NACKs
// are answered by pion's responder) and notes keyframe requests.
func drainRTCP(s *webrtc.RTPSender, keyWanted *atomic.Bool) {
	for {
		pkts, _, err := s.ReadRTCP()
		if err != nil {
			return
		}
		for _, pkt := range pkts {
			switch pkt.(type) {
			case *rtcp.PictureLossIndication, *rtcp.FullIntraRequest:
				if keyWanted != nil {
					keyWanted.Store(true)
				}
			}
		}
	}
}

// answer answers the server's offer on the receiving connection,
// trickling candidates as a browser does.
func (p *peer) answer(o *meeting.ServerOffer) error {
	p.mu.Lock()
	pc := p.sub
	p.mu.Unlock()
	if pc == nil {
		var err error
		if pc, err = p.newSubPC(); err != nil {
			return err
		}
	}
	if err := pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: o.SDP}); err != nil {
		return fmt.Errorf("loadtest: server offer: %w", err)
	}
	ans, err := pc.CreateAnswer(nil)
	if err != nil {
		return fmt.Errorf("loadtest: answer: %w", err)
	}
	if err := pc.SetLocalDescription(ans); err != nil {
		return fmt.Errorf("loadtest: answer: %w", err)
	}
	return p.send(&meeting.Answer{PC: sfu.PCSubscribe, SDP: ans.SDP})
}

func (p *peer) newSubPC() (*webrtc.PeerConnection, error) {
	pc, err := p.env.api.NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("loadtest: receiving connection: %w", err)
	}
	pc.OnTrack(func(t *webrtc.TrackRemote, r *webrtc.RTPReceiver) { p.sinks.onTrack(p.ctx, pc, t, r) })
	pc.OnICEConnectionStateChange(func(st webrtc.ICEConnectionState) {
		if st == webrtc.ICEConnectionStateConnected {
			p.iceAt.CompareAndSwap(0, p.env.since())
		}
	})
	pc.OnConnectionStateChange(func(st webrtc.PeerConnectionState) {
		if st == webrtc.PeerConnectionStateConnected { // ICE and DTLS are up
			p.dtlsAt.CompareAndSwap(0, p.env.since())
		}
	})
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			return
		}
		init := c.ToJSON()
		go func() { // not from pion's callback: send may wait
			_ = p.send(&meeting.Candidate{PC: sfu.PCSubscribe, Candidate: meeting.CandidateInit{
				Candidate: init.Candidate, SDPMid: init.SDPMid, SDPMLineIndex: init.SDPMLineIndex, UsernameFragment: init.UsernameFragment,
			}})
		}()
	})
	p.mu.Lock()
	p.sub = pc
	p.mu.Unlock()
	return pc, nil
}

// stopMedia stops sending (the peer stays in the meeting).
func (p *peer) stopMedia() {
	p.mu.Lock()
	stop := p.stopSending
	p.mu.Unlock()
	if stop != nil {
		stop()
	}
}

// leave says goodbye, closes everything and waits for the track readers.
func (p *peer) leave() { p.leaving.Do(p.leaveOnce) }

func (p *peer) leaveOnce() {
	if p.ws == nil {
		return
	}
	_ = p.send(&meeting.Leave{})
	select { // the server closes the socket after a leave
	case <-p.done:
	case <-time.After(2 * time.Second):
	}
	p.cancel()
	_ = p.ws.CloseNow()
	<-p.done
	p.mu.Lock()
	pub, sub := p.pub, p.sub
	p.mu.Unlock()
	for _, pc := range []*webrtc.PeerConnection{pub, sub} {
		if pc != nil {
			_ = pc.Close()
		}
	}
	p.sinks.wg.Wait()
}

// startRecording asks the server to record, as a host, and waits until
// everyone is told it records.
func (p *peer) startRecording(ctx context.Context) error {
	p.refused.Store(nil)
	if err := p.send(&meeting.StartRecording{}); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !p.recording.Load() {
		if e := p.refused.Load(); e != nil {
			return fmt.Errorf("%w: start recording: %s: %s", ErrRefused, e.Code, e.Message)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("loadtest: start recording: %w", ctx.Err())
		case <-tick.C:
		}
	}
	return nil
}

// wait blocks until ready is closed, the peer fails or ctx ends.
func (p *peer) wait(ctx context.Context, ready <-chan struct{}, what string) error {
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ready:
			return nil
		case <-ctx.Done():
			return fmt.Errorf("loadtest: %s waiting for %s: %w", p.name, what, ctx.Err())
		case <-tick.C:
			if err := p.err(); err != nil && !errors.Is(err, context.Canceled) {
				return err
			}
		}
	}
}
