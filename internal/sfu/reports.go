package sfu

import (
	"sync"
	"time"
)

// reportInterval is how often a subscriber hears a sender report per track
// (lip sync and round-trip time need them; browsers send theirs each second).
const reportInterval = time.Second

// reporter sends every peer's sender reports, and fits each subscriber's
// video to its link (Peer.allocate), from one goroutine and two timers for
// the whole SFU, rather than one of each per participant.
type reporter struct {
	mu    sync.Mutex
	peers map[*Peer]struct{}
	stop  chan struct{}
	done  chan struct{}
}

func newReporter() *reporter {
	r := &reporter{peers: map[*Peer]struct{}{}, stop: make(chan struct{}), done: make(chan struct{})}
	go r.run()
	return r
}

func (r *reporter) add(p *Peer) {
	r.mu.Lock()
	r.peers[p] = struct{}{}
	r.mu.Unlock()
}

func (r *reporter) remove(p *Peer) {
	r.mu.Lock()
	delete(r.peers, p)
	r.mu.Unlock()
}

func (r *reporter) run() {
	defer close(r.done)
	t := time.NewTicker(reportInterval)
	defer t.Stop()
	a := time.NewTicker(allocInterval)
	defer a.Stop()
	for {
		select {
		case <-r.stop:
			return
		case now := <-t.C:
			for _, p := range r.list() {
				p.sendReports(now)
			}
		case now := <-a.C:
			for _, p := range r.list() {
				p.allocate(now)
			}
		}
	}
}

func (r *reporter) list() []*Peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	ps := make([]*Peer, 0, len(r.peers))
	for p := range r.peers {
		ps = append(ps, p)
	}
	return ps
}

// close stops the reports.
func (r *reporter) close() {
	close(r.stop)
	<-r.done
}
