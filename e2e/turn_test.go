package e2e

import (
	"context"
	"fmt"
	"os"
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

// keepPCs has the person's pages keep every RTCPeerConnection they make,
// in window.__pcs for getStats; with relay set, each uses relay candidates
// only (iceTransportPolicy "relay").
func keepPCs(p *person, relay bool) {
	p.t.Helper()
	p.do("keep the page's peer connections", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pcsKept(relay)})
		return err
	}))
}

func pcsKept(relay bool) string {
	policy := ""
	if relay {
		policy = "iceTransportPolicy: 'relay'"
	}
	return `(() => {
	const Real = window.RTCPeerConnection;
	window.__pcs = [];
	function Kept(config, ...rest) {
		const pc = new Real({...(config || {}), ` + policy + `}, ...rest);
		window.__pcs.push(pc);
		return pc;
	}
	Kept.prototype = Real.prototype;
	Object.setPrototypeOf(Kept, Real);
	window.RTCPeerConnection = Kept;
})();`
}

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

// TestParentBehindTCPOnlyNetworkJoinsThroughTURN: parents' Chromiums in a
// namespace where UDP cannot leave and TCP reaches only the web server and
// the TURN relay (an office firewall: not the SFU's ICE-TCP port) join
// through the built-in TURN relay over TCP, one as the browser chooses and
// one with iceTransportPolicy "relay"; each sees and hears the teacher and
// the teacher receives its camera and microphone.
func TestParentBehindTCPOnlyNetworkJoinsThroughTURN(t *testing.T) {
	n := newNetNS(t, "cmturn")
	n.blockUDP(t)
	port, iceTCP := freePort(t), freePort(t)
	n.blockTCPPort(t, iceTCP)
	addr := fmt.Sprintf("%s:%d", n.hostIP, port)
	srv := &server{URL: "http://" + addr, DB: pgtest.NewDatabase(t), DataDir: t.TempDir()}
	srv.Env = []string{
		"PATH=" + os.Getenv("PATH"), "DATABASE_URL=" + srv.DB, "CLASSMEET_SECRET=" + e2eSecret,
		"CLASSMEET_ADDR=" + addr, "CLASSMEET_LOG_LEVEL=debug", "CLASSMEET_DATA_DIR=" + srv.DataDir,
		"CLASSMEET_RTC_BIND_IP=" + n.hostIP, "CLASSMEET_RTC_UDP_PORT=0", fmt.Sprintf("CLASSMEET_RTC_TCP_PORT=%d", iceTCP),
		"CLASSMEET_TURN_LISTEN=" + n.hostIP + ":0", "CLASSMEET_TURN_RELAY_PORTS=44000-44999",
	}
	srv.start(t)
	srv.addTeacher(t, "smith@school.example", "Ms Smith", teacherPW)
	meetingID, links := srv.seedMeeting(t, "smith@school.example", store.LobbyInviteesAdmitted, "Mr Jones", "Ms Brown")

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
	for i, c := range []struct {
		name  string
		relay bool
	}{{"Mr Jones", false}, {"Ms Brown", true}} {
		joinThroughTURN(t, newPerson(t, n.chromium(t, srv.URL), c.name), srv.URL+links[i], c.relay)
		// And the teacher receives the parent: packets counted where they land.
		testclock.WaitFor(t, "the teacher to receive "+c.name+"'s camera and microphone", 60*time.Second, func() bool {
			got := map[sfu.Source]bool{}
			for _, k := range teacher.ReceivedTracks() {
				if k.Participant != "" && teacher.Received(k.Participant, k.Source).Packets.Load() > 50 {
					got[k.Source] = true
				}
			}
			return got[sfu.SourceCamera] && got[sfu.SourceMicrophone]
		})
	}
}

// joinThroughTURN has a parent open their link and enter the room, and
// checks that they see and hear the teacher over TURN/TCP.
func joinThroughTURN(t *testing.T, parent *person, link string, relay bool) {
	t.Helper()
	keepPCs(parent, relay)
	// Joined once the page's script runs (the preview shows the camera):
	// a click before that would submit the bare form.
	parent.do("open the link", chromedp.Navigate(link), chromedp.WaitEnabled(tid("join")))
	if !testclock.Poll(20*time.Second, func() bool { return eval[bool](parent, `!!document.querySelector('#preview-video')?.srcObject`) }) {
		t.Fatalf("the pre-join page never showed the camera preview; the page: %s", eval[string](parent,
			`JSON.stringify({state: document.readyState, scripts: [...document.scripts].map(s => s.src), body: document.body.innerHTML.slice(0, 2000)})`))
	}
	parent.do("enter the room", chromedp.Click(tid("join")), chromedp.WaitVisible(tid("room")))
	parent.waitFor("see the teacher's video play", playing(remoteVideo("Ms Smith")))
	parent.waitFor("hear the teacher", audioPackets+`.then(n => n > 100)`)
	pairs := eval[string](parent, selectedPairs)
	for _, p := range strings.Split(pairs, ",") {
		if p != "relay/tcp" {
			t.Errorf("%s's connections (relay policy %v) use %s, want relay candidates over TURN/TCP", parent.name, relay, pairs)
			break
		}
	}
}
