package netshape

import (
	"encoding/binary"
	"math/rand/v2"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

// arrival is one datagram as the far end of a pipe received it.
type arrival struct {
	seq      int
	sent, at time.Time
}

// sink records what a pipe delivers: the sequence number in the first
// bytes and the (bubble's) time it arrived.
type sink struct {
	mu   sync.Mutex
	got  []arrival
	sent map[int]time.Time
}

func newSink() *sink { return &sink{sent: map[int]time.Time{}} }

func (s *sink) send(p *pipe, seq, size int) {
	b := make([]byte, size)
	binary.BigEndian.PutUint32(b, uint32(seq))
	s.mu.Lock()
	s.sent[seq] = time.Now()
	s.mu.Unlock()
	p.push(b, s.receive)
}

func (s *sink) receive(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := int(binary.BigEndian.Uint32(b))
	s.got = append(s.got, arrival{seq: seq, sent: s.sent[seq], at: time.Now()})
}

func (s *sink) arrivals() []arrival {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]arrival(nil), s.got...)
}

func testPipe(t *testing.T, l Link) *pipe {
	p := newPipe(rand.New(rand.NewPCG(1, 2)))
	t.Cleanup(p.close)
	p.set(l)
	return p
}

func TestLossDropsTheShareAsked(t *testing.T) {
	for _, loss := range []float64{0, 0.02, 0.1, 1} {
		synctest.Test(t, func(t *testing.T) {
			p, s := testPipe(t, Link{Loss: loss}), newSink()
			const n = 50000
			for i := range n {
				s.send(p, i, 100)
			}
			synctest.Wait()
			c, got := p.counters(), s.arrivals()
			if c.Offered != n || c.Forwarded+c.DroppedLoss != n || c.DroppedQueue != 0 {
				t.Fatalf("loss %v: counters %+v for %d datagrams", loss, c, n)
			}
			if uint64(len(got)) != c.Forwarded {
				t.Errorf("loss %v: %d arrived, the pipe counts %d forwarded", loss, len(got), c.Forwarded)
			}
			// Binomial: the standard deviation at 2 % of 50,000 is 0.06 %;
			// 0.3 % is five of them.
			if share := float64(n-len(got)) / n; share < loss-0.003 || share > loss+0.003 {
				t.Errorf("loss %v: %.4f of the datagrams were lost", loss, share)
			}
		})
	}
}

func TestLossIsReproducible(t *testing.T) {
	lostSeqs := func() []int {
		var lost []int
		synctest.Test(t, func(t *testing.T) {
			p, s := testPipe(t, Link{Loss: 0.05}), newSink()
			for i := range 2000 {
				s.send(p, i, 100)
			}
			synctest.Wait()
			next := 0
			for _, a := range s.arrivals() {
				for ; next < a.seq; next++ {
					lost = append(lost, next)
				}
				next = a.seq + 1
			}
		})
		return lost
	}
	a, b := lostSeqs(), lostSeqs()
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("two runs lost %d and %d datagrams", len(a), len(b))
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("two runs with one seed lost different datagrams: %v… and %v…", a[:i+1], b[:i+1])
		}
	}
}

// TestDelayKeepsOrder: every datagram arrives Delay after it was sent, not
// before, and in the order sent, also when the delay is lowered in the
// middle (later datagrams then wait for earlier ones) and raised again.
func TestDelayKeepsOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		p, s := testPipe(t, Link{Delay: 100 * time.Millisecond}), newSink()
		delays := map[int]time.Duration{}
		for i := range 3000 {
			switch i {
			case 1000:
				p.set(Link{Delay: 10 * time.Millisecond})
			case 2000:
				p.set(Link{Delay: 50 * time.Millisecond})
			}
			delays[i] = []time.Duration{100, 10, 50}[i/1000] * time.Millisecond
			s.send(p, i, 200)
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Second)
		synctest.Wait()
		got := s.arrivals()
		if len(got) != 3000 {
			t.Fatalf("%d of 3000 datagrams arrived", len(got))
		}
		for i, a := range got {
			if a.seq != i {
				t.Fatalf("datagram %d arrived in place %d", a.seq, i)
			}
			if early := a.sent.Add(delays[i]).Sub(a.at); early > 0 {
				t.Fatalf("datagram %d arrived %v before its delay of %v was up", i, early, delays[i])
			}
		}
		// Where the delay did not change, it is exactly the delay: the
		// timer, not a later datagram, delivered it.
		for _, i := range []int{0, 999, 2500, 2999} {
			if d := got[i].at.Sub(got[i].sent); d != delays[i] {
				t.Errorf("datagram %d took %v, want %v", i, d, delays[i])
			}
		}
	})
}

// TestRateCapsWhatIsReleased: offered four times the rate for ten seconds,
// the link releases the rate's worth of bytes (plus one burst), drops what
// would wait longer than its queue, and delays nothing longer than that.
func TestRateCapsWhatIsReleased(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const rate = 1_000_000 // bit/s
		queue := 200 * time.Millisecond
		p, s := testPipe(t, Link{Rate: rate, QueueDelay: queue}), newSink()
		start := time.Now()
		for i := range 5000 { // 1000 bytes every 2 ms: 4 Mbit/s
			s.send(p, i, 1000)
			time.Sleep(2 * time.Millisecond)
		}
		released := 0
		for _, a := range s.arrivals() {
			if a.at.Sub(start) <= 10*time.Second {
				released += 1000
			}
			if wait := a.at.Sub(a.sent); wait > queue {
				t.Fatalf("datagram %d waited %v in a %v queue", a.seq, wait, queue)
			}
		}
		want, burst := rate/8*10, 3000
		if released < want-1000 || released > want+burst+1000 {
			t.Errorf("released %d bytes in 10 s at %d bit/s, want %d (+ a %d-byte burst)", released, rate, want, burst)
		}
		c := p.counters()
		if c.DroppedQueue == 0 || c.DroppedLoss != 0 {
			t.Errorf("counters %+v: want queue drops only", c)
		}

		// Lifted, the link carries everything at once.
		p.set(Link{})
		time.Sleep(time.Second)
		before := len(s.arrivals())
		for i := range 1000 {
			s.send(p, 10000+i, 1000)
		}
		synctest.Wait()
		if n := len(s.arrivals()) - before; n != 1000 {
			t.Errorf("with the cap lifted %d of 1000 datagrams sent at once arrived", n)
		}
	})
}
