package sfu

import "net"

// socketBuffer is what the media UDP socket may hold each way: a few
// hundred packets wait there whenever the read loops fall behind (a busy
// machine, a garbage collection), and what overflows is lost for everyone.
// The kernel's default, about 200 KiB, is a few milliseconds of a large
// meeting.
const socketBuffer = 4 << 20

// growBuffers asks for socketBuffer each way. Linux caps the plain request
// at net.core.rmem_max and wmem_max; with CAP_NET_ADMIN (root) it forces
// the size past them (see forceBuffers).
func growBuffers(c *net.UDPConn) {
	_ = c.SetReadBuffer(socketBuffer)
	_ = c.SetWriteBuffer(socketBuffer)
	forceBuffers(c)
}
