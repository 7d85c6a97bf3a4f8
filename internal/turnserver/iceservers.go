package turnserver

import (
	"log/slog"
	"net"
	"time"

	"classmeet/internal/auth"
	"classmeet/internal/config"
	"classmeet/internal/meeting"
)

// CredentialTTL is how long the TURN credentials handed out in a welcome
// last: longer than any meeting (a resume hands out fresh ones), short
// enough that a leaked one soon dies.
const CredentialTTL = 12 * time.Hour

// Start runs the relay configured in cfg, relaying to the SFU that
// receives media at sfuUDP (and at its announced public addresses).
func Start(cfg config.TURN, sfuUDP net.Addr, publicIPs []string, log *slog.Logger, now func() time.Time) (*Server, error) {
	peers, err := SFUPeers(sfuUDP, publicIPs)
	if err != nil {
		return nil, err
	}
	return New(Config{
		Listen: cfg.Listen, TLSListen: cfg.TLSListen, TLSCert: cfg.TLSCert, TLSKey: cfg.TLSKey,
		PublicIP: cfg.PublicIP, RelayMinPort: cfg.RelayMinPort, RelayMaxPort: cfg.RelayMaxPort,
		Realm: cfg.Realm, Secret: cfg.Secret, Peers: peers, Now: now, Log: log,
	})
}

// ICEServers is what each participant's welcome lists: the embedded relay
// (if any) with credentials of the participant's own, then the configured
// STUN/TURN servers, with per-participant credentials when they share a
// secret with us.
func ICEServers(rtc config.RTC, relay *Server, now func() time.Time) func(participant string) []meeting.ICEServer {
	return func(participant string) []meeting.ICEServer {
		var out []meeting.ICEServer
		if relay != nil {
			u, p := relay.Credentials(participant, CredentialTTL)
			out = append(out, meeting.ICEServer{URLs: relay.URLs(), Username: u, Credential: p})
		}
		if len(rtc.ICEServers) > 0 {
			s := meeting.ICEServer{URLs: rtc.ICEServers, Username: rtc.TURNUsername, Credential: rtc.TURNCredential}
			if rtc.TURNSecret != "" {
				s.Username, s.Credential = auth.TURNCredentials(rtc.TURNSecret, participant, CredentialTTL, now())
			}
			out = append(out, s)
		}
		return out
	}
}
