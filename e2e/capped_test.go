package e2e

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"classmeet/internal/pgtest"
	"classmeet/internal/store"
	"classmeet/internal/testclock"
)

// linkMeter keeps every RTCPeerConnection the page makes and samples their
// statistics four times a second into window.__meter: what arrives (the
// received video's size, bytes, packets, losses, frames and freezes; the
// audio's packets, losses and concealment) and what the page sends (each
// simulcast encoding's size and bytes). The test reads the latest sample
// and the window statistics, so freezes and stalls shorter than the gap
// between two of its reads are still seen.
const linkMeter = `(() => {
	const Real = window.RTCPeerConnection;
	window.__pcs = [];
	function Kept(...args) {
		const pc = new Real(...args);
		window.__pcs.push(pc);
		return pc;
	}
	Kept.prototype = Real.prototype;
	Object.setPrototypeOf(Kept, Real);
	window.RTCPeerConnection = Kept;

	const m = { last: null, firstFrameAt: 0, frameAt: 0, heightSince: 0, longestFreeze: 0, longestStall: 0, heights: [], pausedSec: 0, changes: [] };
	async function sample() {
		const s = { at: performance.now(), vw: 0, vh: 0, vBytes: 0, vPackets: 0, vLost: 0, frames: 0, freezes: 0, freezeSec: 0,
			aBytes: 0, aPackets: 0, aLost: 0, aSamples: 0, aConcealed: 0, out: [] };
		let most = -1;
		for (const pc of window.__pcs) {
			if (pc.connectionState === 'closed') continue;
			const stats = await pc.getStats();
			stats.forEach(r => {
				if (r.type === 'outbound-rtp' && r.kind === 'video') {
					const remote = r.remoteId ? stats.get(r.remoteId) : null;
					s.out.push({ rid: r.rid || '', w: r.frameWidth || 0, h: r.frameHeight || 0, fps: r.framesPerSecond || 0,
						bytes: r.bytesSent || 0, packets: r.packetsSent || 0, limit: r.qualityLimitationReason || '',
						lost: remote ? remote.packetsLost : -1 });
				}
				if (r.type !== 'inbound-rtp') return;
				if (r.kind === 'audio') {
					s.aBytes += r.bytesReceived; s.aPackets += r.packetsReceived; s.aLost += r.packetsLost;
					s.aSamples += r.totalSamplesReceived || 0; s.aConcealed += r.concealedSamples || 0;
					return;
				}
				s.vBytes += r.bytesReceived; s.vPackets += r.packetsReceived; s.vLost += r.packetsLost;
				s.frames += r.framesDecoded || 0; s.freezes += r.freezeCount || 0; s.freezeSec += r.totalFreezesDuration || 0;
				if (r.packetsReceived > most) { most = r.packetsReceived; s.vw = r.frameWidth || 0; s.vh = r.frameHeight || 0; }
			});
		}
		return s;
	}
	function note(s) {
		const p = m.last;
		if (s.frames > 0 && !m.firstFrameAt) m.firstFrameAt = s.at;
		if (p && s.freezes > p.freezes) m.longestFreeze = Math.max(m.longestFreeze, s.freezeSec - p.freezeSec);
		if (!p || s.vh !== p.vh) {
			m.heightSince = s.at;
			m.changes = [...m.changes.slice(-20), { h: s.vh, at: s.at }];
		}
		if (!p || s.frames > p.frames) m.frameAt = s.at;
		else if (m.frameAt) m.longestStall = Math.max(m.longestStall, (s.at - m.frameAt) / 1000);
		if (s.vh && !m.heights.includes(s.vh)) m.heights.push(s.vh);
		// How long a tile said the server paused its video (audio first).
		if (p && document.querySelector('.tile.video-paused:not(.self)')) m.pausedSec += (s.at - p.at) / 1000;
		m.last = s;
	}
	let busy = false;
	setInterval(async () => {
		if (busy) return; // a slow getStats is not queued behind
		busy = true;
		try { note(await sample()); } finally { busy = false; }
	}, 250);
	m.now = () => ({ ...(m.last || { at: performance.now(), out: [] }), firstFrameAt: m.firstFrameAt, heightSince: m.heightSince, stalledFor: m.last && m.frameAt ? (m.last.at - m.frameAt) / 1000 : 0 });
	m.reset = () => { m.longestFreeze = 0; m.longestStall = 0; m.heights = []; m.pausedSec = 0; return m.now(); };
	m.window = () => ({ longestFreeze: m.longestFreeze, longestStall: m.longestStall, heights: m.heights, pausedSec: m.pausedSec });
	m.path = (since) => m.changes.filter(c => c.at >= since).map(c => c.h + ' high at +' + ((c.at - since) / 1000).toFixed(1) + ' s').join(', ');
	window.__meter = m;
})();`

