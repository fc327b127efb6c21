//go:build darwin || dragonfly || freebsd || netbsd || openbsd

package mp_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"
)

// watchExit registers a kqueue EVFILT_PROC/NOTE_EXIT event for pid, which
// must be alive, and returns a function that waits up to a duration for it.
func watchExit(t *testing.T, pid int) func(time.Duration) bool {
	t.Helper()
	kq, err := unix.Kqueue()
	require.NoError(t, err)
	t.Cleanup(func() { unix.Close(kq) })
	var ev unix.Kevent_t
	unix.SetKevent(&ev, pid, unix.EVFILT_PROC, unix.EV_ADD|unix.EV_ONESHOT)
	ev.Fflags = unix.NOTE_EXIT
	_, err = unix.Kevent(kq, []unix.Kevent_t{ev}, nil, nil)
	require.NoError(t, err, "process %d should be alive", pid)
	return func(d time.Duration) bool {
		deadline := time.Now().Add(d)
		for {
			ts := unix.NsecToTimespec(max(time.Until(deadline), 0).Nanoseconds())
			out := make([]unix.Kevent_t, 1)
			n, err := unix.Kevent(kq, nil, out, &ts)
			if err == unix.EINTR {
				continue // a signal: wait on until the deadline
			}
			require.NoError(t, err)
			return n == 1
		}
	}
}
