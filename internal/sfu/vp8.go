package sfu

import (
	"encoding/binary"
	"strings"
)

// vp8Descriptor is where the fields a forwarder rewrites sit in a VP8
// payload descriptor (RFC 7741 §4.2), and what they hold.
type vp8Descriptor struct {
	picAt   int // offset of the picture id, or 0 if there is none
	pic15   bool
	pic     uint16
	tl0At   int // offset of TL0PICIDX, or 0
	tl0     uint8
	payload int // where the VP8 payload (the frame) starts
}

// parseVP8 reads a VP8 payload descriptor; false if it is truncated.
func parseVP8(p []byte) (vp8Descriptor, bool) {
	var d vp8Descriptor
	if len(p) < 1 {
		return d, false
	}
	i := 1
	if p[0]&0x80 != 0 { // X: an extension byte follows
		if len(p) < 2 {
			return d, false
		}
		ext := p[1]
		i = 2
		if ext&0x80 != 0 { // I: picture id, 7 or 15 bits
			if len(p) <= i {
				return d, false
			}
			d.picAt = i
			if p[i]&0x80 != 0 {
				if len(p) <= i+1 {
					return d, false
				}
				d.pic15, d.pic = true, binary.BigEndian.Uint16(p[i:])&0x7fff
				i++
			} else {
				d.pic = uint16(p[i])
			}
			i++
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			if len(p) <= i {
				return d, false
			}
			d.tl0At, d.tl0 = i, p[i]
			i++
		}
		if ext&0x30 != 0 { // T or K: TID/Y/KEYIDX
			i++
		}
	}
	if len(p) < i {
		return d, false
	}
	d.payload = i
	return d, true
}

// vp8KeyframeSize reads the picture size from the first packet of a VP8
// keyframe (RFC 6386 §9.1: a 3-byte frame tag, the start code 9d 01 2a,
// then 14-bit width and height).
func vp8KeyframeSize(mime string, p []byte) (w, h uint16, ok bool) {
	if !strings.EqualFold(mime, "video/vp8") {
		return 0, 0, false
	}
	d, ok := parseVP8(p)
	if !ok || len(p) < d.payload+10 {
		return 0, 0, false
	}
	f := p[d.payload:]
	if f[0]&0x01 != 0 || f[3] != 0x9d || f[4] != 0x01 || f[5] != 0x2a {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint16(f[6:]) & 0x3fff, binary.LittleEndian.Uint16(f[8:]) & 0x3fff, true
}

// vp8Munger keeps a down track's VP8 picture ids and TL0PICIDX monotonic
// when it switches between simulcast layers, each of which numbers its
// pictures on its own: a decoder takes a jump back for loss or reordering.
type vp8Munger struct {
	started   bool
	picOffset uint16 // added to the incoming picture id, modulo its width
	tl0Offset uint8
	lastPic   uint16 // the newest outgoing picture id (15 bits)
	lastTL0   uint8
}

// vp8Offsets is how one packet's ids were shifted, kept to resend it alike.
type vp8Offsets struct {
	pic uint16
	tl0 uint8
}

// next picks the offsets for a packet: at a layer switch (or the first
// packet) new ones that continue the outgoing numbering one past the last.
func (m *vp8Munger) next(d vp8Descriptor, switched bool) vp8Offsets {
	if switched && m.started {
		if d.picAt != 0 {
			m.picOffset = m.lastPic + 1 - d.pic
		}
		if d.tl0At != 0 {
			m.tl0Offset = m.lastTL0 + 1 - d.tl0
		}
	}
	o := vp8Offsets{pic: m.picOffset, tl0: m.tl0Offset}
	if d.picAt != 0 {
		pic := (d.pic + o.pic) & 0x7fff
		if !m.started || int16((pic-m.lastPic)<<1) > 0 { // newer, modulo 2^15
			m.lastPic = pic
		}
	}
	if d.tl0At != 0 {
		tl0 := d.tl0 + o.tl0
		if !m.started || int8(tl0-m.lastTL0) > 0 {
			m.lastTL0 = tl0
		}
	}
	m.started = true
	return o
}

// rewriteVP8 copies src into dst with its ids shifted by o; src itself is
// shared with other subscribers and is never written. With no shift, src
// is returned as it is.
func rewriteVP8(dst, src []byte, d vp8Descriptor, o vp8Offsets) []byte {
	if o.pic == 0 && o.tl0 == 0 || len(src) > len(dst) {
		return src
	}
	out := dst[:len(src)]
	copy(out, src)
	if d.picAt != 0 {
		if d.pic15 {
			binary.BigEndian.PutUint16(out[d.picAt:], 0x8000|(d.pic+o.pic)&0x7fff)
		} else {
			out[d.picAt] = byte(d.pic+o.pic) & 0x7f
		}
	}
	if d.tl0At != 0 {
		out[d.tl0At] = d.tl0 + o.tl0
	}
	return out
}