// steadyUplink holds the send-side estimate of every PeerConnection the
// page makes at 2.5 Mbit/s or more (x-google-min-bitrate in the answers it
// is given), enough for the camera's three layers: the teacher's link is
// not what the test measures, and on a busy machine the delay its
// estimate sees would otherwise make Chromium stop sending the top layer.
const steadyUplink = `(() => {
	const real = RTCPeerConnection.prototype.setRemoteDescription;
	const floor = 'x-google-min-bitrate=2500;x-google-start-bitrate=2500';
	RTCPeerConnection.prototype.setRemoteDescription = function (d, ...rest) {
		if (d && d.type === 'answer' && d.sdp) {
			let sdp = d.sdp;
			for (const [, pt] of sdp.matchAll(/a=rtpmap:(\d+) VP8\/90000\r\n/g)) {
				const fmtp = new RegExp('a=fmtp:' + pt + ' ([^\r]*)\r\n');
				sdp = fmtp.test(sdp)
					? sdp.replace(fmtp, (line, params) => 'a=fmtp:' + pt + ' ' + params + ';' + floor + '\r\n')
					: sdp.replace('a=rtpmap:' + pt + ' VP8/90000\r\n', line => line + 'a=fmtp:' + pt + ' ' + floor + '\r\n');
			}
			d = { type: d.type, sdp };
		}
		return real.call(this, d, ...rest);
	};
})();`

// linkSample is one of linkMeter's samples, read at the page's time At (ms).
type linkSample struct {
	At           float64 `json:"at"`
	FirstFrameAt float64 `json:"firstFrameAt"`
	HeightSince  float64 `json:"heightSince"` // when the received video took the height it has
	StalledFor   float64 `json:"stalledFor"`  // seconds since the received video last decoded a frame
	VW           int     `json:"vw"`
	VH           int     `json:"vh"`
	VBytes       float64 `json:"vBytes"`
	VPackets     int     `json:"vPackets"`
	VLost        int     `json:"vLost"`
	Frames       int     `json:"frames"`
	Freezes      int     `json:"freezes"`
	FreezeSec    float64 `json:"freezeSec"`
	ABytes       float64 `json:"aBytes"`
	APackets     int     `json:"aPackets"`
	ALost        int     `json:"aLost"`
	ASamples     float64 `json:"aSamples"`
	AConcealed   float64 `json:"aConcealed"`
	Out          []struct {
		Rid     string  `json:"rid"`
		W       int     `json:"w"`
		H       int     `json:"h"`
		FPS     float64 `json:"fps"`
		Bytes   float64 `json:"bytes"`
		Packets int     `json:"packets"`
		Lost    int     `json:"lost"` // as the server's receiver reports say, -1 before one
		Limit   string  `json:"limit"`
	} `json:"out"`
}

// meterWindow is what linkMeter saw since its last reset.
type meterWindow struct {
	LongestFreeze float64 `json:"longestFreeze"` // seconds, from the freeze statistics
	LongestStall  float64 `json:"longestStall"`  // seconds without a decoded frame, as sampled
	Heights       []int   `json:"heights"`       // the received video heights seen
	PausedSec     float64 `json:"pausedSec"`     // seconds a tile said its video was paused
}

