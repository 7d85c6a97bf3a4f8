// Package floor measures what forwarding one packet cannot cost less than on
// this machine: one AES-128-GCM SRTP encryption and one UDP send of a
// 1200-byte RTP packet over loopback to a receiver that drains it. The
// forwarding path is judged as a ratio to this floor, measured in the same
// run (absolute timings move from run to run and machine to machine).
package floor

import (
	"fmt"
	"net"
	"net/netip"
	"runtime"
	"sync/atomic"

	"github.com/pion/rtp"
	"github.com/pion/srtp/v3"
	"golang.org/x/net/ipv4"
	"golang.org/x/sys/unix"
)

// PacketSize is the size of the RTP packet measured, before encryption: a
// video packet as browsers packetise them.
const PacketSize = 1200

// Link is a sender and a draining receiver on loopback.
type Link struct {
	recvCPU  int // the CPU the receiver runs on, or -1 for any
	ctx      *srtp.Context
	send     *net.UDPConn
	recv     *net.UDPConn
	dst      netip.AddrPort
	batch    *ipv4.PacketConn
	hdr      rtp.Header
	plain    []byte
	bufs     [][]byte
	msgs     []ipv4.Message
	received atomic.Uint64
	done     chan struct{}
}

// Open makes a link with a fresh SRTP key and starts its receiver, on
// recvCPU (-1: wherever the scheduler puts it). A server's receivers are
// other processes, often on other cores: pinning the receiver to another
// core than the sender's (see Pin) measures the send as the server pays it.
func Open(recvCPU int) (*Link, error) {
	key, salt := make([]byte, 16), make([]byte, 12)
	for i := range key {
		key[i] = byte(i + 1)
	}
	ctx, err := srtp.CreateContext(key, salt, srtp.ProtectionProfileAeadAes128Gcm)
	if err != nil {
		return nil, fmt.Errorf("floor: srtp: %w", err)
	}
	recv, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return nil, fmt.Errorf("floor: listen: %w", err)
	}
	send, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		recv.Close()
		return nil, fmt.Errorf("floor: listen: %w", err)
	}
	_ = recv.SetReadBuffer(4 << 20)
	l := &Link{
		ctx: ctx, send: send, recv: recv, dst: recv.LocalAddr().(*net.UDPAddr).AddrPort(),
		batch: ipv4.NewPacketConn(send), done: make(chan struct{}), recvCPU: recvCPU,
		hdr: rtp.Header{Version: 2, PayloadType: 96, SSRC: 0x1234, Timestamp: 90000},
	}
	l.plain = make([]byte, PacketSize)
	go l.drain()
	return l, nil
}

// drain reads everything that arrives, as a receiver would.
func (l *Link) drain() {
	defer close(l.done)
	if l.recvCPU >= 0 {
		runtime.LockOSThread()
		if err := Pin(l.recvCPU); err != nil {
			return
		}
	}
	buf := make([]byte, 2048)
	for {
		if _, _, err := l.recv.ReadFromUDPAddrPort(buf); err != nil {
			return
		}
		l.received.Add(1)
	}
}

// encrypt writes the next packet, encrypted, into dst.
func (l *Link) encrypt(dst []byte) ([]byte, error) {
	l.hdr.SequenceNumber++
	l.hdr.Timestamp += 30
	if _, err := l.hdr.MarshalTo(l.plain); err != nil { // the rest of plain is the payload
		return nil, err
	}
	return l.ctx.EncryptRTP(dst[:0], l.plain, &l.hdr)
}

// Send encrypts one packet and sends it with one sendto.
func (l *Link) Send() error {
	if l.bufs == nil {
		l.bufs = [][]byte{make([]byte, PacketSize+64)}
	}
	out, err := l.encrypt(l.bufs[0])
	if err != nil {
		return fmt.Errorf("floor: encrypt: %w", err)
	}
	_, err = l.send.WriteToUDPAddrPort(out, l.dst)
	return err
}

// SendBatch encrypts n packets and sends them with one sendmmsg.
func (l *Link) SendBatch(n int) error {
	if len(l.msgs) != n {
		l.bufs, l.msgs = make([][]byte, n), make([]ipv4.Message, n)
		addr := net.UDPAddrFromAddrPort(l.dst)
		for i := range l.bufs {
			l.bufs[i] = make([]byte, PacketSize+64)
			l.msgs[i] = ipv4.Message{Buffers: [][]byte{nil}, Addr: addr}
		}
	}
	for i := range l.msgs {
		out, err := l.encrypt(l.bufs[i])
		if err != nil {
			return fmt.Errorf("floor: encrypt: %w", err)
		}
		l.msgs[i].Buffers[0] = out
	}
	return l.sendBatch()
}

// sendBatch sends every message of l.msgs, with as few sendmmsg as it takes.
func (l *Link) sendBatch() error {
	for sent := 0; sent < len(l.msgs); {
		k, err := l.batch.WriteBatch(l.msgs[sent:], 0)
		if err != nil {
			return fmt.Errorf("floor: sendmmsg: %w", err)
		}
		sent += k
	}
	return nil
}

// Received counts the packets the receiver has read.
func (l *Link) Received() uint64 { return l.received.Load() }

// Close stops the receiver and closes both sockets.
func (l *Link) Close() {
	_ = l.send.Close()
	_ = l.recv.Close()
	<-l.done
}

// Pin binds the calling goroutine's thread to one CPU; the caller must have
// called runtime.LockOSThread.
func Pin(cpu int) error {
	var set unix.CPUSet
	set.Set(cpu)
	if err := unix.SchedSetaffinity(0, &set); err != nil {
		return fmt.Errorf("floor: pin to CPU %d: %w", cpu, err)
	}
	return nil
}
