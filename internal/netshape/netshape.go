// Package netshape is a userspace UDP relay that impairs what it carries:
// random loss, added delay and a rate cap, per client and direction. It is
// for tests and measurement, where the kernel has no netem: a test puts it
// between a client's network namespace and a server, and shapes that
// client's link while the call runs. It is not for production traffic.
//
// The relay listens on one address and forwards each client (by source
// address) through a socket of its own to the upstream, and the answers
// back to that client: an ICE-lite server behind it sees one
// peer-reflexive address per client socket. Impairments are set per
// client IP, so all of one machine's sockets share its link, as they
// would share a phone's or a kitchen's Wi-Fi.
package netshape

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"net"
	"net/netip"
	"sync"
)

// maxDatagram is the largest UDP payload.
const maxDatagram = 65535

// socketBuffer is asked of the kernel for each socket's receive buffer: a
// relay that falls behind on a busy machine must not add loss of its own
// (the kernel caps it at net.core.rmem_max).
const socketBuffer = 4 << 20

// Relay is a running relay.
type Relay struct {
	conn     *net.UDPConn
	upstream *net.UDPAddr
	seed     uint64

	mu     sync.Mutex
	flows  map[netip.AddrPort]*flow
	hosts  map[netip.Addr]*host
	closed bool
	wg     sync.WaitGroup // the socket readers
}

// host is one client machine's link: down (to it) and up (from it).
type host struct{ down, up *pipe }

// flow is one client socket and the relay's socket to the upstream for it.
type flow struct {
	conn                 *net.UDPConn // connected to the upstream
	host                 *host
	toUpstream, toClient func([]byte)
}

// Option configures a relay.
type Option func(*Relay)

// WithSeed seeds the loss draws (default 1). Each client's link and
// direction draws from its own generator, seeded from this and the
// client's IP, so a run is reproducible whatever other clients do.
func WithSeed(seed uint64) Option { return func(r *Relay) { r.seed = seed } }

// New starts a relay listening on listen and forwarding to upstream. Links
// start unimpaired.
func New(listen, upstream *net.UDPAddr, opts ...Option) (*Relay, error) {
	conn, err := net.ListenUDP("udp", listen)
	if err != nil {
		return nil, fmt.Errorf("netshape: listen %s: %w", listen, err)
	}
	_ = conn.SetReadBuffer(socketBuffer) // best effort: a smaller buffer still works
	r := &Relay{conn: conn, upstream: upstream, seed: 1, flows: map[netip.AddrPort]*flow{}, hosts: map[netip.Addr]*host{}}
	for _, o := range opts {
		o(r)
	}
	r.wg.Add(1)
	go r.readClients()
	return r, nil
}

// Addr is where the relay listens.
func (r *Relay) Addr() *net.UDPAddr { return r.conn.LocalAddr().(*net.UDPAddr) }

// SetLink sets what the link of the client at ip does from now on to the
// datagrams it receives (down) and sends (up). Datagrams already queued
// keep the times they were given.
func (r *Relay) SetLink(ip netip.Addr, down, up Link) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return // its pipes would outlive Close
	}
	h := r.hostLocked(ip.Unmap())
	h.down.set(down)
	h.up.set(up)
}

// Stats is what the link of the client at ip has done so far, each way.
func (r *Relay) Stats(ip netip.Addr) (down, up Counters) {
	r.mu.Lock()
	h, ok := r.hosts[ip.Unmap()]
	r.mu.Unlock()
	if !ok {
		return Counters{}, Counters{}
	}
	return h.down.counters(), h.up.counters()
}

// Close stops the relay; what is still queued is dropped.
func (r *Relay) Close() error {
	r.mu.Lock()
	if r.closed {
		r.mu.Unlock()
		return ErrClosed
	}
	r.closed = true
	err := r.conn.Close()
	for _, f := range r.flows {
		_ = f.conn.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
	for _, h := range r.hosts {
		h.down.close()
		h.up.close()
	}
	return err
}

// hostLocked is ip's link, made unimpaired on first use. r.mu is held.
func (r *Relay) hostLocked(ip netip.Addr) *host {
	if h, ok := r.hosts[ip]; ok {
		return h
	}
	h := &host{down: newPipe(r.rand(ip, 'd')), up: newPipe(r.rand(ip, 'u'))}
	r.hosts[ip] = h
	return h
}

func (r *Relay) rand(ip netip.Addr, dir byte) *rand.Rand {
	f := fnv.New64a()
	b := ip.As16()
	f.Write(b[:])
	f.Write([]byte{dir})
	return rand.New(rand.NewPCG(r.seed, f.Sum64()))
}

// flowFor is the flow of the client at from, opened on its first datagram.
// Flows live until the relay closes: tests are short.
func (r *Relay) flowFor(from netip.AddrPort) (*flow, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return nil, ErrClosed
	}
	if f, ok := r.flows[from]; ok {
		return f, nil
	}
	conn, err := net.DialUDP("udp", nil, r.upstream)
	if err != nil {
		return nil, fmt.Errorf("netshape: socket to %s for %s: %w", r.upstream, from, err)
	}
	_ = conn.SetReadBuffer(socketBuffer)
	// Write errors are the link's loss: a relay, like a router, drops
	// what it cannot pass on.
	f := &flow{conn: conn, host: r.hostLocked(from.Addr().Unmap())}
	f.toUpstream = func(b []byte) { _, _ = conn.Write(b) }
	f.toClient = func(b []byte) { _, _ = r.conn.WriteToUDPAddrPort(b, from) }
	r.flows[from] = f
	r.wg.Add(1)
	go r.readUpstream(f)
	return f, nil
}

// readClients takes what clients send up their links.
func (r *Relay) readClients() {
	defer r.wg.Done()
	buf := make([]byte, maxDatagram)
	for {
		n, from, err := r.conn.ReadFromUDPAddrPort(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue
		}
		f, err := r.flowFor(from)
		if err != nil {
			continue // closing, or out of sockets: the datagram is lost
		}
		f.host.up.push(bytes.Clone(buf[:n]), f.toUpstream)
	}
}

// readUpstream takes the upstream's answers to one client down its link.
func (r *Relay) readUpstream(f *flow) {
	defer r.wg.Done()
	buf := make([]byte, maxDatagram)
	for {
		n, err := f.conn.Read(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue // an ICMP error for an earlier write: the upstream may come back
		}
		f.host.down.push(bytes.Clone(buf[:n]), f.toClient)
	}
}