// linkDelta is what arrived between two samples.
type linkDelta struct {
	secs                 float64
	videoKbit, audioKbit float64
	videoLoss, audioLoss float64 // lost / expected
	frames, audioPackets int
	concealed            float64 // audio samples concealed / received
}

func delta(a, b linkSample) linkDelta {
	secs := (b.At - a.At) / 1000
	loss := func(lost, got int) float64 {
		if lost <= 0 {
			return 0
		}
		return float64(lost) / float64(lost+got)
	}
	d := linkDelta{
		secs:         secs,
		videoKbit:    (b.VBytes - a.VBytes) * 8 / 1000 / secs,
		audioKbit:    (b.ABytes - a.ABytes) * 8 / 1000 / secs,
		videoLoss:    loss(b.VLost-a.VLost, b.VPackets-a.VPackets),
		audioLoss:    loss(b.ALost-a.ALost, b.APackets-a.APackets),
		frames:       b.Frames - a.Frames,
		audioPackets: b.APackets - a.APackets,
	}
	if n := b.ASamples - a.ASamples; n > 0 {
		d.concealed = (b.AConcealed - a.AConcealed) / n
	}
	return d
}

// withMeter installs linkMeter on the person's pages from the next one loaded on.
func (p *person) withMeter() {
	p.t.Helper()
	p.onEveryPage("keep the page's connections", linkMeter)
}

// onEveryPage runs script on each page the person loads from now on,
// before the page's own scripts.
func (p *person) onEveryPage(what, script string) {
	p.t.Helper()
	p.do(what, chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: script})
		return err
	}))
}

func (p *person) sample() linkSample {
	p.t.Helper()
	return eval[linkSample](p, `window.__meter.now()`)
}

// resetMeter starts a window of measurement and returns its first sample.
func (p *person) resetMeter() linkSample {
	p.t.Helper()
	return eval[linkSample](p, `window.__meter.reset()`)
}

func (p *person) meterWindow() meterWindow {
	p.t.Helper()
	return eval[meterWindow](p, `window.__meter.window()`)
}

// waitPageTime waits until the page has sampled at or after its time at
// (ms): a window of measurement ends when the page measured it, however
// slowly the test reads.
func (p *person) waitPageTime(at float64) {
	p.t.Helper()
	within := time.Duration(max(at-p.sample().At, 0))*time.Millisecond + 30*time.Second
	ctx, cancel := context.WithTimeout(p.ctx, within+5*time.Second)
	defer cancel()
	js := fmt.Sprintf(`!!window.__meter.last && window.__meter.last.at >= %f`, at)
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](js, chromedp.WithPollingInterval(250*time.Millisecond), chromedp.WithPollingTimeout(within))); err != nil {
		p.t.Fatalf("%s: the page's clock never reached %.0f ms: %v", p.name, at, err)
	}
}

// encodingHeights is the height the teacher's camera is sent at in each
// simulcast layer (q, h, f), 0 for a layer not being sent now (Chromium
// keeps a paused layer's last size and bytes).
func encodingHeights(s linkSample) [3]int {
	var h [3]int
	for _, o := range s.Out {
		if i := strings.Index("qhf", o.Rid); o.Rid != "" && i >= 0 && o.FPS > 0 {
			h[i] = o.H
		}
	}
	return h
}

// cappedParent is a parent's Chromium in a namespace whose downlink is
// capped at kbit, and the layer of the teacher's camera that cap fits.
type cappedParent struct {
	*person
	ns      *netNS
	kbit    int
	layer   int
	teacher *person // whose layers it is measured against
}

