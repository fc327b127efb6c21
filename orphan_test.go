package mp_test

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

// startReading starts p with its standard output on a pipe, and returns a
// scanner of what p (and its children) print.
func startReading(t *testing.T, p *mp.Process) *bufio.Scanner {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	t.Cleanup(func() { r.Close() })
	p.Stdout = w
	start(t, p)
	w.Close()
	return bufio.NewScanner(r)
}

// TestNoOrphans kills a parent hard and checks that its children, daemon
// and not, are gone within a second. The children are watched through
// handles opened while they are known to be alive (a pidfd, a kqueue, a
// process handle), so the wait blocks, and a reused PID cannot fool it.
func TestNoOrphans(t *testing.T) {
	t.Parallel()
	t.Run("default", func(t *testing.T) { testNoOrphans(t, nil) })
	if runtime.GOOS == "linux" {
		// Without PR_SET_PDEATHSIG, as on the systems that have only the
		// lifeline.
		t.Run("lifeline only", func(t *testing.T) {
			testNoOrphans(t, append(os.Environ(), lifelineOnlyEnv+"=1"))
		})
	}
}

const lifelineOnlyEnv = "MP_TEST_LIFELINE_ONLY"

func testNoOrphans(t *testing.T, env []string) {
	t.Parallel()
	parent := mp.NewProcess(orphanParent)
	parent.Env = env
	lines := startReading(t, parent)
	require.True(t, lines.Scan(), "the parent prints its children's PIDs")
	var pids [2]int
	_, err := fmt.Sscan(lines.Text(), &pids[0], &pids[1])
	require.NoError(t, err)
	var gone [2]func(time.Duration) bool
	for i, pid := range pids {
		gone[i] = watchExit(t, pid)
	}

	require.NoError(t, parent.Kill())
	killed := time.Now()
	for i, pid := range pids {
		assert.True(t, gone[i](max(time.Second-time.Since(killed), 0)),
			"child %d (daemon=%v) outlived its parent by over 1 s", pid, i == 0)
	}
	_ = parent.Join()
	code, _ := parent.ExitCode()
	assert.Equal(t, -9, code)
}
