package netshape

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"sync"
	"testing"
	"time"

	"classmeet/internal/testclock"
)

// echo is an upstream that answers every datagram with itself and notes
// the addresses it came from.
type echo struct {
	conn *net.UDPConn
	mu   sync.Mutex
	from map[netip.AddrPort]int
}

func newEcho(t *testing.T) *echo {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	e := &echo{conn: conn, from: map[netip.AddrPort]int{}}
	t.Cleanup(func() { conn.Close() })
	go func() {
		buf := make([]byte, maxDatagram)
		for {
			n, from, err := conn.ReadFromUDPAddrPort(buf)
			if err != nil {
				return
			}
			e.mu.Lock()
			e.from[from]++
			e.mu.Unlock()
			_, _ = conn.WriteToUDPAddrPort(buf[:n], from)
		}
	}()
	return e
}

func (e *echo) sources() map[netip.AddrPort]int {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := map[netip.AddrPort]int{}
	for k, v := range e.from {
		out[k] = v
	}
	return out
}

func newRelay(t *testing.T, upstream *net.UDPAddr) *Relay {
	t.Helper()
	r, err := New(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, upstream)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

// client is a UDP socket on a loopback address of its own (a machine),
// talking to the relay; it counts and orders what comes back.
type client struct {
	conn *net.UDPConn
	mu   sync.Mutex
	got  []int           // sequence numbers, in arrival order
	rtt  []time.Duration // each one's round trip
}

func newClient(t *testing.T, ip string, relay *Relay) *client {
	t.Helper()
	conn, err := net.DialUDP("udp", &net.UDPAddr{IP: net.ParseIP(ip)}, relay.Addr())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	c := &client{conn: conn}
	go func() {
		buf := make([]byte, 1500)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				return
			}
			if n < 12 {
				continue
			}
			sent := time.Unix(0, int64(binary.BigEndian.Uint64(buf[4:12])))
			c.mu.Lock()
			c.got = append(c.got, int(binary.BigEndian.Uint32(buf)))
			c.rtt = append(c.rtt, testclock.Now().Sub(sent))
			c.mu.Unlock()
		}
	}()
	return c
}

// send sends n datagrams numbered from 0, each stamped with when it
// left, with at most a window of them unaccounted for (neither back nor
// counted by lost): loopback drops what overflows a socket buffer, and
// that is not the loss under test.
func (c *client) send(t *testing.T, n int, lost func() int) {
	t.Helper()
	const window = 50
	b := make([]byte, 200)
	for i := range n {
		testclock.WaitFor(t, "the datagrams in flight to come back or be lost", 20*time.Second, func() bool {
			return i-c.count()-lost() < window
		})
		binary.BigEndian.PutUint32(b, uint32(i))
		binary.BigEndian.PutUint64(b[4:], uint64(testclock.Now().UnixNano()))
		if _, err := c.conn.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	testclock.WaitFor(t, "every datagram to come back or be lost", 20*time.Second, func() bool { return c.count()+lost() == n })
}

func (c *client) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.got)
}

func (c *client) arrivals() ([]int, []time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]int(nil), c.got...), append([]time.Duration(nil), c.rtt...)
}

// TestRelayShapesEachClientsLink: two machines behind the relay, one on a
// lossy, delayed link and one with two sockets on a delayed downlink. The
// upstream sees one address per client socket; what arrives, at the
// upstream and back at each client, is what the relay's counters say it
// forwarded; the lossy link lost its share; nothing overtook anything and
// nothing came back before its delay was up.
func TestRelayShapesEachClientsLink(t *testing.T) {
	up := newEcho(t)
	r := newRelay(t, up.conn.LocalAddr().(*net.UDPAddr))
	lossyIP, slowIP := netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3")
	lossy := Link{Loss: 0.1, Delay: 20 * time.Millisecond}
	r.SetLink(lossyIP, lossy, lossy)
	r.SetLink(slowIP, Link{Delay: 30 * time.Millisecond}, Link{})

	const n = 1000
	a := newClient(t, lossyIP.String(), r)
	b1, b2 := newClient(t, slowIP.String(), r), newClient(t, slowIP.String(), r)
	lostA := func() int { down, up := r.Stats(lossyIP); return int(down.DroppedLoss + up.DroppedLoss) }
	none := func() int { return 0 }
	var wg sync.WaitGroup
	for _, send := range []func(){func() { a.send(t, n, lostA) }, func() { b1.send(t, n, none) }, func() { b2.send(t, n, none) }} {
		wg.Go(send)
	}
	wg.Wait()

	sources := up.sources()
	if len(sources) != 3 {
		t.Fatalf("the upstream saw %d sources, want one per client socket: %v", len(sources), sources)
	}
	downA, upA := r.Stats(lossyIP)
	downB, upB := r.Stats(slowIP)
	var seenA, seenB uint64
	for src, count := range sources {
		switch {
		case src == a.conn.LocalAddr().(*net.UDPAddr).AddrPort() || src.Addr() != netip.MustParseAddr("127.0.0.1"):
			t.Errorf("the upstream saw a client's own address %v, not the relay's", src)
		case count == n: // a socket of the lossless machine: the lossy one loses some
			seenB += uint64(count)
		default:
			seenA += uint64(count)
		}
	}
	if seenA != upA.Forwarded || seenB != upB.Forwarded || seenB != 2*n {
		t.Errorf("the upstream received %d and %d datagrams; the relay forwarded %+v and %+v", seenA, seenB, upA, upB)
	}
	if uint64(a.count()) != downA.Forwarded || downA.Offered != upA.Forwarded || b1.count()+b2.count() != int(downB.Forwarded) {
		t.Errorf("clients received %d, %d+%d datagrams; the relay forwarded %+v and %+v", a.count(), b1.count(), b2.count(), downA, downB)
	}
	for _, c := range []Counters{upA, downA} {
		// Seeded, so the same every run; the binomial's standard deviation
		// here is under 1 %: the bounds are five of them.
		if share := float64(c.DroppedLoss) / float64(c.Offered); share < 0.05 || share > 0.15 {
			t.Errorf("the lossy link dropped %.3f of %d datagrams, want 0.1", share, c.Offered)
		}
	}
	for _, c := range []struct {
		name string
		c    *client
		min  time.Duration
	}{{"lossy", a, 40 * time.Millisecond}, {"slow 1", b1, 30 * time.Millisecond}, {"slow 2", b2, 30 * time.Millisecond}} {
		seqs, rtts := c.c.arrivals()
		for i := range seqs {
			if i > 0 && seqs[i] <= seqs[i-1] {
				t.Fatalf("%s: datagram %d came back after %d", c.name, seqs[i], seqs[i-1])
			}
			if rtts[i] < c.min {
				t.Fatalf("%s: datagram %d came back after %v, before the link's delay of %v", c.name, seqs[i], rtts[i], c.min)
			}
		}
	}
}

// TestRelayClose: a closed relay stops forwarding and says so when closed twice.
func TestRelayClose(t *testing.T) {
	up := newEcho(t)
	r, err := New(&net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)}, up.conn.LocalAddr().(*net.UDPAddr))
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, "127.0.0.4", r)
	c.send(t, 10, func() int { return 0 })
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); !errors.Is(err, ErrClosed) {
		t.Errorf("second Close: %v, want ErrClosed", err)
	}
}
