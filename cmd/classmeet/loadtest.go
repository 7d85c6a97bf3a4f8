package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"classmeet/internal/loadtest"
)

const loadtestUsage = `classmeet loadtest: drive a running classmeet with Go WebRTC participants

  classmeet loadtest lecture|meeting|audio-class|churn [flags]

  lecture      the host publishes camera and microphone to -m subscribers
  meeting      -n participants, everyone publishing to everyone
  audio-class  10 microphones (the host's and 9 others') to -m subscribers
  churn        subscribers join at --rate a second, stay --stay after their
               first frame and leave, at most -m at once, for --duration

Flags:
  --url URL           the server (default http://127.0.0.1:8080)
  --email E           a teacher's sign-in: schedules the meeting (or uses
  --password P          --meeting), joins as host, admits everyone
                        (CLASSMEET_LOADTEST_PASSWORD instead of --password)
  --meeting ID        an existing meeting of the teacher's
  --duration D        media measured once everyone receives (default 30s)
  -m M, -n N          subscribers, participants
  --bitrate B         video bit/s, VP8 single layer (default 1500000); audio is Opus
  --record on|off     record the meeting (its policy must allow it)
  --rate R, --stay D  churn: joins a second (default 2), time in the room (default 2s)
  --server-pid PID    the server's process on this host: CPU per packet, RSS, threads
  --metrics-url URL   a Prometheus endpoint of the server: goroutines, allocations
  --json              the report as JSON instead of a table`

// onOff is a flag given as on/off (or true/false, or bare).
type onOff bool

func (o *onOff) String() string   { return map[bool]string{true: "on", false: "off"}[bool(*o)] }
func (o *onOff) IsBoolFlag() bool { return true }
func (o *onOff) Set(s string) error {
	switch strings.ToLower(s) {
	case "on", "true", "1":
		*o = true
	case "off", "false", "0":
		*o = false
	default:
		return fmt.Errorf("%q: want on or off", s)
	}
	return nil
}

func loadtestCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] == "help" {
		fmt.Fprintln(stdout, loadtestUsage)
		if len(args) == 0 {
			return errUsage
		}
		return nil
	}
	cfg := loadtest.Config{Scenario: args[0], Log: slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))}
	var record onOff
	var asJSON bool
	fs := flag.NewFlagSet("loadtest "+args[0], flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&cfg.URL, "url", "http://127.0.0.1:8080", "")
	fs.StringVar(&cfg.Email, "email", "", "")
	fs.StringVar(&cfg.Password, "password", getenv("CLASSMEET_LOADTEST_PASSWORD"), "")
	fs.StringVar(&cfg.MeetingID, "meeting", "", "")
	fs.DurationVar(&cfg.Duration, "duration", 30*time.Second, "")
	fs.IntVar(&cfg.M, "m", 10, "")
	fs.IntVar(&cfg.N, "n", 10, "")
	fs.IntVar(&cfg.Bitrate, "bitrate", 1_500_000, "")
	fs.Var(&record, "record", "")
	fs.Float64Var(&cfg.ChurnRate, "rate", 2, "")
	fs.DurationVar(&cfg.ChurnStay, "stay", 2*time.Second, "")
	fs.IntVar(&cfg.ServerPID, "server-pid", 0, "")
	fs.StringVar(&cfg.Metrics, "metrics-url", "", "")
	fs.BoolVar(&asJSON, "json", false, "")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %w\n\n%s", errUsage, err, loadtestUsage)
	}
	cfg.Record = bool(record)
	rep, err := loadtest.Run(ctx, cfg)
	if errors.Is(err, loadtest.ErrConfig) {
		return fmt.Errorf("%w: %w\n\n%s", errUsage, err, loadtestUsage)
	}
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return rep.WriteTable(stdout)
}
