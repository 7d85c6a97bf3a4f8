package sfu

import (
	"net"

	"golang.org/x/sys/unix"
)

// forceBuffers sets socketBuffer past the system's limits where the
// process may (CAP_NET_ADMIN); elsewhere the calls fail and the buffers
// stay as growBuffers got them.
func forceBuffers(c *net.UDPConn) {
	raw, err := c.SyscallConn()
	if err != nil {
		return
	}
	_ = raw.Control(func(fd uintptr) {
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, socketBuffer)
		_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUFFORCE, socketBuffer)
	})
}
