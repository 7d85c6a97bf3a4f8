package recorder

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
)

const (
	ivfHeaderLen      = 32
	ivfFrameHeaderLen = 12
	ivfTimebase       = 90000 // frame timestamps are RTP video clock ticks
	ivfLengthAt       = 24    // the header's length field
)

// ivfWriter writes whole video frames to an IVF file. Each sync patches the
// length in the header, so the file is valid up to its last sync.
type ivfWriter struct {
	f       *os.File
	w       *bufio.Writer
	frames  uint32
	lastPTS uint64
}

// ivfLength is how long frames ending with one at lastPTS last, in 90 kHz
// ticks: the last frame lasts as long as the average one, or a 30th of a
// second when it is the only one.
func ivfLength(frames uint32, lastPTS uint64) uint64 {
	if frames == 0 {
		return 0
	}
	per := uint64(ivfTimebase / 30)
	if frames > 1 {
		per = lastPTS / uint64(frames-1)
	}
	return lastPTS + per
}

// putIVFLength writes the header's length field. The IVF note of libvpx
// calls it a frame count, but FFmpeg (ffprobe, ffmpeg, and players built on
// them) reads it as the duration in the header's time base and writes it so
// itself; libvpx's reader ignores it. A frame count there made ffprobe show a
// recording of minutes as 0.003 s, so it holds the duration (at 90 kHz a
// uint32 lasts 13 hours; a longer file says 13 hours).
func putIVFLength(f *os.File, frames uint32, lastPTS uint64) error {
	var n [4]byte
	binary.LittleEndian.PutUint32(n[:], uint32(min(ivfLength(frames, lastPTS), math.MaxUint32)))
	_, err := f.WriteAt(n[:], ivfLengthAt)
	return err
}

func newIVF(f *os.File, fourcc string, width, height uint16) (*ivfWriter, error) {
	h := make([]byte, ivfHeaderLen)
	copy(h[0:], "DKIF")
	binary.LittleEndian.PutUint16(h[6:], ivfHeaderLen)
	copy(h[8:], fourcc)
	binary.LittleEndian.PutUint16(h[12:], width)
	binary.LittleEndian.PutUint16(h[14:], height)
	binary.LittleEndian.PutUint32(h[16:], ivfTimebase)
	binary.LittleEndian.PutUint32(h[20:], 1)
	w := &ivfWriter{f: f, w: bufio.NewWriterSize(f, 16<<10)}
	_, err := w.w.Write(h)
	return w, err
}

// write appends a frame at pts (90 kHz ticks from the track's start).
func (v *ivfWriter) write(frame []byte, pts uint64) error {
	var h [ivfFrameHeaderLen]byte
	binary.LittleEndian.PutUint32(h[0:], uint32(len(frame)))
	binary.LittleEndian.PutUint64(h[4:], pts)
	if _, err := v.w.Write(h[:]); err != nil {
		return err
	}
	_, err := v.w.Write(frame)
	v.frames, v.lastPTS = v.frames+1, pts
	return err
}

// sync makes everything written so far durable.
func (v *ivfWriter) sync() error {
	if err := v.w.Flush(); err != nil {
		return err
	}
	if err := putIVFLength(v.f, v.frames, v.lastPTS); err != nil {
		return err
	}
	return v.f.Sync()
}

func (v *ivfWriter) close() error {
	err := v.sync()
	return errors.Join(err, v.f.Close())
}

