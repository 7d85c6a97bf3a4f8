package live

import (
	"testing"

	"classmeet/internal/meeting"
	"classmeet/internal/sfu"
)

// TestSFUUsesTheProtocolsNames: the protocol (meeting) and the SFU name
// sources and PeerConnections alike, so the driver passes them through.
func TestSFUUsesTheProtocolsNames(t *testing.T) {
	for _, s := range []string{meeting.SourceMicrophone, meeting.SourceCamera, meeting.SourceScreen, meeting.SourceScreenAudio} {
		if !sfu.Source(s).Valid() {
			t.Errorf("the SFU does not know source %q", s)
		}
	}
	for _, s := range allSources {
		if _, err := meeting.DecodeClient([]byte(`{"type":"offer","seq":1,"pc":"pub","sdp":"v=0\r\n","tracks":{"0":"` + string(s) + `"}}`)); err != nil {
			t.Errorf("the protocol refuses the SFU's source %q: %v", s, err)
		}
	}
	if meeting.PCPublish != sfu.PCPublish || meeting.PCSubscribe != sfu.PCSubscribe {
		t.Error("the PeerConnections are named differently")
	}
}
