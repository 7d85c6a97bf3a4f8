package floor

import (
	"fmt"
	"testing"
	"time"

	"classmeet/internal/testclock"
)

// TestLinkDelivers: what the floor measures is real work: every packet
// sent, one by one or in batches, reaches the receiver.
func TestLinkDelivers(t *testing.T) {
	l, err := Open()
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
// alone (sendto) or in batches (sendmmsg).
func BenchmarkFloor(b *testing.B) {
	l, err := Open()
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	b.Run("sendto", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if err := l.Send(); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, n := range []int{8, 32} {
		b.Run(fmt.Sprintf("sendmmsg=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i += n {
				if err := l.SendBatch(n); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
