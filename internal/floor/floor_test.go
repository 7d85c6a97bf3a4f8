package floor

import (
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"classmeet/internal/testclock"
)

func TestMain(m *testing.M) {
	RunSinkIfAsked()
	os.Exit(m.Run())
}

// TestFanOutDelivers: the fan-out floor's packets reach the sink process,
// spread over its sockets.
func TestFanOutDelivers(t *testing.T) {
	f, err := OpenFanOut(os.Args[0], 5, -1)
	if err != nil {
		t.Fatal(err)
	}
	for range 100 {
		if err := f.Send(); err != nil {
			t.Fatal(err)
		}
	}
	// Loopback drops nothing the sink has room for.
	testclock.WaitFor(t, "100 packets at the sink", 10*time.Second, func() bool {
		n, err := f.Received()
		if err != nil {
			t.Fatal(err)
		}
		return n == 100
	})
	if err := f.Close(); err != nil {
		t.Error(err)
	}
}

// TestLinkDelivers: what the floor measures is real work: every packet
// sent, one by one or in batches, reaches the receiver.
func TestLinkDelivers(t *testing.T) {
	l, err := Open(-1)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for range 100 {
		if err := l.Send(); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.SendBatch(50); err != nil {
		t.Fatal(err)
	}
	testclock.WaitFor(t, "150 packets at the receiver", 10*time.Second, func() bool { return l.Received() == 150 })
}

// BenchmarkFloor: ns/op is the cost of one packet, encrypted and sent,
// alone (sendto) or in batches (sendmmsg). CLASSMEET_FLOOR_CPUS=S,R pins
// the sender to CPU S and the receiver to CPU R, as scripts/perf.sh does
// for the server's core and the load generator's.
func BenchmarkFloor(b *testing.B) {
	send, recv := floorCPUs(b)
	l, err := Open(recv)
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	pin := func(b *testing.B) {
		if send >= 0 {
			runtime.LockOSThread()
			if err := Pin(send); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.Run("sendto", func(b *testing.B) {
		pin(b)
		b.ReportAllocs()
		for range b.N {
			if err := l.Send(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, batch := range []int{1, 32} {
		name := "fanout=100,sendto"
		if batch > 1 {
			name = fmt.Sprintf("fanout=100,sendmmsg=%d", batch)
		}
		b.Run(name, func(b *testing.B) {
			f, err := OpenFanOut(os.Args[0], 100, recv)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			pin(b)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i += batch {
				if batch == 1 {
					err = f.Send()
				} else {
					err = f.SendBatch(batch)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	for _, n := range []int{8, 32} {
		b.Run(fmt.Sprintf("sendmmsg=%d", n), func(b *testing.B) {
			pin(b)
			b.ReportAllocs()
			for i := 0; i < b.N; i += n {
				if err := l.SendBatch(n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// floorCPUs is CLASSMEET_FLOOR_CPUS: the sender's CPU and the receiver's,
// or -1 for either unset.
func floorCPUs(b *testing.B) (send, recv int) {
	send, recv = -1, -1
	if cpus := os.Getenv("CLASSMEET_FLOOR_CPUS"); cpus != "" {
		if _, err := fmt.Sscanf(cpus, "%d,%d", &send, &recv); err != nil {
			b.Fatalf("CLASSMEET_FLOOR_CPUS=%q: want two CPU numbers, S,R", cpus)
		}
	}
	return send, recv
}

// TestHandOff: the two threads pass the counter to the end, and the time
// a pass took is measured; a hand-off with itself, or of no passes, is
// refused rather than spun on.
func TestHandOff(t *testing.T) {
	if runtime.GOMAXPROCS(0) < 2 {
		t.Skip("needs two processors")
	}
	d, err := HandOff(-1, -1, 1000, 3)
	if err != nil {
		t.Fatal(err)
	}
	if d <= 0 {
		t.Errorf("a pass took %v", d)
	}
	for _, c := range []struct{ a, b, n, rounds int }{{0, 0, 10, 1}, {-1, -1, 0, 1}, {-1, -1, 10, 0}} {
		if _, err := HandOff(c.a, c.b, c.n, c.rounds); err == nil {
			t.Errorf("HandOff(%d, %d, %d, %d) was not refused", c.a, c.b, c.n, c.rounds)
		}
	}
}

// BenchmarkHandOff reports how long a write on the sender's CPU takes to
// be seen on the receiver's (ns/pass, the best of 20 rounds of 2,000
// passes; docs/performance.md has what it was on which placement). Run it
// once: -benchtime 1x.
func BenchmarkHandOff(b *testing.B) {
	send, recv := floorCPUs(b)
	if runtime.GOMAXPROCS(0) < 2 {
		b.Skip("needs two processors")
	}
	var d time.Duration
	for range b.N {
		var err error
		if d, err = HandOff(send, recv, 2000, 20); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(d.Nanoseconds()), "ns/pass")
}
