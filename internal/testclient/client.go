// Package testclient is a meeting participant driven from Go, for tests and
// load tests: it joins through the real HTTP and signaling path (a personal
// link or a host's login), publishes VP8 and Opus fixtures at real pace,
// receives and counts everyone else's media, and can misbehave on purpose.
package testclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
	"classmeet/internal/testclock"
)

// Options shape a client.
type Options struct {
	// Publish lists what to send once in the room (nil: microphone and camera).
	Publish []sfu.Source
	// Networks limits ICE (nil: UDP over IPv4). TCP only is a network that blocks UDP.
	Networks []webrtc.NetworkType
	// StopReading never reads received media: a subscriber that fell asleep.
	StopReading bool
	// RecordDir, if set, keeps every received video track as IVF there.
	RecordDir string
	// HoldMedia: do not publish on entering the room; StartMedia does.
	HoldMedia bool
	// AutoConsent answers "accept" or "decline" whenever the meeting asks
	// whether the client agrees to be recorded ("": no answer).
	AutoConsent string
	// Simulcast sends the camera in three layers (q, h, f: 80×60, 160×120,
	// 320×240), as the browser client does.
	Simulcast bool
	// SendLoss drops this fraction of the publishing connection's outgoing
	// UDP packets at random: a lossy uplink, which NACKs must repair.
	SendLoss float64
	// Relay ("udp" or "tcp"), if set, reaches the server only through the
	// TURN server its welcome lists, over that transport: iceTransportPolicy
	// relay, so relay candidates only, as a browser on a network that lets
	// nothing else out.
	Relay string
	// Logf, if set, receives the client's notes.
	Logf func(format string, args ...any)
}

// Client is one participant.
type Client struct {
	Base string // the server, e.g. http://127.0.0.1:8080
	Name string

	opts  Options
	http  *http.Client
	media *media

	wsMu   sync.Mutex
	ws     *websocket.Conn
	socket string // path of the meeting's WebSocket
	seq    atomic.Uint64
	cancel context.CancelFunc
	done   chan struct{}

	mu       sync.Mutex
	changed  chan struct{} // closed and replaced whenever a message arrives
	messages []meeting.ServerMessage
	welcome  *meeting.Welcome
	closed   error
}

// New makes a client of the server at base.
func New(base, name string, opts Options) (*Client, error) {
	if opts.Publish == nil {
		opts.Publish = []sfu.Source{sfu.SourceMicrophone, sfu.SourceCamera}
	}
	if opts.Networks == nil {
		opts.Networks = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	}
	jar, _ := cookiejar.New(nil)
	c := &Client{Base: base, Name: name, opts: opts, changed: make(chan struct{}),
		http: &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	c.media = newMedia(c)
	return c, nil
}

func (c *Client) logf(format string, args ...any) {
	if c.opts.Logf != nil {
		c.opts.Logf(c.Name+": "+format, args...)
	}
}

// Login signs in as a staff member.
func (c *Client) Login(ctx context.Context, email, password string) error {
	resp, err := c.post(ctx, "/login", url.Values{"email": {email}, "password": {password}})
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("testclient: login as %s: %s", email, resp.Status)
	}
	return nil
}

// JoinAsHost joins the meeting the signed-in teacher owns.
func (c *Client) JoinAsHost(ctx context.Context, meetingID string) error {
	return c.join(ctx, "/meetings/"+meetingID+"/join")
}

// JoinLink joins through a personal link (its path, /j/...).
func (c *Client) JoinLink(ctx context.Context, linkPath string) error {
	return c.join(ctx, linkPath+"/join")
}

// JoinToken asks for a join token at path and returns it with the socket path.
func (c *Client) JoinToken(ctx context.Context, path string) (token, socket string, err error) {
	resp, err := c.post(ctx, path, url.Values{"display_name": {c.Name}})
	if err != nil {
		return "", "", err
	}
	defer resp.Body.Close()
	var body struct{ Token, Socket, Error string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", "", fmt.Errorf("testclient: join %s: %s", path, resp.Status)
	}
	if resp.StatusCode != http.StatusOK {
		return "", "", fmt.Errorf("testclient: join %s: %s: %s", path, resp.Status, body.Error)
	}
	return body.Token, body.Socket, nil
}

func (c *Client) join(ctx context.Context, path string) error {
	token, socket, err := c.JoinToken(ctx, path)
	if err != nil {
		return err
	}
	if err := c.Connect(ctx, socket); err != nil {
		return err
	}
	if err := c.Send(&meeting.Join{Token: token}); err != nil {
		return err
	}
	_, err = c.WaitFor(ctx, func(m meeting.ServerMessage) bool { _, ok := m.(*meeting.Welcome); return ok })
	return err
}

