package loadtest

import (
	"log/slog"
	"net"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/webrtc/v4"
)

// env is what every participant of a run shares: the configuration, one
// pion API, the run's clock and the counters.
type env struct {
	cfg       Config
	api       *webrtc.API
	log       *slog.Logger
	start     time.Time // the run clock's zero, monotonic
	sched     schedule
	audioOnly bool

	packets, bytes atomic.Uint64 // received by anyone, whole run
}

// since is the run clock: nanoseconds since the start, which every sender
// stamps and every sink reads (one process, one monotonic clock).
func (e *env) since() int64 { return int64(time.Since(e.start)) }

func newEnv(cfg Config) (*env, error) {
	api, err := newAPI(cfg.URL)
	if err != nil {
		return nil, err
	}
	return &env{cfg: cfg, api: api, log: cfg.Log, start: time.Now(), audioOnly: cfg.Scenario == AudioClass}, nil
}

// newAPI makes PeerConnections as a browser's: pion's default codecs and
// interceptors (NACK generator and responder, reports, TWCC), UDP over
// IPv4, only loopback addresses when the server is on loopback, and the
// DTLS client's role when answering ("a=setup:active", as Chrome, Firefox
// and Safari answer; pion would answer a server that is ICE-lite as the
// DTLS server).
func newAPI(server string) (*webrtc.API, error) {
	quiet := logging.NewDefaultLoggerFactory()
	quiet.DefaultLogLevel = logging.LogLevelDisabled
	se := webrtc.SettingEngine{LoggerFactory: quiet}
	if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleClient); err != nil {
		return nil, err
	}
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if u, err := url.Parse(server); err == nil && isLoopback(u.Hostname()) {
		se.SetIncludeLoopbackCandidate(true)
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, err
	}
	ir := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(me, ir); err != nil {
		return nil, err
	}
	return webrtc.NewAPI(webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(ir), webrtc.WithSettingEngine(se)), nil
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
