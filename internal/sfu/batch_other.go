//go:build !linux

package sfu

import (
	"net"
	"net/netip"

	"golang.org/x/net/ipv4"
)

// mmsgs are a batch's messages, sent through x/net (one write each where
// the system has no sendmmsg).
type mmsgs struct {
	out   *ipv4.PacketConn
	bufs  [][]byte
	msgs  []ipv4.Message
	addrs []net.UDPAddr
}

func newMmsgs(c *net.UDPConn, bufs [][]byte) *mmsgs {
	m := &mmsgs{out: ipv4.NewPacketConn(c), bufs: bufs, msgs: make([]ipv4.Message, len(bufs)), addrs: make([]net.UDPAddr, len(bufs))}
	for i := range m.msgs {
		m.addrs[i].IP = make(net.IP, net.IPv6len)
		m.msgs[i] = ipv4.Message{Buffers: [][]byte{nil}, Addr: &m.addrs[i]}
	}
	return m
}

// put makes message i the first n bytes of its buffer, to addr.
func (m *mmsgs) put(i, n int, addr netip.AddrPort) {
	m.msgs[i].Buffers[0] = m.bufs[i][:n]
	a := &m.addrs[i]
	ip := addr.Addr().As16()
	a.IP = a.IP[:net.IPv6len]
	copy(a.IP, ip[:])
	a.Port, a.Zone = int(addr.Port()), ""
}

// send sends messages [from, to): how many went, or the reason the first
// of them did not.
func (m *mmsgs) send(from, to int) (int, error) {
	return m.out.WriteBatch(m.msgs[from:to], 0)
}

// recv reads one datagram into p.
func (m *mmsgs) recv(c *net.UDPConn, p []byte) (int, netip.AddrPort, error) {
	return c.ReadFromUDPAddrPort(p)
}
