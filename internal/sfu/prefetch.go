package sfu

import "unsafe"

// A fan-out touches each subscriber's state once a packet, in turn: its
// down track, wire, route, cipher, link and their records. Between two
// packets the kernel's sends and the other subscribers' turns push all of
// it out of the caches, so every cache line is a miss, each stalling the
// loop for as long as memory takes to answer. prefetchAhead asks for the
// lines of the subscribers coming next while the loop works on this one,
// in stages, each stage reading pointers that the stage before brought in:
// the track four turns ahead; its wire and link three ahead; its route and
// the records this packet will take two ahead; its cipher's keys and
// tables one ahead. A prefetch never faults and changes nothing but
// timing: a line asked for wrongly or too early costs only that.
func prefetchAhead(downs []*DownTrack, i int) {
	if j := i + 4; j < len(downs) {
		a := uintptr(unsafe.Pointer(downs[j]))
		prefetch4(a, a+64, a+128, a+192)
		prefetch4(a+256, a+320, a+320, a+320)
	}
	if j := i + 3; j < len(downs) {
		d := downs[j]
		prefetch4(uintptr(unsafe.Pointer(d.wire)), uintptr(unsafe.Pointer(d.link)), 0, 0)
	}
	if j := i + 2; j < len(downs) {
		d := downs[j]
		var out uintptr
		if d.wire != nil {
			out = uintptr(unsafe.Pointer(d.wire.out.Load()))
		}
		prefetch4(out, d.aheadRecord.Load(), d.aheadSent.Load(), 0)
	}
	if j := i + 1; j < len(downs) {
		if d := downs[j]; d.wire != nil {
			if o := d.wire.out.Load(); o != nil && o.gcm.aead != nil {
				// The cipher's state, behind the interface: its key
				// schedule and GHASH table, in its first 768 bytes.
				c := uintptr((*[2]unsafe.Pointer)(unsafe.Pointer(&o.gcm.aead))[1])
				prefetch4(c, c+64, c+128, c+192)
				prefetch4(c+256, c+320, c+384, c+448)
				prefetch4(c+512, c+576, c+640, c+704)
			}
		}
	}
}
