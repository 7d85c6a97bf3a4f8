package sfu

import (
	"bytes"
	"reflect"
	"testing"
	"time"
	"unsafe"
)

// TestPerPacketStateStaysWherePrefetched: the fan-out asks for a down
// track's first six cache lines, a link's first and a wire's first
// (prefetchAhead); the fields every packet touches must stay in them, or
// each one outside costs a miss again.
func TestPerPacketStateStaysWherePrefetched(t *testing.T) {
	var d DownTrack
	end := func(off, size uintptr) uintptr { return off + size }
	for name, e := range map[string]uintptr{
		"DownTrack.connected":   end(unsafe.Offsetof(d.connected), unsafe.Sizeof(d.connected)),
		"DownTrack.mu":          end(unsafe.Offsetof(d.mu), unsafe.Sizeof(d.mu)),
		"DownTrack.history":     end(unsafe.Offsetof(d.history), unsafe.Sizeof(d.history)),
		"DownTrack.srtp":        end(unsafe.Offsetof(d.srtp), unsafe.Sizeof(d.srtp)),
		"DownTrack.h":           end(unsafe.Offsetof(d.h), unsafe.Sizeof(d.h)),
		"DownTrack.rwState":     end(unsafe.Offsetof(d.rwState), unsafe.Sizeof(d.rwState)),
		"DownTrack.octets":      end(unsafe.Offsetof(d.octets), unsafe.Sizeof(d.octets)),
		"DownTrack.aheadRecord": end(unsafe.Offsetof(d.aheadRecord), unsafe.Sizeof(d.aheadRecord)),
	} {
		if e > 6*64 {
			t.Errorf("%s ends at byte %d, past the six lines prefetched", name, e)
		}
	}
	var l link
	// stamp reads sent's pointer and length, not its capacity.
	if e := unsafe.Offsetof(l.sent) + 2*unsafe.Sizeof(uintptr(0)); e > 64 {
		t.Errorf("link.sent's length ends at byte %d, past the line prefetched", e)
	}
	if e := end(unsafe.Offsetof(l.born), unsafe.Sizeof(l.born)); e > 64 {
		t.Errorf("link.born ends at byte %d, past the line prefetched", e)
	}
	var w wire
	if e := end(unsafe.Offsetof(w.batch), unsafe.Sizeof(w.batch)); e > 64 {
		t.Errorf("wire.batch ends at byte %d, past the line prefetched", e)
	}
}

// TestPrefetchFindsTheCiphersState: the cipher's state is read from the
// AEAD interface's data word; it must be the object the interface holds,
// and no bigger than the 768 bytes prefetchAhead covers.
func TestPrefetchFindsTheCiphersState(t *testing.T) {
	g, err := newSRTPGCM(bytes.Repeat([]byte{7}, 16), bytes.Repeat([]byte{9}, 12))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cipherState(g.aead), reflect.ValueOf(g.aead).Pointer(); got != want {
		t.Errorf("cipher state at %#x, the AEAD is at %#x", got, want)
	}
	if size := reflect.TypeOf(g.aead).Elem().Size(); size > 768 {
		t.Errorf("the AEAD's state is %d bytes, more than the 768 prefetched", size)
	}
}

// TestProbeCountsWhatItsLinkSent: a probe counts every bit its link sends
// from its start to its end, media and padding, and nothing after.
func TestProbeCountsWhatItsLinkSent(t *testing.T) {
	r := newLinkRun(t, 300e3)
	r.run(time.Second, 1.5e6, nil) // an estimate: the link's rate
	r.run(3*time.Second, 200e3, nil)
	if _, ok := r.l.startProbe(r.now, 200e3, 800e3); !ok {
		t.Fatalf("no probe on a clear link (estimate %.0f)", r.estimate())
	}
	if got := r.l.probeSent(); got != 0 {
		t.Errorf("a probe just started has sent %.0f bits", got)
	}
	for range 10 {
		r.l.stamp(1000, r.now)
	}
	if got := r.l.probeSent(); got != 80_000 {
		t.Errorf("after 10 packets of 1,000 bytes the probe has sent %.0f bits, want 80,000", got)
	}
	r.l.stopProbe(r.now)
	for range 5 {
		r.l.stamp(1000, r.now)
	}
	if got := r.l.probeSent(); got != 80_000 {
		t.Errorf("after it stopped, the probe has sent %.0f bits, want 80,000 still", got)
	}
}
