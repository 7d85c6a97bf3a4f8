package sfu

import (
	"testing"
	"time"

	"classmeet/internal/testclock"
)

func TestStartsKeyframe(t *testing.T) {
	tests := []struct {
		name    string
		mime    string
		payload []byte
		want    bool
	}{
		{"vp8 key", "video/VP8", []byte{0x10, 0x00, 0x9d}, true},
		{"vp8 inter", "video/VP8", []byte{0x10, 0x01}, false},
		{"vp8 continuation", "video/VP8", []byte{0x00, 0x00}, false},
		{"vp8 other partition", "video/VP8", []byte{0x11, 0x00}, false},
		{"vp8 key with 15-bit picture id", "video/VP8", []byte{0x90, 0x80, 0x92, 0x34, 0x00}, true},
		{"vp8 key with 7-bit id, tl0, tid", "video/VP8", []byte{0x90, 0xe0, 0x12, 0x05, 0x40, 0x00}, true},
		{"vp8 inter with ext", "video/VP8", []byte{0x90, 0x80, 0x12, 0x01}, false},
		{"vp8 truncated", "video/VP8", []byte{0x90, 0x80}, false},
		{"vp8 empty", "video/VP8", nil, false},
		{"vp9 key", "video/VP9", []byte{0x08}, true},
		{"vp9 inter", "video/VP9", []byte{0x48}, false},
		{"vp9 not frame start", "video/VP9", []byte{0x00}, false},
		{"vp9 key with layers, sid 0", "video/VP9", []byte{0xa8, 0x81, 0x23, 0x00}, true},
		{"vp9 key in upper spatial layer", "video/VP9", []byte{0xa8, 0x01, 0x02}, false},
		{"h264 idr", "video/H264", []byte{0x65, 0x88}, true},
		{"h264 non-idr", "video/H264", []byte{0x41, 0x9a}, false},
		{"h264 stap-a with sps", "video/H264", []byte{0x18, 0x00, 0x02, 0x67, 0x42, 0x00, 0x01, 0x68}, true},
		{"h264 stap-a without", "video/H264", []byte{0x18, 0x00, 0x01, 0x41, 0x00, 0x01, 0x41}, false},
		{"h264 fu-a start idr", "video/H264", []byte{0x7c, 0x85, 0x00}, true},
		{"h264 fu-a middle idr", "video/H264", []byte{0x7c, 0x05, 0x00}, false},
		{"audio", "audio/opus", []byte{0x78}, false},
	}
	for _, tt := range tests {
		if got := startsKeyframe(tt.mime, tt.payload); got != tt.want {
			t.Errorf("%s: %v, want %v", tt.name, got, tt.want)
		}
	}
}

func TestRewriterContinuousStream(t *testing.T) {
	t0 := testclock.Now()
	r := newRewriter(90000, 1000, 5000)
	seq, ts, ok := r.rewrite(65534, 1_000_000, t0, false)
	if !ok || seq != 1000 || ts != 5000 {
		t.Fatalf("first = %d %d %v", seq, ts, ok)
	}
	// Across the incoming wraparound, and a late packet within the mapping.
	for i, in := range []uint16{65535, 0, 2, 1} {
		seq, _, ok = r.rewrite(in, 1_000_000+uint32(i+1)*3000, t0, false)
		want := uint16(1000 + uint16(in-65534))
		if !ok || seq != want {
			t.Errorf("in %d -> %d, want %d", in, seq, want)
		}
	}
	if r.lastOutSeq != 1004 {
		t.Errorf("a late packet moved lastOutSeq to %d", r.lastOutSeq)
	}
}

func TestRewriterResyncAfterPause(t *testing.T) {
	t0 := testclock.Now()
	r := newRewriter(48000, 100, 0)
	for i := range 10 {
		r.rewrite(uint16(7000+i), uint32(960*i), t0.Add(time.Duration(i)*20*time.Millisecond), false)
	}
	// The source paused for 2 s and resumes with sequence numbers 500 ahead.
	at := t0.Add(9*20*time.Millisecond + 2*time.Second)
	seq, ts, ok := r.rewrite(7510, 999_999, at, true)
	if !ok || seq != 110 {
		t.Fatalf("resumed seq %d, want 110 (no gap)", seq)
	}
	if want := uint32(960*9 + 2*48000); ts != want {
		t.Errorf("resumed ts %d, want %d (advanced by the pause)", ts, want)
	}
	if _, _, ok := r.rewrite(7009, 8640, at, false); ok {
		t.Error("a packet from before the resync was forwarded")
	}
	if seq, _, ok := r.rewrite(7511, 999_999+960, at, false); !ok || seq != 111 {
		t.Errorf("next after resync = %d %v", seq, ok)
	}
}

func TestRewriterResyncNeverRepeatsATimestamp(t *testing.T) {
	t0 := testclock.Now()
	r := newRewriter(90000, 0, 0)
	r.rewrite(10, 100, t0, false)
	_, ts, _ := r.rewrite(50, 4242, t0, true) // same instant
	if ts == 100 {
		t.Error("a resync at the same instant reused the timestamp")
	}
}
