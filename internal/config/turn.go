package config

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net"
	"strconv"
	"strings"
)

// turnVars are the settings that mean nothing without CLASSMEET_TURN_LISTEN.
var turnVars = []string{"CLASSMEET_TURN_TLS_LISTEN", "CLASSMEET_TURN_TLS_CERT", "CLASSMEET_TURN_TLS_KEY",
	"CLASSMEET_TURN_PUBLIC_IP", "CLASSMEET_TURN_RELAY_PORTS"}

// turnSecretLabel derives the embedded TURN server's secret from the server
// secret when none is set, so that a leaked TURN credential scheme says
// nothing about the keys that sign sessions and links.
const turnSecretLabel = "classmeet turn rest secret v1"

func (l *loader) turn(publicHost, sharedSecret string, serverSecret []byte) *TURN {
	listen := l.str("CLASSMEET_TURN_LISTEN", "")
	if listen == "" {
		for _, name := range turnVars {
			if l.getenv(name) != "" {
				l.fail(name, "is set but CLASSMEET_TURN_LISTEN is not; set it (e.g. 0.0.0.0:3478) to run the TURN relay, or unset this")
			}
		}
		return nil
	}
	t := TURN{Listen: listen, TLSListen: l.str("CLASSMEET_TURN_TLS_LISTEN", ""),
		TLSCert: l.str("CLASSMEET_TURN_TLS_CERT", ""), TLSKey: l.str("CLASSMEET_TURN_TLS_KEY", ""),
		Realm: publicHost, Secret: sharedSecret}
	host := l.hostPort("CLASSMEET_TURN_LISTEN", listen)
	t.PublicIP = l.turnPublicIP(host)
	if t.TLSListen != "" {
		l.hostPort("CLASSMEET_TURN_TLS_LISTEN", t.TLSListen)
		if t.TLSCert == "" || t.TLSKey == "" {
			l.fail("CLASSMEET_TURN_TLS_LISTEN", "needs CLASSMEET_TURN_TLS_CERT and CLASSMEET_TURN_TLS_KEY (certificate and key files for %s)", publicHost)
		}
	} else if t.TLSCert != "" || t.TLSKey != "" {
		l.fail("CLASSMEET_TURN_TLS_CERT", "and CLASSMEET_TURN_TLS_KEY are set but CLASSMEET_TURN_TLS_LISTEN is not")
	}
	t.RelayMinPort, t.RelayMaxPort = l.relayPorts("CLASSMEET_TURN_RELAY_PORTS")
	if t.Secret == "" {
		m := hmac.New(sha256.New, serverSecret)
		m.Write([]byte(turnSecretLabel))
		t.Secret = base64.RawStdEncoding.EncodeToString(m.Sum(nil))
	}
	return &t
}

// hostPort checks a host:port listen address and returns its host.
func (l *loader) hostPort(name, v string) string {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		l.fail(name, "want host:port such as 0.0.0.0:3478, not %q", v)
		return ""
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		l.fail(name, "want a port number from 0 to 65535, not %q", port)
	}
	if host != "" && net.ParseIP(host) == nil {
		l.fail(name, "must listen on an IP address, not %q", host)
	}
	return host
}

// turnPublicIP is the relay address handed out: one a browser can reach.
// A wildcard listen address names none, so it must be given.
func (l *loader) turnPublicIP(listenHost string) net.IP {
	v := l.str("CLASSMEET_TURN_PUBLIC_IP", "")
	if v == "" {
		ip := net.ParseIP(listenHost)
		if ip == nil || ip.IsUnspecified() {
			l.fail("CLASSMEET_TURN_PUBLIC_IP", "is required when CLASSMEET_TURN_LISTEN listens on every interface: the address browsers reach the relay at")
		}
		return ip
	}
	ip := net.ParseIP(v)
	if ip == nil || ip.IsUnspecified() {
		l.fail("CLASSMEET_TURN_PUBLIC_IP", "must be an IP address browsers can reach, not %q", v)
	}
	return ip
}

// The relay ports used unless CLASSMEET_TURN_RELAY_PORTS says otherwise.
const (
	defaultRelayMinPort = 49160
	defaultRelayMaxPort = 49200
)

// relayPorts reads "low-high", both from 1024 to 65535.
func (l *loader) relayPorts(name string) (lo, hi int) {
	v := l.str(name, "")
	if v == "" {
		return defaultRelayMinPort, defaultRelayMaxPort
	}
	a, b, ok := strings.Cut(v, "-")
	lo, err1 := strconv.Atoi(strings.TrimSpace(a))
	hi, err2 := strconv.Atoi(strings.TrimSpace(b))
	if !ok || err1 != nil || err2 != nil || lo < 1024 || hi > 65535 || lo > hi {
		l.fail(name, "must be a port range such as 49160-49200 (ports 1024 to 65535), not %q", v)
		return defaultRelayMinPort, defaultRelayMaxPort
	}
	return lo, hi
}
