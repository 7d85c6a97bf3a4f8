package sfu_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/rtcp"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"

	"classmeet/internal/sfu"
	"classmeet/internal/testclock"
)

// stallingProxy stands between a client and the SFU's ICE-TCP port. Once
// stalled, it stops reading what the SFU sends (and reads little at a time
// before): a client that stopped reading, while what it sends still goes
// through.
type stallingProxy struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	conns  []net.Conn
	stall  chan struct{}
	once   sync.Once
}

func newStallingProxy(t *testing.T, target string) *stallingProxy {
	t.Helper()
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &stallingProxy{ln: ln, target: target, stall: make(chan struct{})}
	t.Cleanup(p.close)
	go p.serve()
	return p
}

func (p *stallingProxy) port() int { return p.ln.Addr().(*net.TCPAddr).Port }

func (p *stallingProxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp4", p.target)
		if err != nil {
			_ = c.Close()
			continue
		}
		_ = s.(*net.TCPConn).SetReadBuffer(4096) // a small window, soon closed
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		go func() { _, _ = io.Copy(s, c) }()
		go p.down(c, s)
	}
}

// down copies the SFU's bytes to the client until stalled.
func (p *stallingProxy) down(c, s net.Conn) {
	buf := make([]byte, 2048)
	for {
		select {
		case <-p.stall:
			return // and never reads again; close frees the SFU
		default:
		}
		n, err := s.Read(buf)
		if err != nil {
			return
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

func (p *stallingProxy) stop() { p.once.Do(func() { close(p.stall) }) }

func (p *stallingProxy) close() {
	p.stop()
	_ = p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		_ = c.Close()
	}
}

// publishFlood publishes a camera of 1000-byte VP8 packets, two every
// millisecond, a keyframe every 100, until the test ends: enough to fill a
// stalled link's buffers in seconds.
func (g *goPeer) publishFlood() *atomic.Uint64 {
	sent, _ := g.publishFloodCountingPLIs()
	return sent
}

// publishFloodCountingPLIs is publishFlood, counting the keyframe requests
// the publisher hears.
func (g *goPeer) publishFloodCountingPLIs() (sent, plis *atomic.Uint64) {
	g.t.Helper()
	tr, sender := g.addCamera()
	plis = &atomic.Uint64{}
	go func() {
		for {
			pkts, _, err := sender.ReadRTCP()
			if err != nil {
				return
			}
			for _, p := range pkts {
				if _, ok := p.(*rtcp.PictureLossIndication); ok {
					plis.Add(1)
				}
			}
		}
	}()
	sent = &atomic.Uint64{}
	g.offerCamera(func(ctx context.Context) { flood(ctx, tr, sent) })
	return sent, plis
}

func flood(ctx context.Context, tr *webrtc.TrackLocalStaticRTP, sent *atomic.Uint64) {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	payload := make([]byte, 1000)
	for i := uint32(0); ; i++ {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		for range 2 {
			n := sent.Add(1)
			payload[0], payload[1] = 0x10, 0x01 // S=1: a frame's start; P=1: an interframe
			if n%100 == 1 {
				payload[1] = 0x00
			}
			h := rtp.Header{Version: 2, PayloadType: 96, SequenceNumber: uint16(n), Timestamp: uint32(n) * 900, Marker: true}
			if err := tr.WriteRTP(&rtp.Packet{Header: h, Payload: payload}); err != nil {
				return
			}
		}
	}
}

// joinOverTCP joins a subscriber whose only link to the SFU is ICE-TCP
// through proxy: the SFU's offers name the proxy's port as its TCP one.
func joinOverTCP(t *testing.T, room *sfu.Room, id string, sfuTCP, proxy int) *goPeer {
	t.Helper()
	se := webrtc.SettingEngine{}
	_ = se.SetAnsweringDTLSRole(webrtc.DTLSRoleClient) // as a browser answers
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeTCP4})
	se.SetIncludeLoopbackCandidate(true)
	se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	pc, err := webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = pc.Close() })
	g := &goPeer{t: t, tracks: map[string]sfu.TrackInfo{}, got: map[sfu.TrackInfo]*received{}, sub: pc, joined: make(chan struct{})}
	pc.OnTrack(g.onTrack)
	from, to := " "+strconv.Itoa(sfuTCP)+" typ host tcptype passive", " "+strconv.Itoa(proxy)+" typ host tcptype passive"
	if g.peer, err = room.Join(id, func(s sfu.Signal) {
		s.SDP = strings.ReplaceAll(s.SDP, from, to)
		g.signal(s)
	}); err != nil {
		t.Fatal(err)
	}
	close(g.joined)
	t.Cleanup(g.peer.Close)
	return g
}

