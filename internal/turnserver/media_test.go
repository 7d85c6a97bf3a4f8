package turnserver_test

import (
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"classmeet/internal/testclient"
	"classmeet/internal/testclock"
	"classmeet/internal/testserver"
)

// TestParentJoinsThroughTheRelay: a parent whose browser may use relay
// candidates only (iceTransportPolicy relay) joins through the embedded
// TURN server, over UDP and, separately, over TCP, with the credentials
// its welcome carried; teacher and parent receive each other's audio and
// video, counted where it arrives.
func TestParentJoinsThroughTheRelay(t *testing.T) {
	for _, transport := range []string{"udp", "tcp"} {
		t.Run(transport, func(t *testing.T) {
			srv := testserver.Start(t, map[string]string{
				"CLASSMEET_TURN_LISTEN": "127.0.0.1:0", "CLASSMEET_TURN_RELAY_PORTS": "43000-43999",
			})
			host, ps := srv.AdmittedRoom(t, []string{"Parent"}, map[string]testclient.Options{"Parent": {Relay: transport}})
			parent := ps[0]
			testclient.HearEachOther(t, []*testclient.Client{host, parent})
			// Media flows, and keeps flowing: many packets, not a first one.
			testclock.WaitFor(t, "the parent to receive a stream of the teacher's media", 60*time.Second, func() bool {
				return parent.Received(host.ID(), "camera").Packets.Load() > 100 && parent.Received(host.ID(), "microphone").Packets.Load() > 100
			})
			testclock.WaitFor(t, "the teacher to receive a stream of the parent's media", 60*time.Second, func() bool {
				return host.Received(parent.ID(), "camera").Packets.Load() > 100 && host.Received(parent.ID(), "microphone").Packets.Load() > 100
			})
			cands := parent.SelectedCandidates()
			if len(cands) != 2 {
				t.Fatalf("selected candidates %+v, want the publishing and the receiving connection's", cands)
			}
			min, max := srv.Config.RTC.TURN.RelayMinPort, srv.Config.RTC.TURN.RelayMaxPort
			for _, c := range cands {
				if c.Typ != webrtc.ICECandidateTypeRelay || int(c.Port) < min || int(c.Port) > max {
					t.Errorf("parent's connection uses %s candidate %s:%d, want a relay port of ours", c.Typ, c.Address, c.Port)
				}
			}
			if n := srv.TURN.AllocationsMade(transport); n < 2 {
				t.Errorf("%d relays made for clients on %s, want one per connection", n, transport)
			}
			for _, c := range host.SelectedCandidates() {
				if c.Typ != webrtc.ICECandidateTypeHost {
					t.Errorf("the teacher, not told to relay, uses a %s candidate", c.Typ)
				}
			}
		})
	}
}
