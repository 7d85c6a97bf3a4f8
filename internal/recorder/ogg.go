package recorder

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
)

// opusPreSkip is the pre-skip written into OpusHead: the decoder's usual
// 6.5 ms of start-up samples at 48 kHz.
const opusPreSkip = 312

// oggWriter writes Opus packets to an Ogg file, one packet a page, with
// granule positions from RTP time: a stretch without packets (silence
// suppression, a muted microphone, loss) keeps its duration.
type oggWriter struct {
	f       *os.File
	w       *bufio.Writer
	serial  uint32
	seq     uint32
	pending []byte // the last packet, written on the next (or with EOS at close)
	granule uint64
	hdr     []byte // scratch for page headers
}

func newOgg(f *os.File, channels uint8) (*oggWriter, error) {
	o := &oggWriter{f: f, w: bufio.NewWriterSize(f, 8<<10), serial: rand.Uint32()}
	head := make([]byte, 19)
	copy(head, "OpusHead")
	head[8], head[9] = 1, channels
	binary.LittleEndian.PutUint16(head[10:], opusPreSkip)
	binary.LittleEndian.PutUint32(head[12:], 48000)
	if err := o.page(head, 0, 0x02); err != nil { // beginning of stream
		return nil, err
	}
	vendor := "classmeet"
	tags := binary.LittleEndian.AppendUint32([]byte("OpusTags"), uint32(len(vendor)))
	tags = append(tags, vendor...)
	tags = binary.LittleEndian.AppendUint32(tags, 0) // no comments
	return o, o.page(tags, 0, 0)
}

// write appends a packet whose audio ends at granule (48 kHz samples,
// pre-skip included).
func (o *oggWriter) write(packet []byte, granule uint64) error {
	if o.pending != nil {
		if err := o.page(o.pending, o.granule, 0); err != nil {
			return err
		}
	}
	o.pending, o.granule = packet, granule
	return nil
}

func (o *oggWriter) sync() error {
	if err := o.w.Flush(); err != nil {
		return err
	}
	return o.f.Sync()
}

func (o *oggWriter) close() error {
	var err error
	if o.pending != nil {
		err = o.page(o.pending, o.granule, 0x04) // end of stream
		o.pending = nil
	}
	return errors.Join(err, o.sync(), o.f.Close())
}

// page writes one Ogg page (RFC 3533) holding one packet.
func (o *oggWriter) page(packet []byte, granule uint64, flags byte) error {
	segs := len(packet)/255 + 1
	if segs > 255 {
		return fmt.Errorf("recorder: opus packet of %d bytes is too large", len(packet))
	}
	if o.hdr == nil {
		o.hdr = make([]byte, 27+255) // the largest page header
	}
	h := o.hdr[:27+segs]
	clear(h)
	copy(h, "OggS")
	h[5] = flags
	binary.LittleEndian.PutUint64(h[6:], granule)
	binary.LittleEndian.PutUint32(h[14:], o.serial)
	binary.LittleEndian.PutUint32(h[18:], o.seq)
	h[26] = byte(segs)
	for i := range segs - 1 {
		h[27+i] = 255
	}
	h[27+segs-1] = byte(len(packet) % 255)
	crc := oggCRC(oggCRC(0, h), packet)
	binary.LittleEndian.PutUint32(h[22:], crc)
	o.seq++
	if _, err := o.w.Write(h); err != nil {
		return err
	}
	_, err := o.w.Write(packet)
	return err
}

var crcTable = func() [256]uint32 {
	var t [256]uint32
	for i := range t {
		r := uint32(i) << 24
		for range 8 {
			if r&0x80000000 != 0 {
				r = r<<1 ^ 0x04c11db7
			} else {
				r <<= 1
			}
		}
		t[i] = r
	}
	return t
}()

// oggCRC is Ogg's CRC-32 (polynomial 0x04c11db7, not reflected).
func oggCRC(crc uint32, b []byte) uint32 {
	for _, x := range b {
		crc = crc<<8 ^ crcTable[byte(crc>>24)^x]
	}
	return crc
}

// oggPage is one page read back.
type oggPage struct {
	granule uint64
	flags   byte
	body    []byte
	end     int64 // offset after the page
}

// readOgg calls fn with every complete, intact page; it stops at the first
// torn or corrupt one and returns the offset where good data ends.
func readOgg(r io.ReaderAt, size int64, fn func(oggPage) error) (int64, error) {
	var off int64
	for {
		h := make([]byte, 27)
		if _, err := r.ReadAt(h, off); err != nil || !bytes.Equal(h[:4], []byte("OggS")) {
			return off, nil
		}
		segs := make([]byte, h[26])
		if _, err := r.ReadAt(segs, off+27); err != nil {
			return off, nil
		}
		n := 0
		for _, s := range segs {
			n += int(s)
		}
		body := make([]byte, n)
		if off+27+int64(len(segs))+int64(n) > size {
			return off, nil
		}
		if _, err := r.ReadAt(body, off+27+int64(len(segs))); err != nil {
			return off, nil
		}
		want := binary.LittleEndian.Uint32(h[22:])
		binary.LittleEndian.PutUint32(h[22:], 0)
		if oggCRC(oggCRC(oggCRC(0, h), segs), body) != want {
			return off, nil
		}
		p := oggPage{granule: binary.LittleEndian.Uint64(h[6:]), flags: h[5], body: body, end: off + 27 + int64(len(segs)) + int64(n)}
		if err := fn(p); err != nil {
			return off, err
		}
		off = p.end
	}
}

// repairOgg makes an Ogg file cut short valid: it trims a torn last page.
// It returns the last granule position kept and the pages kept. f is open
// for reading and writing.
func repairOgg(f *os.File) (last uint64, pages int, err error) {
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	good, err := readOgg(f, st.Size(), func(p oggPage) error { last = p.granule; pages++; return nil })
	if err != nil {
		return 0, 0, err
	}
	if good < 27 {
		return 0, 0, fmt.Errorf("recorder: %s holds no Ogg page", f.Name())
	}
	if err := f.Truncate(good); err != nil {
		return 0, 0, err
	}
	return last, pages, f.Sync()
}

// opusSamples is the duration of an Opus packet in 48 kHz samples, from its
// TOC byte (RFC 6716 §3.1).
func opusSamples(packet []byte) int {
	if len(packet) == 0 {
		return 0
	}
	toc := packet[0]
	config := toc >> 3
	var frame int
	switch {
	case config < 12: // SILK: 10, 20, 40, 60 ms
		frame = []int{480, 960, 1920, 2880}[config%4]
	case config < 16: // Hybrid: 10, 20 ms
		frame = []int{480, 960}[config%2]
	default: // CELT: 2.5, 5, 10, 20 ms
		frame = []int{120, 240, 480, 960}[config%4]
	}
	switch toc & 0x03 {
	case 0:
		return frame
	case 1, 2:
		return 2 * frame
	}
	if len(packet) < 2 {
		return 0
	}
	return int(packet[1]&0x3f) * frame
}
