package sfu

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
// timing: a line asked for wrongly or too early costs only that. An
// address not known yet is replaced by one already asked for (a prefetch
// of address 0 may cost a page walk). docs/performance.md has what it
// saves.
func prefetchAhead(downs []*DownTrack, i int) {
	if j := i + 4; j < len(downs) {
		a := hint(downs[j])
		prefetch8(a, a+64, a+128, a+192, a+256, a+320, a, a)
	}
	if j := i + 3; j < len(downs) {
		d := downs[j]
		w, l := hint(d.wire), hint(d.link)
		w, l = or(w, hint(d)), or(l, hint(d))
		prefetch8(w, l, w, l, w, l, w, l)
	}
	if j := i + 2; j < len(downs) {
		d := downs[j]
		out := hint(d)
		if d.wire != nil {
			out = or(hint(d.wire.out.Load()), out)
		}
		rec, sent := or(d.aheadRecord.Load(), out), or(d.aheadSent.Load(), out)
		prefetch8(out, out+64, rec, sent, out, out, out, out)
	}
	if j := i + 1; j < len(downs) && downs[j].wire != nil {
		if o := downs[j].wire.out.Load(); o != nil && o.gcm.aead != nil {
			// The cipher's state, behind the interface (*gcm.GCM in Go
			// 1.26): the encryption key schedule (AES-128's in its first
			// three lines), the nonce and tag sizes and the GHASH table
			// (bytes 488 to 760); not the decryption schedule between
			// them.
			c := cipherState(o.gcm.aead)
			prefetch8(c, c+64, c+128, c+448, c+512, c+576, c+640, c+704)
		}
	}
}

// or is a, or b if a is 0.
func or(a, b uintptr) uintptr {
	if a == 0 {
		return b
	}
	return a
}

// prefetch8 asks the CPU to bring the cache lines at eight addresses in;
// it never faults, whatever the address.
//
//go:noescape
func prefetch8(p0, p1, p2, p3, p4, p5, p6, p7 uintptr)
