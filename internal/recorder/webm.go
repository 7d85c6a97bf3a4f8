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
	"slices"
	"time"

	"github.com/at-wat/ebml-go"
	"github.com/at-wat/ebml-go/webm"
)

// A WebM is written from the spooled track files without re-encoding: the
// Opus packets and VP8/VP9 frames are copied into Matroska blocks on one
// timeline. It has a duration, a seek head and cues, so browsers can seek.
// The timeline is ours; at-wat/ebml-go writes the Matroska elements.

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

// block is one frame or packet to write, indexed before writing so every
// track can be put on one timeline, in order, before a byte is written.
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
	var srcs sources
	defer srcs.close()
	blocks, width, height, err := timeline(root, &srcs, in)
	if err != nil {
		return 0, err
	}
	end := timelineEnd(blocks)
	f, err := root.OpenFile(out, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o640)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(f, 256<<10)
	hasVideo, hasAudio := len(in.video) > 0, len(in.audio) > 0
	err = muxBlocks(f, bw, srcs, blocks, webmHeader{
		duration: float64(end), video: hasVideo, audio: hasAudio, codec: in.videoCodec, width: width, height: height,
	})
	if err == nil {
		err = f.Sync()
	}
	return time.Duration(end) * time.Millisecond, errors.Join(err, f.Close())
}

// sources are the spool files a WebM is muxed from, open while it is
// written; a block names its source by index.
type sources []*os.File

func (s *sources) open(root *os.Root, name string) (*os.File, int, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, 0, err
	}
	*s = append(*s, f)
	return f, len(*s) - 1, nil
}

// close has a pointer receiver so that a deferred call closes what was
// opened after the defer.
func (s *sources) close() {
	for _, f := range *s {
		f.Close()
	}
}

// timeline indexes every segment of in and puts the blocks on the WebM's
// timeline in the order they are written: video frames at strictly
// increasing times, audio without overlaps and with silence in the gaps.
func timeline(root *os.Root, srcs *sources, in muxInput) (blocks []block, width, height uint16, err error) {
	for _, seg := range in.video {
		f, src, err := srcs.open(root, seg.name)
		if err != nil {
			return nil, 0, 0, err
		}
		bs, w, h, err := indexIVF(f, src, seg.offset, in.videoCodec)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("recorder: webm from %s: %w", seg.name, err)
		}
		if width == 0 {
			width, height = w, h
		}
		blocks = append(blocks, bs...)
	}
	var audio []block
	for _, seg := range in.audio {
		f, src, err := srcs.open(root, seg.name)
		if err != nil {
			return nil, 0, 0, err
		}
		bs, err := indexOgg(f, src, seg.offset)
		if err != nil {
			return nil, 0, 0, fmt.Errorf("recorder: webm from %s: %w", seg.name, err)
		}
		audio = append(audio, bs...)
	}
	blocks = monotonic(blocks)
	blocks = append(blocks, fillSilence(withoutOverlap(audio))...)
	if len(blocks) == 0 {
		return nil, 0, 0, errors.New("recorder: nothing to put in a webm")
	}
	slices.SortStableFunc(blocks, func(a, b block) int {
		if a.ms != b.ms {
			return int(a.ms - b.ms)
		}
		return int(a.track) - int(b.track)
	})
	return blocks, width, height, nil
}

