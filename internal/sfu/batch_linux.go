package sfu

import (
	"encoding/binary"
	"net"
	"net/netip"
	"os"
	"runtime"
	"strconv"
	"sync"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// mmsgs are a batch's messages as sendmmsg takes them, built once: a
// message's buffer and address are written into its slot as it is filled,
// and nothing is marshalled per call.
//
// The socket's reads and writes are raw system calls, made inside its
// RawConn (which keeps the descriptor open, and parks the goroutine until
// the socket is ready when it is not). They cannot block: the socket is
// non-blocking. Made as ordinary system calls, they cost the server a
// tenth of its CPU in the Go scheduler (docs/performance.md): the first
// system call after the process was idle wakes the runtime's monitor
// thread, which then ticks every 20 µs through the fan-out, preempting it
// on a busy core, and hands the processor of a sendmmsg that lasts
// hundreds of microseconds to another thread and takes it back.
type mmsgs struct {
	raw   syscall.RawConn
	v6    bool // the socket is AF_INET6 (IPv4 peers are written v4-mapped)
	hdrs  []unix.Mmsghdr
	iovs  []unix.Iovec
	in4   []unix.RawSockaddrInet4
	in6   []unix.RawSockaddrInet6
	zones zones
	write func(fd uintptr) bool // m.sendmmsg, bound once

	// the call's arguments and results, kept here so that write need not
	// be a new closure each call
	from, to int
	sent     int
	errno    syscall.Errno

	readMu  sync.Mutex
	read    func(fd uintptr) bool // m.recvfrom, bound once
	p       []byte
	n       int
	from6   unix.RawSockaddrAny
	readErr syscall.Errno
}

func newMmsgs(c *net.UDPConn, bufs [][]byte) *mmsgs {
	m := &mmsgs{hdrs: make([]unix.Mmsghdr, len(bufs)), iovs: make([]unix.Iovec, len(bufs))}
	m.write, m.read = m.sendmmsg, m.recvfrom
	raw, err := c.SyscallConn()
	if err == nil {
		m.raw = raw
		_ = raw.Control(func(fd uintptr) {
			domain, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_DOMAIN)
			m.v6 = err == nil && domain == unix.AF_INET6
		})
	}
	if m.v6 {
		m.in6 = make([]unix.RawSockaddrInet6, len(bufs))
	} else {
		m.in4 = make([]unix.RawSockaddrInet4, len(bufs))
	}
	for i := range bufs {
		m.iovs[i].Base = &bufs[i][0]
		h := &m.hdrs[i].Hdr
		h.Iov, h.Iovlen = &m.iovs[i], 1
		if m.v6 {
			m.in6[i].Family = unix.AF_INET6
			h.Name = (*byte)(unsafe.Pointer(&m.in6[i]))
		} else {
			m.in4[i].Family = unix.AF_INET
			h.Name = (*byte)(unsafe.Pointer(&m.in4[i]))
		}
	}
	return m
}

// put makes message i the first n bytes of its buffer, to addr. An
// address the socket cannot reach (IPv6 on an IPv4 socket) is left
// without a name: the kernel refuses that message, and it is counted
// dropped.
func (m *mmsgs) put(i, n int, addr netip.AddrPort) {
	m.iovs[i].SetLen(n)
	h := &m.hdrs[i].Hdr
	switch a := addr.Addr().Unmap(); {
	case m.v6:
		sa := &m.in6[i]
		sa.Addr = addr.Addr().As16()
		putPort(&sa.Port, addr.Port())
		sa.Scope_id = 0
		if zone := addr.Addr().Zone(); zone != "" {
			sa.Scope_id = m.zones.index(zone)
		}
		h.Namelen = unix.SizeofSockaddrInet6
	case a.Is4():
		sa := &m.in4[i]
		sa.Addr = a.As4()
		putPort(&sa.Port, addr.Port())
		h.Namelen = unix.SizeofSockaddrInet4
	default:
		h.Namelen = 0
	}
}

// putPort and getPort write and read a sockaddr's port, which is in
// network byte order whatever the machine's.
func putPort(p *uint16, port uint16) {
	binary.BigEndian.PutUint16((*[2]byte)(unsafe.Pointer(p))[:], port)
}

func getPort(p *uint16) uint16 { return binary.BigEndian.Uint16((*[2]byte)(unsafe.Pointer(p))[:]) }

// zones maps IPv6 zones (interface names) to interface indexes and back,
// as the net package does, remembering what it looked up: a link-local
// peer's packets name their zone on every send and read.
type zones struct {
	mu      sync.Mutex
	byName  map[string]uint32
	byIndex map[uint32]string
}

