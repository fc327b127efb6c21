package mp_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

func init() { targets = append(targets, writeAtExit) }

// writeAtExit registers two functions that append to path when the child
// shuts down, and then fails or not: CPython's _TestAtExit (gh-83856).
func writeAtExit(path string, panics bool) {
	appendTo := func(s string) func() {
		return func() {
			f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
			if err == nil {
				_, _ = f.WriteString(s)
				f.Close()
			}
		}
	}
	mp.AtExit(appendTo("dead"))
	mp.AtExit(appendTo("beef"))
	if panics {
		panic("after AtExit")
	}
}

// TestAtExitInChild checks that a child runs its AtExit functions, last
// registered first, once its target has returned or panicked.
func TestAtExitInChild(t *testing.T) {
	t.Parallel()
	for _, panics := range []bool{false, true} {
		path := filepath.Join(t.TempDir(), "output.txt")
		p := mp.NewProcess(writeAtExit, path, panics)
		p.Quiet = true
		start(t, p)
		err := p.Join()
		assert.Equal(t, panics, err != nil, "%v", err)
		b, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, "beefdead", string(b), "panics=%v", panics)
	}
}

// TestShutdownContext checks the main process's side: daemons are
// terminated, a child still running when the deadline passes is named in
// the error, and the AtExit functions run only once every child is
// joined. It shuts down this process's children: not parallel.
func TestShutdownContext(t *testing.T) {
	ran := 0
	mp.AtExit(func() { ran++ })

	daemon := mp.NewProcess(sleep, time.Hour)
	daemon.Daemon = true
	start(t, daemon)
	stuck := start(t, mp.NewProcess(sleep, time.Hour))

	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := mp.ShutdownContext(ctx)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, mp.ErrStillRunning)
	// The daemon, terminated, is named too if it had not been reaped
	// within the deadline (a loaded machine).
	assert.Regexp(t, `^mp: shutdown: still waiting for (.*, )?`+stuck.Name+` \(pid \d+\)(, .*)?: context deadline exceeded`, err.Error())
	assert.Zero(t, ran, "AtExit waits until every child is joined")
	_ = daemon.Join()
	code, _ := daemon.ExitCode()
	assert.Equal(t, -15, code, "the daemon was terminated")

	require.NoError(t, stuck.Kill())
	require.NoError(t, mp.ShutdownContext(context.Background()))
	assert.Equal(t, 1, ran)
	mp.Shutdown()
	assert.Equal(t, 1, ran, "each function runs once")
	assert.Panics(t, func() { mp.AtExit(nil) })
}