// timelineEnd is when the last block ends, in ms.
func timelineEnd(blocks []block) int64 {
	var end int64
	for _, b := range blocks {
		d := int64(20)
		if b.track == trackVideo {
			d = 33
		}
		end = max(end, b.ms+d)
	}
	return end
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

// seek is webm.Seek with its position in a fixed eight bytes: the seek head
// comes first in the file but the cues' position is known only at the end,
// so it is written with placeholders and rewritten in place, the same size.
type seek struct {
	SeekID       []byte `ebml:"SeekID"`
	SeekPosition uint64 `ebml:"SeekPosition,size=8"`
}

// The file's elements, each marshalled on its own so that the blocks stream
// from the sources to the file a frame at a time: the segment and its
// clusters have an unknown size (as in ebml-go's own block writer), and
// the seek head and cues tell a player where everything is.
type (
	webmStart struct {
		EBML    webm.EBMLHeader `ebml:"EBML"`
		Segment struct{}        `ebml:"Segment,size=unknown"`
	}
	seekHeadEl struct {
		SeekHead struct {
			Seek []seek `ebml:"Seek"`
		} `ebml:"SeekHead"`
	}
	infoEl struct {
		Info webm.Info `ebml:"Info"`
	}
	tracksEl struct {
		Tracks webm.Tracks `ebml:"Tracks"`
	}
	clusterEl struct {
		Cluster struct {
			Timecode uint64 `ebml:"Timecode"`
		} `ebml:"Cluster,size=unknown"`
	}
	blockEl struct {
		Block ebml.Block `ebml:"SimpleBlock"`
	}
	cuesEl struct {
		Cues webm.Cues `ebml:"Cues"`
	}
)

// webmWriter counts what it writes, for the positions the seek head and
// cues hold (from the start of the segment's data).
type webmWriter struct {
	w       io.Writer
	n       int64
	segment int64
}

func (m *webmWriter) Write(p []byte) (int, error) {
	n, err := m.w.Write(p)
	m.n += int64(n)
	return n, err
}

// put marshals one element and returns where in the segment it starts.
func (m *webmWriter) put(el any) (uint64, error) {
	pos := uint64(m.n - m.segment)
	if err := ebml.Marshal(el, m); err != nil {
		return 0, fmt.Errorf("recorder: webm: %w", err)
	}
	return pos, nil
}

// seekHead leads to the Info, Tracks and Cues at these positions.
func seekHead(info, tracks, cues uint64) *seekHeadEl {
	h := &seekHeadEl{}
	h.SeekHead.Seek = []seek{
		{SeekID: ebml.ElementInfo.Bytes(), SeekPosition: info},
		{SeekID: ebml.ElementTracks.Bytes(), SeekPosition: tracks},
		{SeekID: ebml.ElementCues.Bytes(), SeekPosition: cues},
	}
	return h
}

// muxBlocks writes the whole file to f through w (which buffers it), then
// rewrites the seek head with the positions it now knows.
func muxBlocks(f io.WriterAt, w *bufio.Writer, srcs sources, blocks []block, h webmHeader) error {
	m := &webmWriter{w: w}
	if err := ebml.Marshal(&webmStart{EBML: *webm.DefaultEBMLHeader}, m); err != nil {
		return fmt.Errorf("recorder: webm: %w", err)
	}
	m.segment = m.n
	if _, err := m.put(seekHead(0, 0, 0)); err != nil {
		return err
	}
	headSize := m.n - m.segment
	info, err := m.put(&infoEl{webm.Info{TimecodeScale: 1_000_000, Duration: h.duration, MuxingApp: "classmeet", WritingApp: "classmeet"}})
	if err != nil {
		return err
	}
	tracks, err := m.put(&tracksEl{webm.Tracks{TrackEntry: trackEntries(h)}})
	if err != nil {
		return err
	}
	cues, err := m.clusters(srcs, blocks, h.video)
	if err != nil {
		return err
	}
	cuesPos, err := m.put(&cuesEl{cues})
	if err != nil {
		return err
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("recorder: webm: %w", err)
	}
	var b bytes.Buffer
	if err := ebml.Marshal(seekHead(info, tracks, cuesPos), &b); err != nil {
		return fmt.Errorf("recorder: webm: %w", err)
	}
	if int64(b.Len()) != headSize {
		return fmt.Errorf("recorder: webm: the seek head grew from %d to %d bytes", headSize, b.Len())
	}
	if _, err := f.WriteAt(b.Bytes(), m.segment); err != nil {
		return fmt.Errorf("recorder: webm: rewriting the seek head: %w", err)
	}
	return nil
}

// clusters writes the blocks in clusters and returns the cues that lead to
// them. A cluster starts at a video keyframe once clusterMin has passed
// (audio only: every 5 s), and in any case before a block's timecode, in
// 16 bits from the cluster's, could overflow. A cue points at each cluster
// that starts with a keyframe, where a player can start decoding.
func (m *webmWriter) clusters(srcs sources, blocks []block, video bool) (webm.Cues, error) {
	var cues webm.Cues
	cueTrack := uint64(trackAudio)
	if video {
		cueTrack = trackVideo
	}
	buf := make([]byte, 0, 64<<10)
	var cluster int64 // where the current one starts
	for i, b := range blocks {
		if i == 0 || newCluster(b, b.ms-cluster, video) {
			cluster = b.ms
			var el clusterEl
			el.Cluster.Timecode = uint64(b.ms)
			pos, err := m.put(&el)
			if err != nil {
				return cues, err
			}
			if !video || (b.track == trackVideo && b.key) {
				cues.CuePoint = append(cues.CuePoint, webm.CuePoint{
					CueTime:           uint64(b.ms),
					CueTrackPositions: []webm.CueTrackPosition{{CueTrack: cueTrack, CueClusterPosition: pos}},
				})
			}
		}
		data, err := blockData(srcs, b, &buf)
		if err != nil {
			return cues, err
		}
		el := blockEl{ebml.Block{TrackNumber: uint64(b.track), Timecode: int16(b.ms - cluster), Keyframe: b.key, Data: [][]byte{data}}}
		if _, err := m.put(&el); err != nil {
			return cues, err
		}
	}
	return cues, nil
}

// blockData reads a block's frame or packet into buf, which it grows.
func blockData(srcs sources, b block, buf *[]byte) ([]byte, error) {
	if b.src < 0 {
		return opusSilence, nil
	}
	if cap(*buf) < int(b.size) {
		*buf = make([]byte, b.size)
	}
	data := (*buf)[:b.size]
	if _, err := srcs[b.src].ReadAt(data, b.off); err != nil {
		return nil, fmt.Errorf("recorder: webm: reading a frame: %w", err)
	}
	return data, nil
}

func newCluster(b block, since int64, video bool) bool {
	switch {
	case since >= clusterMax:
		return true
	case video:
		return b.track == trackVideo && b.key && since >= clusterMin
	}
	return since >= 5000
}

func trackEntries(h webmHeader) []webm.TrackEntry {
	var entries []webm.TrackEntry
	if h.video {
		id := "V_VP8"
		if h.codec == codecVP9 {
			id = "V_VP9"
		}
		entries = append(entries, webm.TrackEntry{
			TrackNumber: trackVideo, TrackUID: rand.Uint64()>>1 | 1, TrackType: 1, CodecID: id,
			Video: &webm.Video{PixelWidth: uint64(h.width), PixelHeight: uint64(h.height)},
		})
	}
	if h.audio {
		head := make([]byte, 19)
		copy(head, "OpusHead")
		head[8], head[9] = 1, 2
		binary.LittleEndian.PutUint16(head[10:], opusPreSkip)
		binary.LittleEndian.PutUint32(head[12:], 48000)
		entries = append(entries, webm.TrackEntry{
			TrackNumber: trackAudio, TrackUID: rand.Uint64()>>1 | 1, TrackType: 2, CodecID: "A_OPUS", CodecPrivate: head,
			CodecDelay: uint64(opusPreSkip) * 1_000_000_000 / 48000, SeekPreRoll: 80_000_000,
			Audio: &webm.Audio{SamplingFrequency: 48000, Channels: 2},
		})
	}
	return entries
}
