package testclient

import (
	"strings"

	"github.com/pion/webrtc/v4"
)

// rtcConfiguration is the PeerConnections' configuration: none, or with
// Options.Relay the welcome's TURN URLs of that transport, relay only.
func (c *Client) rtcConfiguration() webrtc.Configuration {
	if c.opts.Relay == "" {
		return webrtc.Configuration{}
	}
	cfg := webrtc.Configuration{ICETransportPolicy: webrtc.ICETransportPolicyRelay}
	w := c.Welcome()
	if w == nil {
		return cfg
	}
	for _, s := range w.ICEServers {
		var urls []string
		for _, u := range s.URLs {
			if strings.HasPrefix(u, "turn:") && strings.HasSuffix(u, "?transport="+c.opts.Relay) {
				urls = append(urls, u)
			}
		}
		if len(urls) > 0 {
			cfg.ICEServers = append(cfg.ICEServers, webrtc.ICEServer{URLs: urls, Username: s.Username, Credential: s.Credential})
		}
	}
	return cfg
}

// SelectedCandidates are the local candidates of the ICE candidate pairs
// the client's connections (publishing, then receiving) use, once chosen.
func (c *Client) SelectedCandidates() []webrtc.ICECandidate {
	c.media.mu.Lock()
	pcs := []*webrtc.PeerConnection{c.media.pub, c.media.sub}
	c.media.mu.Unlock()
	var out []webrtc.ICECandidate
	for _, pc := range pcs {
		if pc == nil {
			continue
		}
		for _, tr := range pc.GetTransceivers() {
			dtls := tr.Receiver().Transport()
			if tr.Sender() != nil && tr.Sender().Transport() != nil {
				dtls = tr.Sender().Transport()
			}
			if dtls == nil {
				continue
			}
			if pair, err := dtls.ICETransport().GetSelectedCandidatePair(); err == nil && pair != nil {
				out = append(out, *pair.Local)
			}
			break // bundled: one transport per connection
		}
	}
	return out
}