// Get fetches a page with the client's cookies and returns its body; a
// status other than 200 is an error.
func (c *Client) Get(ctx context.Context, path string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.Base+path, nil)
	if err != nil {
		return "", err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("testclient: GET %s: %s", path, resp.Status)
	}
	return string(body), err
}

// PostForm posts a form as the signed-in user would, expecting a redirect.
func (c *Client) PostForm(ctx context.Context, path string, form url.Values) error {
	resp, err := c.post(ctx, path, form)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		return fmt.Errorf("testclient: post %s: %s", path, resp.Status)
	}
	return nil
}

func (c *Client) post(ctx context.Context, path string, form url.Values) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.Base+path, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", c.Base)
	return c.http.Do(req)
}

// Connect opens the meeting's WebSocket (as a browser on the server's own
// origin would) and starts reading it; nothing is sent.
func (c *Client) Connect(ctx context.Context, socket string) error {
	u := "ws" + strings.TrimPrefix(c.Base, "http") + socket
	ws, _, err := websocket.Dial(ctx, u, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {c.Base}}})
	if err != nil {
		return fmt.Errorf("testclient: dial %s: %w", socket, err)
	}
	ws.SetReadLimit(1 << 20)
	rctx, cancel := context.WithCancel(context.Background())
	c.wsMu.Lock()
	c.ws, c.socket, c.cancel, c.done = ws, socket, cancel, make(chan struct{})
	c.seq.Store(0)
	done := c.done
	c.wsMu.Unlock()
	go c.readLoop(rctx, ws, done)
	return nil
}

// Send sends a message with the next seq.
func (c *Client) Send(m meeting.ClientMessage) error {
	c.wsMu.Lock()
	defer c.wsMu.Unlock()
	if c.ws == nil {
		return errors.New("testclient: not connected")
	}
	setSeq(m, c.seq.Add(1))
	b, err := meeting.EncodeClient(m)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, b)
}

// SendRaw sends bytes as one text message, to misbehave.
func (c *Client) SendRaw(b []byte) error {
	c.wsMu.Lock()
	defer c.wsMu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return c.ws.Write(ctx, websocket.MessageText, b)
}

// NextSeq is the seq the next message will carry, for hand-made messages.
func (c *Client) NextSeq() uint64 { return c.seq.Add(1) }

func setSeq(m meeting.ClientMessage, seq uint64) {
	b, _ := json.Marshal(map[string]uint64{"seq": seq})
	_ = json.Unmarshal(b, m)
}

func (c *Client) readLoop(ctx context.Context, ws *websocket.Conn, done chan struct{}) {
	defer close(done)
	for {
		_, data, err := ws.Read(ctx)
		if err != nil {
			c.record(nil, err)
			return
		}
		m, err := meeting.DecodeServer(data)
		if err != nil {
			c.logf("undecodable server message: %v", err)
			continue
		}
		c.handle(m)
		c.record(m, nil)
	}
}

func (c *Client) handle(m meeting.ServerMessage) {
	var err error
	switch m := m.(type) {
	case *meeting.Welcome:
		c.mu.Lock()
		c.welcome = m
		c.mu.Unlock()
		if m.Presence == meeting.PresenceRoom && c.media.pub == nil && !c.opts.HoldMedia {
			err = c.media.publish(c.opts.Publish)
		}
		c.consent(m.Recording)
	case *meeting.Admitted:
		if !c.opts.HoldMedia {
			err = c.media.publish(c.opts.Publish)
		}
	case *meeting.Recording:
		c.consent(m.RecordingStatus)
	case *meeting.ServerOffer:
		err = c.media.handleOffer(m)
	case *meeting.ServerAnswer:
		err = c.media.handleAnswer(m)
	case *meeting.Error:
		c.logf("server refused seq %d: %s: %s", m.InReplyTo, m.Code, m.Message)
	}
	if err != nil {
		c.logf("handling %T: %v", m, err)
	}
}

// consent answers a pending question about being recorded, if the client
// is set to.
func (c *Client) consent(st meeting.RecordingStatus) {
	if !st.Active || st.Consent != meeting.ConsentPending || c.opts.AutoConsent == "" {
		return
	}
	go func() { // not from the read loop: Send may wait
		if err := c.Send(&meeting.Consent{Accept: c.opts.AutoConsent == "accept"}); err != nil {
			c.logf("consent: %v", err)
		}
	}()
}

// StartMedia publishes what Options.Publish lists, for a client that held
// its media back.
func (c *Client) StartMedia() error { return c.media.publish(c.opts.Publish) }

