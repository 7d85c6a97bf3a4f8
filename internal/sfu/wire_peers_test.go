package sfu_test

import (
	"testing"
	"time"

	"classmeet/internal/sfu"
	"classmeet/internal/testclock"
)

// A subscriber's media is encrypted by the server itself, with the keys
// of the subscriber's own DTLS handshake: a real pion peer decrypts and
// decodes it, and its TWCC feedback is read off the socket by the server
// too. A client that takes the DTLS server's role, which the wire cannot
// derive keys for, is sent the same media through pion's path, and its
// feedback read through pion.
func TestSubscribersDecryptWhatTheServerEncrypts(t *testing.T) {
	s, room := newSFU(t)
	p := joinRoom(t, room, "p", false)
	own := joinRoom(t, room, "own", false)
	passive := join(room, "passive", &goPeer{t: t, dtlsServer: true}, 0)
	p.publishCamera()

	for _, s := range []*goPeer{own, passive} {
		testclock.WaitFor(t, "frames decoded at "+s.peer.ID(), 60*time.Second, func() bool {
			return s.received("p", sfu.SourceCamera).frames.Load() > 30
		})
		if !s.received("p", sfu.SourceCamera).firstKey.Load() {
			t.Errorf("%s: the first frame decoded was not a keyframe", s.peer.ID())
		}
	}
	if !own.peer.OwnSRTP() {
		t.Error("the server did not encrypt the subscriber's media itself")
	}
	if passive.peer.OwnSRTP() {
		t.Error("the server claims keys of a handshake in which it was the DTLS client")
	}
	// Both send TWCC feedback (pion's interceptor, as a browser does): the
	// wire reads own's off the socket, pion passes passive's on.
	c := s.Counters()
	testclock.WaitFor(t, "feedback read on the wire and through pion", 60*time.Second, func() bool {
		return c.FeedbackOnWire.Load() > 10 && c.FeedbackViaPion.Load() > 10
	})
}