func (z *zones) index(name string) uint32 {
	z.mu.Lock()
	defer z.mu.Unlock()
	if i, ok := z.byName[name]; ok {
		return i
	}
	var i uint32
	if ifi, err := net.InterfaceByName(name); err == nil {
		i = uint32(ifi.Index)
	} else if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		i = uint32(n)
	}
	if z.byName == nil {
		z.byName = map[string]uint32{}
	}
	z.byName[name] = i
	return i
}

func (z *zones) name(index uint32) string {
	z.mu.Lock()
	defer z.mu.Unlock()
	if n, ok := z.byIndex[index]; ok {
		return n
	}
	n := strconv.FormatUint(uint64(index), 10)
	if ifi, err := net.InterfaceByIndex(int(index)); err == nil {
		n = ifi.Name
	}
	if z.byIndex == nil {
		z.byIndex = map[uint32]string{}
	}
	z.byIndex[index] = n
	return n
}

// send sends messages [from, to) in one sendmmsg: how many went, or the
// reason the first of them did not.
func (m *mmsgs) send(from, to int) (int, error) {
	if m.raw == nil {
		return 0, syscall.EINVAL
	}
	m.from, m.to = from, to
	if err := m.raw.Write(m.write); err != nil {
		return 0, err
	}
	if m.errno != 0 {
		return 0, m.errno
	}
	return m.sent, nil
}

// sendmmsg is the RawConn's write callback: false (the socket's buffer is
// full) makes it wait until the socket can be written, and call again.
func (m *mmsgs) sendmmsg(fd uintptr) bool {
	for {
		r, _, e := syscall.RawSyscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&m.hdrs[m.from])), uintptr(m.to-m.from), 0, 0, 0)
		runtime.KeepAlive(m)
		if e != unix.EINTR {
			return settle(r, e, &m.sent, &m.errno)
		}
	}
}

// settle keeps a raw call's result, as a RawConn callback returns it:
// false if the socket was not ready (EAGAIN), to be called again when it
// is; n is the call's count, errno its error.
func settle(r uintptr, e syscall.Errno, n *int, errno *syscall.Errno) bool {
	switch e {
	case 0:
		*n, *errno = int(r), 0
	case unix.EAGAIN:
		return false
	default:
		*n, *errno = 0, e
	}
	return true
}

// recv reads one datagram into p: ReadFromUDPAddrPort, made raw.
func (m *mmsgs) recv(c *net.UDPConn, p []byte) (int, netip.AddrPort, error) {
	if m.raw == nil {
		return c.ReadFromUDPAddrPort(p)
	}
	m.readMu.Lock()
	defer m.readMu.Unlock()
	m.p = p
	err := m.raw.Read(m.read)
	m.p = nil
	if err == nil && m.readErr != 0 {
		err = os.NewSyscallError("recvfrom", m.readErr)
	}
	if err != nil {
		return 0, netip.AddrPort{}, &net.OpError{Op: "read", Net: "udp", Source: c.LocalAddr(), Err: err}
	}
	return m.n, m.source(), nil
}

// recvfrom is the RawConn's read callback: false (nothing to read) parks
// the reader until the socket has a datagram, and calls again.
func (m *mmsgs) recvfrom(fd uintptr) bool {
	for {
		size := uint32(unix.SizeofSockaddrAny)
		r, _, e := syscall.RawSyscall6(unix.SYS_RECVFROM, fd, uintptr(unsafe.Pointer(unsafe.SliceData(m.p))), uintptr(len(m.p)), 0,
			uintptr(unsafe.Pointer(&m.from6)), uintptr(unsafe.Pointer(&size)))
		runtime.KeepAlive(m)
		if e != unix.EINTR {
			return settle(r, e, &m.n, &m.readErr)
		}
	}
}

// source is the address the last datagram came from, in the form the net
// package gives it (an IPv4 peer of an IPv6 socket v4-mapped).
func (m *mmsgs) source() netip.AddrPort {
	switch m.from6.Addr.Family {
	case unix.AF_INET:
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&m.from6))
		return netip.AddrPortFrom(netip.AddrFrom4(sa.Addr), getPort(&sa.Port))
	case unix.AF_INET6:
		sa := (*unix.RawSockaddrInet6)(unsafe.Pointer(&m.from6))
		a := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			a = a.WithZone(m.zones.name(sa.Scope_id))
		}
		return netip.AddrPortFrom(a, getPort(&sa.Port))
	}
	return netip.AddrPort{}
}
