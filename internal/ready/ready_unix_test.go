//go:build unix

package ready_test

import (
	"context"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/go-mp/mp/internal/ready"
)

// TestBlocking: a pipe in blocking mode, which the poller cannot take, is
// waited for in slices, and its wait still ends at its deadline or when
// bytes come.
func TestBlocking(t *testing.T) {
	t.Parallel()
	var fds [2]int
	require.NoError(t, unix.Pipe(fds[:]))
	r, w := os.NewFile(uintptr(fds[0]), "r"), os.NewFile(uintptr(fds[1]), "w")
	t.Cleanup(func() { r.Close(); w.Close() })
	rc, err := r.SyscallConn()
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	ok, err := ready.Wait(ctx, rc)
	assert.False(t, ok)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.GreaterOrEqual(t, time.Since(t0), 50*time.Millisecond)

	done := make(chan bool, 1)
	go func() {
		ok, _ := ready.Wait(context.Background(), rc)
		done <- ok
	}()
	_, err = w.Write([]byte("x"))
	require.NoError(t, err)
	assert.True(t, <-done)
}
