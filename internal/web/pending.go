package web

import (
	"net/http"
	"sync"
)

// maxPendingSockets is how many meeting WebSockets one address may hold
// open before each has sent its join (or resume). An honest page sends it
// at once; a flood of sockets that never do would hold server memory for
// the first message's whole wait.
const maxPendingSockets = 20

// pendingSockets counts, per client address, the sockets not yet joined.
type pendingSockets struct {
	mu sync.Mutex
	n  map[string]int
}

// take reserves a place for addr; release gives it back. False: full.
func (p *pendingSockets) take(addr string) (release func(), ok bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.n[addr] >= maxPendingSockets {
		return nil, false
	}
	if p.n == nil {
		p.n = map[string]int{}
	}
	p.n[addr]++
	var once sync.Once
	return func() {
		once.Do(func() {
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.n[addr]--; p.n[addr] == 0 {
				delete(p.n, addr)
			}
		})
	}, true
}

// tooManyPending answers a socket over the limit before any upgrade.
func tooManyPending(w http.ResponseWriter) {
	w.Header().Set("Retry-After", "10")
	http.Error(w, "too many meeting connections from this address are waiting to join", http.StatusTooManyRequests)
}
