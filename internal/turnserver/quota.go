package turnserver

import (
	"net"
	"sync"
)

// quota bounds the relays each participant holds at once: a browser makes
// a few per PeerConnection (one per TURN URL and local address); a client
// that asks for hundreds is exhausting the relay ports.
type quota struct {
	max int
	mu  sync.Mutex
	n   map[string]int
}

// allow answers TURN's quota check, so a client over its quota hears 486
// (Allocation Quota Reached).
func (q *quota) allow(user, _ string, _ net.Addr) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.n[user] < q.max
}

// take holds one of user's relays; it is what bounds them, as two
// allocations asked for at once both pass allow.
func (q *quota) take(user string) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n[user] >= q.max {
		return false
	}
	q.n[user]++
	return true
}

func (q *quota) release(user string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.n[user]--; q.n[user] <= 0 {
		delete(q.n, user)
	}
}
