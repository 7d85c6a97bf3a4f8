// Package config loads classmeet's one immutable configuration from the
// environment and validates it with messages that name the variable at fault.
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"classmeet/internal/blob"
)

// Config is read once at start and never changed afterwards.
type Config struct {
	Addr        string        // CLASSMEET_ADDR: where the HTTP server listens
	PublicURL   *url.URL      // CLASSMEET_PUBLIC_URL: how browsers reach us (links, Origin checks)
	TLSCert     string        // CLASSMEET_TLS_CERT: serve HTTPS with this certificate...
	TLSKey      string        // CLASSMEET_TLS_KEY: ...and this key
	TrustProxy  bool          // CLASSMEET_TRUST_PROXY: take the client IP from X-Forwarded-For
	DatabaseURL string        // DATABASE_URL
	DBMaxConns  int32         // CLASSMEET_DB_MAX_CONNS
	DBTimeout   time.Duration // CLASSMEET_DB_TIMEOUT: how long a request waits for the database before a 503
	Secret      []byte        // CLASSMEET_SECRET or CLASSMEET_SECRET_FILE: signs sessions and links

	SessionTTL      time.Duration  // CLASSMEET_SESSION_TTL
	LinkValidity    time.Duration  // CLASSMEET_LINK_VALIDITY: how long a join link lives after the meeting ends
	DefaultTimeZone *time.Location // CLASSMEET_DEFAULT_TIME_ZONE: for new accounts

	LogLevel  slog.Level // CLASSMEET_LOG_LEVEL: debug, info, warn, error
	LogFormat string     // CLASSMEET_LOG_FORMAT: text or json

	// MetricsAddr (CLASSMEET_METRICS_ADDR) is where Prometheus metrics are
	// served, on a listener of their own; "" (the default): not at all.
	MetricsAddr string

	RTC       RTC
	Recording Recording
	// SMTP is the mail server classmeet sends through; nil: outbox only
	// (mail waits on the outbox page for an admin to pass on).
	SMTP *SMTP
}

// SMTP is the mail server mail goes out through.
type SMTP struct {
	Host     string // CLASSMEET_SMTP_HOST
	Port     int    // CLASSMEET_SMTP_PORT: 587, or 465 with implicit TLS
	From     string // CLASSMEET_SMTP_FROM: the sender's address
	FromName string // the name in CLASSMEET_SMTP_FROM ("Name <addr>"), if any
	// Username and Password (CLASSMEET_SMTP_USERNAME, CLASSMEET_SMTP_PASSWORD
	// or CLASSMEET_SMTP_PASSWORD_FILE) sign in; both empty: no SMTP AUTH.
	Username, Password string
	TLS                SMTPTLS // CLASSMEET_SMTP_TLS
}

// SMTPTLS is how the connection to the mail server is encrypted.
type SMTPTLS string

// The TLS policies CLASSMEET_SMTP_TLS accepts.
const (
	SMTPStartTLS              SMTPTLS = "starttls"               // STARTTLS or no mail (the default)
	SMTPStartTLSOpportunistic SMTPTLS = "starttls_opportunistic" // STARTTLS when offered
	SMTPImplicitTLS           SMTPTLS = "tls"                    // TLS from the first byte (port 465)
	SMTPNoTLS                 SMTPTLS = "none"                   // plain text: loopback only
)

// Recording is where recordings go and how long they stay.
type Recording struct {
	// DataDir (CLASSMEET_DATA_DIR) holds the spool, where recordings are
	// written before upload, and the recordings themselves unless S3 is set.
	DataDir string
	// S3 is the bucket recordings are uploaded to; nil: DataDir/recordings.
	S3 *blob.S3Config
	// Retention (CLASSMEET_RECORDING_RETENTION_DAYS) is how long a recording
	// is kept after it stopped; 0 keeps recordings until someone deletes them.
	Retention time.Duration
	// SpoolMinFree (CLASSMEET_SPOOL_MIN_FREE) is the free space the spool's
	// disk must have for a recording to start.
	SpoolMinFree int64
}

