//go:build unix

package mp_test

import (
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/go-mp/mp"
)

// TestPsStatus runs the ps(1) reading of Status that macOS and the BSDs
// use, with this system's ps: a sleeping child is blocked, a stopped one
// stopped, and a process that does not exist an error.
func TestPsStatus(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("ps"); err != nil {
		t.Skipf("no ps(1) on this system: %v", err)
	}
	p := start(t, mp.NewProcess(sleep, time.Hour))
	deadline := time.Now().Add(10 * time.Second)
	var st mp.State
	for time.Now().Before(deadline) {
		var err error
		st, err = mp.PsStatus(p.PID())
		require.NoError(t, err)
		if st == mp.StateBlocked {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	assert.Equal(t, mp.StateBlocked, st, "a sleeping child")

	// The child is ours and not yet reaped: its PID cannot have been
	// reused.
	require.NoError(t, syscall.Kill(p.PID(), syscall.SIGSTOP))
	deadline = time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var err error
		st, err = mp.PsStatus(p.PID())
		require.NoError(t, err)
		if st == mp.StateStopped {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	assert.Equal(t, mp.StateStopped, st, "a stopped child")
	require.NoError(t, syscall.Kill(p.PID(), syscall.SIGCONT))

	require.NoError(t, p.Kill())
	_ = p.Join()
	_, err := mp.PsStatus(p.PID())
	assert.Error(t, err, "a reaped child")
}
