//go:build unix

package mp_test

import (
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/go-mp/mp"
)

// ctrlCParent handles SIGINT, starts a child under the start method m,
// and reports whether the child survived a Ctrl-C sent to the parent's
// process group.
func ctrlCParent(m mp.StartMethod) error {
	ints := make(chan os.Signal, 1)
	signal.Notify(ints, os.Interrupt)
	if m == mp.Forkserver {
		// The child is one that waits, started ahead of time.
		if err := mp.SetForkserverPreload(1); err != nil {
			return err
		}
	}
	child := mp.NewProcess(sleep, time.Hour)
	child.StartMethod = m
	if err := child.Start(); err != nil {
		return err
	}
	fmt.Println("ready")
	<-ints
	err := child.JoinTimeout(200 * time.Millisecond)
	fmt.Println("child still running after Ctrl-C:", err != nil && child.IsAlive())
	_ = child.Terminate()
	_ = child.Join()
	return nil
}

func init() { targets = append(targets, ctrlCParent) }

// TestCtrlCReachesParentOnly sends SIGINT to the process group of a parent,
// as a terminal does on Ctrl-C: the parent, which handles it, gets it; its
// child, in a group of its own, does not.
func TestCtrlCReachesParentOnly(t *testing.T) {
	t.Parallel()
	forEachMethod(t, testCtrlCReachesParentOnly)
}

func testCtrlCReachesParentOnly(t *testing.T, m mp.StartMethod) {
	parent := mp.NewProcess(ctrlCParent, m)
	lines := startReading(t, parent)
	require.True(t, lines.Scan())
	require.Equal(t, "ready", lines.Text())

	pgid, err := unix.Getpgid(parent.PID())
	require.NoError(t, err)
	require.Equal(t, parent.PID(), pgid, "the child leads a process group of its own")
	require.NoError(t, unix.Kill(-pgid, syscall.SIGINT))

	require.True(t, lines.Scan())
	assert.Equal(t, "child still running after Ctrl-C: true", strings.TrimSpace(lines.Text()))
	assert.NoError(t, parent.Join())
}
