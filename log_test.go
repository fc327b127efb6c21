package mp_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

func init() { targets = append(targets, logToStderrAndStart) }

// logToStderrAndStart turns on Python's log_to_stderr and starts a child,
// which must log to its standard error too.
func logToStderrAndStart() error {
	mp.LogToStderr(slog.LevelInfo)
	p := mp.NewProcess(noop)
	if err := p.Start(); err != nil {
		return err
	}
	return p.Join()
}

// TestLogger checks the lifecycle records a logger set with SetLogger
// gets. It sets a global: not parallel.
func TestLogger(t *testing.T) {
	var buf syncBuffer
	mp.SetLogger(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { mp.SetLogger(nil) })

	p := &mp.Process{Target: noop, Name: "logged"}
	start(t, p)
	require.NoError(t, p.Join())
	q := &mp.Process{Target: sleep, Args: []any{time.Hour}, Name: "terminated"}
	start(t, q)
	require.NoError(t, q.Terminate())
	_ = q.Join()
	mp.Shutdown()

	var got []string
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var r map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &r), line)
		assert.Equal(t, "MainProcess", r["process"], line)
		got = append(got, fmt.Sprintf("%v %v %v", r["level"], r["msg"], r["name"]))
		if r["msg"] == "exited" && r["name"] == "terminated" {
			assert.Equal(t, -15.0, r["exitcode"])
		}
	}
	for _, want := range []string{
		"INFO started logged", "INFO exited logged",
		"INFO started terminated", "INFO terminating terminated", "INFO exited terminated",
		"INFO process shutting down <nil>", "DEBUG running the AtExit functions <nil>",
	} {
		assert.Contains(t, got, want)
	}
	assert.NotNil(t, mp.Logger())
	mp.SetLogger(nil)
	assert.NotNil(t, mp.Logger(), "a logger that discards")
}

// TestLogToStderr checks that LogToStderr logs to the standard error in
// slog's text form, and that children inherit it, as Python's
// log_to_stderr does.
func TestLogToStderr(t *testing.T) {
	t.Parallel()
	var stderr syncBuffer
	p := mp.NewProcess(logToStderrAndStart)
	p.Stderr = &stderr
	start(t, p)
	require.NoError(t, p.Join())
	out := stderr.String()
	child, grandchild := p.Name, p.Name+":1"
	assert.Regexp(t, `level=INFO msg=started process=`+child+` name=`+grandchild+` pid=\d+\n`, out)
	assert.Regexp(t, `level=INFO msg="child process calling the target" process=`+grandchild+` target=github.com/go-mp/mp_test.noop\n`, out)
	assert.Regexp(t, `level=INFO msg="process exiting" process=`+grandchild+` exitcode=0\n`, out)
	assert.Regexp(t, `level=INFO msg=exited process=`+child+` name=`+grandchild+` pid=\d+ exitcode=0\n`, out)
	assert.Regexp(t, `level=INFO msg="process exiting" process=`+child+` exitcode=0\n`, out)
	assert.NotContains(t, out, "level=DEBUG")
}
