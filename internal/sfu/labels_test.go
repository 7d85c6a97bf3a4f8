package sfu

import (
	"errors"
	"testing"
)

const twoLines = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n" +
	"m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:0\r\na=ice-ufrag:abcd\r\na=sendonly\r\n" +
	"m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:1\r\na=sendonly\r\n"

func TestCheckLabels(t *testing.T) {
	for name, tc := range map[string]struct {
		tracks map[string]Source
		ok     bool
	}{
		"honest":                {map[string]Source{"0": SourceMicrophone, "1": SourceCamera}, true},
		"screen with its sound": {map[string]Source{"0": SourceScreenAudio, "1": SourceScreen}, true},
		"nothing labelled":      {map[string]Source{}, true},
		"audio as camera":       {map[string]Source{"0": SourceCamera}, false},
		"video as microphone":   {map[string]Source{"1": SourceMicrophone}, false},
		"swapped":               {map[string]Source{"0": SourceCamera, "1": SourceMicrophone}, false},
		"one source twice":      {map[string]Source{"0": SourceMicrophone, "1": SourceMicrophone}, false},
		"a mid not offered":     {map[string]Source{"7": SourceMicrophone}, false},
		"an unknown source":     {map[string]Source{"0": "speaker"}, false},
	} {
		err := checkLabels(twoLines, tc.tracks)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrSourceMismatch)) {
			t.Errorf("%s: %v", name, err)
		}
	}
	many := twoLines
	for range MaxMLines {
		many += "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=recvonly\r\n"
	}
	if err := checkLabels(many, nil); !errors.Is(err, ErrTooManyMLines) {
		t.Errorf("an offer of %d m-lines: %v", MaxMLines+2, err)
	}
	if iceUfrag(twoLines) != "abcd" {
		t.Errorf("ufrag %q", iceUfrag(twoLines))
	}
	video := "m=video 9 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=sendonly\r\n"
	audio := "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:2\r\na=sendonly\r\n"
	rids := func(ids ...string) string {
		s := ""
		for _, id := range ids {
			s += "a=rid:" + id + " send\r\n"
		}
		return s
	}
	for name, tc := range map[string]struct {
		sdp string
		ok  bool
	}{
		"a camera in three layers":  {twoLines + video + rids("q", "h", "f") + "a=simulcast:send q;h;f\r\n", true},
		"a camera in two":           {twoLines + video + rids("q", "h"), true},
		"four layers":               {twoLines + video + rids("q", "h", "f", "h"), false},
		"an unknown rid":            {twoLines + video + rids("q", "x"), false},
		"a microphone in layers":    {twoLines + audio + rids("q", "h"), false},
		"a microphone in one layer": {twoLines + audio + rids("f"), false},
	} {
		err := checkLabels(tc.sdp, nil)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrTooManyLayers)) {
			t.Errorf("%s: %v", name, err)
		}
	}
}
