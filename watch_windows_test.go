package mp_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"
)

// watchExit opens a handle to pid, which must be alive, and returns a
// function that waits up to a duration for the process to exit.
func watchExit(t *testing.T, pid int) func(time.Duration) bool {
	t.Helper()
	h, err := windows.OpenProcess(windows.SYNCHRONIZE, false, uint32(pid))
	require.NoError(t, err, "process %d should be alive", pid)
	t.Cleanup(func() { windows.CloseHandle(h) })
	return func(d time.Duration) bool {
		ev, err := windows.WaitForSingleObject(h, uint32(d.Milliseconds()))
		require.NoError(t, err)
		return ev == windows.WAIT_OBJECT_0
	}
}
