package meeting

import (
	"errors"
	"strings"
	"testing"
)

// TestReceiveVideoDecoding: turning received video off or on must say
// which, as a JSON boolean.
func TestReceiveVideoDecoding(t *testing.T) {
	for _, on := range []bool{false, true} {
		in := `{"type":"receive_video","seq":1,"on":false}`
		if on {
			in = `{"type":"receive_video","seq":1,"on":true}`
		}
		m, err := DecodeClient([]byte(in))
		if err != nil {
			t.Fatal(err)
		}
		if r, ok := m.(*ReceiveVideo); !ok || r.On == nil || *r.On != on {
			t.Errorf("%s decoded %+v", in, m)
		}
	}
	for _, tt := range []struct{ in, want string }{
		{`{"type":"receive_video","seq":1}`, `"on" is required`},
		{`{"type":"receive_video","seq":1,"on":null}`, `"on" is required`},
		{`{"type":"receive_video","seq":1,"on":"false"}`, "on"},
		{`{"type":"receive_video","seq":1,"on":0}`, "on"},
	} {
		if _, err := DecodeClient([]byte(tt.in)); !errors.Is(err, ErrBadMessage) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want it to say %q", tt.in, err, tt.want)
		}
	}
}