// TestSubscribersOnCappedLinks: a teacher's Chromium sends its camera in
// three simulcast layers; three parents' Chromiums, each in a network
// namespace whose downlink is capped at 300 kbit/s, 1 Mbit/s and 5 Mbit/s
// and each showing the teacher's tile large, receive the layer their link
// fits within 10 s of the first frame (measured at each parent: the
// received resolution against the teacher's layers), then lose under 1 %
// of the video and never freeze over a second. Lifting the 300 kbit/s cap
// brings that parent the top layer within 15 s; lowering it to 60 kbit/s
// pauses the teacher's video there ("Video paused — weak connection" on the
// tile, no frames arrive) while the teacher's audio goes on with under 2 %
// loss. The figures measured are logged (docs/networks.md, "Capped links").
func TestSubscribersOnCappedLinks(t *testing.T) {
	tns := newNetNS(t, "cmcapt") // the teacher's network, and the server's address
	srv := startServerIn(t, tns)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	names := []string{"Mr Jones", "Mrs Patel", "Mr Okafor"}
	mid, links := srv.seedMeeting(t, "smith@school.example", store.LobbyInviteesAdmitted, names...)

	camera := chromedp.Flag("use-file-for-fake-video-capture", busyCamera(t))
	teacher := newPerson(t, tns.chromium(t, srv.URL, camera), "teacher")
	teacher.withMeter()
	teacher.onEveryPage("hold the uplink estimate up", steadyUplink)
	teacher.login(srv, "smith@school.example", teacherPW)
	teacher.enterRoom(srv.URL + "/meetings/" + mid + "/room")
	teacherLayers(t, teacher)

	var parents []*cappedParent
	for i, c := range []struct{ kbit, layer int }{{300, 0}, {1000, 1}, {5000, 2}} {
		ns := newNetNS(t, "cmcap")
		ns.shape(t, c.kbit)
		// A large window with the teacher pinned: the tile asks for the top
		// layer, so what each parent gets is the link's choice.
		p := &cappedParent{person: newPerson(t, ns.chromium(t, srv.URL, chromedp.WindowSize(1400, 900)), names[i]), ns: ns, kbit: c.kbit, layer: c.layer, teacher: teacher}
		p.refuseDevices(`() => true`) // listening and watching: the link carries the teacher alone
		p.withMeter()
		p.joinListening(srv.URL + links[i])
		p.click("pin the teacher", tile("Ms Smith")+`?.querySelector('[data-testid="tile-pin"]')`)
		p.waitFor("see the teacher large", tile("Ms Smith")+`.classList.contains('main')`)
		parents = append(parents, p)
	}
	for _, p := range parents {
		p.waitFor("see the teacher's video play", playing(remoteVideo("Ms Smith")))
		t.Logf("%s (%d kbit/s): the teacher's tile is %s", p.name, p.kbit, p.teacherTile())
	}

	for _, p := range parents {
		p.settlesOn(t, p.layer, "the first frame", 10*time.Second, 0)
	}
	steadyWindow(t, parents)

	weak := parents[0]
	weak.ns.unshape(t)
	lifted := weak.sample().At
	weak.settlesOn(t, 2, "the 300 kbit/s cap was lifted", 15*time.Second, lifted)

	weak.ns.shape(t, 60)
	weak.pausesVideo(t)
}

// busyCamera writes a second of ffmpeg's testsrc2 at 1280x720, 30 fps, for
// the teacher's fake camera: Chromium's own test pattern is so easy to
// encode that its layers use half their bitrates (and Chromium pads the
// rest), while this one fills each layer's (150 kbit/s, 500 kbit/s and
// 1.5 Mbit/s), as a real classroom camera does. Each cap then fits one layer.
func busyCamera(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "testsrc2.y4m")
	cmd := exec.Command("ffmpeg", "-v", "error", "-f", "lavfi", "-i", "testsrc2=size=1280x720:rate=30", "-frames:v", "30", "-pix_fmt", "yuv420p", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg: make the teacher's camera picture: %v: %s", err, out)
	}
	return path
}

