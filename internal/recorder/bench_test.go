package recorder

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/pion/rtp/codecs"

	"classmeet/internal/sfu"
)

// BenchmarkWriteVideo is the recorder's work per video packet: reorder,
// assemble, write to the IVF (the fsync once a second is included).
func BenchmarkWriteVideo(b *testing.B) {
	t := &testing.T{}
	frames := videoFrames(t, fixture("video.ivf"))
	ps := videoPackets(frames, 3000, &codecs.VP8Payloader{}, 96)
	b.ResetTimer()
	for b.Loop() {
		tr := newTestTrack("p", "camera", "video/VP8")
		f, err := os.Create(filepath.Join(b.TempDir(), "v.ivf"))
		if err != nil {
			b.Fatal(err)
		}
		w := newWriter(tr, codecVP8, f)
		tr.feed(ps, arrival())
		tr.end()
		if res := w.run(); res.err != nil || res.stats.Frames != 3000 {
			b.Fatalf("%v %d", res.err, res.stats.Frames)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ps)), "ns/packet")
}

// BenchmarkWriteAudio is the same for Opus into Ogg.
func BenchmarkWriteAudio(b *testing.B) {
	t := &testing.T{}
	ps := audioPackets(t, 60, -1, -1)
	b.ResetTimer()
	for b.Loop() {
		tr := newTestTrack("p", "microphone", "audio/opus")
		f, err := os.Create(filepath.Join(b.TempDir(), "a.ogg"))
		if err != nil {
			b.Fatal(err)
		}
		w := newWriter(tr, codecOpus, f)
		tr.feed(ps, arrival())
		tr.end()
		if res := w.run(); res.err != nil {
			b.Fatal(res.err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(ps)), "ns/packet")
}

// BenchmarkMemoryPerTrack is what one recorded track holds while it runs:
// 20 writers (10 cameras, 10 microphones) recording at once, measured on
// the heap after a collection, divided by 20.
func BenchmarkMemoryPerTrack(b *testing.B) {
	t := &testing.T{}
	frames := videoFrames(t, fixture("video.ivf"))
	video := videoPackets(frames, 30, &codecs.VP8Payloader{}, 96)
	audio := audioPackets(t, 1, -1, -1)
	var perTrack float64
	for b.Loop() {
		dir := b.TempDir()
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		var tracks []*testTrack
		var writers []*writer
		done := make(chan result, 20)
		for i := range 20 {
			mime, c, ps := "video/VP8", codecVP8, video
			if i%2 == 1 {
				mime, c, ps = "audio/opus", codecOpus, audio
			}
			tr := newTestTrack("p", "x", mime)
			tr.ch = make(chan *sfu.Packet, queuePackets) // the queue the SFU gives a subscriber
			f, err := os.Create(filepath.Join(dir, string(rune('a'+i))))
			if err != nil {
				b.Fatal(err)
			}
			w := newWriter(tr, c, f)
			go func() { done <- w.run() }()
			tr.feed(ps, arrival())
			tracks, writers = append(tracks, tr), append(writers, w)
		}
		waitTaken(b, tracks...) // everything fed is taken
		runtime.GC()
		runtime.ReadMemStats(&after)
		perTrack = float64(after.HeapInuse-before.HeapInuse) / 20
		for _, tr := range tracks {
			tr.end()
		}
		for range writers {
			<-done
		}
	}
	b.ReportMetric(perTrack, "B/track")
}
