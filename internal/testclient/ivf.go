package testclient

import (
	"encoding/binary"
	"os"
)

// ivfFile writes whole VP8 frames to an IVF file for ffmpeg to check. The
// frame count in the header is patched on close.
type ivfFile struct {
	f      *os.File
	frames uint32
}

func createIVF(path string) (*ivfFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	hdr := make([]byte, 32)
	copy(hdr[0:], "DKIF")
	binary.LittleEndian.PutUint16(hdr[6:], 32)
	copy(hdr[8:], "VP80")
	binary.LittleEndian.PutUint16(hdr[12:], 640)
	binary.LittleEndian.PutUint16(hdr[14:], 480)
	binary.LittleEndian.PutUint32(hdr[16:], 90000) // timebase: RTP clock
	binary.LittleEndian.PutUint32(hdr[20:], 1)
	if _, err := f.Write(hdr); err != nil {
		f.Close()
		return nil, err
	}
	return &ivfFile{f: f}, nil
}

func (v *ivfFile) write(frame []byte, pts uint32) error {
	h := make([]byte, 12)
	binary.LittleEndian.PutUint32(h[0:], uint32(len(frame)))
	binary.LittleEndian.PutUint64(h[4:], uint64(pts))
	if _, err := v.f.Write(h); err != nil {
		return err
	}
	v.frames++
	_, err := v.f.Write(frame)
	return err
}

func (v *ivfFile) close() error {
	b := make([]byte, 4)
	binary.LittleEndian.PutUint32(b, v.frames)
	if _, err := v.f.WriteAt(b, 24); err != nil {
		v.f.Close()
		return err
	}
	return v.f.Close()
}
