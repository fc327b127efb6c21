package mp_test

import (
	"bufio"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/go-mp/mp"
)

const lifelineOnlyEnv = "MP_TEST_LIFELINE_ONLY"

func init() {
	// In the children of TestNoOrphans/lifeline: no death signal, so that
	// only the lifeline can end them.
	if os.Getenv(lifelineOnlyEnv) == "1" {
		mp.DisablePdeathsig()
	}
}

// TestNoOrphans kills a parent hard and checks that its children, daemon
// and not, are gone within a second. Grandchildren are watched through
// pidfds opened while they are known to be alive, so the wait is a blocking
// poll, and a reused PID cannot fool it.
func TestNoOrphans(t *testing.T) {
	t.Parallel()
	t.Run("pdeathsig and lifeline", func(t *testing.T) { testNoOrphans(t, nil) })
	t.Run("lifeline", func(t *testing.T) {
		testNoOrphans(t, append(os.Environ(), lifelineOnlyEnv+"=1"))
	})
}

func testNoOrphans(t *testing.T, env []string) {
	t.Parallel()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	parent := mp.NewProcess(orphanParent)
	parent.Stdout = w
	parent.Env = env
	start(t, parent)
	w.Close()

	var daemon, plain int
	_, err = fmt.Fscan(bufio.NewReader(r), &daemon, &plain)
	require.NoError(t, err)
	var fds []int
	for _, pid := range []int{daemon, plain} {
		fd, err := unix.PidfdOpen(pid, 0)
		require.NoError(t, err, "child %d should be alive", pid)
		t.Cleanup(func() { unix.Close(fd) })
		fds = append(fds, fd)
	}

	require.NoError(t, parent.Kill())
	killed := time.Now()
	for i, fd := range fds {
		left := time.Second - time.Since(killed)
		pfd := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
		n, err := unix.Poll(pfd, int(max(left, 0).Milliseconds()))
		require.NoError(t, err)
		assert.Equal(t, 1, n, "child %d (daemon=%v) outlived its parent by over 1 s", []int{daemon, plain}[i], i == 0)
	}
	_ = parent.Join()
	code, _ := parent.ExitCode()
	assert.Equal(t, -9, code)
}
