package mp_test

import (
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/go-mp/mp"
)

func init() {
	// In the children of TestNoOrphans/lifeline_only: no death signal, so
	// that only the lifeline can end them.
	if os.Getenv(lifelineOnlyEnv) == "1" {
		mp.DisablePdeathsig()
	}
}

// watchExit opens a pidfd for pid, which must be alive, and returns a
// function that waits up to a duration for it to exit.
func watchExit(t *testing.T, pid int) func(time.Duration) bool {
	t.Helper()
	fd, err := unix.PidfdOpen(pid, 0)
	require.NoError(t, err, "process %d should be alive", pid)
	t.Cleanup(func() { unix.Close(fd) })
	return func(d time.Duration) bool {
		deadline := time.Now().Add(d)
		for {
			pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
			n, err := unix.Poll(pfd, int(max(time.Until(deadline), 0).Milliseconds()))
			if err == unix.EINTR {
				continue // a signal (the Go runtime's preemption, say): wait on until the deadline
			}
			require.NoError(t, err)
			return n == 1
		}
	}
}
