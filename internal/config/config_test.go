package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const goodSecret = "0123456789abcdef0123456789abcdef"

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func base() map[string]string {
	return map[string]string{"DATABASE_URL": "postgres://x@/db", "CLASSMEET_SECRET": goodSecret}
}

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(base()))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.PublicURL.String() != "http://127.0.0.1:8080" {
		t.Errorf("addr %q public %q", c.Addr, c.PublicURL)
	}
	if c.SecureCookies() {
		t.Error("plain http must not ask for Secure cookies")
	}
	if c.RTC.BindIP != "127.0.0.1" || c.RTC.UDPPort != 7882 || c.RTC.TCPPort != 7881 || c.RTC.Grace != time.Minute {
		t.Errorf("rtc defaults: %+v", c.RTC)
	}
	if c.SessionTTL != 12*time.Hour || c.LinkValidity != 7*24*time.Hour || c.DefaultTimeZone.String() != "UTC" {
		t.Errorf("defaults: %+v", c)
	}
	if c.MetricsAddr != "" {
		t.Errorf("metrics must be off by default, got %q", c.MetricsAddr)
	}
}

func TestLoadMetricsAddr(t *testing.T) {
	kv := base()
	kv["CLASSMEET_METRICS_ADDR"] = " 127.0.0.1:9090 "
	c, err := Load(env(kv))
	if err != nil {
		t.Fatal(err)
	}
	if c.MetricsAddr != "127.0.0.1:9090" {
		t.Errorf("metrics addr %q", c.MetricsAddr)
	}
}

func TestLoadHTTPSPublicURL(t *testing.T) {
	kv := base()
	kv["CLASSMEET_PUBLIC_URL"] = "https://meet.school.example/"
	c, err := Load(env(kv))
	if err != nil {
		t.Fatal(err)
	}
	if !c.SecureCookies() || c.PublicURL.String() != "https://meet.school.example" {
		t.Errorf("public %q secure %v", c.PublicURL, c.SecureCookies())
	}
}

func TestLoadSecretFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(goodSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kv := base()
	delete(kv, "CLASSMEET_SECRET")
	kv["CLASSMEET_SECRET_FILE"] = p
	c, err := Load(env(kv))
	if err != nil {
		t.Fatal(err)
	}
	if string(c.Secret) != goodSecret {
		t.Errorf("secret %q", c.Secret)
	}
}