// repairIVF makes an IVF file cut short (a crash) valid: it truncates a torn
// last frame and sets the length. It returns the frames kept and the
// last frame's timestamp (90 kHz ticks). f is open for reading and writing.
func repairIVF(f *os.File) (frames uint32, lastPTS uint64, err error) {
	h := make([]byte, ivfHeaderLen)
	if _, err := f.ReadAt(h, 0); err != nil || string(h[:4]) != "DKIF" {
		return 0, 0, fmt.Errorf("recorder: %s is not an IVF file", f.Name())
	}
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	off := int64(ivfHeaderLen)
	var fh [ivfFrameHeaderLen]byte
	for {
		if _, err := f.ReadAt(fh[:], off); err != nil {
			break
		}
		size := int64(binary.LittleEndian.Uint32(fh[0:]))
		if off+ivfFrameHeaderLen+size > st.Size() {
			break
		}
		lastPTS = binary.LittleEndian.Uint64(fh[4:])
		frames++
		off += ivfFrameHeaderLen + size
	}
	if err := f.Truncate(off); err != nil {
		return 0, 0, err
	}
	if err := putIVFLength(f, frames, lastPTS); err != nil {
		return 0, 0, err
	}
	return frames, lastPTS, f.Sync()
}

// vp8Size reads a VP8 keyframe's width and height (RFC 6386 §9.1).
func vp8Size(frame []byte) (uint16, uint16, bool) {
	if len(frame) < 10 || frame[0]&1 != 0 || frame[3] != 0x9d || frame[4] != 0x01 || frame[5] != 0x2a {
		return 0, 0, false
	}
	return binary.LittleEndian.Uint16(frame[6:]) & 0x3fff, binary.LittleEndian.Uint16(frame[8:]) & 0x3fff, true
}

// videoKeyframe reports whether a whole VP8 or VP9 frame is a keyframe.
func videoKeyframe(vp9 bool, frame []byte) bool {
	if len(frame) == 0 {
		return false
	}
	if !vp9 {
		return frame[0]&0x01 == 0
	}
	r := bitReader{b: frame}
	if r.bits(2) != 2 { // frame_marker
		return false
	}
	if r.bits(1)|r.bits(1)<<1 == 3 { // profile 3 has a reserved bit
		r.bits(1)
	}
	return r.bits(1) == 0 && r.bits(1) == 0 && !r.short // not show_existing_frame; frame_type KEY_FRAME
}

// vp9Size reads a VP9 keyframe's picture size.
func vp9Size(frame []byte) (uint16, uint16, bool) {
	key, w, h, ok := vp9Header(frame)
	return w, h, ok && key
}

// vp9Header reads a VP9 frame's uncompressed header (VP9 bitstream
// specification §6.2) as far as a keyframe's size.
func vp9Header(frame []byte) (key bool, width, height uint16, ok bool) {
	r := bitReader{b: frame}
	if r.bits(2) != 2 { // frame_marker
		return false, 0, 0, false
	}
	profile := r.bits(1) | r.bits(1)<<1
	if profile == 3 {
		r.bits(1)
	}
	if r.bits(1) == 1 { // show_existing_frame
		return false, 0, 0, !r.short
	}
	key = r.bits(1) == 0 // frame_type
	r.bits(2)            // show_frame, error_resilient_mode
	if !key {
		return false, 0, 0, !r.short
	}
	if r.bits(24) != 0x498342 { // frame_sync_code
		return true, 0, 0, false
	}
	if profile >= 2 {
		r.bits(1) // ten_or_twelve_bit
	}
	if r.bits(3) != 7 { // color_space other than RGB
		r.bits(1) // color_range
		if profile == 1 || profile == 3 {
			r.bits(3) // subsampling_x, subsampling_y, reserved_zero
		}
	} else if profile == 1 || profile == 3 {
		r.bits(1)
	}
	width, height = uint16(r.bits(16)+1), uint16(r.bits(16)+1)
	return true, width, height, !r.short
}

// bitReader reads bits most significant first; reading past the end
// yields zeros and sets short.
type bitReader struct {
	b     []byte
	pos   int
	short bool
}

func (r *bitReader) bits(n int) uint32 {
	var v uint32
	for range n {
		bit := uint32(0)
		if r.pos/8 < len(r.b) {
			bit = uint32(r.b[r.pos/8]>>(7-r.pos%8)) & 1
		} else {
			r.short = true
		}
		v = v<<1 | bit
		r.pos++
	}
	return v
}
