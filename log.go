package mp

import (
	"context"
	"log/slog"
	"os"
	"sync/atomic"
)

// logger is the logger of SetLogger or LogToStderr; nil logs nothing.
var logger atomic.Pointer[slog.Logger]

// stderrLevel is LogToStderr's level, which children inherit; nil after
// SetLogger, or before either.
var stderrLevel atomic.Pointer[slog.Level]

// SetLogger makes mp log the lifecycle of processes to l: starts, exits,
// terminations, shutdowns, and in a child the call of its target and its
// exit, as Python's multiprocessing logs to its logger. Each record carries
// the name of the process that logs it as "process". A nil l turns logging
// off, which is the default. The logger stays in this process; for one its
// children inherit, see LogToStderr.
func SetLogger(l *slog.Logger) {
	logger.Store(l)
	stderrLevel.Store(nil)
}

// LogToStderr makes mp log the lifecycle of processes (see SetLogger) at
// level and above to the standard error, in slog's text form, and returns
// the logger: Python's log_to_stderr. The children started from now on do
// the same, and pass it on to theirs.
func LogToStderr(level slog.Level) *slog.Logger {
	l := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	logger.Store(l)
	stderrLevel.Store(&level)
	return l
}

// Logger returns the logger mp logs to, Python's get_logger: the one set
// with SetLogger or LogToStderr, or one that discards everything.
func Logger() *slog.Logger {
	if l := logger.Load(); l != nil {
		return l
	}
	return slog.New(slog.DiscardHandler)
}

func logInfo(msg string, args ...any)  { logAt(slog.LevelInfo, msg, args) }
func logDebug(msg string, args ...any) { logAt(slog.LevelDebug, msg, args) }

func logAt(level slog.Level, msg string, args []any) {
	l := logger.Load()
	if l == nil || !l.Enabled(context.Background(), level) {
		return
	}
	l.Log(context.Background(), level, msg, append([]any{"process", CurrentProcess().Name}, args...)...)
}

// inheritedLog is what a child is told of its parent's LogToStderr.
func inheritedLog() (on bool, level int) {
	if l := stderrLevel.Load(); l != nil {
		return true, int(*l)
	}
	return false, 0
}
