package sfu

import (
	"log/slog"
	"sync"
)

// Room routes media among the peers of one meeting: every publication of
// one peer is sent to every other peer, and offered to watchers (the
// recorder) through Watch.
type Room struct {
	sfu *SFU
	log *slog.Logger

	mu       sync.Mutex
	peers    map[string]*Peer
	watchers map[int]func(*Publication)
	nextW    int
	closed   bool
}

// NewRoom makes an empty room.
func (s *SFU) NewRoom(log *slog.Logger) *Room {
	s.counters.roomOpened(1)
	return &Room{sfu: s, log: log, peers: make(map[string]*Peer), watchers: map[int]func(*Publication){}}
}

// Join adds a participant's peer; it receives every current publication.
// signal carries the peer's offers, answers and candidates to its client and
// must be safe to call from any goroutine.
func (r *Room) Join(participant string, signal func(Signal)) (*Peer, error) {
	p, err := newPeer(r, participant, signal)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		p.Close()
		return nil, ErrClosed
	}
	if old := r.peers[participant]; old != nil {
		defer old.Close()
	}
	r.peers[participant] = p
	others := r.otherPeers(participant)
	r.mu.Unlock()
	for _, o := range others {
		for _, pub := range o.Publications() {
			p.subscribe(pub)
		}
	}
	p.negotiate()
	return p, nil
}

// Peer returns a participant's peer, if it has joined.
func (r *Room) Peer(participant string) *Peer {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peers[participant]
}

// Watch calls fn with every current and future publication until the
// returned function is called. fn must not block.
func (r *Room) Watch(fn func(*Publication)) (stop func()) {
	r.mu.Lock()
	id := r.nextW
	r.nextW++
	r.watchers[id] = fn
	peers := r.otherPeers("")
	r.mu.Unlock()
	for _, p := range peers {
		for _, pub := range p.Publications() {
			fn(pub)
		}
	}
	return func() {
		r.mu.Lock()
		delete(r.watchers, id)
		r.mu.Unlock()
	}
}

// Publications lists what every peer publishes now.
func (r *Room) Publications() []*Publication {
	r.mu.Lock()
	peers := r.otherPeers("")
	r.mu.Unlock()
	var pubs []*Publication
	for _, p := range peers {
		pubs = append(pubs, p.Publications()...)
	}
	return pubs
}

// Close closes every peer.
func (r *Room) Close() {
	r.mu.Lock()
	if !r.closed {
		r.sfu.counters.roomOpened(-1)
	}
	r.closed = true
	peers := r.otherPeers("")
	r.mu.Unlock()
	for _, p := range peers {
		p.Close()
	}
}

// otherPeers lists the peers but one; the caller holds r.mu.
func (r *Room) otherPeers(except string) []*Peer {
	ps := make([]*Peer, 0, len(r.peers))
	for id, p := range r.peers {
		if id != except {
			ps = append(ps, p)
		}
	}
	return ps
}

// published sends a new publication to every other peer and watcher.
func (r *Room) published(pub *Publication) {
	r.mu.Lock()
	others := r.otherPeers(pub.Participant)
	watchers := make([]func(*Publication), 0, len(r.watchers))
	for _, w := range r.watchers {
		watchers = append(watchers, w)
	}
	r.mu.Unlock()
	var changed []*Peer
	for _, o := range others {
		if o.subscribe(pub) {
			changed = append(changed, o)
		}
	}
	for _, w := range watchers {
		w(pub)
	}
	// Offering the new track to the others takes a few milliseconds each;
	// the publication's packets need not wait for it.
	go func() {
		for _, o := range changed {
			o.negotiate()
		}
	}()
}

// unpublished takes an ended publication away from every peer.
func (r *Room) unpublished(pub *Publication) {
	r.mu.Lock()
	others := r.otherPeers(pub.Participant)
	r.mu.Unlock()
	for _, o := range others {
		if o.unsubscribe(pub) {
			o.negotiate()
		}
	}
}

func (r *Room) left(p *Peer) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.peers[p.id] == p {
		delete(r.peers, p.id)
	}
}