// Republish renegotiates the publishing connection to send exactly these
// sources (under the client's Labels): removing a screen, adding it again.
func (c *Client) Republish(sources []sfu.Source) error { return c.media.renegotiate(sources) }

// Relabel lies in every later offer about what the client sends: the track
// of each key is labelled as its value (a microphone offered as a "camera").
func (c *Client) Relabel(labels map[sfu.Source]sfu.Source) {
	c.media.mu.Lock()
	defer c.media.mu.Unlock()
	c.media.labels = labels
}

// ReceivedOfKind adds up what arrived from a participant in media of one
// kind, whatever the server labelled the tracks.
func (c *Client) ReceivedOfKind(participant string, kind webrtc.RTPCodecType) uint64 {
	c.media.mu.Lock()
	defer c.media.mu.Unlock()
	var n uint64
	for k, r := range c.media.received {
		if k.Participant == participant && r.kind.Load() == uint32(kind) {
			n += r.Packets.Load()
		}
	}
	return n
}

func (c *Client) record(m meeting.ServerMessage, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if m != nil {
		c.messages = append(c.messages, m)
	}
	if err != nil {
		c.closed = err
	}
	close(c.changed)
	c.changed = make(chan struct{})
}

// WaitFor waits until a received message (one already here, or a new one)
// satisfies pred, and returns it.
func (c *Client) WaitFor(ctx context.Context, pred func(meeting.ServerMessage) bool) (meeting.ServerMessage, error) {
	seen := 0
	for {
		c.mu.Lock()
		for ; seen < len(c.messages); seen++ {
			if pred(c.messages[seen]) {
				m := c.messages[seen]
				c.mu.Unlock()
				return m, nil
			}
		}
		changed, closed := c.changed, c.closed
		c.mu.Unlock()
		if closed != nil {
			return nil, fmt.Errorf("testclient: %s: connection closed: %w", c.Name, closed)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("testclient: %s: %w", c.Name, ctx.Err())
		case <-changed:
		}
	}
}

// Messages returns every message received so far.
func (c *Client) Messages() []meeting.ServerMessage {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]meeting.ServerMessage(nil), c.messages...)
}

// Welcome is the latest welcome.
func (c *Client) Welcome() *meeting.Welcome {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.welcome
}

// ID is the participant id the server gave.
func (c *Client) ID() string {
	if w := c.Welcome(); w != nil {
		return w.You.ID
	}
	return ""
}

// Closed reports whether the WebSocket closed, and why.
func (c *Client) Closed() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

// Received returns the counters of one track received from a participant.
func (c *Client) Received(participant string, source sfu.Source) *Received {
	c.media.mu.Lock()
	defer c.media.mu.Unlock()
	if r := c.media.received[Key{participant, source}]; r != nil {
		return r
	}
	return &Received{}
}

// ReceivedTracks lists the tracks received so far.
func (c *Client) ReceivedTracks() []Key {
	c.media.mu.Lock()
	defer c.media.mu.Unlock()
	keys := make([]Key, 0, len(c.media.received))
	for k := range c.media.received {
		keys = append(keys, k)
	}
	return keys
}

// Sent counts the RTP packets sent from a source.
func (c *Client) Sent(source sfu.Source) uint64 {
	c.media.mu.Lock()
	defer c.media.mu.Unlock()
	if s := c.media.sent[source]; s != nil {
		return s.Load()
	}
	return 0
}

// SentMedia is what a source sent: RTP timestamps and times of the first
// and last packets (by the test clock, as the server's dates are), and for
// video the frames.
type SentMedia struct {
	Frames          int
	FirstTS, LastTS uint32
	FirstAt, LastAt time.Time
}

// Sent describes what a source has sent so far.
func (c *Client) SentMedia(source sfu.Source) SentMedia {
	c.media.mu.Lock()
	defer c.media.mu.Unlock()
	if s := c.media.sentLog[source]; s != nil {
		return *s
	}
	return SentMedia{}
}

// LostSent counts the packets SendLoss dropped, of those it was drawn for
// (every packet the publishing connection sent while SendLoss was set).
func (c *Client) LostSent() (lost, of uint64) {
	c.media.mu.Lock()
	defer c.media.mu.Unlock()
	for _, b := range c.media.udp {
		lost += b.lost.Load()
		of += b.offered.Load()
	}
	return lost, of
}

// SizeVideo tells the server how large the client shows a participant's
// camera or screen (0x0: not shown).
func (c *Client) SizeVideo(participant string, source sfu.Source, width, height int) error {
	return c.Send(&meeting.VideoSize{Participant: participant, Source: string(source), Width: width, Height: height})
}

