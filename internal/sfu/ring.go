package sfu

import (
	"encoding/binary"
	"sync"
	"time"
)

// Ring sizes, in packets (powers of two). A camera at 1.5 Mbit/s sends about
// 150 packets a second, so 256 hold 1.7 s, several round trips even on a
// poor mobile link, and a whole keyframe of a shared screen. Audio is never
// retransmitted (Opus conceals a loss better than a late packet would), so
// its ring only has to outlast one fan-out. Each slot takes an MTU: 384 KiB
// per published video track, 24 KiB per audio track.
const (
	videoRing = 256
	audioRing = 16
	// mtu bounds what one slot holds; pion never reads more from a track.
	mtu = 1500
)

// packetRing is a publication's latest packets, in slots indexed by their
// sequence number. It is the storage the read loop fills without allocating
// and the one retransmission buffer from which every subscriber's NACKs are
// answered: no subscriber keeps copies of its own.
//
// Only the read loop writes a slot, holding the slot's lock while it does;
// while it fans the packet out it only reads, as the NACK answerers do,
// under the slot's read lock.
type packetRing struct {
	slots []ringSlot
	mask  uint16
}

type ringSlot struct {
	mu    sync.RWMutex
	valid bool
	pkt   Packet
	buf   [mtu]byte
}

func newPacketRing(size int) *packetRing {
	return &packetRing{slots: make([]ringSlot, size), mask: uint16(size - 1)}
}

// store copies one packet as read from the track into its slot and parses
// it there; nil means it is not RTP worth forwarding (too short, broken,
// or padding only).
func (r *packetRing) store(raw []byte, at time.Time) *Packet {
	if len(raw) < 12 || len(raw) > mtu {
		return nil
	}
	s := &r.slots[binary.BigEndian.Uint16(raw[2:4])&r.mask]
	s.mu.Lock()
	defer s.mu.Unlock()
	s.valid = false
	n := copy(s.buf[:], raw)
	hdrLen, err := s.pkt.Header.Unmarshal(s.buf[:n])
	if err != nil {
		return nil
	}
	payload := s.buf[hdrLen:n]
	if s.pkt.Header.Padding && len(payload) > 0 {
		pad := int(payload[len(payload)-1])
		if pad > len(payload) {
			return nil
		}
		payload = payload[:len(payload)-pad]
		s.pkt.Header.Padding = false
	}
	if len(payload) == 0 {
		return nil // padding-only probes carry nothing to forward
	}
	s.pkt.Payload, s.pkt.Arrival = payload, at
	s.pkt.Keyframe, s.pkt.Resync = false, false
	s.valid = true
	return &s.pkt
}

// lookup returns the slot holding packet seq, read-locked, or nil if the
// ring no longer has it. The caller must call RUnlock on it.
func (r *packetRing) lookup(seq uint16) *ringSlot {
	s := &r.slots[seq&r.mask]
	s.mu.RLock()
	if !s.valid || s.pkt.Header.SequenceNumber != seq {
		s.mu.RUnlock()
		return nil
	}
	return s
}

// clone copies a packet for a reader that keeps it past the fan-out (a
// queue, the recorder): the ring reuses its slot.
func (p *Packet) clone() *Packet {
	c := &Packet{Header: p.Header, Arrival: p.Arrival, Keyframe: p.Keyframe, Resync: p.Resync}
	c.Header.Extension, c.Header.Extensions, c.Header.ExtensionProfile = false, nil, 0
	c.Header.CSRC = append([]uint32(nil), p.Header.CSRC...)
	c.Payload = append([]byte(nil), p.Payload...)
	return c
}