// TestStalledTCPSubscriberStallsNoOneElse: a subscriber on ICE-TCP stops
// reading (its link's buffers fill and the SFU's writes to it cannot go
// out). Another subscriber still receives the media and, every second,
// sender reports for it: nothing the SFU does for everyone waits on the
// stalled link, and neither does the stalled one's leaving.
func TestStalledTCPSubscriberStallsNoOneElse(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	s, err := sfu.New(sfu.Config{BindIP: "127.0.0.1", Log: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	room := s.NewRoom(log)
	t.Cleanup(room.Close)

	sfuTCP := s.TCPAddr().(*net.TCPAddr).Port
	proxy := newStallingProxy(t, s.TCPAddr().String())
	p := joinRoom(t, room, "p", false)
	honest := joinRoom(t, room, "honest", false)
	stuck := joinOverTCP(t, room, "stuck", sfuTCP, proxy.port())
	sent := p.publishFlood()

	testclock.WaitFor(t, "media at both subscribers", 60*time.Second, func() bool {
		return honest.received("p", sfu.SourceCamera).packets.Load() > 100 && stuck.received("p", sfu.SourceCamera).packets.Load() > 100
	})
	// What the TCP subscriber decrypted, the server encrypted itself and
	// wrote to the ICE-TCP connection.
	if !stuck.peer.OwnSRTP() {
		t.Error("the TCP subscriber's media went through pion's path")
	}
	proxy.stop()
	got := honest.received("p", sfu.SourceCamera)
	// More than the SFU's socket can hold for the stalled link (the kernel
	// grows a send buffer to 4 MiB at most), so its writes must block.
	base := sent.Load()
	testclock.WaitFor(t, "12 MB sent past the stall", 120*time.Second, func() bool { return sent.Load() > base+12000 })
	stalled := got.packets.Load()
	testclock.WaitFor(t, "a sender report for packets sent past the stall", 60*time.Second, func() bool {
		sr, _ := got.senderReport()
		return sr != nil && uint64(sr.PacketCount) > stalled
	})
	testclock.WaitFor(t, "media past the stall", 60*time.Second, func() bool { return got.packets.Load() > stalled+100 })
	// The stalled one leaves: that does not wait on its link either.
	var left atomic.Bool
	go func() { stuck.peer.Close(); left.Store(true) }()
	testclock.WaitFor(t, "the stalled subscriber to leave", 20*time.Second, left.Load)
}

// TestKeyframeRequestFloodIsThrottled: a subscriber sends thousands of
// PLIs and FIRs for the track it receives, and as many naming SSRCs it
// does not receive; the publisher hears them throttled (one per 300 ms),
// not one each. Passed when written: it pins the throttle down where it lands.
func TestKeyframeRequestFloodIsThrottled(t *testing.T) {
	room := newSFURoom(t)
	p := joinRoom(t, room, "p", false)
	s := joinRoom(t, room, "s", false)
	sent, plis := p.publishFloodCountingPLIs()
	testclock.WaitFor(t, "media at the subscriber", 60*time.Second, func() bool {
		return s.received("p", sfu.SourceCamera).packets.Load() > 100
	})
	var ssrc uint32
	for _, tr := range s.sub.GetTransceivers() {
		if r := tr.Receiver(); r != nil && r.Track() != nil {
			ssrc = uint32(r.Track().SSRC())
		}
	}
	base, from := plis.Load(), sent.Load()
	const n = 3000
	for i := range uint32(n) {
		forged := []rtcp.Packet{
			&rtcp.PictureLossIndication{MediaSSRC: ssrc},
			&rtcp.FullIntraRequest{MediaSSRC: ssrc, FIR: []rtcp.FIREntry{{SSRC: ssrc, SequenceNumber: uint8(i)}}},
			&rtcp.PictureLossIndication{MediaSSRC: i + 1},
		}
		if err := s.sub.WriteRTCP(forged); err != nil {
			t.Fatal(err)
		}
	}
	testclock.WaitFor(t, "the publisher to send on", 60*time.Second, func() bool { return sent.Load() > from+200 })
	// One per 300 ms is a handful while the flood lasts; unthrottled it
	// would be thousands. The bound leaves a slow machine 45 s.
	if got := plis.Load() - base; got > n/20 {
		t.Errorf("the publisher heard %d keyframe requests for %d a subscriber sent", got, 2*n)
	}
}

// TestReceiveVideoToggleFloodIsThrottled: a subscriber turns its video
// off and on again thousands of times, waiting for a keyframe after each
// (its waits are sent when the throttle's gap ends, not dropped); the
// publisher hears at most one request per keyframeGap, not one a toggle,
// and the video comes back.
func TestReceiveVideoToggleFloodIsThrottled(t *testing.T) {
	room := newSFURoom(t)
	p := joinRoom(t, room, "p", false)
	s := joinRoom(t, room, "s", false)
	sent, plis := p.publishFloodCountingPLIs()
	video := func() uint64 { return s.received("p", sfu.SourceCamera).packets.Load() }
	testclock.WaitFor(t, "media at the subscriber", 60*time.Second, func() bool { return video() > 100 })
	base, from := plis.Load(), sent.Load()
	const n = 3000
	for range n {
		s.peer.SetReceiveVideo(false)
		s.peer.SetReceiveVideo(true)
	}
	testclock.WaitFor(t, "the publisher to send on", 60*time.Second, func() bool { return sent.Load() > from+200 })
	after := video()
	testclock.WaitFor(t, "the video back at the subscriber", 20*time.Second, func() bool { return video() > after+100 })
	// One per 300 ms is a handful while the toggles last; one a toggle
	// would be thousands. The bound leaves a slow machine 45 s.
	if got := plis.Load() - base; got > n/20 {
		t.Errorf("the publisher heard %d keyframe requests for %d toggles", got, n)
	}
}
