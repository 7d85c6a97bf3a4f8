package sfu

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pion/logging"
)

// pionLogs routes pion's internal logging to slog. pion reports routine
// events of closing connections as errors, so everything lands at debug
// level: the SFU reports what matters itself.
type pionLogs struct{ log *slog.Logger }

func (p pionLogs) NewLogger(scope string) logging.LeveledLogger {
	return pionLogger{log: p.log.With("pion", scope)}
}

type pionLogger struct{ log *slog.Logger }

func (l pionLogger) logf(format string, args ...any) {
	if l.log.Enabled(context.Background(), slog.LevelDebug) {
		l.log.Debug(fmt.Sprintf(format, args...))
	}
}

func (l pionLogger) Trace(string)                 {}
func (l pionLogger) Tracef(string, ...any)        {}
func (l pionLogger) Debug(msg string)             {}
func (l pionLogger) Debugf(string, ...any)        {}
func (l pionLogger) Info(msg string)              {}
func (l pionLogger) Infof(string, ...any)         {}
func (l pionLogger) Warn(msg string)              { l.logf("%s", msg) }
func (l pionLogger) Warnf(f string, args ...any)  { l.logf(f, args...) }
func (l pionLogger) Error(msg string)             { l.logf("%s", msg) }
func (l pionLogger) Errorf(f string, args ...any) { l.logf(f, args...) }
