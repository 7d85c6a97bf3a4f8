package recorder

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"time"
)

// A WebM is written from the spooled track files without re-encoding: the
// Opus packets and VP8/VP9 frames are copied into Matroska blocks on one
// timeline. It has a known size, a seek head and cues, so browsers can seek.

// muxSegment is one spooled track segment to mux: its file in the spool and
// where it starts on the WebM's timeline.
type muxSegment struct {
	name   string // in the spool
	offset time.Duration
}

// muxInput is what goes into one WebM: audio and video segments.
type muxInput struct {
	audio      []muxSegment
	video      []muxSegment
	videoCodec codec
}

// block is one frame or packet to write, indexed before writing so the
// file's layout is known in advance.
type block struct {
	ms    int64 // on the WebM timeline
	dur   int64 // audio: the packet's duration in ms
	track uint8 // 1 video, 2 audio
	key   bool
	src   int   // index into the opened sources; -1 for generated silence
	off   int64 // where its data is in the source
	size  uint32
}

// opusSilence is a 20 ms Opus packet of silence (CELT, full band): gaps in
// the audio are filled with it, so players keep audio and video in step.
var opusSilence = []byte{0xf8, 0xff, 0xfe}

const (
	trackVideo = 1
	trackAudio = 2
	// A new cluster starts at a video keyframe once this much has passed,
	// and in any case before block timecodes (int16 ms) could overflow.
	clusterMin = 1000
	clusterMax = 30000
)

