package sfu

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
)

// batchSize is how many packets one sendmmsg carries at most.
const batchSize = 128

// batchConn is the SFU's UDP socket as pion's ICE mux sees it. A
// publication's read loop opens a batch before it writes a packet to its
// down tracks and flushes it after; what pion writes in between (the
// packet, encrypted for each subscriber) is copied into the batch and sent
// with one sendmmsg: one system call for the whole fan-out, and the kernel
// wakes the receiving side once per batch rather than once per packet
// (internal/floor measures both). Outside a batch, writes go straight to the
// socket. Only this socket's UDP writes are batched: ICE over TCP is not.
type batchConn struct {
	*net.UDPConn
	out *ipv4.PacketConn // sendmmsg (it takes IPv4 and IPv6 peers alike on Linux)

	mu    sync.Mutex
	open  int // batches open: fan-outs in progress
	msgs  []ipv4.Message
	bufs  [][]byte
	addrs []net.UDPAddr
	n     int // messages waiting

	// wires are the links whose TWCC feedback the socket hands to their
	// wire rather than to pion, by the address it comes from.
	wiresMu sync.RWMutex
	wires   map[netip.AddrPort]*wire

	calls, packets atomic.Uint64 // sendmmsg calls, packets they carried
	dropped        atomic.Uint64 // packets the kernel refused
}

func newBatchConn(c *net.UDPConn) *batchConn {
	b := &batchConn{
		UDPConn: c, out: ipv4.NewPacketConn(c),
		msgs: make([]ipv4.Message, batchSize), bufs: make([][]byte, batchSize), addrs: make([]net.UDPAddr, batchSize),
	}
	for i := range b.msgs {
		b.bufs[i] = make([]byte, sealedMax)
		b.addrs[i].IP = make(net.IP, net.IPv6len)
		b.msgs[i] = ipv4.Message{Buffers: [][]byte{nil}, Addr: &b.addrs[i]}
	}
	return b
}

// ReadFromAddrPort and WriteToAddrPort are the allocation-free path pion's
// UDP mux takes when its socket offers it (ice.AddrPortReaderWriter).
func (b *batchConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	for {
		n, addr, err := b.UDPConn.ReadFromUDPAddrPort(p)
		// RTCP by RFC 5761: packet types 192 to 223.
		if err != nil || n < 8 || p[0]&0xc0 != 0x80 || p[1] < 192 || p[1] > 223 {
			return n, addr, err
		}
		b.wiresMu.RLock()
		w := b.wires[addr]
		b.wiresMu.RUnlock()
		if w == nil || !w.feedback(p[:n], time.Now()) {
			return n, addr, err
		}
	}
}

// route hands the TWCC feedback that comes from addr to w.
func (b *batchConn) route(addr netip.AddrPort, w *wire) {
	b.wiresMu.Lock()
	defer b.wiresMu.Unlock()
	if b.wires == nil {
		b.wires = map[netip.AddrPort]*wire{}
	}
	b.wires[addr] = w
}

// unroute stops handing addr's feedback to w (if it still goes to w).
func (b *batchConn) unroute(addr netip.AddrPort, w *wire) {
	b.wiresMu.Lock()
	defer b.wiresMu.Unlock()
	if b.wires[addr] == w {
		delete(b.wires, addr)
	}
}

func (b *batchConn) WriteToAddrPort(p []byte, addr netip.AddrPort) (int, error) {
	buf, ok := b.slot()
	if !ok || len(p) > len(buf) {
		if ok {
			b.mu.Unlock()
		}
		return b.UDPConn.WriteToUDPAddrPort(p, addr)
	}
	b.fill(copy(buf, p), addr)
	return len(p), nil
}

// slot is the buffer of the next message of the open batch, for the
// caller to write a packet into and then pass to fill; it holds b.mu until
// then. False, and nothing held, if no batch is open: the caller sends
// by itself.
func (b *batchConn) slot() ([]byte, bool) {
	b.mu.Lock()
	if b.open == 0 {
		b.mu.Unlock()
		return nil, false
	}
	if b.n == batchSize {
		b.sendLocked()
	}
	return b.bufs[b.n], true
}

// fill queues the first n bytes of the slot for addr, and lets b.mu go;
// n 0 queues nothing.
func (b *batchConn) fill(n int, addr netip.AddrPort) {
	if n == 0 {
		b.mu.Unlock()
		return
	}
	i := b.n
	b.msgs[i].Buffers[0] = b.bufs[i][:n]
	a := &b.addrs[i]
	ip := addr.Addr().As16()
	a.IP = a.IP[:net.IPv6len]
	copy(a.IP, ip[:])
	a.Port, a.Zone = int(addr.Port()), ""
	b.n++
	b.mu.Unlock()
}

// begin opens a batch; every begin is followed by a flush.
func (b *batchConn) begin() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.open++
	b.mu.Unlock()
}

// flush closes a batch and sends what waits (whoever's batch it came in).
func (b *batchConn) flush() {
	if b == nil {
		return
	}
	b.mu.Lock()
	b.open--
	if b.n > 0 {
		b.sendLocked()
	}
	b.mu.Unlock()
}

// sendLocked sends the waiting messages; the caller holds b.mu. A message
// the kernel refuses (its peer unreachable, say) is dropped and counted, as
// a lost UDP packet is: the rest still go.
func (b *batchConn) sendLocked() {
	msgs := b.msgs[:b.n]
	b.n = 0
	for len(msgs) > 0 {
		n, err := b.out.WriteBatch(msgs, 0)
		b.calls.Add(1)
		b.packets.Add(uint64(max(n, 0)))
		switch {
		case err != nil:
			n = max(n, 0) + 1 // the one refused
			b.dropped.Add(1)
		case n <= 0:
			n = len(msgs) // nothing sent and no reason given: do not spin
			b.dropped.Add(uint64(n))
		}
		msgs = msgs[min(n, len(msgs)):]
	}
}