// startServerIn runs classmeet with its web and media addresses on the
// host end of ns: every namespace reaches it through its own veth, and
// what it sends each parent leaves through that parent's (capped) one.
func startServerIn(t *testing.T, ns *netNS) *server {
	t.Helper()
	addr := fmt.Sprintf("%s:%d", ns.hostIP, freePort(t))
	srv := &server{URL: "http://" + addr, DB: pgtest.NewDatabase(t), DataDir: t.TempDir()}
	srv.Env = []string{
		"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + srv.DB, "CLASSMEET_SECRET=" + e2eSecret,
		"CLASSMEET_ADDR=" + addr, "CLASSMEET_LOG_LEVEL=debug", "CLASSMEET_DATA_DIR=" + srv.DataDir,
		"CLASSMEET_RTC_BIND_IP=" + ns.hostIP, "CLASSMEET_RTC_UDP_PORT=0", "CLASSMEET_RTC_TCP_PORT=0",
	}
	srv.start(t)
	return srv
}

// teacherLayers waits for the teacher's browser to send all three layers
// (its send-side estimate starts low and adds the top layer as it grows)
// and logs what Chromium really sends.
func teacherLayers(t *testing.T, teacher *person) {
	t.Helper()
	var s linkSample
	testclock.WaitFor(t, "the teacher's browser to send three layers", 60*time.Second, func() bool {
		s = teacher.sample()
		h := encodingHeights(s)
		return h[0] > 0 && h[0] < h[1] && h[1] < h[2]
	})
	logSent(t, s, "at the start")
}

// logSent logs each layer the teacher sends and what the server's receiver
// reports say it lost of it.
func logSent(t *testing.T, s linkSample, when string) {
	t.Helper()
	for _, o := range s.Out {
		t.Logf("teacher's layer %q %s: %dx%d, %.0f fps (limited by %q), %d packets sent, %d lost on the way to the server",
			o.Rid, when, o.W, o.H, o.FPS, o.Limit, o.Packets, o.Lost)
	}
}

// settlesOn waits for the parent to receive the teacher's layer, and
// checks it did within `within` of the page's time since (0: since the
// first frame it decoded), counted where the video arrives.
func (p *cappedParent) settlesOn(t *testing.T, layer int, since string, within time.Duration, sinceAt float64) {
	t.Helper()
	var s linkSample
	var want [3]int
	ok := testclock.Poll(within+30*time.Second, func() bool {
		want = encodingHeights(p.teacher.sample())
		s = p.sample()
		return s.VH != 0 && s.VH == want[layer]
	})
	if !ok {
		t.Errorf("%s (%d kbit/s): receives %dx%d, never the teacher's layer %d (%d high; the layers are %v; the tile is %s)",
			p.name, p.kbit, s.VW, s.VH, layer, want[layer], want, p.teacherTile())
		return
	}
	if sinceAt == 0 {
		sinceAt = s.FirstFrameAt
	}
	took := time.Duration(max(s.HeightSince-sinceAt, 0)) * time.Millisecond
	t.Logf("%s (%d kbit/s): after %s: %s", p.name, p.kbit, since, eval[string](p.person, fmt.Sprintf(`window.__meter.path(%f)`, sinceAt)))
	t.Logf("%s (%d kbit/s): receives %dx%d (layer %d) %v after %s", p.name, p.kbit, s.VW, s.VH, layer, took.Round(100*time.Millisecond), since)
	if took > within {
		t.Errorf("%s (%d kbit/s): took %v after %s to receive layer %d, want within %v", p.name, p.kbit, took, since, layer, within)
	}
}

