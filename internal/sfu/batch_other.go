//go:build !linux

package sfu

import (
	"net"
	"net/netip"
)

// mmsgs are a batch's messages where the system has no sendmmsg: each is
// sent by itself.
type mmsgs struct {
	c     *net.UDPConn
	bufs  [][]byte
	lens  []int
	addrs []netip.AddrPort
}

func newMmsgs(c *net.UDPConn, bufs [][]byte) *mmsgs {
	return &mmsgs{c: c, bufs: bufs, lens: make([]int, len(bufs)), addrs: make([]netip.AddrPort, len(bufs))}
}

// put makes message i the first n bytes of its buffer, to addr.
func (m *mmsgs) put(i, n int, addr netip.AddrPort) { m.lens[i], m.addrs[i] = n, addr }

// send sends messages [from, to): how many went, or the reason the first
// of them that did not go.
func (m *mmsgs) send(from, to int) (int, error) {
	for i := from; i < to; i++ {
		if _, err := m.c.WriteToUDPAddrPort(m.bufs[i][:m.lens[i]], m.addrs[i]); err != nil {
			return i - from, err
		}
	}
	return to - from, nil
}

// recv reads one datagram into p.
func (m *mmsgs) recv(c *net.UDPConn, p []byte) (int, netip.AddrPort, error) {
	return c.ReadFromUDPAddrPort(p)
}
