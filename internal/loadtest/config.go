// Package loadtest drives a running classmeet from outside, through the
// same HTTP and signaling path a browser takes, with light Go WebRTC
// participants: publishers of synthetic VP8 and Opus, and sinks that count
// what arrives. It reports throughput, loss, join phases, added latency and
// what the server spent (`classmeet loadtest`; see the README).
package loadtest

import (
	"fmt"
	"io"
	"log/slog"
	"net/url"
	"time"
)

// Scenarios.
const (
	Lecture    = "lecture"     // 1 publisher (the host) -> M subscribers
	Meeting    = "meeting"     // N participants, all to all
	AudioClass = "audio-class" // 10 audio publishers -> M subscribers
	Churn      = "churn"       // subscribers join and leave at a rate
)

// audioClassSpeakers is how many publish in the audio-class scenario.
const audioClassSpeakers = 10

// Config is one run.
type Config struct {
	Scenario string
	URL      string // the server, e.g. http://127.0.0.1:8080
	// Email and Password sign in a staff member who owns the meeting,
	// joins it as host and admits everyone.
	Email, Password string
	// MeetingID, if set, is an existing meeting of theirs (else one is
	// scheduled); its recording policy must allow Record.
	MeetingID string
	Duration  time.Duration // media measured, once everyone receives
	M         int           // subscribers (lecture, audio-class, churn: at most M at once)
	N         int           // participants (meeting)
	Bitrate   int           // video, bit/s
	Record    bool
	ChurnRate float64       // churn: joins per second
	ChurnStay time.Duration // churn: how long each stays after its first frame
	ServerPID int           // a server on this host: its CPU, memory, threads
	Metrics   string        // a Prometheus endpoint: goroutines and allocations
	Now       func() time.Time
	Log       *slog.Logger
}

func (c *Config) defaults() {
	if c.Bitrate == 0 {
		c.Bitrate = 1_500_000
	}
	if c.Duration == 0 {
		c.Duration = 30 * time.Second
	}
	if c.ChurnRate == 0 {
		c.ChurnRate = 2
	}
	if c.ChurnStay == 0 {
		c.ChurnStay = 2 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Log == nil {
		c.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

func (c *Config) validate() error {
	if u, err := url.Parse(c.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("%w: --url must be the server's http(s) address", ErrConfig)
	}
	if c.Email == "" || c.Password == "" {
		return fmt.Errorf("%w: --email and --password of the meeting's teacher are needed to host and admit", ErrConfig)
	}
	switch c.Scenario {
	case Lecture, AudioClass, Churn:
		if c.M < 1 {
			return fmt.Errorf("%w: -m must be at least 1", ErrConfig)
		}
	case Meeting:
		if c.N < 2 {
			return fmt.Errorf("%w: -n must be at least 2", ErrConfig)
		}
	default:
		return fmt.Errorf("%w: unknown scenario %q (lecture, meeting, audio-class, churn)", ErrConfig, c.Scenario)
	}
	if c.Bitrate < 10_000 || c.Duration <= 0 || c.ChurnRate <= 0 {
		return fmt.Errorf("%w: --bitrate, --duration and --rate must be positive", ErrConfig)
	}
	return nil
}
