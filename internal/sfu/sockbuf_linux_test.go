package sfu

import (
	"log/slog"
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"
)

// TestMediaSocketBuffers: the media socket holds socketBuffer each way (as
// root, which CI is, past the system's default limits), so a busy moment
// loses nothing for everyone.
func TestMediaSocketBuffers(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("forcing buffers past net.core.rmem_max needs CAP_NET_ADMIN")
	}
	s, err := New(Config{BindIP: "127.0.0.1", Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	raw, err := s.udp.(*net.UDPConn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var rcv, snd int
	_ = raw.Control(func(fd uintptr) {
		rcv, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF)
		snd, _ = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_SNDBUF)
	})
	// Linux reports twice what was set (its bookkeeping included).
	if rcv < socketBuffer || snd < socketBuffer {
		t.Errorf("the media socket's buffers are %d bytes in and %d out, want %d", rcv/2, snd/2, socketBuffer)
	}
}
