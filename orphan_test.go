package mp_test

import (
	"bufio"
	"os"
	"runtime"
	"strconv"
	"strings"
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
// and not, and under Forkserver those that wait for work, are gone within
// a second. The children are watched through handles opened while they
// are known to be alive (a pidfd, a kqueue, a process handle), so the wait
// blocks, and a reused PID cannot fool it.
func TestNoOrphans(t *testing.T) {
	t.Parallel()
	forEachMethod(t, func(t *testing.T, m mp.StartMethod) {
		t.Run("default", func(t *testing.T) { testNoOrphans(t, m, nil) })
		if runtime.GOOS == "linux" {
			// Without PR_SET_PDEATHSIG, as on the systems that have only the
			// lifeline.
			t.Run("lifeline only", func(t *testing.T) {
				testNoOrphans(t, m, append(os.Environ(), lifelineOnlyEnv+"=1"))
			})
		}
	})
}

const lifelineOnlyEnv = "MP_TEST_LIFELINE_ONLY"

func testNoOrphans(t *testing.T, m mp.StartMethod, env []string) {
	t.Parallel()
	parent := mp.NewProcess(orphanParent, m)
	parent.Env = env
	lines := startReading(t, parent)
	require.True(t, lines.Scan(), "the parent prints its children's PIDs")
	var pids []int
	for _, f := range strings.Fields(lines.Text()) {
		pid, err := strconv.Atoi(f)
		require.NoError(t, err, lines.Text())
		pids = append(pids, pid)
	}
	want := 2
	if m == mp.Forkserver {
		want = 4 // and two that wait
	}
	require.Len(t, pids, want, lines.Text())
	gone := make([]func(time.Duration) bool, len(pids))
	for i, pid := range pids {
		gone[i] = watchExit(t, pid)
	}

	require.NoError(t, parent.Kill())
	killed := time.Now()
	for i, pid := range pids {
		assert.True(t, gone[i](max(time.Second-time.Since(killed), 0)),
			"child %d (%s) outlived its parent by over 1 s", pid, [...]string{"daemon", "non-daemon", "waiting", "waiting"}[i])
	}
	_ = parent.Join()
	code, _ := parent.ExitCode()
	assert.Equal(t, -9, code)
}
