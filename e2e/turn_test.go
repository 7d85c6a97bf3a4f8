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
	n := newNetNS(t, "cmturn")
	n.blockUDP(t)
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