// writeWebM muxes in into the spool file out. It returns the duration.
func writeWebM(root *os.Root, out string, in muxInput) (time.Duration, error) {
	var srcs []*os.File
	defer func() {
		for _, f := range srcs {
			f.Close()
		}
	}()
	open := func(name string) (*os.File, int, error) {
		f, err := root.Open(name)
		if err != nil {
			return nil, 0, err
		}
		srcs = append(srcs, f)
		return f, len(srcs) - 1, nil
	}
	var blocks []block
	var width, height uint16
	for _, seg := range in.video {
		f, src, err := open(seg.name)
		if err != nil {
			return 0, err
		}
		bs, w, h, err := indexIVF(f, src, seg.offset, in.videoCodec)
		if err != nil {
			return 0, fmt.Errorf("recorder: webm from %s: %w", seg.name, err)
		}
		if width == 0 {
			width, height = w, h
		}
		blocks = append(blocks, bs...)
	}
	var audio []block
	for _, seg := range in.audio {
		f, src, err := open(seg.name)
		if err != nil {
			return 0, err
		}
		bs, err := indexOgg(f, src, seg.offset)
		if err != nil {
			return 0, fmt.Errorf("recorder: webm from %s: %w", seg.name, err)
		}
		audio = append(audio, bs...)
	}
	blocks = monotonic(blocks)
	blocks = append(blocks, fillSilence(withoutOverlap(audio))...)
	if len(blocks) == 0 {
		return 0, errors.New("recorder: nothing to put in a webm")
	}
	slices.SortStableFunc(blocks, func(a, b block) int {
		if a.ms != b.ms {
			return int(a.ms - b.ms)
		}
		return int(a.track) - int(b.track)
	})
	var end int64
	for _, b := range blocks {
		d := int64(20)
		if b.track == trackVideo {
			d = 33
		}
		end = max(end, b.ms+d)
	}
	f, err := root.OpenFile(out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	hasVideo, hasAudio := len(in.video) > 0, len(in.audio) > 0
	err = muxBlocks(bw, srcs, blocks, webmHeader{
		duration: float64(end), video: hasVideo, audio: hasAudio, codec: in.videoCodec, width: width, height: height,
	})
	if err == nil {
		err = bw.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	return time.Duration(end) * time.Millisecond, errors.Join(err, f.Close())
}

// indexIVF lists the frames of an IVF file.
func indexIVF(f *os.File, src int, offset time.Duration, c codec) ([]block, uint16, uint16, error) {
	r := bufio.NewReaderSize(f, 64<<10)
	h := make([]byte, ivfHeaderLen)
	if _, err := io.ReadFull(r, h); err != nil || string(h[:4]) != "DKIF" {
		return nil, 0, 0, errors.New("not an IVF file")
	}
	width, height := binary.LittleEndian.Uint16(h[12:]), binary.LittleEndian.Uint16(h[14:])
	rate := binary.LittleEndian.Uint32(h[16:])
	scale := binary.LittleEndian.Uint32(h[20:])
	if rate == 0 || scale == 0 {
		return nil, 0, 0, errors.New("IVF time base is zero")
	}
	var out []block
	off := int64(ivfHeaderLen)
	var fh [ivfFrameHeaderLen]byte
	peek := make([]byte, 16)
	for {
		if _, err := io.ReadFull(r, fh[:]); err != nil {
			return out, width, height, nil // the end, or a torn last frame
		}
		size := binary.LittleEndian.Uint32(fh[0:])
		pts := binary.LittleEndian.Uint64(fh[4:])
		n := min(int(size), len(peek))
		if _, err := io.ReadFull(r, peek[:n]); err != nil {
			return out, width, height, nil
		}
		if _, err := r.Discard(int(size) - n); err != nil {
			return out, width, height, nil
		}
		key := videoKeyframe(c == codecVP9, peek[:n])
		if key && width == 0 {
			if w, h, ok := keyframeSize(c, peek[:n]); ok {
				width, height = w, h
			}
		}
		ms := offset.Milliseconds() + int64(pts)*int64(scale)*1000/int64(rate)
		out = append(out, block{ms: ms, track: trackVideo, key: key, src: src, off: off + ivfFrameHeaderLen, size: size})
		off += ivfFrameHeaderLen + int64(size)
	}
}

func keyframeSize(c codec, frame []byte) (uint16, uint16, bool) {
	if c == codecVP9 {
		return vp9Size(frame)
	}
	return vp8Size(frame)
}

// indexOgg lists the Opus packets of an Ogg file written by oggWriter (one
// packet a page) with their start times.
func indexOgg(f *os.File, src int, offset time.Duration) ([]block, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	var out []block
	n := 0
	_, err = readOgg(f, st.Size(), func(p oggPage) error {
		n++
		if n <= 2 {
			return nil // OpusHead, OpusTags
		}
		samples := opusSamples(p.body)
		if samples == 0 || p.granule < opusPreSkip+uint64(samples) {
			return nil
		}
		start := p.granule - opusPreSkip - uint64(samples)
		out = append(out, block{
			ms: offset.Milliseconds() + int64(start)/48, dur: int64(samples) / 48, track: trackAudio, key: true, src: src,
			off: p.end - int64(len(p.body)), size: uint32(len(p.body)),
		})
		return nil
	})
	return out, err
}

// monotonic orders one track's blocks by time and makes their times
// strictly increasing: two frames less than a millisecond apart (a sender's
// quick keyframe, say) must not share a timestamp in Matroska.
func monotonic(bs []block) []block {
	slices.SortStableFunc(bs, func(a, b block) int { return int(a.ms - b.ms) })
	for i := 1; i < len(bs); i++ {
		if bs[i].ms <= bs[i-1].ms {
			bs[i].ms = bs[i-1].ms + 1
		}
	}
	return bs
}

// withoutOverlap orders audio packets by time and drops any that starts
// before the one before it ends: where two segments of a track overlap by
// a few milliseconds (each placed on the clock by its own estimate), the
// earlier segment's sound is kept.
func withoutOverlap(audio []block) []block {
	slices.SortStableFunc(audio, func(a, b block) int { return int(a.ms - b.ms) })
	out := audio[:0]
	for _, b := range audio {
		if n := len(out); n > 0 && b.ms < out[n-1].ms+out[n-1].dur {
			continue
		}
		out = append(out, b)
	}
	return out
}

// fillSilence returns audio packets in order with silent ones in the gaps.
func fillSilence(audio []block) []block {
	var fill []block
	for i := 1; i < len(audio); i++ {
		for t := audio[i-1].ms + audio[i-1].dur; t+20 <= audio[i].ms; t += 20 {
			fill = append(fill, block{ms: t, dur: 20, track: trackAudio, key: true, src: -1, size: uint32(len(opusSilence))})
		}
	}
	return append(audio, fill...)
}

type webmHeader struct {
	duration      float64 // ms
	video, audio  bool
	codec         codec
	width, height uint16
}

// Matroska element IDs.
const (
	idEBML            = 0x1A45DFA3
	idSegment         = 0x18538067
	idSeekHead        = 0x114D9B74
	idSeek            = 0x4DBB
	idSeekID          = 0x53AB
	idSeekPosition    = 0x53AC
	idInfo            = 0x1549A966
	idTimestampScale  = 0x2AD7B1
	idDuration        = 0x4489
	idMuxingApp       = 0x4D80
	idWritingApp      = 0x5741
	idTracks          = 0x1654AE6B
	idTrackEntry      = 0xAE
	idTrackNumber     = 0xD7
	idTrackUID        = 0x73C5
	idTrackType       = 0x83
	idFlagLacing      = 0x9C
	idCodecID         = 0x86
	idCodecPrivate    = 0x63A2
	idCodecDelay      = 0x56AA
	idSeekPreRoll     = 0x56BB
	idVideo           = 0xE0
	idPixelWidth      = 0xB0
	idPixelHeight     = 0xBA
	idAudio           = 0xE1
	idSamplingFreq    = 0xB5
	idChannels        = 0x9F
	idCluster         = 0x1F43B675
	idTimestamp       = 0xE7
	idSimpleBlock     = 0xA3
	idCues            = 0x1C53BB6B
	idCuePoint        = 0xBB
	idCueTime         = 0xB3
	idCueTrackPos     = 0xB7
	idCueTrack        = 0xF7
	idCueClusterPos   = 0xF1
	idDocType         = 0x4282
	idDocTypeVersion  = 0x4287
	idDocTypeReadVers = 0x4285
	idEBMLVersion     = 0x4286
	idEBMLReadVersion = 0x42F7
	idEBMLMaxIDLength = 0x42F2
	idEBMLMaxSizeLen  = 0x42F3
)

// cluster is a run of blocks starting at one timecode.
type cluster struct {
	first, last int // blocks[first:last]
	ms          int64
	size        int64 // of the whole element
	pos         int64 // from the start of the segment's data
	cue         bool
}

// muxBlocks writes the whole file: the layout is computed first (every
// size is known from the index), then the bytes are streamed.
func muxBlocks(w io.Writer, srcs []*os.File, blocks []block, h webmHeader) error {
	head := ebmlHeader()
	info := element(idInfo,
		uintEl(idTimestampScale, 1_000_000),
		floatEl(idDuration, h.duration),
		element(idMuxingApp, []byte("classmeet")),
		element(idWritingApp, []byte("classmeet")),
	)
	tracks := tracksEl(h)

	// Clusters: one at a video keyframe after clusterMin, or when the
	// block timecodes would overflow; audio only: every 5 s.
	var clusters []cluster
	for i, b := range blocks {
		cur := len(clusters) - 1
		start := cur < 0
		if !start {
			since := b.ms - clusters[cur].ms
			switch {
			case since >= clusterMax:
				start = true
			case h.video && b.track == trackVideo && b.key && since >= clusterMin:
				start = true
			case !h.video && since >= 5000:
				start = true
			}
		}
		if start {
			if cur >= 0 {
				clusters[cur].last = i
			}
			clusters = append(clusters, cluster{first: i, ms: b.ms, cue: !h.video || (b.track == trackVideo && b.key)})
		}
	}
	clusters[len(clusters)-1].last = len(blocks)

	const seekHeadSize = 3 * (2 + 1 + (2 + 1 + 4) + (2 + 1 + 8)) // three Seek entries, fixed width
	seekHead := 4 + 1 + seekHeadSize
	pos := int64(seekHead + len(info) + len(tracks))
	infoPos, tracksPos := int64(seekHead), int64(seekHead+len(info))
	for i := range clusters {
		c := &clusters[i]
		body := int64(len(uintEl(idTimestamp, uint64(c.ms))))
		for _, b := range blocks[c.first:c.last] {
			body += blockElementSize(b)
		}
		c.pos, c.size = pos, 4+8+body
		pos += c.size
	}
	cuesPos := pos
	cues := cuesEl(clusters, h.video)

	var seekEntries []byte
	for _, s := range []struct {
		id  uint32
		pos int64
	}{{idInfo, infoPos}, {idTracks, tracksPos}, {idCues, cuesPos}} {
		seekEntries = append(seekEntries, element(idSeek,
			element(idSeekID, binary.BigEndian.AppendUint32(nil, s.id)),
			fixedUintEl(idSeekPosition, uint64(s.pos)),
		)...)
	}
	if len(seekEntries) != seekHeadSize {
		return fmt.Errorf("recorder: seek head is %d bytes, not %d", len(seekEntries), seekHeadSize)
	}
	segmentSize := cuesPos + int64(len(cues))

	ew := &errWriter{w: w}
	ew.write(head)
	ew.write(idBytes(idSegment))
	ew.write(sizeFixed(uint64(segmentSize)))
	ew.write(element(idSeekHead, seekEntries))
	ew.write(info)
	ew.write(tracks)
	buf := make([]byte, 0, 64<<10)
	for _, c := range clusters {
		ew.write(idBytes(idCluster))
		ew.write(sizeFixed(uint64(c.size - 12)))
		ew.write(uintEl(idTimestamp, uint64(c.ms)))
		for _, b := range blocks[c.first:c.last] {
			data := opusSilence
			if b.src >= 0 {
				if cap(buf) < int(b.size) {
					buf = make([]byte, b.size)
				}
				data = buf[:b.size]
				if _, err := srcs[b.src].ReadAt(data, b.off); err != nil {
					return fmt.Errorf("recorder: webm: reading a frame: %w", err)
				}
			}
			ew.write(simpleBlock(b, c.ms, data))
		}
		if ew.err != nil {
			return ew.err
		}
	}
	ew.write(cues)
	return ew.err
}

func blockElementSize(b block) int64 {
	body := int64(4) + int64(b.size) // track number, timecode, flags
	return 1 + int64(len(sizeVint(uint64(body)))) + body
}

func simpleBlock(b block, clusterMS int64, data []byte) []byte {
	body := make([]byte, 0, 4+len(data))
	body = append(body, 0x80|b.track)
	body = binary.BigEndian.AppendUint16(body, uint16(int16(b.ms-clusterMS)))
	flags := byte(0)
	if b.key {
		flags |= 0x80
	}
	body = append(body, flags)
	body = append(body, data...)
	return element(idSimpleBlock, body)
}

func ebmlHeader() []byte {
	return element(idEBML,
		uintEl(idEBMLVersion, 1), uintEl(idEBMLReadVersion, 1), uintEl(idEBMLMaxIDLength, 4), uintEl(idEBMLMaxSizeLen, 8),
		element(idDocType, []byte("webm")), uintEl(idDocTypeVersion, 4), uintEl(idDocTypeReadVers, 2),
	)
}

func tracksEl(h webmHeader) []byte {
	var entries [][]byte
	if h.video {
		id := "V_VP8"
		if h.codec == codecVP9 {
			id = "V_VP9"
		}
		entries = append(entries, element(idTrackEntry,
			uintEl(idTrackNumber, trackVideo), uintEl(idTrackUID, rand.Uint64()>>1|1), uintEl(idTrackType, 1),
			uintEl(idFlagLacing, 0), element(idCodecID, []byte(id)),
			element(idVideo, uintEl(idPixelWidth, uint64(h.width)), uintEl(idPixelHeight, uint64(h.height))),
		))
	}
	if h.audio {
		head := make([]byte, 19)
		copy(head, "OpusHead")
		head[8], head[9] = 1, 2
		binary.LittleEndian.PutUint16(head[10:], opusPreSkip)
		binary.LittleEndian.PutUint32(head[12:], 48000)
		entries = append(entries, element(idTrackEntry,
			uintEl(idTrackNumber, trackAudio), uintEl(idTrackUID, rand.Uint64()>>1|1), uintEl(idTrackType, 2),
			uintEl(idFlagLacing, 0), element(idCodecID, []byte("A_OPUS")), element(idCodecPrivate, head),
			uintEl(idCodecDelay, uint64(opusPreSkip)*1_000_000_000/48000), uintEl(idSeekPreRoll, 80_000_000),
			element(idAudio, floatEl(idSamplingFreq, 48000), uintEl(idChannels, 2)),
		))
	}
	return element(idTracks, entries...)
}

func cuesEl(clusters []cluster, video bool) []byte {
	var points [][]byte
	track := uint64(trackAudio)
	if video {
		track = trackVideo
	}
	for _, c := range clusters {
		if !c.cue {
			continue
		}
		points = append(points, element(idCuePoint,
			uintEl(idCueTime, uint64(c.ms)),
			element(idCueTrackPos, uintEl(idCueTrack, track), uintEl(idCueClusterPos, uint64(c.pos))),
		))
	}
	return element(idCues, points...)
}

// element is an EBML element: its ID, its size, its body.
func element(id uint32, body ...[]byte) []byte {
	n := 0
	for _, b := range body {
		n += len(b)
	}
	out := append(idBytes(id), sizeVint(uint64(n))...)
	for _, b := range body {
		out = append(out, b...)
	}
	return out
}

func idBytes(id uint32) []byte {
	switch {
	case id >= 1<<24:
		return binary.BigEndian.AppendUint32(nil, id)
	case id >= 1<<16:
		return []byte{byte(id >> 16), byte(id >> 8), byte(id)}
	case id >= 1<<8:
		return []byte{byte(id >> 8), byte(id)}
	}
	return []byte{byte(id)}
}

// sizeVint is the shortest EBML variable-length size.
func sizeVint(n uint64) []byte {
	for l := 1; l <= 8; l++ {
		if n < 1<<(7*l)-1 {
			b := make([]byte, l)
			for i := l - 1; i >= 0; i-- {
				b[i] = byte(n)
				n >>= 8
			}
			b[0] |= 1 << (8 - l)
			return b
		}
	}
	return sizeFixed(n)
}

// sizeFixed is an 8-byte EBML size, for sizes written before they are final.
func sizeFixed(n uint64) []byte {
	b := binary.BigEndian.AppendUint64(nil, n)
	b[0] = 0x01
	return b
}

func uintEl(id uint32, v uint64) []byte {
	b := binary.BigEndian.AppendUint64(nil, v)
	i := 0
	for i < 7 && b[i] == 0 {
		i++
	}
	return element(id, b[i:])
}

// fixedUintEl is an unsigned integer in eight bytes, whatever its value.
func fixedUintEl(id uint32, v uint64) []byte {
	return element(id, binary.BigEndian.AppendUint64(nil, v))
}

func floatEl(id uint32, v float64) []byte {
	return element(id, binary.BigEndian.AppendUint64(nil, math.Float64bits(v)))
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) write(b []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(b)
	}
}
