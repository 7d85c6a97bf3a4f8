package sfu

import (
	"net"
	"net/netip"
	"testing"
	"time"

	"classmeet/internal/testclock"
)

func listenUDP(t *testing.T) *net.UDPConn {
	t.Helper()
	c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// count reads what arrives at c until the test ends.
func count(t *testing.T, c *net.UDPConn) func() int {
	got := make(chan int, 1)
	got <- 0
	go func() {
		buf := make([]byte, 2048)
		for {
			n, _, err := c.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			if n == 100 {
				got <- <-got + 1
			}
		}
	}()
	return func() int { n := <-got; got <- n; return n }
}

// TestBatchConnSendsEachFanOutAtOnce: inside a batch, writes to many
// receivers wait for the flush and then all arrive, in as few sendmmsg
// calls as the batch size allows (more than a batch's worth is sent as it
// fills); outside a batch a write goes at once, a batch of one.
func TestBatchConnSendsEachFanOutAtOnce(t *testing.T) {
	b := newBatchConn(listenUDP(t))
	var counts []func() int
	var dsts []netip.AddrPort
	for range 3 {
		r := listenUDP(t)
		counts = append(counts, count(t, r))
		dsts = append(dsts, r.LocalAddr().(*net.UDPAddr).AddrPort())
	}
	payload := make([]byte, 100)

	b.begin()
	for i := range batchSize + 10 {
		if _, err := b.WriteToAddrPort(payload, dsts[i%len(dsts)]); err != nil {
			t.Fatal(err)
		}
	}
	if b.calls.Load() != 1 || b.n != 10 {
		t.Fatalf("%d sendmmsg calls and %d waiting before the flush; want 1 (a full batch) and 10", b.calls.Load(), b.n)
	}
	b.flush()
	if b.calls.Load() != 2 || b.packets.Load() != batchSize+10 {
		t.Errorf("%d calls carried %d packets, want 2 and %d", b.calls.Load(), b.packets.Load(), batchSize+10)
	}
	if _, err := b.WriteToAddrPort(payload, dsts[0]); err != nil {
		t.Fatal(err)
	}
	if b.calls.Load() != 3 || b.n != 0 {
		t.Errorf("a write outside a batch: %d calls in all and %d waiting, want 3 and none", b.calls.Load(), b.n)
	}
	want := []int{(batchSize+10+2)/3 + 1, (batchSize + 10 + 1) / 3, (batchSize + 10) / 3}
	for i, n := range counts {
		testclock.WaitFor(t, "every packet at its receiver", 60*time.Second, func() bool { return n() == want[i] })
	}
}

// TestBatchConnDropsWhatTheKernelRefuses: a packet the kernel will not send
// (to port 0) is dropped and counted; the others in its batch still go.
func TestBatchConnDropsWhatTheKernelRefuses(t *testing.T) {
	b := newBatchConn(listenUDP(t))
	r := listenUDP(t)
	n := count(t, r)
	good := r.LocalAddr().(*net.UDPAddr).AddrPort()
	bad := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), 0)
	payload := make([]byte, 100)
	b.begin()
	for _, dst := range []netip.AddrPort{good, bad, good} {
		if _, err := b.WriteToAddrPort(payload, dst); err != nil {
			t.Fatal(err)
		}
	}
	b.flush()
	if b.dropped.Load() != 1 {
		t.Errorf("%d packets dropped, want the 1 refused", b.dropped.Load())
	}
	testclock.WaitFor(t, "both good packets", 60*time.Second, func() bool { return n() == 2 })
}

// TestBatchConnReachesBothFamilies: the server's socket listens on every
// address, IPv4 and IPv6 alike, and one batch reaches peers of both; an
// IPv4-only socket drops, and counts, a packet for an IPv6 peer.
func TestBatchConnReachesBothFamilies(t *testing.T) {
	dual, err := net.ListenUDP("udp", &net.UDPAddr{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = dual.Close() })
	r6, err := net.ListenUDP("udp6", &net.UDPAddr{IP: net.IPv6loopback})
	if err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	}
	t.Cleanup(func() { _ = r6.Close() })
	r4 := listenUDP(t)
	n4, n6 := count(t, r4), count(t, r6)
	to4, to6 := r4.LocalAddr().(*net.UDPAddr).AddrPort(), r6.LocalAddr().(*net.UDPAddr).AddrPort()
	payload := make([]byte, 100)

	b := newBatchConn(dual)
	b.begin()
	for _, dst := range []netip.AddrPort{to4, to6, to4, to6, to6} {
		if _, err := b.WriteToAddrPort(payload, dst); err != nil {
			t.Fatal(err)
		}
	}
	b.flush()
	testclock.WaitFor(t, "two packets at the IPv4 peer and three at the IPv6 one", 60*time.Second, func() bool { return n4() == 2 && n6() == 3 })
	if b.dropped.Load() != 0 {
		t.Errorf("%d packets dropped from the dual-stack socket", b.dropped.Load())
	}

	only4 := newBatchConn(listenUDP(t))
	only4.begin()
	for _, dst := range []netip.AddrPort{to6, to4} {
		if _, err := only4.WriteToAddrPort(payload, dst); err != nil {
			t.Fatal(err)
		}
	}
	only4.flush()
	testclock.WaitFor(t, "the IPv4 packet from the IPv4 socket", 60*time.Second, func() bool { return n4() == 3 })
	if only4.dropped.Load() != 1 {
		t.Errorf("%d packets dropped from the IPv4 socket, want the 1 for an IPv6 peer", only4.dropped.Load())
	}
}
