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
	"classmeet/internal/sfu"
	"classmeet/internal/store"
	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
)

// tcpOnlyNet is a network namespace joined to this one by a veth pair, from
// which UDP cannot leave: a parent's office network that lets only TCP out.
// Only the namespace and the host end of its veth carry the test's traffic.
type tcpOnlyNet struct {
	name         string
	hostIP, nsIP string
	hostIf, nsIf string
}

func newTCPOnlyNet(t *testing.T) *tcpOnlyNet {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root (CI runs as root)")
	}
	id := os.Getpid() % 100000
	n := &tcpOnlyNet{
		name: fmt.Sprintf("cmturn%d", id), hostIf: fmt.Sprintf("cmt%dh", id), nsIf: fmt.Sprintf("cmt%dn", id),
		hostIP: fmt.Sprintf("10.233.%d.1", id%250), nsIP: fmt.Sprintf("10.233.%d.2", id%250),
	}
	ipCmd(t, "netns", "add", n.name)
	t.Cleanup(func() {
		_ = exec.Command("ip", "netns", "del", n.name).Run()
		_ = exec.Command("ip", "link", "del", n.hostIf).Run() // gone with the namespace, unless that failed
	})
	ipCmd(t, "link", "add", n.hostIf, "type", "veth", "peer", "name", n.nsIf)
	ipCmd(t, "link", "set", n.nsIf, "netns", n.name)
	ipCmd(t, "addr", "add", n.hostIP+"/30", "dev", n.hostIf)
	ipCmd(t, "link", "set", n.hostIf, "up")
	ipCmd(t, "-n", n.name, "addr", "add", n.nsIP+"/30", "dev", n.nsIf)
	ipCmd(t, "-n", n.name, "link", "set", n.nsIf, "up")
	ipCmd(t, "-n", n.name, "link", "set", "lo", "up")
	// Every UDP packet for another machine is dropped at routing (sendto
	// fails): no STUN, no UDP TURN, no UDP media. TCP routes as usual.
	ipCmd(t, "-n", n.name, "rule", "add", "pref", "100", "ipproto", "udp", "blackhole")
	return n
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// chromium starts Chromium inside the namespace; DevTools speaks over a
// pipe, so nothing but the page's own traffic crosses the veth.
func (n *tcpOnlyNet) chromium(t *testing.T, origin string) context.Context {
	t.Helper()
	wrapper := filepath.Join(t.TempDir(), "chromium-in-netns")
	script := fmt.Sprintf("#!/bin/sh\nexec ip netns exec %s /usr/bin/chromium \"$@\"\n", n.name)
	if err := os.WriteFile(wrapper, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	// The page is served over plain HTTP from the veth address; let it use
	// the (fake) camera as it would over HTTPS.
	opts := append(append([]chromedp.ExecAllocatorOption{}, chromiumFlags...),
		chromedp.ExecPath(wrapper), chromedp.Flag("unsafely-treat-insecure-origin-as-secure", origin))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	root, cancelRoot := chromedp.NewContext(alloc)
	if err := chromedp.Do(root); err != nil {
		t.Fatalf("start chromium in %s: %v", n.name, err)
	}
	t.Cleanup(func() { cancelRoot(); cancelAlloc() })
	return root
}

// relayOnly makes every RTCPeerConnection the page makes use relay
// candidates only (iceTransportPolicy "relay"), and keeps them for getStats.
const relayOnly = `(() => {
	const Real = window.RTCPeerConnection;
	window.__pcs = [];
	function Relayed(config, ...rest) {
		const pc = new Real({...(config || {}), iceTransportPolicy: 'relay'}, ...rest);
		window.__pcs.push(pc);
		return pc;
	}
	Relayed.prototype = Real.prototype;
	Object.setPrototypeOf(Relayed, Real);
	window.RTCPeerConnection = Relayed;
})();`

// selectedPairs describes, for each of the page's PeerConnections, the
// local candidate of its selected pair: "type/relayProtocol".
const selectedPairs = `(async () => {
	const out = [];
	for (const pc of window.__pcs) {
		const stats = await pc.getStats();
		let local = null;
		stats.forEach(s => {
			if (s.type === 'transport' && s.selectedCandidatePairId) {
				const pair = stats.get(s.selectedCandidatePairId);
				const c = pair && stats.get(pair.localCandidateId);
				if (c) local = c.candidateType + '/' + (c.relayProtocol || '');
			}
		});
		out.push(local || 'none');
	}
	return out.join(',');
})()`

// audioPackets is the audio RTP packets the page received in all.
const audioPackets = `(async () => {
	let n = 0;
	for (const pc of window.__pcs) {
		(await pc.getStats()).forEach(s => { if (s.type === 'inbound-rtp' && s.kind === 'audio') n += s.packetsReceived; });
	}
	return n;
})()`

// TestParentBehindTCPOnlyNetworkJoinsThroughTURN: a parent's Chromium in a
// namespace where UDP cannot leave, with iceTransportPolicy "relay", joins
// through the built-in TURN relay over TCP; it sees and hears the teacher
// and the teacher receives its camera and microphone.
func TestParentBehindTCPOnlyNetworkJoinsThroughTURN(t *testing.T) {
	n := newTCPOnlyNet(t)
	port := freePort(t)
	addr := fmt.Sprintf("%s:%d", n.hostIP, port)
	srv := &server{URL: "http://" + addr, DB: pgtest.NewDatabase(t), DataDir: t.TempDir()}
	srv.Env = []string{
		"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + srv.DB, "CLASSMEET_SECRET=" + e2eSecret,
		"CLASSMEET_ADDR=" + addr, "CLASSMEET_LOG_LEVEL=debug", "CLASSMEET_DATA_DIR=" + srv.DataDir,
		"CLASSMEET_RTC_BIND_IP=" + n.hostIP, "CLASSMEET_RTC_UDP_PORT=0", "CLASSMEET_RTC_TCP_PORT=0",
		"CLASSMEET_TURN_LISTEN=" + n.hostIP + ":0", "CLASSMEET_TURN_RELAY_PORTS=44000-44999",
	}
	srv.start(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	meetingID, links := srv.seedMeeting(t, "smith@school.example", store.LobbyInviteesAdmitted, "Mr Jones")

	// The teacher: a Go client on this side, sending known video and audio.
	teacher, err := testclient.New(srv.URL, "Ms Smith", testclient.Options{Logf: t.Logf})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(teacher.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := teacher.Login(ctx, "smith@school.example", teacherPW); err != nil {
		t.Fatal(err)
	}
	if err := teacher.JoinAsHost(ctx, meetingID); err != nil {
		t.Fatal(err)
	}

	jones := newPerson(t, n.chromium(t, srv.URL), "Mr Jones")
	jones.do("use relay candidates only", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: relayOnly})
		return err
	}))
	// Joined once the page's script runs (the preview shows the camera):
	// a click before that would submit the bare form.
	jones.do("open the link", chromedp.Navigate(srv.URL+links[0]), chromedp.WaitEnabled(tid("join")))
	if !testclock.Poll(20*time.Second, func() bool { return eval[bool](jones, `!!document.querySelector('#preview-video')?.srcObject`) }) {
		t.Fatalf("the pre-join page never showed the camera preview; the page: %s", eval[string](jones,
			`JSON.stringify({state: document.readyState, scripts: [...document.scripts].map(s => s.src), body: document.body.innerHTML.slice(0, 2000)})`))
	}
	jones.do("enter the room", chromedp.Click(tid("join")), chromedp.WaitVisible(tid("room")))
	jones.waitFor("see the teacher's video play", playing(remoteVideo("Ms Smith")))
	jones.waitFor("hear the teacher", audioPackets+`.then(n => n > 100)`)
	pairs := eval[string](jones, selectedPairs)
	for _, p := range strings.Split(pairs, ",") {
		if p != "relay/tcp" {
			t.Errorf("the parent's connections use %s, want relay candidates over TURN/TCP", pairs)
			break
		}
	}

	// And the teacher receives the parent: packets counted where they land.
	testclock.WaitFor(t, "the teacher to receive the parent's camera and microphone", 20*time.Second, func() bool {
		got := map[sfu.Source]bool{}
		for _, k := range teacher.ReceivedTracks() {
			if teacher.Received(k.Participant, k.Source).Packets.Load() > 50 {
				got[k.Source] = true
			}
		}
		return got[sfu.SourceCamera] && got[sfu.SourceMicrophone]
	})
}
