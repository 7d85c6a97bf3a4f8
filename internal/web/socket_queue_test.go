package web

import (
	"testing"

	"classmeet/internal/meeting"
)

// A connection's queue takes outQueue messages without closing and holds
// no room for them up front; one more message than that closes it as too
// slow, and the writer takes what was queued in order.
func TestSocketQueueBoundsASlowClient(t *testing.T) {
	s := &socketConn{wake: make(chan struct{}, 1), closing: make(chan struct{})}
	if cap(s.queue) != 0 {
		t.Fatalf("a new connection's queue holds %d messages' room", cap(s.queue))
	}
	for i := range outQueue {
		s.Send(&meeting.Error{Code: "x", InReplyTo: uint64(i)})
	}
	select {
	case <-s.closing:
		t.Fatal("closed before the queue was full")
	default:
	}
	taken := s.take(nil)
	if len(taken) != outQueue || taken[0].(*meeting.Error).InReplyTo != 0 || taken[outQueue-1].(*meeting.Error).InReplyTo != outQueue-1 {
		t.Fatalf("took %d messages, not the %d queued in order", len(taken), outQueue)
	}
	for range outQueue + 1 {
		s.Send(&meeting.Error{Code: "x"})
	}
	select {
	case <-s.closing:
	default:
		t.Fatal("a client that never reads was not disconnected")
	}
	if s.reason != "too slow" {
		t.Errorf("closed for %q", s.reason)
	}
}
