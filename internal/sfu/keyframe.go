package sfu

import "strings"

// startsKeyframe reports whether an RTP payload begins a keyframe of the
// codec named by mime: the packet a decoder can start from. Forwarding to a
// new or resumed subscriber starts at such a packet.
func startsKeyframe(mime string, payload []byte) bool {
	switch { // EqualFold: no lower-cased copy of the name for every packet
	case strings.EqualFold(mime, "video/vp8"):
		return vp8Keyframe(payload)
	case strings.EqualFold(mime, "video/vp9"):
		return vp9Keyframe(payload)
	case strings.EqualFold(mime, "video/h264"):
		return h264Keyframe(payload)
	}
	return false
}

// vp8Keyframe reads the VP8 payload descriptor (RFC 7741 §4.2): the first
// packet of partition 0 (S=1, PID=0) whose frame header has P=0.
func vp8Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	x, s, pid := p[0]&0x80 != 0, p[0]&0x10 != 0, p[0]&0x07
	if !s || pid != 0 {
		return false
	}
	i := 1
	if x {
		if len(p) < 2 {
			return false
		}
		ext := p[1]
		i = 2
		if ext&0x80 != 0 { // I: picture id, 7 or 15 bits
			if len(p) <= i {
				return false
			}
			if p[i]&0x80 != 0 {
				i++
			}
			i++
		}
		if ext&0x40 != 0 { // L: TL0PICIDX
			i++
		}
		if ext&0x30 != 0 { // T or K: TID/Y/KEYIDX
			i++
		}
	}
	return len(p) > i && p[i]&0x01 == 0
}

// vp9Keyframe reads the VP9 payload descriptor (RFC 9628 §4.2): the start of
// a frame (B=1) that is not inter-predicted (P=0), in the base spatial layer.
func vp9Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	i, l, pBit, b := p[0]&0x80 != 0, p[0]&0x20 != 0, p[0]&0x40 != 0, p[0]&0x08 != 0
	if pBit || !b {
		return false
	}
	if !l {
		return true
	}
	n := 1
	if i {
		if len(p) < 2 {
			return false
		}
		if p[1]&0x80 != 0 {
			n += 2
		} else {
			n++
		}
	}
	if len(p) <= n {
		return false
	}
	return p[n]>>1&0x07 == 0 // spatial id 0
}

// h264Keyframe looks for an IDR slice or a sequence parameter set in a
// single NAL unit, a STAP-A aggregate or the first fragment of an FU-A.
func h264Keyframe(p []byte) bool {
	if len(p) < 1 {
		return false
	}
	switch nal := p[0] & 0x1f; nal {
	case 5, 7:
		return true
	case 24: // STAP-A: 16-bit sizes, each followed by a NAL unit
		for i := 1; i+2 < len(p); {
			size := int(p[i])<<8 | int(p[i+1])
			if t := p[i+2] & 0x1f; t == 5 || t == 7 {
				return true
			}
			i += 2 + size
		}
	case 28: // FU-A: start bit and the fragmented NAL's type
		return len(p) > 1 && p[1]&0x80 != 0 && (p[1]&0x1f == 5 || p[1]&0x1f == 7)
	}
	return false
}