// ReceiveVideo asks the server to send this client video (on) or audio only.
func (c *Client) ReceiveVideo(on bool) error {
	return c.Send(&meeting.ReceiveVideo{On: &on})
}

// PauseAudio stops (true) or resumes sending microphone packets. It returns
// once no packet is on its way out: the last one sent is known.
func (c *Client) PauseAudio(paused bool) {
	c.media.audioMu.Lock()
	defer c.media.audioMu.Unlock()
	c.media.audioPaused = paused
}

// Drop simulates a network drop: the WebSocket dies and UDP goes silent for
// d; then the client resumes, keeping its PeerConnections and restarting ICE.
func (c *Client) Drop(ctx context.Context, d time.Duration) error {
	w := c.Welcome()
	if w == nil {
		return errors.New("testclient: not joined")
	}
	c.media.blockUDP(true)
	c.wsMu.Lock()
	ws, socket, done := c.ws, c.socket, c.done
	c.ws = nil
	c.wsMu.Unlock()
	ws.CloseNow()
	<-done
	time.Sleep(d)
	c.media.blockUDP(false)
	c.mu.Lock()
	c.closed = nil
	c.mu.Unlock()
	before := len(c.Messages())
	if err := c.Connect(ctx, socket); err != nil {
		return err
	}
	if err := c.Send(&meeting.Resume{Resume: w.Resume, KeepMedia: true}); err != nil {
		return err
	}
	n := 0
	if _, err := c.WaitFor(ctx, func(m meeting.ServerMessage) bool {
		n++
		_, ok := m.(*meeting.Welcome)
		return ok && n > before
	}); err != nil {
		return err
	}
	if c.Welcome().Presence != meeting.PresenceRoom {
		return nil // back in the lobby: no media to restart
	}
	if err := c.media.restartPublishing(); err != nil {
		return err
	}
	return c.Send(&meeting.RestartICE{})
}

// Leave leaves the meeting and closes everything.
func (c *Client) Leave() {
	c.wsMu.Lock()
	ws := c.ws
	c.wsMu.Unlock()
	if ws != nil {
		_ = c.Send(&meeting.Leave{})
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		_, _ = c.WaitFor(ctx, func(meeting.ServerMessage) bool { return false }) // until the server closes
		cancel()
	}
	c.Close()
}

// Close drops everything without saying goodbye.
func (c *Client) Close() {
	c.wsMu.Lock()
	ws, cancel, done := c.ws, c.cancel, c.done
	c.ws = nil
	c.wsMu.Unlock()
	if ws != nil {
		ws.CloseNow()
		cancel()
		<-done
	}
	c.media.close()
}

// Expect waits (10 s at most) for a message of type T from the server that
// satisfies pred (nil: any), one already received or a new one, and fails
// the test if none comes.
func Expect[T meeting.ServerMessage](t testing.TB, c *Client, pred func(T) bool) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	m, err := c.WaitFor(ctx, func(m meeting.ServerMessage) bool {
		v, ok := m.(T)
		return ok && (pred == nil || pred(v))
	})
	if err != nil {
		var zero T
		t.Fatalf("%s waiting for %T: %v", c.Name, zero, err)
	}
	return m.(T)
}

// HearEachOther waits until each client receives audio and video from each
// other client, and fails the test if one does not within a minute: a
// bound on a hang, not a speed (on a busy two-core machine running every
// test package at once, a first packet has taken over 20 s).
func HearEachOther(t testing.TB, cs []*Client) {
	t.Helper()
	for _, a := range cs {
		for _, b := range cs {
			if a == b {
				continue
			}
			for _, src := range []sfu.Source{sfu.SourceMicrophone, sfu.SourceCamera} {
				testclock.WaitFor(t, a.Name+" receives "+b.Name+"'s "+string(src), 60*time.Second, func() bool {
					return a.Received(b.ID(), src).Packets.Load() > 0
				})
			}
		}
	}
}

// Play lets the client's camera send d more of media, measured by the
// camera's own RTP clock, so a test that wants "10 s recorded" gets 10 s of
// media whatever the machine's speed. It fails the test if that takes far
// longer than d. The camera must be sending already.
func (c *Client) Play(t testing.TB, d time.Duration) {
	t.Helper()
	start := c.SentMedia(sfu.SourceCamera).LastTS
	ticks := uint32(d * 90000 / time.Second)
	testclock.WaitFor(t, fmt.Sprintf("%s to send %v of video", c.Name, d), 3*d+20*time.Second, func() bool {
		return c.SentMedia(sfu.SourceCamera).LastTS-start >= ticks
	})
}
