package config

import (
	"strings"
	"testing"
)

func TestTURNOffByDefault(t *testing.T) {
	c, err := Load(env(base()))
	if err != nil {
		t.Fatal(err)
	}
	if c.RTC.TURN != nil {
		t.Errorf("TURN relay on by default: %+v", c.RTC.TURN)
	}
}

func TestTURNSettings(t *testing.T) {
	kv := base()
	kv["CLASSMEET_PUBLIC_URL"] = "https://meet.school.example"
	kv["CLASSMEET_TURN_LISTEN"] = "0.0.0.0:3478"
	kv["CLASSMEET_TURN_PUBLIC_IP"] = "203.0.113.5"
	kv["CLASSMEET_TURN_TLS_LISTEN"] = "0.0.0.0:5349"
	kv["CLASSMEET_TURN_TLS_CERT"] = "/etc/cert.pem"
	kv["CLASSMEET_TURN_TLS_KEY"] = "/etc/key.pem"
	kv["CLASSMEET_TURN_RELAY_PORTS"] = "50000-50100"
	c, err := Load(env(kv))
	if err != nil {
		t.Fatal(err)
	}
	tu := c.RTC.TURN
	if tu == nil || tu.Realm != "meet.school.example" || tu.PublicIP.String() != "203.0.113.5" ||
		tu.RelayMinPort != 50000 || tu.RelayMaxPort != 50100 || tu.TLSListen != "0.0.0.0:5349" {
		t.Fatalf("turn: %+v", tu)
	}
	// No shared secret set: one derived from the server secret, not the server secret itself.
	if len(tu.Secret) < 32 || strings.Contains(tu.Secret, goodSecret) {
		t.Errorf("derived secret %q", tu.Secret)
	}
	kv["CLASSMEET_TURN_SECRET"] = "shared with coturn"
	if c, err = Load(env(kv)); err != nil || c.RTC.TURN.Secret != "shared with coturn" {
		t.Errorf("secret %+v, %v", c.RTC.TURN, err)
	}
}

func TestTURNDefaultsOnLoopback(t *testing.T) {
	kv := base()
	kv["CLASSMEET_TURN_LISTEN"] = "127.0.0.1:3478"
	c, err := Load(env(kv))
	if err != nil {
		t.Fatal(err)
	}
	if tu := c.RTC.TURN; tu.PublicIP.String() != "127.0.0.1" || tu.RelayMinPort != 49160 || tu.RelayMaxPort != 49200 || tu.Realm != "127.0.0.1" {
		t.Errorf("turn: %+v", tu)
	}
}

func TestTURNRefusesBadSettings(t *testing.T) {
	tests := []struct{ name, key, value, want string }{
		{"wildcard without public ip", "CLASSMEET_TURN_LISTEN", "0.0.0.0:3478", "CLASSMEET_TURN_PUBLIC_IP is required"},
		{"no port", "CLASSMEET_TURN_LISTEN", "3478", "CLASSMEET_TURN_LISTEN want host:port"},
		{"host name", "CLASSMEET_TURN_LISTEN", "turn.example:3478", "must listen on an IP address"},
		{"bad range", "CLASSMEET_TURN_RELAY_PORTS", "49200-49160", "CLASSMEET_TURN_RELAY_PORTS must be a port range"},
		{"privileged range", "CLASSMEET_TURN_RELAY_PORTS", "80-90", "CLASSMEET_TURN_RELAY_PORTS must be a port range"},
		{"bad public ip", "CLASSMEET_TURN_PUBLIC_IP", "turn.example", "CLASSMEET_TURN_PUBLIC_IP must be an IP address"},
		{"tls without cert", "CLASSMEET_TURN_TLS_LISTEN", "127.0.0.1:5349", "needs CLASSMEET_TURN_TLS_CERT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := base()
			kv["CLASSMEET_TURN_LISTEN"] = "127.0.0.1:3478"
			kv[tt.key] = tt.value
			_, err := Load(env(kv))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	kv := base()
	kv["CLASSMEET_TURN_RELAY_PORTS"] = "49160-49200"
	if _, err := Load(env(kv)); err == nil || !strings.Contains(err.Error(), "CLASSMEET_TURN_LISTEN is not") {
		t.Errorf("relay ports without a listener: %v", err)
	}
}
