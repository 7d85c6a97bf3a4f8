package turnserver

import (
	"fmt"
	"net"
	"net/netip"
	"sync"
	"sync/atomic"

	"github.com/pion/turn/v5"
)

// peers is the set of addresses the relay may exchange packets with: the
// SFU's UDP media addresses. A TURN relay inside a school's network must
// not be an open proxy to that network or to the internet.
type peers struct {
	addrs map[netip.AddrPort]bool
	ips   map[netip.Addr]bool
}

func newPeers(addrs []netip.AddrPort) *peers {
	p := &peers{addrs: map[netip.AddrPort]bool{}, ips: map[netip.Addr]bool{}}
	for _, a := range addrs {
		a = netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
		p.addrs[a], p.ips[a.Addr()] = true, true
	}
	return p
}

func (p *peers) allowsIP(ip net.IP) bool {
	a, ok := netip.AddrFromSlice(ip)
	return ok && p.ips[a.Unmap()]
}

func (p *peers) allows(addr net.Addr) bool {
	u, ok := addr.(*net.UDPAddr)
	if !ok {
		return false
	}
	a := u.AddrPort()
	return p.addrs[netip.AddrPortFrom(a.Addr().Unmap(), a.Port())]
}

// relayGenerator hands out UDP relays, in the configured port range, that
// talk to the SFU only. TURN permissions are per IP (RFC 8656 §9), so the
// port is checked on every packet by the relay socket itself.
type relayGenerator struct {
	inner    *turn.RelayAddressGeneratorPortRange
	peers    *peers
	quota    *quota
	refused  *atomic.Uint64
	min, max int
}

func (g *relayGenerator) Validate() error { return g.inner.Validate() }

func (g *relayGenerator) AllocatePacketConn(conf turn.AllocateListenerConfig) (net.PacketConn, net.Addr, error) {
	if conf.RequestedPort != 0 && (conf.RequestedPort < g.min || conf.RequestedPort > g.max) {
		return nil, nil, fmt.Errorf("%w: %d", ErrPortOutsideRange, conf.RequestedPort)
	}
	if !g.quota.take(conf.UserID) {
		return nil, nil, ErrQuota
	}
	conn, addr, err := g.inner.AllocatePacketConn(conf)
	if err != nil {
		g.quota.release(conf.UserID)
		return nil, nil, fmt.Errorf("turnserver: allocate relay: %w", err)
	}
	release := sync.OnceFunc(func() { g.quota.release(conf.UserID) })
	return &peerConn{PacketConn: conn, peers: g.peers, refused: g.refused, release: release}, addr, nil
}

func (g *relayGenerator) AllocateListener(turn.AllocateListenerConfig) (net.Listener, net.Addr, error) {
	return nil, nil, ErrTCPRelay
}

func (g *relayGenerator) AllocateConn(turn.AllocateConnConfig) (net.Conn, error) {
	return nil, ErrTCPRelay
}

// peerConn is a relay socket that sends to and accepts from the SFU only.
type peerConn struct {
	net.PacketConn
	peers   *peers
	refused *atomic.Uint64
	release func() // gives the relay back to its participant's quota
}

func (c *peerConn) Close() error {
	c.release()
	return c.PacketConn.Close()
}

func (c *peerConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if !c.peers.allows(addr) {
		c.refused.Add(1)
		return 0, fmt.Errorf("%w: %s", ErrPeerRefused, addr)
	}
	return c.PacketConn.WriteTo(p, addr)
}

func (c *peerConn) ReadFrom(p []byte) (int, net.Addr, error) {
	for {
		n, addr, err := c.PacketConn.ReadFrom(p)
		if err != nil || c.peers.allows(addr) {
			return n, addr, err
		}
		c.refused.Add(1)
	}
}