// SpoolDir is where recordings are written before they are uploaded.
func (r Recording) SpoolDir() string { return filepath.Join(r.DataDir, "spool") }

// LocalDir is where recordings are stored when no S3 bucket is set.
func (r Recording) LocalDir() string { return filepath.Join(r.DataDir, "recordings") }

// RTC is how media reaches the server.
type RTC struct {
	BindIP    string   // CLASSMEET_RTC_BIND_IP: where ICE listens ("" = every interface)
	UDPPort   int      // CLASSMEET_RTC_UDP_PORT: the one UDP port for all media
	TCPPort   int      // CLASSMEET_RTC_TCP_PORT: the one TCP port, for networks that block UDP
	PublicIPs []string // CLASSMEET_RTC_PUBLIC_IPS: addresses to announce instead (1:1 NAT)
	// ICEServers are STUN/TURN URLs handed to browsers (CLASSMEET_ICE_SERVERS).
	ICEServers []string
	// TURN credentials: fixed (CLASSMEET_TURN_USERNAME, CLASSMEET_TURN_CREDENTIAL)
	// or made per participant from a shared secret (CLASSMEET_TURN_SECRET).
	TURNUsername, TURNCredential, TURNSecret string
	Grace                                    time.Duration // CLASSMEET_RECONNECT_GRACE
	// TURN is the TURN relay classmeet runs itself; nil: none.
	TURN *TURN
}

// TURN is the embedded TURN relay, for networks where only TCP (or TLS on
// 443) gets out. It relays to the SFU's media ports and nowhere else.
type TURN struct {
	Listen    string // CLASSMEET_TURN_LISTEN: host:port for TURN over UDP and TCP
	TLSListen string // CLASSMEET_TURN_TLS_LISTEN: host:port for TURN over TLS (turns:)
	TLSCert   string // CLASSMEET_TURN_TLS_CERT
	TLSKey    string // CLASSMEET_TURN_TLS_KEY
	// PublicIP (CLASSMEET_TURN_PUBLIC_IP) is the relay address given out;
	// by default the host of CLASSMEET_TURN_LISTEN.
	PublicIP net.IP
	// RelayMinPort and RelayMaxPort (CLASSMEET_TURN_RELAY_PORTS, "49160-49200")
	// bound the UDP ports relayed allocations get.
	RelayMinPort, RelayMaxPort int
	// Realm is the public host (of CLASSMEET_PUBLIC_URL); the ice_servers
	// URLs name it too, so a turns: certificate for it verifies.
	Realm string
	// Secret checks the credentials minted per join: CLASSMEET_TURN_SECRET,
	// or one derived from the server secret.
	Secret string
}

// SecureCookies reports whether browsers reach classmeet over HTTPS, directly
// or through a TLS-terminating proxy, so cookies must be Secure.
func (c Config) SecureCookies() bool {
	return c.PublicURL.Scheme == "https"
}