// steadyWindow measures, at each parent, 20 s of what arrives after its
// first 10 s: the layer holds, under 1 % of the video is lost and nothing
// freezes for over a second.
func steadyWindow(t *testing.T, parents []*cappedParent) {
	t.Helper()
	for _, p := range parents {
		p.waitPageTime(p.sample().FirstFrameAt + 10_000)
	}
	starts := make([]linkSample, len(parents))
	for i, p := range parents {
		starts[i] = p.resetMeter()
	}
	defer func() { logSent(t, parents[0].teacher.sample(), "after the steady window") }()
	for i, p := range parents {
		p.waitPageTime(starts[i].At + 20_000)
		end, w := p.sample(), p.meterWindow()
		d := delta(starts[i], end)
		t.Logf("%s (%d kbit/s) over %.1f s: %dx%d, video %.0f kbit/s, %.2f %% lost, %.1f fps, %d freezes (longest %.2f s, longest stall %.2f s, paused %.1f s); audio %.0f pkt/s, %.2f %% lost, %.2f %% concealed",
			p.name, p.kbit, d.secs, end.VW, end.VH, d.videoKbit, 100*d.videoLoss, float64(d.frames)/d.secs, end.Freezes-starts[i].Freezes,
			w.LongestFreeze, w.LongestStall, w.PausedSec, float64(d.audioPackets)/d.secs, 100*d.audioLoss, 100*d.concealed)
		want := encodingHeights(p.teacher.sample())[p.layer]
		if len(w.Heights) != 1 || w.Heights[0] != want {
			t.Errorf("%s (%d kbit/s): received heights %v in the window, want only %d (layer %d)", p.name, p.kbit, w.Heights, want, p.layer)
		}
		if d.videoLoss >= 0.01 {
			t.Errorf("%s (%d kbit/s): lost %.2f %% of the video, want under 1 %%", p.name, p.kbit, 100*d.videoLoss)
		}
		if longest := max(w.LongestFreeze, w.LongestStall); longest > 1 {
			t.Errorf("%s (%d kbit/s): the video froze for %.2f s, want no freeze over 1 s", p.name, p.kbit, longest)
		}
	}
}

