package mp_test

import (
	"bufio"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/windows"

	"github.com/go-mp/mp"
)

// TestNoOrphans kills a parent hard and checks that its children, daemon
// and not, are gone within a second: the parent's death closes their Job
// Objects. The children are watched through handles opened while they are
// known to be alive, so a reused PID cannot fool the wait.
func TestNoOrphans(t *testing.T) {
	t.Parallel()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	parent := mp.NewProcess(orphanParent)
	parent.Stdout = w
	start(t, parent)
	w.Close()

	var daemon, plain int
	_, err = fmt.Fscan(bufio.NewReader(r), &daemon, &plain)
	require.NoError(t, err)
	var hs []windows.Handle
	for _, pid := range []int{daemon, plain} {
		h, err := windows.OpenProcess(windows.SYNCHRONIZE, false, uint32(pid))
		require.NoError(t, err, "child %d should be alive", pid)
		t.Cleanup(func() { windows.CloseHandle(h) })
		hs = append(hs, h)
	}

	require.NoError(t, parent.Kill())
	killed := time.Now()
	for i, h := range hs {
		left := max(time.Second-time.Since(killed), 0)
		ev, err := windows.WaitForSingleObject(h, uint32(left.Milliseconds()))
		require.NoError(t, err)
		assert.Equal(t, uint32(windows.WAIT_OBJECT_0), ev,
			"child %d (daemon=%v) outlived its parent by over 1 s", []int{daemon, plain}[i], i == 0)
	}
	_ = parent.Join()
	code, _ := parent.ExitCode()
	assert.Equal(t, -9, code)
}