// Load reads the configuration through getenv. Every problem found is
// reported, not only the first, so one restart fixes them all.
func Load(getenv func(string) string) (Config, error) {
	l := loader{getenv: getenv}
	c := Config{
		Addr:        l.str("CLASSMEET_ADDR", "127.0.0.1:8080"),
		TLSCert:     l.str("CLASSMEET_TLS_CERT", ""),
		TLSKey:      l.str("CLASSMEET_TLS_KEY", ""),
		TrustProxy:  l.boolean("CLASSMEET_TRUST_PROXY", false),
		DatabaseURL: l.str("DATABASE_URL", ""),
		DBMaxConns:  int32(l.integer("CLASSMEET_DB_MAX_CONNS", 20, 2, 1000)),
		DBTimeout:   l.duration("CLASSMEET_DB_TIMEOUT", 5*time.Second, 100*time.Millisecond, 5*time.Minute),

		SessionTTL:      l.duration("CLASSMEET_SESSION_TTL", 12*time.Hour, 5*time.Minute, 90*24*time.Hour),
		LinkValidity:    l.duration("CLASSMEET_LINK_VALIDITY", 7*24*time.Hour, 0, 366*24*time.Hour),
		DefaultTimeZone: l.location("CLASSMEET_DEFAULT_TIME_ZONE", "UTC"),
		LogLevel:        l.logLevel("CLASSMEET_LOG_LEVEL"),
		LogFormat:       l.oneOf("CLASSMEET_LOG_FORMAT", "text", "text", "json"),
		MetricsAddr:     l.str("CLASSMEET_METRICS_ADDR", ""),
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		l.fail("CLASSMEET_ADDR", "want host:port, e.g. 127.0.0.1:8080 (%v)", err)
	}
	l.checkMetricsAddr(c.MetricsAddr, c.Addr)
	if c.DatabaseURL == "" {
		l.fail("DATABASE_URL", "is required (e.g. postgres://user:pass@host/classmeet); `make run` sets it for you")
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		l.fail("CLASSMEET_TLS_CERT", "and CLASSMEET_TLS_KEY must be set together")
	}
	c.Secret = l.secret()
	c.PublicURL = l.publicURL(c.Addr, c.TLSCert != "")
	c.RTC = l.rtc(c.Addr)
	c.RTC.TURN = l.turn(c.PublicURL.Hostname(), c.RTC.TURNSecret, c.Secret)
	c.Recording = l.recording()
	c.SMTP = l.smtp()
	return c, errors.Join(l.errs...)
}

// smtpVars are the settings that mean nothing without CLASSMEET_SMTP_HOST.
var smtpVars = []string{"CLASSMEET_SMTP_PORT", "CLASSMEET_SMTP_FROM", "CLASSMEET_SMTP_USERNAME",
	"CLASSMEET_SMTP_PASSWORD", "CLASSMEET_SMTP_PASSWORD_FILE", "CLASSMEET_SMTP_TLS"}

func (l *loader) smtp() *SMTP {
	host := l.str("CLASSMEET_SMTP_HOST", "")
	if host == "" {
		for _, name := range smtpVars {
			if l.getenv(name) != "" {
				l.fail(name, "is set but CLASSMEET_SMTP_HOST is not; set the mail server too, or unset it to keep mail on the outbox page")
			}
		}
		return nil
	}
	s := SMTP{Host: host, TLS: SMTPTLS(l.oneOf("CLASSMEET_SMTP_TLS", string(SMTPStartTLS),
		string(SMTPStartTLS), string(SMTPStartTLSOpportunistic), string(SMTPImplicitTLS), string(SMTPNoTLS)))}
	if strings.ContainsAny(host, ":/ ") && net.ParseIP(host) == nil {
		l.fail("CLASSMEET_SMTP_HOST", "must be a host name or IP address (the port goes in CLASSMEET_SMTP_PORT), not %q", host)
	}
	defPort := 587
	if s.TLS == SMTPImplicitTLS {
		defPort = 465
	}
	s.Port = l.integer("CLASSMEET_SMTP_PORT", defPort, 1, 65535)
	if s.TLS == SMTPNoTLS && !isLoopback(host) {
		l.fail("CLASSMEET_SMTP_TLS", "none sends mail and passwords in plain text: it is only allowed to a loopback CLASSMEET_SMTP_HOST, not %q", host)
	}
	s.From, s.FromName = l.fromAddress()
	s.Username = l.str("CLASSMEET_SMTP_USERNAME", "")
	s.Password = l.fileOrValue("CLASSMEET_SMTP_PASSWORD")
	if (s.Username == "") != (s.Password == "") {
		l.fail("CLASSMEET_SMTP_USERNAME", "and CLASSMEET_SMTP_PASSWORD (or CLASSMEET_SMTP_PASSWORD_FILE) must be set together")
	}
	return &s
}

func (l *loader) fromAddress() (addr, name string) {
	v := l.str("CLASSMEET_SMTP_FROM", "")
	if v == "" {
		l.fail("CLASSMEET_SMTP_FROM", "is required with CLASSMEET_SMTP_HOST, e.g. \"Parents' evenings <meet@school.example>\"")
		return "", ""
	}
	a, err := mail.ParseAddress(v)
	if err != nil {
		l.fail("CLASSMEET_SMTP_FROM", "must be an address such as meet@school.example or \"Name <meet@school.example>\", not %q", v)
		return "", ""
	}
	return a.Address, a.Name
}

