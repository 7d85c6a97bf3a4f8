package sfu

import (
	"net"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"
)

// batchSize is how many packets one sendmmsg carries at most.
const batchSize = 128

// batchConn is the SFU's UDP socket as pion's ICE mux sees it. A
// publication's read loop opens a batch before it writes a packet to its
// down tracks and flushes it after; what pion writes in between (the
// packet, encrypted for each subscriber) is copied into the batch and sent
// with one sendmmsg: one system call for the whole fan-out, and the kernel
// wakes the receiving side once per batch rather than once per packet
// (internal/floor measures both). Outside a batch, a write is sent at once,
// as a batch of one. Only this socket's UDP writes are batched: ICE over
// TCP is not.
type batchConn struct {
	*net.UDPConn

	mu   sync.Mutex
	open int // batches open: fan-outs in progress
	bufs [][]byte
	msgs *mmsgs // the messages as sendmmsg takes them (batch_linux.go)
	n    int    // messages waiting

	// wires are the links whose TWCC feedback the socket hands to their
	// wire rather than to pion, by the address it comes from.
	wiresMu sync.RWMutex
	wires   map[netip.AddrPort]*wire

	calls, packets atomic.Uint64 // sendmmsg calls, packets they carried
	dropped        atomic.Uint64 // packets the kernel refused
}

func newBatchConn(c *net.UDPConn) *batchConn {
	b := &batchConn{UDPConn: c, bufs: make([][]byte, batchSize)}
	for i := range b.bufs {
		b.bufs[i] = make([]byte, sealedMax)
	}
	b.msgs = newMmsgs(c, b.bufs)
	return b
}

// ReadFromAddrPort and WriteToAddrPort are the allocation-free path pion's
// UDP mux takes when its socket offers it (ice.AddrPortReaderWriter).
func (b *batchConn) ReadFromAddrPort(p []byte) (int, netip.AddrPort, error) {
	for {
		n, addr, err := b.msgs.recv(b.UDPConn, p)
		// RTCP by RFC 5761: packet types 192 to 223.
		if err != nil || n < 8 || p[0]&0xc0 != 0x80 || p[1] < 192 || p[1] > 223 {
			return n, addr, err
		}
		// Wires are keyed unmapped; a dual-stack socket reads an IPv4
		// client's address v4-mapped.
		b.wiresMu.RLock()
		w := b.wires[netip.AddrPortFrom(addr.Addr().Unmap(), addr.Port())]
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
	buf := b.slot()
	if len(p) > len(buf) {
		b.mu.Unlock()
		return b.UDPConn.WriteToUDPAddrPort(p, addr)
	}
	b.fill(copy(buf, p), addr)
	return len(p), nil
}

// slot is the buffer of the next message, for the caller to write a
// packet into and then pass to fill; it holds b.mu until then.
func (b *batchConn) slot() []byte {
	b.mu.Lock()
	if b.n == batchSize {
		b.sendLocked()
	}
	return b.bufs[b.n]
}

// fill queues the first n bytes of the slot for addr, sends it at once if
// no batch is open (a batch of one), and lets b.mu go; n 0 queues nothing.
func (b *batchConn) fill(n int, addr netip.AddrPort) {
	if n > 0 {
		b.msgs.put(b.n, n, addr)
		b.n++
		if b.open == 0 {
			b.sendLocked()
		}
	}
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
	from, to := 0, b.n
	b.n = 0
	for from < to {
		n, err := b.msgs.send(from, to)
		b.calls.Add(1)
		b.packets.Add(uint64(max(n, 0)))
		switch {
		case err != nil:
			n = max(n, 0) + 1 // the one refused
			b.dropped.Add(1)
		case n <= 0:
			n = to - from // nothing sent and no reason given: do not spin
			b.dropped.Add(uint64(n))
		}
		from += n
	}
}