// pausesVideo: on a link too weak for the lowest layer the teacher's tile
// says so, no video arrives, and the teacher's audio arrives over 12 s
// with under 2 % loss.
func (p *cappedParent) pausesVideo(t *testing.T) {
	t.Helper()
	from := p.sample().At
	pausedNote := tile("Ms Smith") + `?.querySelector('[data-testid="tile-paused"]')`
	shown := `(n => !!n && !n.hidden && n.textContent === 'Video paused — weak connection')(` + pausedNote + `)`
	var s linkSample
	if !testclock.Poll(45*time.Second, func() bool { s = p.sample(); return eval[bool](p.person, shown) }) {
		t.Errorf("%s at 60 kbit/s: the teacher's tile never said the video is paused (it says %q; the video arrives at %dx%d)",
			p.name, eval[string](p.person, `(`+pausedNote+`)?.textContent ?? 'no tile'`), s.VW, s.VH)
		return
	}
	t.Logf("%s at 60 kbit/s: the teacher's tile says the video is paused %.1f s after the cap", p.name, (s.At-from)/1000)
	if !testclock.Poll(30*time.Second, func() bool { return p.sample().StalledFor >= 1 }) {
		t.Errorf("%s at 60 kbit/s: frames still arrive with the video paused", p.name)
	}
	// The cap came down on a link carrying the top layer: its queue (300
	// ms deep) filled and dropped until the video paused, and a packet
	// dropped then is counted lost by the receiver only when the packets
	// queued behind it arrive, up to 300 ms later. The window starts once
	// the queue has dropped nothing for a second: what it counts lost was
	// lost in it. Started at once, it counted up to 3 % of the audio lost
	// to the change itself, and a sniffer on the parent's link saw gaps
	// with no drop in the window. A drop is dated by the page's clock read
	// after tc counted it, and the window's first sample (the meter's
	// latest, up to 250 ms old) must be a second after that. The server
	// must stop overfilling the link soon after the pause: 20 s is the
	// bound on that.
	pageNow := func() float64 { return eval[float64](p.person, "performance.now()") }
	drops, quietFrom, lastAt := p.ns.drops(t), pageNow(), 0.0
	if !testclock.Poll(20*time.Second, func() bool {
		at := p.sample().At
		if at == lastAt {
			return false // tc is asked again once the meter has sampled again
		}
		lastAt = at
		if n := p.ns.drops(t); n != drops {
			drops, quietFrom = n, pageNow()
			return false
		}
		return at-quietFrom >= 1000
	}) {
		t.Fatalf("%s at 60 kbit/s: the link's queue still drops 20 s after the paused note (%d packets since the cap): the server goes on sending more than the link carries",
			p.name, p.ns.drops(t))
	}
	t.Logf("%s at 60 kbit/s: the link's queue dropped %d packets since the cap, none from %.1f s after the paused note",
		p.name, drops, (quietFrom-s.At)/1000)
	start := p.resetMeter()
	p.waitPageTime(start.At + 12_000)
	end := p.sample()
	dropped := p.ns.drops(t) - drops
	d := delta(start, end)
	t.Logf("%s at 60 kbit/s over %.1f s, video paused: %d frames, video %.1f kbit/s; audio %.0f pkt/s, %.0f kbit/s, %.2f %% lost, %.2f %% concealed; the link's queue dropped %d packets",
		p.name, d.secs, d.frames, d.videoKbit, float64(d.audioPackets)/d.secs, d.audioKbit, 100*d.audioLoss, 100*d.concealed, dropped)
	if d.frames != 0 || d.videoKbit > 8 {
		t.Errorf("%s at 60 kbit/s: %d video frames (%.1f kbit/s) arrived while paused", p.name, d.frames, d.videoKbit)
	}
	if rate := float64(d.audioPackets) / d.secs; rate < 40 {
		t.Errorf("%s at 60 kbit/s: the teacher's audio arrives at %.0f packets/s, want 50 (20 ms frames)", p.name, rate)
	}
	if d.audioLoss >= 0.02 {
		t.Errorf("%s at 60 kbit/s: lost %.2f %% of the teacher's audio, want under 2 %%", p.name, 100*d.audioLoss)
	}
	if !eval[bool](p.person, shown) {
		t.Errorf("%s at 60 kbit/s: the paused note went while the link stayed weak", p.name)
	}
}

// teacherTile describes the teacher's tile: its video's size and whether
// it is the one shown large.
func (p *cappedParent) teacherTile() string {
	p.t.Helper()
	return eval[string](p.person, `(t => !t ? 'gone' : t.querySelector('video')?.clientWidth + 'x' + t.querySelector('video')?.clientHeight +
		' CSS px, ' + (t.classList.contains('main') ? 'large' : 'not large'))(`+tile("Ms Smith")+`)`)
}

// joinListening takes a parent whose browser refuses the camera and
// microphone from the link into the room, to listen and watch.
func (p *cappedParent) joinListening(url string) {
	p.t.Helper()
	p.do("open the link", chromedp.Navigate(url))
	ready := `(() => { const b = document.querySelector('[data-testid="join"]'); return !!b && !b.disabled && !document.querySelector('[data-testid="device-problem"]').hidden; })()`
	if !testclock.Poll(30*time.Second, func() bool { return eval[bool](p.person, ready) }) {
		p.t.Fatalf("%s: the pre-join page never offered to join without devices; the page: %s", p.name, eval[string](p.person,
			`JSON.stringify({state: document.readyState, problem: document.querySelector('[data-testid="device-problem"]')?.hidden,
				resources: performance.getEntriesByType('resource').map(r => r.name.split('/').pop() + ' ' + r.responseStatus + ' ' + r.transferSize + ' B'),
				scripts: [...document.scripts].map(s => s.src), body: document.body.innerText.slice(0, 300)})`))
	}
	p.do("join", chromedp.Click(tid("join")), chromedp.WaitVisible(tid("room")))
}