// isLoopback reports whether host names this machine only.
func isLoopback(host string) bool {
	if ip := net.ParseIP(host); ip != nil {
		return ip.IsLoopback()
	}
	return host == "localhost"
}

func (l *loader) recording() Recording {
	r := Recording{
		DataDir:      l.str("CLASSMEET_DATA_DIR", "data"),
		Retention:    time.Duration(l.integer("CLASSMEET_RECORDING_RETENTION_DAYS", 0, 0, 36500)) * 24 * time.Hour,
		SpoolMinFree: l.size("CLASSMEET_SPOOL_MIN_FREE", 512<<20),
	}
	endpoint := l.str("CLASSMEET_S3_ENDPOINT", "")
	if endpoint == "" {
		for _, name := range []string{"CLASSMEET_S3_BUCKET", "CLASSMEET_S3_ACCESS_KEY", "CLASSMEET_S3_SECRET_KEY", "CLASSMEET_S3_SECRET_KEY_FILE"} {
			if l.getenv(name) != "" {
				l.fail(name, "is set but CLASSMEET_S3_ENDPOINT is not; set the endpoint (host:port) too, or unset it to keep recordings in CLASSMEET_DATA_DIR")
			}
		}
		return r
	}
	s3 := blob.S3Config{
		Region: l.str("CLASSMEET_S3_REGION", "us-east-1"), Bucket: l.str("CLASSMEET_S3_BUCKET", ""),
		AccessKey: l.str("CLASSMEET_S3_ACCESS_KEY", ""), PathStyle: l.boolean("CLASSMEET_S3_PATH_STYLE", false),
		TLS: l.boolean("CLASSMEET_S3_TLS", true),
	}
	// An endpoint may be given as a URL; its scheme then says whether TLS is used.
	if u, err := url.Parse(endpoint); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
		if u.Path != "" && u.Path != "/" {
			l.fail("CLASSMEET_S3_ENDPOINT", "must be host:port (or a URL without a path), not %q", endpoint)
		}
		if l.getenv("CLASSMEET_S3_TLS") == "" {
			s3.TLS = u.Scheme == "https"
		}
		endpoint = u.Host
	}
	if _, _, err := net.SplitHostPort(endpoint); err != nil && strings.Contains(endpoint, "/") {
		l.fail("CLASSMEET_S3_ENDPOINT", "must be host:port such as s3.school.example:9000, not %q", endpoint)
	}
	s3.Endpoint = endpoint
	if s3.Bucket == "" {
		l.fail("CLASSMEET_S3_BUCKET", "is required with CLASSMEET_S3_ENDPOINT")
	}
	if s3.AccessKey == "" {
		l.fail("CLASSMEET_S3_ACCESS_KEY", "is required with CLASSMEET_S3_ENDPOINT")
	}
	s3.SecretKey = l.fileOrValue("CLASSMEET_S3_SECRET_KEY")
	if s3.SecretKey == "" {
		l.fail("CLASSMEET_S3_SECRET_KEY", "(or CLASSMEET_S3_SECRET_KEY_FILE) is required with CLASSMEET_S3_ENDPOINT")
	}
	r.S3 = &s3
	return r
}

// fileOrValue reads NAME, or the file NAME_FILE names; setting both is an error.
func (l *loader) fileOrValue(name string) string {
	v, file := strings.TrimSpace(l.getenv(name)), l.getenv(name+"_FILE")
	switch {
	case v != "" && file != "":
		l.fail(name, "and %s_FILE are both set; set one", name)
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			l.fail(name+"_FILE", "cannot be read: %v", err)
			return ""
		}
		return strings.TrimSpace(string(b))
	}
	return v
}