func TestLoadRejects(t *testing.T) {
	tests := []struct {
		name, key, value, want string
	}{
		{"no database", "DATABASE_URL", "", "DATABASE_URL is required"},
		{"no secret", "CLASSMEET_SECRET", "", "CLASSMEET_SECRET is required"},
		{"short secret", "CLASSMEET_SECRET", "short", "CLASSMEET_SECRET must be at least 32"},
		{"missing secret file", "CLASSMEET_SECRET_FILE", "/nonexistent/secret", "both set"},
		{"bad addr", "CLASSMEET_ADDR", "8080", "CLASSMEET_ADDR want host:port"},
		{"bad metrics addr", "CLASSMEET_METRICS_ADDR", "9090", "CLASSMEET_METRICS_ADDR want host:port"},
		{"bad metrics port", "CLASSMEET_METRICS_ADDR", "127.0.0.1:metrics", "CLASSMEET_METRICS_ADDR want a port number"},
		{"metrics on the web address", "CLASSMEET_METRICS_ADDR", "127.0.0.1:8080", "CLASSMEET_METRICS_ADDR must differ from CLASSMEET_ADDR"},
		{"bad public url", "CLASSMEET_PUBLIC_URL", "ftp://x", "CLASSMEET_PUBLIC_URL must be an absolute http(s) URL"},
		{"public url with path", "CLASSMEET_PUBLIC_URL", "https://x.example/meet", "must not have a path"},
		{"bad time zone", "CLASSMEET_DEFAULT_TIME_ZONE", "Mars/Olympus", "CLASSMEET_DEFAULT_TIME_ZONE must be an IANA time zone"},
		{"Local is not a zone", "CLASSMEET_DEFAULT_TIME_ZONE", "Local", "must be an IANA time zone"},
		{"bad duration", "CLASSMEET_SESSION_TTL", "forever", "CLASSMEET_SESSION_TTL must be a duration"},
		{"duration too short", "CLASSMEET_SESSION_TTL", "1s", "CLASSMEET_SESSION_TTL must be a duration"},
		{"bad pool size", "CLASSMEET_DB_MAX_CONNS", "1", "CLASSMEET_DB_MAX_CONNS must be a whole number from 2"},
		{"bad bool", "CLASSMEET_TRUST_PROXY", "maybe", "CLASSMEET_TRUST_PROXY must be true or false"},
		{"bad log level", "CLASSMEET_LOG_LEVEL", "loud", "CLASSMEET_LOG_LEVEL must be"},
		{"bad log format", "CLASSMEET_LOG_FORMAT", "xml", "CLASSMEET_LOG_FORMAT must be one of text, json"},
		{"cert without key", "CLASSMEET_TLS_CERT", "/etc/cert.pem", "CLASSMEET_TLS_KEY must be set together"},
		{"bad udp port", "CLASSMEET_RTC_UDP_PORT", "70000", "CLASSMEET_RTC_UDP_PORT must be a whole number from 0 to 65535"},
		{"bad bind ip", "CLASSMEET_RTC_BIND_IP", "eth0", "CLASSMEET_RTC_BIND_IP must be an IP address"},
		{"bad public ip", "CLASSMEET_RTC_PUBLIC_IPS", "203.0.113.5, meet.school.example", `"meet.school.example" is not one`},
		{"bad ice server", "CLASSMEET_ICE_SERVERS", "stun:stun.example:3478,http://x", `not "http://x"`},
		{"turn user without credential", "CLASSMEET_TURN_USERNAME", "u", "CLASSMEET_TURN_CREDENTIAL must be set together"},
		{"grace too short", "CLASSMEET_RECONNECT_GRACE", "1s", "CLASSMEET_RECONNECT_GRACE must be a duration"},
		{"bad spool minimum", "CLASSMEET_SPOOL_MIN_FREE", "lots", "CLASSMEET_SPOOL_MIN_FREE must be a size"},
		{"negative spool minimum", "CLASSMEET_SPOOL_MIN_FREE", "-1MiB", "CLASSMEET_SPOOL_MIN_FREE must be a size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kv := base()
			kv[tt.key] = tt.value
			_, err := Load(env(kv))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	_, err := Load(env(map[string]string{"CLASSMEET_ADDR": "nope"}))
	for _, want := range []string{"DATABASE_URL", "CLASSMEET_SECRET", "CLASSMEET_ADDR"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want it to name %s", err, want)
		}
	}
}

func TestRTCBindFollowsTheHTTPAddress(t *testing.T) {
	kv := base()
	kv["CLASSMEET_ADDR"] = "0.0.0.0:8080"
	kv["CLASSMEET_RTC_PUBLIC_IPS"] = "203.0.113.5"
	kv["CLASSMEET_ICE_SERVERS"] = "stun:stun.school.example:3478, turn:turn.school.example:3478?transport=tcp"
	c, err := Load(env(kv))
	if err != nil {
		t.Fatal(err)
	}
	if c.RTC.BindIP != "" || len(c.RTC.PublicIPs) != 1 || len(c.RTC.ICEServers) != 2 {
		t.Errorf("rtc: %+v", c.RTC)
	}
}

func TestRecordingStorage(t *testing.T) {
	c, err := Load(env(base()))
	if err != nil {
		t.Fatal(err)
	}
	if c.Recording.S3 != nil || c.Recording.LocalDir() != filepath.Join("data", "recordings") || c.Recording.Retention != 0 {
		t.Errorf("default storage: %+v", c.Recording)
	}

	secret := filepath.Join(t.TempDir(), "s3secret")
	if err := os.WriteFile(secret, []byte("s3-secret-value\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	v := base()
	v["CLASSMEET_S3_ENDPOINT"] = "https://s3.school.example:9000"
	v["CLASSMEET_S3_BUCKET"] = "recordings"
	v["CLASSMEET_S3_ACCESS_KEY"] = "classmeet"
	v["CLASSMEET_S3_SECRET_KEY_FILE"] = secret
	v["CLASSMEET_S3_PATH_STYLE"] = "true"
	v["CLASSMEET_RECORDING_RETENTION_DAYS"] = "30"
	c, err = Load(env(v))
	if err != nil {
		t.Fatal(err)
	}
	s3 := c.Recording.S3
	if s3 == nil || s3.Endpoint != "s3.school.example:9000" || !s3.TLS || !s3.PathStyle || s3.SecretKey != "s3-secret-value" ||
		s3.Region != "us-east-1" || c.Recording.Retention != 30*24*time.Hour {
		t.Errorf("s3: %+v %+v", s3, c.Recording)
	}

	v["CLASSMEET_S3_ENDPOINT"] = "http://127.0.0.1:7070"
	if c, err = Load(env(v)); err != nil || c.Recording.S3.TLS {
		t.Errorf("http endpoint: %v %+v", err, c.Recording.S3)
	}

	for name, vars := range map[string]map[string]string{
		"CLASSMEET_S3_BUCKET":                {"CLASSMEET_S3_ENDPOINT": "s3:9000", "CLASSMEET_S3_ACCESS_KEY": "a", "CLASSMEET_S3_SECRET_KEY": "b"},
		"CLASSMEET_S3_SECRET_KEY":            {"CLASSMEET_S3_ENDPOINT": "s3:9000", "CLASSMEET_S3_ACCESS_KEY": "a", "CLASSMEET_S3_BUCKET": "b"},
		"CLASSMEET_S3_ENDPOINT":              {"CLASSMEET_S3_BUCKET": "b"},
		"CLASSMEET_RECORDING_RETENTION_DAYS": {"CLASSMEET_RECORDING_RETENTION_DAYS": "-1"},
	} {
		v := base()
		for k, x := range vars {
			v[k] = x
		}
		if _, err := Load(env(v)); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%v: %v, want an error naming %s", vars, err, name)
		}
	}
}

func TestSpoolMinFree(t *testing.T) {
	for value, want := range map[string]int64{"": 512 << 20, "0": 0, "1048576": 1 << 20, "64 MiB": 64 << 20, "2GiB": 2 << 30, "100MB": 100e6, "300kB": 300e3} {
		kv := base()
		kv["CLASSMEET_SPOOL_MIN_FREE"] = value
		c, err := Load(env(kv))
		if err != nil || c.Recording.SpoolMinFree != want {
			t.Errorf("%q: %d, %v; want %d", value, c.Recording.SpoolMinFree, err, want)
		}
	}
}
