package meeting

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// TestVideoSizeDecoding: a tile-size report must name a participant, a
// video source and a size within bounds.
func TestVideoSizeDecoding(t *testing.T) {
	m, err := DecodeClient([]byte(`{"type":"video_size","seq":1,"participant":"p","source":"camera","width":320,"height":180}`))
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := m.(*VideoSize); !ok || v.Participant != "p" || v.Source != "camera" || v.Width != 320 || v.Height != 180 {
		t.Errorf("decoded %+v", m)
	}
	for _, tt := range []struct{ in, want string }{
		{`{"type":"video_size","seq":1,"source":"camera","width":1,"height":1}`, "participant"},
		{`{"type":"video_size","seq":1,"participant":"p","source":"microphone","width":1,"height":1}`, `"source" must be camera or screen`},
		{`{"type":"video_size","seq":1,"participant":"p","source":"camera","width":-1,"height":1}`, "0 to 16384"},
		{`{"type":"video_size","seq":1,"participant":"p","source":"camera","width":1,"height":99999999}`, "0 to 16384"},
		{`{"type":"video_size","seq":1,"participant":"p","source":"camera","width":1e300,"height":1}`, "width"},
		{`{"type":"video_size","seq":1,"participant":"p","source":"camera","width":1.5,"height":1}`, "width"},
		{`{"type":"video_size","seq":1,"participant":"p","source":"camera","width":"1","height":1}`, `field "width" must be a number`},
	} {
		if _, err := DecodeClient([]byte(tt.in)); !errors.Is(err, ErrBadMessage) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want it to say %q", tt.in, err, tt.want)
		}
	}
}

// TestVideoSizeFlood: size reports go to the media server within their own
// budget (a whole grid at once), and a flood past it is refused, without
// touching the budget of messages everyone receives; none from the lobby.
func TestVideoSizeFlood(t *testing.T) {
	s := inRoom(t, policy("self", "hosts"))
	passed := 0
	for range 1000 {
		fx, err := s.Handle(t0, "jones", &VideoSize{Participant: "host", Source: "camera", Width: 320, Height: 180})
		switch {
		case err == nil && len(fx) == 1:
			if _, ok := fx[0].(ToMedia); !ok {
				t.Fatalf("effect %T", fx[0])
			}
			passed++
		case !isRefusal(err, "rate_limited"):
			t.Fatal(err)
		}
	}
	if passed != sizeBurst {
		t.Errorf("%d reports passed at once, want %d", passed, sizeBurst)
	}
	if _, err := s.Handle(t0, "jones", &React{Reaction: "clap"}); err != nil {
		t.Errorf("size reports spent the fan-out budget: %v", err)
	}
	if _, err := s.Handle(t0.Add(time.Second), "jones", &VideoSize{Participant: "host", Source: "camera"}); err != nil {
		t.Errorf("a second later: %v", err)
	}

	lobby := newTestState(false)
	mustJoin(t, lobby, host)
	mustJoin(t, lobby, jones)
	if fx, err := lobby.Handle(t0, "jones", &VideoSize{Participant: "host", Source: "camera", Width: 1, Height: 1}); !isRefusal(err, "not_admitted") || len(fx) != 0 {
		t.Errorf("from the lobby: %v, %d effects", err, len(fx))
	}
}