func (l *loader) rtc(addr string) RTC {
	r := RTC{
		UDPPort:        l.integer("CLASSMEET_RTC_UDP_PORT", 7882, 0, 65535),
		TCPPort:        l.integer("CLASSMEET_RTC_TCP_PORT", 7881, 0, 65535),
		PublicIPs:      l.ipList("CLASSMEET_RTC_PUBLIC_IPS"),
		ICEServers:     l.list("CLASSMEET_ICE_SERVERS"),
		TURNUsername:   l.str("CLASSMEET_TURN_USERNAME", ""),
		TURNCredential: l.str("CLASSMEET_TURN_CREDENTIAL", ""),
		TURNSecret:     l.str("CLASSMEET_TURN_SECRET", ""),
		Grace:          l.duration("CLASSMEET_RECONNECT_GRACE", 60*time.Second, 5*time.Second, 10*time.Minute),
	}
	// By default media listens where HTTP does: loopback only when the
	// server is only reachable from this machine.
	host, _, _ := net.SplitHostPort(addr)
	def := ""
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() || host == "localhost" {
		def = "127.0.0.1"
	}
	r.BindIP = l.str("CLASSMEET_RTC_BIND_IP", def)
	if r.BindIP != "" && net.ParseIP(r.BindIP) == nil {
		l.fail("CLASSMEET_RTC_BIND_IP", "must be an IP address, not %q", r.BindIP)
	}
	for _, u := range r.ICEServers {
		if !strings.HasPrefix(u, "stun:") && !strings.HasPrefix(u, "turn:") && !strings.HasPrefix(u, "turns:") {
			l.fail("CLASSMEET_ICE_SERVERS", "must list stun:, turn: or turns: URLs, not %q", u)
		}
	}
	if r.TURNSecret != "" && (r.TURNUsername != "" || r.TURNCredential != "") {
		l.fail("CLASSMEET_TURN_SECRET", "and CLASSMEET_TURN_USERNAME/CLASSMEET_TURN_CREDENTIAL are both set; use one way")
	}
	if (r.TURNUsername == "") != (r.TURNCredential == "") {
		l.fail("CLASSMEET_TURN_USERNAME", "and CLASSMEET_TURN_CREDENTIAL must be set together")
	}
	return r
}

func (l *loader) list(name string) []string {
	var out []string
	for _, v := range strings.Split(l.getenv(name), ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

func (l *loader) ipList(name string) []string {
	ips := l.list(name)
	for _, ip := range ips {
		if net.ParseIP(ip) == nil {
			l.fail(name, "must be a comma-separated list of IP addresses; %q is not one", ip)
		}
	}
	return ips
}

type loader struct {
	getenv func(string) string
	errs   []error
}

func (l *loader) fail(name, format string, args ...any) {
	l.errs = append(l.errs, fmt.Errorf("config: %s %s", name, fmt.Sprintf(format, args...)))
}

func (l *loader) str(name, def string) string {
	if v := strings.TrimSpace(l.getenv(name)); v != "" {
		return v
	}
	return def
}

func (l *loader) boolean(name string, def bool) bool {
	v := l.getenv(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		l.fail(name, "must be true or false, not %q", v)
	}
	return b
}

func (l *loader) integer(name string, def, lo, hi int) int {
	v := l.getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		l.fail(name, "must be a whole number from %d to %d, not %q", lo, hi, v)
		return def
	}
	return n
}

// size reads a number of bytes: plain, or with a unit (KiB, MiB, GiB,
// or their decimal kB, MB, GB).
func (l *loader) size(name string, def int64) int64 {
	v := strings.TrimSpace(l.getenv(name))
	if v == "" {
		return def
	}
	units := []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}, {"kB", 1e3}, {"MB", 1e6}, {"GB", 1e9}, {"B", 1}}
	num, mult := v, int64(1)
	for _, u := range units {
		if n, ok := strings.CutSuffix(v, u.suffix); ok {
			num, mult = strings.TrimSpace(n), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > (1<<50)/mult {
		l.fail(name, "must be a size such as 512MiB or 2GiB, not %q", v)
		return def
	}
	return n * mult
}

func (l *loader) duration(name string, def, lo, hi time.Duration) time.Duration {
	v := l.getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < lo || d > hi {
		l.fail(name, "must be a duration from %v to %v such as 12h or 30m, not %q", lo, hi, v)
		return def
	}
	return d
}

func (l *loader) location(name, def string) *time.Location {
	v := l.str(name, def)
	loc, err := time.LoadLocation(v)
	if err != nil || v == "Local" {
		l.fail(name, "must be an IANA time zone such as Europe/London, not %q", v)
		return time.UTC
	}
	return loc
}

func (l *loader) oneOf(name, def string, allowed ...string) string {
	v := strings.ToLower(l.str(name, def))
	for _, a := range allowed {
		if v == a {
			return v
		}
	}
	l.fail(name, "must be one of %s, not %q", strings.Join(allowed, ", "), v)
	return def
}

func (l *loader) logLevel(name string) slog.Level {
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(l.str(name, "info"))); err != nil {
		l.fail(name, "must be debug, info, warn or error, not %q", l.getenv(name))
	}
	return lvl
}

// minSecretLen is the shortest secret accepted: 256 bits of an HMAC key.
const minSecretLen = 32

func (l *loader) secret() []byte {
	v, file := l.getenv("CLASSMEET_SECRET"), l.getenv("CLASSMEET_SECRET_FILE")
	switch {
	case v != "" && file != "":
		l.fail("CLASSMEET_SECRET", "and CLASSMEET_SECRET_FILE are both set; set one")
		return nil
	case file != "":
		b, err := os.ReadFile(file)
		if err != nil {
			l.fail("CLASSMEET_SECRET_FILE", "cannot be read: %v", err)
			return nil
		}
		v = strings.TrimSpace(string(b))
		if len(v) < minSecretLen {
			l.fail("CLASSMEET_SECRET_FILE", "must hold at least %d characters (e.g. `openssl rand -hex 32`), it holds %d", minSecretLen, len(v))
		}
	case v == "":
		l.fail("CLASSMEET_SECRET", "is required: at least %d random characters (e.g. `openssl rand -hex 32`); `make run` makes one for you", minSecretLen)
	case len(v) < minSecretLen:
		l.fail("CLASSMEET_SECRET", "must be at least %d characters (e.g. `openssl rand -hex 32`), it is %d", minSecretLen, len(v))
	}
	return []byte(v)
}

func (l *loader) publicURL(addr string, tls bool) *url.URL {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	v := l.str("CLASSMEET_PUBLIC_URL", scheme+"://"+addr)
	u, err := url.Parse(strings.TrimSuffix(v, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		l.fail("CLASSMEET_PUBLIC_URL", "must be an absolute http(s) URL such as https://meet.school.example, not %q", v)
		return &url.URL{Scheme: scheme, Host: addr}
	}
	if u.Path != "" {
		l.fail("CLASSMEET_PUBLIC_URL", "must not have a path (serve classmeet at the root of its host), not %q", v)
	}
	return u
}

// DatabaseURL reads only DATABASE_URL, for commands that need nothing else.
func DatabaseURL(getenv func(string) string) (string, error) {
	if u := strings.TrimSpace(getenv("DATABASE_URL")); u != "" {
		return u, nil
	}
	return "", errors.New("config: DATABASE_URL is required (e.g. postgres://user:pass@host/classmeet)")
}

// checkMetricsAddr wants a host:port with a port number, other than the web
// server's: metrics are not for the public address.
func (l *loader) checkMetricsAddr(addr, webAddr string) {
	if addr == "" {
		return
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		l.fail("CLASSMEET_METRICS_ADDR", "want host:port, e.g. 127.0.0.1:9090 (%v)", err)
		return
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		l.fail("CLASSMEET_METRICS_ADDR", "want a port number from 0 to 65535, not %q", port)
		return
	}
	if addr == webAddr {
		l.fail("CLASSMEET_METRICS_ADDR", "must differ from CLASSMEET_ADDR (%s): metrics have a listener of their own", webAddr)
	}
}
